"""Web Push in batches, on SQLite and PostgreSQL, against the loopback push service that checks VAPID
and decrypts every message: a message to many people goes out in batch jobs, each person once, whatever
repeats, overlaps, times out or dies mid-batch.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import signal
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from backend.events.tables import OutboxEvent
from backend.notifications.delivery_claims import delivery_backoff
from backend.notifications.kinds import CHANNEL_WEB_PUSH, KIND_HR_MESSAGE
from backend.notifications.push_batch import BATCH, LEASE
from backend.notifications.push_jobs import JOB_NAME, push_job_id, push_send, push_worker_start
from backend.notifications.services import notify
from backend.notifications.tables import Delivery, DeliveryAttempt, Notification, PushSubscription
from tests.support.push_world import World, come_due, employee_of, queued_jobs
from tests.support.worker_process import worker_process_start

pytestmark = pytest.mark.usefixtures("backend_name")

WAIT_SECONDS = 60.0


async def message_to(people: list[int], key: str = "reminder:7") -> list[int]:
    """An HR message to `people`; the ids of their web_push deliveries, in the order of `people`."""
    created = await notify(
        employee_ids=people,
        kind=KIND_HR_MESSAGE,
        title="请提交心得",
        body="大客户关系维护心得本周五截止",
        url="/reflections",
        source=key,
        dedupe_key=key,
    )
    assert len(created) == len(people)
    rows = await Delivery.select(Delivery.id, Delivery.notification.employee.as_alias("employee")).where(
        Delivery.notification.is_in(created) & (Delivery.channel == CHANNEL_WEB_PUSH)
    )
    by_person = {int(row["employee"]): int(row["id"]) for row in rows}
    return [by_person[person] for person in people]


async def states(delivery_ids: list[int]) -> list[str]:
    rows = await Delivery.select(Delivery.id, Delivery.state).where(Delivery.id.is_in(delivery_ids))
    by_id = {int(row["id"]): str(row["state"]) for row in rows}
    return [by_id[delivery_id] for delivery_id in delivery_ids]


async def eventually(check: Callable[[], Awaitable[bool]], what: str) -> None:
    """Wait (bounded) until `check` holds: for what another process does."""
    deadline = time.monotonic() + WAIT_SECONDS
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {WAIT_SECONDS:.0f} s: {what}")
        await asyncio.sleep(0.05)


def received_counts(world: World, count: int) -> list[int]:
    """How many pushes each of the people "p0".."p<count-1>" received."""
    return [len(world.received(f"p{n}")) for n in range(count)]


async def test_a_message_to_many_goes_out_in_batch_jobs_each_person_once(push_world: World) -> None:
    people = await push_world.people_with_browsers(2 * BATCH + 50)
    deliveries = await message_to(people)

    # notify queued the deliveries in batch jobs after its commit, not one job per person
    ordered = sorted(deliveries)
    batches = [ordered[start : start + BATCH] for start in range(0, len(ordered), BATCH)]
    assert await queued_jobs(push_world.queue) == sorted(push_job_id(batch) for batch in batches)
    # the same batch again (another kick, a sweep) is refused while it waits; an overlapping one (a
    # sweep that cut the batches differently) is queued, and sends nothing twice
    assert await push_world.queue.enqueue_job(JOB_NAME, batches[0], _job_id=push_job_id(batches[0])) is None
    overlap = ordered[BATCH // 2 : BATCH + BATCH // 2]
    assert await push_world.queue.enqueue_job(JOB_NAME, overlap, _job_id=push_job_id(overlap)) is not None

    await push_world.worker_run()

    assert push_world.service.rejected == []
    assert received_counts(push_world, len(people)) == [1] * len(people)
    assert set(await states(deliveries)) == {"sent"}
    attempts = await Delivery.select(Delivery.attempts).where(Delivery.id.is_in(deliveries))
    assert {row["attempts"] for row in attempts} == {1}

    await push_world.worker_run(sweep=True)  # nothing is due any more: nothing goes out again
    assert received_counts(push_world, len(people)) == [1] * len(people)


async def test_one_batch_ends_each_delivery_its_own_way(push_world: World) -> None:
    ok, gone, busy, flaky, read = await push_world.people_with_browsers(5)
    no_browser = await employee_of("wang")
    push_world.answer("p1", 410)
    push_world.answer("p2", 429, {"retry-after": "120"})
    push_world.answer("p3", 503)
    deliveries = await message_to([ok, gone, busy, flaky, read, no_browser])
    await Notification.update({Notification.read_at: dt.datetime.now(dt.UTC)}).where(
        Notification.employee == read
    )

    results = await push_send(push_world.ctx, deliveries)

    assert [results[delivery_id] for delivery_id in deliveries] == [
        "sent",
        "failed",  # the only browser is gone
        "retry",
        "retry",
        "skipped",  # read in the app meanwhile
        "skipped",  # no browser to send to
    ]
    rows = {int(row["id"]): row for row in await Delivery.select().where(Delivery.id.is_in(deliveries))}
    now = dt.datetime.now(dt.UTC)
    assert rows[deliveries[0]]["sent_at"] is not None and rows[deliveries[0]]["last_error"] == ""
    assert "gone 410" in rows[deliveries[1]]["last_error"]
    assert not await PushSubscription.exists().where(PushSubscription.employee == gone)
    assert 100 < (rows[deliveries[2]]["not_before"] - now).total_seconds() <= 120  # its Retry-After
    assert (
        delivery_backoff(1) - 10
        < (rows[deliveries[3]]["not_before"] - now).total_seconds()
        <= delivery_backoff(1)
    )
    assert [rows[d]["last_error"] for d in deliveries[4:]] == ["read in the app", "no subscription"]
    assert received_counts(push_world, 5) == [1, 0, 0, 0, 0]

    await come_due(deliveries[2], deliveries[3])
    again = await push_send(push_world.ctx, deliveries)  # done ones are left alone
    assert again == {deliveries[2]: "sent", deliveries[3]: "sent"}
    assert received_counts(push_world, 5) == [1, 0, 1, 1, 0]


async def test_overlapping_batches_at_once_send_each_delivery_once(push_world: World) -> None:
    people = await push_world.people_with_browsers(30)
    deliveries = await message_to(people)
    await push_world.queue.flushdb()
    await push_worker_start(push_world.ctx)  # the worker's start-up: one sender for every job

    runs = await asyncio.gather(
        push_send(push_world.ctx, deliveries[:20]),
        push_send(push_world.ctx, deliveries[10:]),
        push_send(push_world.ctx, deliveries),
    )

    claimed = [delivery_id for run in runs for delivery_id in run]
    assert sorted(claimed) == sorted(deliveries)  # each delivery was claimed by exactly one run
    assert received_counts(push_world, 30) == [1] * 30
    assert set(await states(deliveries)) == {"sent"}


async def test_a_batch_stopped_by_its_timeout_keeps_what_it_sent_and_loses_nothing(push_world: World) -> None:
    people = await push_world.people_with_browsers(4)
    push_world.service.hold(push_world.endpoint_id("p3"))  # this push service hangs
    deliveries = await message_to(people)
    await push_world.queue.flushdb()
    await push_worker_start(push_world.ctx)

    run = asyncio.create_task(push_send(push_world.ctx, deliveries))

    async def three_sent_one_hanging() -> bool:
        return push_world.service.waiting == 1 and (await states(deliveries)).count("sent") == 3

    await eventually(three_sent_one_hanging, "three pushes recorded as sent while the fourth hangs")
    run.cancel()  # what arq does when the job's time is up
    with pytest.raises(asyncio.CancelledError):
        await run
    push_world.service.release()

    assert await states(deliveries) == ["sent", "sent", "sent", "pending"]
    held = await Delivery.select().where(Delivery.id == deliveries[3]).first()
    assert held is not None and held["not_before"] > dt.datetime.now(dt.UTC) + LEASE / 2  # leased
    await come_due(deliveries[3])  # its lease ran out
    assert await push_send(push_world.ctx, deliveries) == {deliveries[3]: "sent"}
    assert received_counts(push_world, 4) == [1, 1, 1, 1]


async def test_a_worker_killed_mid_batch_sends_nothing_twice_and_loses_nothing(
    push_world: World, tmp_path: Path
) -> None:
    people = await push_world.people_with_browsers(30)
    for n in range(20, 30):  # ten of the browsers' push services hang
        push_world.service.hold(push_world.endpoint_id(f"p{n}"))
    # The demo's own events (its course videos, say) are not this test's business: handled already.
    await OutboxEvent.update({OutboxEvent.handled_at: dt.datetime.now(dt.UTC)}, force=True)
    deliveries = await message_to(people)  # queued for the worker after the commit
    worker = worker_process_start(push_world.settings, tmp_path / "worker.log")
    try:

        async def twenty_recorded_ten_in_flight() -> bool:
            if worker.poll() is not None:
                raise AssertionError((tmp_path / "worker.log").read_text()[-2000:])
            return push_world.service.waiting == 10 and (await states(deliveries)).count("sent") == 20

        await eventually(twenty_recorded_ten_in_flight, "20 pushes recorded as sent, 10 in flight")
    finally:
        worker.send_signal(signal.SIGKILL)  # no clean-up at all, as when a machine dies
        worker.wait()
    push_world.service.release()  # the dead worker's hanging requests are answered, to nobody
    await push_world.queue.flushdb()  # and its jobs are lost with it

    after_kill: list[dict[str, Any]] = await Delivery.select().where(Delivery.id.is_in(deliveries[20:]))
    # not lost: still to be sent, held by the dead run's lease (not a retry's backoff: they were in flight)
    assert {(row["state"], row["attempts"], row["last_error"]) for row in after_kill} == {("pending", 1, "")}
    assert all(row["not_before"] > dt.datetime.now(dt.UTC) + LEASE / 2 for row in after_kill)
    assert received_counts(push_world, 30) == [1] * 20 + [0] * 10

    await come_due(*deliveries[20:])  # the dead run's lease ran out
    await push_world.worker_run(sweep=True)

    assert received_counts(push_world, 30) == [1] * 30
    assert set(await states(deliveries)) == {"sent"}


async def test_every_attempt_is_in_the_delivery_log(push_world: World) -> None:
    [person] = await push_world.people_with_browsers(1)
    push_world.answer("p0", 429, {"retry-after": "30"})
    push_world.answer("p0", 503)
    [delivery] = await message_to([person])
    for _ in range(3):
        await push_send(push_world.ctx, [delivery])
        await come_due(delivery)

    log = (
        await DeliveryAttempt.select()
        .where(DeliveryAttempt.delivery == delivery)
        .order_by(DeliveryAttempt.id)
    )
    assert [(row["attempt"], row["outcome"]) for row in log] == [(1, "retry"), (2, "retry"), (3, "sent")]
    assert "429" in log[0]["detail"] and "503" in log[1]["detail"] and log[2]["detail"] == ""
    assert received_counts(push_world, 1) == [1]
