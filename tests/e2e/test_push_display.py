"""What the phone shows for a push: the service worker of the real app in Chromium, pushes delivered
through the DevTools protocol (no vendor push service runs here; the server side is tested against the
loopback fake in tests/integration)."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

SHOWN = """async () => (await (await navigator.serviceWorker.ready).getNotifications())
    .map((n) => ({ title: n.title, body: n.body, tag: n.tag }))"""


def _push(cdp: Any, origin: str, registration: str, payload: dict[str, str]) -> None:
    cdp.send(
        "ServiceWorker.deliverPushMessage",
        {"origin": origin, "registrationId": registration, "data": json.dumps(payload, ensure_ascii=False)},
    )


def _registration(seen: list[dict[str, Any]]) -> str:
    """The app's service worker registration, as DevTools reported it (bounded wait)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        live = [item for item in seen if not item.get("isDeleted")]
        if live:
            return str(live[0]["registrationId"])
        time.sleep(0.1)
    raise AssertionError("DevTools reported no service worker registration")


def test_a_push_that_arrives_twice_shows_one_notification(live_server: str, phone: Any) -> None:
    phone.grant_permissions(["notifications"], origin=live_server)
    page = phone.new_page()
    cdp = phone.new_cdp_session(page)
    registrations: list[dict[str, Any]] = []
    cdp.on(
        "ServiceWorker.workerRegistrationUpdated", lambda event: registrations.extend(event["registrations"])
    )
    cdp.send("ServiceWorker.enable")
    page.goto(f"{live_server}/login")
    page.evaluate("async () => { await navigator.serviceWorker.ready; }")
    registration = _registration(registrations)
    reminder = {
        "title": "请提交心得",
        "body": "大客户关系维护心得本周五截止",
        "url": "/api/v1/notifications/41/open",
    }
    graded = {
        "title": "你的心得获评优秀",
        "body": "陈建国：写得很具体",
        "url": "/api/v1/notifications/42/open",
    }

    _push(cdp, live_server, registration, reminder)
    _push(cdp, live_server, registration, reminder)  # the same message again (a worker died after sending)
    _push(cdp, live_server, registration, graded)

    page.wait_for_function(f"async () => (await ({SHOWN})()).length >= 2")
    shown = page.evaluate(SHOWN)
    assert sorted((item["title"], item["body"]) for item in shown) == [
        ("你的心得获评优秀", "陈建国：写得很具体"),
        ("请提交心得", "大客户关系维护心得本周五截止"),
    ]
    assert {item["tag"] for item in shown} == {
        f"{live_server}/api/v1/notifications/41/open",
        f"{live_server}/api/v1/notifications/42/open",
    }
