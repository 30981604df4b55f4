"""The arq job that delivers notifications over WeCom, DingTalk and e-mail, and its sweep.

What goes where (the transports themselves are in backend.notifications.channel_transports):
- E-mail to a person who has an address (`Employee.email`) goes to that address, for every kind,
  in their language (else the organisation's), subject = the title, body = the text and a link.
  The delivery ends `sent` (or `failed`) with `target` = the address used.
- WeCom and DingTalk robots post into one group chat, and so does e-mail for people without an address
  when HR set a mailing list (`email.to_address`): HR messages, due-soon and overdue reminders and new
  courses become ONE group message per reminder (per kind and `source`, or the shared dedupe key).
  `notify` plans a delivery per person and channel; the first of them to run creates the group
  Delivery (no notification; unique key `group:<channel>:<kind>:<source>`) and sends it, naming the
  recipients (by e-mail: those without an address); the others find it exists. Each person's delivery
  ends `skipped` with `target = "group:<delivery id>"`.
- Personal kinds (points, grades, likes, redemptions) never go to a group: without an address of the
  person their delivery is `skipped`, and so is a group kind's when there is no mailing list either.

Exactly once, as push (backend.notifications.delivery_claims): a run claims its delivery with one
conditional UPDATE (pending, due, lease), so a second or concurrent run sends nothing; every attempt
is in the attempts log. errcode ≠ 0, an SMTP 5xx or a refused recipient fails the
delivery with the message; 5xx, SMTP 4xx, network errors and the robots' rate limits retry with
backoff (at most MAX_ATTEMPTS). Jobs are queued by `channel_sweep` (cron, every minute) with the job id
`channel:<delivery id>`. Preferences and quiet hours: `notify` planned no delivery for a kind and
channel the person turned off, and put `not_before` after quiet hours, as for push.
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
    Outcome,
    channel_send,
    email_send,
)
from backend.notifications.delivery_claims import (
    SENT_NOW,
    STATE_FAILED,
    STATE_PENDING,
    STATE_SENT,
    STATE_SKIPPED,
    Claimed,
    Ending,
    deliveries_claim,
    deliveries_finish,
    ending_after_error,
    utc_now,
)
from backend.notifications.kinds import (
    CHANNEL_DINGTALK,
    CHANNEL_EMAIL,
    CHANNEL_WECOM,
    GROUP_KINDS,
)
from backend.notifications.render import notification_words
from backend.notifications.tables import Delivery, Notification

logger = logging.getLogger("learnloop.channels")

JOB_NAME = "channel_deliver"
GROUP_CHANNELS = (CHANNEL_WECOM, CHANNEL_DINGTALK, CHANNEL_EMAIL)
LEASE = dt.timedelta(minutes=5)
JOB_TIMEOUT = 120
SWEEP_LIMIT = 1_000
NAMES_SHOWN = 20
TARGET_MAX = 200  # Delivery.target's length


def channel_job_id(delivery_id: int) -> str:
    return f"channel:{delivery_id}"


# ---- the words of a notification --------------------------------------------------------------


def _default_locale() -> str:
    runtime = runtime_peek()
    return locale_normalize(runtime.settings.i18n.default_locale if runtime else None) or "zh-CN"


def _public_url(path: str) -> str:
    runtime = runtime_peek()
    origins = runtime.settings.server.allowed_origins if runtime else []
    return f"{origins[0].rstrip('/')}{path}" if origins and path else ""


def _words(notification: dict[str, Any], locale: str) -> tuple[str, str]:
    return notification_words(
        locale,
        message_key=notification["message_key"],
        params=notification["params"],
        title=notification["title"],
        body=notification["body"],
    )


def group_of(notification: dict[str, Any]) -> str:
    """What people share a group message: the source, else their common dedupe key."""
    return str(notification["source"]) or str(notification["dedupe_key"]).partition(":")[2]


async def group_message(notification: dict[str, Any], *, channel: str) -> ChannelMessage:
    """The one message of a reminder to a group, naming its recipients (by e-mail: those who have no
    address of their own, the only ones the mailing list stands in for)."""
    locale = _default_locale()
    title, body = _words(notification, locale)
    names: list[str] = []
    total = 0
    if notification["source"]:
        same = (Notification.kind == notification["kind"]) & (Notification.source == notification["source"])
        if channel == CHANNEL_EMAIL:
            same &= Notification.employee.email == ""
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


def personal_message(notification: dict[str, Any]) -> ChannelMessage:
    """A person's own e-mail: in their language, else the organisation's."""
    locale = locale_normalize(notification["locale"]) or _default_locale()
    title, body = _words(notification, locale)
    return ChannelMessage(
        title=title,
        body=body,
        url=_public_url(str(notification["url"])),
        footer=translate(locale, "channels.email.footer"),
    )


# ---- the job ---------------------------------------------------------------------------------


async def _record(ending: Ending) -> str:
    """Write how this attempt ended (the delivery row and the attempts log)."""
    await deliveries_finish([ending])
    return ending.result


async def _end(
    claimed: Claimed, state: str, *, error: str = "", target: str | None = None, **more: Any
) -> str:
    """End this attempt. `target` is kept unless given: a group delivery's "n:<notification>" names
    what it carries on every retry."""
    kept = claimed.target if target is None else target
    return await _record(Ending(claimed.id, claimed.attempts, state, target=kept, last_error=error, **more))


async def _skip(claimed: Claimed, reason: str, *, target: str | None = None) -> str:
    return await _end(claimed, STATE_SKIPPED, error=reason, target=target)


async def _settle(claimed: Claimed, outcome: Outcome, *, target: str | None = None) -> str:
    """Record what the robot or mail server answered: sent, later again (backoff), or failed."""
    if outcome.status == OUTCOME_SENT:
        return await _end(claimed, STATE_SENT, target=target, sent_at=SENT_NOW)
    if outcome.status == OUTCOME_RETRY:
        return await _record(ending_after_error(claimed, outcome.error, target=target))
    return await _end(claimed, STATE_FAILED, error=outcome.error, target=target)


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
            Notification.employee.email.as_alias("email"),
            Notification.employee.locale.as_alias("locale"),
        )
        .where(Notification.id == notification_id)
        .first()
    )
    return row


async def _personal_email(claimed: Claimed, notification: dict[str, Any]) -> str:
    """E-mail to the person's own address."""
    address = str(notification["email"])
    # Delivery.target holds 200 characters, an address up to 254: recording a sent mail must not fail
    # (PostgreSQL would refuse the row, and the retry would send it again).
    target = address[:TARGET_MAX]
    config = (await channel_settings_stored()).email
    if not config.enabled:
        return await _skip(claimed, "the channel is off", target=target)
    outcome = await email_send(config, address, personal_message(notification))
    return await _settle(claimed, outcome, target=target)


async def _person_delivery(ctx: dict[str, Any], claimed: Claimed) -> str:
    """A person's delivery: their own e-mail when they have an address; else make sure the group
    message exists (group kinds only), then step aside."""
    channel = claimed.channel
    notification = await _notification(claimed.notification_id or 0)
    if notification is None:
        return await _skip(claimed, "the notification is gone")
    if channel == CHANNEL_EMAIL:
        if notification["email"]:
            return await _personal_email(claimed, notification)
        if notification["kind"] not in GROUP_KINDS:
            return await _skip(claimed, "no e-mail address")
        if not (await channel_settings_stored()).email.to_address:
            return await _skip(claimed, "no e-mail address and no mailing list")
    elif notification["kind"] not in GROUP_KINDS:
        return await _skip(claimed, "personal: not posted to a group")
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
    await _skip(claimed, "in the group message", target=f"group:{group_id}")
    if created:
        await channel_deliver(ctx, group_id)  # at once; the sweep would take it within a minute anyway
    return STATE_SKIPPED


async def _group_delivery(claimed: Claimed) -> str:
    channel, target = claimed.channel, claimed.target
    notification = (
        await _notification(int(target[2:])) if target.startswith("n:") and target[2:].isdigit() else None
    )
    if notification is None:
        return await _skip(claimed, "the notification is gone")
    settings = await channel_settings_stored()
    if not getattr(settings, channel).enabled:
        return await _skip(claimed, "the channel is off")
    if channel == CHANNEL_EMAIL and not settings.email.to_address:
        return await _skip(claimed, "no mailing list address")
    message = await group_message(notification, channel=channel)
    return await _settle(claimed, await channel_send(channel, settings, message))


async def channel_deliver(ctx: dict[str, Any], delivery_id: int) -> str:
    """arq job: deliver one WeCom, DingTalk or e-mail delivery. Returns what happened."""
    claims = await deliveries_claim([delivery_id], channels=GROUP_CHANNELS, lease=LEASE)
    if not claims:
        return "skipped"  # done already, not due, taken by another run, or gone
    claimed = claims[0]
    try:
        if claimed.notification_id is not None:
            return await _person_delivery(ctx, claimed)
        return await _group_delivery(claimed)
    except Exception as exc:  # a bug or the database: logged, retried later, bounded
        logger.exception("channel delivery %s failed", delivery_id)
        return await _record(ending_after_error(claimed, f"{type(exc).__name__}: {exc}"))


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
