"""arq worker settings, gathered from the features' jobs modules.

`learnloop worker` runs it as its own process; the embedded default runs it inside the server.
"""

from __future__ import annotations

import copy
from typing import Any

from arq import cron
from arq.connections import ArqRedis
from arq.worker import Worker

from backend.accounts.jobs import housekeeping_sessions
from backend.courses.demo import EVENT_DEMO_MEDIA, demo_media_on_event
from backend.courses.jobs import TRANSCODE_HANDLERS, TRANSCODE_JOB, versions_stuck_sweep
from backend.courses.uploads import uploads_abort_idle
from backend.events.outbox import outbox_deliver, outbox_sweep
from backend.lib.db import engine_bind, engine_close, engine_create, engine_open
from backend.lib.queue import job_decode, job_encode, queue_redis_settings
from backend.lib.runtime import Runtime, runtime_bind
from backend.lib.storage import storage_client
from backend.notifications.channel_senders import CHANNEL_JOB, channel_sweep
from backend.notifications.handlers import NOTIFICATION_HANDLERS
from backend.notifications.push_jobs import PUSH_JOB, push_sweep, push_worker_start, push_worker_stop
from backend.notifications.reminder_jobs import (
    REMINDER_HANDLERS,
    REMINDER_JOBS,
    due_reminders_scan,
    reminders_send_due,
)
from backend.points.awards import POINTS_HANDLERS
from backend.reflections.archive import archive_on_event
from backend.settings import Settings

FUNCTIONS: list[Any] = [housekeeping_sessions, outbox_deliver, TRANSCODE_JOB, PUSH_JOB, CHANNEL_JOB]
CRON_JOBS = [
    cron(housekeeping_sessions, minute={7}, run_at_startup=False),  # hourly
    cron(outbox_sweep, run_at_startup=True),  # every minute: events a crash left behind
    cron(uploads_abort_idle, minute={23}, run_at_startup=False),  # hourly: uploads idle for 24 h
    cron(versions_stuck_sweep, minute={41}, run_at_startup=False),  # hourly: videos the queue lost
    cron(push_sweep, run_at_startup=True),  # every minute: push deliveries due (quiet hours, retries)
    cron(channel_sweep, run_at_startup=True),  # every minute: WeCom, DingTalk, e-mail deliveries due
    cron(due_reminders_scan, run_at_startup=False),  # every minute: reflections due soon / overdue
    cron(reminders_send_due, run_at_startup=True),  # every minute: scheduled HR reminders
]
FUNCTIONS.extend(REMINDER_JOBS)
# What each outbox event sets off (handlers are idempotent: an event may arrive twice).
OUTBOX_HANDLERS: dict[str, list[Any]] = {
    "submission.submitted": [archive_on_event],
    "submission.graded": [archive_on_event],
    **TRANSCODE_HANDLERS,
    EVENT_DEMO_MEDIA: [demo_media_on_event],
}
# Points awards ride the same events (after the handlers above); see backend.points.awards.
for _kind, _handlers in POINTS_HANDLERS.items():
    OUTBOX_HANDLERS[_kind] = [*OUTBOX_HANDLERS.get(_kind, []), *_handlers]
# Notifications ride the same events, after the awards; see backend.notifications.handlers.
for _kind, _handlers in NOTIFICATION_HANDLERS.items():
    OUTBOX_HANDLERS[_kind] = [*OUTBOX_HANDLERS.get(_kind, []), *_handlers]

# HR reminders sent now; see backend.notifications.reminder_jobs.
for _kind, _handlers in REMINDER_HANDLERS.items():
    OUTBOX_HANDLERS[_kind] = [*OUTBOX_HANDLERS.get(_kind, []), *_handlers]


def worker_create(
    settings: Settings, *, redis_pool: ArqRedis | None = None, own_database: bool = False, burst: bool = False
) -> Worker:
    """A Worker over the configured Redis. With own_database it opens and closes the database itself."""

    async def on_startup(ctx: dict[str, Any]) -> None:
        ctx["settings"] = settings
        ctx["outbox_handlers"] = OUTBOX_HANDLERS
        if own_database:
            engine = engine_create(settings)
            await engine_open(engine, settings)
            engine_bind(engine)
            ctx["engine"] = engine
            storage = storage_client(settings.storage)
            runtime_bind(Runtime(settings=settings, storage=storage, queue=ctx["redis"]))
        await push_worker_start(ctx)  # one HTTP client for every push job

    async def on_shutdown(ctx: dict[str, Any]) -> None:
        await push_worker_stop(ctx)
        if "engine" in ctx:
            await engine_close(ctx["engine"])

    return Worker(
        functions=FUNCTIONS,
        # A copy per worker: arq marks "run at startup" on the job objects it is given.
        cron_jobs=[copy.copy(job) for job in CRON_JOBS],
        redis_settings=queue_redis_settings(settings.redis.url),
        redis_pool=redis_pool,
        on_startup=on_startup,
        on_shutdown=on_shutdown,
        poll_delay=settings.worker.poll_delay,
        handle_signals=False,
        burst=burst,
        job_serializer=job_encode,
        job_deserializer=job_decode,
    )
