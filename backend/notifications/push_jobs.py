"""Web Push in the arq worker: queueing batches of pending push deliveries, and the job that sends one.

`notify` plans one pending web_push Delivery per notification. After each of its commits it hands the
ones due now to `push_enqueue` (`push_kick_deliveries`); `push_sweep` (cron, every minute) enqueues
whatever is due later (quiet hours, batched likes, retries) or was lost. Deliveries travel in batches
of `BATCH` per job (`push_batch`: one claim, one read of notifications and of subscriptions, the POSTs
in parallel over the worker's shared HTTP clients, grouped endings). A batch's job id is derived from its
delivery ids, and the job keeps no result, so the same batch is not queued twice while it waits;
whatever repeats, the claim in `delivery_claims` lets a delivery be sent by one run only.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Iterable, Sequence
from typing import Any

import httpx
from arq import func

from backend.lib.i18n import locale_normalize
from backend.lib.runtime import runtime_peek
from backend.notifications.delivery_claims import STATE_PENDING, utc_now
from backend.notifications.kinds import CHANNEL_WEB_PUSH
from backend.notifications.push_batch import BATCH, PushBatch
from backend.notifications.push_sender import PushClients, PushSender
from backend.notifications.push_subscriptions import vapid_private_pem
from backend.notifications.tables import Delivery
from backend.notifications.vapid import application_server_key
from backend.settings import Settings

logger = logging.getLogger("learnloop.push")

JOB_NAME = "push_deliver"
# A batch waits for the shared sender's slots behind the other batches the worker runs at once; even
# with every push service timing out (10 s each, 64 in flight, 10 jobs of BATCH) it ends in time.
# push_batch.LEASE is longer, so only a dead run's deliveries come due again.
JOB_TIMEOUT = 300
SWEEP_LIMIT = 5_000  # deliveries enqueued per sweep; the next minute takes the rest
CONCURRENCY = 64  # POSTs in flight per worker, each on a client of its own (see PushClients)
HTTP_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
ENQUEUE_AT_ONCE = 50


def push_job_id(delivery_ids: Sequence[int]) -> str:
    """The same batch gets the same id (arq refuses a second copy while one waits)."""
    digest = hashlib.sha256(",".join(str(i) for i in sorted(delivery_ids)).encode()).hexdigest()[:16]
    return f"push:{min(delivery_ids)}:{len(delivery_ids)}:{digest}"


# ---- the worker's client ---------------------------------------------------------------------


def _settings_of(ctx: dict[str, Any]) -> Settings:
    settings = ctx.get("settings")
    if settings is None:
        runtime = runtime_peek()
        if runtime is None:
            raise RuntimeError("push needs the worker's settings")
        settings = runtime.settings
    return settings


async def push_worker_start(ctx: dict[str, Any]) -> None:
    """Worker start-up: the HTTP clients (connection reuse) and the sender every push job shares."""
    if "push_sender" in ctx:
        return
    settings = _settings_of(ctx)
    try:
        private_pem = await asyncio.to_thread(vapid_private_pem, settings.push, settings.data_path)
        application_server_key(private_pem)  # an EC P-256 key, or ValueError
    except (OSError, ValueError):  # a wrong [push] vapid_private_key: the worker still runs other jobs
        logger.exception("no VAPID key: push deliveries fail until [push] vapid_private_key is fixed")
        return
    clients = push_clients(CONCURRENCY)
    ctx["push_clients"] = clients
    ctx["push_sender"] = PushSender(
        private_pem=private_pem, subject=settings.push.vapid_subject, client=clients, concurrency=CONCURRENCY
    )


def push_clients(count: int) -> PushClients:
    """`count` single-connection clients sharing one TLS context (loading the CA bundle once)."""
    tls = httpx.create_ssl_context()
    one = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    return PushClients(
        [
            httpx.AsyncClient(timeout=HTTP_TIMEOUT, limits=one, verify=tls, follow_redirects=False)
            for _ in range(count)
        ],
        connections_each=1,
    )


async def push_worker_stop(ctx: dict[str, Any]) -> None:
    clients: PushClients | None = ctx.pop("push_clients", None)
    ctx.pop("push_sender", None)
    if clients is not None:
        for client in clients.clients:
            await client.aclose()


# ---- enqueueing ------------------------------------------------------------------------------


def push_batches(delivery_ids: Iterable[int]) -> list[list[int]]:
    wanted = sorted(set(delivery_ids))
    return [wanted[start : start + BATCH] for start in range(0, len(wanted), BATCH)]


async def push_enqueue(queue: Any, delivery_ids: Iterable[int]) -> int:
    """Enqueue the deliveries in batch jobs (a batch already queued is not queued twice). Returns how
    many batch jobs were queued."""
    batches, queued = push_batches(delivery_ids), 0
    for start in range(0, len(batches), ENQUEUE_AT_ONCE):  # round trips overlap
        jobs = await asyncio.gather(
            *(
                queue.enqueue_job(JOB_NAME, batch, _job_id=push_job_id(batch))
                for batch in batches[start : start + ENQUEUE_AT_ONCE]
            )
        )
        queued += sum(job is not None for job in jobs)
    return queued


async def push_kick_deliveries(delivery_ids: Iterable[int]) -> None:
    """Right after the commit that planned them: queue these push deliveries (due now) at once instead
    of waiting for the sweep. Inside a caller's transaction nothing is visible to the worker yet: the
    sweep sends them. Redis down: they stay pending and the sweep sends them."""
    wanted = list(delivery_ids)
    runtime = runtime_peek()
    if not wanted or runtime is None or runtime.queue is None or Delivery._meta.db.transaction_exists():
        return
    try:
        await push_enqueue(runtime.queue, wanted)
    except Exception:
        logger.warning("push deliveries not enqueued; the sweep will", exc_info=True)


async def push_sweep(ctx: dict[str, Any]) -> int:
    """arq cron (every minute): enqueue the push deliveries that are due. Returns how many batch jobs
    it queued."""
    rows = (
        await Delivery.select(Delivery.id)
        .where(
            (Delivery.channel == CHANNEL_WEB_PUSH)
            & (Delivery.state == STATE_PENDING)
            & (Delivery.not_before <= utc_now())
        )
        .order_by(Delivery.not_before)
        .limit(SWEEP_LIMIT)
    )
    return await push_enqueue(ctx["redis"], [int(row["id"]) for row in rows])


# ---- the job ---------------------------------------------------------------------------------


async def push_send(ctx: dict[str, Any], delivery_ids: Sequence[int]) -> dict[int, str]:
    """Send a batch of push deliveries; each claimed one's result (sent, skipped, failed, retry).
    Deliveries another run holds, or that are done or not due, are left alone (absent)."""
    if "push_sender" not in ctx:
        await push_worker_start(ctx)
    default_locale = locale_normalize(_settings_of(ctx).i18n.default_locale) or "zh-CN"
    batch = PushBatch(ctx.get("push_sender"), default_locale=default_locale)
    return await batch.run(delivery_ids)


async def push_deliver(ctx: dict[str, Any], delivery_ids: list[int] | int) -> dict[str, int]:
    """arq job: send one batch. Returns how many deliveries ended how (for the worker's log).
    (A single id is a job queued by an older version, one delivery per job.)"""
    results = await push_send(ctx, [delivery_ids] if isinstance(delivery_ids, int) else delivery_ids)
    counts: dict[str, int] = {}
    for result in results.values():
        counts[result] = counts.get(result, 0) + 1
    return counts


PUSH_JOB = func(push_deliver, name=JOB_NAME, keep_result=0, timeout=JOB_TIMEOUT, max_tries=10)
