"""Standings on SQLite and PostgreSQL: department and organisation leaderboards (ties, paging, my row
wherever I stand), 匿名 for people who ask, department completion rates, my ranks in /me, and the
`points.credited` event of real earnings only."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace

import pytest

from backend.events.tables import OutboxEvent
from backend.lib.db import write_transaction
from backend.lib.errors import NotFound, ValidationFailed
from backend.org.tables import EMPLOYEE_ACTIVE, EMPLOYEE_DEPARTED, Department, Employee
from backend.points.awards import entry_reverse
from backend.points.facts import org_today
from backend.points.ledger import EVENT_POINTS_CREDITED, ledger_award, year_totals_rebuild
from backend.points.redemptions import redemption_decide, redemption_request, reward_create
from backend.points.rulebook import RuleTerms, rule_create
from backend.points.rules import CATEGORIES
from backend.points.selectors import points_me
from backend.points.standings import department_rates, leaderboard, privacy_get, privacy_set
from backend.points.tables import LedgerEntry, PointYearTotal
from backend.points.targets import target_set
from tests.api.test_points_targets import employee_id_of, grant, id_of, subtree_people
from tests.conftest import AppClient, login
from tests.ui.harness import actor_named

pytestmark = pytest.mark.usefixtures("backend_name", "points_clean")


async def colleague_of_zhang() -> int:
    zhang = await employee_id_of("zhang")
    east = await id_of(Department, "华东大区")
    row = (
        await Employee.select(Employee.id)
        .where((Employee.department == east) & (Employee.id != zhang) & (Employee.status == EMPLOYEE_ACTIVE))
        .order_by(Employee.id)
        .first()
    )
    assert row is not None
    return int(row["id"])


async def test_the_department_board_ranks_my_department_with_shared_ranks() -> None:
    zhang, colleague = await employee_id_of("zhang"), await colleague_of_zhang()
    await grant(colleague, "course", 30)
    await grant(zhang, "exam", 20)
    board = await leaderboard(actor=await actor_named("zhang"))
    east = await Employee.count().where(
        (Employee.department == await id_of(Department, "华东大区")) & (Employee.status == EMPLOYEE_ACTIVE)
    )
    assert (board.board, board.year, board.people, board.page, board.pages) == (
        "department",
        org_today().year,
        east,
        1,
        1,
    )
    assert (board.my_rank, board.my_total) == (2, 20)
    assert [(row.rank, row.total, row.me) for row in board.entries[:2]] == [(1, 30, False), (2, 20, True)]
    assert all((row.rank, row.total) == (3, 0) for row in board.entries[2:])  # ties share a rank
    assert {row.department for row in board.entries} == {"华东大区"}
    with pytest.raises(ValidationFailed):
        await leaderboard(actor=await actor_named("zhang"), board="company")
    admin_only = replace(await actor_named("hr"), employee_id=None)  # an account without an employee record
    with pytest.raises(NotFound):
        await leaderboard(actor=admin_only)
    assert (await leaderboard(actor=admin_only, board="organisation")).my_rank is None


async def test_the_organisation_board_pages_and_always_shows_where_i_stand() -> None:
    wang = await employee_id_of("wang")
    active = await Employee.count().where(Employee.status == EMPLOYEE_ACTIVE)
    people = sorted(await subtree_people("示例集团") - {wang})[:21]
    for index, employee_id in enumerate(people):
        await grant(employee_id, "other", 100 + index)
    second = await leaderboard(actor=await actor_named("wang"), board="organisation", page=2)
    assert (second.people, second.pages, second.page) == (active, -(-active // 20), 2)
    assert second.my_rank == 22 and second.my_total == 0  # everyone without points shares rank 22
    assert second.entries[0].rank == 21 and second.entries[0].total == 100
    assert all(row.rank == 22 for row in second.entries[1:])
    assert sum(row.me for row in second.entries) <= 1
    first = await leaderboard(actor=await actor_named("wang"), board="organisation")
    assert [row.total for row in first.entries] == list(range(120, 100, -1))
    assert not any(row.me for row in first.entries) and first.my_rank == 22
    beyond = await leaderboard(actor=await actor_named("wang"), board="organisation", page=500)
    assert (beyond.entries, beyond.people, beyond.my_rank) == ([], active, 22)


async def test_anonymous_people_show_as_anonymous_to_everyone_else() -> None:
    zhang, colleague = await employee_id_of("zhang"), await colleague_of_zhang()
    await grant(colleague, "course", 30)
    await grant(zhang, "course", 10)
    colleague_account = await Employee.select(Employee.name).where(Employee.id == colleague).first()
    assert colleague_account is not None
    colleague_actor = replace(await actor_named("zhang"), employee_id=colleague, department_id=None)
    assert await privacy_get(actor=colleague_actor) is False
    await privacy_set(actor=colleague_actor, anonymous=True)
    await privacy_set(actor=colleague_actor, anonymous=True)  # again: still one profile
    assert await privacy_get(actor=colleague_actor) is True
    seen = (await leaderboard(actor=await actor_named("zhang"))).entries[0]
    assert (seen.name, seen.department, seen.anonymous, seen.total, seen.rank) == ("匿名", None, True, 30, 1)
    english = (
        await leaderboard(actor=await actor_named("zhang"), board="organisation", locale="en")
    ).entries[0]
    assert (english.name, english.anonymous) == ("Anonymous", True)
    own = (await leaderboard(actor=colleague_actor)).entries[0]
    assert (own.name, own.me, own.anonymous) == (colleague_account["name"], True, True)
    assert (await points_me(actor=colleague_actor)).anonymous is True
    await privacy_set(actor=colleague_actor, anonymous=False)
    again = (await leaderboard(actor=await actor_named("zhang"))).entries[0]
    assert (again.name, again.anonymous) == (colleague_account["name"], False)


async def test_my_points_give_my_ranks_in_department_and_organisation() -> None:
    zhang, colleague = await employee_id_of("zhang"), await colleague_of_zhang()
    await grant(colleague, "course", 30)
    await grant(await employee_id_of("wang"), "course", 50)
    await grant(zhang, "course", 10)
    me = await points_me(actor=await actor_named("zhang"))
    assert (me.rank_in_department, me.rank_in_organisation, me.anonymous) == (2, 3, False)


async def test_department_rates_count_people_with_a_target_who_reached_it() -> None:
    hr, year = await actor_named("hr"), org_today().year
    await target_set(actor=hr, year=year, total=10, mix={}, department_id=await id_of(Department, "华东大区"))
    await grant(await employee_id_of("zhang"), "course", 10)
    await grant(await employee_id_of("wang"), "course", 99)  # no target: not counted as reached
    rates = {rate.department.name: rate for rate in await department_rates(actor=await actor_named("wang"))}
    assert set(rates) == {"销售部", "生产部", "研发部", "客服部", "人力资源部", "财务部"}
    sales, east = rates["销售部"], len(await subtree_people("华东大区"))
    assert (sales.people, sales.with_target, sales.reached) == (len(await subtree_people("销售部")), east, 1)
    assert sales.rate_percent == 100 // east
    assert (rates["研发部"].with_target, rates["研发部"].reached, rates["研发部"].rate_percent) == (0, 0, 0)
    assert sum(rate.people for rate in rates.values()) == len(await subtree_people("示例集团"))
    assert [rate.reached for rate in await department_rates(actor=hr, year=year - 1)] == [0] * 6


async def test_real_earnings_and_only_they_record_points_credited() -> None:
    zhang = await employee_id_of("zhang")
    await rule_create(
        actor=await actor_named("hr"),
        kind="bonus_credit",
        terms=RuleTerms(points=150, category="sharing", effective_from=dt.date(2000, 1, 1)),
    )
    now = dt.datetime.now(dt.UTC)
    entry = await ledger_award(employee_id=zhang, kind="bonus_credit", source_key="bonus:1", occurred_at=now)
    assert (
        await ledger_award(employee_id=zhang, kind="bonus_credit", source_key="bonus:1", occurred_at=now)
        is None
    )
    remote_day = await reward_create(actor=await actor_named("hr"), name="一天远程办公", cost=100)
    redemption = await redemption_request(actor=await actor_named("zhang"), reward_id=remote_day)
    await redemption_decide(actor=await actor_named("hr"), redemption_id=redemption, approve=False)
    assert entry is not None
    await entry_reverse(actor=await actor_named("hr"), entry_id=entry, reason="重复登记")
    credited = await OutboxEvent.select(OutboxEvent.payload).where(OutboxEvent.kind == EVENT_POINTS_CREDITED)
    payloads = [
        json.loads(row["payload"]) if isinstance(row["payload"], str) else row["payload"] for row in credited
    ]
    assert payloads == [
        {
            "employee_id": zhang,
            "entry_id": entry,
            "points": 150,
            "kind": "bonus_credit",
            "category": "sharing",
        }
    ]


async def test_standings_routes(client: AppClient) -> None:
    await grant(await employee_id_of("zhang"), "course", 10)
    await login(client, "zhang")
    board = await client.get("/api/v1/points/leaderboard?board=organisation")
    assert board.status_code == 200 and board.json()["my_rank"] == 1
    assert (await client.get("/api/v1/points/leaderboard?board=company")).status_code == 422
    assert (await client.get("/api/v1/points/leaderboard")).json()["board"] == "department"
    departments = await client.get(f"/api/v1/points/departments?year={org_today().year}")
    assert departments.status_code == 200 and len(departments.json()) == 6
    changed = await client.put("/api/v1/points/privacy", json={"anonymous": True})
    assert changed.status_code == 200 and changed.json() == {"anonymous": True}
    assert (await client.get("/api/v1/points/privacy")).json() == {"anonymous": True}
    assert (await client.put("/api/v1/points/privacy", json={"anonymous": "yes"})).status_code == 400
    me = (await client.get("/api/v1/points/me")).json()
    assert (me["anonymous"], me["rank_in_organisation"]) == (True, 1)
    await login(client, "wang")
    english = await client.get(
        "/api/v1/points/leaderboard?board=organisation", headers={"Accept-Language": "en"}
    )
    assert english.json()["entries"][0]["name"] == "Anonymous"


async def _year_totals() -> dict[tuple[int, int], dict[str, int]]:
    rows = await PointYearTotal.select().where(PointYearTotal.total != 0)
    columns = ("total", *CATEGORIES)
    return {(row["employee"], row["year"]): {c: row[c] for c in columns if row[c]} for row in rows}


async def test_yearly_totals_follow_the_ledger_and_rebuild_the_same() -> None:
    zhang, wang = await employee_id_of("zhang"), await employee_id_of("wang")
    hr = await actor_named("hr")
    await rule_create(
        actor=hr,
        kind="bonus_mix",
        terms=RuleTerms(points=40, category="mentoring", effective_from=dt.date(2000, 1, 1)),
    )
    year = org_today().year
    new_year_eve = dt.datetime(year - 1, 12, 31, 17, tzinfo=dt.UTC)  # already 1 January in Shanghai
    moments = {"a": dt.datetime.now(dt.UTC), "b": new_year_eve, "c": new_year_eve - dt.timedelta(hours=2)}
    entries = {
        key: await ledger_award(
            employee_id=zhang, kind="bonus_mix", source_key=f"mix:{key}", occurred_at=moment
        )
        for key, moment in moments.items()
    }
    await grant(wang, "exam", 25)
    await grant(wang, "other", 5)
    entry = entries["a"]
    assert entry is not None
    await entry_reverse(actor=hr, entry_id=entry, reason="登记错了")
    coffee = await reward_create(actor=hr, name="咖啡券", cost=30)
    await redemption_request(actor=await actor_named("wang"), reward_id=coffee)  # spending: not a total
    expected = {
        (zhang, year): {"total": 40, "mentoring": 40},  # a (reversed: 0) and b
        (zhang, year - 1): {"total": 40, "mentoring": 40},  # c
        (wang, year): {"total": 30, "exam": 25, "other": 5},
    }
    assert await _year_totals() == expected
    assert await year_totals_rebuild() == 3
    assert await _year_totals() == expected
    # inside a caller's transaction that fails, the totals roll back with the entry
    with pytest.raises(RuntimeError):
        async with write_transaction(LedgerEntry):
            await grant(wang, "exam", 7)
            raise RuntimeError("the source's transaction fails")
    assert await _year_totals() == expected


async def test_every_page_of_the_organisation_board_matches_a_full_ranking() -> None:
    people = sorted(await subtree_people("示例集团"))
    points = {people[0]: 50, people[1]: 30, people[2]: 50, people[3]: 10, people[4]: 30, people[5]: 70}
    for employee_id, total in points.items():
        await grant(employee_id, "other", total)
    await Employee.update({Employee.status: EMPLOYEE_DEPARTED}).where(Employee.id == people[5])
    names = {row["id"]: row["name"] for row in await Employee.select(Employee.id, Employee.name)}
    active = [employee_id for employee_id in people if employee_id != people[5]]
    order = sorted(active, key=lambda e: (-points.get(e, 0), e))
    expected = [
        (1 + sum(points.get(other, 0) > points.get(e, 0) for other in active), points.get(e, 0), names[e])
        for e in order
    ]
    seen: list[tuple[int, int, str]] = []
    page = 1
    while True:
        board = await leaderboard(actor=await actor_named("wang"), board="organisation", page=page)
        seen += [(row.rank, row.total, row.name) for row in board.entries]
        if page >= board.pages:
            break
        page += 1
    assert seen == expected and board.people == len(active)
    # ties share a rank; the departed person's 70 points rank nobody
    assert [(rank, total) for rank, total, _name in expected[:6]] == [
        (1, 50),
        (1, 50),
        (3, 30),
        (3, 30),
        (5, 10),
        (6, 0),
    ]
