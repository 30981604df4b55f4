"""/notifications/preferences: each person's switches per kind and channel. Only the channels the
organisation turned on appear (the group robots only for the kinds posted to groups); a switch saves
for me and nobody else, and goes back with the reason when saving fails; with no channel on, or
without an employee record, the page says so; the Me page and the notification centre link here;
English is English."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from backend.demo import EMAIL_DOMAIN
from backend.lib.policy import Actor
from backend.notifications.selectors import preferences_mine
from backend.notifications.tables import NotificationSettings
from tests.ui.harness import Node, Page, _text, actor_named, rendered_page

pytestmark = pytest.mark.usefixtures("demo")

PATH = "/notifications/preferences"


def _attr(node: Node, name: str) -> Any:
    return node.get("attributes", {}).get(name)


async def channels_on(*names: str) -> None:
    """The organisation turns these channels on (what HR's channel settings store)."""
    await NotificationSettings.insert(
        NotificationSettings(id=1, channels={name: {"enabled": True} for name in names})
    )


def switches(page: Page) -> dict[str, Node]:
    """Every switch by its accessible name: the texts its aria-labelledby points at, as a screen
    reader composes it ("点赞和评论 电子邮件")."""
    found = {}
    for node in page.all(lambda n: _attr(n, "role") == "switch"):
        name = " ".join(
            _text(page.by_id(part)).strip() for part in str(_attr(node, "aria-labelledby")).split()
        )
        found[name] = node
    return found


async def until(page: Page, ready: Any) -> Page:
    """Settle until `ready(page)` holds (the page's async load finishes under load)."""
    for _ in range(40):
        if ready(page):
            return page
        await page.settle()
    raise AssertionError("the page never got ready")


def loaded(page: Page) -> bool:
    return "正在加载" not in page.text and "Loading" not in page.text


async def enabled_for(actor: Actor, kind: str, channel: str) -> bool:
    [item] = [p for p in await preferences_mine(actor=actor) if (p.kind, p.channel) == (kind, channel)]
    return item.enabled


async def test_the_kinds_and_only_the_channels_the_organisation_turned_on(settings: Any) -> None:
    await channels_on("wecom", "email")
    async with rendered_page(PATH, settings=settings, actor=await actor_named("zhang")) as page:
        await until(page, loaded)
        assert "通知设置" in _text(page.one(lambda n: n.get("tagName") == "h1", "h1"))
        for kind, description in (
            ("心得即将截止", "心得截止前 2 天和 2 小时提醒"),
            ("点赞和评论", "同事赞了或评论了你的心得"),
            ("积分到账", "积分"),
            ("兑换审批结果", "兑换申请"),
            ("新课程", "新微课"),
            ("HR 通知", "HR 或经理"),
        ):
            heading = page.one(lambda n, k=kind: n.get("tagName") == "h2" and _text(n) == k, kind)
            assert description in page.text, description
            assert _attr(heading, "id")
        assert "待审批的兑换" not in page.text  # zhang decides no redemptions

        names = switches(page)
        # e-mail carries every kind; the WeCom robot only what is posted to the group
        assert "点赞和评论 电子邮件" in names and "点赞和评论 企业微信群" not in names
        assert {
            "心得即将截止 企业微信群",
            "心得即将截止 电子邮件",
            "新课程 企业微信群",
            "HR 通知 企业微信群",
        } <= set(names)
        assert not [name for name in names if "手机推送" in name or "钉钉" in name]
        assert all(
            _attr(node, "aria-checked") == "true" and _attr(node, "checked") for node in names.values()
        )
        assert all(_attr(node, "type") == "checkbox" for node in names.values())
        # the group is said to be a group, and my own address is named
        assert "不是发给你个人的消息" in page.text
        assert f"zhang@{EMAIL_DOMAIN}" in page.text
        assert "这类个人消息不会发到群里" not in page.text  # e-mail is on: every kind has a switch


async def test_a_manager_also_chooses_for_redemption_requests(settings: Any) -> None:
    await channels_on("dingtalk")
    async with rendered_page(PATH, settings=settings, actor=await actor_named("manager")) as page:
        await until(page, loaded)
        names = switches(page)
        assert "待审批的兑换" in page.text
        # only a group robot is on: personal kinds say they stay in the app
        assert set(names) == {
            f"{kind} 钉钉群" for kind in ("心得即将截止", "心得已逾期", "新课程", "HR 通知")
        }
        assert "只在应用内的通知中心显示" in page.text


async def test_a_switch_saves_at_once_for_me_and_nobody_else(settings: Any) -> None:
    await channels_on("email")
    zhang, wang = await actor_named("zhang"), await actor_named("wang")
    async with rendered_page(PATH, settings=settings, actor=zhang) as page:
        await until(page, loaded)
        await page.fire(switches(page)["点赞和评论 电子邮件"], "onChange", {"target": {"checked": False}})
        await until(page, lambda p: "已保存" in p.text)
        switch = switches(page)["点赞和评论 电子邮件"]
        assert _attr(switch, "aria-checked") == "false" and not _attr(switch, "checked")
        status = page.one(lambda n: _attr(n, "role") == "status" and "已保存" in _text(n), "toast")
        assert _text(status) == "已保存：点赞和评论 · 电子邮件 已关闭"
        assert _attr(switches(page)["积分到账 电子邮件"], "aria-checked") == "true"

    assert await enabled_for(zhang, "reflection_peer", "email") is False
    assert await enabled_for(zhang, "points_credited", "email") is True
    assert await enabled_for(wang, "reflection_peer", "email") is True

    # opened again, it is still off; turned on again, it is on again
    async with rendered_page(PATH, settings=settings, actor=zhang) as page:
        await until(page, loaded)
        assert _attr(switches(page)["点赞和评论 电子邮件"], "aria-checked") == "false"
        await page.fire(switches(page)["点赞和评论 电子邮件"], "onChange", {"target": {"checked": True}})
        await until(page, lambda p: "已开启" in p.text)
        assert _attr(switches(page)["点赞和评论 电子邮件"], "aria-checked") == "true"
    assert await enabled_for(zhang, "reflection_peer", "email") is True


async def test_a_switch_that_cannot_be_saved_goes_back_and_says_why(settings: Any) -> None:
    # The record is gone by the time the person taps (the database refuses the preference).
    await channels_on("email")
    vanished = dataclasses.replace(await actor_named("zhang"), employee_id=2**31 - 2)
    async with rendered_page(PATH, settings=settings, actor=vanished) as page:
        await until(page, loaded)
        await page.fire(switches(page)["积分到账 电子邮件"], "onChange", {"target": {"checked": False}})
        await until(page, lambda p: "没能保存" in p.text)
        alert = page.one(lambda n: _attr(n, "role") == "alert", "alert")
        assert "没能保存「积分到账 · 电子邮件」" in _text(alert) and "恢复原样" in _text(alert)
        assert _attr(switches(page)["积分到账 电子邮件"], "aria-checked") == "true"
        assert "已保存" not in page.text


async def test_with_no_outside_channel_the_centre_carries_everything(settings: Any) -> None:
    async with rendered_page(PATH, settings=settings, actor=await actor_named("zhang")) as page:
        await until(page, loaded)
        assert "还没有开启手机推送、企业微信、钉钉或邮件" in page.text
        assert "通知中心" in page.text and "始终开启" in page.text
        assert not switches(page)
        assert page.links().get("打开通知中心") == "/notifications"


async def test_an_account_without_an_employee_record_sees_why_there_is_nothing(settings: Any) -> None:
    await channels_on("email")
    admin_only = dataclasses.replace(await actor_named("hr"), employee_id=None)
    async with rendered_page(PATH, settings=settings, actor=admin_only) as page:
        await page.settle()
        assert "这个账号没有员工档案" in page.text
        assert not switches(page)


async def test_push_points_to_the_me_page_without_asking_here(settings: Any) -> None:
    await channels_on("web_push")
    async with rendered_page(PATH, settings=settings, actor=await actor_named("zhang")) as page:
        await until(page, loaded)
        assert "心得评分 手机推送" in switches(page)
        # hidden until push_check.js finds no subscription in this browser; it asks for nothing
        missing = page.by_id("push-missing")
        assert _attr(missing, "hidden") is True
        assert "这台设备还没有开启推送" in _text(missing)
        [link] = [n for n in missing["children"] if isinstance(n, dict) and n.get("tagName") == "a"]
        assert _attr(link, "href") == "/me" and "开启通知推送" in _text(link)
        [script] = page.all(lambda n: n.get("tagName") == "script")
        assert str(_attr(script, "src")).startswith("/static/push_check.js?v=")
        assert page.all(lambda n: n.get("tagName") == "script" and "push.js" in str(_attr(n, "src"))) == []


async def test_the_me_page_and_the_centre_link_here(settings: Any) -> None:
    zhang = await actor_named("zhang")
    for path in ("/me", "/notifications"):
        async with rendered_page(path, settings=settings, actor=zhang) as page:
            await page.settle()
            assert [href for name, href in page.links().items() if name.startswith("通知设置")] == [PATH]
    # HR's own page for the organisation's channels has a different name
    async with rendered_page("/me", settings=settings, actor=await actor_named("hr")) as page:
        await page.settle()
        links = page.links()
        assert [href for name, href in links.items() if name.startswith("通知设置")] == [PATH]
        assert links.get("通知渠道") == "/admin/notifications/settings"


async def test_in_english(settings: Any) -> None:
    await channels_on("email", "wecom")
    async with rendered_page(
        PATH, settings=settings, actor=await actor_named("zhang"), accept_language="en"
    ) as page:
        await until(page, loaded)
        assert _text(page.one(lambda n: n.get("tagName") == "h1", "h1")) == "Notification settings"
        names = switches(page)
        assert "Likes and comments E-mail" in names and "Reflection due soon WeCom group" in names
        assert "2 days and 2 hours before a reflection is due" in page.text
        assert "not a personal message" in page.text
        await page.fire(names["Likes and comments E-mail"], "onChange", {"target": {"checked": False}})
        await until(page, lambda p: "Saved" in p.text)
        assert "Saved: Likes and comments by E-mail is off" in page.text
        assert not any("\u4e00" <= ch <= "\u9fff" for ch in page.text.replace("中文", ""))
