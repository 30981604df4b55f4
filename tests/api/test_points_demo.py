"""The points demo on SQLite and PostgreSQL: balances that are the sum of their entries, the rewards
and their two redemptions, targets, awards for the demo activity that later events do not repeat, and
a second run that changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from piccolo.query.functions.aggregate import Sum

from backend.accounts.selectors import actor_for_account
from backend.accounts.tables import Account
from backend.events.outbox import outbox_deliver
from backend.events.tables import OutboxEvent
from backend.lib.policy import Actor
from backend.org.tables import JobLevel
from backend.points.awards import POINTS_HANDLERS
from backend.points.demo import DEMO_REWARDS, points_demo_seed
from backend.points.facts import org_today
from backend.points.ledger import balance
from backend.points.redemptions import redemption_request
from backend.points.tables import LedgerEntry, PointRule, PointSettings, PointTarget, Redemption, Reward
from backend.reflections.tables import Submission

pytestmark = pytest.mark.usefixtures("backend_name", "demo")


async def actor_named(username: str) -> Actor:
    row = await Account.select(Account.id).where(Account.username == username).first()
    assert row is not None, username
    actor = await actor_for_account(int(row["id"]))
    assert actor is not None
    return actor


async def entries_sum(employee_id: int) -> int:
    rows = await LedgerEntry.select(Sum(LedgerEntry.points).as_alias("total")).where(
        LedgerEntry.employee == employee_id
    )
    return int(rows[0]["total"] or 0)


async def snapshot() -> dict[str, Any]:
    """What a rerun must leave alone: every points table's rows and the ledger's sum."""
    rows = await LedgerEntry.select(Sum(LedgerEntry.points).as_alias("total"))
    return {
        "entries": await LedgerEntry.count(),
        "points": int(rows[0]["total"] or 0),
        "keys": sorted(row["source_key"] for row in await LedgerEntry.select(LedgerEntry.source_key)),
        "rules": await PointRule.select().order_by(PointRule.id),
        "targets": await PointTarget.select().order_by(PointTarget.id),
        "settings": await PointSettings.select().order_by(PointSettings.id),
        "rewards": await Reward.select().order_by(Reward.id),
        "redemptions": await Redemption.select().order_by(Redemption.id),
    }


async def test_zhang_holds_what_her_entries_add_up_to_and_can_buy_a_coffee() -> None:
    await points_demo_seed()
    zhang = await actor_named("zhang")
    assert zhang.employee_id is not None
    held = await balance(zhang.employee_id)
    assert held == await entries_sum(zhang.employee_id)
    coffee = next(reward for reward in DEMO_REWARDS if reward.name == "咖啡券")
    assert held >= coffee.cost
    kinds = {
        row["kind"] for row in await LedgerEntry.select().where(LedgerEntry.employee == zhang.employee_id)
    }
    assert {"exam_passed", "workshop_attended", "sharing_session"} <= kinds
    coffee_id = await Reward.select(Reward.id).where(Reward.name == "咖啡券").first()
    assert coffee_id is not None
    await redemption_request(actor=zhang, reward_id=coffee_id["id"])
    assert await balance(zhang.employee_id) == held - coffee.cost


async def test_the_catalogue_has_one_pending_and_one_approved_redemption() -> None:
    await points_demo_seed()
    names = [row["name"] for row in await Reward.select(Reward.name).order_by(Reward.id)]
    assert names == ["一天远程办公", "弹性工作一周", "优先选择项目", "导师资格", "咖啡券"]
    states = sorted(row["state"] for row in await Redemption.select(Redemption.state))
    assert states == ["approved", "pending"]
    for row in await Redemption.select():  # the points of both are held: the balances show it
        hold = await LedgerEntry.select().where(LedgerEntry.id == row["hold_entry"]).first()
        assert hold is not None and hold["points"] == -row["points"]
        assert await balance(row["employee"]) >= 0


async def test_targets_for_middle_managers_and_rules_for_reflections() -> None:
    await points_demo_seed()
    targets = await PointTarget.select(PointTarget.total, PointTarget.year, PointTarget.level.name).where(
        PointTarget.year == org_today().year
    )
    by_level = {row["level.name"]: row["total"] for row in targets}
    # 学分制's 100 points for middle managers; a smaller target for everyone else.
    assert by_level == {"M1 主管": 100, "M2 经理": 100, None: 60}
    levels = {row["name"] for row in await JobLevel.select(JobLevel.name)}
    assert {"M1 主管", "M2 经理"} <= levels
    rules = {
        row["kind"]: (row["points"], row["category"])
        for row in await PointRule.select().where(PointRule.replaced_by.is_null())
    }
    assert rules["reflection_submitted"] == (2, "course")
    assert rules["reflection_excellent"] == (5, "course")
    assert rules["exam_passed"] == (10, "exam")
    settings = await PointSettings.select().first()
    assert settings is not None and settings["preset"] == "credit"


async def test_reflections_of_the_demo_earned_points_once_even_when_their_events_arrive() -> None:
    await points_demo_seed()
    submitted = await Submission.select(Submission.assignment, Submission.employee).where(
        Submission.submitted_at.is_not_null()
    )
    assert submitted
    keys = {row["source_key"]: row["points"] for row in await LedgerEntry.select()}
    for row in submitted:
        assert keys[f"reflection_submitted:{row['assignment']}:{row['employee']}"] == 2
    excellent = [key for key in keys if key.startswith("reflection_excellent:")]
    assert len(excellent) == 1 and keys[excellent[0]] == 5
    before = await snapshot()
    # The worker delivers the demo's outbox events later: the same keys, so nothing more is awarded.
    events = await OutboxEvent.select(OutboxEvent.id).where(
        OutboxEvent.kind.is_in(list(POINTS_HANDLERS)) & OutboxEvent.handled_at.is_null()
    )
    assert events
    for event in events:
        await outbox_deliver({"outbox_handlers": POINTS_HANDLERS}, event["id"])
    assert await snapshot() == before


async def test_seeding_twice_changes_nothing() -> None:
    await points_demo_seed()
    first = await snapshot()
    assert first["entries"] > 60 and first["points"] > 0
    await points_demo_seed()
    assert await snapshot() == first
