"""Points reads: my standing (balance, year, target, categories, rank) and ledgers, within scope."""

from __future__ import annotations

from typing import Any

from piccolo.querystring import QueryString

from backend.lib.policy import Actor
from backend.org.schemas import Page
from backend.org.tables import EMPLOYEE_ACTIVE, Employee
from backend.points.access import employee_required, ledger_read_check
from backend.points.facts import org_today, org_zone, person_get
from backend.points.ledger import balance, by_category, year_total
from backend.points.rules import CATEGORY_REDEMPTION, Person, Scope, target_pick, year_bounds
from backend.points.schemas import LedgerEntryOut, PointsMeOut
from backend.points.tables import LedgerEntry, PointTarget

PAGE_SIZE = 20
MAX_PAGE = 10_000


async def target_for(person: Person, year: int) -> dict[str, Any] | None:
    """The most specific annual target that applies to the person, if any."""
    rows = await PointTarget.select(
        *PointTarget.all_columns(), PointTarget.department.path.as_alias("department_path")
    ).where(PointTarget.year == year)
    scoped = [
        (
            Scope(
                department_id=row["department"],
                department_path=row["department_path"],
                position_id=row["position"],
                level_id=row["level"],
            ),
            dict(row),
        )
        for row in rows
    ]
    return target_pick(scoped, person)


_DEPARTMENT_TOTALS = (
    "SELECT e.id AS employee, COALESCE(SUM(l.points), 0) AS total FROM employee e "
    "LEFT JOIN ledger_entry l ON l.employee = e.id AND l.category <> {} "
    "AND l.occurred_at >= {} AND l.occurred_at < {} "
    "WHERE e.department = {} AND e.status = {} GROUP BY e.id"
)


async def rank_in_department(person: Person, year: int) -> int | None:
    """1-based rank by points earned this year among the active people of the person's department
    (ties share a rank); None when the person is not among them."""
    if person.department_id is None:
        return None
    start, end = year_bounds(year, org_zone())
    rows = await Employee._meta.db.run_querystring(
        QueryString(
            _DEPARTMENT_TOTALS, CATEGORY_REDEMPTION, start, end, person.department_id, EMPLOYEE_ACTIVE
        )
    )
    totals = {int(row["employee"]): int(row["total"]) for row in rows}
    mine = totals.get(person.employee_id)
    if mine is None:
        return None
    return 1 + sum(total > mine for total in totals.values())


async def points_me(*, actor: Actor | None) -> PointsMeOut:
    """My points: balance, this year's total, target, categories and rank in my department."""
    _actor, employee_id = employee_required(actor)
    person = await person_get(employee_id)
    year = org_today().year
    target = await target_for(person, year)
    return PointsMeOut(
        balance=await balance(employee_id),
        year=year,
        year_total=await year_total(employee_id, year),
        target=int(target["total"]) if target else None,
        by_category=await by_category(employee_id, year),
        rank_in_department=await rank_in_department(person, year),
    )


def _entry_out(row: dict[str, Any]) -> LedgerEntryOut:
    return LedgerEntryOut(
        id=row["id"],
        kind=row["kind"],
        category=row["category"],
        points=row["points"],
        occurred_at=row["occurred_at"],
        created_at=row["created_at"],
        note=row["note"],
        reverses_id=row["reverses"],
        rule_version=row["rule_version"],
    )


async def ledger_page(
    *, actor: Actor | None, employee_id: int | None = None, page: int = 1, page_size: int = PAGE_SIZE
) -> Page[LedgerEntryOut]:
    """A ledger, newest first: mine by default; someone else's for HR, auditors, their managers."""
    if employee_id is None:
        _actor, employee_id = employee_required(actor)
    else:
        person = await person_get(employee_id)
        ledger_read_check(actor, employee_id=employee_id, department_path=person.department_path)
    page = min(max(page, 1), MAX_PAGE)
    page_size = min(max(page_size, 1), 100)
    total = await LedgerEntry.count().where(LedgerEntry.employee == employee_id)
    rows = (
        await LedgerEntry.select()
        .where(LedgerEntry.employee == employee_id)
        .order_by(LedgerEntry.id, ascending=False)
        .limit(page_size)
        .offset((page - 1) * page_size)
    )
    return Page.of(items=[_entry_out(row) for row in rows], page=page, page_size=page_size, total=total)
