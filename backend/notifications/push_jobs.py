"""Web Push in the arq worker: send a pending push delivery to the person's subscribed browsers.

`notify` plans one pending web_push Delivery per notification. After its commit `push_kick_notifications`
enqueues the ones due now; `push_sweep` (cron, every minute) enqueues whatever is due later (quiet
hours, batches, retries) or was lost. Both use the job id `push:{delivery id}`; the job keeps no
result, so the id is free again once a run ends.

Exactly once: a run first claims the delivery with one conditional UPDATE (pending, due, and it moves
`not_before` a lease ahead), so a duplicate or concurrent run finds nothing to claim and a finished
delivery is never sent again. A run that dies mid-way leaves the lease to expire and the sweep retries.
A retry (429, 5xx, network) goes only to the browsers that did not get it yet (kept in `target`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import httpx
from arq import func

from backend.lib.i18n import locale_choose, locale_normalize
from backend.lib.runtime import runtime_peek
from backend.notifications.kinds import (
    CHANNEL_WEB_PUSH,
    KIND_DUE_SOON,
    KIND_HR_MESSAGE,
    KIND_OVERDUE,
    KIND_REFLECTION_PEER,
)
from backend.notifications.push_sender import (
    OUTCOME_GONE,
    OUTCOME_RETRY,
    OUTCOME_SENT,
    URGENCY_HIGH,
    URGENCY_LOW,
    URGENCY_NORMAL,
    PushOutcome,
    PushSender,
    PushTarget,
    push_payload,
)
from backend.notifications.push_subscriptions import vapid_private_pem
from backend.notifications.render import notification_words
from backend.notifications.tables import Delivery, Notification, PushSubscription
from backend.notifications.vapid import application_server_key
from backend.settings import Settings

logger = logging.getLogger("learnloop.push")

JOB_NAME = "push_deliver"
STATE_PENDING, STATE_SENT, STATE_FAILED, STATE_SKIPPED = "pending", "sent", "failed", "skipped"
# A run holds its delivery this long; longer than the job may take (JOB_TIMEOUT), so only a dead
# run's delivery comes due again.
LEASE = dt.timedelta(minutes=5)
JOB_TIMEOUT = 120
MAX_ATTEMPTS = 6  # then the delivery is failed (or sent, when some browser got it)
BACKOFF_FIRST = 60.0  # seconds; doubles per attempt: 1, 2, 4, 8, 16 minutes
BACKOFF_MAX = 3600.0
SWEEP_LIMIT = 5_000  # deliveries enqueued per sweep; the next minute takes the rest
CONCURRENCY = 64  # POSTs in flight per worker
HTTP_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
KICK_CHUNK = 500
ENQUEUE_AT_ONCE = 50
# How long a push service keeps trying to reach an offline phone.
TTL_DEFAULT = 24 * 3600
TTL_BY_KIND = {KIND_DUE_SOON: 2 * 3600, KIND_OVERDUE: 12 * 3600, KIND_REFLECTION_PEER: 2 * 24 * 3600}
URGENCY_BY_KIND = {
    KIND_DUE_SOON: URGENCY_HIGH,
    KIND_OVERDUE: URGENCY_HIGH,
    KIND_HR_MESSAGE: URGENCY_HIGH,
    KIND_REFLECTION_PEER: URGENCY_LOW,  # likes and comments, batched
}


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def push_job_id(delivery_id: int) -> str:
    return f"push:{delivery_id}"


def push_open_url(notification_id: int) -> str:
    """Opening the push marks the notification read and lands on its page."""
    return f"/api/v1/notifications/{notification_id}/open"


def push_topic(kind: str, source: str, notification_id: int) -> str:
    """A newer message about the same thing replaces an undelivered older one at the push service."""
    digest = hashlib.sha256(f"{kind}:{source or notification_id}".encode()).hexdigest()
    return digest[:32]


def push_backoff(attempts: int) -> float:
    return min(BACKOFF_FIRST * 2 ** max(attempts - 1, 0), BACKOFF_MAX)


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
    """Worker start-up: one HTTP client (connection reuse) and sender for every push job."""
    if "push_sender" in ctx:
        return
    settings = _settings_of(ctx)
    try:
        private_pem = await asyncio.to_thread(vapid_private_pem, settings.push, settings.data_path)
        application_server_key(private_pem)  # an EC P-256 key, or ValueError
    except (OSError, ValueError):  # a wrong [push] vapid_private_key: the worker still runs other jobs
        logger.exception("no VAPID key: push deliveries fail until [push] vapid_private_key is fixed")
        return
    client = httpx.AsyncClient(
        timeout=HTTP_TIMEOUT,
        limits=httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY),
        follow_redirects=False,
    )
    ctx["push_client"] = client
    ctx["push_sender"] = PushSender(
        private_pem=private_pem, subject=settings.push.vapid_subject, client=client, concurrency=CONCURRENCY
    )


async def push_worker_stop(ctx: dict[str, Any]) -> None:
    client = ctx.pop("push_client", None)
    ctx.pop("push_sender", None)
    if client is not None:
        await client.aclose()


# ---- enqueueing ------------------------------------------------------------------------------


async def push_enqueue(queue: Any, delivery_ids: Iterable[int]) -> int:
    """Enqueue push jobs (a delivery already queued or running is not queued twice). Returns how many."""
    wanted, queued = list(delivery_ids), 0
    for start in range(0, len(wanted), ENQUEUE_AT_ONCE):  # a reminder to thousands: round trips overlap
        jobs = await asyncio.gather(
            *(
                queue.enqueue_job(JOB_NAME, delivery_id, _job_id=push_job_id(delivery_id))
                for delivery_id in wanted[start : start + ENQUEUE_AT_ONCE]
            )
        )
        queued += sum(job is not None for job in jobs)
    return queued


async def push_kick_notifications(notification_ids: Iterable[int]) -> None:
    """After `notify` committed: send its push deliveries that are due now at once (the rest wait for
    the sweep). Inside a caller's transaction nothing is visible to the worker yet: the sweep sends."""
    runtime = runtime_peek()
    if runtime is None or runtime.queue is None or Delivery._meta.db.transaction_exists():
        return
    wanted, now = sorted(set(notification_ids)), utc_now()
    try:
        for start in range(0, len(wanted), KICK_CHUNK):
            rows = await Delivery.select(Delivery.id).where(
                Delivery.notification.is_in(wanted[start : start + KICK_CHUNK])
                & (Delivery.channel == CHANNEL_WEB_PUSH)
                & (Delivery.state == STATE_PENDING)
                & (Delivery.not_before <= now)
            )
            await push_enqueue(runtime.queue, [int(row["id"]) for row in rows])
    except Exception:  # Redis down: the deliveries stay pending and the sweep sends them
        logger.warning("push deliveries not enqueued; the sweep will", exc_info=True)


async def push_sweep(ctx: dict[str, Any]) -> int:
    """arq cron (every minute): enqueue the push deliveries that are due. Returns how many it queued."""
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


# ---- sending ---------------------------------------------------------------------------------


@dataclass
class _Attempt:
    sent: list[int]
    retry: list[int]
    errors: list[str]
    retry_after: float | None = None


async def _claim(delivery_id: int, now: dt.datetime) -> dict[str, Any] | None:
    rows = (
        await Delivery.update(
            {
                Delivery.not_before: now + LEASE,
                Delivery.attempts: Delivery.attempts + 1,
                Delivery.updated_at: now,
            }
        )
        .where(
            (Delivery.id == delivery_id)
            & (Delivery.channel == CHANNEL_WEB_PUSH)
            & (Delivery.state == STATE_PENDING)
            & (Delivery.not_before <= now)
        )
        .returning(Delivery.id, Delivery.notification, Delivery.attempts, Delivery.target, Delivery.sent_at)
    )
    return rows[0] if rows else None


async def _finish(delivery_id: int, **values: Any) -> None:
    now = utc_now()
    changes = {getattr(Delivery, name): value for name, value in values.items()}
    changes.setdefault(Delivery.not_before, now)
    changes[Delivery.updated_at] = now
    await Delivery.update(changes).where(Delivery.id == delivery_id)


def _targets_of(target: str) -> list[int] | None:
    """The browsers still waiting for this delivery (None: all of the person's)."""
    if not target:
        return None
    return [int(part) for part in target.split(",") if part.isdigit()]


async def _subscriptions(employee_id: int, only: list[int] | None) -> list[dict[str, Any]]:
    where: Any = PushSubscription.employee == employee_id
    if only is not None:
        where = where & PushSubscription.id.is_in(only or [0])
    rows: list[dict[str, Any]] = await PushSubscription.select(
        PushSubscription.id,
        PushSubscription.endpoint,
        PushSubscription.p256dh,
        PushSubscription.auth,
        PushSubscription.locale,
        PushSubscription.expires_at,
    ).where(where)
    return rows


async def _send_all(
    sender: PushSender, notification: dict[str, Any], subscriptions: list[dict[str, Any]], default_locale: str
) -> _Attempt:
    kind = str(notification["kind"])
    payloads: dict[str, bytes] = {}

    def payload_for(subscription: dict[str, Any]) -> bytes:
        locale = locale_choose(notification["locale"] or subscription["locale"] or None, None, default_locale)
        if locale not in payloads:
            title, body = notification_words(
                locale,
                message_key=notification["message_key"],
                params=notification["params"],
                title=notification["title"],
                body=notification["body"],
            )
            payloads[locale] = push_payload(title=title, body=body, url=push_open_url(notification["id"]))
        return payloads[locale]

    async def one(subscription: dict[str, Any]) -> PushOutcome:
        target = PushTarget(
            endpoint=subscription["endpoint"], p256dh=subscription["p256dh"], auth=subscription["auth"]
        )
        return await sender.send(
            target,
            payload_for(subscription),
            ttl=TTL_BY_KIND.get(kind, TTL_DEFAULT),
            urgency=URGENCY_BY_KIND.get(kind, URGENCY_NORMAL),
            topic=push_topic(kind, str(notification["source"]), int(notification["id"])),
        )

    outcomes = await asyncio.gather(*(one(subscription) for subscription in subscriptions))
    attempt = _Attempt(sent=[], retry=[], errors=[])
    gone: list[int] = []
    for subscription, outcome in zip(subscriptions, outcomes, strict=True):
        subscription_id = int(subscription["id"])
        if outcome.status == OUTCOME_SENT:
            attempt.sent.append(subscription_id)
            continue
        attempt.errors.append(
            f"#{subscription_id} {outcome.status} {outcome.http_status or ''} {outcome.error}"
        )
        if outcome.status == OUTCOME_GONE:
            gone.append(subscription_id)
        elif outcome.status == OUTCOME_RETRY:
            attempt.retry.append(subscription_id)
            if outcome.retry_after is not None:
                attempt.retry_after = max(attempt.retry_after or 0.0, outcome.retry_after)
    if gone:  # the browser unsubscribed or the push service forgot it: stop sending there
        await PushSubscription.delete().where(PushSubscription.id.is_in(gone))
    return attempt


async def push_deliver(ctx: dict[str, Any], delivery_id: int) -> str:
    """arq job: send one push delivery to the person's browsers. Returns what happened."""
    claimed = await _claim(delivery_id, utc_now())
    if claimed is None:
        return "skipped"  # sent already, not due, taken by another run, or gone
    try:
        return await _deliver_claimed(ctx, claimed)
    except Exception as exc:  # a bug or the database: logged, retried later like a 5xx, bounded
        logger.exception("push delivery %s failed", delivery_id)
        attempts = int(claimed["attempts"])
        error = f"{type(exc).__name__}: {exc}"[:500]
        if attempts < MAX_ATTEMPTS:
            await _finish(
                delivery_id,
                not_before=utc_now() + dt.timedelta(seconds=push_backoff(attempts)),
                last_error=error,
            )
            return "retry"
        await _finish(delivery_id, state=STATE_SENT if claimed["sent_at"] else STATE_FAILED, last_error=error)
        return "failed"


async def _deliver_claimed(ctx: dict[str, Any], claimed: dict[str, Any]) -> str:
    delivery_id, attempts, sent_before = int(claimed["id"]), int(claimed["attempts"]), claimed["sent_at"]
    notification = (
        await Notification.select(
            Notification.id,
            Notification.employee,
            Notification.kind,
            Notification.message_key,
            Notification.params,
            Notification.title,
            Notification.body,
            Notification.source,
            Notification.read_at,
            Notification.employee.locale.as_alias("locale"),
        )
        .where(Notification.id == claimed["notification"])
        .first()
    )
    # Read in the app meanwhile (a message held by quiet hours, say): no need to wake the phone.
    if notification is None or notification["read_at"] is not None:
        done = STATE_SENT if sent_before else STATE_SKIPPED
        await _finish(delivery_id, state=done, target="", last_error="" if sent_before else "read in the app")
        return done
    now = utc_now()
    subscriptions = [
        row
        for row in await _subscriptions(int(notification["employee"]), _targets_of(claimed["target"]))
        if row["expires_at"] is None or row["expires_at"] > now
    ]
    if not subscriptions:
        done = STATE_SENT if sent_before else STATE_SKIPPED
        await _finish(delivery_id, state=done, target="", last_error="" if sent_before else "no subscription")
        return done
    if "push_sender" not in ctx:
        await push_worker_start(ctx)
    if "push_sender" not in ctx:
        raise RuntimeError("no VAPID key (see the worker log)")
    default_locale = locale_normalize(_settings_of(ctx).i18n.default_locale) or "zh-CN"
    attempt = await _send_all(ctx["push_sender"], notification, subscriptions, default_locale)
    sent_at = sent_before or (utc_now() if attempt.sent else None)
    error = "; ".join(attempt.errors)[:500]
    if attempt.retry and attempts < MAX_ATTEMPTS:
        delay = attempt.retry_after if attempt.retry_after is not None else push_backoff(attempts)
        await _finish(
            delivery_id,
            not_before=utc_now() + dt.timedelta(seconds=delay),
            target=",".join(str(i) for i in attempt.retry),
            sent_at=sent_at,
            last_error=error,
        )
        return "retry"
    done = STATE_SENT if sent_at else STATE_FAILED
    await _finish(delivery_id, state=done, target="", sent_at=sent_at, last_error=error)
    return done


PUSH_JOB = func(push_deliver, name=JOB_NAME, keep_result=0, timeout=JOB_TIMEOUT, max_tries=10)
