"""Fixtures of the Web Push delivery tests (tests/support/push_world.py has the World they build)."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Iterator
from typing import Any

import msgspec
import pytest
import pytest_asyncio

from backend.lib.queue import queue_pool
from backend.lib.runtime import Runtime, runtime_bind, runtime_peek
from backend.lib.storage import storage_client
from backend.notifications.kinds import CHANNEL_WEB_PUSH
from backend.notifications.push_jobs import push_worker_stop
from backend.notifications.tables import NotificationSettings
from backend.reflections.tables import Assignment, Submission
from backend.settings import Settings
from tests.support.fake_push import FakePushService
from tests.support.push_world import World


@pytest.fixture(scope="module")
def push_service() -> Iterator[FakePushService]:
    service = FakePushService().start()
    yield service
    service.stop()


@pytest_asyncio.fixture(loop_scope="session")
async def push_world(settings: Settings, demo: None, push_service: FakePushService) -> AsyncIterator[World]:
    """The demo organisation sending pushes (no quiet hours) to the fake, with an empty queue."""
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
        push_service.release()
        runtime_bind(previous)
        await queue.flushdb()
        await queue.aclose()
