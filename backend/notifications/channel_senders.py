"""WeCom and DingTalk group robots and e-mail (SMTP): sending, and the arq job that delivers.

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

import asyncio
import base64
import datetime as dt
import hashlib
import hmac
import logging
import smtplib
import ssl
import time
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any
from urllib.parse import quote_plus

import httpx
from arq import func

from backend.lib.i18n import locale_normalize, translate
from backend.lib.runtime import runtime_peek
from backend.notifications.channel_settings import (
    ChannelSettings,
    DingtalkChannel,
    EmailChannel,
    WecomChannel,
    channel_settings_stored,
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
OUTCOME_SENT, OUTCOME_RETRY, OUTCOME_FAILED = "sent", "retry", "failed"
LEASE = dt.timedelta(minutes=5)
JOB_TIMEOUT = 120
MAX_ATTEMPTS = 6
BACKOFF_FIRST = 60.0  # seconds, doubling per attempt
BACKOFF_MAX = 3600.0
SWEEP_LIMIT = 1_000
HTTP_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
SMTP_TIMEOUT = 20.0
NAMES_SHOWN = 20
# The robots' "too many messages" answers: wait and try again.
RATE_LIMIT_ERRCODES = {CHANNEL_WECOM: {45009}, CHANNEL_DINGTALK: {130101, 410100}}


@dataclass(frozen=True)
class Outcome:
    status: str  # sent | retry | failed
    error: str = ""


@dataclass(frozen=True)
class GroupMessage:
    title: str
    body: str
    url: str = ""  # absolute, when the organisation's public origin is known


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def channel_job_id(delivery_id: int) -> str:
    return f"channel:{delivery_id}"


def channel_backoff(attempts: int) -> float:
    return min(BACKOFF_FIRST * 2 ** max(attempts - 1, 0), BACKOFF_MAX)


# ---- the robots and SMTP ---------------------------------------------------------------------


def dingtalk_signed_url(webhook_url: str, secret: str, *, timestamp_ms: int | None = None) -> str:
    """The robot URL with `timestamp` (ms) and `sign` = urlencode(base64(HmacSHA256(secret, "ts\\nsecret")))."""
    timestamp = str(timestamp_ms if timestamp_ms is not None else int(time.time() * 1000))
    digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    sign = quote_plus(base64.b64encode(digest).decode())
    joiner = "&" if "?" in webhook_url else "?"
    return f"{webhook_url}{joiner}timestamp={timestamp}&sign={sign}"


def markdown_of(message: GroupMessage) -> str:
    lines = [f"### {message.title}", "", message.body]
    if message.url:
        lines += ["", f"[{message.url}]({message.url})"]
    return "\n".join(lines)


def wecom_payload(message: GroupMessage) -> dict[str, Any]:
    return {"msgtype": "markdown", "markdown": {"content": markdown_of(message)[:4096]}}


def dingtalk_payload(message: GroupMessage) -> dict[str, Any]:
    return {"msgtype": "markdown", "markdown": {"title": message.title[:100], "text": markdown_of(message)}}


async def _post_robot(client: httpx.AsyncClient, channel: str, url: str, payload: dict[str, Any]) -> Outcome:
    try:
        response = await client.post(url, json=payload)
    except httpx.HTTPError as exc:
        return Outcome(OUTCOME_RETRY, f"network: {type(exc).__name__}: {exc}"[:500])
    if response.status_code >= 500 or response.status_code == 429:
        return Outcome(OUTCOME_RETRY, f"HTTP {response.status_code}")
    if response.status_code >= 400:
        return Outcome(OUTCOME_FAILED, f"HTTP {response.status_code}: {response.text[:200]}")
    try:
        answer = response.json()
        errcode, errmsg = int(answer.get("errcode", -1)), str(answer.get("errmsg", ""))
    except (ValueError, AttributeError, TypeError):
        return Outcome(OUTCOME_FAILED, f"not a robot answer: {response.text[:200]}")
    if errcode == 0:
        return Outcome(OUTCOME_SENT)
    status = OUTCOME_RETRY if errcode in RATE_LIMIT_ERRCODES[channel] else OUTCOME_FAILED
    return Outcome(status, f"errcode {errcode}: {errmsg}"[:500])


async def wecom_send(client: httpx.AsyncClient, config: WecomChannel, message: GroupMessage) -> Outcome:
    if not config.webhook_url:
        return Outcome(OUTCOME_FAILED, "no webhook URL")
    return await _post_robot(client, CHANNEL_WECOM, config.webhook_url, wecom_payload(message))


async def dingtalk_send(client: httpx.AsyncClient, config: DingtalkChannel, message: GroupMessage) -> Outcome:
    if not config.webhook_url or not config.secret:
        return Outcome(OUTCOME_FAILED, "no webhook URL or secret")
    url = dingtalk_signed_url(config.webhook_url, config.secret)
    return await _post_robot(client, CHANNEL_DINGTALK, url, dingtalk_payload(message))


def _smtp_send_blocking(config: EmailChannel, recipient: str, message: GroupMessage) -> None:
    mail = EmailMessage()
    mail["Subject"] = message.title
    mail["From"] = config.from_address
    mail["To"] = recipient
    mail.set_content(message.body + (f"\n\n{message.url}" if message.url else ""))
    smtp: smtplib.SMTP
    if config.security == "ssl":
        smtp = smtplib.SMTP_SSL(
            config.host, config.port, timeout=SMTP_TIMEOUT, context=ssl.create_default_context()
        )
    else:
        smtp = smtplib.SMTP(config.host, config.port, timeout=SMTP_TIMEOUT)
    with smtp:
        smtp.ehlo()
        if config.security == "starttls":
            smtp.starttls(context=ssl.create_default_context())
            smtp.ehlo()
        if config.username:
            smtp.login(config.username, config.password)
        smtp.send_message(mail)


async def email_send(config: EmailChannel, recipient: str, message: GroupMessage) -> Outcome:
    if not config.host or not config.from_address or not recipient:
        return Outcome(OUTCOME_FAILED, "no SMTP host, sender or recipient")
    try:
        await asyncio.to_thread(_smtp_send_blocking, config, recipient, message)
    except smtplib.SMTPResponseException as exc:  # 4xx: try later; 5xx: refused for good
        status = OUTCOME_RETRY if 400 <= exc.smtp_code < 500 else OUTCOME_FAILED
        detail = (
            exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else exc.smtp_error
        )
        return Outcome(status, f"SMTP {exc.smtp_code}: {detail}"[:500])
    except smtplib.SMTPRecipientsRefused as exc:
        return Outcome(OUTCOME_FAILED, f"recipient refused: {exc.recipients}"[:500])
    except (OSError, smtplib.SMTPException) as exc:  # network, TLS, a dropped connection
        return Outcome(OUTCOME_RETRY, f"{type(exc).__name__}: {exc}"[:500])
    return Outcome(OUTCOME_SENT)


async def channel_send(channel: str, settings: ChannelSettings, message: GroupMessage) -> Outcome:
    """Send `message` over one channel with the organisation's settings (the job and the test button)."""
    if channel == CHANNEL_EMAIL:
        return await email_send(settings.email, settings.email.to_address, message)
    async with httpx.AsyncClient(timeout=HTTP_TIMEOUT, follow_redirects=False) as client:
        if channel == CHANNEL_WECOM:
            return await wecom_send(client, settings.wecom, message)
        if channel == CHANNEL_DINGTALK:
            return await dingtalk_send(client, settings.dingtalk, message)
    raise ValueError(f"not a group channel: {channel!r}")


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


async def group_message(notification: dict[str, Any]) -> GroupMessage:
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
    return GroupMessage(title=title, body=body, url=_public_url(str(notification["url"])))


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
