"""The employee points pages on SQLite and PostgreSQL: my points (balance, ranks, target ring and
category bars, ledger pages), rewards (confirmation, refusals, my redemptions) and the leaderboard
(tabs, 匿名, my anonymity switch, department completion rates).

Each test makes its own small team (积分测试组 under 华东大区, so 李强 manages it) with accounts, and
its own rules, targets and rewards through the services, so whatever points the demo seeds for its
people never changes what these pages must show.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest

from backend.accounts.tables import Account
from backend.lib.policy import Actor
from backend.org.services import department_create, employee_create
from backend.org.tables import Department, JobLevel
from backend.points.catalogue import redemptions_mine, reward_list
from backend.points.demo import points_demo_seed
from backend.points.facts import org_today
from backend.points.ledger import ledger_award
from backend.points.redemptions import redemption_decide, redemption_request, reward_create
from backend.points.rulebook import RuleTerms, rule_create
from backend.points.selectors import points_me
from backend.points.standings import department_rates, privacy_get, privacy_set
from backend.points.tables import PointTarget, Redemption, Reward
from backend.points.targets import target_set
from tests.ui.harness import Node, Page, _text, _walk, actor_named, rendered_page

pytestmark = pytest.mark.usefixtures("backend_name", "demo")

CREDIT_MIX = {"course": 40, "exam": 30, "sharing": 20, "mentoring": 10}
_kinds = itertools.count(1)


# --- set-up through the services ------------------------------------------------------------------
async def _department_id(name: str) -> int:
    row = await Department.select(Department.id).where(Department.name == name).first()
    assert row is not None, name
    return int(row["id"])


async def team(*names: str, group: str = "积分测试组") -> tuple[int, list[Actor]]:
    """A new department under 华东大区 with these people (P1 初级), each with an account."""
    hr = await actor_named("hr")
    department = await department_create(actor=hr, name=group, parent_id=await _department_id("华东大区"))
    level = await JobLevel.select(JobLevel.id).where(JobLevel.name == "P1 初级").first()
    assert level is not None
    people = []
    for index, name in enumerate(names):
        username = f"pt{department}x{index}"
        await employee_create(
            actor=hr,
            employee_no=f"PT{department}X{index}",
            name=name,
            department_id=department,
            level_id=int(level["id"]),
            username=username,
            password="points-test-password",
        )
        people.append(await actor_named(username))
    return department, people


async def grant(person: Actor, points: int, *, category: str = "course", times: int = 1) -> None:
    """Award `points` (`times` over) through a rule of its own (a custom kind, 自定义活动)."""
    assert person.employee_id is not None
    kind = f"ui_bonus_{next(_kinds)}"
    await rule_create(
        actor=await actor_named("hr"),
        kind=kind,
        terms=RuleTerms(points=points, category=category, effective_from=dt.date(2000, 1, 1)),
    )
    for index in range(times):
        await ledger_award(
            employee_id=person.employee_id,
            kind=kind,
            source_key=f"{kind}:{index}",
            occurred_at=dt.datetime.now(dt.UTC),
        )


async def reward(name: str, cost: int, **fields: Any) -> int:
    return await reward_create(actor=await actor_named("hr"), name=name, cost=cost, **fields)


# --- queries --------------------------------------------------------------------------------------
def _attr(node: Node, name: str) -> Any:
    return node.get("attributes", {}).get(name)


def _class_has(node: Node, name: str) -> bool:
    return name in str(_attr(node, "className") or "").split()


def _by_class(page: Page, name: str) -> list[Node]:
    return page.all(lambda n: _class_has(n, name))


def _inside(node: Node, name: str) -> list[Node]:
    return [n for n in _walk(node) if _class_has(n, name)]


def _dialogs(page: Page) -> list[Node]:
    return page.all(lambda n: _attr(n, "role") == "dialog")


def _alerts(page: Page) -> list[str]:
    return [_text(n) for n in page.all(lambda n: _attr(n, "role") == "alert")]


def _statuses(page: Page) -> list[str]:
    return [_text(n) for n in page.all(lambda n: _attr(n, "role") == "status")]


def _bar_rows(page: Page) -> dict[str, str]:
    """Category name → the rest of its row's words."""
    rows = {}
    for row in _by_class(page, "pt-bar-row"):
        name = _text(_inside(row, "pt-bar-name")[0])
        rows[name] = _text(row)[len(name) :]
    return rows


def _board_names(page: Page) -> list[str]:
    return [_text(_inside(row, "list-cell-title")[0]) for row in _by_class(page, "pt-board-row")]


# --- the demo -------------------------------------------------------------------------------------
async def test_with_the_demo_points_zhang_sees_her_standing_and_can_afford_coffee(settings: Any) -> None:
    await points_demo_seed()  # idempotent: whether or not demo_seed ran it already
    zhang = await actor_named("zhang")
    me = await points_me(actor=zhang)
    async with rendered_page("/points", settings=settings, actor=zhang) as page:
        assert f"可用积分{me.balance} 分" in page.text
        assert len(_by_class(page, "pt-entry")) > 0
    coffee = next(item for item in await reward_list(actor=zhang) if item.name == "咖啡券")
    async with rendered_page("/points/rewards", settings=settings, actor=zhang) as page:
        assert _attr(page.button(f"兑换 咖啡券（{coffee.cost} 分）"), "disabled") is False
    async with rendered_page("/points/leaderboard", settings=settings, actor=zhang) as page:
        assert "张丽华（我）" in _board_names(page)
        assert "%" in _text(page.one(lambda n: _attr(n, "aria-label") == "各部门目标达标率", "rates"))


# --- /points --------------------------------------------------------------------------------------
async def test_my_points_show_balance_ranks_the_target_ring_and_what_is_missing(settings: Any) -> None:
    department, (zhou, wu) = await team("周一", "吴二")
    await target_set(
        actor=await actor_named("hr"),
        year=org_today().year,
        total=100,
        mix=CREDIT_MIX,
        department_id=department,
    )
    await grant(zhou, 16, category="course")
    await grant(zhou, 12, category="exam")
    await grant(wu, 5)

    async with rendered_page("/points", settings=settings, actor=zhou) as page:
        summary = page.one(lambda n: _attr(n, "aria-label") == "积分概览", "summary")
        assert "可用积分28 分" in _text(summary)
        stats = [_text(n) for n in _inside(summary, "pt-stat")]
        assert stats[0] == f"28 分{org_today().year} 年累计获得"
        assert stats[1] == "第 1 名部门排名"

        ring = page.one(lambda n: n.get("tagName") == "svg" and _attr(n, "role") == "img", "ring")
        assert _attr(ring, "aria-labelledby") == "pt-ring-title pt-ring-desc"
        assert _text(page.by_id("pt-ring-title")) == "年度目标完成 28%"
        description = _text(page.by_id("pt-ring-desc"))
        assert description.startswith("已计入目标 28 分，目标 100 分，完成 28%；还差 72 分；按时间进度应完成")
        assert "还差 72 分完成年度目标 100 分" in page.text
        assert "按时间进度此时应完成" in page.text

        bars = _bar_rows(page)
        assert bars["课程"] == "16 / 40 分还差 24 分"
        assert bars["考试"] == "12 / 30 分还差 18 分"
        assert bars["分享"] == "0 / 20 分还差 20 分"
        assert bars["带教"] == "0 / 10 分还差 10 分"

        entries = _by_class(page, "pt-entry")
        assert [_text(_inside(e, "list-cell-title")[0]) for e in entries] == ["自定义活动", "自定义活动"]
        amounts = [_text(_inside(e, "pt-amount")[0]) for e in entries]
        assert amounts == ["+12获得 12 分", "+16获得 16 分"]  # newest first; words for screen readers
        assert "考试 · " in _text(entries[0])
        links = set(page.links().values())
        assert {"/points/rewards", "/points/leaderboard"} <= links

    async with rendered_page("/points", settings=settings, actor=wu) as page:
        assert "第 2 名部门排名" in [_text(n) for n in _by_class(page, "pt-stat")]


async def test_without_a_target_or_points_the_page_says_so(settings: Any) -> None:
    await PointTarget.delete(force=True)  # the demo's targets
    _department, (newcomer,) = await team("郑新")
    async with rendered_page("/points", settings=settings, actor=newcomer) as page:
        assert f"{org_today().year} 年没有为你设定积分目标" in page.text
        assert "今年还没有获得积分。" in page.text
        assert "还没有积分记录" in page.text
        ranks = [_text(n) for n in _by_class(page, "pt-stat")][1:]
        assert ranks == ["暂无部门排名", "暂无全公司排名"]  # nothing earned, nothing to rank
        assert page.all(lambda n: n.get("tagName") == "svg" and _attr(n, "role") == "img") == []


async def test_an_account_without_an_employee_record_has_no_points(settings: Any) -> None:
    rows = await Account.insert(Account(username="pt-admin", password_hash="x", employee=None)).returning(
        Account.id
    )
    from backend.accounts.selectors import actor_for_account

    actor = await actor_for_account(int(rows[0]["id"]))
    assert actor is not None
    for path in ("/points", "/points/rewards"):
        async with rendered_page(path, settings=settings, actor=actor) as page:
            assert "这个账号没有个人积分" in page.text, path


async def test_the_ledger_pages_through_links(settings: Any) -> None:
    _department, (zhou,) = await team("周一")
    await grant(zhou, 1, times=21)
    async with rendered_page("/points", settings=settings, actor=zhou) as page:
        assert len(_by_class(page, "pt-entry")) == 20
        assert page.links()["下一页"] == "/points?page=2"
        assert "第 1 / 2 页 · 共 21 条" in page.text
    async with rendered_page("/points", settings=settings, actor=zhou, query_string="page=2") as page:
        assert len(_by_class(page, "pt-entry")) == 1
        assert page.links()["上一页"] == "/points?page=1"
    async with rendered_page("/points", settings=settings, actor=zhou, query_string="page=9") as page:
        assert "这一页没有记录" in page.text and page.links()["回到第一页"] == "/points"


# --- /points/rewards ------------------------------------------------------------------------------
async def test_redeeming_asks_first_then_holds_the_points_and_follows_the_decision(settings: Any) -> None:
    _department, (zhou,) = await team("周一")
    await grant(zhou, 50)
    coffee = await reward("UI 咖啡券", 20, stock=5, per_person_limit=2, description="楼下咖啡店通用")
    redeem = "兑换 UI 咖啡券（20 分）"

    async with rendered_page("/points/rewards", settings=settings, actor=zhou) as page:
        card = page.one(
            lambda n: n.get("tagName") == "li" and _class_has(n, "pt-reward") and "UI 咖啡券" in _text(n)
        )
        assert "20 分" in _text(card) and "楼下咖啡店通用" in _text(card)
        assert "剩余 5 件 · 每人限 2 次，已兑换 0 次" in _text(card)
        assert _attr(page.button(redeem), "disabled") is False

        await page.click(redeem)  # first it asks
        (dialog,) = _dialogs(page)
        assert _attr(dialog, "aria-modal") == "true"
        assert _text(page.by_id(_attr(dialog, "aria-labelledby"))) == "兑换「UI 咖啡券」？"
        assert "兑换后可用积分：30 分" in _text(page.by_id(_attr(dialog, "aria-describedby")))
        await page.click("取消")
        assert _dialogs(page) == []
        assert await Redemption.count().where(Redemption.reward == coffee) == 0

        await page.click(redeem)
        await page.click("确认兑换")
        await page.settle()
        assert _dialogs(page) == []
        assert "已提交兑换「UI 咖啡券」，冻结 20 分，等待审批" in _statuses(page)
        assert "可用积分30 分" in page.text
        assert "剩余 4 件 · 每人限 2 次，已兑换 1 次" in page.text
        mine = page.one(lambda n: _attr(n, "aria-label") == "我的兑换" and n.get("tagName") == "ul")
        assert "UI 咖啡券" in _text(mine) and "待审批" in _text(mine) and "−20" in _text(mine)

    (pending,) = [
        row["id"] for row in await Redemption.select(Redemption.id).where(Redemption.reward == coffee)
    ]
    await redemption_decide(actor=await actor_named("manager"), redemption_id=pending, approve=True)
    second = await redemption_request(actor=zhou, reward_id=coffee)
    await redemption_decide(
        actor=await actor_named("hr"), redemption_id=second, approve=False, note="本月名额已满"
    )

    async with rendered_page("/points/rewards", settings=settings, actor=zhou) as page:
        rows = _by_class(page, "pt-redemption")
        rejected, approved = _text(rows[0]), _text(rows[1])  # newest first
        assert "已拒绝" in rejected and "刘芳" in rejected and "说明：本月名额已满" in rejected
        assert "已退回 20 分" in rejected
        assert "已批准" in approved and "李强" in approved and "批准" in approved
        assert "可用积分30 分" in page.text  # the rejected one's points came back


async def test_a_reward_i_cannot_redeem_says_why(settings: Any) -> None:
    _department, (zhou,) = await team("周一")
    wang = await actor_named("wang")
    await grant(zhou, 30)
    await grant(wang, 30)
    await reward("UI 贵的奖励", 100)
    await reward("UI 研发专属", 5, eligible_department_ids=[await _department_id("研发部")])
    only_one = await reward("UI 限量一件", 5, stock=1)
    await redemption_request(actor=wang, reward_id=only_one)
    once = await reward("UI 每人一次", 5, per_person_limit=1)
    await redemption_request(actor=zhou, reward_id=once)

    async with rendered_page("/points/rewards", settings=settings, actor=zhou) as page:
        expected = {
            "UI 贵的奖励": "积分不足，还差 75 分",  # 30 earned, 5 held by 每人一次
            "UI 研发专属": "你所在的部门或职级不能兑换这个奖励",
            "UI 限量一件": "这个奖励已经兑完了",
            "UI 每人一次": "每人最多兑换 1 次，你已用完",
        }
        for name, reason in expected.items():
            button = page.button(f"兑换 {name}（{100 if name == 'UI 贵的奖励' else 5} 分）")
            assert _attr(button, "disabled") is True, name
            assert _text(page.by_id(_attr(button, "aria-describedby"))) == reason, name


async def test_when_the_last_one_goes_meanwhile_the_dialog_shows_the_refusal(settings: Any) -> None:
    _department, (zhou,) = await team("周一")
    wang = await actor_named("wang")
    await grant(zhou, 30)
    await grant(wang, 30)
    last = await reward("UI 最后一件", 5, stock=1)
    async with rendered_page("/points/rewards", settings=settings, actor=zhou) as page:
        await page.click("兑换 UI 最后一件（5 分）")
        await redemption_request(actor=wang, reward_id=last)  # someone else was quicker
        await page.click("确认兑换")
        assert _alerts(page) == ["这个奖励已经兑完了"]
        assert _attr(page.button("确认兑换"), "disabled") is True
        await page.click("关闭")
        assert _dialogs(page) == []
    assert await Redemption.count().where(Redemption.employee == zhou.employee_id) == 0


async def test_empty_catalogue_and_my_redemptions_page(settings: Any) -> None:
    await Reward.update({Reward.active: False}, force=True)
    _department, (zhou,) = await team("周一")
    async with rendered_page("/points/rewards", settings=settings, actor=zhou) as page:
        assert "暂时没有可兑换的奖励" in page.text
        assert "还没有兑换记录" in page.text

    await grant(zhou, 100)
    cheap = await reward("UI 一分券", 1)
    page_size = (await redemptions_mine(actor=zhou)).page_size
    for _ in range(page_size + 1):
        await redemption_request(actor=zhou, reward_id=cheap)
    async with rendered_page("/points/rewards", settings=settings, actor=zhou) as page:
        assert len(_by_class(page, "pt-redemption")) == page_size
        assert page.links()["下一页"] == "/points/rewards?page=2"
    async with rendered_page("/points/rewards", settings=settings, actor=zhou, query_string="page=2") as page:
        assert len(_by_class(page, "pt-redemption")) == 1


# --- /points/leaderboard --------------------------------------------------------------------------
async def test_the_department_board_marks_me_and_hides_anonymous_colleagues(settings: Any) -> None:
    _department, (zhou, wu, zheng) = await team("周一", "吴二", "郑三")
    await grant(zhou, 500, times=10)  # 5000: first on the organisation's board too
    await grant(wu, 20)
    await grant(zheng, 10)
    await privacy_set(actor=wu, anonymous=True)

    async with rendered_page("/points/leaderboard", settings=settings, actor=zhou) as page:
        tabs = page.one(lambda n: _attr(n, "aria-label") == "榜单", "board switch")
        current = [n for n in _walk(tabs) if _attr(n, "aria-current") == "page"]
        assert [_text(n) for n in current] == ["部门榜"]
        assert page.links()["全公司榜"] == "/points/leaderboard?board=organisation"
        standing = f"我的排名：第 1 名，共 3 人{org_today().year} 年累计 5000 分"
        assert standing in _statuses(page)
        assert _board_names(page) == ["周一（我）", "匿名", "郑三"]
        mine = page.one(lambda n: _attr(n, "aria-current") == "true", "my row")
        assert "5000 分" in _text(mine) and "第 1 名" in _text(mine)

    async with rendered_page("/points/leaderboard", settings=settings, actor=wu) as page:
        assert _board_names(page) == ["周一", "吴二（我）", "郑三"]  # I see my own name
        assert _attr(page.by_label("在排行榜上匿名显示"), "checked") is True

    async with rendered_page(
        "/points/leaderboard", settings=settings, actor=zhou, query_string="board=organisation"
    ) as page:
        names = _board_names(page)
        assert names[0] == "周一（我）" and "吴二" not in names
        tabs = page.one(lambda n: _attr(n, "aria-label") == "榜单", "board switch")
        assert [_text(n) for n in _walk(tabs) if _attr(n, "aria-current") == "page"] == ["全公司榜"]


async def test_my_anonymity_switch(settings: Any) -> None:
    _department, (zhou,) = await team("周一")
    await grant(zhou, 3)
    async with rendered_page("/points/leaderboard", settings=settings, actor=zhou) as page:
        switch = page.by_label("在排行榜上匿名显示")
        assert (_attr(switch, "role"), _attr(switch, "checked")) == ("switch", False)
        assert _text(page.by_id(_attr(switch, "aria-describedby"))).startswith(
            "开启后，同事在排行榜上看到的是"
        )
        await page.fire(switch, "onChange", {"target": {"checked": True}})
        await page.settle()
        assert await privacy_get(actor=zhou) is True
        assert "已开启匿名：同事在排行榜上看不到你的名字" in _statuses(page)
        assert _attr(page.by_label("在排行榜上匿名显示"), "aria-checked") == "true"
    async with rendered_page("/points", settings=settings, actor=zhou) as page:
        assert "你在排行榜上对同事显示为「匿名」。" in page.text


async def test_department_completion_rates(settings: Any) -> None:
    await PointTarget.delete(force=True)
    _department, (zhou,) = await team("周一")
    async with rendered_page("/points/leaderboard", settings=settings, actor=zhou) as page:
        assert "还没有部门设定年度目标" in page.text
        assert "你今年还没有积分，暂不排名" in _statuses(page)[0]

    department, (zhou2, wu) = await team("周二", "吴二", group="积分测试二组")
    await target_set(
        actor=await actor_named("hr"), year=org_today().year, total=20, mix={}, department_id=department
    )
    await grant(zhou2, 25)
    await grant(wu, 5)
    sales = next(rate for rate in await department_rates(actor=zhou2) if rate.department.name == "销售部")
    assert sales.with_target == 2 and sales.reached == 1
    async with rendered_page("/points/leaderboard", settings=settings, actor=zhou2) as page:
        rates = page.one(lambda n: n.get("tagName") == "ul" and _attr(n, "aria-label") == "各部门目标达标率")
        row = next(n for n in _walk(rates) if n.get("tagName") == "li" and "销售部" in _text(n))
        assert f"{sales.rate_percent}%" in _text(row)
        assert f"达标 1 / 2 人（部门共 {sales.people} 人）" in _text(row)


async def test_the_pages_speak_english(settings: Any) -> None:
    await PointTarget.delete(force=True)
    _department, (zhou,) = await team("周一")
    await grant(zhou, 7)
    english = {"settings": settings, "actor": zhou, "accept_language": "en-US,en;q=0.9"}
    async with rendered_page("/points", **english) as page:
        assert "Available points" in page.text and "7 pts" in page.text
        assert f"No points target set for you in {org_today().year}" in page.text
    async with rendered_page("/points/rewards", **english) as page:
        assert "My redemptions" in page.text and "No redemptions yet" in page.text
    async with rendered_page("/points/leaderboard", **english) as page:
        assert "My rank: No. 1 of 1" in page.text
        assert page.by_label("Show me as anonymous on leaderboards")["attributes"]["role"] == "switch"
