"""WeCom, DingTalk and the e-mail mailing list end to end on SQLite and PostgreSQL, against loopback
robots that check the payloads and recompute DingTalk's signature, and a loopback SMTP server.

notify → a pending delivery per person and channel → channel_deliver → one group message per reminder.
Exactly once: the same job twice or concurrently posts once; errcode ≠ 0 fails with the robot's message;
5xx and SMTP 4xx retry later, then succeed; quiet hours hold; personal kinds never reach a group.
E-mail to people's own addresses: tests/integration/test_email_delivery.py.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import msgspec
import pytest
import pytest_asyncio

from backend.lib.queue import queue_pool
from backend.lib.runtime import Runtime, runtime_bind, runtime_peek
from backend.lib.storage import storage_client
from backend.notifications.channel_senders import channel_deliver, channel_sweep
from backend.notifications.channel_settings import ChannelSettings, channel_settings_set
from backend.notifications.channel_transports import dingtalk_signed_url
from backend.notifications.channels import channel_test
from backend.notifications.kinds import (
    CHANNEL_DINGTALK,
    CHANNEL_EMAIL,
    CHANNEL_WECOM,
    KIND_HR_MESSAGE,
    KIND_POINTS_CREDITED,
    message_key,
)
from backend.notifications.quiet_hours import clock_text, org_zone
from backend.notifications.services import notify, quiet_hours_set
from backend.notifications.tables import Delivery
from backend.org.services import employee_email_update
from backend.settings import Settings
from backend.worker import worker_create
from tests.support.fake_channels import FakeRobots, FakeSmtp
from tests.ui.harness import actor_named

pytestmark = pytest.mark.usefixtures("backend_name")


@pytest.fixture(scope="module")
def robots() -> Iterator[FakeRobots]:
    service = FakeRobots().start()
    yield service
    service.stop()


@pytest.fixture(scope="module")
def smtp() -> Iterator[FakeSmtp]:
    server = FakeSmtp().start()
    yield server
    server.stop()


@dataclass
class World:
    settings: Settings
    robots: FakeRobots
    smtp: FakeSmtp
    wecom: str  # robot ids at the fake
    dingtalk: str
    ctx: dict[str, Any]


@pytest_asyncio.fixture(loop_scope="session")
async def world(settings: Settings, demo: None, robots: FakeRobots, smtp: FakeSmtp) -> AsyncIterator[World]:
    settings = msgspec.structs.replace(
        settings, push=msgspec.structs.replace(settings.push, allow_loopback_http=True)
    )
    previous = runtime_peek()
    runtime_bind(Runtime(settings=settings, storage=storage_client(settings.storage), queue=None))
    wecom, wecom_url = robots.wecom_robot()
    dingtalk, dingtalk_url, secret = robots.dingtalk_robot()
    hr = await actor_named("hr")
    await quiet_hours_set(actor=hr, start="00:00", end="00:00")
    channels = {
        "wecom": {"enabled": True, "webhook_url": wecom_url},
        "dingtalk": {"enabled": True, "webhook_url": dingtalk_url, "secret": secret},
        "email": {
            "enabled": True,
            "host": "127.0.0.1",
            "port": smtp.port,
            "security": "none",
            "username": smtp.username,
            "password": smtp.password,
            "from_address": "learnloop@example.com",
            "to_address": "all-staff@example.com",
        },
    }
    await channel_settings_set(actor=hr, settings=msgspec.convert(channels, ChannelSettings))
    try:
        yield World(settings=settings, robots=robots, smtp=smtp, wecom=wecom, dingtalk=dingtalk, ctx={})
    finally:
        runtime_bind(previous)


async def employee_of(username: str) -> int:
    actor = await actor_named(username)
    assert actor.employee_id is not None
    return actor.employee_id


async def without_address(*usernames: str) -> None:
    """These people removed their e-mail address (on the Me page): the mailing list stands in."""
    for username in usernames:
        await employee_email_update(actor=await actor_named(username), email="")


async def reminder(source: str, *usernames: str) -> list[int]:
    return await notify(
        employee_ids=[await employee_of(name) for name in usernames],
        kind=KIND_HR_MESSAGE,
        title="请提交心得",
        body="大客户关系维护心得本周五截止",
        url="/reflections",
        source=source,
        dedupe_key=source,
    )


async def deliveries(notification_ids: list[int], channel: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = await Delivery.select().where(
        Delivery.notification.is_in(notification_ids) & (Delivery.channel == channel)
    )
    return rows


async def group_of(channel: str, source: str) -> dict[str, Any]:
    row = (
        await Delivery.select()
        .where(Delivery.unique_key == f"group:{channel}:{KIND_HR_MESSAGE}:{source}")
        .first()
    )
    assert row is not None
    return row


async def run_all(world: World, notification_ids: list[int], channel: str) -> None:
    for row in await deliveries(notification_ids, channel):
        await channel_deliver(world.ctx, int(row["id"]))


async def come_due(delivery_id: int) -> None:
    await Delivery.update({Delivery.not_before: dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)}).where(
        Delivery.id == delivery_id
    )


async def test_one_group_message_per_reminder_on_each_robot(world: World) -> None:
    created = await reminder("reminder:1", "zhang", "wang")
    assert len(await deliveries(created, CHANNEL_WECOM)) == 2  # one per person, as notify plans them
    for channel in (CHANNEL_WECOM, CHANNEL_DINGTALK):
        person_ids = [int(row["id"]) for row in await deliveries(created, channel)]
        # each job twice, and concurrently: still one post
        await asyncio.gather(*(channel_deliver(world.ctx, i) for i in person_ids * 2))
        await run_all(world, created, channel)

    assert world.robots.rejected == []  # the payloads had the right shape, the signature verified
    [wecom] = world.robots.posts(world.wecom)
    [dingtalk] = world.robots.posts(world.dingtalk)
    assert wecom.payload["msgtype"] == "markdown"
    content = wecom.payload["markdown"]["content"]
    assert "请提交心得" in content and "大客户关系维护心得本周五截止" in content
    assert "张" in content or "发送给" in content
    assert dingtalk.payload["msgtype"] == "markdown"
    assert dingtalk.payload["markdown"]["title"] == "请提交心得"
    assert "大客户关系维护心得本周五截止" in dingtalk.payload["markdown"]["text"]
    assert {"timestamp", "sign", "access_token"} <= set(dingtalk.query)

    for channel in (CHANNEL_WECOM, CHANNEL_DINGTALK):
        group = await group_of(channel, "reminder:1")
        assert (group["state"], group["attempts"], group["notification"]) == ("sent", 1, None)
        people = await deliveries(created, channel)
        assert {(row["state"], row["target"]) for row in people} == {("skipped", f"group:{group['id']}")}


async def test_the_group_message_is_mailed_to_the_list_for_people_without_an_address(world: World) -> None:
    await without_address("zhang", "wang")
    before = len(world.smtp.mails())
    created = await reminder("reminder:mail", "zhang", "wang")
    await run_all(world, created, CHANNEL_EMAIL)
    await run_all(world, created, CHANNEL_EMAIL)  # again: nothing more
    mails = world.smtp.mails()[before:]
    assert len(mails) == 1
    [mail] = mails
    assert mail.recipients == ["all-staff@example.com"] and mail.sender == "learnloop@example.com"
    assert mail.user == world.smtp.username  # it logged in
    assert mail.message["Subject"] == "请提交心得"
    content = mail.message.get_content()
    assert "大客户关系维护心得本周五截止" in content and "张丽华" in content and "王磊" in content
    assert (await group_of(CHANNEL_EMAIL, "reminder:mail"))["state"] == "sent"


async def test_personal_messages_never_reach_a_group(world: World) -> None:
    posts = len(world.robots.received)
    created = await notify(
        employee_ids=[await employee_of("zhang")],
        kind=KIND_POINTS_CREDITED,
        key=message_key("points_credited"),
        params={"points": 5},
        dedupe_key="points:9",
    )
    await run_all(world, created, CHANNEL_WECOM)
    [row] = await deliveries(created, CHANNEL_WECOM)
    assert row["state"] == "skipped" and "personal" in row["last_error"]
    assert len(world.robots.received) == posts


async def test_an_errcode_fails_the_delivery_with_the_robots_message(world: World) -> None:
    world.robots.answer(world.wecom, 200, {"errcode": 93000, "errmsg": "invalid webhook url, hint: [x]"})
    created = await reminder("reminder:err", "zhang")
    await run_all(world, created, CHANNEL_WECOM)
    group = await group_of(CHANNEL_WECOM, "reminder:err")
    assert group["state"] == "failed"
    assert "93000" in group["last_error"] and "invalid webhook url" in group["last_error"]


async def test_a_5xx_retries_later_then_succeeds_once(world: World) -> None:
    world.robots.answer(world.dingtalk, 502, {})
    before = len(world.robots.posts(world.dingtalk))
    created = await reminder("reminder:5xx", "zhang")
    await run_all(world, created, CHANNEL_DINGTALK)
    group = await group_of(CHANNEL_DINGTALK, "reminder:5xx")
    assert (group["state"], group["attempts"]) == ("pending", 1) and "502" in group["last_error"]
    assert group["not_before"] > dt.datetime.now(dt.UTC)  # backoff
    assert await channel_deliver(world.ctx, group["id"]) == "skipped"  # not due yet: nothing sent
    await come_due(group["id"])
    assert await channel_deliver(world.ctx, group["id"]) == "sent"
    assert await channel_deliver(world.ctx, group["id"]) == "skipped"
    assert len(world.robots.posts(world.dingtalk)) == before + 1
    group = await group_of(CHANNEL_DINGTALK, "reminder:5xx")
    assert (group["state"], group["attempts"], group["last_error"]) == ("sent", 2, "")


async def test_an_smtp_4xx_retries_and_a_5xx_fails(world: World) -> None:
    await without_address("zhang")
    world.smtp.scripted.append("451 4.3.0 try again later")
    created = await reminder("reminder:smtp", "zhang")
    await run_all(world, created, CHANNEL_EMAIL)
    group = await group_of(CHANNEL_EMAIL, "reminder:smtp")
    assert group["state"] == "pending" and "451" in group["last_error"]
    await come_due(group["id"])
    assert await channel_deliver(world.ctx, group["id"]) == "sent"

    world.smtp.scripted.append("550 5.7.1 relaying denied")
    created = await reminder("reminder:smtp550", "zhang")
    await run_all(world, created, CHANNEL_EMAIL)
    group = await group_of(CHANNEL_EMAIL, "reminder:smtp550")
    assert group["state"] == "failed" and "550" in group["last_error"]


async def test_a_wrong_dingtalk_secret_is_refused_by_the_robot(world: World) -> None:
    robot_id, url, secret = world.robots.dingtalk_robot()
    signed = dingtalk_signed_url(url, "SEC-not-the-secret")
    async with httpx.AsyncClient() as client:
        answer = (await client.post(signed, json={"msgtype": "text", "text": {"content": "x"}})).json()
    assert answer["errcode"] == 310000 and world.robots.posts(robot_id) == []
    async with httpx.AsyncClient() as client:
        good = (
            await client.post(
                dingtalk_signed_url(url, secret), json={"msgtype": "text", "text": {"content": "x"}}
            )
        ).json()
    assert good["errcode"] == 0 and len(world.robots.posts(robot_id)) == 1


async def test_quiet_hours_hold_group_messages(world: World) -> None:
    now = dt.datetime.now(org_zone())
    start = clock_text((now - dt.timedelta(minutes=30)).time())
    end = clock_text((now + dt.timedelta(minutes=30)).time())
    await quiet_hours_set(actor=await actor_named("hr"), start=start, end=end)
    posts = len(world.robots.received)
    created = await reminder("reminder:night", "zhang")
    [row] = await deliveries(created, CHANNEL_WECOM)
    assert row["not_before"] > dt.datetime.now(dt.UTC)
    assert await channel_deliver(world.ctx, row["id"]) == "skipped"
    assert (
        len(world.robots.received) == posts
        and (await deliveries(created, CHANNEL_WECOM))[0]["state"] == "pending"
    )


async def test_the_sweep_queues_and_the_worker_sends(world: World) -> None:
    queue = await queue_pool(world.settings.redis.url)
    await queue.flushdb()
    try:
        created = await reminder("reminder:sweep", "zhang", "wang")
        queued = await channel_sweep({"redis": queue})
        assert queued >= 2
        assert await channel_sweep({"redis": queue}) == 0  # already queued: the same job ids
        worker = worker_create(world.settings, redis_pool=queue, burst=True)
        await worker.main()
        assert worker.jobs_failed == 0
        assert (await group_of(CHANNEL_WECOM, "reminder:sweep"))["state"] == "sent"
        assert all(row["state"] == "skipped" for row in await deliveries(created, CHANNEL_WECOM))
    finally:
        await queue.flushdb()
        await queue.aclose()


async def test_hr_sends_a_test_message(world: World) -> None:
    hr = await actor_named("hr")
    ok = await channel_test(actor=hr, channel=CHANNEL_DINGTALK, locale="en")
    assert ok.ok and ok.error == ""
    assert world.robots.posts(world.dingtalk)[-1].payload["markdown"]["title"] == "Learnloop test message"
    world.robots.answer(world.wecom, 200, {"errcode": 93000, "errmsg": "invalid webhook url"})
    failed = await channel_test(actor=hr, channel=CHANNEL_WECOM, locale="en")
    assert not failed.ok and "93000" in failed.error
    mailed = await channel_test(actor=hr, channel=CHANNEL_EMAIL, locale="zh-CN")
    assert mailed.ok and mailed.recipient == "hr@demo.learnloop.example"  # HR's own address
    assert world.smtp.mails()[-1].message["Subject"] == "Learnloop 测试消息"
    assert world.smtp.mails()[-1].recipients == ["hr@demo.learnloop.example"]
    await without_address("hr")
    listed = await channel_test(actor=hr, channel=CHANNEL_EMAIL, locale="en")
    assert listed.ok and world.smtp.mails()[-1].recipients == ["all-staff@example.com"]
