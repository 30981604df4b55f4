"""The reminders page: compose, pick the non-submitters of a training, preview the count and names,
send after a confirmation, the list with figures and who got each, cancelling a scheduled one,
refusals, English."""

from __future__ import annotations

from typing import Any

import pytest

from backend.notifications.reminder_jobs import DEMO_REMINDER_TITLE, reminder_send
from backend.notifications.reminders import ReminderTarget, reminder_create, reminder_preview
from backend.notifications.tables import Reminder
from backend.reflections.tables import Training
from tests.ui.harness import Node, Page, _text, actor_named, rendered_page

pytestmark = pytest.mark.usefixtures("demo")


def _option_value(select: Node, text: str) -> str:
    for option in select.get("children", []):
        if isinstance(option, dict) and _text(option).strip() == text:
            return str(option["attributes"]["value"])
    raise AssertionError(f"no option {text!r}")


async def choose(page: Page, label: str, text: str) -> Page:
    select = page.by_label(label)
    return await page.fire(select, "onChange", {"target": {"value": _option_value(select, text)}})


async def test_hr_previews_and_sends_to_the_non_submitters_of_a_training(settings: Any) -> None:
    hr = await actor_named("hr")
    training = await Training.select(Training.id).where(Training.title == "大客户关系维护").first()
    assert training is not None
    expected = await reminder_preview(
        actor=hr, target=ReminderTarget(training_id=training["id"], not_submitted=True)
    )
    async with rendered_page("/admin/reminders", settings=settings, actor=hr) as page:
        assert page.links()["提醒"] == "/admin/reminders"  # the admin link
        assert DEMO_REMINDER_TITLE in page.text  # the demo's scheduled reminder is listed
        await page.type("标题", "请提交大客户关系维护心得")
        await choose(page, "培训", "大客户关系维护")
        await page.fire(page.by_label("只发给还没提交心得的人"), "onChange", {"target": {"checked": True}})
        await page.click("预览收件人")
        preview = _text(page.by_id("reminder-preview"))
        assert f"将发送给 {expected.count} 人" in preview
        assert all(name in preview for name in expected.names)
        await page.click("发送…")
        assert f"确认立即发送给 {expected.count} 人？" in page.text
        await page.click("确认")
        assert f"已发送给 {expected.count} 人" in page.text
        assert "请提交大客户关系维护心得" in page.text
    row = await Reminder.select().where(Reminder.title == "请提交大客户关系维护心得").first()
    assert row is not None and row["recipient_count"] == expected.count


async def test_an_empty_target_says_why_and_a_scheduled_reminder_can_be_cancelled(settings: Any) -> None:
    hr = await actor_named("hr")
    async with rendered_page("/admin/reminders", settings=settings, actor=hr) as page:
        await page.click("预览收件人")
        assert "请选择发送对象" in page.text
        await page.click(f"取消发送「{DEMO_REMINDER_TITLE}」")
        assert "确定取消这条定时提醒？" in page.text
        await page.click("确定取消")
        assert "已取消" in page.text
    row = await Reminder.select(Reminder.state).where(Reminder.title == DEMO_REMINDER_TITLE).first()
    assert row is not None and row["state"] == "cancelled"


async def test_employees_are_refused_and_english_reads_english(settings: Any) -> None:
    async with rendered_page("/admin/reminders", settings=settings, actor=await actor_named("zhang")) as page:
        assert "请提交" not in page.text and "/admin/reminders" not in page.links().values()
    manager = await actor_named("manager")
    async with rendered_page(
        "/admin/reminders", settings=settings, actor=manager, accept_language="en"
    ) as page:
        assert "Compose a reminder" in page.text and "No reminders yet" in page.text
        assert page.links()["Reminders"] == "/admin/reminders"


async def test_hr_sees_who_got_a_sent_reminder(settings: Any) -> None:
    hr = await actor_named("hr")
    people = [await actor_named(name) for name in ("zhang", "wang")]
    created = await reminder_create(
        actor=hr,
        target=ReminderTarget(employee_ids=[person.employee_id or 0 for person in people]),
        title="请提交代码评审心得",
    )
    assert await reminder_send(created.id) == 2
    async with rendered_page("/admin/reminders", settings=settings, actor=hr) as page:
        assert "张丽华" not in page.text  # folded until asked for
        button = page.button("查看收件人")
        assert button["attributes"]["aria-expanded"] == "false"
        await page.click("查看收件人")
        listing = page.by_label("「请提交代码评审心得」的收件人")
        assert "张丽华" in _text(listing) and "王磊" in _text(listing) and "未读" in _text(listing)
        assert page.button("收起收件人")["attributes"]["aria-expanded"] == "true"
        await page.click("收起收件人")
        assert "张丽华" not in page.text
