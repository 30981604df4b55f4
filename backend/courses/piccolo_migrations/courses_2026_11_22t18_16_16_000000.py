"""Unique indexes Piccolo columns cannot declare (a second migration: raw steps run before tables)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-22T18:16:16:000000"
VERSION = "1.38.0"
DESCRIPTION = "Composite unique indexes for courses"

# Retries, double taps and concurrent requests land on one row instead of two.
UNIQUE_INDEXES = (
    ("course_rating_once", "course_rating", "course, employee"),
    ("upload_part_once", "upload_part", "upload, n"),
    ("watch_progress_once", "watch_progress", "version, employee"),
    ("course_version_number_once", "course_version", "course, number"),
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
    manager = MigrationManager(migration_id=ID, app_name="courses", description=DESCRIPTION)
    manager.add_raw(_unique_indexes_create)
    manager.add_raw_backwards(_unique_indexes_drop)
    return manager
