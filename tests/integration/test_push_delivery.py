"""Web Push deliveries end to end, on SQLite and PostgreSQL, against a loopback push service that checks
VAPID and decrypts what a browser would see; with the arq worker on a real Redis where one is involved.

notify → pending web_push Delivery → kick / sweep → push_deliver → FakePushService. Exactly once: the
same job twice, concurrent runs and re-runs send nothing twice; 410 forgets the browser; 429 and 5xx
retry later (only to the browsers still waiting); quiet hours defer; a run that died is picked up again.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import msgspec
import pytest
import pytest_asyncio
from arq.connections import ArqRedis

from backend.lib.queue import queue_pool
from backend.lib.runtime import Runtime, runtime_bind, runtime_peek
from backend.lib.storage import storage_client
from backend.notifications.kinds import (
    CHANNEL_WEB_PUSH,
    KIND_HR_MESSAGE,
    KIND_POINTS_CREDITED,
    KIND_REFLECTION_PEER,
    message_key,
)
from backend.notifications.push_jobs import (
    LEASE,
    MAX_ATTEMPTS,
    push_backoff,
    push_deliver,
    push_job_id,
    push_open_url,
    push_sweep,
    push_worker_stop,
)
from backend.notifications.push_subscriptions import PushSubscriptionIn, push_subscription_save
from backend.notifications.quiet_hours import clock_text, org_zone
from backend.notifications.services import notification_read, notify, quiet_hours_set
from backend.notifications.tables import Delivery, NotificationSettings, PushSubscription
from backend.org.tables import Employee
from backend.reflections.tables import Assignment, Submission
from backend.settings import Settings
from backend.worker import worker_create
from tests.support.fake_push import FakePushService, Received
from tests.ui.harness import actor_named

pytestmark = pytest.mark.usefixtures("backend_name")


@pytest.fixture(scope="module")
def push_service() -> Iterator[FakePushService]:
    service = FakePushService().start()
    yield service
    service.stop()


@dataclass
class World:
    settings: Settings
    queue: ArqRedis
    ctx: dict[str, Any]  # what a worker's jobs get
    service: FakePushService
    prefix: str = field(default_factory=lambda: uuid.uuid4().hex[:8])  # endpoints of this test only

    async def subscribe(self, username: str, name: str, *, locale: str = "") -> int:
        browser = self.service.subscription(f"{self.prefix}-{name}")
        saved = await push_subscription_save(
            actor=await actor_named(username),
            subscription=msgspec.convert(browser, PushSubscriptionIn),
            locale=locale,
        )
        return saved.id

    def received(self, name: str) -> list[Received]:
        return self.service.for_endpoint(f"{self.prefix}-{name}")

    def answer(self, name: str, status: int, headers: dict[str, str] | None = None) -> None:
        self.service.answer(f"{self.prefix}-{name}", status, headers)

    async def worker_run(self, *, sweep: bool = False) -> None:
        """A burst worker running every queued job; with `sweep`, the minute's push sweep first (the
        worker's own start-up run of the cron fires once per process: arq keeps it on the cron job)."""
        if sweep:
            await push_sweep(self.ctx)
        worker = worker_create(self.settings, redis_pool=self.queue, burst=True)
        await worker.main()
        assert worker.jobs_failed == 0


@pytest_asyncio.fixture(loop_scope="session")
async def world(settings: Settings, demo: None, push_service: FakePushService) -> AsyncIterator[World]:
    settings = msgspec.structs.replace(
        settings, push=msgspec.structs.replace(settings.push, allow_loopback_http=True)
    )
    queue = await queue_pool(settings.redis.url)
    await queue.flushdb()
    previous = runtime_peek()
    runtime_bind(Runtime(settings=settings, storage=storage_client(settings.storage), queue=queue))
    # No reflection is due near now, so the worker's due-soon scan pushes nothing of its own here.
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=30)
    await Assignment.update({Assignment.due_at: later}, force=True)
    await Submission.update({Submission.due_at: later}).where(Submission.due_at.is_not_null())
    # The organisation sends pushes; no quiet hours unless a test sets them.
    await NotificationSettings.insert(
        NotificationSettings(
            id=1, quiet_start="00:00", quiet_end="00:00", channels={CHANNEL_WEB_PUSH: {"enabled": True}}
        )
    )
    ctx: dict[str, Any] = {"settings": settings, "redis": queue}
    try:
        yield World(settings=settings, queue=queue, ctx=ctx, service=push_service)
    finally:
        await push_worker_stop(ctx)
        runtime_bind(previous)
        await queue.flushdb()
        await queue.aclose()


async def employee_of(username: str) -> int:
    actor = await actor_named(username)
    assert actor.employee_id is not None
    return actor.employee_id


async def hr_message(username: str, key: str = "reminder:1") -> int:
    [created] = await notify(
        employee_ids=[await employee_of(username)],
        kind=KIND_HR_MESSAGE,
        title="请提交心得",
        body="大客户关系维护心得本周五截止",
        url="/reflections",
        source=key,
        dedupe_key=key,
    )
    return created


async def delivery_of(notification_id: int) -> dict[str, Any]:
    row = await Delivery.select().where(Delivery.notification == notification_id).first()
    assert row is not None
    return row


async def come_due(delivery_id: int) -> None:
    """As if the time it waits for had passed."""
    await Delivery.update({Delivery.not_before: dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)}).where(
        Delivery.id == delivery_id
    )


async def queued_jobs(queue: ArqRedis) -> list[str]:
    return sorted(str(job.job_id) for job in await queue.queued_jobs())


async def test_a_notification_reaches_the_browser_through_the_worker(world: World) -> None:
    await world.subscribe("zhang", "zhang-phone")
    notification_id = await hr_message("zhang")
    delivery = await delivery_of(notification_id)
    # notify kicked it after its commit: the job is queued under its deterministic id
    assert await queued_jobs(world.queue) == [push_job_id(delivery["id"])]

    await world.worker_run()

    assert world.service.rejected == []
    [received] = world.received("zhang-phone")
    assert received.payload == {
        "title": "请提交心得",
        "body": "大客户关系维护心得本周五截止",
        "url": push_open_url(notification_id),
    }
    assert received.headers["urgency"] == "high"  # an HR message
    assert int(received.headers["ttl"]) > 0 and len(received.headers["topic"]) <= 32
    delivery = await delivery_of(notification_id)
    assert (delivery["state"], delivery["attempts"], delivery["last_error"]) == ("sent", 1, "")
    assert delivery["sent_at"] is not None

    await world.worker_run(sweep=True)  # the sweep finds nothing due: nothing is sent again
    assert len(world.received("zhang-phone")) == 1


async def test_the_message_is_in_the_recipients_language(world: World) -> None:
    await world.subscribe("zhang", "zhang-en", locale="en")  # her browser speaks English
    await world.subscribe("wang", "wang-zh", locale="en")
    zhang, wang = await employee_of("zhang"), await employee_of("wang")
    await Employee.update({Employee.locale: "zh-CN"}).where(Employee.id == wang)  # his own choice wins
    created = await notify(
        employee_ids=[zhang, wang],
        kind=KIND_POINTS_CREDITED,
        key=message_key("points_credited"),
        params={"points": 5, "activity": {"key": "points.kind.exam_passed", "text": "exam_passed"}},
        url="/points",
        dedupe_key="points:1",
    )
    for notification_id in created:
        assert await push_deliver(world.ctx, (await delivery_of(notification_id))["id"]) == "sent"
    [english] = world.received("zhang-en")
    [chinese] = world.received("wang-zh")
    assert (english.payload["title"], english.payload["body"]) == ("You earned 5 points", "Exam passed")
    assert (chinese.payload["title"], chinese.payload["body"]) == ("获得 5 积分", "通过考试")
    assert english.headers["urgency"] == "normal"


async def test_the_same_delivery_run_twice_sends_once(world: World) -> None:
    await world.subscribe("zhang", "twice")
    notification_id = await hr_message("zhang")
    delivery_id = (await delivery_of(notification_id))["id"]
    # a second enqueue under the same job id is refused while the first waits
    assert (
        await world.queue.enqueue_job("push_deliver", delivery_id, _job_id=push_job_id(delivery_id)) is None
    )
    # two runs at once (two workers), then a re-run: one sends, the others find nothing to claim
    results = await asyncio.gather(*(push_deliver(world.ctx, delivery_id) for _ in range(3)))
    assert sorted(results) == ["sent", "skipped", "skipped"]
    await world.worker_run()  # the job the kick queued
    assert await push_deliver(world.ctx, delivery_id) == "skipped"
    assert len(world.received("twice")) == 1
    assert (await delivery_of(notification_id))["attempts"] == 1


async def test_a_run_that_died_is_sent_after_its_lease(world: World) -> None:
    await world.subscribe("zhang", "died")
    notification_id = await hr_message("zhang")
    delivery_id = (await delivery_of(notification_id))["id"]
    await world.queue.flushdb()  # the kick's job is lost with its worker
    # a run claimed it and died before sending: its lease holds it back from the sweep ...
    await Delivery.update({Delivery.not_before: dt.datetime.now(dt.UTC) + LEASE, Delivery.attempts: 1}).where(
        Delivery.id == delivery_id
    )
    assert await push_sweep(world.ctx) == 0
    # ... until the lease runs out: then the sweep hands it to a worker again, and nothing is lost
    await come_due(delivery_id)
    await world.worker_run(sweep=True)
    assert len(world.received("died")) == 1
    assert (
        (await delivery_of(notification_id))["state"],
        (await delivery_of(notification_id))["attempts"],
    ) == (
        "sent",
        2,
    )


async def test_a_gone_browser_is_forgotten(world: World) -> None:
    phone = await world.subscribe("zhang", "gone-phone")
    await world.subscribe("zhang", "gone-laptop")
    world.answer("gone-phone", 410)
    notification_id = await hr_message("zhang")
    assert await push_deliver(world.ctx, (await delivery_of(notification_id))["id"]) == "sent"
    assert len(world.received("gone-laptop")) == 1
    assert not await PushSubscription.exists().where(PushSubscription.id == phone)
    assert "gone 410" in (await delivery_of(notification_id))["last_error"]

    # with no browser left that takes it, the delivery fails and the subscription is gone
    world.answer("gone-laptop", 404)
    other = await hr_message("zhang", key="reminder:2")
    assert await push_deliver(world.ctx, (await delivery_of(other))["id"]) == "failed"
    assert await PushSubscription.count() == 0


async def test_429_defers_by_retry_after(world: World) -> None:
    await world.subscribe("zhang", "busy")
    world.answer("busy", 429, {"retry-after": "120"})
    notification_id = await hr_message("zhang")
    delivery_id = (await delivery_of(notification_id))["id"]
    assert await push_deliver(world.ctx, delivery_id) == "retry"
    delivery = await delivery_of(notification_id)
    wait = (delivery["not_before"] - dt.datetime.now(dt.UTC)).total_seconds()
    assert (delivery["state"], delivery["attempts"]) == ("pending", 1)
    assert 100 < wait <= 120 and "429" in delivery["last_error"]
    assert await push_sweep(world.ctx) == 0  # not due yet
    assert await push_deliver(world.ctx, delivery_id) == "skipped"
    await come_due(delivery_id)
    assert await push_deliver(world.ctx, delivery_id) == "sent"
    assert len(world.received("busy")) == 1
    assert (await delivery_of(notification_id))["attempts"] == 2


async def test_5xx_retries_with_growing_backoff_then_succeeds(world: World) -> None:
    await world.subscribe("zhang", "flaky")
    world.answer("flaky", 503)
    world.answer("flaky", 500)
    notification_id = await hr_message("zhang")
    delivery_id = (await delivery_of(notification_id))["id"]
    waits = []
    for _ in range(2):
        await come_due(delivery_id)
        assert await push_deliver(world.ctx, delivery_id) == "retry"
        delivery = await delivery_of(notification_id)
        waits.append((delivery["not_before"] - dt.datetime.now(dt.UTC)).total_seconds())
    assert push_backoff(1) - 5 < waits[0] <= push_backoff(1) < waits[1] <= push_backoff(2)
    await come_due(delivery_id)
    await world.worker_run(sweep=True)  # the sweep finds it due and the worker sends it
    delivery = await delivery_of(notification_id)
    assert (delivery["state"], delivery["attempts"]) == ("sent", 3)
    assert len(world.received("flaky")) == 1


async def test_retries_are_bounded(world: World) -> None:
    await world.subscribe("zhang", "down")
    for _ in range(MAX_ATTEMPTS):
        world.answer("down", 502)
    notification_id = await hr_message("zhang")
    delivery_id = (await delivery_of(notification_id))["id"]
    results = []
    for _ in range(MAX_ATTEMPTS):
        await come_due(delivery_id)
        results.append(await push_deliver(world.ctx, delivery_id))
    assert results == ["retry"] * (MAX_ATTEMPTS - 1) + ["failed"]
    delivery = await delivery_of(notification_id)
    assert (delivery["state"], delivery["attempts"]) == ("failed", MAX_ATTEMPTS)
    assert "502" in delivery["last_error"]
    await come_due(delivery_id)
    assert await push_deliver(world.ctx, delivery_id) == "skipped"
    assert world.received("down") == []


async def test_a_retry_goes_only_to_the_browsers_still_waiting(world: World) -> None:
    await world.subscribe("zhang", "part-phone")
    await world.subscribe("zhang", "part-laptop")
    world.answer("part-laptop", 503)
    notification_id = await hr_message("zhang")
    delivery_id = (await delivery_of(notification_id))["id"]
    assert await push_deliver(world.ctx, delivery_id) == "retry"
    delivery = await delivery_of(notification_id)
    assert delivery["state"] == "pending" and delivery["sent_at"] is not None
    await come_due(delivery_id)
    assert await push_deliver(world.ctx, delivery_id) == "sent"
    assert len(world.received("part-phone")) == 1
    assert len(world.received("part-laptop")) == 1


async def test_quiet_hours_defer_the_push(world: World) -> None:
    await world.subscribe("zhang", "night")
    local = dt.datetime.now(org_zone())
    await quiet_hours_set(
        actor=await actor_named("hr"),
        start=clock_text((local - dt.timedelta(hours=1)).time()),
        end=clock_text((local + dt.timedelta(hours=1)).time()),
    )
    notification_id = await hr_message("zhang")
    delivery = await delivery_of(notification_id)
    assert delivery["not_before"] > dt.datetime.now(dt.UTC) + dt.timedelta(minutes=50)
    assert await queued_jobs(world.queue) == []  # nothing kicked ...
    await world.worker_run(sweep=True)  # ... nor swept
    assert await push_deliver(world.ctx, delivery["id"]) == "skipped"
    assert world.received("night") == []
    await come_due(delivery["id"])  # the quiet hours are over
    await world.worker_run(sweep=True)
    assert len(world.received("night")) == 1


async def test_nothing_to_send_to(world: World) -> None:
    no_browser = await hr_message("zhang")  # zhang has no subscription yet
    assert await push_deliver(world.ctx, (await delivery_of(no_browser))["id"]) == "skipped"
    await world.subscribe("zhang", "read-first")
    read_first = await hr_message("zhang", key="reminder:2")
    await notification_read(actor=await actor_named("zhang"), notification_id=read_first)
    assert await push_deliver(world.ctx, (await delivery_of(read_first))["id"]) == "skipped"
    assert (await delivery_of(read_first))["last_error"] == "read in the app"
    assert world.received("read-first") == []


async def test_likes_are_low_urgency(world: World) -> None:
    await world.subscribe("zhang", "likes")
    [created] = await notify(
        employee_ids=[await employee_of("zhang")],
        kind=KIND_REFLECTION_PEER,
        key=message_key("peer_like_one"),
        params={"name": "王", "title": "心得", "likes": 1, "comments": 0, "names": ["王"]},
        url="/reflections/1",
        source="submission:1",
        dedupe_key="peer:1",
    )
    assert await push_deliver(world.ctx, (await delivery_of(created))["id"]) == "sent"
    [received] = world.received("likes")
    assert received.headers["urgency"] == "low"
    assert received.payload["url"] == push_open_url(created)
