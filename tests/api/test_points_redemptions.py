"""Rewards and redemptions on SQLite and PostgreSQL: holds, approval, rejection releasing the hold,
stock, limits, eligibility, and balances that never go negative under concurrent redemptions."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest

from backend.events.tables import OutboxEvent
from backend.lib.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from backend.org.tables import JobLevel
from backend.points.facts import org_today
from backend.points.ledger import balance, ledger_award, year_total
from backend.points.redemptions import (
    redemption_decide,
    redemption_fulfil,
    redemption_request,
    reward_create,
)
from backend.points.rulebook import RuleTerms, rule_create
from backend.points.tables import LedgerEntry, Redemption
from tests.conftest import AppClient, login
from tests.ui.harness import actor_named

pytestmark = pytest.mark.usefixtures("backend_name", "points_clean")


async def earn(username: str, points: int) -> int:
    """Give someone `points` through a one-off rule; returns their employee id."""
    actor = await actor_named(username)
    assert actor.employee_id is not None
    kind = f"bonus_{username}"
    await rule_create(
        actor=await actor_named("hr"),
        kind=kind,
        terms=RuleTerms(points=points, effective_from=dt.date(2000, 1, 1)),
    )
    await ledger_award(
        employee_id=actor.employee_id, kind=kind, source_key=f"{kind}:1", occurred_at=dt.datetime.now(dt.UTC)
    )
    return actor.employee_id


async def reward(name: str = "一天远程办公", cost: int = 100, **fields: Any) -> int:
    return await reward_create(actor=await actor_named("hr"), name=name, cost=cost, **fields)


async def state(redemption_id: int) -> str:
    row = await Redemption.select(Redemption.state).where(Redemption.id == redemption_id).first()
    assert row is not None
    return str(row["state"])


async def test_a_redemption_holds_then_is_approved_and_fulfilled() -> None:
    zhang = await earn("zhang", 150)
    remote_day = await reward()
    redemption = await redemption_request(actor=await actor_named("zhang"), reward_id=remote_day)
    assert await state(redemption) == "pending" and await balance(zhang) == 50
    assert await year_total(zhang, org_today().year) == 150  # spending is not earning
    with pytest.raises(PermissionDenied):
        await redemption_decide(actor=await actor_named("zhang"), redemption_id=redemption, approve=True)
    with pytest.raises(NotFound):  # wang manages nobody
        await redemption_decide(actor=await actor_named("wang"), redemption_id=redemption, approve=True)
    await redemption_decide(actor=await actor_named("manager"), redemption_id=redemption, approve=True)
    assert await state(redemption) == "approved" and await balance(zhang) == 50
    with pytest.raises(Conflict):
        await redemption_decide(actor=await actor_named("hr"), redemption_id=redemption, approve=False)
    await redemption_fulfil(actor=await actor_named("hr"), redemption_id=redemption)
    assert await state(redemption) == "fulfilled" and await balance(zhang) == 50
    kinds = [row["kind"] for row in await OutboxEvent.select(OutboxEvent.kind).order_by(OutboxEvent.id)]
    assert kinds[-3:] == [
        "points.redemption.requested",
        "points.redemption.decided",
        "points.redemption.fulfilled",
    ]


async def test_rejection_releases_the_hold_once() -> None:
    zhang = await earn("zhang", 150)
    redemption = await redemption_request(actor=await actor_named("zhang"), reward_id=await reward())
    await redemption_decide(
        actor=await actor_named("hr"), redemption_id=redemption, approve=False, note="本月名额已满"
    )
    assert await state(redemption) == "rejected" and await balance(zhang) == 150
    with pytest.raises(Conflict):
        await redemption_decide(actor=await actor_named("hr"), redemption_id=redemption, approve=False)
    assert await balance(zhang) == 150
    with pytest.raises(Conflict):
        await redemption_fulfil(actor=await actor_named("hr"), redemption_id=redemption)
    row = await Redemption.select().where(Redemption.id == redemption).first()
    assert row is not None
    release = await LedgerEntry.select().where(LedgerEntry.id == row["release_entry"]).first()
    assert release is not None and release["points"] == 100 and release["reverses"] == row["hold_entry"]


async def test_hr_cannot_approve_their_own_redemption() -> None:
    await earn("hr", 200)
    redemption = await redemption_request(actor=await actor_named("hr"), reward_id=await reward())
    with pytest.raises(PermissionDenied) as refused:
        await redemption_decide(actor=await actor_named("hr"), redemption_id=redemption, approve=True)
    assert refused.value.key == "error.points_redemption_own"


async def test_refusals_balance_stock_limit_eligibility() -> None:
    await earn("zhang", 150)
    await earn("wang", 150)
    zhang, wang = await actor_named("zhang"), await actor_named("wang")
    with pytest.raises(Conflict) as refused:
        await redemption_request(actor=zhang, reward_id=await reward("弹性工作一周", 300))
    assert refused.value.key == "error.points_balance_insufficient"
    assert refused.value.params == {"balance": 150, "cost": 300}
    coffee = await reward("咖啡券", 10, stock=1)
    await redemption_request(actor=zhang, reward_id=coffee)
    with pytest.raises(Conflict) as refused:
        await redemption_request(actor=wang, reward_id=coffee)
    assert refused.value.key == "error.points_reward_out_of_stock"
    once = await reward("优先选择项目", 10, per_person_limit=1)
    await redemption_request(actor=zhang, reward_id=once)
    with pytest.raises(Conflict):
        await redemption_request(actor=zhang, reward_id=once)
    managers = [row["id"] for row in await JobLevel.select(JobLevel.id).where(JobLevel.name.like("M%"))]
    mentor = await reward("导师资格", 10, eligible_level_ids=managers)
    with pytest.raises(ValidationFailed):
        await redemption_request(actor=zhang, reward_id=mentor)
    with pytest.raises(NotFound):
        await redemption_request(actor=zhang, reward_id=999_999)
    with pytest.raises(PermissionDenied):
        await reward_create(actor=zhang, name="自己加的奖励", cost=1)
    with pytest.raises(ValidationFailed):
        await reward_create(actor=await actor_named("hr"), name="负数", cost=-5)


async def test_concurrent_redemptions_never_overdraw() -> None:
    zhang = await earn("zhang", 150)
    remote_day = await reward()
    actor = await actor_named("zhang")
    results = await asyncio.gather(
        *(redemption_request(actor=actor, reward_id=remote_day) for _ in range(4)), return_exceptions=True
    )
    assert sum(isinstance(result, int) for result in results) == 1
    assert all(isinstance(result, int | Conflict) for result in results)
    assert await balance(zhang) == 50
    # the last unit of stock, wanted by two people at once
    await earn("wang", 150)
    last = await reward("咖啡券", 10, stock=1)
    people = [actor, await actor_named("wang")]
    results = await asyncio.gather(
        *(redemption_request(actor=person, reward_id=last) for person in people), return_exceptions=True
    )
    assert sum(isinstance(result, int) for result in results) == 1


async def test_redeem_and_approve_over_the_api(client: AppClient) -> None:
    await earn("zhang", 150)
    await login(client, "hr")
    created = await client.post(
        "/api/v1/points/rewards", json={"name": "一天远程办公", "cost": 100, "stock": 5}
    )
    assert created.status_code == 201, created.text
    await login(client, "zhang")
    redeemed = await client.post(f"/api/v1/points/rewards/{created.json()['id']}/redeem")
    assert redeemed.status_code == 201
    assert (await client.get("/api/v1/points/me")).json()["balance"] == 50
    again = await client.post(f"/api/v1/points/rewards/{created.json()['id']}/redeem")
    assert again.status_code == 409 and again.json()["error"]["code"] == "points_balance_insufficient"
    redemption = redeemed.json()["id"]
    assert (await client.post(f"/api/v1/points/redemptions/{redemption}/approve")).status_code == 403
    await login(client, "manager")
    assert (await client.post(f"/api/v1/points/redemptions/{redemption}/approve")).status_code == 204
    assert (await client.post(f"/api/v1/points/redemptions/{redemption}/fulfil")).status_code == 403
    await login(client, "hr")
    assert (await client.post(f"/api/v1/points/redemptions/{redemption}/fulfil")).status_code == 204
