"""The organisation's channels outside the app: which are on, and their credentials (HR; auditors read).

Stored in `NotificationSettings.channels` (one JSON document, plain text in the database like the rest
of the organisation's settings):

    {"web_push": {"enabled": true},
     "wecom": {"enabled": true, "webhook_url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…"},
     "dingtalk": {"enabled": true, "webhook_url": "https://oapi.dingtalk.com/robot/send?access_token=…",
                  "secret": "SEC…"},
     "email": {"enabled": true, "host": "smtp.example.com", "port": 587, "security": "starttls",
               "username": "…", "password": "…", "from_address": "learnloop@example.com",
               "to_address": "all-staff@example.com"},
     "allowed_hosts": ["robot.example.internal"]}

Webhook allowlist: a robot URL must use https and a host of the allowlist — qyapi.weixin.qq.com for
WeCom and oapi.dingtalk.com for DingTalk, plus the extra hosts HR adds (`allowed_hosts`, DNS names only:
a self-hosted gateway, say). Anything else is a 422 naming the allowed hosts. For local testing only,
`[push] allow_loopback_http` (the operator's setting) admits http(s)://127.0.0.1:<port> as well.

Secrets (the webhook keys in the URLs' query, the DingTalk secret, the SMTP password) are never read
back in full: GET shows them masked (the last 4 characters). A PUT that sends a masked value back (or
leaves a secret empty) keeps the stored one.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal
from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

import msgspec

from backend.lib.errors import ValidationFailed
from backend.lib.policy import ROLE_AUDITOR, ROLE_HR_ADMIN, Actor, require_role
from backend.lib.runtime import runtime_peek
from backend.lib.schema import Schema
from backend.notifications.kinds import CHANNEL_DINGTALK, CHANNEL_EMAIL, CHANNEL_WEB_PUSH, CHANNEL_WECOM
from backend.notifications.render import params_decode
from backend.notifications.tables import NotificationSettings

SETTINGS_ROW_ID = 1
MASK = "••••"
DEFAULT_HOSTS = {CHANNEL_WECOM: ("qyapi.weixin.qq.com",), CHANNEL_DINGTALK: ("oapi.dingtalk.com",)}
LOOPBACK_HOST = "127.0.0.1"
HOSTNAME = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
EMAIL = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")
EXTRA_HOSTS_MAX = 10

Text200 = Annotated[str, msgspec.Meta(max_length=200)]
Text500 = Annotated[str, msgspec.Meta(max_length=500)]
Security = Literal["starttls", "ssl", "none"]


class WebPushChannel(Schema):
    enabled: bool = False


class WecomChannel(Schema):
    enabled: bool = False
    webhook_url: Text500 = ""


class DingtalkChannel(Schema):
    enabled: bool = False
    webhook_url: Text500 = ""
    secret: Text200 = ""  # "SEC…": the robot's signing secret (its "加签" security setting)


class EmailChannel(Schema):
    enabled: bool = False
    host: Text200 = ""
    port: Annotated[int, msgspec.Meta(ge=1, le=65535)] = 587
    security: Security = "starttls"
    username: Text200 = ""
    password: Text200 = ""
    from_address: Text200 = ""
    to_address: Text200 = ""  # the group's mailing list (what the group robots get, by e-mail)


class ChannelSettings(Schema):
    """What GET returns (secrets masked) and PUT takes (a masked or empty secret keeps the stored one)."""

    web_push: WebPushChannel = msgspec.field(default_factory=WebPushChannel)
    wecom: WecomChannel = msgspec.field(default_factory=WecomChannel)
    dingtalk: DingtalkChannel = msgspec.field(default_factory=DingtalkChannel)
    email: EmailChannel = msgspec.field(default_factory=EmailChannel)
    allowed_hosts: Annotated[list[Text200], msgspec.Meta(max_length=EXTRA_HOSTS_MAX)] = msgspec.field(
        default_factory=list
    )


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# ---- reading ---------------------------------------------------------------------------------


async def channel_settings_stored() -> ChannelSettings:
    """The stored settings with their secrets (the senders' view; never for an API answer)."""
    row = (
        await NotificationSettings.select(NotificationSettings.channels)
        .order_by(NotificationSettings.id)
        .first()
    )
    raw = params_decode(row["channels"]) if row else {}
    values: dict[str, Any] = {}
    for name, kind in (
        (CHANNEL_WEB_PUSH, WebPushChannel),
        (CHANNEL_WECOM, WecomChannel),
        (CHANNEL_DINGTALK, DingtalkChannel),
        (CHANNEL_EMAIL, EmailChannel),
    ):
        try:
            values[name] = msgspec.convert(raw.get(name) or {}, kind)
        except msgspec.ValidationError:  # hand-edited into something else: off until HR saves again
            values[name] = kind()
    hosts = raw.get("allowed_hosts")
    values["allowed_hosts"] = [str(h) for h in hosts] if isinstance(hosts, list) else []
    return ChannelSettings(**values)


def secret_mask(secret: str) -> str:
    if not secret:
        return ""
    return MASK + (secret[-4:] if len(secret) >= 12 else "")


def url_mask(url: str) -> str:
    """The webhook URL with its query values (the robot's key or token) masked."""
    if not url:
        return ""
    parts = urlsplit(url)
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    query = "&".join(f"{quote(k)}={MASK if len(v) < 12 else MASK + quote(v[-4:])}" for k, v in pairs)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


def settings_masked(settings: ChannelSettings) -> ChannelSettings:
    return msgspec.structs.replace(
        settings,
        wecom=msgspec.structs.replace(settings.wecom, webhook_url=url_mask(settings.wecom.webhook_url)),
        dingtalk=msgspec.structs.replace(
            settings.dingtalk,
            webhook_url=url_mask(settings.dingtalk.webhook_url),
            secret=secret_mask(settings.dingtalk.secret),
        ),
        email=msgspec.structs.replace(settings.email, password=secret_mask(settings.email.password)),
    )


async def channel_settings_get(*, actor: Actor | None) -> ChannelSettings:
    """The organisation's channels, secrets masked (HR and auditors)."""
    require_role(actor, ROLE_HR_ADMIN, ROLE_AUDITOR)
    return settings_masked(await channel_settings_stored())


# ---- validating ------------------------------------------------------------------------------


def _loopback_allowed() -> bool:
    runtime = runtime_peek()
    return bool(runtime and runtime.settings.push.allow_loopback_http)


def webhook_url_check(url: str, *, channel: str, extra_hosts: list[str], field: str) -> str:
    """A robot webhook URL on the allowlist (https), else a 422 that names the allowed hosts."""
    allowed = [*DEFAULT_HOSTS[channel], *extra_hosts]
    try:
        parts = urlsplit(url.strip())
        host, port = (parts.hostname or "").lower(), parts.port
    except ValueError:
        raise ValidationFailed("error.channels_url_invalid", field=field) from None
    if parts.scheme not in ("https", "http") or not host or parts.username or parts.password:
        raise ValidationFailed("error.channels_url_invalid", field=field)
    if host == LOOPBACK_HOST and _loopback_allowed():
        return url.strip()
    if host not in allowed:
        raise ValidationFailed(
            "error.channels_host_not_allowed", field=field, host=host, allowed=", ".join(allowed)
        )
    if parts.scheme != "https" or port not in (None, 443):
        raise ValidationFailed("error.channels_url_not_https", field=field)
    return url.strip()


def _kept(new: str, stored: str, masked: str) -> str:
    """A secret field: empty or the masked form sent back = keep what is stored."""
    return stored if new in ("", masked) or new.startswith(MASK) else new


def _hosts_checked(hosts: list[str]) -> list[str]:
    checked: list[str] = []
    for index, host in enumerate(hosts):
        host = host.strip().lower().rstrip(".")
        if not HOSTNAME.match(host):
            raise ValidationFailed(
                "error.channels_host_invalid", field=f"allowed_hosts[{index}]", host=host[:80]
            )
        if host not in checked:
            checked.append(host)
    return checked


def settings_merged(new: ChannelSettings, stored: ChannelSettings) -> ChannelSettings:
    """`new` with masked/empty secrets replaced by the stored ones, validated (422s name the field)."""
    hosts = _hosts_checked(new.allowed_hosts)
    wecom_url = _kept(new.wecom.webhook_url, stored.wecom.webhook_url, url_mask(stored.wecom.webhook_url))
    ding_url = _kept(
        new.dingtalk.webhook_url, stored.dingtalk.webhook_url, url_mask(stored.dingtalk.webhook_url)
    )
    ding_secret = _kept(new.dingtalk.secret, stored.dingtalk.secret, secret_mask(stored.dingtalk.secret))
    password = _kept(new.email.password, stored.email.password, secret_mask(stored.email.password))
    if wecom_url:
        wecom_url = webhook_url_check(
            wecom_url, channel=CHANNEL_WECOM, extra_hosts=hosts, field="wecom.webhook_url"
        )
    elif new.wecom.enabled:
        raise ValidationFailed("error.channels_required", field="wecom.webhook_url")
    if ding_url:
        ding_url = webhook_url_check(
            ding_url, channel=CHANNEL_DINGTALK, extra_hosts=hosts, field="dingtalk.webhook_url"
        )
    elif new.dingtalk.enabled:
        raise ValidationFailed("error.channels_required", field="dingtalk.webhook_url")
    if new.dingtalk.enabled and not ding_secret:
        raise ValidationFailed("error.channels_required", field="dingtalk.secret")
    email = new.email
    host = email.host.strip()
    if host and (any(c in host for c in "/:@ ") or len(host) > 200):
        raise ValidationFailed("error.channels_smtp_host_invalid", field="email.host")
    if email.enabled:
        for name, value in (("host", host), ("from_address", email.from_address)):
            if not value.strip():
                raise ValidationFailed("error.channels_required", field=f"email.{name}")
    for name in ("from_address", "to_address"):
        value = getattr(email, name).strip()
        if value and not EMAIL.match(value):
            raise ValidationFailed("error.channels_email_invalid", field=f"email.{name}")
    if email.username and not password:
        raise ValidationFailed("error.channels_required", field="email.password")
    return ChannelSettings(
        web_push=new.web_push,
        wecom=WecomChannel(enabled=new.wecom.enabled, webhook_url=wecom_url),
        dingtalk=DingtalkChannel(enabled=new.dingtalk.enabled, webhook_url=ding_url, secret=ding_secret),
        email=msgspec.structs.replace(
            email,
            host=host,
            username=email.username.strip(),
            password=password,
            from_address=email.from_address.strip(),
            to_address=email.to_address.strip(),
        ),
        allowed_hosts=hosts,
    )


# ---- writing ---------------------------------------------------------------------------------


async def channel_settings_set(*, actor: Actor | None, settings: ChannelSettings) -> ChannelSettings:
    """HR saves the organisation's channels. Returns them masked."""
    actor = require_role(actor, ROLE_HR_ADMIN)
    merged = settings_merged(settings, await channel_settings_stored())
    document = msgspec.to_builtins(merged)
    await NotificationSettings.insert(
        NotificationSettings(
            id=SETTINGS_ROW_ID, channels=document, updated_by=actor.employee_id, updated_at=utc_now()
        )
    ).on_conflict(
        target=NotificationSettings.id,
        action="DO UPDATE",
        values=[
            NotificationSettings.channels,
            NotificationSettings.updated_by,
            NotificationSettings.updated_at,
        ],
    )
    return settings_masked(merged)
