"""Unique indexes Piccolo columns cannot declare (a second migration: raw steps run before tables)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-22T16:25:42:000000"
VERSION = "1.38.0"
DESCRIPTION = "Composite unique indexes for reflections"

# Composite unique constraints Piccolo columns cannot declare: they make double taps, concurrent
# requests and retries land on one row instead of two.
UNIQUE_INDEXES = (
    ("training_participant_once", "training_participant", "training, employee"),
    ("submission_once", "submission", "assignment, employee"),
    ("submission_request_once", "submission_request", "employee, key"),
    ("reflection_like_once", "reflection_like", "submission, employee"),
)


def _engine():
    engine = engine_finder()  # the engine migrations run on (bound by backend.lib.db)
    assert engine is not None
    return engine


async def _unique_indexes_create() -> None:
    for name, table, columns in UNIQUE_INDEXES:
        await _engine().run_ddl(f"CREATE UNIQUE INDEX {name} ON {table} ({columns})")


async def _unique_indexes_drop() -> None:
    for name, _table, _columns in UNIQUE_INDEXES:
        await _engine().run_ddl(f"DROP INDEX IF EXISTS {name}")


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="reflections", description=DESCRIPTION)
    manager.add_raw(_unique_indexes_create)
    manager.add_raw_backwards(_unique_indexes_drop)
    return manager
