"""Web Push delivery against a loopback push service that verifies VAPID and decrypts the body."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from backend.notifications.push_jobs import push_clients
from backend.notifications.push_sender import (
    OUTCOME_FAILED,
    OUTCOME_GONE,
    OUTCOME_RETRY,
    OUTCOME_SENT,
    PAYLOAD_MAX,
    URGENCY_HIGH,
    PushClients,
    PushEndpointInvalid,
    PushSender,
    PushTarget,
    push_endpoint_check,
    push_keys_check,
    push_payload,
    retry_after_seconds,
)
from backend.notifications.vapid import application_server_key, vapid_generate
from tests.support.fake_push import BrowserKeys, FakePushService


@pytest.fixture(scope="module")
def push_service() -> Iterator[FakePushService]:
    service = FakePushService().start()
    yield service
    service.stop()


@pytest.fixture
def private_pem(tmp_path: Path) -> bytes:
    path, _public = vapid_generate(tmp_path)
    return path.read_bytes()


@pytest_asyncio.fixture(loop_scope="session")
async def sender(private_pem: bytes) -> AsyncIterator[PushSender]:
    async with httpx.AsyncClient(timeout=10) as client:
        yield PushSender(private_pem=private_pem, subject="mailto:hr@example.com", client=client)


def _target(subscription: dict[str, object]) -> PushTarget:
    keys = subscription["keys"]
    assert isinstance(keys, dict)
    return PushTarget(endpoint=str(subscription["endpoint"]), p256dh=keys["p256dh"], auth=keys["auth"])


async def test_the_browser_decrypts_what_was_sent_with_the_headers_asked_for(
    push_service: FakePushService, sender: PushSender
) -> None:
    subscription = push_service.subscription("zhang-phone")
    payload = push_payload(title="大客户关系维护心得", body="还有 2 天截止", url="/reflections")

    outcome = await sender.send(
        _target(subscription), payload, ttl=3600, urgency=URGENCY_HIGH, topic="due-12"
    )

    assert outcome.status == OUTCOME_SENT and outcome.http_status == 201
    [received] = push_service.for_endpoint("zhang-phone")
    assert received.payload == {"title": "大客户关系维护心得", "body": "还有 2 天截止", "url": "/reflections"}
    assert received.headers["ttl"] == "3600"
    assert received.headers["urgency"] == "high"
    assert received.headers["topic"] == "due-12"
    assert received.vapid_claims["sub"] == "mailto:hr@example.com"


async def test_ttl_zero_is_sent_as_zero_after_a_longer_one(
    push_service: FakePushService, sender: PushSender
) -> None:
    subscription = push_service.subscription("ttl-phone")
    await sender.send(_target(subscription), push_payload(title="a", body="b", url="/"), ttl=600)
    await sender.send(_target(subscription), push_payload(title="a", body="c", url="/"), ttl=0)
    assert [item.headers["ttl"] for item in push_service.for_endpoint("ttl-phone")] == ["600", "0"]


async def test_gone_retry_and_failure_answers(push_service: FakePushService, sender: PushSender) -> None:
    subscription = push_service.subscription("answers")
    target = _target(subscription)
    payload = push_payload(title="t", body="b", url="/")
    push_service.answer("answers", 410)
    push_service.answer("answers", 429, {"retry-after": "120"})
    push_service.answer("answers", 503)
    push_service.answer("answers", 400)

    assert (await sender.send(target, payload, ttl=60)).status == OUTCOME_GONE
    throttled = await sender.send(target, payload, ttl=60)
    assert (throttled.status, throttled.retry_after) == (OUTCOME_RETRY, 120.0)
    unavailable = await sender.send(target, payload, ttl=60)
    assert (unavailable.status, unavailable.http_status) == (OUTCOME_RETRY, 503)
    assert (await sender.send(target, payload, ttl=60)).status == OUTCOME_FAILED
    assert (await sender.send(target, payload, ttl=60)).status == OUTCOME_SENT


async def test_an_unreachable_push_service_is_a_retry(sender: PushSender) -> None:
    keys = BrowserKeys.generate()
    target = PushTarget(endpoint="http://127.0.0.1:9/push/x", p256dh=keys.p256dh, auth=keys.auth)
    outcome = await sender.send(target, push_payload(title="t", body="b", url="/"), ttl=60)
    assert outcome.status == OUTCOME_RETRY and outcome.error


async def test_a_long_body_is_shortened_to_fit_one_record_and_still_decrypts(
    push_service: FakePushService, sender: PushSender
) -> None:
    subscription = push_service.subscription("long")
    payload = push_payload(title="通知", body="心得" * 3_000, url="/reflections/7")
    assert len(payload) <= PAYLOAD_MAX
    assert (await sender.send(_target(subscription), payload, ttl=60)).status == OUTCOME_SENT
    [received] = push_service.for_endpoint("long")
    assert received.payload["body"].endswith("…") and received.payload["url"] == "/reflections/7"


async def test_the_fake_refuses_a_signature_from_another_key(
    push_service: FakePushService, tmp_path: Path
) -> None:
    """The fake checks for real: a token signed by one key but presented with another is refused."""
    subscription = push_service.subscription("forged")
    first = vapid_generate(tmp_path / "a")[0].read_bytes()
    _second_path, second_public = vapid_generate(tmp_path / "b")
    async with httpx.AsyncClient() as client:
        captured: dict[str, object] = {}

        async def capture(request: httpx.Request) -> httpx.Response:
            captured["headers"] = dict(request.headers)
            captured["body"] = request.content
            return httpx.Response(201)

        async with httpx.AsyncClient(transport=httpx.MockTransport(capture)) as recorder:
            await PushSender(private_pem=first, subject="mailto:x@example.com", client=recorder).send(
                _target(subscription), b'{"title":"t"}', ttl=60
            )
        headers = dict(captured["headers"])  # type: ignore[call-overload]
        token = headers["authorization"].split("t=")[1].split(",")[0]
        headers["authorization"] = f"vapid t={token}, k={second_public}"
        response = await client.post(str(subscription["endpoint"]), content=captured["body"], headers=headers)
    assert response.status_code == 400
    assert push_service.for_endpoint("forged") == []


def test_endpoints_must_be_https_unless_loopback_is_allowed() -> None:
    assert push_endpoint_check("https://fcm.googleapis.com/fcm/send/abc", allow_loopback_http=False)
    assert push_endpoint_check("http://127.0.0.1:8123/push/a", allow_loopback_http=True)
    for endpoint, allow, reason in (
        ("http://127.0.0.1:8123/push/a", False, "endpoint_not_https"),
        ("http://push.example.com/a", True, "endpoint_not_https"),
        ("ftp://push.example.com/a", True, "endpoint_not_https"),
        ("https://", False, "endpoint_invalid"),
        ("https://user:pw@push.example.com/", False, "endpoint_invalid"),
        ("https://push.example.com:99999/", False, "endpoint_invalid"),
        ("https://push.example.com/" + "a" * 3000, False, "endpoint_invalid"),
        ("", False, "endpoint_invalid"),
    ):
        with pytest.raises(PushEndpointInvalid) as caught:
            push_endpoint_check(endpoint, allow_loopback_http=allow)
        assert caught.value.reason == reason, endpoint


def test_browser_keys_are_checked() -> None:
    keys = BrowserKeys.generate()
    push_keys_check(keys.p256dh, keys.auth)
    for p256dh, auth in (
        (keys.p256dh, keys.auth + "AAAA"),
        (keys.p256dh[:-4], keys.auth),
        ("not base64!", keys.auth),
        (keys.p256dh, ""),
    ):
        with pytest.raises(PushEndpointInvalid):
            push_keys_check(p256dh, auth)


def test_retry_after_accepts_seconds_and_dates_within_a_day() -> None:
    assert retry_after_seconds("30") == 30.0
    assert retry_after_seconds(None) == 60.0
    assert retry_after_seconds("soon") == 60.0
    assert retry_after_seconds("999999") == 24 * 3600.0
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0


def test_payload_is_compact_json() -> None:
    payload = push_payload(title="标题", body="正文", url="/x")
    assert json.loads(payload) == {"title": "标题", "body": "正文", "url": "/x"}


async def test_the_workers_clients_reuse_one_connection_each(
    push_service: FakePushService, private_pem: bytes
) -> None:
    clients = push_clients(8)
    sender = PushSender(
        private_pem=private_pem, subject="mailto:hr@example.com", client=clients, concurrency=8
    )
    browsers = [push_service.subscription(f"pool-{n}") for n in range(120)]
    push_service.connections.clear()
    try:
        outcomes = await asyncio.gather(
            *(sender.send(_target(browser), b'{"title":"t"}', ttl=60) for browser in browsers)
        )
    finally:
        for client in clients.clients:
            await client.aclose()
    assert {outcome.status for outcome in outcomes} == {OUTCOME_SENT}
    assert all(len(push_service.for_endpoint(f"pool-{n}")) == 1 for n in range(120))
    # 120 pushes, 8 in flight: each client kept its one connection alive for the next push
    assert 1 <= len(push_service.connections) <= 8


async def test_a_request_takes_a_free_client_preferring_its_origin() -> None:
    clients = PushClients([httpx.AsyncClient() for _ in range(3)], connections_each=1)
    first, second, third = clients.clients
    with clients.take("https://fcm.example/a") as taken:
        assert taken is first
        with clients.take("https://fcm.example/b") as busy_elsewhere:
            assert busy_elsewhere is second  # the first is busy
            with clients.take("https://push.example/c") as last:
                assert last is third
    with clients.take("https://push.example/d") as again:
        assert again is third  # free and already connected to that origin
    with clients.take("https://fcm.example/e") as again:
        assert again in (first, second)
    for client in clients.clients:
        await client.aclose()


def test_the_first_vapid_key_is_one_key_however_many_make_it_at_once(tmp_path: Path) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        made = list(pool.map(lambda _n: vapid_generate(tmp_path), range(16)))
    assert len({public for _path, public in made}) == 1  # everyone got the key that stayed
    assert made[0][1] == application_server_key((tmp_path / "vapid_private.pem").read_bytes())
    assert [item.name for item in tmp_path.iterdir()] == ["vapid_private.pem"]  # no temporary left
