"""Rewards and redemptions: trading points for 一天远程办公, 咖啡券 ...

A redemption holds its points at once (a negative "redemption_hold" entry), so they cannot be spent
twice; rejection releases them (a compensating "redemption_release" entry); approval and fulfilment
only move the redemption's state. Per person, ledger writers take turns (see backend.points.ledger),
so concurrent redemptions never take a balance below zero. Stock is the number of units that may be
taken by redemptions not rejected; a per-person limit counts the same way.

Who decides: HR, or a manager of the requester's department subtree — never the requester.
Each step records an outbox event (points.redemption.*) for the notifications feature.
"""

from __future__ import annotations

import json
from typing import Any

from backend.events.outbox import outbox_add, outbox_kick
from backend.lib.db import write_transaction
from backend.lib.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from backend.lib.policy import ROLE_HR_ADMIN, Actor, actor_require, department_path_visible
from backend.org.tables import Department
from backend.points.access import employee_required, points_admin_check
from backend.points.facts import LOCK_LEDGER, LOCK_REWARD, person_get, utc_now, xact_lock
from backend.points.ledger import balance, entry_insert
from backend.points.rules import CAP_MAX, CATEGORY_REDEMPTION, KIND_REDEMPTION_HOLD, KIND_REDEMPTION_RELEASE
from backend.points.tables import Redemption, Reward

STATE_PENDING = "pending"
STATE_APPROVED = "approved"
STATE_REJECTED = "rejected"
STATE_FULFILLED = "fulfilled"
TAKING_STATES = (STATE_PENDING, STATE_APPROVED, STATE_FULFILLED)  # what counts against stock and limits
EVENT_REQUESTED = "points.redemption.requested"
EVENT_DECIDED = "points.redemption.decided"
EVENT_FULFILLED = "points.redemption.fulfilled"
NAME_MAX = 100
DESCRIPTION_MAX = 2_000


def _ids(value: Any) -> list[int]:
    return [int(item) for item in (json.loads(value) if isinstance(value, str) else value or [])]


async def reward_create(
    *,
    actor: Actor | None,
    name: str,
    cost: int,
    description: str = "",
    stock: int | None = None,
    eligible_level_ids: list[int] | None = None,
    eligible_department_ids: list[int] | None = None,
    per_person_limit: int | None = None,
) -> int:
    """A reward in the catalogue (HR)."""
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
    levels, departments = (
        list(dict.fromkeys(eligible_level_ids or [])),
        list(dict.fromkeys(eligible_department_ids or [])),
    )
    if departments and await Department.count().where(Department.id.is_in(departments)) != len(departments):
        raise ValidationFailed("error.points_scope_unknown", field="eligible_department_ids")
    rows = await Reward.insert(
        Reward(
            name=name,
            description=description.strip(),
            cost=cost,
            stock=stock,
            eligible_level_ids=levels,
            eligible_department_ids=departments,
            per_person_limit=per_person_limit,
        )
    ).returning(Reward.id)
    return int(rows[0]["id"])


async def _eligible(reward: dict[str, Any], *, level_id: int | None, department_path: str) -> bool:
    levels, departments = _ids(reward["eligible_level_ids"]), _ids(reward["eligible_department_ids"])
    if levels and level_id not in levels:
        return False
    if not departments:
        return True
    paths = [
        row["path"]
        for row in await Department.select(Department.path).where(Department.id.is_in(departments))
    ]
    return any(department_path.startswith(path) for path in paths)


async def redemption_request(*, actor: Actor | None, reward_id: int) -> int:
    """Redeem a reward: refused without enough balance, stock or allowance; else held, pending."""
    actor, employee_id = employee_required(actor)
    reward = await Reward.select().where((Reward.id == reward_id) & (Reward.active == True)).first()  # noqa: E712
    if reward is None:
        raise NotFound()
    person = await person_get(employee_id)
    if not await _eligible(reward, level_id=person.level_id, department_path=person.department_path):
        raise ValidationFailed("error.points_reward_not_eligible")
    cost = int(reward["cost"])
    async with write_transaction(Redemption):
        await xact_lock(LOCK_LEDGER, employee_id)
        # Stock is shared between people: the reward's lock too (always after the ledger's).
        await xact_lock(LOCK_REWARD, reward_id)
        taking = (Redemption.reward == reward_id) & Redemption.state.is_in(list(TAKING_STATES))
        limit = reward["per_person_limit"]
        if (
            limit is not None
            and await Redemption.count().where(taking & (Redemption.employee == employee_id)) >= limit
        ):
            raise Conflict("error.points_reward_limit", limit=limit)
        if reward["stock"] is not None and await Redemption.count().where(taking) >= reward["stock"]:
            raise Conflict("error.points_reward_out_of_stock")
        held = await balance(employee_id)
        if held < cost:
            raise Conflict("error.points_balance_insufficient", balance=held, cost=cost)
        rows = await Redemption.insert(
            Redemption(reward=reward_id, employee=employee_id, points=cost, state=STATE_PENDING)
        ).returning(Redemption.id)
        redemption_id = int(rows[0]["id"])
        hold = await entry_insert(
            employee=employee_id,
            kind=KIND_REDEMPTION_HOLD,
            category=CATEGORY_REDEMPTION,
            points=-cost,
            source_key=f"redemption:{redemption_id}:hold",
            occurred_at=utc_now(),
            actor=employee_id,
            note=str(reward["name"])[:500],
        )
        await Redemption.update({Redemption.hold_entry: hold}).where(Redemption.id == redemption_id)
        event = await outbox_add(
            EVENT_REQUESTED,
            {"redemption_id": redemption_id, "employee_id": employee_id, "reward_id": reward_id},
        )
    await outbox_kick([event])
    return redemption_id


async def _decidable(actor: Actor | None, redemption_id: int) -> tuple[Actor, dict[str, Any]]:
    actor = actor_require(actor)
    row = await Redemption.select().where(Redemption.id == redemption_id).first()
    if row is None:
        raise NotFound()
    if row["employee"] == actor.employee_id:
        raise PermissionDenied("error.points_redemption_own")
    person = await person_get(int(row["employee"]))
    if not (
        actor.has(ROLE_HR_ADMIN)
        or (actor.managed_paths and department_path_visible(actor, person.department_path))
    ):
        raise NotFound()
    return actor, dict(row)


async def redemption_decide(
    *, actor: Actor | None, redemption_id: int, approve: bool, note: str = ""
) -> None:
    """Approve, or reject (releasing the held points) a pending redemption — HR or the manager."""
    actor, row = await _decidable(actor, redemption_id)
    if len(note) > 500:
        raise ValidationFailed("error.points_too_long", field="note", max=500)
    async with write_transaction(Redemption):
        await xact_lock(LOCK_LEDGER, int(row["employee"]))
        changed = (
            await Redemption.update(
                {
                    Redemption.state: STATE_APPROVED if approve else STATE_REJECTED,
                    Redemption.decided_by: actor.employee_id,
                    Redemption.decided_at: utc_now(),
                    Redemption.note: note.strip(),
                }
            )
            .where((Redemption.id == redemption_id) & (Redemption.state == STATE_PENDING))
            .returning(Redemption.id)
        )
        if not changed:
            raise Conflict("error.points_redemption_decided")
        if not approve:
            release = await entry_insert(
                employee=row["employee"],
                kind=KIND_REDEMPTION_RELEASE,
                category=CATEGORY_REDEMPTION,
                points=int(row["points"]),
                source_key=f"redemption:{redemption_id}:release",
                occurred_at=utc_now(),
                actor=actor.employee_id,
                reverses=row["hold_entry"],
                note=note.strip(),
            )
            await Redemption.update({Redemption.release_entry: release}).where(Redemption.id == redemption_id)
        event = await outbox_add(
            EVENT_DECIDED,
            {"redemption_id": redemption_id, "employee_id": row["employee"], "approved": approve},
        )
    await outbox_kick([event])


async def redemption_fulfil(*, actor: Actor | None, redemption_id: int) -> None:
    """Record that an approved reward was handed over (HR)."""
    points_admin_check(actor)
    row = await Redemption.select(Redemption.employee).where(Redemption.id == redemption_id).first()
    if row is None:
        raise NotFound()
    async with write_transaction(Redemption):
        changed = (
            await Redemption.update({Redemption.state: STATE_FULFILLED, Redemption.fulfilled_at: utc_now()})
            .where((Redemption.id == redemption_id) & (Redemption.state == STATE_APPROVED))
            .returning(Redemption.id)
        )
        if not changed:
            raise Conflict("error.points_redemption_not_approved")
        event = await outbox_add(
            EVENT_FULFILLED, {"redemption_id": redemption_id, "employee_id": row["employee"]}
        )
    await outbox_kick([event])
