"""The arq job that delivers over the WeCom and DingTalk group robots and e-mail (SMTP), and its sweep
(the transports themselves are in backend.notifications.channel_transports).

What goes where. WeCom and DingTalk robots post into one group chat, and Learnloop knows no e-mail
address of a person (the Employee table has none), so these channels carry group messages only:
- HR messages, due-soon and overdue reminders, and new courses become ONE group message per reminder
  (per kind and `source`, or the shared dedupe key): `notify` plans a delivery per person and channel;
  the first of them to run creates the group Delivery (no notification; unique key
  `group:<channel>:<kind>:<source>`) and sends it, naming the recipients; the others find it exists.
  Each person's delivery ends `skipped` with `target = "group:<delivery id>"`.
- Personal kinds (points, grades, likes, redemptions) never go to a group: their delivery is `skipped`.
E-mail goes to the organisation's mailing list (`email.to_address`); without one it is skipped.

Exactly once, as push: a run claims its delivery with one conditional UPDATE (pending, due, lease),
so a second or concurrent run sends nothing. errcode ≠ 0 (or an SMTP 5xx) fails the delivery with the
message; 5xx, network errors and the robots' rate limits retry with backoff (at most MAX_ATTEMPTS).
Jobs are queued by `channel_sweep` (cron, every minute) with the job id `channel:<delivery id>`.
Quiet hours: `notify` already put `not_before` after them, as for push.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from arq import func

from backend.lib.i18n import locale_normalize, translate
from backend.lib.runtime import runtime_peek
from backend.notifications.channel_settings import channel_settings_stored
from backend.notifications.channel_transports import (
    OUTCOME_RETRY,
    OUTCOME_SENT,
    ChannelMessage,
    channel_send,
)
from backend.notifications.kinds import (
    CHANNEL_DINGTALK,
    CHANNEL_EMAIL,
    CHANNEL_WECOM,
    KIND_COURSE_NEW,
    KIND_DUE_SOON,
    KIND_HR_MESSAGE,
    KIND_OVERDUE,
)
from backend.notifications.render import notification_words
from backend.notifications.tables import Delivery, Notification

logger = logging.getLogger("learnloop.channels")

JOB_NAME = "channel_deliver"
GROUP_CHANNELS = (CHANNEL_WECOM, CHANNEL_DINGTALK, CHANNEL_EMAIL)
GROUP_KINDS = (KIND_HR_MESSAGE, KIND_DUE_SOON, KIND_OVERDUE, KIND_COURSE_NEW)
STATE_PENDING, STATE_SENT, STATE_FAILED, STATE_SKIPPED = "pending", "sent", "failed", "skipped"
LEASE = dt.timedelta(minutes=5)
JOB_TIMEOUT = 120
MAX_ATTEMPTS = 6
BACKOFF_FIRST = 60.0  # seconds, doubling per attempt
BACKOFF_MAX = 3600.0
SWEEP_LIMIT = 1_000
NAMES_SHOWN = 20


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def channel_job_id(delivery_id: int) -> str:
    return f"channel:{delivery_id}"


def channel_backoff(attempts: int) -> float:
    return min(BACKOFF_FIRST * 2 ** max(attempts - 1, 0), BACKOFF_MAX)


# ---- the group message of a notification -----------------------------------------------------


def _default_locale() -> str:
    runtime = runtime_peek()
    return locale_normalize(runtime.settings.i18n.default_locale if runtime else None) or "zh-CN"


def _public_url(path: str) -> str:
    runtime = runtime_peek()
    origins = runtime.settings.server.allowed_origins if runtime else []
    return f"{origins[0].rstrip('/')}{path}" if origins and path else ""


def group_of(notification: dict[str, Any]) -> str:
    """What people share a group message: the source, else their common dedupe key."""
    return str(notification["source"]) or str(notification["dedupe_key"]).partition(":")[2]


async def group_message(notification: dict[str, Any]) -> ChannelMessage:
    locale = _default_locale()
    title, body = notification_words(
        locale,
        message_key=notification["message_key"],
        params=notification["params"],
        title=notification["title"],
        body=notification["body"],
    )
    names: list[str] = []
    total = 0
    if notification["source"]:
        same = (Notification.kind == notification["kind"]) & (Notification.source == notification["source"])
        total = await Notification.count().where(same)
        rows = (
            await Notification.select(Notification.employee.name.as_alias("name"))
            .where(same)
            .order_by(Notification.id)
            .limit(NAMES_SHOWN)
        )
        names = [str(row["name"]) for row in rows]
    if names:
        joined = ("、" if locale == "zh-CN" else ", ").join(names)
        key = "channels.group.recipients_more" if total > len(names) else "channels.group.recipients"
        body = f"{body}\n\n{translate(locale, key, names=joined, count=total)}"
    return ChannelMessage(title=title, body=body, url=_public_url(str(notification["url"])))


# ---- the job ---------------------------------------------------------------------------------


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
            & Delivery.channel.is_in(list(GROUP_CHANNELS))
            & (Delivery.state == STATE_PENDING)
            & (Delivery.not_before <= now)
        )
        .returning(Delivery.id, Delivery.notification, Delivery.channel, Delivery.attempts, Delivery.target)
    )
    return rows[0] if rows else None


async def _finish(delivery_id: int, **values: Any) -> None:
    now = utc_now()
    changes = {getattr(Delivery, name): value for name, value in values.items()}
    changes.setdefault(Delivery.not_before, now)
    changes[Delivery.updated_at] = now
    await Delivery.update(changes).where(Delivery.id == delivery_id)


async def _notification(notification_id: int) -> dict[str, Any] | None:
    row: dict[str, Any] | None = (
        await Notification.select(
            Notification.id,
            Notification.kind,
            Notification.message_key,
            Notification.params,
            Notification.title,
            Notification.body,
            Notification.url,
            Notification.source,
            Notification.dedupe_key,
        )
        .where(Notification.id == notification_id)
        .first()
    )
    return row


async def _person_delivery(ctx: dict[str, Any], claimed: dict[str, Any]) -> str:
    """A person's delivery on a group channel: make sure the group message exists, then step aside."""
    delivery_id, channel = int(claimed["id"]), str(claimed["channel"])
    notification = await _notification(int(claimed["notification"]))
    if notification is None or notification["kind"] not in GROUP_KINDS:
        await _finish(delivery_id, state=STATE_SKIPPED, last_error="personal: not posted to a group")
        return STATE_SKIPPED
    unique_key = f"group:{channel}:{notification['kind']}:{group_of(notification)}"[:255]
    created = (
        await Delivery.insert(
            Delivery(
                notification=None, channel=channel, target=f"n:{notification['id']}", unique_key=unique_key
            )
        )
        .on_conflict(target=Delivery.unique_key, action="DO NOTHING")
        .returning(Delivery.id)
    )
    group = (
        created[0]
        if created
        else await Delivery.select(Delivery.id).where(Delivery.unique_key == unique_key).first()
    )
    group_id = int(group["id"]) if group else 0
    await _finish(
        delivery_id, state=STATE_SKIPPED, target=f"group:{group_id}", last_error="in the group message"
    )
    if created:
        await channel_deliver(ctx, group_id)  # at once; the sweep would take it within a minute anyway
    return STATE_SKIPPED


async def _group_delivery(claimed: dict[str, Any]) -> str:
    delivery_id, channel, attempts = int(claimed["id"]), str(claimed["channel"]), int(claimed["attempts"])
    target = str(claimed["target"])
    notification = (
        await _notification(int(target[2:])) if target.startswith("n:") and target[2:].isdigit() else None
    )
    if notification is None:
        await _finish(delivery_id, state=STATE_SKIPPED, last_error="the notification is gone")
        return STATE_SKIPPED
    settings = await channel_settings_stored()
    config = getattr(settings, channel)
    if not config.enabled:
        await _finish(delivery_id, state=STATE_SKIPPED, last_error="the channel is off")
        return STATE_SKIPPED
    if channel == CHANNEL_EMAIL and not settings.email.to_address:
        await _finish(delivery_id, state=STATE_SKIPPED, last_error="no mailing list address")
        return STATE_SKIPPED
    outcome = await channel_send(channel, settings, await group_message(notification))
    if outcome.status == OUTCOME_SENT:
        await _finish(delivery_id, state=STATE_SENT, sent_at=utc_now(), last_error="")
        return STATE_SENT
    if outcome.status == OUTCOME_RETRY and attempts < MAX_ATTEMPTS:
        delay = dt.timedelta(seconds=channel_backoff(attempts))
        await _finish(delivery_id, not_before=utc_now() + delay, last_error=outcome.error)
        return "retry"
    await _finish(delivery_id, state=STATE_FAILED, last_error=outcome.error)
    return STATE_FAILED


async def channel_deliver(ctx: dict[str, Any], delivery_id: int) -> str:
    """arq job: deliver one WeCom, DingTalk or e-mail delivery. Returns what happened."""
    claimed = await _claim(delivery_id, utc_now())
    if claimed is None:
        return "skipped"  # done already, not due, taken by another run, or gone
    try:
        if claimed["notification"] is not None:
            return await _person_delivery(ctx, claimed)
        return await _group_delivery(claimed)
    except Exception as exc:  # a bug or the database: logged, retried later, bounded
        logger.exception("channel delivery %s failed", delivery_id)
        attempts = int(claimed["attempts"])
        error = f"{type(exc).__name__}: {exc}"[:500]
        if attempts < MAX_ATTEMPTS:
            await _finish(
                delivery_id,
                not_before=utc_now() + dt.timedelta(seconds=channel_backoff(attempts)),
                last_error=error,
            )
            return "retry"
        await _finish(delivery_id, state=STATE_FAILED, last_error=error)
        return STATE_FAILED


async def channel_sweep(ctx: dict[str, Any]) -> int:
    """arq cron (every minute): queue the due WeCom, DingTalk and e-mail deliveries. Returns how many."""
    rows = (
        await Delivery.select(Delivery.id)
        .where(
            Delivery.channel.is_in(list(GROUP_CHANNELS))
            & (Delivery.state == STATE_PENDING)
            & (Delivery.not_before <= utc_now())
        )
        .order_by(Delivery.not_before)
        .limit(SWEEP_LIMIT)
    )
    queued = 0
    for row in rows:
        job = await ctx["redis"].enqueue_job(JOB_NAME, int(row["id"]), _job_id=channel_job_id(int(row["id"])))
        queued += job is not None
    return queued


CHANNEL_JOB = func(channel_deliver, name=JOB_NAME, keep_result=0, timeout=JOB_TIMEOUT, max_tries=10)
