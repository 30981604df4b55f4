"""The Web Push API on SQLite and PostgreSQL: the VAPID key; subscribing a browser (validated: a clear
422 for a bad endpoint, missing keys or plain http unless the loopback setting admits it); one row per
endpoint; at most PER_PERSON_MAX per person; unsubscribing only one's own."""

from __future__ import annotations

import base64
from typing import Any

import msgspec
import pytest
from webpush import VAPID

from backend.lib.db import engine_bind
from backend.notifications.push_subscriptions import PER_PERSON_MAX
from backend.notifications.tables import PushSubscription
from backend.notifications.vapid import PRIVATE_KEY_FILE, application_server_key
from backend.settings import Settings
from tests.conftest import AppClient, app_client, login
from tests.support.fake_push import BrowserKeys
from tests.ui.harness import actor_named

pytestmark = pytest.mark.usefixtures("backend_name", "demo")

URL = "/api/v1/push/subscriptions"
FCM = "https://fcm.googleapis.com/fcm/send/"


def subscription(endpoint: str, **extra: Any) -> dict[str, Any]:
    keys = BrowserKeys.generate()
    return {"endpoint": endpoint, "keys": {"p256dh": keys.p256dh, "auth": keys.auth}, **extra}


async def employee_of(username: str) -> int:
    actor = await actor_named(username)
    assert actor.employee_id is not None
    return actor.employee_id


async def rows() -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = await PushSubscription.select().order_by(PushSubscription.id)
    return found


def with_push(settings: Settings, **push: Any) -> Settings:
    return msgspec.structs.replace(settings, push=msgspec.structs.replace(settings.push, **push))


async def test_the_vapid_key_is_made_once_in_the_data_dir(client: AppClient, settings: Settings) -> None:
    first = await client.get("/api/v1/push/vapid-public-key")
    assert first.status_code == 200
    key = first.json()["key"]
    point = base64.urlsafe_b64decode(key + "=" * (-len(key) % 4))
    assert len(point) == 65 and point[0] == 4
    path = settings.data_path / PRIVATE_KEY_FILE
    assert application_server_key(path.read_bytes()) == key
    assert (await client.get("/api/v1/push/vapid-public-key")).json() == {"key": key}


async def test_a_configured_vapid_key_wins(settings: Settings, db: Any) -> None:
    private_pem, _public_pem, public_key = VAPID.generate_keys()
    # as an environment variable would carry it: one line with \n escapes
    configured = with_push(settings, vapid_private_key=private_pem.decode().strip().replace("\n", "\\n"))
    async with app_client(configured) as client:
        engine_bind(db)
        assert (await client.get("/api/v1/push/vapid-public-key")).json() == {"key": public_key}
    assert not (settings.data_path / PRIVATE_KEY_FILE).exists()


async def test_subscribe_and_the_same_endpoint_again_updates_it(client: AppClient) -> None:
    await login(client, "zhang")
    browser = subscription(FCM + "abc", expirationTime=None)
    created = await client.post(URL, json=browser, headers={"Accept-Language": "en-US,en;q=0.9"})
    assert created.status_code == 201, created.text
    assert created.json()["endpoint"] == browser["endpoint"] and created.json()["created"] is True
    [row] = await rows()
    assert (row["employee"], row["endpoint"], row["p256dh"], row["auth"], row["locale"]) == (
        await employee_of("zhang"),
        browser["endpoint"],
        browser["keys"]["p256dh"],
        browser["keys"]["auth"],
        "en",
    )

    # wang signs in on the same phone; the browser re-subscribes with new keys and an expiry
    await client.post("/api/v1/auth/logout")
    await login(client, "wang")
    again = subscription(FCM + "abc", expirationTime=1_900_000_000_000)
    updated = await client.post(URL, json=again)
    assert updated.status_code == 200 and updated.json() == {
        "id": created.json()["id"],
        "endpoint": again["endpoint"],
        "created": False,
    }
    [row] = await rows()
    assert (row["employee"], row["p256dh"], row["auth"]) == (
        await employee_of("wang"),
        again["keys"]["p256dh"],
        again["keys"]["auth"],
    )
    assert row["expires_at"].year == 2030


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"endpoint": FCM + "x"}, "push_keys_invalid", "keys"),
        ({"endpoint": FCM + "x", "keys": {"p256dh": "abc"}}, "push_keys_invalid", "keys"),
        ({"endpoint": FCM + "x", "keys": {"p256dh": "abc", "auth": "def"}}, "push_keys_invalid", "keys"),
        (
            {"endpoint": FCM + "x", "keys": {"p256dh": "not base64!", "auth": "x"}},
            "push_keys_invalid",
            "keys",
        ),
        ({"keys": {"p256dh": "a", "auth": "b"}}, "push_endpoint_invalid", "endpoint"),
        ({"endpoint": "not a url"}, "push_endpoint_invalid", "endpoint"),
        ({"endpoint": "https://"}, "push_endpoint_invalid", "endpoint"),
        ({"endpoint": "https://user:pw@push.example/x"}, "push_endpoint_invalid", "endpoint"),
        ({"endpoint": "https://push.example/" + "x" * 2100}, "push_endpoint_invalid", "endpoint"),
        ({"endpoint": "http://push.example/x"}, "push_endpoint_not_https", "endpoint"),
        ({"endpoint": "http://127.0.0.1:8080/push/x"}, "push_endpoint_not_https", "endpoint"),
        ({"endpoint": "ftp://push.example/x"}, "push_endpoint_not_https", "endpoint"),
        ({"endpoint": FCM + "x", "expirationTime": "soon"}, "push_subscription_invalid", None),
        ({"endpoint": FCM + "x", "userVisibleOnly": True}, "push_subscription_invalid", None),
    ],
)
async def test_malformed_subscriptions_are_refused_clearly(
    client: AppClient, body: dict[str, Any], code: str, field: str | None
) -> None:
    await login(client, "zhang")
    if "keys" not in body and code != "push_keys_invalid":  # valid keys: the endpoint is at fault
        body = {**subscription(""), **body}
    response = await client.post(URL, json=body)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert (error["code"], error["field"]) == (code, field)
    assert error["message"] and not error["message"].startswith("error.")
    assert await rows() == []


async def test_refusals_speak_the_users_language(client: AppClient) -> None:
    await login(client, "zhang")
    body = subscription("http://push.example/x")
    chinese = (await client.post(URL, json=body)).json()["error"]["message"]
    english = (await client.post(URL, json=body, headers={"Accept-Language": "en"})).json()
    assert chinese == "推送订阅的地址必须使用 https"
    assert english["error"]["message"] == "The push subscription's endpoint must use https"
    missing = await client.post(URL, json={"endpoint": FCM + "x"}, headers={"Accept-Language": "en"})
    assert "keys.p256dh" in missing.json()["error"]["message"]


async def test_loopback_http_is_admitted_only_by_the_setting(settings: Settings, db: Any) -> None:
    async with app_client(with_push(settings, allow_loopback_http=True)) as client:
        engine_bind(db)
        await login(client, "zhang")
        loopback = await client.post(URL, json=subscription("http://127.0.0.1:8080/push/x"))
        assert loopback.status_code == 201, loopback.text
        for elsewhere in ("http://localhost:8080/push/x", "http://10.0.0.1/push/x"):
            refused = await client.post(URL, json=subscription(elsewhere))
            assert refused.json()["error"]["code"] == "push_endpoint_not_https"
    assert [row["endpoint"] for row in await rows()] == ["http://127.0.0.1:8080/push/x"]


async def test_unsubscribing_removes_only_my_own(client: AppClient) -> None:
    await login(client, "zhang")
    mine = subscription(FCM + "zhang")
    assert (await client.post(URL, json=mine)).status_code == 201
    await client.post("/api/v1/auth/logout")
    await login(client, "wang")
    response = await client.request("DELETE", URL, json={"endpoint": mine["endpoint"]})
    assert response.status_code == 204
    assert [row["endpoint"] for row in await rows()] == [mine["endpoint"]]
    await client.post("/api/v1/auth/logout")
    await login(client, "zhang")
    assert (await client.request("DELETE", URL, json={"endpoint": mine["endpoint"]})).status_code == 204
    assert await rows() == []
    # again (already gone) and malformed
    assert (await client.request("DELETE", URL, json={"endpoint": mine["endpoint"]})).status_code == 204
    bad = await client.request("DELETE", URL, json={"url": mine["endpoint"]})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "endpoint"


async def test_a_person_keeps_the_newest_subscriptions(client: AppClient) -> None:
    await login(client, "zhang")
    for number in range(PER_PERSON_MAX + 2):
        assert (await client.post(URL, json=subscription(f"{FCM}{number}"))).status_code == 201
    kept = sorted(int(row["endpoint"].rsplit("/", 1)[1]) for row in await rows())
    assert kept == list(range(2, PER_PERSON_MAX + 2))


async def test_signed_out_browsers_cannot_subscribe(client: AppClient) -> None:
    assert (await client.post(URL, json=subscription(FCM + "x"))).status_code == 401
    assert (await client.request("DELETE", URL, json={"endpoint": FCM + "x"})).status_code == 401
    assert (await client.get("/api/v1/push/vapid-public-key")).status_code == 200
