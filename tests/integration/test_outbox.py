"""The outbox on a real Redis and worker: events reach their handlers once, also after a crash."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from backend.events.outbox import outbox_kick
from backend.events.tables import OutboxEvent
from backend.lib.queue import queue_pool
from backend.lib.runtime import Runtime, runtime_bind, runtime_peek
from backend.lib.storage import storage_client, storage_ensure_bucket
from backend.reflections.services import submission_submit
from backend.reflections.tables import SubmissionVersion
from backend.worker import worker_create
from tests.ui.harness import actor_named

TEXT = "复盘让我按时兑现了答应客户的小事，客户也更愿意和我多聊。" * 5


async def _run_worker(settings: Any, pool: Any) -> None:
    worker = worker_create(settings, redis_pool=pool, burst=True)
    await worker.main()
    assert worker.jobs_failed == 0


async def test_a_submission_is_archived_once_even_when_its_kick_is_lost(settings: Any, demo: None) -> None:
    pool = await queue_pool(settings.redis.url)
    storage = storage_client(settings.storage)
    await storage_ensure_bucket(storage, settings.storage.bucket)
    previous = runtime_peek()
    try:
        await pool.flushdb()
        # No queue bound: the after-commit kick goes nowhere, as if the process died right after commit.
        runtime_bind(Runtime(settings=settings, storage=storage, queue=None))
        zhang = await actor_named("zhang")
        from backend.reflections.selectors import assignments_mine

        assignment = (await assignments_mine(actor=zhang))[0]
        result = await submission_submit(
            actor=zhang,
            assignment_id=assignment.id,
            body=TEXT,
            photo_ids=[],
            idempotency_key=uuid.uuid4().hex,
        )
        event = (
            await OutboxEvent.select()
            .where(OutboxEvent.kind == "submission.submitted")
            .order_by(OutboxEvent.id, ascending=False)
            .first()
        )
        assert event is not None and event["handled_at"] is None

        # The sweep only takes events older than its grace period: age this one, then run a worker.
        runtime_bind(Runtime(settings=settings, storage=storage, queue=pool))
        await OutboxEvent.update(
            {OutboxEvent.created_at: dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)}
        ).where(OutboxEvent.handled_at.is_null())
        await _run_worker(settings, pool)  # the sweep runs at start-up and enqueues, the burst drains
        await _run_worker(settings, pool)
        handled = await OutboxEvent.select().where(OutboxEvent.id == event["id"]).first()
        assert handled["handled_at"] is not None
        version = (
            await SubmissionVersion.select()
            .where(SubmissionVersion.submission == result.submission_id)
            .first()
        )
        assert version["archive_key"].endswith(".pdf")
        first_key = version["archive_key"]

        # A duplicate delivery (arq is at-least-once) changes nothing.
        await OutboxEvent.update({OutboxEvent.handled_at: None}).where(OutboxEvent.id == event["id"])
        await outbox_kick([event["id"]])
        await pool.delete(f"arq:result:outbox:{event['id']}")
        await outbox_kick([event["id"]])
        await _run_worker(settings, pool)
        again = await SubmissionVersion.select().where(SubmissionVersion.id == version["id"]).first()
        assert again["archive_key"] == first_key
        assert (
            await SubmissionVersion.count().where(SubmissionVersion.submission == result.submission_id) == 1
        )
    finally:
        runtime_bind(previous)
        await pool.flushdb()
        await pool.aclose()
