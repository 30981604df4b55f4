"""Health, bad input and the OpenAPI document."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from tests.conftest import AppClient, app_client, login

pytestmark = pytest.mark.usefixtures("backend_name", "demo")


async def test_health_reports_each_service(client: AppClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "queue": "ok", "storage": "ok"}}


async def test_health_names_the_failing_check(settings: Any, db: Any) -> None:
    from tests.support.services import free_port_closed

    no_redis = msgspec.structs.replace(
        settings, redis=msgspec.structs.replace(settings.redis, url=free_port_closed())
    )
    async with app_client(no_redis) as client:
        response = await client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["checks"]["database"] == "ok" and body["checks"]["storage"] == "ok"
    assert body["checks"]["queue"].startswith("error")


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b'{"username": "zhang", "password": ', "application/json"),
        (b'{"username": "zhang", "password": "x", "admin": true}', "application/json"),
        (b'{"username": 5, "password": "x"}', "application/json"),
        (b'["zhang", "x"]', "application/json"),
        (b'{"username": "", "password": "x"}', "application/json"),
    ],
)
async def test_malformed_login_bodies_get_a_clear_4xx(
    client: AppClient, body: bytes, content_type: str
) -> None:
    response = await client.post("/api/v1/auth/login", content=body, headers={"Content-Type": content_type})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "body_invalid"
    assert error["message"].startswith("提交的数据格式不正确")


async def test_bad_input_message_in_english(client: AppClient) -> None:
    response = await client.post(
        "/api/v1/auth/login",
        content=b'{"username": "zhang"}',
        headers={"Content-Type": "application/json", "Accept-Language": "en"},
    )
    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith("The submitted data is malformed")


async def test_body_over_one_mebibyte_is_413(client: AppClient) -> None:
    big = b'{"username": "zhang", "password": "' + b"x" * (1024 * 1024) + b'"}'
    response = await client.post(
        "/api/v1/auth/login", content=big, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["error"]["message"] == "提交的内容过大。"


async def test_wrong_query_types_are_400(client: AppClient) -> None:
    await login(client, "hr")
    assert (await client.get("/api/v1/employees", params={"page": "abc"})).status_code == 400
    assert (await client.get("/api/v1/employees", params={"page": "0"})).status_code == 400
    assert (await client.get("/api/v1/employees", params={"q": "x" * 51})).status_code == 400


async def test_unknown_api_path_is_json_404(client: AppClient) -> None:
    response = await client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


async def test_openapi_documents_the_api(client: AppClient) -> None:
    schema = (await client.get("/schema/openapi.json")).json()
    for path in (
        "/api/v1/auth/login",
        "/api/v1/auth/logout",
        "/api/v1/me",
        "/api/v1/employees",
        "/api/v1/employees/{employee_id}",
    ):
        assert path in schema["paths"], path
