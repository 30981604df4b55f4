"""The arq worker on a real Redis: jobs run, with msgpack arguments, and running twice is harmless."""

from __future__ import annotations

import datetime as dt
from typing import Any

from arq.jobs import JobStatus

from backend.accounts.services import session_login
from backend.accounts.tables import LoginFailure, Session
from backend.lib.queue import queue_pool
from backend.worker import worker_create


async def test_housekeeping_job_runs_in_a_burst_worker(settings: Any, demo: None) -> None:
    fresh = await session_login(
        login="zhang", password="learnloop-demo", address="127.0.0.1", user_agent="t", auth=settings.auth
    )
    await session_login(
        login="wang", password="learnloop-demo", address="127.0.0.1", user_agent="t", auth=settings.auth
    )
    stale = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=settings.auth.session_idle_minutes + 5)
    await Session.update({Session.last_seen_at: stale}).where(Session.id != fresh.actor.session_id)
    await LoginFailure.insert(
        LoginFailure(key="account:x", created_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=2))
    )

    pool = await queue_pool(settings.redis.url)
    try:
        await pool.flushdb()
        for _ in range(2):  # the same job twice: the second finds nothing left to do
            job = await pool.enqueue_job("housekeeping_sessions")
            assert job is not None
            worker = worker_create(settings, redis_pool=pool, burst=True)
            await worker.main()
            # (the outbox sweep also runs once at start-up)
            assert worker.jobs_failed == 0 and await job.status() == JobStatus.complete
        results = [await job.result(timeout=5)]
    finally:
        await pool.flushdb()
        await pool.aclose()
    assert results == [{"sessions_removed": 0}]
    assert [row["id"] for row in await Session.select(Session.id)] == [fresh.actor.session_id]
    assert await LoginFailure.count() == 0
