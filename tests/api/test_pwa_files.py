"""The PWA's files: manifest per language, the service worker, the shell for every app URL."""

from __future__ import annotations

import re

import pytest

from tests.conftest import AppClient, login

pytestmark = pytest.mark.usefixtures("demo")


async def test_manifest_in_chinese_by_default_and_english_on_request(client: AppClient) -> None:
    chinese = (await client.get("/manifest.webmanifest")).json()
    assert (
        chinese["name"] == "Learnloop 学习圈"
        and chinese["short_name"] == "学习圈"
        and chinese["lang"] == "zh-CN"
    )
    english = (await client.get("/manifest.webmanifest", headers={"Accept-Language": "en-US"})).json()
    assert english["short_name"] == "Learnloop" and english["lang"] == "en"
    for manifest in (chinese, english):
        assert manifest["display"] == "standalone" and manifest["scope"] == "/" and manifest["id"] == "/"
        assert manifest["start_url"].startswith("/")
        purposes = {(icon["sizes"], icon["purpose"]) for icon in manifest["icons"]}
        assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= purposes
        for icon in manifest["icons"]:
            response = await client.get(icon["src"])
            assert response.status_code == 200 and response.content.startswith(b"\x89PNG")
            width = int.from_bytes(response.content[16:20], "big")
            assert f"{width}x{width}" == icon["sizes"]


async def test_manifest_follows_the_users_own_language(client: AppClient) -> None:
    await login(client, "wang")
    await client.put("/api/v1/me/preferences", json={"locale": "en"})
    manifest = (await client.get("/manifest.webmanifest", headers={"Accept-Language": "zh-CN"})).json()
    assert manifest["short_name"] == "Learnloop"


async def test_service_worker_is_versioned_and_never_long_cached(client: AppClient) -> None:
    response = await client.get("/sw.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["service-worker-allowed"] == "/"
    match = re.search(r'const VERSION = "([0-9a-f]{12})";', response.text)
    assert match, "the version placeholder was not filled in"
    assert "/offline.html" in response.text
    offline = await client.get("/offline.html")
    assert offline.status_code == 200 and "当前处于离线状态" in offline.text


@pytest.mark.parametrize("path", ["/", "/courses", "/reflections/7", "/admin/employees/3", "/login"])
async def test_every_app_url_serves_the_same_shell(client: AppClient, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 200
    html = response.text
    assert '<html lang="zh-CN">' in html
    assert 'rel="manifest" href="/manifest.webmanifest"' in html
    assert "pwa.app.root" in html and 'id="install-hint"' in html and "添加到主屏幕" in html
    assert len(response.content) < 8 * 1024  # a small shell: nothing blocks the first paint


async def test_shell_speaks_english_to_english_browsers(client: AppClient) -> None:
    html = (await client.get("/", headers={"Accept-Language": "en"})).text
    assert '<html lang="en">' in html and "Add to Home Screen" in html


async def test_static_files_are_served(client: AppClient) -> None:
    css = await client.get("/static/app.css")
    assert css.status_code == 200 and "--" in css.text
    assert (await client.get("/static/no-such-file.css")).status_code == 404
