"""Talking to the outside: the WeCom and DingTalk group robots (HTTPS webhooks) and SMTP.

Each sender takes the organisation's settings for its channel and one message and answers an Outcome:
`sent`, `retry` (rate limits, 5xx, SMTP 4xx, network trouble: worth another try later) or `failed`
(errcode ≠ 0, SMTP 5xx, a refused recipient: trying again would not help), with what the other side
said. The job that decides what to send to whom is backend.notifications.channel_senders.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import smtplib
import ssl
import time
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any
from urllib.parse import quote_plus

import httpx

from backend.notifications.channel_settings import (
    ChannelSettings,
    DingtalkChannel,
    EmailChannel,
    WecomChannel,
)
from backend.notifications.kinds import CHANNEL_DINGTALK, CHANNEL_EMAIL, CHANNEL_WECOM

OUTCOME_SENT, OUTCOME_RETRY, OUTCOME_FAILED = "sent", "retry", "failed"
HTTP_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
SMTP_TIMEOUT = 20.0
# The robots' "too many messages" answers: wait and try again.
RATE_LIMIT_ERRCODES = {CHANNEL_WECOM: {45009}, CHANNEL_DINGTALK: {130101, 410100}}


@dataclass(frozen=True)
class Outcome:
    status: str  # sent | retry | failed
    error: str = ""


@dataclass(frozen=True)
class ChannelMessage:
    title: str
    body: str
    url: str = ""  # absolute, when the organisation's public origin is known
    footer: str = ""  # e-mail only: why the reader gets it, after a signature line


# ---- the group robots ------------------------------------------------------------------------


def dingtalk_signed_url(webhook_url: str, secret: str, *, timestamp_ms: int | None = None) -> str:
    """The robot URL with `timestamp` (ms) and `sign` = urlencode(base64(HmacSHA256(secret, "ts\\nsecret")))."""
    timestamp = str(timestamp_ms if timestamp_ms is not None else int(time.time() * 1000))
    digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    sign = quote_plus(base64.b64encode(digest).decode())
    joiner = "&" if "?" in webhook_url else "?"
    return f"{webhook_url}{joiner}timestamp={timestamp}&sign={sign}"


def markdown_of(message: ChannelMessage) -> str:
    lines = [f"### {message.title}", "", message.body]
    if message.url:
        lines += ["", f"[{message.url}]({message.url})"]
    return "\n".join(lines)


def wecom_payload(message: ChannelMessage) -> dict[str, Any]:
    return {"msgtype": "markdown", "markdown": {"content": markdown_of(message)[:4096]}}


def dingtalk_payload(message: ChannelMessage) -> dict[str, Any]:
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


async def wecom_send(client: httpx.AsyncClient, config: WecomChannel, message: ChannelMessage) -> Outcome:
    if not config.webhook_url:
        return Outcome(OUTCOME_FAILED, "no webhook URL")
    return await _post_robot(client, CHANNEL_WECOM, config.webhook_url, wecom_payload(message))


async def dingtalk_send(
    client: httpx.AsyncClient, config: DingtalkChannel, message: ChannelMessage
) -> Outcome:
    if not config.webhook_url or not config.secret:
        return Outcome(OUTCOME_FAILED, "no webhook URL or secret")
    url = dingtalk_signed_url(config.webhook_url, config.secret)
    return await _post_robot(client, CHANNEL_DINGTALK, url, dingtalk_payload(message))


# ---- SMTP ------------------------------------------------------------------------------------


def address_ascii(address: str) -> str:
    """The address with an internationalised domain in its ASCII form (例子.中国 → xn--…): what every
    SMTP server takes without SMTPUTF8. The local part is ASCII already (org.services.email_checked)."""
    local, _, domain = address.rpartition("@")
    try:
        return f"{local}@{domain.encode('idna').decode('ascii')}"
    except UnicodeError:
        return address


def mail_of(config: EmailChannel, recipient: str, message: ChannelMessage) -> EmailMessage:
    """The plain-text mail: subject = the title on one line; body, link, then the footer."""
    mail = EmailMessage()
    mail["Subject"] = " ".join(message.title.split())  # a line break in a header would be refused
    mail["From"] = config.from_address
    mail["To"] = recipient
    mail["Date"] = formatdate(localtime=False)
    mail["Message-ID"] = make_msgid(domain=config.from_address.rpartition("@")[2] or None)
    mail["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies to a robot
    text = message.body + (f"\n\n{message.url}" if message.url else "")
    if message.footer:
        text += f"\n\n-- \n{message.footer}"
    mail.set_content(text)
    return mail


def _smtp_send_blocking(config: EmailChannel, recipient: str, message: ChannelMessage) -> None:
    mail = mail_of(config, address_ascii(recipient), message)
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


def _text_of(reply: bytes | str) -> str:
    return reply.decode(errors="replace") if isinstance(reply, bytes) else reply


async def email_send(config: EmailChannel, recipient: str, message: ChannelMessage) -> Outcome:
    """One mail to one address with the organisation's SMTP settings."""
    if not config.host or not config.from_address or not recipient:
        return Outcome(OUTCOME_FAILED, "no SMTP host, sender or recipient")
    try:
        await asyncio.to_thread(_smtp_send_blocking, config, recipient, message)
    except smtplib.SMTPResponseException as exc:  # 4xx: try later; 5xx: refused for good
        status = OUTCOME_RETRY if 400 <= exc.smtp_code < 500 else OUTCOME_FAILED
        return Outcome(status, f"SMTP {exc.smtp_code}: {_text_of(exc.smtp_error)}"[:500])
    except smtplib.SMTPRecipientsRefused as exc:  # RCPT TO refused: a 4xx (greylisting) passes
        codes = [code for code, _reply in exc.recipients.values()]
        status = OUTCOME_RETRY if codes and all(400 <= code < 500 for code in codes) else OUTCOME_FAILED
        detail = "; ".join(f"{code} {_text_of(reply)}" for code, reply in exc.recipients.values())
        return Outcome(status, f"recipient refused: {detail}"[:500])
    except (OSError, smtplib.SMTPException) as exc:  # network, TLS, a dropped connection
        return Outcome(OUTCOME_RETRY, f"{type(exc).__name__}: {exc}"[:500])
    return Outcome(OUTCOME_SENT)


async def channel_send(channel: str, settings: ChannelSettings, message: ChannelMessage) -> Outcome:
    """Send a group message over one channel (e-mail: to the mailing list) with the organisation's
    settings: the job's group messages and HR's test button."""
    if channel == CHANNEL_EMAIL:
        return await email_send(settings.email, settings.email.to_address, message)
    async with httpx.AsyncClient(timeout=HTTP_TIMEOUT, follow_redirects=False) as client:
        if channel == CHANNEL_WECOM:
            return await wecom_send(client, settings.wecom, message)
        if channel == CHANNEL_DINGTALK:
            return await dingtalk_send(client, settings.dingtalk, message)
    raise ValueError(f"not a group channel: {channel!r}")
