"""Standings: leaderboards (with 匿名 for people who ask for it), department completion rates, privacy.

Everyone signed in may read the boards and rates: they rank points earned in the year, not balances.
A person who chose anonymity shows as the catalog's 匿名 ("points.anonymous"), without a department,
to everyone but themselves; their points still count and their rank still shows.
"""

from __future__ import annotations

from backend.lib.errors import NotFound, ValidationFailed
from backend.lib.i18n import DEFAULT_LOCALE, translate
from backend.lib.policy import Actor, actor_require
from backend.org.schemas import Ref
from backend.org.tables import Department
from backend.points.access import employee_required
from backend.points.facts import org_today, person_get, utc_now
from backend.points.rules import path_depth
from backend.points.schemas import DepartmentRateOut, LeaderboardOut, LeaderRowOut
from backend.points.selectors import (
    anonymous_of,
    department_board,
    organisation_board,
    unit_rates,
    year_check,
    year_plans,
)
from backend.points.tables import PointProfile

BOARD_DEPARTMENT = "department"
BOARD_ORGANISATION = "organisation"
BOARDS = (BOARD_DEPARTMENT, BOARD_ORGANISATION)
PAGE_SIZE = 20
MAX_PAGE = 10_000
ANONYMOUS_KEY = "points.anonymous"


async def leaderboard(
    *,
    actor: Actor | None,
    board: str = BOARD_DEPARTMENT,
    year: int | None = None,
    page: int = 1,
    locale: str | None = None,
) -> LeaderboardOut:
    """A page of the department (mine) or organisation board, and where I stand on it.
    `locale` words 匿名 (default: the actor's language setting, else zh-CN)."""
    actor = actor_require(actor)
    if board not in BOARDS:
        raise ValidationFailed("error.points_board_invalid", field="board")
    year = year_check(year if year is not None else org_today().year)
    page = min(max(page, 1), MAX_PAGE)
    department_id: int | None = None
    if board == BOARD_DEPARTMENT:
        _actor, employee_id = employee_required(actor)
        department_id = (await person_get(employee_id)).department_id
        if department_id is None:
            raise NotFound()
    offset = (page - 1) * PAGE_SIZE
    if department_id is None:
        standing = await organisation_board(year=year, me=actor.employee_id, offset=offset, limit=PAGE_SIZE)
    else:
        standing = await department_board(
            year=year, department_id=department_id, me=actor.employee_id, offset=offset, limit=PAGE_SIZE
        )
    anonymous_name = translate(locale or actor.locale or DEFAULT_LOCALE, ANONYMOUS_KEY)
    entries = []
    for row in standing.rows:
        is_me = row.employee == actor.employee_id
        shown = is_me or not row.anonymous
        entries.append(
            LeaderRowOut(
                rank=row.rank,
                name=row.name if shown else anonymous_name,
                department=row.department_name if shown else None,
                total=row.total,
                me=is_me,
                anonymous=row.anonymous,
            )
        )
    return LeaderboardOut(
        year=year,
        board=board,
        my_rank=standing.my_rank,
        my_total=standing.my_total,
        people=standing.people,
        page=page,
        pages=max(1, -(-standing.people // PAGE_SIZE)),
        entries=entries,
    )


async def _units() -> list[tuple[int, str, str]]:
    """The departments rates are given for: the top-level ones under the organisation's root (or the
    roots, when nothing is below them), as (id, name, path)."""
    rows = (
        await Department.select(Department.id, Department.name, Department.path)
        .where(Department.active == True)  # noqa: E712
        .order_by(Department.sort)
        .order_by(Department.id)
    )
    for depth in (2, 1):
        units = [
            (int(r["id"]), str(r["name"]), str(r["path"])) for r in rows if path_depth(r["path"]) == depth
        ]
        if units:
            return units
    return []


async def department_rates(*, actor: Actor | None, year: int | None = None) -> list[DepartmentRateOut]:
    """Per top-level department (with its subtree): active people, those with a target, those who
    reached it, and the completion rate (reached / with a target, floor percent). Everyone may read."""
    actor_require(actor)
    year = year_check(year if year is not None else org_today().year)
    units = await _units()
    stats = await unit_rates(
        await year_plans(year), year=year, units=[(id_, path) for id_, _n, path in units]
    )
    rates = []
    for id_, name, _path in units:
        unit = stats.get(id_, {"people": 0, "with_target": 0, "reached": 0})
        rates.append(
            DepartmentRateOut(
                department=Ref(id=id_, name=name),
                people=unit["people"],
                with_target=unit["with_target"],
                reached=unit["reached"],
                rate_percent=unit["reached"] * 100 // unit["with_target"] if unit["with_target"] else 0,
            )
        )
    return rates


async def privacy_get(*, actor: Actor | None) -> bool:
    """Whether I show as 匿名 on leaderboards."""
    _actor, employee_id = employee_required(actor)
    return await anonymous_of(employee_id)


async def privacy_set(*, actor: Actor | None, anonymous: bool) -> None:
    """Show me as 匿名 on leaderboards (or by name again)."""
    _actor, employee_id = employee_required(actor)
    await PointProfile.insert(
        PointProfile(employee=employee_id, anonymous=anonymous, updated_at=utc_now())
    ).on_conflict(
        target=PointProfile.employee,
        action="DO UPDATE",
        values=[PointProfile.anonymous, PointProfile.updated_at],
    )
