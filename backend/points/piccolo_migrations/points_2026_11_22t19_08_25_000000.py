"""What Piccolo columns cannot declare: the ledger's append-only triggers and composite indexes.

A second migration because raw steps run before the tables of their own migration.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-22T19:08:25:000000"
VERSION = "1.38.0"
DESCRIPTION = "Append-only ledger triggers and indexes for points"

INDEXES = (
    # Yearly totals, leaderboards and the per-person ledger page.
    "CREATE INDEX ledger_entry_employee_time ON ledger_entry (employee, occurred_at)",
    # Caps and cooldowns: one person's entries of one kind in a period.
    "CREATE INDEX ledger_entry_employee_kind_time ON ledger_entry (employee, kind, occurred_at)",
    # One target per year and group (COALESCE: NULL scopes must collide too).
    "CREATE UNIQUE INDEX point_target_once ON point_target "
    "(year, COALESCE(department, 0), COALESCE(position, 0), COALESCE(level, 0))",
)
INDEX_NAMES = ("ledger_entry_employee_time", "ledger_entry_employee_kind_time", "point_target_once")

POSTGRES_TRIGGER = (
    "CREATE OR REPLACE FUNCTION ledger_entry_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN RAISE EXCEPTION 'ledger_entry is append-only: % refused', TG_OP; END $$",
    "CREATE TRIGGER ledger_entry_append_only BEFORE UPDATE OR DELETE ON ledger_entry "
    "FOR EACH ROW EXECUTE FUNCTION ledger_entry_append_only()",
)
SQLITE_TRIGGERS = (
    "CREATE TRIGGER ledger_entry_no_update BEFORE UPDATE ON ledger_entry "
    "BEGIN SELECT RAISE(ABORT, 'ledger_entry is append-only: UPDATE refused'); END",
    "CREATE TRIGGER ledger_entry_no_delete BEFORE DELETE ON ledger_entry "
    "BEGIN SELECT RAISE(ABORT, 'ledger_entry is append-only: DELETE refused'); END",
)


def _engine():
    engine = engine_finder()  # the engine migrations run on (bound by backend.lib.db)
    assert engine is not None
    return engine


async def _create() -> None:
    engine = _engine()
    for statement in INDEXES:
        await engine.run_ddl(statement)
    for statement in POSTGRES_TRIGGER if engine.engine_type == "postgres" else SQLITE_TRIGGERS:
        await engine.run_ddl(statement)


async def _drop() -> None:
    engine = _engine()
    if engine.engine_type == "postgres":
        await engine.run_ddl("DROP TRIGGER IF EXISTS ledger_entry_append_only ON ledger_entry")
        await engine.run_ddl("DROP FUNCTION IF EXISTS ledger_entry_append_only()")
    else:
        await engine.run_ddl("DROP TRIGGER IF EXISTS ledger_entry_no_update")
        await engine.run_ddl("DROP TRIGGER IF EXISTS ledger_entry_no_delete")
    for name in INDEX_NAMES:
        await engine.run_ddl(f"DROP INDEX IF EXISTS {name}")


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="points", description=DESCRIPTION)
    manager.add_raw(_create)
    manager.add_raw_backwards(_drop)
    return manager
