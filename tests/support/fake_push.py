"""A loopback stand-in for a browser vendor's push service, checking the protocol for real.

Each request must carry a VAPID `Authorization: vapid t=<JWT>, k=<key>` whose ES256 signature verifies
with `k`, whose `aud` is the endpoint's origin without the port (webpush drops it, see STACK-NOTES)
and whose `exp` lies within 24 h; `Content-Encoding: aes128gcm`, a `TTL` and a valid `Urgency`. The body
is decrypted (RFC 8188/8291) with the browser keys the test made for the subscription, so a test sees
exactly what the browser would show. Scripted answers (410, 429 with Retry-After, 500) per endpoint.
A held endpoint leaves its requests unanswered (a push service that hangs) until `release()`; a held
request is never counted as received: once released it is answered 503.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import struct
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from tests.support.loopback_http import LoopbackHttp

URGENCIES = ("very-low", "low", "normal", "high")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class BrowserKeys:
    """What a browser keeps for one subscription: its ECDH key pair and the auth secret."""

    private: ec.EllipticCurvePrivateKey
    auth_secret: bytes

    @classmethod
    def generate(cls) -> BrowserKeys:
        return cls(private=ec.generate_private_key(ec.SECP256R1()), auth_secret=os.urandom(16))

    @property
    def public_raw(self) -> bytes:
        return self.private.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)

    @property
    def p256dh(self) -> str:
        return b64url(self.public_raw)

    @property
    def auth(self) -> str:
        return b64url(self.auth_secret)

    def decrypt(self, body: bytes) -> bytes:
        """RFC 8291: one aes128gcm record, padding delimiter 0x02."""
        salt, record_size, key_length = body[:16], struct.unpack("!L", body[16:20])[0], body[20]
        server_public_raw = body[21 : 21 + key_length]
        ciphertext = body[21 + key_length :]
        if record_size < 18 or len(ciphertext) > record_size:
            raise ValueError("record too large for one aes128gcm record")
        server_public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), server_public_raw)
        shared = self.private.exchange(ec.ECDH(), server_public)
        info = b"WebPush: info\x00" + self.public_raw + server_public_raw
        ikm = HKDF(algorithm=hashes.SHA256(), length=32, salt=self.auth_secret, info=info).derive(shared)

        def expand(label: bytes, length: int) -> bytes:
            return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=label).derive(ikm)

        key = expand(b"Content-Encoding: aes128gcm\x00", 16)
        nonce = expand(b"Content-Encoding: nonce\x00", 12)
        plain = AESGCM(key).decrypt(nonce, ciphertext, None)
        plain = plain.rstrip(b"\x00")
        if not plain.endswith(b"\x02"):
            raise ValueError("missing the last-record padding delimiter")
        return plain[:-1]


@dataclass
class Received:
    endpoint_id: str
    payload: dict[str, Any]
    headers: dict[str, str]
    vapid_claims: dict[str, Any]
    vapid_key: str


@dataclass
class FakePushService:
    """Serve on 127.0.0.1 in a thread; `subscription()` makes an endpoint with fresh browser keys."""

    received: list[Received] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)  # why a request was refused (protocol errors)
    scripted: dict[str, deque[tuple[int, dict[str, str]]]] = field(default_factory=lambda: defaultdict(deque))
    keys: dict[str, BrowserKeys] = field(default_factory=dict)
    held: set[str] = field(default_factory=set)  # endpoint ids whose requests hang until release()
    waiting: int = 0  # requests hanging right now
    connections: set[tuple[str, int]] = field(default_factory=set)  # the clients' (host, port) seen
    port: int = 0
    _loopback: LoopbackHttp | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def subscription(self, endpoint_id: str | None = None) -> dict[str, Any]:
        """A browser's subscription JSON for a new endpoint of this service."""
        endpoint_id = endpoint_id or b64url(os.urandom(12))
        keys = BrowserKeys.generate()
        self.keys[endpoint_id] = keys
        return {
            "endpoint": f"{self.origin}/push/{endpoint_id}",
            "keys": {"p256dh": keys.p256dh, "auth": keys.auth},
        }

    def answer(self, endpoint_id: str, status: int, headers: dict[str, str] | None = None) -> None:
        """The next request to this endpoint gets `status` (then back to 201)."""
        self.scripted[endpoint_id].append((status, headers or {}))

    def hold(self, endpoint_id: str) -> None:
        with self._lock:
            self.held.add(endpoint_id)

    def release(self) -> None:
        """Stop holding: hanging requests get a 503 (and count as not received)."""
        with self._lock:
            self.held.clear()

    def for_endpoint(self, endpoint_id: str) -> list[Received]:
        with self._lock:
            return [item for item in self.received if item.endpoint_id == endpoint_id]

    def _check_vapid(self, authorization: str) -> tuple[dict[str, Any], str]:
        if not authorization.startswith("vapid "):
            raise ValueError("Authorization is not a vapid scheme")
        params = dict(
            part.strip().split("=", 1) for part in authorization[len("vapid ") :].split(",") if "=" in part
        )
        token, key = params.get("t"), params.get("k")
        if not token or not key:
            raise ValueError("vapid needs t= and k=")
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b64url_decode(key))
        claims: dict[str, Any] = jwt.decode(
            token, key=public, algorithms=["ES256"], audience="http://127.0.0.1"
        )
        if not 0 < claims["exp"] - time.time() <= 24 * 3600:
            raise ValueError("exp must be within 24 hours")
        if not str(claims.get("sub", "")).startswith(("mailto:", "https:")):
            raise ValueError("sub must be a mailto: or https: contact")
        return claims, key

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                pass
            await send({"type": "lifespan.shutdown.complete"})
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {name.decode().lower(): value.decode() for name, value in scope["headers"]}
        path: str = scope["path"]
        with self._lock:
            self.connections.add(tuple(scope["client"]))
        if path.removeprefix("/push/") in self.held:
            status, extra, reason = await self._hang(path.removeprefix("/push/"))
        else:
            status, extra, reason = self._handle(path, headers, body, scope["method"])
        if reason:
            with self._lock:
                self.rejected.append(reason)
        text = (reason or "").encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                # A length lets the answer go out in one write (no wait for the client's delayed ACK).
                "headers": [
                    (b"content-type", b"text/plain"),
                    (b"content-length", str(len(text)).encode()),
                    *((k.encode(), v.encode()) for k, v in extra.items()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": text})

    async def _hang(self, endpoint_id: str) -> tuple[int, dict[str, str], str]:
        with self._lock:
            self.waiting += 1
        try:
            # Held and released from the test's thread: polled, as an asyncio.Event is not thread-safe.
            while endpoint_id in self.held:  # noqa: ASYNC110
                await asyncio.sleep(0.02)
        finally:
            with self._lock:
                self.waiting -= 1
        return 503, {}, ""

    def _handle(
        self, path: str, headers: dict[str, str], body: bytes, method: str
    ) -> tuple[int, dict[str, str], str]:
        if method != "POST" or not path.startswith("/push/"):
            return 404, {}, ""
        endpoint_id = path.removeprefix("/push/")
        keys = self.keys.get(endpoint_id)
        if keys is None:
            return 410, {}, ""
        try:
            claims, vapid_key = self._check_vapid(headers.get("authorization", ""))
            if headers.get("content-encoding") != "aes128gcm":
                raise ValueError("Content-Encoding must be aes128gcm")
            if not headers.get("ttl", "").isdigit():
                raise ValueError("TTL header missing")
            if headers.get("urgency", "normal") not in URGENCIES:
                raise ValueError("bad Urgency")
            if len(body) > 4096:
                return 413, {}, "payload too large"
            payload = json.loads(keys.decrypt(body))
        except Exception as exc:
            return 400, {}, f"{type(exc).__name__}: {exc}"
        with self._lock:
            queue = self.scripted.get(endpoint_id)
            if queue:
                status, extra = queue.popleft()
                return status, extra, ""
            self.received.append(
                Received(
                    endpoint_id=endpoint_id,
                    payload=payload,
                    headers=headers,
                    vapid_claims=claims,
                    vapid_key=vapid_key,
                )
            )
        return 201, {}, ""

    def start(self) -> FakePushService:
        self._loopback = LoopbackHttp(self, name="fake-push")
        self.port = self._loopback.start()
        return self

    def stop(self) -> None:
        if self._loopback is not None:
            self._loopback.stop()
