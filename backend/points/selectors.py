"""Points reads: my standing (balance, year, target, ranks), ledgers, and the SQL behind team progress,
completion rates and leaderboards.

Those three read many people at once, so each is one statement over the yearly totals
(tables.PointYearTotal: one row per person and year, kept by the ledger), joined, ranked, filtered and
paged in the database — never every ledger entry, never a loop over people in Python. Targets are few
per year: their scopes become a CASE (most specific first, as rules.target_pick decides) and their
category shares capped sums of the row's category columns (rules.progress_compute, in SQL).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from piccolo.querystring import QueryString

from backend.lib.errors import ValidationFailed
from backend.lib.policy import Actor
from backend.org.schemas import Page
from backend.org.tables import EMPLOYEE_ACTIVE, Department, Employee
from backend.points.access import employee_required, ledger_read_check
from backend.points.facts import org_today, person_get
from backend.points.ledger import balance, by_category, year_total, year_total_column
from backend.points.rules import (
    CATEGORIES,
    Person,
    Scope,
    mix_needs,
    scope_matches,
    specificity,
)
from backend.points.schemas import LedgerEntryOut, PointsMeOut
from backend.points.tables import LedgerEntry, PointProfile, PointTarget, PointYearTotal

PAGE_SIZE = 20
MAX_PAGE = 10_000
YEAR_MIN, YEAR_MAX = 2000, 2100


def year_check(year: int) -> int:
    if not YEAR_MIN <= year <= YEAR_MAX:
        raise ValidationFailed("error.points_out_of_range", field="year", min=YEAR_MIN, max=YEAR_MAX)
    return year


@dataclass(frozen=True)
class TargetPlan:
    """A year's target as progress needs it: its scope, total and per-category shares ({}: no mix)."""

    id: int
    total: int
    needs: dict[str, int]
    scope: Scope


async def year_plans(year: int) -> list[TargetPlan]:
    """The year's targets, most specific first (ties: the oldest): the first that matches applies."""
    rows = await PointTarget.select(
        *PointTarget.all_columns(), PointTarget.department.path.as_alias("department_path")
    ).where(PointTarget.year == year)
    plans = []
    for row in rows:
        mix = json.loads(row["mix"]) if isinstance(row["mix"], str) else row["mix"] or {}
        scope = Scope(
            department_id=row["department"],
            department_path=row["department_path"],
            position_id=row["position"],
            level_id=row["level"],
        )
        total = int(row["total"])
        shares = {str(k): int(v) for k, v in mix.items() if k in CATEGORIES}  # target_set allows no others
        plans.append(TargetPlan(int(row["id"]), total, mix_needs(total, shares), scope))
    return sorted(plans, key=lambda plan: (tuple(-n for n in specificity(plan.scope)), plan.id))


def plan_for(plans: list[TargetPlan], person: Person) -> TargetPlan | None:
    return next((plan for plan in plans if scope_matches(plan.scope, person)), None)


async def category_totals(employee_ids: list[int], year: int) -> dict[int, dict[str, int]]:
    """Points earned in a year per person and category (from the yearly totals; non-zero only)."""
    if not employee_ids:
        return {}
    rows = await PointYearTotal.select(
        PointYearTotal.employee, *(PointYearTotal._meta.get_column_by_name(c) for c in CATEGORIES)
    ).where(PointYearTotal.employee.is_in(employee_ids) & (PointYearTotal.year == year))
    return {int(row["employee"]): {c: int(row[c]) for c in CATEGORIES if row[c]} for row in rows}


@dataclass(frozen=True)
class Standing:
    employee: int
    name: str
    department_name: str | None
    total: int
    rank: int
    anonymous: bool


@dataclass(frozen=True)
class Board:
    """A page of a leaderboard, how many people are on it, and where I stand (None: not on it)."""

    rows: list[Standing]
    people: int
    my_rank: int | None
    my_total: int


async def _run(text: str, *args: Any) -> list[dict[str, Any]]:
    return [dict(row) for row in await Employee._meta.db.run_querystring(QueryString(text, *args))]


async def department_board(
    *, year: int, department_id: int, me: int | None, offset: int, limit: int
) -> Board:
    """Active people of one department ranked by points earned in the year (ties share a rank, then
    by id): positions offset+1..offset+limit, and my rank. One statement with window functions."""
    rows = await _run(
        "WITH totals AS (SELECT e.id AS employee, e.name AS name, e.department AS department, "  # noqa: S608 - integers and placeholders only
        "COALESCE(y.total, 0) AS total FROM employee e LEFT JOIN point_year_total y "
        f"ON y.employee = e.id AND y.year = {int(year)} "
        f"WHERE e.status = {{}} AND e.department = {int(department_id)}), "
        "ranked AS (SELECT employee, name, department, total, RANK() OVER (ORDER BY total DESC) AS rank, "
        "ROW_NUMBER() OVER (ORDER BY total DESC, employee) AS position, COUNT(*) OVER () AS people "
        "FROM totals) "
        "SELECT r.employee, r.name, d.name AS department_name, r.total, r.rank, r.position, r.people, "
        "CASE WHEN pp.anonymous THEN 1 ELSE 0 END AS anonymous FROM ranked r "
        "LEFT JOIN department d ON d.id = r.department "
        "LEFT JOIN point_profile pp ON pp.employee = r.employee "
        f"WHERE (r.position > {int(offset)} AND r.position <= {int(offset + limit)}) "
        f"OR r.employee = {int(me or 0)} ORDER BY r.position",
        EMPLOYEE_ACTIVE,
    )
    mine = next((row for row in rows if row["employee"] == me), None)
    people = (
        int(rows[0]["people"])
        if rows
        else await Employee.count().where(
            (Employee.status == EMPLOYEE_ACTIVE) & (Employee.department == department_id)
        )
    )
    return Board(
        rows=[_standing(row, int(row["rank"])) for row in rows if offset < row["position"] <= offset + limit],
        people=people,
        my_rank=int(mine["rank"]) if mine else None,
        my_total=int(mine["total"]) if mine else 0,
    )


def _standing(row: dict[str, Any], rank: int) -> Standing:
    return Standing(
        employee=int(row["employee"]),
        name=row["name"],
        department_name=row["department_name"],
        total=int(row["total"]),
        rank=rank,
        anonymous=bool(row["anonymous"]),
    )


# Active people of a year with more than so many points, counted on the (year, total) index.
_ABOVE = (
    "SELECT COUNT(*) AS above FROM point_year_total y JOIN employee e ON e.id = y.employee "
    "WHERE y.year = {} AND y.total > {} AND e.status = {}"
)
_SCORED = (
    "SELECT y.employee AS employee, y.total AS total FROM point_year_total y "
    "JOIN employee e ON e.id = y.employee WHERE y.year = {} AND y.total > 0 AND e.status = {} "
    "ORDER BY y.total DESC, y.employee LIMIT {} OFFSET {}"
)
_UNSCORED = (
    "SELECT e.id AS employee, COALESCE(y.total, 0) AS total FROM employee e "
    "LEFT JOIN point_year_total y ON y.employee = e.id AND y.year = {} "
    "WHERE e.status = {} AND COALESCE(y.total, 0) <= 0 ORDER BY e.id LIMIT {} OFFSET {}"
)
_SHOWN = (
    "SELECT e.id AS employee, e.name AS name, d.name AS department_name, "
    "CASE WHEN pp.anonymous THEN 1 ELSE 0 END AS anonymous FROM employee e "
    "LEFT JOIN department d ON d.id = e.department LEFT JOIN point_profile pp ON pp.employee = e.id "
    "WHERE e.id IN ({ids})"
)


async def _above(year: int, total: int) -> int:
    return int((await _run(_ABOVE, year, total, EMPLOYEE_ACTIVE))[0]["above"])


async def organisation_board(*, year: int, me: int | None, offset: int, limit: int) -> Board:
    """The organisation's board, the same as department_board over everyone, without ranking
    everyone: the people with points come from the (year, total) index in order, the rest by id
    after them (all sharing the next rank); a rank is 1 + how many have more points. Totals are never
    negative (a reversal compensates an earlier award of the same year)."""
    scored = await _above(year, 0)
    people = await Employee.count().where(Employee.status == EMPLOYEE_ACTIVE)
    page: list[tuple[int, int, int]] = []  # (employee, total, rank)
    if limit and offset < scored:
        for row in await _run(_SCORED, year, EMPLOYEE_ACTIVE, limit, offset):
            total = int(row["total"])
            if not page:
                rank = 1 + await _above(year, total)
            else:
                rank = page[-1][2] if total == page[-1][1] else offset + len(page) + 1
            page.append((int(row["employee"]), total, rank))
    if limit and len(page) < limit and offset + len(page) < people:
        rows = await _run(_UNSCORED, year, EMPLOYEE_ACTIVE, limit - len(page), max(offset - scored, 0))
        page += [(int(row["employee"]), int(row["total"]), scored + 1) for row in rows]
    shown = {}
    if page:
        ids = ", ".join(str(int(employee)) for employee, _total, _rank in page)
        shown = {int(row["employee"]): row for row in await _run(_SHOWN.format(ids=ids))}
    my_rank, my_total = await _organisation_rank(year, me, scored)
    return Board(
        rows=[_standing({**shown[employee], "total": total}, rank) for employee, total, rank in page],
        people=people,
        my_rank=my_rank,
        my_total=my_total,
    )


async def _organisation_rank(year: int, me: int | None, scored: int | None = None) -> tuple[int | None, int]:
    """My rank in the organisation (None when I am not an active employee) and my total."""
    if me is None or not await Employee.exists().where(
        (Employee.id == me) & (Employee.status == EMPLOYEE_ACTIVE)
    ):
        return None, 0
    mine = (
        await PointYearTotal.select(PointYearTotal.total)
        .where((PointYearTotal.employee == me) & (PointYearTotal.year == year))
        .first()
    )
    total = int(mine["total"]) if mine else 0
    if total <= 0 and scored is not None:
        return scored + 1, total
    return 1 + await _above(year, max(total, 0)), total


async def rank_of(employee_id: int, year: int, department_id: int | None) -> int | None:
    """1-based rank by points earned in the year among the active people of a department (None: the
    organisation); ties share a rank. None when the person is not among them."""
    if department_id is None:
        return (await _organisation_rank(year, employee_id))[0]
    return (
        await department_board(year=year, department_id=department_id, me=employee_id, offset=0, limit=0)
    ).my_rank


async def anonymous_of(employee_id: int) -> bool:
    row = (
        await PointProfile.select(PointProfile.anonymous).where(PointProfile.employee == employee_id).first()
    )
    return bool(row and row["anonymous"])


async def points_me(*, actor: Actor | None) -> PointsMeOut:
    """My points: balance, this year's total, target, categories, ranks and leaderboard anonymity."""
    _actor, employee_id = employee_required(actor)
    person = await person_get(employee_id)
    year = org_today().year
    plan = plan_for(await year_plans(year), person)
    return PointsMeOut(
        balance=await balance(employee_id),
        year=year,
        year_total=await year_total(employee_id, year),
        target=plan.total if plan else None,
        by_category=await by_category(employee_id, year),
        rank_in_department=(
            await rank_of(employee_id, year, person.department_id) if person.department_id else None
        ),
        rank_in_organisation=await rank_of(employee_id, year, None),
        anonymous=await anonymous_of(employee_id),
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


def _counted(plan: TargetPlan) -> str:
    """SQL for the points of a yearly-totals row `y` counting toward `plan` (rules.progress_compute;
    the same arithmetic as targets.team_rows)."""
    if not plan.needs:
        return "COALESCE(y.total, 0)"
    shares = []
    for category, needed in plan.needs.items():
        column = f"COALESCE(y.{year_total_column(category)}, 0)"  # a name from CATEGORIES
        shares.append(f"CASE WHEN {column} < {int(needed)} THEN {column} ELSE {int(needed)} END")
    return "(" + " + ".join(shares) + ")"


def _in(column: str, ids: list[int]) -> str:
    return f"{column} IN ({', '.join(str(int(id_)) for id_ in ids)})" if ids else "1 = 0"


async def unit_rates(
    plans: list[TargetPlan], *, year: int, units: list[tuple[int, str]]
) -> dict[int, dict[str, int]]:
    """Per department subtree (id, path; the first that holds a department counts it): active people,
    those with a target, those who reached it. One statement grouped by department: which unit a
    department belongs to and which departments a target's scope holds are decided here from the
    departments' paths (a few hundred rows), so the database compares integers per person, never
    paths."""
    if not units:
        return {}
    departments = await Department.select(Department.id, Department.path)
    unit_of: dict[int, int] = {}
    for row in departments:
        unit = next((id_ for id_, path in units if (row["path"] or "").startswith(path)), None)
        if unit is not None:
            unit_of[int(row["id"])] = unit
    if not unit_of:
        return {}
    paths = {int(row["id"]): row["path"] or "" for row in departments}
    conditions = []
    for plan in plans:
        parts = []
        if plan.scope.department_id is not None:
            prefix = plan.scope.department_path or "\0"
            held = [id_ for id_ in unit_of if paths[id_].startswith(prefix)]
            parts.append(_in("e.department", held))
        if plan.scope.position_id is not None:
            parts.append(f"e.position = {int(plan.scope.position_id)}")
        if plan.scope.level_id is not None:
            parts.append(f"e.level = {int(plan.scope.level_id)}")
        conditions.append((plan, " AND ".join(parts) or "1 = 1"))
    goal = "CAST(NULL AS INTEGER)"
    earned = "COALESCE(y.total, 0)"
    if conditions:
        goal = f"CASE {' '.join(f'WHEN {c} THEN {int(p.total)}' for p, c in conditions)} ELSE NULL END"
        earned = f"CASE {' '.join(f'WHEN {c} THEN {_counted(p)}' for p, c in conditions)} ELSE {earned} END"
    rows = await _run(
        "SELECT department, COUNT(*) AS people, COUNT(goal) AS with_target, "  # noqa: S608 - integers, names from CATEGORIES and placeholders only
        "SUM(CASE WHEN goal IS NOT NULL AND earned >= goal THEN 1 ELSE 0 END) AS reached FROM "
        f"(SELECT e.department AS department, {goal} AS goal, {earned} AS earned FROM employee e "
        f"LEFT JOIN point_year_total y ON y.employee = e.id AND y.year = {int(year)} "
        f"WHERE e.status = {{}} AND {_in('e.department', sorted(unit_of))}) people GROUP BY department",
        EMPLOYEE_ACTIVE,
    )
    stats: dict[int, dict[str, int]] = {}
    for row in rows:
        counts = stats.setdefault(
            unit_of[int(row["department"])], {"people": 0, "with_target": 0, "reached": 0}
        )
        counts["people"] += int(row["people"])
        counts["with_target"] += int(row["with_target"])
        counts["reached"] += int(row["reached"] or 0)
    return stats
