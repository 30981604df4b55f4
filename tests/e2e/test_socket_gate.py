"""The ReactPy socket: Litestar's middleware does not cover it, so the gate checks Origin and the cookie."""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
from typing import Any

import httpx
import pytest
import websockets
from websockets.exceptions import InvalidStatus

pytestmark = pytest.mark.e2e


def socket_url(base: str, path: str = "/") -> str:
    return base.replace("http://", "ws://") + f"/reactpy/pwa.app.root/?path={path}&qs="


async def rendered(base: str, *, origin: str | None, cookie: str | None = None) -> str:
    headers = {"Cookie": f"learnloop_session={cookie}"} if cookie else {}
    seen: list[str] = []
    async with websockets.connect(socket_url(base), origin=origin, additional_headers=headers) as socket:  # type: ignore[arg-type]
        message = json.loads(await asyncio.wait_for(socket.recv(), 10))
        assert message["type"] == "layout-update"
        seen.append(json.dumps(message["model"], ensure_ascii=False))
        # Later updates carry what the page loads after its first frame (the person's name).
        while True:
            try:
                update = json.loads(await asyncio.wait_for(socket.recv(), 1))
            except TimeoutError:
                break
            seen.append(json.dumps(update["model"], ensure_ascii=False))
    return "\n".join(seen)


def run(coroutine: Any) -> Any:
    """Run a coroutine in its own thread: Playwright's sync API keeps a loop running in this one."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def session_cookie(base: str, username: str) -> str:
    response = httpx.post(
        f"{base}/api/v1/auth/login", json={"username": username, "password": "learnloop-demo"}
    )
    response.raise_for_status()
    return str(response.cookies["learnloop_session"])


def test_foreign_origin_is_refused(live_server: str) -> None:
    cookie = session_cookie(live_server, "zhang")
    for origin in ("https://evil.example", None):
        with pytest.raises(InvalidStatus) as refused:
            run(rendered(live_server, origin=origin, cookie=cookie))
        assert refused.value.response.status_code == 403


def test_the_cookie_signs_the_socket_in(live_server: str) -> None:
    cookie = session_cookie(live_server, "zhang")
    signed_in = run(rendered(live_server, origin=live_server, cookie=cookie))
    assert "你好，张丽华" in signed_in
    anonymous = run(rendered(live_server, origin=live_server))
    assert "登录学习圈" in anonymous and "张丽华" not in anonymous
    forged: Any = run(rendered(live_server, origin=live_server, cookie="forged-token"))
    assert "登录学习圈" in forged
