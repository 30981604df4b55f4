"""Annual targets: HR sets them per year and scope; people, their managers and HR read the progress.

One target per (year, scope); the most specific matching scope applies to a person (rules.target_pick).
A target's mix (percent per category) splits its total into per-category shares; with a mix, points
count toward the target only up to each category's share, so 100 course points do not reach a target
that asks for exams too. Without a mix every earning counts.

Team progress is one SQL statement (selectors.team_rows) over the yearly totals (one row per person):
the shares applied, sorted and paged in the database, never a loop over people in Python.
"""

from __future__ import annotations

import json
from typing import Any

from piccolo.querystring import QueryString

from backend.lib.db import write_transaction
from backend.lib.errors import NotFound, PermissionDenied, ValidationFailed
from backend.lib.policy import Actor, actor_require
from backend.org.schemas import Page, Ref
from backend.org.tables import EMPLOYEE_ACTIVE, Department, Employee, JobLevel, Position
from backend.points.access import employee_required, ledger_read_check, points_admin_check, rules_read_check
from backend.points.facts import LOCK_RULES, org_today, person_get, utc_now, xact_lock
from backend.points.ledger import by_category, year_total_column
from backend.points.rules import CAP_MAX, CATEGORIES, Progress, progress_compute, year_elapsed_percent
from backend.points.schemas import CategoryProgressOut, TargetOut, TargetProgressOut, TeamMemberOut
from backend.points.selectors import (
    TargetPlan,
    category_totals,
    plan_for,
    year_check,
    year_plans,
)
from backend.points.tables import PointTarget

PAGE_SIZE = 20
MAX_PAGE = 10_000
MIX_MAX = 100


class Statement:
    """A statement being built: text with {} placeholders and its arguments. Call `arg` in the order
    the placeholders appear in the text."""

    def __init__(self) -> None:
        self.args: list[Any] = []

    def arg(self, value: Any) -> str:
        self.args.append(value)
        return "{}"


def _earned(plan: TargetPlan) -> str:
    """SQL for the points counting toward `plan` from a yearly-totals row `y` (rules.progress_compute)."""
    if not plan.needs:
        return "COALESCE(y.total, 0)"
    shares = []
    for category, needed in plan.needs.items():
        column = f"COALESCE(y.{year_total_column(category)}, 0)"  # a name from CATEGORIES
        shares.append(f"CASE WHEN {column} < {int(needed)} THEN {column} ELSE {int(needed)} END")
    return "(" + " + ".join(shares) + ")"


def _progress_cte(sql: Statement, plans: list[TargetPlan], year: int, paths: list[str] | None) -> str:
    """`WITH ... progress AS (...)`: one row per active person in `paths` (None = everyone) with
    target, goal, earned (counting toward the goal), attainment and missing."""
    cases = []
    for plan in plans:
        conditions = []
        if plan.scope.department_id is not None:
            conditions.append(f"d.path LIKE {sql.arg((plan.scope.department_path or '') + '%')}")
        if plan.scope.position_id is not None:
            conditions.append(f"e.position = {int(plan.scope.position_id)}")
        if plan.scope.level_id is not None:
            conditions.append(f"e.level = {int(plan.scope.level_id)}")
        cases.append(f"WHEN {' AND '.join(conditions) or '1 = 1'} THEN {int(plan.id)}")
    target = f"CASE {' '.join(cases)} ELSE NULL END" if cases else "CAST(NULL AS INTEGER)"
    status = sql.arg(EMPLOYEE_ACTIVE)
    scope = ""
    if paths is not None:
        scope = " AND (" + " OR ".join(f"d.path LIKE {sql.arg(path + '%')}" for path in paths) + ")"
    goal = "CAST(NULL AS INTEGER)"
    earned = "COALESCE(y.total, 0)"
    if plans:
        goal = (
            f"CASE p.target {' '.join(f'WHEN {int(p.id)} THEN {int(p.total)}' for p in plans)} ELSE NULL END"
        )
        earned = f"CASE p.target {' '.join(f'WHEN {int(p.id)} THEN {_earned(p)}' for p in plans)} ELSE {earned} END"
    return (
        "WITH people AS (SELECT e.id AS employee, e.name AS name, e.department AS department, "  # noqa: S608 - integers, names from CATEGORIES and placeholders only
        "d.name AS department_name, d.path AS department_path, "
        f"{target} AS target FROM employee e JOIN department d ON d.id = e.department "
        f"WHERE e.status = {status}{scope}), "
        f"totals AS (SELECT p.*, {goal} AS goal, {earned} AS earned FROM people p "
        f"LEFT JOIN point_year_total y ON y.employee = p.employee AND y.year = {int(year)}), "
        "progress AS (SELECT totals.*, CASE WHEN goal IS NULL THEN 0 WHEN earned >= goal THEN 100 "
        "WHEN earned <= 0 THEN 0 ELSE earned * 100 / goal END AS attainment, "
        "CASE WHEN goal IS NULL OR earned >= goal THEN 0 ELSE goal - earned END AS missing FROM totals) "
    )


async def team_rows(
    plans: list[TargetPlan],
    *,
    year: int,
    paths: list[str] | None,
    expected_percent: int,
    behind_only: bool,
    limit: int,
    offset: int,
) -> tuple[list[dict[str, Any]], int]:
    """A page of people's progress, most behind first (lowest attainment, then most missing; people
    without a target last), and how many people there are in all."""
    sql = Statement()
    text = _progress_cte(sql, plans, year, paths)
    text += (
        "SELECT employee, name, department, department_name, target, goal, earned, attainment, missing, "  # noqa: S608 - integers and placeholders only
        "behind, COUNT(*) OVER () AS matched FROM (SELECT progress.*, CASE WHEN goal IS NOT NULL AND "
        f"attainment < {int(expected_percent)} THEN 1 ELSE 0 END AS behind FROM progress) marked "
        f"{'WHERE behind = 1 ' if behind_only else ''}"
        "ORDER BY CASE WHEN goal IS NULL THEN 1 ELSE 0 END, attainment, missing DESC, employee "
        f"LIMIT {int(limit)} OFFSET {int(offset)}"
    )
    rows = [dict(row) for row in await Employee._meta.db.run_querystring(QueryString(text, *sql.args))]
    if rows:
        return rows, int(rows[0]["matched"])
    if offset == 0:
        return [], 0
    _first, total = await team_rows(
        plans,
        year=year,
        paths=paths,
        expected_percent=expected_percent,
        behind_only=behind_only,
        limit=1,
        offset=0,
    )
    return [], total


def _ref(row: dict[str, Any], name: str) -> Ref | None:
    return Ref(id=row[name], name=row[f"{name}_name"] or "") if row[name] is not None else None


def _mix(value: Any) -> dict[str, int]:
    mix = json.loads(value) if isinstance(value, str) else value or {}
    return {str(category): int(percent) for category, percent in mix.items()}


async def target_list(*, actor: Actor | None, year: int | None = None) -> list[TargetOut]:
    """Targets, newest year first (HR, auditors); one year when `year` is given."""
    rules_read_check(actor)
    query = PointTarget.select(
        *PointTarget.all_columns(),
        PointTarget.department.name.as_alias("department_name"),
        PointTarget.position.name.as_alias("position_name"),
        PointTarget.level.name.as_alias("level_name"),
    ).order_by(PointTarget.year, ascending=False)
    if year is not None:
        query = query.where(PointTarget.year == year_check(year))
    rows = await query.order_by(PointTarget.id)
    return [
        TargetOut(
            id=row["id"],
            year=row["year"],
            department=_ref(row, "department"),
            position=_ref(row, "position"),
            level=_ref(row, "level"),
            total=row["total"],
            mix=_mix(row["mix"]),
            updated_at=row["updated_at"],
        )
        for row in rows
    ]


def _mix_check(mix: dict[str, int]) -> dict[str, int]:
    for category, percent in mix.items():
        if category not in CATEGORIES:
            raise ValidationFailed("error.points_category_invalid", field="mix")
        if not 0 <= percent <= MIX_MAX:
            raise ValidationFailed("error.points_out_of_range", field="mix", min=0, max=MIX_MAX)
    if mix and sum(mix.values()) != MIX_MAX:
        raise ValidationFailed("error.points_target_mix_sum", field="mix", sum=sum(mix.values()))
    return {category: mix[category] for category in CATEGORIES if mix.get(category)}


async def _scope_check(department_id: int | None, position_id: int | None, level_id: int | None) -> None:
    for table, value in ((Department, department_id), (Position, position_id), (JobLevel, level_id)):
        if value is not None and not await table.exists().where(table.id == value):
            raise ValidationFailed("error.points_scope_unknown", field="scope")


async def target_set(
    *,
    actor: Actor | None,
    year: int,
    total: int,
    mix: dict[str, int],
    department_id: int | None = None,
    position_id: int | None = None,
    level_id: int | None = None,
) -> int:
    """Set the target of a year and scope (HR): the same scope again replaces its total and mix.
    Returns the target's id."""
    actor = points_admin_check(actor)
    year_check(year)
    if not 1 <= total <= CAP_MAX:
        raise ValidationFailed("error.points_out_of_range", field="total", min=1, max=CAP_MAX)
    mix = _mix_check(mix)
    await _scope_check(department_id, position_id, level_id)
    same_scope = (
        (PointTarget.year == year)
        & (PointTarget.department == department_id if department_id else PointTarget.department.is_null())
        & (PointTarget.position == position_id if position_id else PointTarget.position.is_null())
        & (PointTarget.level == level_id if level_id else PointTarget.level.is_null())
    )
    async with write_transaction(PointTarget):
        await xact_lock(LOCK_RULES, 0)  # presets write targets too
        existing = await PointTarget.select(PointTarget.id).where(same_scope).first()
        if existing is not None:
            await PointTarget.update(
                {PointTarget.total: total, PointTarget.mix: mix, PointTarget.updated_at: utc_now()}
            ).where(PointTarget.id == existing["id"])
            return int(existing["id"])
        rows = await PointTarget.insert(
            PointTarget(
                year=year,
                department=department_id,
                position=position_id,
                level=level_id,
                total=total,
                mix=mix,
                created_by=actor.employee_id,
            )
        ).returning(PointTarget.id)
    return int(rows[0]["id"])


async def target_delete(*, actor: Actor | None, target_id: int) -> None:
    """Remove a target (HR); people of its scope fall back to a wider target, or none."""
    points_admin_check(actor)
    deleted = await PointTarget.delete().where(PointTarget.id == target_id).returning(PointTarget.id)
    if not deleted:
        raise NotFound()


def _progress(plan: TargetPlan | None, totals: dict[str, int]) -> Progress:
    return progress_compute(plan.total if plan else None, plan.needs if plan else {}, totals)


def _categories_out(progress: Progress) -> list[CategoryProgressOut]:
    return [
        CategoryProgressOut(
            category=item.category, earned=item.earned, needed=item.needed, missing=item.missing
        )
        for item in progress.categories
    ]


async def target_progress(
    *, actor: Actor | None, employee_id: int | None = None, year: int | None = None
) -> TargetProgressOut:
    """Progress toward the year's target: mine by default; someone else's for HR, auditors and their
    managers (anyone else: 404)."""
    if employee_id is None:
        _actor, employee_id = employee_required(actor)
        person = await person_get(employee_id)
    else:
        person = await person_get(employee_id)
        ledger_read_check(actor, employee_id=employee_id, department_path=person.department_path)
    year = year_check(year if year is not None else org_today().year)
    plan = plan_for(await year_plans(year), person)
    progress = _progress(plan, await by_category(employee_id, year))
    expected = year_elapsed_percent(year, org_today())
    return TargetProgressOut(
        year=year,
        target=progress.target,
        earned=progress.earned,
        attainment_percent=progress.attainment_percent,
        missing=progress.missing,
        categories=_categories_out(progress),
        expected_percent=expected,
        behind=progress.target is not None and progress.attainment_percent < expected,
    )


def _team_paths(actor: Actor, department_path: str | None) -> list[str] | None:
    """The department subtrees a team read covers (None = the whole organisation)."""
    if actor.sees_whole_organisation:
        return None if department_path is None else [department_path]
    if not actor.managed_paths:
        raise PermissionDenied()
    if department_path is None:
        return list(actor.managed_paths)
    if not any(department_path.startswith(root) for root in actor.managed_paths):
        raise NotFound()
    return [department_path]


async def team_progress(
    *,
    actor: Actor | None,
    year: int | None = None,
    department_id: int | None = None,
    behind_only: bool = False,
    page: int = 1,
) -> Page[TeamMemberOut]:
    """Progress of a team, most behind first: a manager's department subtrees; everyone (or one
    department subtree) for HR and auditors. Others: 403; a department outside one's scope: 404."""
    actor = actor_require(actor)
    department_path: str | None = None
    if department_id is not None:
        row = await Department.select(Department.path).where(Department.id == department_id).first()
        if row is None:
            raise NotFound()
        department_path = str(row["path"])
    paths = _team_paths(actor, department_path)
    year = year_check(year if year is not None else org_today().year)
    page = min(max(page, 1), MAX_PAGE)
    plans = await year_plans(year)
    expected = year_elapsed_percent(year, org_today())
    rows, total = await team_rows(
        plans,
        year=year,
        paths=paths,
        expected_percent=expected,
        behind_only=behind_only,
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )
    plans_by_id = {plan.id: plan for plan in plans}
    totals = await category_totals([int(row["employee"]) for row in rows], year)
    items = [
        TeamMemberOut(
            employee=Ref(id=int(row["employee"]), name=row["name"]),
            department=Ref(id=int(row["department"]), name=row["department_name"] or ""),
            target=int(row["goal"]) if row["goal"] is not None else None,
            earned=int(row["earned"]),
            attainment_percent=int(row["attainment"]),
            behind=bool(row["behind"]),
            missing=int(row["missing"]),
            categories=_categories_out(
                _progress(plans_by_id.get(row["target"]), totals.get(int(row["employee"]), {}))
            ),
        )
        for row in rows
    ]
    return Page.of(items=items, page=page, page_size=PAGE_SIZE, total=total)
