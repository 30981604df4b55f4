"""What the points services need to know about people and time: scope facts, the organisation's zone."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from backend.lib.errors import NotFound
from backend.lib.runtime import runtime_peek
from backend.org.tables import Employee
from backend.points.rules import Person
from backend.settings import I18nSettings


def org_zone() -> ZoneInfo:
    """The organisation's time zone (settings.i18n.timezone): caps, days and years are counted in it."""
    runtime = runtime_peek()
    return ZoneInfo(runtime.settings.i18n.timezone if runtime else I18nSettings().timezone)


def org_today() -> dt.date:
    return dt.datetime.now(org_zone()).date()


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def local_noon(day: dt.date) -> dt.datetime:
    """A day given without a time (a manual award's date) as a moment: noon there, in UTC."""
    return dt.datetime.combine(day, dt.time(12), tzinfo=org_zone()).astimezone(dt.UTC)


async def person_get(employee_id: int) -> Person:
    """The scope facts of an employee (404 when there is none)."""
    row = (
        await Employee.select(
            Employee.id,
            Employee.department,
            Employee.department.path.as_alias("department_path"),
            Employee.position,
            Employee.level,
        )
        .where(Employee.id == employee_id)
        .first()
    )
    if row is None:
        raise NotFound()
    return Person(
        employee_id=int(row["id"]),
        department_id=row["department"],
        department_path=row["department_path"] or "",
        position_id=row["position"],
        level_id=row["level"],
    )


# pg_advisory_xact_lock namespaces (first key): one person's ledger, the rule book, a reward's stock.
# Who takes several takes them in this order: ledger, then reward.
LOCK_LEDGER = 0x504C  # "PL"
LOCK_RULES = 0x5052  # "PR"
LOCK_REWARD = 0x5057  # "PW"


async def xact_lock(namespace: int, key: int) -> None:
    """Serialise writers on (namespace, key) until the current transaction ends.

    PostgreSQL: a transaction-scoped advisory lock. SQLite needs none: write transactions
    (BEGIN IMMEDIATE, backend.lib.db.write_transaction) already run one at a time.
    """
    from piccolo.querystring import QueryString

    engine = Employee._meta.db
    if engine.engine_type == "postgres":
        await engine.run_querystring(QueryString("SELECT pg_advisory_xact_lock({}, {})", namespace, key))
