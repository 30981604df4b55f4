"""张姐 turns off likes and comments by e-mail: HR has e-mail and push switched on, zhang opens
我的 → 通知设置, finds the switch by its name as a screen reader would, turns it off with a tap and
another with the keyboard, reloads and finds them as she left them. This browser has no push
subscription, so the page points to the Me page's push switch instead of asking.

The organisation's channels are put back as they were at the end, for the journeys that follow.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

EMAIL_ON = {
    "enabled": True,
    "host": "127.0.0.1",
    "port": 9,  # nothing listens: no e-mail leaves this test
    "security": "none",
    "from_address": "learnloop@demo.learnloop.example",
}


@pytest.fixture
def email_and_push_on(live_server: str, playwright_instance: Any) -> Iterator[None]:
    """HR switches e-mail and push on through the API, and back to what they were afterwards."""
    hr = playwright_instance.request.new_context(base_url=live_server)
    try:
        assert hr.post("/api/v1/auth/login", data={"username": "hr", "password": "learnloop-demo"}).ok
        before = hr.get("/api/v1/notifications/channels").json()
        changed = {**before, "email": {**before["email"], **EMAIL_ON}, "web_push": {"enabled": True}}
        response = hr.put("/api/v1/notifications/channels", data=changed)
        assert response.ok, response.text()
        yield
        assert hr.put("/api/v1/notifications/channels", data=before).ok  # masked secrets are kept
    finally:
        hr.dispose()


def _sign_in(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("账号或工号").fill(username)
    page.get_by_label("密码", exact=True).fill("learnloop-demo")
    page.get_by_role("button", name="登录", exact=True).click()
    page.wait_for_url(f"{base}/")


@pytest.mark.usefixtures("email_and_push_on")
def test_zhang_turns_off_likes_and_comments_by_email(live_server: str, phone: Any) -> None:
    from playwright.sync_api import expect

    base = live_server
    page = phone.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    _sign_in(page, base, "zhang")

    page.goto(f"{base}/me")
    page.get_by_role("link", name="通知设置").click()
    page.wait_for_url(f"{base}/notifications/preferences")
    expect(page.get_by_role("heading", name="通知设置", level=1)).to_be_visible()
    expect(page.get_by_role("heading", name="点赞和评论")).to_be_visible()

    likes = page.get_by_role("switch", name="点赞和评论 电子邮件", exact=True)
    expect(likes).to_be_checked()
    # the whole row is the tap target
    row = page.locator("label[for='np-reflection_peer-email']").bounding_box()
    assert row is not None and row["height"] >= 44
    likes.click()
    expect(page.get_by_role("status").filter(has_text="已保存：点赞和评论 · 电子邮件 已关闭")).to_be_visible()
    expect(likes).not_to_be_checked()

    # keyboard: Space on the focused switch
    points = page.get_by_role("switch", name="积分到账 电子邮件", exact=True)
    points.focus()
    page.keyboard.press("Space")
    expect(page.get_by_role("status").filter(has_text="已保存：积分到账 · 电子邮件 已关闭")).to_be_visible()
    expect(points).not_to_be_checked()

    # the group robots are not on here, and no switch pretends otherwise
    expect(page.get_by_role("switch", name="企业微信群")).to_have_count(0)
    # no push subscription in this browser: the page points to the Me page, it asks nothing
    missing = page.get_by_text("这台设备还没有开启推送")
    expect(missing).to_be_visible()
    expect(page.get_by_role("link", name="到「我的」开启通知推送")).to_have_attribute("href", "/me")

    page.reload()
    likes = page.get_by_role("switch", name="点赞和评论 电子邮件", exact=True)
    expect(likes).not_to_be_checked()
    expect(likes).to_have_attribute("aria-checked", "false")
    expect(page.get_by_role("switch", name="积分到账 电子邮件", exact=True)).not_to_be_checked()
    expect(page.get_by_role("switch", name="新课程 电子邮件", exact=True)).to_be_checked()

    # the notification centre links here too
    page.goto(f"{base}/notifications")
    page.get_by_role("link", name="通知设置", exact=True).click()
    page.wait_for_url(f"{base}/notifications/preferences")
    expect(page.get_by_role("switch", name="点赞和评论 电子邮件", exact=True)).not_to_be_checked()
    assert errors == []
