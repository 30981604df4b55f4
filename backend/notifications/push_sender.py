"""Web Push delivery: one encrypted POST to a browser's push service, and what its answer means.

`webpush` builds the aes128gcm body and the VAPID header (STACK-NOTES); the POST goes through the
worker's shared httpx clients (connection reuse) under a semaphore (bounded concurrency). The answer becomes a
`PushOutcome` the delivery log records and acts on: sent; gone (404/410: forget the subscription);
retry (429 with its Retry-After, 5xx, network trouble); failed (anything else, not retried).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import email.utils
import json
import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
from cryptography.hazmat.primitives import serialization
from webpush import WebPush
from webpush.types import WebPushKeys, WebPushSubscription

from backend.notifications.vapid import b64url_decode

# RFC 8291 leaves 3,993 bytes of plaintext in one 4,096-byte record; webpush does not check it.
PAYLOAD_MAX = 3_993
ENDPOINT_MAX = 2_048
KEY_MAX = 200
URGENCY_VERY_LOW = "very-low"
URGENCY_LOW = "low"
URGENCY_NORMAL = "normal"
URGENCY_HIGH = "high"
URGENCIES = (URGENCY_VERY_LOW, URGENCY_LOW, URGENCY_NORMAL, URGENCY_HIGH)
# A Topic replaces an undelivered message with the same topic: base64url alphabet, at most 32 characters.
TOPIC_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
TTL_MAX = 28 * 24 * 3600
RETRY_AFTER_DEFAULT = 60.0
RETRY_AFTER_MAX = 24 * 3600.0

OUTCOME_SENT = "sent"
OUTCOME_GONE = "gone"
OUTCOME_RETRY = "retry"
OUTCOME_FAILED = "failed"


class PushEndpointInvalid(ValueError):
    """A subscription the app must refuse; `reason` is a message-key suffix (error.push_<reason>)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class PushTarget:
    """Where and how to encrypt: a browser's subscription."""

    endpoint: str
    p256dh: str
    auth: str


@dataclass(frozen=True)
class PushOutcome:
    status: str  # sent | gone | retry | failed
    http_status: int | None = None
    retry_after: float | None = None  # seconds, for `retry`
    error: str = ""


def push_endpoint_check(endpoint: str, *, allow_loopback_http: bool) -> str:
    """The endpoint if a push service may be reached there: https (or loopback http when allowed)."""
    if not endpoint or len(endpoint) > ENDPOINT_MAX or any(ch.isspace() for ch in endpoint):
        raise PushEndpointInvalid("endpoint_invalid")
    try:
        parts = urlsplit(endpoint)
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        raise PushEndpointInvalid("endpoint_invalid") from None
    if not parts.hostname or parts.username or parts.password:
        raise PushEndpointInvalid("endpoint_invalid")
    if parts.scheme == "https":
        return endpoint
    if parts.scheme == "http" and allow_loopback_http and parts.hostname == "127.0.0.1":
        return endpoint
    raise PushEndpointInvalid("endpoint_not_https")


def push_keys_check(p256dh: str, auth: str) -> None:
    """The browser's keys: a P-256 public point (65 bytes) and a 16-byte auth secret, base64url."""
    try:
        point = b64url_decode(p256dh)
        secret = b64url_decode(auth)
    except ValueError:
        raise PushEndpointInvalid("keys_invalid") from None
    if len(p256dh) > KEY_MAX or len(auth) > KEY_MAX or len(point) != 65 or point[0] != 4 or len(secret) != 16:
        raise PushEndpointInvalid("keys_invalid")


def push_payload(*, title: str, body: str, url: str) -> bytes:
    """Small JSON the service worker shows; the body is shortened until the whole fits one record."""

    def encode(text: str) -> bytes:
        return json.dumps({"title": title, "body": text, "url": url}, ensure_ascii=False).encode()

    data = encode(body)
    if len(data) <= PAYLOAD_MAX:
        return data
    low, high = 0, len(body)
    while low < high:  # the longest prefix of the body that fits
        middle = (low + high + 1) // 2
        if len(encode(body[:middle] + "…")) <= PAYLOAD_MAX:
            low = middle
        else:
            high = middle - 1
    data = encode(body[:low] + "…")
    if len(data) > PAYLOAD_MAX:
        raise ValueError("the title and link alone exceed a push message")
    return data


def retry_after_seconds(value: str | None, *, now: dt.datetime | None = None) -> float:
    """Retry-After as seconds (delta-seconds or an HTTP date), within [0, a day]."""
    if not value:
        return RETRY_AFTER_DEFAULT
    value = value.strip()
    seconds: float
    if value.isdigit():
        seconds = float(value)
    else:
        try:
            moment = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return RETRY_AFTER_DEFAULT
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
        seconds = (moment - (now or dt.datetime.now(dt.UTC))).total_seconds()
    if not math.isfinite(seconds):
        return RETRY_AFTER_DEFAULT
    return min(max(seconds, 0.0), RETRY_AFTER_MAX)


def _public_pem(private_pem: bytes) -> bytes:
    key = serialization.load_pem_private_key(private_pem, password=None)
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


class PushClients:
    """Several small httpx clients as one pool. httpcore's pool does work in proportion to its
    connections each time it hands one out (it polls every connection), which made 64 connections in
    one client cost ~5 ms of CPU per push; single-connection clients cost a fraction of that. A request
    takes a client with room, preferring one that last went to the same origin (its connection is
    reused), else the least busy (measured in docs/benchmarks.md, `push`)."""

    def __init__(self, clients: Sequence[httpx.AsyncClient], *, connections_each: int) -> None:
        self.clients = list(clients)
        self._capacity = connections_each
        self._busy = [0] * len(self.clients)
        self._origin = [""] * len(self.clients)

    @contextlib.contextmanager
    def take(self, endpoint: str) -> Iterator[httpx.AsyncClient]:
        parts = urlsplit(endpoint)
        origin = f"{parts.scheme}://{parts.netloc}"
        with_room = [i for i, busy in enumerate(self._busy) if busy < self._capacity]
        index = next(
            (i for i in with_room if self._origin[i] == origin),
            min(with_room or range(len(self.clients)), key=self._busy.__getitem__),
        )
        self._busy[index] += 1
        self._origin[index] = origin
        try:
            yield self.clients[index]
        finally:
            self._busy[index] -= 1


class PushSender:
    """Encrypts and POSTs push messages over `clients`, at most `concurrency` at a time."""

    def __init__(
        self,
        *,
        private_pem: bytes,
        subject: str,
        client: httpx.AsyncClient | PushClients,
        concurrency: int = 64,
    ) -> None:
        # webpush prepends "mailto:" itself.
        self._webpush = WebPush(
            private_key=private_pem,
            public_key=_public_pem(private_pem),
            subscriber=subject.removeprefix("mailto:"),
        )
        self._clients = (
            client if isinstance(client, PushClients) else PushClients([client], connections_each=concurrency)
        )
        self._slots = asyncio.Semaphore(concurrency)

    def _request(
        self, target: PushTarget, payload: bytes, *, ttl: int, urgency: str, topic: str | None
    ) -> tuple[bytes, dict[str, str]]:
        if len(payload) > PAYLOAD_MAX:
            raise ValueError(f"push payload of {len(payload)} bytes exceeds {PAYLOAD_MAX}")
        if urgency not in URGENCIES:
            raise ValueError(f"unknown urgency {urgency!r}")
        if topic is not None and not TOPIC_PATTERN.match(topic):
            raise ValueError(f"bad topic {topic!r}")
        subscription = WebPushSubscription(
            endpoint=target.endpoint,
            keys=WebPushKeys(p256dh=target.p256dh, auth=target.auth),
        )
        message = self._webpush.get(payload, subscription)
        headers: dict[str, Any] = dict(message.headers)
        # webpush keeps the last non-zero ttl on the instance: state ours on every request.
        headers["ttl"] = str(min(max(ttl, 0), TTL_MAX))
        headers["urgency"] = urgency
        headers["content-type"] = "application/octet-stream"
        if topic:
            headers["topic"] = topic
        return message.encrypted, headers

    async def send(
        self,
        target: PushTarget,
        payload: bytes,
        *,
        ttl: int,
        urgency: str = URGENCY_NORMAL,
        topic: str | None = None,
    ) -> PushOutcome:
        try:
            body, headers = self._request(target, payload, ttl=ttl, urgency=urgency, topic=topic)
        except ValueError as exc:  # a bad key or payload: retrying cannot help
            return PushOutcome(OUTCOME_FAILED, error=str(exc)[:300])
        async with self._slots:
            try:
                with self._clients.take(target.endpoint) as http:
                    response = await http.post(target.endpoint, content=body, headers=headers)
            except httpx.HTTPError as exc:
                return PushOutcome(OUTCOME_RETRY, error=f"{type(exc).__name__}: {exc}"[:300])
        code = response.status_code
        if 200 <= code < 300:
            return PushOutcome(OUTCOME_SENT, http_status=code)
        if code in (404, 410):
            return PushOutcome(OUTCOME_GONE, http_status=code)
        if code == 429 or code >= 500:
            retry_after = retry_after_seconds(response.headers.get("retry-after")) if code == 429 else None
            return PushOutcome(
                OUTCOME_RETRY, http_status=code, retry_after=retry_after, error=response.text[:300]
            )
        return PushOutcome(OUTCOME_FAILED, http_status=code, error=response.text[:300])
