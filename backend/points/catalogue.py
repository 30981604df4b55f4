"""The reward catalogue as people and HR see it, and redemption lists to follow and to decide.

Stock left and my count follow redemptions.TAKING_STATES (pending, approved, fulfilled): what a
rejected redemption took is given back. Counts come from one GROUP BY per list, not a query per reward.
"""

from __future__ import annotations

import json
from typing import Any

from piccolo.query.functions.aggregate import Count

from backend.lib.errors import NotFound, PermissionDenied, ValidationFailed
from backend.lib.policy import ROLE_AUDITOR, ROLE_HR_ADMIN, Actor, actor_require
from backend.org.schemas import Page, Ref
from backend.org.tables import Department
from backend.points.access import employee_required, points_admin_check
from backend.points.facts import person_get
from backend.points.redemptions import (
    STATE_APPROVED,
    STATE_FULFILLED,
    STATE_PENDING,
    STATE_REJECTED,
    TAKING_STATES,
)
from backend.points.rules import CAP_MAX
from backend.points.schemas import RedemptionOut, RewardOut
from backend.points.tables import Redemption, Reward

STATES = (STATE_PENDING, STATE_APPROVED, STATE_REJECTED, STATE_FULFILLED)
NAME_MAX = 100
DESCRIPTION_MAX = 2_000
PAGE_SIZE = 20
MAX_PAGE = 10_000


def _ids(value: Any) -> list[int]:
    return [int(item) for item in (json.loads(value) if isinstance(value, str) else value or [])]


async def _department_paths(ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = await Department.select(Department.id, Department.path).where(Department.id.is_in(list(ids)))
    return {int(row["id"]): str(row["path"]) for row in rows}


async def _taken(where: Any) -> dict[int, int]:
    rows = (
        await Redemption.select(Redemption.reward, Count(Redemption.id).as_alias("taken"))
        .where(where & Redemption.state.is_in(list(TAKING_STATES)))
        .group_by(Redemption.reward)
    )
    return {int(row["reward"]): int(row["taken"]) for row in rows}


async def reward_list(*, actor: Actor | None, include_inactive: bool = False) -> list[RewardOut]:
    """The catalogue with stock left, my count and whether I may redeem each; `include_inactive`
    (HR only) adds the deactivated rewards."""
    actor = actor_require(actor)
    if include_inactive:
        points_admin_check(actor)
    query = Reward.select().order_by(Reward.sort).order_by(Reward.id)
    if not include_inactive:
        query = query.where(Reward.active == True)  # noqa: E712
    rewards = await query
    person = await person_get(actor.employee_id) if actor.employee_id is not None else None
    taken = await _taken(Redemption.reward.is_in([row["id"] for row in rewards] or [0]))
    mine = await _taken(Redemption.employee == person.employee_id) if person is not None and rewards else {}
    paths = await _department_paths({i for row in rewards for i in _ids(row["eligible_department_ids"])})
    items = []
    for row in rewards:
        levels, departments = _ids(row["eligible_level_ids"]), _ids(row["eligible_department_ids"])
        eligible = person is not None and (
            (not levels or person.level_id in levels)
            and (
                not departments
                or any(person.department_path.startswith(paths.get(i, "\0")) for i in departments)
            )
        )
        stock = row["stock"]
        items.append(
            RewardOut(
                id=row["id"],
                name=row["name"],
                description=row["description"],
                cost=row["cost"],
                stock_left=None if stock is None else max(stock - taken.get(row["id"], 0), 0),
                per_person_limit=row["per_person_limit"],
                my_count=mine.get(row["id"], 0),
                eligible=eligible,
                active=bool(row["active"]),
                eligible_level_ids=levels,
                eligible_department_ids=departments,
            )
        )
    return items


async def reward_update(
    *,
    actor: Actor | None,
    reward_id: int,
    name: str,
    cost: int,
    description: str = "",
    stock: int | None = None,
    eligible_level_ids: list[int] | None = None,
    eligible_department_ids: list[int] | None = None,
    per_person_limit: int | None = None,
    active: bool = True,
) -> None:
    """Change a reward (HR). Pending redemptions keep the points they hold; a lower stock only stops
    new redemptions; `active=False` takes it out of the catalogue."""
    points_admin_check(actor)
    name = name.strip()
    if not 0 < len(name) <= NAME_MAX:
        raise ValidationFailed("error.points_too_long", field="name", max=NAME_MAX)
    if len(description) > DESCRIPTION_MAX:
        raise ValidationFailed("error.points_too_long", field="description", max=DESCRIPTION_MAX)
    for field, value, low in (
        ("cost", cost, 1),
        ("stock", stock, 0),
        ("per_person_limit", per_person_limit, 1),
    ):
        if value is not None and not low <= value <= CAP_MAX:
            raise ValidationFailed("error.points_out_of_range", field=field, min=low, max=CAP_MAX)
    levels = list(dict.fromkeys(eligible_level_ids or []))
    departments = list(dict.fromkeys(eligible_department_ids or []))
    if departments and await Department.count().where(Department.id.is_in(departments)) != len(departments):
        raise ValidationFailed("error.points_scope_unknown", field="eligible_department_ids")
    changed = (
        await Reward.update(
            {
                Reward.name: name,
                Reward.description: description.strip(),
                Reward.cost: cost,
                Reward.stock: stock,
                Reward.eligible_level_ids: levels,
                Reward.eligible_department_ids: departments,
                Reward.per_person_limit: per_person_limit,
                Reward.active: active,
            }
        )
        .where(Reward.id == reward_id)
        .returning(Reward.id)
    )
    if not changed:
        raise NotFound()


_COLUMNS = (
    *Redemption.all_columns(),
    Redemption.reward.name.as_alias("reward_name"),
    Redemption.employee.name.as_alias("employee_name"),
    Redemption.employee.department.as_alias("department_id"),
    Redemption.employee._.department._.name.as_alias("department_name"),
    Redemption.employee._.department._.path.as_alias("department_path"),
    Redemption.decided_by.name.as_alias("decided_by_name"),
)


def _redemption_out(row: dict[str, Any], *, can_decide: bool, can_fulfil: bool) -> RedemptionOut:
    return RedemptionOut(
        id=row["id"],
        reward=Ref(id=row["reward"], name=row["reward_name"] or ""),
        employee=Ref(id=row["employee"], name=row["employee_name"] or ""),
        department=(
            Ref(id=row["department_id"], name=row["department_name"] or "")
            if row["department_id"] is not None
            else None
        ),
        points=row["points"],
        state=row["state"],
        note=row["note"],
        created_at=row["created_at"],
        decided_at=row["decided_at"],
        decided_by=(
            Ref(id=row["decided_by"], name=row["decided_by_name"] or "")
            if row["decided_by"] is not None
            else None
        ),
        fulfilled_at=row["fulfilled_at"],
        can_decide=can_decide,
        can_fulfil=can_fulfil,
    )


async def redemptions_mine(*, actor: Actor | None, page: int = 1) -> Page[RedemptionOut]:
    """My redemptions, newest first."""
    actor, employee_id = employee_required(actor)
    page = min(max(page, 1), MAX_PAGE)
    mine = Redemption.employee == employee_id
    total = await Redemption.count().where(mine)
    rows = (
        await Redemption.select(*_COLUMNS)
        .where(mine)
        .order_by(Redemption.id, ascending=False)
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    )
    hr = actor.has(ROLE_HR_ADMIN)
    items = [
        _redemption_out(row, can_decide=False, can_fulfil=hr and row["state"] == STATE_APPROVED)
        for row in rows
    ]
    return Page.of(items=items, page=page, page_size=PAGE_SIZE, total=total)


async def redemptions_for_decision(
    *, actor: Actor | None, states: tuple[str, ...] = (STATE_PENDING,), page: int = 1
) -> Page[RedemptionOut]:
    """Redemptions in `states`, oldest first: all for HR (and auditors, read-only); a manager's
    department subtrees, never their own. Anyone else: 403."""
    actor = actor_require(actor)
    if not states or any(state not in STATES for state in states):
        raise ValidationFailed("error.points_state_invalid", field="state")
    page = min(max(page, 1), MAX_PAGE)
    where: Any = Redemption.state.is_in(list(dict.fromkeys(states)))
    hr = actor.has(ROLE_HR_ADMIN)
    if not (hr or actor.has(ROLE_AUDITOR)):
        if not actor.managed_paths:
            raise PermissionDenied()
        subtree: Any = None
        for root in actor.managed_paths:
            inside = Redemption.employee._.department._.path.like(f"{root}%")
            subtree = inside if subtree is None else subtree | inside
        where &= subtree
        if actor.employee_id is not None:
            where &= Redemption.employee != actor.employee_id
    total = await Redemption.count().where(where)
    rows = (
        await Redemption.select(*_COLUMNS)
        .where(where)
        .order_by(Redemption.id)
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    )
    items = [
        _redemption_out(
            row,
            # As redemptions._decidable: HR, or a manager of the requester's subtree; never one's own.
            can_decide=(
                row["state"] == STATE_PENDING
                and row["employee"] != actor.employee_id
                and (hr or any(str(row["department_path"]).startswith(root) for root in actor.managed_paths))
            ),
            can_fulfil=hr and row["state"] == STATE_APPROVED,
        )
        for row in rows
    ]
    return Page.of(items=items, page=page, page_size=PAGE_SIZE, total=total)
