"""A partial index for the peer feed's count and filter (measured: benchmarks/bench_reflections_feed.py).

Every feed page counts the published reflections a person may see; without this index that count
scanned the whole submission table (59-89 ms at 100,000 reflections on PostgreSQL).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-22T17:20:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Partial index of published reflections for the feed"

INDEX = (
    "CREATE INDEX submission_published_visibility ON submission (assignment, department) "
    "WHERE state IN ('submitted', 'graded')"
)


def _engine():
    engine = engine_finder()  # the engine migrations run on (bound by backend.lib.db)
    assert engine is not None
    return engine


async def _create() -> None:
    await _engine().run_ddl(INDEX)


async def _drop() -> None:
    await _engine().run_ddl("DROP INDEX IF EXISTS submission_published_visibility")


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="reflections", description=DESCRIPTION)
    manager.add_raw(_create)
    manager.add_raw_backwards(_drop)
    return manager
