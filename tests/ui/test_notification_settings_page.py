"""/admin/notifications/settings: HR switches channels and fills their fields (secrets shown masked and
kept), a webhook outside the allowlist shows its reason at the field, the test button shows its result,
quiet hours save; auditors read without controls; employees see no such page; the admin link."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from backend.lib.policy import ROLE_AUDITOR
from backend.notifications.channel_settings import channel_settings_stored
from backend.notifications.selectors import organisation_settings
from pwa.components.shell import admin_links
from pwa.context import UIContext
from tests.ui.harness import Node, Page, _text, actor_named, rendered_page

pytestmark = pytest.mark.usefixtures("demo")

PATH = "/admin/notifications/settings"
WECOM_URL = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"


def _attr(node: Node, name: str) -> Any:
    return node.get("attributes", {}).get(name)


async def until(page: Page, ready: Any) -> Page:
    """Settle until `ready(page)` holds (the page's async loads finish under load)."""
    for _ in range(40):
        try:
            if ready(page):
                return page
        except AssertionError:
            pass
        await page.settle()
    raise AssertionError("the page never got ready")


def loaded(page: Page) -> bool:
    return bool(page.all(lambda n: _attr(n, "id") == "ch-wecom-enabled"))


def form_of(page: Page) -> Node:
    return page.one(lambda n: n.get("tagName") == "form" and _attr(n, "aria-label") == "通知渠道", "form")


async def test_hr_turns_on_wecom_and_sees_the_key_masked(settings: Any) -> None:
    hr = await actor_named("hr")
    async with rendered_page(PATH, settings=settings, actor=hr) as page:
        await until(page, loaded)
        assert "企业微信群机器人" in page.text and "钉钉群机器人" in page.text
        switch = page.by_id("ch-wecom-enabled")
        assert _attr(switch, "role") == "switch" and _attr(switch, "aria-checked") == "false"
        await page.fire(switch, "onChange", {"target": {"checked": True}})
        await page.fire(page.by_id("ch-wecom-webhook_url"), "onChange", {"target": {"value": WECOM_URL}})
        await page.submit(form_of(page))
        await until(
            page,
            lambda p: "已保存" in p.text and _attr(p.by_id("ch-wecom-webhook_url"), "value") != WECOM_URL,
        )
        shown = _attr(page.by_id("ch-wecom-webhook_url"), "value")
        assert shown.endswith("key=••••5aaa") and "693a91f6" not in page.text
        assert _attr(page.by_id("ch-wecom-enabled"), "aria-checked") == "true"
        # saving again with the masked value keeps the key
        await page.submit(form_of(page))
        await page.settle()
    assert (await channel_settings_stored()).wecom.webhook_url == WECOM_URL
    assert "wecom" in (await organisation_settings()).channels


async def test_a_webhook_outside_the_allowlist_shows_why(settings: Any) -> None:
    hr = await actor_named("hr")
    async with rendered_page(PATH, settings=settings, actor=hr) as page:
        await until(page, loaded)
        field = page.by_id("ch-dingtalk-webhook_url")
        await page.fire(field, "onChange", {"target": {"value": "https://hooks.example.com/robot/send?t=1"}})
        await page.submit(form_of(page))
        await until(page, lambda p: p.by_id("ch-dingtalk-webhook_url-error"))
        error = page.by_id("ch-dingtalk-webhook_url-error")
        assert "hooks.example.com" in _text(error) and "oapi.dingtalk.com" in _text(error)
        assert _attr(page.by_id("ch-dingtalk-webhook_url"), "aria-invalid") == "true"
    assert (await channel_settings_stored()).dingtalk.webhook_url == ""


async def test_the_test_button_shows_its_result(settings: Any) -> None:
    from backend.org.services import employee_email_update

    hr = await actor_named("hr")
    await employee_email_update(actor=hr, email="")  # HR has no address, nor a mailing list yet
    async with rendered_page(PATH, settings=settings, actor=hr) as page:
        await until(page, loaded)
        await page.fire(page.by_id("ch-email-test"), "onClick")
        await until(page, lambda p: _text(p.by_id("ch-email-test-result")))
        assert _text(page.by_id("ch-email-test-result")) == (
            "发送失败：请先在“我的”页面填写你的邮箱，或填写群发邮件列表并保存"
        )
        await page.fire(page.by_id("ch-wecom-test"), "onClick")  # no webhook saved: fails, says why
        await until(page, lambda p: _text(p.by_id("ch-wecom-test-result")))
        assert "发送失败" in _text(page.by_id("ch-wecom-test-result"))


async def test_the_email_section_says_where_mail_goes(settings: Any) -> None:
    hr = await actor_named("hr")
    async with rendered_page(PATH, settings=settings, actor=hr) as page:
        await until(page, loaded)
        hint = _text(page.by_id("ch-email-hint"))
        assert "每个人自己的邮箱" in hint and "只接收没有个人邮箱的人" in hint
        assert page.by_label("群发邮件列表（给没有个人邮箱的人）")
    async with rendered_page(PATH, settings=settings, actor=hr, accept_language="en") as page:
        await until(page, loaded)
        hint = _text(page.by_id("ch-email-hint"))
        assert "each person's own address" in hint and "only receives" in hint
        assert page.by_label("Mailing list (for people without an address)")


async def test_quiet_hours_save_from_the_page(settings: Any) -> None:
    hr = await actor_named("hr")
    async with rendered_page(PATH, settings=settings, actor=hr, accept_language="en") as page:
        await until(page, lambda p: "Quiet hours" in p.text)
        await page.type("Start", "23:15")
        quiet = page.one(
            lambda n: n.get("tagName") == "form" and _attr(n, "aria-labelledby") == "ch-quiet-title"
        )
        await page.submit(quiet)
        await until(page, lambda p: "Saved" in p.text)
    assert (await organisation_settings()).quiet_hours.start.strftime("%H:%M") == "23:15"


async def test_auditors_read_and_employees_are_kept_out(settings: Any) -> None:
    auditor = dataclasses.replace(await actor_named("hr"), roles=frozenset({ROLE_AUDITOR}))
    async with rendered_page(PATH, settings=settings, actor=auditor) as page:
        await until(page, loaded)
        assert "只有 HR 可以修改" in page.text
        assert not page.all(lambda n: n.get("tagName") == "button" and _attr(n, "type") == "submit")
        assert _attr(page.by_id("ch-wecom-enabled"), "disabled") is True
    zhang = await actor_named("zhang")
    async with rendered_page(PATH, settings=settings, actor=zhang) as page:
        assert not page.all(lambda n: _attr(n, "id") == "ch-wecom-enabled")
        assert "企业微信" not in page.text


async def test_the_admin_link_is_for_hr_and_auditors(settings: Any) -> None:
    def links(actor: Any) -> list[str]:
        ctx = UIContext(actor=actor, locale="zh-CN", settings=settings, path="/")
        return [href for _key, href in admin_links(ctx)]

    hr = await actor_named("hr")
    assert PATH in links(hr)
    assert PATH in links(dataclasses.replace(hr, roles=frozenset({ROLE_AUDITOR})))
    assert PATH not in links(await actor_named("zhang"))
    async with rendered_page("/", settings=settings, actor=hr) as page:
        assert page.links().get("通知渠道") == PATH
