"""What Piccolo columns cannot declare for yearly totals: one row per (employee, year), the index
organisation ranks read, and the totals of the entries already in the ledger.

A second migration because raw steps run before the tables of their own migration. The backfill is
the same sum as backend.points.ledger.year_totals_rebuild, written out here so this migration does
not change when the application code does.
"""

import datetime as dt
from zoneinfo import ZoneInfo

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder
from piccolo.querystring import QueryString

ID = "2026-11-22T21:23:07:000000"
VERSION = "1.38.0"
DESCRIPTION = "Yearly points totals: unique rows, rank index, backfill from the ledger"

INDEXES = (
    "CREATE UNIQUE INDEX point_year_total_once ON point_year_total (employee, year)",
    # Organisation ranks: how many people of a year have more points than me.
    "CREATE INDEX point_year_total_rank ON point_year_total (year, total)",
)
INDEX_NAMES = ("point_year_total_once", "point_year_total_rank")
CATEGORIES = ("course", "exam", "sharing", "mentoring", "workshop", "reflection")  # anything else: other


def _engine():
    engine = engine_finder()  # the engine migrations run on (bound by backend.lib.db)
    assert engine is not None
    return engine


def _zone() -> ZoneInfo:
    from backend.lib.runtime import runtime_peek
    from backend.settings import I18nSettings

    runtime = runtime_peek()
    return ZoneInfo(runtime.settings.i18n.timezone if runtime else I18nSettings().timezone)


async def _backfill(engine) -> None:
    rows = await engine.run_querystring(
        QueryString(
            "SELECT MIN(occurred_at) AS first, MAX(occurred_at) AS last FROM ledger_entry "
            "WHERE category <> 'redemption'"
        )
    )
    if not rows or rows[0]["first"] is None:
        return
    zone = _zone()
    first, last = (
        value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(value)
        for value in (rows[0]["first"], rows[0]["last"])
    )
    named = ", ".join(f"SUM(CASE WHEN category = '{c}' THEN points ELSE 0 END)" for c in CATEGORIES)
    listed = ", ".join(f"'{c}'" for c in CATEGORIES)
    for year in range(first.astimezone(zone).year, last.astimezone(zone).year + 1):
        start = dt.datetime(year, 1, 1, tzinfo=zone).astimezone(dt.UTC)
        end = dt.datetime(year + 1, 1, 1, tzinfo=zone).astimezone(dt.UTC)
        await engine.run_querystring(
            QueryString(
                "INSERT INTO point_year_total (employee, year, total, "
                f"{', '.join(CATEGORIES)}, other) SELECT employee, {int(year)}, SUM(points), {named}, "
                f"SUM(CASE WHEN category NOT IN ({listed}) THEN points ELSE 0 END) FROM ledger_entry "
                "WHERE category <> 'redemption' AND occurred_at >= {} AND occurred_at < {} GROUP BY employee",
                start,
                end,
            )
        )


async def _create() -> None:
    engine = _engine()
    for statement in INDEXES:
        await engine.run_ddl(statement)
    await _backfill(engine)


async def _drop() -> None:
    engine = _engine()
    for name in INDEX_NAMES:
        await engine.run_ddl(f"DROP INDEX IF EXISTS {name}")


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="points", description=DESCRIPTION)
    manager.add_raw(_create)
    manager.add_raw_backwards(_drop)
    return manager
