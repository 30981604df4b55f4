"""The transactional outbox (ARCHITECTURE §4).

A service writes `outbox_add(...)` rows inside its business transaction; after the commit it calls
`outbox_kick(ids)`, which enqueues one `outbox_deliver` job per event with the event id as arq job id.
If the process dies between commit and kick, `outbox_sweep` (an arq cron job) finds the rows still
unhandled and enqueues them again. Handlers must be idempotent: an event may be delivered twice.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from backend.events.tables import OutboxEvent
from backend.lib.runtime import runtime_get

logger = logging.getLogger("learnloop.outbox")

Handler = Callable[[dict[str, Any], dict[str, Any]], Awaitable[None]]
# Events older than this and still unhandled are re-enqueued by the sweep.
SWEEP_AFTER = dt.timedelta(seconds=30)
# A handler failing this many times is left for people to look at (logged), not retried forever.
MAX_ATTEMPTS = 5


async def outbox_add(kind: str, payload: dict[str, Any]) -> int:
    """Record an event; call inside the transaction of the change it describes."""
    rows = await OutboxEvent.insert(OutboxEvent(kind=kind, payload=payload)).returning(OutboxEvent.id)
    return int(rows[0]["id"])


def outbox_job_id(event_id: int) -> str:
    return f"outbox:{event_id}"


async def outbox_kick(event_ids: Iterable[int]) -> None:
    """After commit: hand the events to the worker. A failure here is repaired by the sweep."""
    try:
        queue = runtime_get().queue
    except RuntimeError:
        return
    if queue is None:
        return
    for event_id in event_ids:
        try:
            await queue.enqueue_job("outbox_deliver", event_id, _job_id=outbox_job_id(event_id))
        except Exception:  # Redis down: the row stays unhandled and the sweep retries
            logger.warning("outbox event %s not enqueued; the sweep will retry", event_id, exc_info=True)


async def outbox_deliver(ctx: dict[str, Any], event_id: int) -> str:
    """arq job: run every handler registered for the event's kind, then mark it handled."""
    row = await OutboxEvent.select().where(OutboxEvent.id == event_id).first()
    if row is None or row["handled_at"] is not None:
        return "skipped"
    handlers: dict[str, list[Handler]] = ctx.get("outbox_handlers", {})
    await OutboxEvent.update({OutboxEvent.attempts: OutboxEvent.attempts + 1}).where(
        OutboxEvent.id == event_id
    )
    payload = row["payload"]
    if isinstance(payload, str):
        import json

        payload = json.loads(payload)
    for handler in handlers.get(row["kind"], []):
        await handler(ctx, payload)
    await OutboxEvent.update({OutboxEvent.handled_at: dt.datetime.now(dt.UTC)}).where(
        OutboxEvent.id == event_id
    )
    return "handled"


async def outbox_sweep(ctx: dict[str, Any]) -> int:
    """arq cron: re-enqueue events a crash (or a Redis outage) left behind. Returns how many."""
    cutoff = dt.datetime.now(dt.UTC) - SWEEP_AFTER
    rows = await OutboxEvent.select(OutboxEvent.id).where(
        OutboxEvent.handled_at.is_null()
        & (OutboxEvent.created_at < cutoff)
        & (OutboxEvent.attempts < MAX_ATTEMPTS)
    )
    queue = ctx["redis"]
    for row in rows:
        # A distinct job id per sweep: arq keeps a finished job's id for a while, which would
        # otherwise swallow the retry.
        await queue.enqueue_job(
            "outbox_deliver", row["id"], _job_id=f"{outbox_job_id(row['id'])}:{int(cutoff.timestamp())}"
        )
    return len(rows)
