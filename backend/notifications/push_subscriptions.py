"""Web Push subscriptions: the VAPID key browsers subscribe with, and the subscriptions they send us.

A subscription is the browser's `PushSubscription.toJSON()`: an endpoint at its vendor's push service
and the keys that encrypt for it. One row per endpoint: the same endpoint again (a re-subscribe, or
another person signing in on that phone) replaces owner and keys. A person keeps at most
`PER_PERSON_MAX` subscriptions; a new one beyond that drops the longest unused.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from functools import cache
from pathlib import Path
from typing import Annotated, Any

import msgspec

from backend.lib.errors import NotFound, ValidationFailed
from backend.lib.i18n import locale_normalize
from backend.lib.policy import Actor, actor_require
from backend.lib.runtime import runtime_peek
from backend.lib.schema import Schema
from backend.notifications.push_sender import (
    ENDPOINT_MAX,
    KEY_MAX,
    PushEndpointInvalid,
    push_endpoint_check,
    push_keys_check,
)
from backend.notifications.tables import PushSubscription
from backend.notifications.vapid import application_server_key, vapid_generate
from backend.settings import PushSettings, Settings

PER_PERSON_MAX = 10
PEM_HEADER = "-----BEGIN"


class PushKeysIn(Schema):
    p256dh: Annotated[str, msgspec.Meta(min_length=1, max_length=KEY_MAX)]
    auth: Annotated[str, msgspec.Meta(min_length=1, max_length=KEY_MAX)]


class PushSubscriptionIn(
    msgspec.Struct, forbid_unknown_fields=True, kw_only=True, rename={"expiration_time": "expirationTime"}
):
    """What `PushSubscription.toJSON()` gives (expirationTime: milliseconds since 1970, or null)."""

    endpoint: Annotated[str, msgspec.Meta(min_length=1, max_length=ENDPOINT_MAX)]
    keys: PushKeysIn
    expiration_time: Annotated[int, msgspec.Meta(ge=0)] | None = None


class PushUnsubscribeIn(Schema):
    endpoint: Annotated[str, msgspec.Meta(min_length=1, max_length=ENDPOINT_MAX)]


class VapidKeyOut(Schema):
    key: str  # applicationServerKey for pushManager.subscribe(), base64url


class PushSubscriptionOut(Schema):
    id: int
    endpoint: str
    created: bool  # False: an existing subscription was updated


# ---- VAPID keys ------------------------------------------------------------------------------


def _settings() -> Settings | None:
    runtime = runtime_peek()
    return runtime.settings if runtime else None


def vapid_private_pem(push: PushSettings, data_path: Path) -> bytes:
    """The configured private key (PEM text, "\\n" escapes allowed, or a file path), else the one
    generated into the data dir on first use."""
    configured = push.vapid_private_key.strip()
    if configured.startswith(PEM_HEADER):
        return configured.replace("\\n", "\n").encode() + b"\n"
    if configured:
        return Path(configured).expanduser().read_bytes()
    path, _public = vapid_generate(data_path)
    return path.read_bytes()


@cache
def _public_key_cached(private_pem: bytes) -> str:
    return application_server_key(private_pem)


def vapid_public_key(settings: Settings) -> str:
    """The browser's applicationServerKey (generating the key pair on first use)."""
    return _public_key_cached(vapid_private_pem(settings.push, settings.data_path))


# ---- subscriptions ---------------------------------------------------------------------------


def endpoint_key(endpoint: str) -> str:
    return hashlib.sha256(endpoint.encode()).hexdigest()


def push_subscription_decode(data: Any) -> PushSubscriptionIn:
    """The browser's subscription JSON as a struct; what is wrong with it is a 422 naming the field."""
    try:
        return msgspec.convert(data, PushSubscriptionIn)
    except msgspec.ValidationError as exc:
        message = str(exc)
        if "`$.keys" in message or "`keys`" in message:
            raise ValidationFailed("error.push_keys_invalid", field="keys") from None
        if "`$.endpoint`" in message or "`endpoint`" in message:
            raise ValidationFailed("error.push_endpoint_invalid", field="endpoint") from None
        raise ValidationFailed("error.push_subscription_invalid", detail=message[:200]) from None


def push_unsubscribe_decode(data: Any) -> PushUnsubscribeIn:
    try:
        return msgspec.convert(data, PushUnsubscribeIn)
    except msgspec.ValidationError:
        raise ValidationFailed("error.push_endpoint_invalid", field="endpoint") from None


def _employee_of(actor: Actor | None) -> int:
    actor = actor_require(actor)
    if actor.employee_id is None:  # an account without an employee record gets no notifications
        raise NotFound()
    return actor.employee_id


def _checked(subscription: PushSubscriptionIn) -> None:
    settings = _settings()
    allow_loopback_http = settings.push.allow_loopback_http if settings else False
    try:
        push_endpoint_check(subscription.endpoint, allow_loopback_http=allow_loopback_http)
    except PushEndpointInvalid as exc:
        raise ValidationFailed(f"error.push_{exc.reason}", field="endpoint") from None
    try:
        push_keys_check(subscription.keys.p256dh, subscription.keys.auth)
    except PushEndpointInvalid as exc:
        raise ValidationFailed(f"error.push_{exc.reason}", field="keys") from None


def _expiry(milliseconds: int | None) -> dt.datetime | None:
    if milliseconds is None:
        return None
    try:
        return dt.datetime.fromtimestamp(milliseconds / 1000, dt.UTC)
    except (OverflowError, OSError, ValueError):
        raise ValidationFailed("error.push_subscription_invalid", detail="expirationTime") from None


async def push_subscription_save(
    *, actor: Actor | None, subscription: PushSubscriptionIn, locale: str = ""
) -> PushSubscriptionOut:
    """Store my browser's subscription (the same endpoint again: updated, whoever had it before).
    `locale` is the subscribing browser's language, used when I chose none."""
    employee_id = _employee_of(actor)
    _checked(subscription)
    now = dt.datetime.now(dt.UTC)
    key = endpoint_key(subscription.endpoint)
    existed = await PushSubscription.exists().where(PushSubscription.endpoint_key == key)
    rows = (
        await PushSubscription.insert(
            PushSubscription(
                employee=employee_id,
                endpoint=subscription.endpoint,
                endpoint_key=key,
                p256dh=subscription.keys.p256dh,
                auth=subscription.keys.auth,
                locale=locale_normalize(locale) or "",
                expires_at=_expiry(subscription.expiration_time),
                created_at=now,
                updated_at=now,
            )
        )
        .on_conflict(
            target=PushSubscription.endpoint_key,
            action="DO UPDATE",
            values=[
                PushSubscription.employee,
                PushSubscription.p256dh,
                PushSubscription.auth,
                PushSubscription.locale,
                PushSubscription.expires_at,
                PushSubscription.updated_at,
            ],
        )
        .returning(PushSubscription.id)
    )
    subscription_id = int(rows[0]["id"])
    await _oldest_dropped(employee_id)
    return PushSubscriptionOut(id=subscription_id, endpoint=subscription.endpoint, created=not existed)


async def _oldest_dropped(employee_id: int) -> None:
    """Keep a person's newest PER_PERSON_MAX subscriptions (browsers forget theirs without telling)."""
    keep = (
        await PushSubscription.select(PushSubscription.id)
        .where(PushSubscription.employee == employee_id)
        .order_by(PushSubscription.updated_at, ascending=False)
        .order_by(PushSubscription.id, ascending=False)
        .limit(PER_PERSON_MAX)
    )
    await PushSubscription.delete().where(
        (PushSubscription.employee == employee_id)
        & PushSubscription.id.not_in([int(row["id"]) for row in keep])
    )


async def push_subscription_delete(*, actor: Actor | None, endpoint: str) -> bool:
    """Forget my subscription for `endpoint` (someone else's stays). True when one was removed."""
    employee_id = _employee_of(actor)
    removed = (
        await PushSubscription.delete()
        .where(
            (PushSubscription.endpoint_key == endpoint_key(endpoint))
            & (PushSubscription.employee == employee_id)
        )
        .returning(PushSubscription.id)
    )
    return bool(removed)


async def push_subscription_count(*, actor: Actor | None) -> int:
    """How many devices I receive pushes on."""
    actor = actor_require(actor)
    if actor.employee_id is None:
        return 0
    return int(await PushSubscription.count().where(PushSubscription.employee == actor.employee_id))
