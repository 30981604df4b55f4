"""The push benchmark's push service: the tests' loopback fake (verifies every VAPID JWT, decrypts every
aes128gcm body) in a subprocess of its own, so it does not compete with the worker's event loop.

`python -m benchmarks._push_fake` serves until terminated and prints its port first. Browser keys come
from a pool of KEY_POOL pairs derived from SEED, the same in every process; an endpoint ".../b-<n>"
uses pair n % KEY_POOL. GET /stats answers how many pushes were accepted, the first refusals and the
time of the last acceptance. `raw_rate` measures what the fake accepts from a bare sending loop.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import subprocess
import time
from typing import Any

import httpx

SEED = 20261122
KEY_POOL = 16
RAW_MESSAGES = 1_000
PROGRESS_SECONDS = 30.0


def browser_keys() -> list[Any]:
    """KEY_POOL browser key pairs, the same in every process."""
    from cryptography.hazmat.primitives.asymmetric import ec

    from tests.support.fake_push import BrowserKeys

    return [
        BrowserKeys(
            private=ec.derive_private_key(SEED + i, ec.SECP256R1()),
            auth_secret=hashlib.sha256(f"auth-{i}".encode()).digest()[:16],
        )
        for i in range(KEY_POOL)
    ]


def _serve() -> None:
    from tests.support.fake_push import BrowserKeys, FakePushService

    pool = browser_keys()

    class PooledKeys(dict[str, BrowserKeys]):
        def get(self, key: str, default: Any = None) -> Any:
            number = key.rpartition("-")[2]
            return pool[int(number) % KEY_POOL] if number.isdigit() else default

    class CountingPushService(FakePushService):
        """The tests' fake plus GET /stats; it keeps a count, not every message (memory stays flat)."""

        accepted = 0
        last_accept = 0.0

        def _handle(self, path: str, headers: dict[str, str], body: bytes, method: str) -> Any:
            answer = super()._handle(path, headers, body, method)
            if answer[0] == 201:
                with self._lock:
                    self.accepted += 1
                    self.last_accept = time.time()
                    self.received.clear()
            return answer

        async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
            if scope["type"] == "http" and scope["method"] == "GET" and scope["path"] == "/stats":
                stats = {"received": self.accepted, "rejected": self.rejected[:3], "last": self.last_accept}
                await send({"type": "http.response.start", "status": 200, "headers": []})
                await send({"type": "http.response.body", "body": json.dumps(stats).encode()})
                return
            await super().__call__(scope, receive, send)

    service = CountingPushService(keys=PooledKeys()).start()
    print(service.port, flush=True)
    while True:
        time.sleep(3600)


class FakeClient:
    """The benchmark's view of the fake: its counters, and waiting for a number of pushes."""

    def __init__(self, client: httpx.AsyncClient, origin: str) -> None:
        self.client, self.origin = client, origin

    async def stats(self) -> dict[str, Any]:
        response = await self.client.get(f"{self.origin}/stats")
        return dict(response.json())

    async def wait_for(
        self, count: int, seconds: float, worker: subprocess.Popen[bytes], say: Any
    ) -> dict[str, Any]:
        deadline = time.monotonic() + seconds
        shown = time.monotonic()
        while True:
            stats = await self.stats()
            if time.monotonic() - shown >= PROGRESS_SECONDS:
                shown = time.monotonic()
                say(f"  ... {stats['received']:,} pushes accepted by the fake so far")
            if stats["received"] >= count:
                return stats
            if stats["rejected"]:
                raise RuntimeError(f"the fake refused pushes: {stats['rejected']}")
            if worker.poll() is not None:
                raise RuntimeError("the worker exited (see its log)")
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"only {stats['received']:,} of {count:,} pushes arrived in {seconds:.0f} s"
                )
            await asyncio.sleep(0.05)

    async def raw_rate(
        self, private_pem: bytes, *, concurrency: int, start: int, one_client: bool = False
    ) -> tuple[float, float]:
        """RAW_MESSAGES pre-encrypted pushes POSTed by a bare loop over the worker's own transport
        (`push_clients`: `concurrency` single-connection clients, as many in flight), or with
        `one_client` over one httpx client with `concurrency` connections (the transport it replaced):
        (accepted per second, this process's CPU ms per push). No database, queue or encryption."""
        from webpush import WebPush
        from webpush.types import WebPushKeys, WebPushSubscription

        from backend.notifications.push_jobs import push_clients
        from backend.notifications.push_sender import PushClients, _public_pem

        webpush = WebPush(
            private_key=private_pem, public_key=_public_pem(private_pem), subscriber="b@example.com"
        )
        pool, messages = browser_keys(), []
        payload = json.dumps({"title": "请提交心得", "body": "本周五截止", "url": "/reflections"}).encode()
        for n in range(start, start + RAW_MESSAGES):
            keys = pool[n % KEY_POOL]
            endpoint = f"{self.origin}/push/raw-{n}"
            message = webpush.get(
                payload,
                WebPushSubscription(endpoint=endpoint, keys=WebPushKeys(p256dh=keys.p256dh, auth=keys.auth)),
            )
            headers = {
                **dict(message.headers),
                "ttl": "86400",
                "urgency": "high",
                "content-type": "application/octet-stream",
            }
            messages.append((endpoint, message.encrypted, headers))
        if one_client:
            limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
            clients = PushClients(
                [httpx.AsyncClient(limits=limits, timeout=30)], connections_each=concurrency
            )
        else:
            clients = push_clients(concurrency)
        slots = asyncio.Semaphore(concurrency)

        async def post(endpoint: str, body: bytes, headers: dict[str, str]) -> None:
            async with slots:
                with clients.take(endpoint) as client:
                    response = await client.post(endpoint, content=body, headers=headers)
            if response.status_code != 201:
                raise RuntimeError(f"the fake answered {response.status_code}: {response.text[:200]}")

        try:
            started, cpu = time.perf_counter(), time.process_time()
            await asyncio.gather(*(post(*message) for message in messages))
            seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
            return RAW_MESSAGES / seconds, cpu * 1000 / RAW_MESSAGES
        finally:
            for client in clients.clients:
                await client.aclose()


if __name__ == "__main__":
    _serve()
