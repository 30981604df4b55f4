"""Web Push deliveries end to end, on SQLite and PostgreSQL, against a loopback push service that checks
VAPID and decrypts what a browser would see; with the arq worker on a real Redis where one is involved.

notify → pending web_push Delivery → kick / sweep → batch job (push_send) → FakePushService. Exactly once: the
same job twice, concurrent runs and re-runs send nothing twice; 410 forgets the browser; 429 and 5xx
retry later (only to the browsers still waiting); quiet hours defer; a run that died is picked up again.
"""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from backend.notifications.delivery_claims import MAX_ATTEMPTS, delivery_backoff
from backend.notifications.kinds import KIND_DUE_SOON, KIND_POINTS_CREDITED, KIND_REFLECTION_PEER, message_key
from backend.notifications.push_batch import LEASE, push_open_url
from backend.notifications.push_jobs import push_job_id, push_sweep
from backend.notifications.quiet_hours import clock_text, org_zone
from backend.notifications.services import notification_read, notify, quiet_hours_set
from backend.notifications.tables import Delivery, PushSubscription
from backend.org.tables import Employee
from tests.support.push_world import (
    World,
    come_due,
    delivery_of,
    employee_of,
    hr_message,
    push_deliver,
    queued_jobs,
)
from tests.ui.harness import actor_named

pytestmark = pytest.mark.usefixtures("backend_name")


async def test_a_notification_reaches_the_browser_through_the_worker(push_world: World) -> None:
    await push_world.subscribe("zhang", "zhang-phone")
    notification_id = await hr_message("zhang")
    delivery = await delivery_of(notification_id)
    # notify kicked it after its commit: the job is queued under its deterministic id
    assert await queued_jobs(push_world.queue) == [push_job_id([delivery["id"]])]

    await push_world.worker_run()

    assert push_world.service.rejected == []
    [received] = push_world.received("zhang-phone")
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

    await push_world.worker_run(sweep=True)  # the sweep finds nothing due: nothing is sent again
    assert len(push_world.received("zhang-phone")) == 1


async def test_the_message_is_in_the_recipients_language(push_world: World) -> None:
    await push_world.subscribe("zhang", "zhang-en", locale="en")  # her browser speaks English
    await push_world.subscribe("wang", "wang-zh", locale="en")
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
        assert await push_deliver(push_world.ctx, (await delivery_of(notification_id))["id"]) == "sent"
    [english] = push_world.received("zhang-en")
    [chinese] = push_world.received("wang-zh")
    assert (english.payload["title"], english.payload["body"]) == ("You earned 5 points", "Exam passed")
    assert (chinese.payload["title"], chinese.payload["body"]) == ("获得 5 积分", "通过考试")
    assert english.headers["urgency"] == "normal"


async def test_the_same_delivery_run_twice_sends_once(push_world: World) -> None:
    await push_world.subscribe("zhang", "twice")
    notification_id = await hr_message("zhang")
    delivery_id = (await delivery_of(notification_id))["id"]
    # a second enqueue under the same job id is refused while the first waits
    assert (
        await push_world.queue.enqueue_job("push_deliver", [delivery_id], _job_id=push_job_id([delivery_id]))
        is None
    )
    # two runs at once (two workers), then a re-run: one sends, the others find nothing to claim
    results = await asyncio.gather(*(push_deliver(push_world.ctx, delivery_id) for _ in range(3)))
    assert sorted(results) == ["sent", "skipped", "skipped"]
    await push_world.worker_run()  # the job the kick queued
    assert await push_deliver(push_world.ctx, delivery_id) == "skipped"
    assert len(push_world.received("twice")) == 1
    assert (await delivery_of(notification_id))["attempts"] == 1


async def test_a_run_that_died_is_sent_after_its_lease(push_world: World) -> None:
    await push_world.subscribe("zhang", "died")
    notification_id = await hr_message("zhang")
    delivery_id = (await delivery_of(notification_id))["id"]
    await push_world.queue.flushdb()  # the kick's job is lost with its worker
    # a run claimed it and died before sending: its lease holds it back from the sweep ...
    await Delivery.update({Delivery.not_before: dt.datetime.now(dt.UTC) + LEASE, Delivery.attempts: 1}).where(
        Delivery.id == delivery_id
    )
    assert await push_sweep(push_world.ctx) == 0
    # ... until the lease runs out: then the sweep hands it to a worker again, and nothing is lost
    await come_due(delivery_id)
    await push_world.worker_run(sweep=True)
    assert len(push_world.received("died")) == 1
    assert (
        (await delivery_of(notification_id))["state"],
        (await delivery_of(notification_id))["attempts"],
    ) == (
        "sent",
        2,
    )


async def test_a_gone_browser_is_forgotten(push_world: World) -> None:
    phone = await push_world.subscribe("zhang", "gone-phone")
    await push_world.subscribe("zhang", "gone-laptop")
    push_world.answer("gone-phone", 410)
    notification_id = await hr_message("zhang")
    assert await push_deliver(push_world.ctx, (await delivery_of(notification_id))["id"]) == "sent"
    assert len(push_world.received("gone-laptop")) == 1
    assert not await PushSubscription.exists().where(PushSubscription.id == phone)
    assert "gone 410" in (await delivery_of(notification_id))["last_error"]

    # with no browser left that takes it, the delivery fails and the subscription is gone
    push_world.answer("gone-laptop", 404)
    other = await hr_message("zhang", key="reminder:2")
    assert await push_deliver(push_world.ctx, (await delivery_of(other))["id"]) == "failed"
    assert await PushSubscription.count() == 0


async def test_429_defers_by_retry_after(push_world: World) -> None:
    await push_world.subscribe("zhang", "busy")
    push_world.answer("busy", 429, {"retry-after": "120"})
    notification_id = await hr_message("zhang")
    delivery_id = (await delivery_of(notification_id))["id"]
    assert await push_deliver(push_world.ctx, delivery_id) == "retry"
    delivery = await delivery_of(notification_id)
    wait = (delivery["not_before"] - dt.datetime.now(dt.UTC)).total_seconds()
    assert (delivery["state"], delivery["attempts"]) == ("pending", 1)
    assert 100 < wait <= 120 and "429" in delivery["last_error"]
    assert await push_sweep(push_world.ctx) == 0  # not due yet
    assert await push_deliver(push_world.ctx, delivery_id) == "skipped"
    await come_due(delivery_id)
    assert await push_deliver(push_world.ctx, delivery_id) == "sent"
    assert len(push_world.received("busy")) == 1
    assert (await delivery_of(notification_id))["attempts"] == 2


async def test_5xx_retries_with_growing_backoff_then_succeeds(push_world: World) -> None:
    await push_world.subscribe("zhang", "flaky")
    push_world.answer("flaky", 503)
    push_world.answer("flaky", 500)
    notification_id = await hr_message("zhang")
    delivery_id = (await delivery_of(notification_id))["id"]
    waits = []
    for _ in range(2):
        await come_due(delivery_id)
        assert await push_deliver(push_world.ctx, delivery_id) == "retry"
        delivery = await delivery_of(notification_id)
        waits.append((delivery["not_before"] - dt.datetime.now(dt.UTC)).total_seconds())
    assert delivery_backoff(1) - 5 < waits[0] <= delivery_backoff(1) < waits[1] <= delivery_backoff(2)
    await come_due(delivery_id)
    await push_world.worker_run(sweep=True)  # the sweep finds it due and the worker sends it
    delivery = await delivery_of(notification_id)
    assert (delivery["state"], delivery["attempts"]) == ("sent", 3)
    assert len(push_world.received("flaky")) == 1


async def test_retries_are_bounded(push_world: World) -> None:
    await push_world.subscribe("zhang", "down")
    for _ in range(MAX_ATTEMPTS):
        push_world.answer("down", 502)
    notification_id = await hr_message("zhang")
    delivery_id = (await delivery_of(notification_id))["id"]
    results = []
    for _ in range(MAX_ATTEMPTS):
        await come_due(delivery_id)
        results.append(await push_deliver(push_world.ctx, delivery_id))
    assert results == ["retry"] * (MAX_ATTEMPTS - 1) + ["failed"]
    delivery = await delivery_of(notification_id)
    assert (delivery["state"], delivery["attempts"]) == ("failed", MAX_ATTEMPTS)
    assert "502" in delivery["last_error"]
    await come_due(delivery_id)
    assert await push_deliver(push_world.ctx, delivery_id) == "skipped"
    assert push_world.received("down") == []


async def test_a_retry_goes_only_to_the_browsers_still_waiting(push_world: World) -> None:
    await push_world.subscribe("zhang", "part-phone")
    await push_world.subscribe("zhang", "part-laptop")
    push_world.answer("part-laptop", 503)
    notification_id = await hr_message("zhang")
    delivery_id = (await delivery_of(notification_id))["id"]
    assert await push_deliver(push_world.ctx, delivery_id) == "retry"
    delivery = await delivery_of(notification_id)
    assert delivery["state"] == "pending" and delivery["sent_at"] is not None
    await come_due(delivery_id)
    assert await push_deliver(push_world.ctx, delivery_id) == "sent"
    assert len(push_world.received("part-phone")) == 1
    assert len(push_world.received("part-laptop")) == 1


async def test_quiet_hours_defer_the_push(push_world: World) -> None:
    await push_world.subscribe("zhang", "night")
    local = dt.datetime.now(org_zone())
    await quiet_hours_set(
        actor=await actor_named("hr"),
        start=clock_text((local - dt.timedelta(hours=1)).time()),
        end=clock_text((local + dt.timedelta(hours=1)).time()),
    )
    notification_id = await hr_message("zhang")
    delivery = await delivery_of(notification_id)
    assert delivery["not_before"] > dt.datetime.now(dt.UTC) + dt.timedelta(minutes=50)
    assert await queued_jobs(push_world.queue) == []  # nothing kicked ...
    await push_world.worker_run(sweep=True)  # ... nor swept
    assert await push_deliver(push_world.ctx, delivery["id"]) == "skipped"
    assert push_world.received("night") == []
    await come_due(delivery["id"])  # the quiet hours are over
    await push_world.worker_run(sweep=True)
    assert len(push_world.received("night")) == 1


async def test_nothing_to_send_to(push_world: World) -> None:
    no_browser = await hr_message("zhang")  # zhang has no subscription yet
    assert await push_deliver(push_world.ctx, (await delivery_of(no_browser))["id"]) == "skipped"
    await push_world.subscribe("zhang", "read-first")
    read_first = await hr_message("zhang", key="reminder:2")
    await notification_read(actor=await actor_named("zhang"), notification_id=read_first)
    assert await push_deliver(push_world.ctx, (await delivery_of(read_first))["id"]) == "skipped"
    assert (await delivery_of(read_first))["last_error"] == "read in the app"
    assert push_world.received("read-first") == []


async def test_likes_are_low_urgency(push_world: World) -> None:
    await push_world.subscribe("zhang", "likes")
    [created] = await notify(
        employee_ids=[await employee_of("zhang")],
        kind=KIND_REFLECTION_PEER,
        key=message_key("peer_like_one"),
        params={"name": "王", "title": "心得", "likes": 1, "comments": 0, "names": ["王"]},
        url="/reflections/1",
        source="submission:1",
        dedupe_key="peer:1",
    )
    assert await push_deliver(push_world.ctx, (await delivery_of(created))["id"]) == "sent"
    [received] = push_world.received("likes")
    assert received.headers["urgency"] == "low"
    assert received.payload["url"] == push_open_url(created)


async def test_a_reflection_due_today_is_high_urgency_one_due_in_two_days_is_not(push_world: World) -> None:
    await push_world.subscribe("zhang", "due")
    zhang = await employee_of("zhang")
    now = dt.datetime.now(dt.UTC)
    for n, (variant, left) in enumerate(
        (("due_soon_days", dt.timedelta(hours=47)), ("due_soon_hours", dt.timedelta(hours=2)))
    ):
        [created] = await notify(
            employee_ids=[zhang],
            kind=KIND_DUE_SOON,
            key=f"reminders.msg.{variant}",
            params={"training": "大客户关系维护", "count": 2, "due": {"at": (now + left).isoformat()}},
            url="/reflections",
            source=f"assignment:{n}",
            dedupe_key=f"remind:{n}",
        )
        assert await push_deliver(push_world.ctx, (await delivery_of(created))["id"]) == "sent"
    in_two_days, today = push_world.received("due")
    assert (in_two_days.payload["title"], in_two_days.headers["urgency"]) == (
        "大客户关系维护心得 2 天后截止",
        "normal",
    )
    assert today.headers["urgency"] == "high"
