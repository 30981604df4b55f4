"""Layout tests of /admin/points on SQLite and PostgreSQL, over the demo organisation and its points
(学分制 applied, targets, rewards, redemptions): the rule book and its versions, custom activities,
manual awards and reversals, presets, the appraisal weight and exports, in both languages, and who
may open the admin pages at all. (Targets, rewards, approvals and the team's progress:
test_points_manager_pages.py, which shares the small queries here.)"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest

from backend.lib.policy import ROLE_AUDITOR
from backend.org.tables import Department, JobLevel
from backend.points.exports import points_settings_get
from backend.points.ledger import balance
from backend.points.rulebook import RuleTerms, rule_create
from backend.points.tables import LedgerEntry, PointRule, PointTarget
from tests.ui.harness import Node, Page, actor_named, rendered_page

pytestmark = pytest.mark.usefixtures("backend_name", "demo")


# small queries -------------------------------------------------------------------------------
def _attr(node: Node, name: str) -> Any:
    return node.get("attributes", {}).get(name)


def _text(node: Any) -> str:
    if isinstance(node, str):
        return node
    return "".join(_text(child) for child in node.get("children", []))


def _walk(node: Any) -> list[Node]:
    if not isinstance(node, dict):
        return []
    found = [node]
    for child in node.get("children", []):
        found.extend(_walk(child))
    return found


def _within(node: Node, predicate: Any) -> list[Node]:
    return [n for n in _walk(node) if predicate(n)]


def _button_in(node: Node, name: str) -> Node:
    found = _within(
        node,
        lambda n: (
            n.get("tagName") == "button" and (_text(n).strip() == name or _attr(n, "aria-label") == name)
        ),
    )
    assert len(found) == 1, f"expected one button {name!r}, found {len(found)}"
    return found[0]


def _cell(node: Node) -> bool:
    return node.get("tagName") == "li" and _attr(node, "className") == "list-cell"


def _article(page: Page, heading: str) -> Node:
    """The list cell whose heading reads `heading` (the cell is named by it)."""
    headings = page.all(lambda n: n.get("tagName") in ("h2", "h3") and _text(n).strip() == heading)
    assert headings, f"no heading {heading!r}"
    ids = {_attr(h, "id") for h in headings}
    return page.one(lambda n: _cell(n) and _attr(n, "aria-labelledby") in ids, f"cell {heading}")


def _option_value(select: Node, text: str) -> str:
    for option in select["children"]:
        if _text(option).strip() == text:
            return str(option["attributes"]["value"])
    raise AssertionError(f"no option {text!r} in {[_text(o) for o in select['children']]}")


async def _choose(page: Page, label: str, text: str) -> Page:
    select = page.by_label(label)
    return await page.fire(select, "onChange", {"target": {"value": _option_value(select, text)}})


def _error_under(page: Page, field_id: str) -> str:
    found = page.all(lambda n: _attr(n, "id") == f"{field_id}-error")
    return _text(found[0]) if found else ""


def _form(page: Page, labelled_by: str) -> Node:
    return page.one(
        lambda n: n.get("tagName") == "form" and _attr(n, "aria-labelledby") == labelled_by, labelled_by
    )


async def _tab(page: Page, name: str) -> Page:
    tab = page.one(lambda n: _attr(n, "role") == "tab" and _text(n).strip() == name, f"tab {name}")
    return await page.fire(tab, "onClick")


def _no_forms(page: Page) -> bool:
    return not page.all(lambda n: n.get("tagName") in ("form", "input", "textarea"))


async def _level_id(name: str) -> int:
    row = await JobLevel.select(JobLevel.id).where(JobLevel.name == name).first()
    assert row is not None
    return int(row["id"])


async def _department_id(name: str) -> int:
    row = await Department.select(Department.id).where(Department.name == name).first()
    assert row is not None
    return int(row["id"])


# /admin/points: rules ---------------------------------------------------------------------------
async def _rule(kind: str, points: int, **scope: Any) -> int:
    return await rule_create(
        actor=await actor_named("hr"),
        kind=kind,
        terms=RuleTerms(points=points, effective_from=dt.date(2000, 1, 1)),
        **scope,
    )


async def _current_rules() -> int:
    return await PointRule.count().where(PointRule.replaced_by.is_null())


def _rule_cell(page: Page, kind: str, scope: str) -> Node:
    """The rule book's cell of `kind` for `scope` (全公司, 销售部 ...)."""
    cells = [cell for cell in page.all(_cell) if f"适用：{scope}" in _text(cell)]
    headings = [
        cell for cell in cells if _within(cell, lambda n: n.get("tagName") == "h3" and _text(n) == kind)
    ]
    assert len(headings) == 1, f"expected one rule {kind} for {scope}, found {len(headings)}"
    return headings[0]


def _button_starting(page: Page, prefix: str) -> Node:
    return page.one(
        lambda n: n.get("tagName") == "button" and str(_attr(n, "aria-label") or "").startswith(prefix),
        f"button {prefix}…",
    )


async def test_hr_creates_a_rule_with_messages_next_to_the_fields(settings: Any) -> None:
    hr = await actor_named("hr")
    before = await _current_rules()
    async with rendered_page("/admin/points", settings=settings, actor=hr) as page:
        assert f"共 {before} 条规则" in page.text
        assert "每次 10 分" in _text(_rule_cell(page, "通过考试", "全公司"))  # the demo's 学分制
        await page.click("新建规则")
        await page.submit(_form(page, "rule-new-title"))
        assert _error_under(page, "rule-new-kind") == "此项必填"
        assert _error_under(page, "rule-new-points") == "此项必填"
        await _choose(page, "活动类型", "通过考试")
        await page.type("每次积分", "5000")
        await page.type("每日上限（分）", "abc")
        await page.submit(_form(page, "rule-new-title"))
        assert _error_under(page, "rule-new-points") == "请输入 0 到 1000 之间的数"
        assert _error_under(page, "rule-new-cap-day") == "请输入 1 到 100000 之间的数"
        assert _error_under(page, "rule-new-kind") == ""
        await page.type("每次积分", "12")
        await page.type("每日上限（分）", "")
        await page.submit(_form(page, "rule-new-title"))
        # An equally specific rule of the same kind is refused, in the service's words by the field.
        assert "范围和优先级相同且时间重叠" in _error_under(page, "rule-new-kind")
        await _choose(page, "部门", "销售部")
        await page.type("失效日期", "2000-01-01")
        await page.submit(_form(page, "rule-new-title"))
        assert _error_under(page, "rule-new-effective-to") == "失效日期不能早于生效日期"
        assert _attr(page.by_id("rule-new-effective-to"), "aria-invalid") == "true"
        await page.type("失效日期", "")
        await page.type("每年上限（分）", "60")
        await page.submit(_form(page, "rule-new-title"))
        assert "已新建规则“通过考试”" in page.text
        cell = _text(_rule_cell(page, "通过考试", "销售部"))
        assert "每次 12 分" in cell and "上限：每年 60 分" in cell
        assert f"共 {before + 1} 条规则" in page.text
    rule = await PointRule.select().where(PointRule.department == await _department_id("销售部")).first()
    assert rule is not None and (rule["kind"], rule["points"], rule["cap_year"]) == ("exam_passed", 12, 60)


async def test_a_rule_gets_a_new_version_and_is_deactivated_after_confirming(settings: Any) -> None:
    hr = await actor_named("hr")
    org_wide = (PointRule.kind == "exam_passed") & PointRule.department.is_null() & PointRule.level.is_null()
    async with rendered_page("/admin/points", settings=settings, actor=hr) as page:
        await page.click("修改规则：通过考试（全公司）")
        await page.type("每次积分", "15")
        await page.submit(page.one(lambda n: n.get("tagName") == "form", "version form"))
        assert "已保存“通过考试”的第 2 版" in page.text
        assert "每次 15 分" in _text(_rule_cell(page, "通过考试", "全公司"))
        await page.click("显示历史版本")
        assert f"共 {await PointRule.count()} 条规则" in page.text and "已被新版本取代" in page.text
        await page.click("显示历史版本")
        await page.click("停用规则：通过考试（全公司）")
        question = page.one(lambda n: _attr(n, "role") == "alert", "question")
        assert "不再按这条规则计分" in _text(question)
        await page.click("取消")
        assert await PointRule.count().where(PointRule.active == False) == 0  # noqa: E712
        await page.click("停用规则：通过考试（全公司）")
        await page.type("说明（可选）", "改为线下统一记分")
        await page.click("确认停用")
        assert "已停用规则“通过考试”" in page.text
        assert "已停用" in _text(_rule_cell(page, "通过考试", "全公司"))
    rows = await PointRule.select().where(org_wide).order_by(PointRule.version)
    assert [(row["version"], row["points"], row["active"]) for row in rows] == [
        (1, 10, True),
        (2, 15, True),
        (3, 15, False),
    ]
    assert rows[-1]["note"] == "改为线下统一记分"


async def test_applying_a_preset_asks_first_and_says_what_changed(settings: Any) -> None:
    hr = await actor_named("hr")
    rules, targets = await PointRule.count(), await PointTarget.count()
    async with rendered_page("/admin/points", settings=settings, actor=hr) as page:
        await _tab(page, "预设方案")
        await page.click("应用“激励积分”")
        assert "全公司同类规则会按方案修改" in page.text
        await page.click("取消")
        assert await PointRule.count() == rules
        await page.click("应用“激励积分”")
        await page.click("确认应用")
        # The demo's reflection rules (2 and 5 points) change; course_published is new.
        assert "已应用“激励积分”：新建 1 条规则，修改 2 条，未变 0 条，设置 0 个年度目标" in page.text
        await page.click("应用“学分制”")
        assert "同时为主管、经理职级设置" in page.text
        await page.click("确认应用")
        assert "新建 0 条规则，修改 0 条，未变 5 条，设置 2 个年度目标" in page.text  # applied by the demo
    assert await PointRule.count() == rules + 3
    assert await PointTarget.count() == targets


async def test_hr_awards_by_hand_and_reverses_with_a_reason(settings: Any) -> None:
    hr = await actor_named("hr")
    zhang = await actor_named("zhang")
    assert zhang.employee_id is not None
    held = await balance(zhang.employee_id)
    tomorrow = (dt.datetime.now(dt.UTC) + dt.timedelta(days=2)).date()
    async with rendered_page("/admin/points", settings=settings, actor=hr, query_string="tab=award") as page:
        await page.submit(_form(page, "award-title"))
        assert _error_under(page, "award-employee") == "请先搜索并选择员工"
        assert _error_under(page, "award-kind") == "此项必填"
        await page.type("员工（姓名或工号）", "没有这个人")
        assert "找不到“没有这个人”" in _text(page.by_id("award-employee-results"))
        await page.type("员工（姓名或工号）", "E0004")
        await page.click("选择 张丽华（E0004，华东大区）")
        assert _text(page.by_id("award-employee-chosen")) == "张丽华"
        assert "张丽华 的积分记录" in page.text
        await _choose(page, "活动类型", "通过考试")
        await page.type("活动日期", tomorrow.isoformat())
        await page.submit(_form(page, "award-title"))
        assert _error_under(page, "award-occurred-on") == "活动日期不能晚于今天"
        await page.type("活动日期", dt.date.today().isoformat())
        await page.type("备注", "季度安全考试")
        await page.submit(_form(page, "award-title"))
        assert "已给 张丽华 发放 10 分（通过考试）" in page.text
        entry = (
            await LedgerEntry.select()
            .where(LedgerEntry.employee == zhang.employee_id)
            .order_by(LedgerEntry.id, ascending=False)
            .first()
        )
        assert entry is not None and entry["note"] == "季度安全考试"
        assert await balance(zhang.employee_id) == held + 10
        await page.type("备注", "季度安全考试")
        await page.submit(_form(page, "award-title"))  # the same form again awards nothing
        assert "没有给 张丽华 发放积分：这项活动已经计过分" in page.text
        await page.fire(_button_starting(page, f"冲销记录 #{entry['id']}："), "onClick")
        await page.click("确认冲销")
        assert "请填写原因" in page.text
        await page.type("冲销原因", "考试成绩录入有误")
        await page.click("确认冲销")
        assert "已冲销“通过考试”" in page.text and f"冲销记录 #{entry['id']}" in page.text
        assert not page.all(
            lambda n: str(_attr(n, "aria-label") or "").startswith(f"冲销记录 #{entry['id']}：")
        )
    assert await balance(zhang.employee_id) == held
    async with rendered_page("/admin/points", settings=settings, actor=hr, query_string="tab=award") as page:
        await page.type("员工（姓名或工号）", "刘芳")
        await page.click("选择 刘芳（E0001，人力资源部）")
        await _choose(page, "活动类型", "通过考试")
        await page.submit(_form(page, "award-title"))
        assert "不能给自己发放积分" in page.text


async def test_appraisal_weight_and_export_links(settings: Any) -> None:
    hr = await actor_named("hr")
    year = dt.date.today().year
    weight = (await points_settings_get(actor=hr)).appraisal_weight
    async with rendered_page(
        "/admin/points", settings=settings, actor=hr, query_string="tab=appraisal"
    ) as page:
        links = page.links()
        assert links[f"下载 {year} 年考核表（Excel）"] == f"/api/v1/points/exports/appraisal.xlsx?year={year}"
        assert links[f"下载 {year} 年考核表（CSV）"] == f"/api/v1/points/exports/appraisal.csv?year={year}"
        await _choose(page, "年度", str(year - 1))
        assert page.links()[f"下载 {year - 1} 年考核表（CSV）"].endswith(f"year={year - 1}")
        assert "当前方案：学分制" in page.text
        assert _attr(page.by_label("权重（%）"), "value") == str(weight)
        await page.type("权重（%）", "150")
        await page.submit(_form(page, "weight-title"))
        assert "0% 到 100%" in _text(page.by_id("weight-error"))
        await page.type("权重（%）", "20")
        await page.submit(_form(page, "weight-title"))
        assert "已保存：培训占绩效考核的 20%" in page.text
    assert (await points_settings_get(actor=hr)).appraisal_weight == 20


async def test_auditors_read_rules_and_targets_without_changing_them(settings: Any) -> None:
    auditor = dataclasses.replace(await actor_named("hr"), roles=frozenset({ROLE_AUDITOR}))
    async with rendered_page("/admin/points", settings=settings, actor=auditor) as page:
        assert [_text(n) for n in page.all(lambda n: _attr(n, "role") == "tab")] == ["规则", "考核与导出"]
        assert "每次 10 分" in _text(_rule_cell(page, "通过考试", "全公司"))
        assert not page.all(
            lambda n: n.get("tagName") == "button" and _text(n) in ("新建规则", "修改", "停用")
        )
        assert "奖励与兑换" not in page.links()
        await _tab(page, "考核与导出")
        assert _attr(page.by_label("权重（%）"), "readOnly") is True
        assert not page.all(lambda n: n.get("tagName") == "button" and _text(n) == "保存")
    async with rendered_page("/admin/points/targets", settings=settings, actor=auditor) as page:
        assert "目标 100 分" in _text(_article(page, "M2 经理"))
        assert not page.all(lambda n: n.get("tagName") == "button" and _text(n) in ("编辑", "删除"))
        assert not page.all(lambda n: n.get("tagName") == "button" and "设置" in _text(n))


@pytest.mark.parametrize("username", ["zhang", "manager"])
async def test_people_outside_hr_cannot_open_the_admin_pages(settings: Any, username: str) -> None:
    person = await actor_named(username)
    for path in ("/admin/points", "/admin/points/targets", "/admin/points/rewards"):
        async with rendered_page(path, settings=settings, actor=person) as page:
            assert "没有访问权限" in page.text, path
            assert _no_forms(page)
            assert "通过考试" not in page.text and "咖啡券" not in page.text and "M2 经理" not in page.text


async def test_a_custom_activity_gets_a_rule_and_can_be_awarded(settings: Any) -> None:
    hr = await actor_named("hr")
    async with rendered_page("/admin/points", settings=settings, actor=hr) as page:
        await page.click("新建规则")
        await _choose(page, "活动类型", "自定义活动…")
        await page.type("自定义活动代码", "Safety Drill")
        await page.type("每次积分", "8")
        await _choose(page, "积分类别", "其他")
        await page.submit(_form(page, "rule-new-title"))
        assert "活动类型「Safety Drill」无效" in _error_under(page, "rule-new-custom-kind")
        await page.type("自定义活动代码", "safety_drill")
        await page.submit(_form(page, "rule-new-title"))
        assert "已新建规则“safety_drill”" in page.text
        cell = _text(_rule_cell(page, "safety_drill", "全公司"))
        assert "自定义" in cell and "每次 8 分 · 其他" in cell
        await _tab(page, "手工发放")
        await page.type("员工（姓名或工号）", "E0005")
        await page.click("选择 王磊（E0005，研发部）")
        await _choose(page, "活动类型", "safety_drill")
        await page.submit(_form(page, "award-title"))
        assert "已给 王磊 发放 8 分（safety_drill）" in page.text


async def test_admin_pages_in_english(settings: Any) -> None:
    hr = await actor_named("hr")
    english = {"settings": settings, "actor": hr, "accept_language": "en-US,en;q=0.9"}
    async with rendered_page("/admin/points", **english) as page:
        tabs = [_text(n) for n in page.all(lambda n: _attr(n, "role") == "tab")]
        assert tabs == ["Rules", "Award by hand", "Presets", "Appraisal & exports"]
        assert f"{await _current_rules()} rules" in page.text and "10 points per award" in page.text
        await page.click("New rule")
        await page.submit(_form(page, "rule-new-title"))
        assert "Some fields need changes" in page.text
        assert page.by_label("Points per award") and page.by_label("Daily cap (points)")
        await _tab(page, "Presets")
        await page.click("Apply “Annual credit (学分制)”")
        assert "annual target for the supervisor and manager levels" in page.text
    async with rendered_page("/admin/points/targets", **english) as page:
        assert "Annual targets" in page.text and "Target 100 points" in page.text
    async with rendered_page("/admin/points/rewards", **english) as page:
        assert "To hand over" in page.text and "Mark handed over" in page.text
        assert "Reward catalogue" in page.text and "Withdraw" in page.text
    async with rendered_page("/points/team", **english) as page:
        assert "Only people behind" in page.text and "% reached" in page.text
