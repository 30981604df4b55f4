"""The push switch on the Me page (ReactPy layout): a switch with an accessible name, its status line and
hint, the iOS Home Screen explanation (hidden until push.js shows it after a tap), the organisation
note, the device count, the messages push.js shows, and the script that drives it.

The browser half (permission after the tap, pushManager.subscribe) cannot run here: Chromium's
subscribe() never resolves without a vendor push service (STACK-NOTES). The server half is tested end
to end in tests/integration/test_push_delivery.py.
"""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from backend.lib.i18n import translate
from backend.notifications.kinds import CHANNEL_WEB_PUSH
from backend.notifications.push_subscriptions import PushSubscriptionIn, push_subscription_save
from backend.notifications.tables import NotificationSettings
from tests.support.fake_push import BrowserKeys
from tests.ui.harness import Node, Page, _text, actor_named, rendered_page

pytestmark = pytest.mark.usefixtures("demo")


def _attr(node: Node, name: str) -> Any:
    return node.get("attributes", {}).get(name)


def panel(page: Page) -> Node:
    return page.by_id("push-panel")


def described_by(page: Page, node: Node) -> str:
    return " ".join(_text(page.by_id(part)) for part in str(_attr(node, "aria-describedby")).split())


async def test_the_switch_and_its_explanation_have_names(settings: Any) -> None:
    async with rendered_page("/me", settings=settings, actor=await actor_named("zhang")) as page:
        await page.settle()
        section = panel(page)
        title = page.by_id(_attr(section, "aria-labelledby"))
        assert _text(title) == "通知推送"

        switch = page.by_label("通知推送")
        assert (switch["tagName"], _attr(switch, "type"), _attr(switch, "role")) == (
            "input",
            "checkbox",
            "switch",
        )
        assert _attr(switch, "id") == "push-toggle"
        # push.js decides what this browser can do; until then the switch waits, unchecked
        assert _attr(switch, "disabled") is True and "checked" not in switch.get("attributes", {})
        assert "onChange" not in switch.get("eventHandlers", {})  # the tap stays in the browser
        status = page.by_id("push-status")
        assert (_attr(status, "role"), _attr(status, "aria-live")) == ("status", "polite")
        assert "截止提醒" in described_by(page, switch)

        ios = page.by_id("push-ios")
        assert _attr(ios, "hidden") is True and _attr(ios, "role") == "note"
        assert _text(page.by_id(_attr(ios, "aria-labelledby"))) == "先把应用添加到主屏幕"
        steps = page.all(lambda n: n.get("tagName") == "li" and "主屏幕" in _text(n))
        assert len(steps) == 2 and "添加到主屏幕" in _text(steps[0])

        # what push.js will say, in the page's language
        assert _attr(section, "data-msg-on") == "已在这台设备上开启"
        assert _attr(section, "data-msg-denied").startswith("通知权限已被拒绝")
        for state in ("off", "working", "unsupported", "failed"):
            assert _attr(section, f"data-msg-{state}")

        [script] = page.all(lambda n: n.get("tagName") == "script" and "push.js" in str(_attr(n, "src")))
        assert str(_attr(script, "src")).startswith("/static/push.js?v=")


async def test_the_organisation_note_and_my_devices(settings: Any) -> None:
    zhang = await actor_named("zhang")
    disabled = translate("zh-CN", "push.org_disabled")
    async with rendered_page("/me", settings=settings, actor=zhang) as page:
        await page.settle()
        assert disabled in page.text  # nothing is pushed until the organisation turns it on
        assert "台设备上开启" not in page.text

    await NotificationSettings.insert(
        NotificationSettings(id=1, channels={CHANNEL_WEB_PUSH: {"enabled": True}})
    )
    for endpoint in ("https://push.example/a", "https://push.example/b"):
        keys = BrowserKeys.generate()
        subscription = {"endpoint": endpoint, "keys": {"p256dh": keys.p256dh, "auth": keys.auth}}
        await push_subscription_save(
            actor=zhang, subscription=msgspec.convert(subscription, PushSubscriptionIn)
        )
    async with rendered_page("/me", settings=settings, actor=zhang) as page:
        await page.settle()
        assert disabled not in page.text
        assert "已在 2 台设备上开启" in page.text


async def test_in_english(settings: Any) -> None:
    async with rendered_page(
        "/me", settings=settings, actor=await actor_named("zhang"), accept_language="en"
    ) as page:
        await page.settle()
        assert _attr(page.by_label("Push notifications"), "role") == "switch"
        ios = page.by_id("push-ios")
        assert _text(page.by_id(_attr(ios, "aria-labelledby"))) == "First add the app to your Home Screen"
        assert "Add to Home Screen" in _text(ios)
        assert _attr(panel(page), "data-msg-unsupported").startswith("This browser cannot receive push")
