"""The reward catalogue and redemption lists on SQLite and PostgreSQL: stock left, my count and
eligibility; HR's changes; my redemptions; what a manager may decide (their team only, never their
own) and what HR sees."""

from __future__ import annotations

import pytest

from backend.lib.errors import NotFound, PermissionDenied, ValidationFailed
from backend.org.tables import Department, JobLevel
from backend.points.catalogue import redemptions_for_decision, redemptions_mine, reward_list, reward_update
from backend.points.redemptions import redemption_decide, redemption_request, reward_create
from tests.api.test_points_targets import employee_id_of, grant, id_of
from tests.conftest import AppClient, login
from tests.ui.harness import actor_named

pytestmark = pytest.mark.usefixtures("backend_name", "points_clean")


async def reward(name: str, cost: int = 10, **fields: object) -> int:
    return await reward_create(actor=await actor_named("hr"), name=name, cost=cost, **fields)  # type: ignore[arg-type]


async def test_the_catalogue_shows_stock_left_my_count_and_eligibility() -> None:
    await grant(await employee_id_of("zhang"), "course", 100)
    await grant(await employee_id_of("wang"), "course", 100)
    coffee = await reward("咖啡券", 10, stock=3, per_person_limit=2)
    managers_only = await reward("导师资格", 50, eligible_level_ids=[await id_of(JobLevel, "M2 经理")])
    sales_only = await reward("优先选择项目", 20, eligible_department_ids=[await id_of(Department, "销售部")])
    zhang, wang = await actor_named("zhang"), await actor_named("wang")
    await redemption_request(actor=zhang, reward_id=coffee)
    rejected = await redemption_request(actor=wang, reward_id=coffee)
    await redemption_decide(actor=await actor_named("hr"), redemption_id=rejected, approve=False)
    await redemption_request(actor=wang, reward_id=coffee)
    items = {item.id: item for item in await reward_list(actor=zhang)}
    assert list(items) == [coffee, managers_only, sales_only]
    assert (items[coffee].stock_left, items[coffee].my_count, items[coffee].per_person_limit) == (1, 1, 2)
    assert (items[managers_only].eligible, items[sales_only].eligible, items[coffee].eligible) == (
        False,
        True,
        True,
    )
    assert items[managers_only].stock_left is None and items[managers_only].eligible_level_ids == [
        await id_of(JobLevel, "M2 经理")
    ]
    wang_view = {item.id: item for item in await reward_list(actor=wang)}
    assert (wang_view[sales_only].eligible, wang_view[coffee].my_count) == (
        False,
        1,
    )  # the rejected one is back
    manager_view = {item.id: item for item in await reward_list(actor=await actor_named("manager"))}
    assert manager_view[managers_only].eligible and manager_view[coffee].my_count == 0


async def test_hr_changes_and_deactivates_rewards() -> None:
    hr = await actor_named("hr")
    coffee = await reward("咖啡券", 10)
    await reward_update(
        actor=hr,
        reward_id=coffee,
        name=" 咖啡券（大杯） ",
        cost=15,
        description="楼下咖啡店",
        stock=5,
        per_person_limit=1,
        eligible_department_ids=[await id_of(Department, "研发部")],
    )
    [item] = await reward_list(actor=hr)
    assert (item.name, item.cost, item.description, item.stock_left, item.per_person_limit) == (
        "咖啡券（大杯）",
        15,
        "楼下咖啡店",
        5,
        1,
    )
    assert item.eligible is False  # HR is not in 研发部
    await reward_update(actor=hr, reward_id=coffee, name="咖啡券", cost=15, active=False)
    assert await reward_list(actor=await actor_named("zhang")) == []
    [hidden] = await reward_list(actor=hr, include_inactive=True)
    assert (hidden.active, hidden.stock_left, hidden.eligible_department_ids) == (False, None, [])
    with pytest.raises(NotFound):
        await redemption_request(actor=await actor_named("zhang"), reward_id=coffee)
    with pytest.raises(PermissionDenied):
        await reward_list(actor=await actor_named("zhang"), include_inactive=True)
    with pytest.raises(PermissionDenied):
        await reward_update(actor=await actor_named("manager"), reward_id=coffee, name="x", cost=1)
    with pytest.raises(NotFound):
        await reward_update(actor=hr, reward_id=999_999, name="x", cost=1)
    for fields, key in (
        ({"name": " "}, "error.points_too_long"),
        ({"cost": 0}, "error.points_out_of_range"),
        ({"stock": -1}, "error.points_out_of_range"),
        ({"eligible_department_ids": [999_999]}, "error.points_scope_unknown"),
    ):
        values: dict[str, object] = {"name": "咖啡券", "cost": 15, **fields}
        with pytest.raises(ValidationFailed) as refused:
            await reward_update(actor=hr, reward_id=coffee, **values)  # type: ignore[arg-type]
        assert refused.value.key == key


async def test_my_redemptions_newest_first() -> None:
    await grant(await employee_id_of("zhang"), "course", 100)
    zhang = await actor_named("zhang")
    first = await redemption_request(actor=zhang, reward_id=await reward("咖啡券", 10))
    second = await redemption_request(actor=zhang, reward_id=await reward("一天远程办公", 30))
    await redemption_decide(actor=await actor_named("manager"), redemption_id=first, approve=True, note="好")
    page = await redemptions_mine(actor=zhang)
    assert [(item.id, item.state, item.points) for item in page.items] == [
        (second, "pending", 30),
        (first, "approved", 10),
    ]
    approved = page.items[1]
    assert approved.decided_by is not None and approved.decided_by.name == "李强" and approved.note == "好"
    assert approved.department is not None and approved.department.name == "华东大区"
    assert not any(item.can_decide or item.can_fulfil for item in page.items)
    assert (await redemptions_mine(actor=await actor_named("wang"))).total == 0


async def test_a_manager_decides_for_their_team_only_and_never_for_themselves() -> None:
    for username in ("zhang", "wang", "manager", "hr"):
        await grant(await employee_id_of(username), "course", 100)
    coffee = await reward("咖啡券", 10)
    mine = {
        u: await redemption_request(actor=await actor_named(u), reward_id=coffee) for u in ("zhang", "wang")
    }
    mine["manager"] = await redemption_request(actor=await actor_named("manager"), reward_id=coffee)
    mine["hr"] = await redemption_request(actor=await actor_named("hr"), reward_id=coffee)
    manager = await actor_named("manager")
    queue = await redemptions_for_decision(actor=manager)
    assert [(item.id, item.can_decide) for item in queue.items] == [(mine["zhang"], True)]
    hr_queue = await redemptions_for_decision(actor=await actor_named("hr"))
    assert [(item.id, item.can_decide) for item in hr_queue.items] == [
        (mine["zhang"], True),
        (mine["wang"], True),
        (mine["manager"], True),
        (mine["hr"], False),  # one's own: listed for HR, but not to decide
    ]
    await redemption_decide(actor=manager, redemption_id=mine["zhang"], approve=True)
    assert (await redemptions_for_decision(actor=manager)).items == []
    approved = await redemptions_for_decision(actor=manager, states=("approved", "pending"))
    assert [(item.id, item.state, item.can_decide, item.can_fulfil) for item in approved.items] == [
        (mine["zhang"], "approved", False, False)
    ]
    to_fulfil = await redemptions_for_decision(actor=await actor_named("hr"), states=("approved",))
    assert [(item.id, item.can_fulfil) for item in to_fulfil.items] == [(mine["zhang"], True)]
    with pytest.raises(PermissionDenied):
        await redemptions_for_decision(actor=await actor_named("wang"))
    with pytest.raises(ValidationFailed):
        await redemptions_for_decision(actor=manager, states=("lost",))


async def test_catalogue_routes(client: AppClient) -> None:
    await grant(await employee_id_of("zhang"), "course", 100)
    coffee = await reward("咖啡券", 10, stock=2)
    await login(client, "zhang")
    listed = await client.get("/api/v1/points/rewards")
    assert listed.status_code == 200 and listed.json()[0]["stock_left"] == 2
    assert (await client.get("/api/v1/points/rewards?include_inactive=true")).status_code == 403
    assert (await client.post(f"/api/v1/points/rewards/{coffee}/redeem")).status_code == 201
    mine = (await client.get("/api/v1/points/redemptions")).json()
    assert [item["state"] for item in mine["items"]] == ["pending"] and mine["total"] == 1
    assert (await client.get("/api/v1/points/redemptions/decisions")).status_code == 403
    body = {"name": "咖啡券", "cost": 12, "stock": 3, "active": True}
    assert (await client.patch(f"/api/v1/points/rewards/{coffee}", json=body)).status_code == 403
    await login(client, "hr")
    assert (await client.patch(f"/api/v1/points/rewards/{coffee}", json=body)).status_code == 204
    assert (
        await client.patch(f"/api/v1/points/rewards/{coffee}", json={**body, "colour": "red"})
    ).status_code == 400
    await login(client, "manager")
    queue = (await client.get("/api/v1/points/redemptions/decisions?state=pending&state=approved")).json()
    assert [(item["employee"]["name"], item["can_decide"]) for item in queue["items"]] == [("张丽华", True)]
    assert (await client.get("/api/v1/points/redemptions/decisions?state=lost")).status_code == 422
    assert (await client.get("/api/v1/points/rewards")).json()[0]["stock_left"] == 2
