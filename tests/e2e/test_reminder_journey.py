"""HR reminds the people of 大客户关系维护 who have not submitted their reflection, on /admin/reminders
(preview, count and names, confirmation), 张姐 finds it in her notification centre, and HR finds her
among its recipients, not read yet.

Earlier journeys of this session may have had zhang submit the demo's 大客户关系维护 reflection, so HR
first opens a second round of it (复训) for 华东大区 with a reflection due: its non-submitters are
known exactly whatever ran before.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

TRAINING = "大客户关系维护（复训）"
TITLE = "请在周五前提交「大客户关系维护（复训）」心得"
WAIT_STEPS = 120  # × 250 ms: the embedded worker sends the reminder from the outbox


def _sign_in(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("账号或工号").fill(username)
    page.get_by_label("密码", exact=True).fill("learnloop-demo")
    page.get_by_role("button", name="登录", exact=True).click()
    page.wait_for_url(f"{base}/")


def _second_round(playwright: Any, base: str) -> int:
    """HR opens 大客户关系维护（复训） for 华东大区 with a reflection due in three days."""
    hr = playwright.request.new_context(base_url=base)
    try:
        assert hr.post("/api/v1/auth/login", data={"username": "hr", "password": "learnloop-demo"}).ok
        departments = hr.get("/api/v1/departments").json()
        east = next(item for item in departments if item["name"] == "华东大区")
        training = hr.post(
            "/api/v1/trainings",
            data={
                "title": TRAINING,
                "kind": "workshop",
                "starts_on": dt.date.today().isoformat(),
                "participants": {"department_ids": [east["id"]]},
            },
        )
        assert training.status == 201, training.text()
        training_id = int(training.json()["id"])
        assignment = hr.post(
            f"/api/v1/trainings/{training_id}/assignments",
            data={
                "prompt": "复训之后，你对哪位大客户的做法会不同？",
                "due_at": (dt.datetime.now(dt.UTC) + dt.timedelta(days=3)).isoformat(),
                "min_length": 0,
                "max_photos": 0,
                "visibility": "graders",
            },
        )
        assert assignment.status == 201, assignment.text()
        return training_id
    finally:
        hr.dispose()


def test_hr_sends_a_reminder_to_the_non_submitters_and_zhang_sees_it(
    live_server: str, phone: Any, playwright_instance: Any
) -> None:
    base = live_server
    _second_round(playwright_instance, base)
    page = phone.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    # --- HR composes, previews and sends ---
    _sign_in(page, base, "hr")
    page.goto(f"{base}/admin/reminders")
    page.get_by_role("heading", name="写提醒").wait_for()
    page.get_by_label("标题", exact=True).fill(TITLE)
    page.get_by_label("正文", exact=True).fill("结合一位你负责的大客户，写下复训后你准备改变的一个做法。")
    page.get_by_label("培训", exact=True).select_option(label=TRAINING)
    # The checkbox sits inside its chip; a finger taps the chip.
    page.locator("label.chip").filter(has_text="只发给还没提交心得的人").click()
    assert page.get_by_label("只发给还没提交心得的人").is_checked()
    page.get_by_role("button", name="预览收件人").click()
    preview = page.locator("#reminder-preview")
    preview.filter(has_text="张丽华").wait_for()
    count = int(preview.inner_text().split("将发送给", 1)[1].split("人", 1)[0].strip())
    assert count >= 1
    page.get_by_role("button", name="发送…").click()
    page.get_by_role("alertdialog").filter(has_text=f"确认立即发送给 {count} 人？").wait_for()
    page.get_by_role("button", name="确认", exact=True).click()
    page.get_by_role("status").filter(has_text=f"已发送给 {count} 人").wait_for()
    listed = page.get_by_role("article").filter(has_text=TITLE)
    listed.wait_for()

    # --- zhang finds it in her notification centre ---
    phone.clear_cookies()
    _sign_in(page, base, "zhang")
    for _ in range(WAIT_STEPS):
        mine = page.request.get(f"{base}/api/v1/notifications").json()
        if any(item["title"] == TITLE for item in mine["items"]):
            break
        page.wait_for_timeout(250)
    page.goto(f"{base}/notifications")
    page.get_by_text(TITLE).first.wait_for()

    # --- HR sees who got it: zhang among the recipients, not read yet ---
    phone.clear_cookies()
    _sign_in(page, base, "hr")
    page.goto(f"{base}/admin/reminders")
    sent = page.get_by_role("article").filter(has_text=TITLE)
    sent.get_by_role("button", name="查看收件人").click()
    recipients = page.get_by_role("list", name=f"「{TITLE}」的收件人")
    zhang = recipients.get_by_role("listitem").filter(has_text="张丽华")
    zhang.wait_for()
    assert "未读" in zhang.inner_text()
    assert sent.get_by_role("button", name="收起收件人").get_attribute("aria-expanded") == "true"
    assert errors == []
