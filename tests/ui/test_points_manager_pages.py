"""Layout tests of the points pages beyond /admin/points, on SQLite and PostgreSQL over the demo
organisation and its points: annual targets, the reward catalogue and fulfilment, approvals (批准 /
拒绝 after confirming) and the team's progress, with the policy each keeps: a manager sees only their
team's people and redemptions; employees see no data."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from backend.org.tables import Department, Employee
from backend.points.catalogue import redemptions_for_decision, reward_list
from backend.points.ledger import balance, ledger_award
from backend.points.redemptions import redemption_decide, redemption_request, reward_create
from backend.points.tables import PointTarget, Redemption
from backend.points.targets import target_set, team_progress
from tests.ui.harness import actor_named, rendered_page
from tests.ui.test_points_admin_pages import (
    _article,
    _attr,
    _button_in,
    _cell,
    _choose,
    _error_under,
    _form,
    _level_id,
    _rule,
    _tab,
    _text,
    _within,
)

pytestmark = pytest.mark.usefixtures("backend_name", "demo")


# /admin/points/targets ---------------------------------------------------------------------------
async def test_hr_sets_a_target_with_a_mix_then_changes_and_deletes_it(settings: Any) -> None:
    hr = await actor_named("hr")
    year = dt.date.today().year + 1  # the demo set this year's
    targets = await PointTarget.count()
    async with rendered_page("/admin/points/targets", settings=settings, actor=hr) as page:
        assert "目标 100 分" in _text(_article(page, "M2 经理"))  # this year's, from the demo's 学分制
        await _choose(page, "年度", str(year))
        assert f"{year} 年还没有目标" in page.text
        await page.click(f"设置 {year} 年目标")
        await _choose(page, "职级", "M2 经理")
        await page.type("年度目标（分）", "0")
        await page.type("课程（%）", "50")
        await page.type("考试（%）", "30")
        assert _text(page.by_id("target-mix-status")) == "当前合计 80%"
        await page.submit(_form(page, "target-form-title"))
        assert _error_under(page, "target-total") == "请输入 1 到 100000 之间的数"
        await page.type("年度目标（分）", "120")
        await page.submit(_form(page, "target-form-title"))
        assert _text(page.by_id("target-mix-error")) == "各类别占比之和必须是 100%（现在是 80%）"
        await page.type("分享（%）", "20")
        await page.submit(_form(page, "target-form-title"))
        assert f"已保存 {year} 年目标：120 分" in page.text
        cell = _text(_article(page, "M2 经理"))
        assert "目标 120 分" in cell and "课程 50%、考试 30%、分享 20%" in cell
        await page.click("修改目标：M2 经理")
        assert _attr(page.by_label("年度目标（分）"), "value") == "120"
        await page.type("年度目标（分）", "150")
        await page.submit(_form(page, "target-form-title"))
        assert "目标 150 分" in _text(_article(page, "M2 经理")) and "共 1 个目标" in page.text
        assert await PointTarget.count() == targets + 1  # the same scope replaces
        await page.click("删除目标：M2 经理")
        assert "将改用更宽范围的目标" in page.text
        await page.click("确认删除")
        assert "已删除“M2 经理”的目标" in page.text and f"{year} 年还没有目标" in page.text
    assert await PointTarget.count() == targets


# /admin/points/rewards ---------------------------------------------------------------------------
async def test_hr_adds_changes_and_withdraws_a_reward(settings: Any) -> None:
    hr = await actor_named("hr")
    name = "体检升级"
    async with rendered_page("/admin/points/rewards", settings=settings, actor=hr) as page:
        assert "共 5 个奖励" in page.text and "一天远程办公" in page.text  # the demo's catalogue
        await page.click("新增奖励")
        await page.type("每人限兑次数", "0")
        await page.submit(_form(page, "reward-new-title"))
        assert _error_under(page, "reward-new-name") == "此项必填"
        assert _error_under(page, "reward-new-cost") == "此项必填"
        assert _error_under(page, "reward-new-per-person-limit") == "请输入 1 到 100000 之间的数"
        await page.type("名称", name)
        await page.type("所需积分", "30")
        await page.type("库存（总数）", "10")
        await page.type("每人限兑次数", "2")
        await page.fire(page.by_label("P3 高级"), "onChange", {"target": {"checked": True}})
        await page.submit(_form(page, "reward-new-title"))
        assert f"已新增奖励“{name}”" in page.text
        cell = _text(_article(page, name))
        assert "30 分 · 剩余 10 件 · 每人限 2 次" in cell and "可兑换：P3 高级" in cell
        await page.click(f"修改奖励：{name}")
        assert _attr(page.by_label("名称"), "value") == name
        await page.type("所需积分", "40")
        await page.submit(page.one(lambda n: n.get("tagName") == "form", "reward form"))
        assert f"已保存“{name}”" in page.text and "40 分" in _text(_article(page, name))
        await page.click(f"下架奖励：{name}")
        assert "员工将不能再兑换它" in page.text
        await page.click("确认下架")
        assert f"已下架“{name}”" in page.text and "已下架" in _text(_article(page, name))
        assert not [r for r in await reward_list(actor=hr) if r.name == name]  # out of the catalogue
        await page.click(f"重新上架：{name}")
        assert f"已重新上架“{name}”" in page.text
    (reward,) = [r for r in await reward_list(actor=hr, include_inactive=True) if r.name == name]
    assert reward.active and reward.cost == 40 and reward.stock_left == 10
    assert reward.eligible_level_ids == [await _level_id("P3 高级")]


async def _earn(username: str, points: int) -> int:
    """Give someone points through a one-off rule; their employee id."""
    person = await actor_named(username)
    assert person.employee_id is not None
    await _rule(f"bonus_{username}", points)
    await ledger_award(
        employee_id=person.employee_id,
        kind=f"bonus_{username}",
        source_key=f"bonus_{username}:1",
        occurred_at=dt.datetime.now(dt.UTC),
    )
    return person.employee_id


async def _redeem(username: str, reward_id: int) -> int:
    return await redemption_request(actor=await actor_named(username), reward_id=reward_id)


async def _reward(name: str, cost: int) -> int:
    return await reward_create(actor=await actor_named("hr"), name=name, cost=cost)


async def _state(redemption_id: int) -> str:
    row = await Redemption.select(Redemption.state).where(Redemption.id == redemption_id).first()
    assert row is not None
    return str(row["state"])


async def test_withdrawing_and_changing_a_reward_keep_its_whole_stock(settings: Any) -> None:
    hr = await actor_named("hr")
    name = "优先选择项目"  # the demo's: 5 in stock
    (project,) = [r for r in await reward_list(actor=hr) if r.name == name]
    await _earn("zhang", 200)
    await _redeem("zhang", project.id)
    async with rendered_page("/admin/points/rewards", settings=settings, actor=hr) as page:
        assert "剩余 4 件" in _text(_article(page, name))
        await page.click(f"下架奖励：{name}")
        await page.click("确认下架")
        await page.click(f"重新上架：{name}")
        assert "剩余 4 件" in _text(_article(page, name))
        await page.click(f"修改奖励：{name}")
        assert _attr(page.by_label("库存（总数）"), "value") == "5"
        await page.type("库存（总数）", "8")
        await page.submit(page.one(lambda n: n.get("tagName") == "form", "reward form"))
        assert "剩余 7 件" in _text(_article(page, name))


async def test_hr_records_an_approved_reward_as_handed_over(settings: Any) -> None:
    hr = await actor_named("hr")
    await _earn("zhang", 100)
    redemption = await _redeem("zhang", await _reward("电影票", 80))
    await redemption_decide(actor=await actor_named("manager"), redemption_id=redemption, approve=True)
    async with rendered_page("/admin/points/rewards", settings=settings, actor=hr) as page:
        assert "王磊 · 咖啡券" in page.text  # the demo's approved coffee waits too
        cell = _text(_article(page, "张丽华 · 电影票"))
        assert "李强" in cell and "华东大区" in cell
        await page.click("登记已发放：张丽华 的“电影票”")
        assert "登记后不能撤回" in page.text
        await page.click("确认已发放")
        assert "已登记：张丽华 的“电影票”已发放" in page.text
        assert "张丽华 · 电影票" not in page.text and "王磊 · 咖啡券" in page.text
    assert await _state(redemption) == "fulfilled"


# /points/approvals ------------------------------------------------------------------------------
async def test_a_manager_approves_their_teams_redemption_after_confirming(settings: Any) -> None:
    manager = await actor_named("manager")
    await _earn("zhang", 100)
    await _earn("wang", 100)
    await _earn("manager", 100)
    tickets = await _reward("电影票", 30)
    mine = await _redeem("zhang", tickets)
    await _redeem("wang", tickets)  # 研发部: not the manager's
    await _redeem("manager", tickets)  # their own: never theirs to decide
    async with rendered_page("/points/approvals", settings=settings, actor=manager) as page:
        assert "共 1 条" in page.text  # not the demo's pending remote day of trainer (一车间) either
        assert "王磊" not in page.text and "李强 · 电影票" not in page.text and "陈建国" not in page.text
        card = _article(page, "张丽华 · 电影票")
        assert "华东大区" in _text(card) and "30 分" in _text(card)
        await page.fire(_button_in(card, "批准"), "onClick")
        card = _article(page, "张丽华 · 电影票")
        assert "批准 张丽华 兑换“电影票”（30 分）？" in _text(card)
        assert not _within(card, lambda n: n.get("tagName") == "button" and _text(n) in ("批准", "拒绝"))
        await page.click("取消")
        assert await _state(mine) == "pending"
        await page.fire(_button_in(_article(page, "张丽华 · 电影票"), "批准"), "onClick")
        await page.click("确认批准")
        assert "已批准 张丽华 兑换“电影票”" in page.text
        assert "没有待审批的兑换申请" in page.text
        await _tab(page, "已处理")
        decided = _text(_article(page, "张丽华 · 电影票"))
        assert "已批准" in decided and "李强" in decided
        assert "王磊" not in page.text  # the demo's approved coffee of 研发部 is not the manager's
    assert await _state(mine) == "approved"


async def test_hr_rejects_with_a_reason_and_the_points_go_back(settings: Any) -> None:
    hr = await actor_named("hr")
    wang = await _earn("wang", 100)
    await _earn("zhang", 100)
    tickets = await _reward("电影票", 30)
    held = await balance(wang)
    asked = await _redeem("wang", tickets)
    await _redeem("zhang", tickets)
    pending = (await redemptions_for_decision(actor=hr)).total
    assert await balance(wang) == held - 30
    async with rendered_page("/points/approvals", settings=settings, actor=hr) as page:
        assert f"共 {pending} 条" in page.text and "陈建国 · 一天远程办公" in page.text
        await page.fire(_button_in(_article(page, "王磊 · 电影票"), "拒绝"), "onClick")
        assert "冻结的 30 分会退还给 王磊" in page.text
        await page.click("确认拒绝")
        assert _error_under(page, f"redemption-{asked}-note") == "请填写拒绝原因"
        await page.type("拒绝原因", "本月电影票已发完")
        await page.click("确认拒绝")
        assert "已拒绝 王磊 兑换“电影票”，30 分已退还" in page.text
        assert f"共 {pending - 1} 条" in page.text and "张丽华 · 电影票" in page.text
    assert await _state(asked) == "rejected" and await balance(wang) == held


async def test_approvals_in_english_and_closed_to_employees(settings: Any) -> None:
    await _earn("zhang", 100)
    await _redeem("zhang", await _reward("Movie ticket", 30))
    async with rendered_page(
        "/points/approvals", settings=settings, actor=await actor_named("hr"), accept_language="en"
    ) as page:
        card = _article(page, "张丽华 · Movie ticket")
        await page.fire(_button_in(card, "Approve"), "onClick")
        assert "Approve 张丽华's redemption of “Movie ticket” (30 points)?" in page.text
        await page.click("Cancel")
        _button_in(_article(page, "张丽华 · Movie ticket"), "Reject")
    for username in ("zhang", "wang"):
        async with rendered_page(
            "/points/approvals", settings=settings, actor=await actor_named(username)
        ) as page:
            assert "没有访问权限" in page.text and "Movie ticket" not in page.text
            assert not page.all(lambda n: n.get("tagName") == "button" and _text(n) in ("批准", "拒绝"))


# /points/team ------------------------------------------------------------------------------------
async def _active_under(name: str) -> int:
    row = await Department.select(Department.path).where(Department.name == name).first()
    assert row is not None
    return await Employee.count().where(
        Employee.department.path.like(f"{row['path']}%") & (Employee.status == "active")
    )


async def test_a_manager_sees_their_team_behind_first(settings: Any) -> None:
    manager = await actor_named("manager")
    # Everyone without a more specific target: 100 points, no mix (replaces the demo's 60).
    await target_set(actor=await actor_named("hr"), year=dt.date.today().year, total=100, mix={})
    await _earn("zhang", 100)
    people = await _active_under("销售部")
    behind = (await team_progress(actor=manager, behind_only=True)).total
    assert 0 < behind < people
    async with rendered_page("/points/team", settings=settings, actor=manager) as page:
        assert f"共 {people} 人" in page.text
        assert "王磊" not in page.text  # 研发部
        first = page.all(_cell)[0]
        assert "落后" in _text(first) and "还差" in _text(first)
        bar = _within(first, lambda n: _attr(n, "role") == "progressbar")[0]
        assert 0 <= _attr(bar, "aria-valuenow") < 100 and "的目标完成度" in _attr(bar, "aria-label")
        while "张丽华" not in page.text:
            await page.click("下一页")
        zhang = _text(_article(page, "张丽华"))
        assert "/ 100 分 · 完成 100%" in zhang and "已完成" in zhang and "落后" not in zhang
        await page.fire(page.by_label("只看进度落后的人"), "onChange", {"target": {"checked": True}})
        assert f"共 {behind} 人" in page.text
        assert "张丽华" not in page.text


async def test_hr_filters_the_team_by_department_and_employees_see_nothing(settings: Any) -> None:
    hr = await actor_named("hr")
    async with rendered_page("/points/team", settings=settings, actor=hr) as page:
        await _choose(page, "部门", "研发部")
        assert f"共 {await _active_under('研发部')} 人" in page.text
        assert "王磊" in _text(_article(page, "王磊")) and "张丽华" not in page.text
    for username in ("zhang", "wang"):
        async with rendered_page(
            "/points/team", settings=settings, actor=await actor_named(username)
        ) as page:
            assert "没有访问权限" in page.text
            assert not page.all(_cell) and "张丽华" not in page.text and "分 · 完成" not in page.text
