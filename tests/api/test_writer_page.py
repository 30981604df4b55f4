"""The reflection writer page (/write/{id}) and the offline pieces it relies on (service worker, outbox)."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import pytest

from tests.conftest import AppClient, login

pytestmark = pytest.mark.usefixtures("demo")

DATA = re.compile(r'<script type="application/json" id="writer-data">(.*?)</script>', re.S)


async def _assignment(client: AppClient, training: str) -> dict[str, Any]:
    response = await client.get("/api/v1/assignments")
    assert response.status_code == 200, response.text
    found = [item for item in response.json() if item["training"]["name"] == training]
    assert found, response.text
    return dict(found[0])


def _data(html: str) -> dict[str, Any]:
    match = DATA.search(html)
    assert match, "the writer page carries no data for its script"
    return dict(json.loads(match.group(1)))


async def test_zhang_gets_her_writer_page_in_chinese(client: AppClient) -> None:
    await login(client, "zhang")
    assignment = await _assignment(client, "大客户关系维护")
    response = await client.get(f"/write/{assignment['id']}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "no-cache" in response.headers["cache-control"]
    html = response.text
    assert '<html lang="zh-CN">' in html
    assert "大客户关系维护" in html and assignment["prompt"] in html
    assert "至少 100 字" in html and "截止时间：" in html
    # The controls, each with an accessible name, and the live state line.
    assert '<label for="writer-text">我的心得</label>' in html
    assert 'capture="environment"' in html and "拍照" in html and "从相册选择" in html
    assert ">保存草稿</button>" in html and ">提交</button>" in html
    assert 'id="writer-status" class="writer-status" role="status"' in html and 'role="alert"' in html
    assert "/static/write.js?v=" in html and "/static/outbox.js?v=" in html and "/static/app.css?v=" in html
    data = _data(html)
    assert data["locale"] == "zh-CN"
    assert data["assignment"]["id"] == assignment["id"] and data["assignment"]["min_length"] == 100
    assert data["assignment"]["max_photos"] == 3
    assert data["messages"]["count_remaining"] == "还差 {n} 字"
    assert data["messages"]["count_reached"] == "已达到最低字数"
    assert data["messages"]["waiting"] == "等待发送" and data["messages"]["sent"] == "已发送"


async def test_the_page_speaks_english_to_english_browsers(client: AppClient) -> None:
    await login(client, "zhang")
    assignment = await _assignment(client, "大客户关系维护")
    html = (await client.get(f"/write/{assignment['id']}", headers={"Accept-Language": "en-US"})).text
    assert '<html lang="en">' in html and "At least 100 characters" in html
    assert ">Save draft</button>" in html and ">Submit</button>" in html
    data = _data(html)
    assert data["messages"]["waiting"] == "Waiting to send" and data["messages"]["sent"] == "Sent"


async def test_the_page_follows_the_users_own_language(client: AppClient) -> None:
    await login(client, "wang")
    assert (await client.put("/api/v1/me/preferences", json={"locale": "en"})).status_code == 204
    assignment = await _assignment(client, "代码评审实践")
    html = (await client.get(f"/write/{assignment['id']}", headers={"Accept-Language": "zh-CN"})).text
    assert '<html lang="en">' in html and "Write a reflection" in html


async def test_a_draft_on_the_server_is_in_the_page(client: AppClient) -> None:
    await login(client, "zhang")
    assignment = await _assignment(client, "大客户关系维护")
    saved = await client.put(
        f"/api/v1/assignments/{assignment['id']}/draft", json={"body": "地铁上写的开头 <b>", "photo_ids": []}
    )
    assert saved.status_code == 204
    html = (await client.get(f"/write/{assignment['id']}")).text
    assert "地铁上写的开头 &lt;b&gt;</textarea>" in html  # escaped, never markup
    assert _data(html)["assignment"]["body"] == "地铁上写的开头 <b>"


async def test_after_submitting_the_page_knows_it_is_submitted(client: AppClient) -> None:
    await login(client, "zhang")
    assignment = await _assignment(client, "大客户关系维护")
    response = await client.post(
        f"/api/v1/assignments/{assignment['id']}/submissions",
        json={"body": "学" * 120, "photo_ids": []},
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert response.status_code == 201, response.text
    data = _data((await client.get(f"/write/{assignment['id']}")).text)
    assert data["assignment"]["state"] == "submitted"
    assert data["assignment"]["submission_id"] == response.json()["id"]


async def test_signed_out_people_are_sent_to_sign_in(client: AppClient) -> None:
    response = await client.get("/write/1", follow_redirects=False)
    assert response.status_code in (302, 303)
    assert response.headers["location"] == "/login?next=/write/1"


async def test_someone_outside_the_training_gets_not_found(client: AppClient) -> None:
    await login(client, "zhang")
    zhangs = await _assignment(client, "大客户关系维护")
    await client.post("/api/v1/auth/logout")
    await login(client, "wang")
    response = await client.get(f"/write/{zhangs['id']}")
    assert response.status_code == 404
    assert "找不到这项心得任务" in response.text
    assert zhangs["prompt"] not in response.text and "writer-data" not in response.text
    assert (await client.get("/write/999999")).status_code == 404


async def test_service_worker_replays_the_outbox_and_keeps_the_writer_offline(client: AppClient) -> None:
    response = await client.get("/sw.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["service-worker-allowed"] == "/"
    worker = response.text
    version = re.search(r'const VERSION = "([0-9a-f]{12})";', worker)
    assert version
    assert "importScripts(`/static/outbox.js?v=${VERSION}`)" in worker
    assert 'self.addEventListener("sync"' in worker and "Outbox.SYNC_TAG" in worker
    for precached in ("/static/write.js", "/static/write.css", "/static/outbox.js", "/offline.html"):
        assert f'"{precached}"' in worker
    outbox = await client.get("/static/outbox.js")
    assert outbox.status_code == 200
    assert 'SYNC_TAG: "reflections-outbox"' in outbox.text and '"Idempotency-Key": item.key' in outbox.text
    assert (await client.get("/static/write.js")).status_code == 200
    assert (await client.get("/static/write.css")).status_code == 200
    offline = (await client.get("/offline.html")).text
    assert '<script src="/static/outbox.js"></script>' in offline and "等待发送" in offline
