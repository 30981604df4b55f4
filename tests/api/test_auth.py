"""Sign-in, sessions, sign-out, password change and throttling, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from backend.accounts.tables import Session
from tests.conftest import AppClient, app_client, login

pytestmark = pytest.mark.usefixtures("backend_name", "demo")


async def test_login_by_name_sets_a_safe_session_cookie(client: AppClient) -> None:
    response = await client.post(
        "/api/v1/auth/login", json={"username": "zhang", "password": "learnloop-demo"}
    )
    assert response.status_code == 200
    cookie = response.headers["set-cookie"].lower()
    assert "learnloop_session=" in cookie
    assert "httponly" in cookie and "samesite=lax" in cookie
    assert "secure" not in cookie  # plain http in tests; Secure is set behind HTTPS (see below)
    me = (await client.get("/api/v1/me")).json()
    assert me["name"] == "张丽华" and me["employee_no"] == "E0004"
    assert me["department"]["name"] == "华东大区"
    assert me["roles"] == ["employee"]
    assert me["locale"] == "zh-CN"


async def test_login_by_employee_number(client: AppClient) -> None:
    response = await client.post(
        "/api/v1/auth/login", json={"username": "E0005", "password": "learnloop-demo"}
    )
    assert response.status_code == 200
    assert response.json()["username"] == "wang"


async def test_secure_cookie_behind_https_proxy(settings: Any, db: Any, demo: None) -> None:
    import msgspec

    proxied = msgspec.structs.replace(
        settings, server=msgspec.structs.replace(settings.server, trust_proxy=True)
    )
    async with app_client(proxied) as https_client:
        response = await https_client.post(
            "/api/v1/auth/login",
            json={"username": "zhang", "password": "learnloop-demo"},
            headers={"X-Forwarded-Proto": "https"},
        )
    assert "secure" in response.headers["set-cookie"].lower()


async def test_wrong_name_and_wrong_password_get_the_same_answer(client: AppClient) -> None:
    wrong_password = await client.post("/api/v1/auth/login", json={"username": "zhang", "password": "nope"})
    wrong_name = await client.post("/api/v1/auth/login", json={"username": "nobody", "password": "nope"})
    assert wrong_password.status_code == wrong_name.status_code == 401
    assert (
        wrong_password.json()["error"]["message"]
        == wrong_name.json()["error"]["message"]
        == "账号或密码不正确。"
    )


async def test_error_messages_follow_accept_language(client: AppClient) -> None:
    response = await client.post(
        "/api/v1/auth/login",
        json={"username": "zhang", "password": "nope"},
        headers={"Accept-Language": "en-US,en;q=0.9"},
    )
    assert response.json()["error"]["message"] == "Wrong account name or password."


async def test_new_session_id_at_each_login(client: AppClient) -> None:
    first = (
        await client.post("/api/v1/auth/login", json={"username": "zhang", "password": "learnloop-demo"})
    ).cookies
    second = (
        await client.post("/api/v1/auth/login", json={"username": "zhang", "password": "learnloop-demo"})
    ).cookies
    assert first["learnloop_session"] != second["learnloop_session"]


async def test_logout_ends_the_session(client: AppClient) -> None:
    await login(client, "zhang")
    token = client.cookies["learnloop_session"]
    assert (await client.post("/api/v1/auth/logout")).status_code == 204
    client.cookies.set("learnloop_session", token)  # an old copy of the cookie no longer works
    assert (await client.get("/api/v1/me")).status_code == 401


async def test_account_throttled_after_repeated_failures(client: AppClient) -> None:
    for _ in range(5):
        response = await client.post("/api/v1/auth/login", json={"username": "wang", "password": "wrong"})
        assert response.status_code == 401
    throttled = await client.post(
        "/api/v1/auth/login", json={"username": "wang", "password": "learnloop-demo"}
    )
    assert throttled.status_code == 429
    assert int(throttled.headers["retry-after"]) > 0
    # Another account from the same address is not locked by wang's failures.
    assert (
        await client.post("/api/v1/auth/login", json={"username": "zhang", "password": "learnloop-demo"})
    ).status_code == 200


async def test_address_throttled_after_many_failures_across_accounts(client: AppClient) -> None:
    for index in range(30):
        await client.post("/api/v1/auth/login", json={"username": f"guess{index}", "password": "x"})
    response = await client.post(
        "/api/v1/auth/login", json={"username": "zhang", "password": "learnloop-demo"}
    )
    assert response.status_code == 429


async def test_idle_session_expires(client: AppClient, settings: Any) -> None:
    await login(client, "zhang")
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=settings.auth.session_idle_minutes + 1)
    await Session.update({Session.last_seen_at: long_ago}).where(Session.id.is_not_null())
    assert (await client.get("/api/v1/me")).status_code == 401


async def test_absolute_timeout_even_when_active(client: AppClient, settings: Any) -> None:
    await login(client, "zhang")
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=settings.auth.session_absolute_minutes + 1)
    await Session.update({Session.created_at: long_ago}).where(Session.id.is_not_null())
    assert (await client.get("/api/v1/me")).status_code == 401


async def test_password_change_keeps_this_session_and_ends_others(client: AppClient, settings: Any) -> None:
    async with app_client(settings) as other_device:
        await login(other_device, "zhang")
        await login(client, "zhang")
        too_short = await client.put(
            "/api/v1/me/password", json={"current_password": "learnloop-demo", "new_password": "short"}
        )
        assert too_short.status_code == 422
        assert too_short.json()["error"]["field"] == "new_password"
        wrong = await client.put(
            "/api/v1/me/password", json={"current_password": "nope", "new_password": "a-new-password"}
        )
        assert wrong.status_code == 422
        ok = await client.put(
            "/api/v1/me/password",
            json={"current_password": "learnloop-demo", "new_password": "a-new-password"},
        )
        assert ok.status_code == 204
        assert (await client.get("/api/v1/me")).status_code == 200
        assert (await other_device.get("/api/v1/me")).status_code == 401
    fresh = await client.post("/api/v1/auth/login", json={"username": "zhang", "password": "a-new-password"})
    assert fresh.status_code == 200


async def test_language_preference_beats_accept_language(client: AppClient) -> None:
    await login(client, "wang")
    assert (await client.put("/api/v1/me/preferences", json={"locale": "en"})).status_code == 204
    me = (await client.get("/api/v1/me", headers={"Accept-Language": "zh-CN"})).json()
    assert me["locale"] == "en" and me["locale_setting"] == "en"
    bad = await client.put("/api/v1/me/preferences", json={"locale": "fr"})
    assert bad.status_code == 422
