"""张丽华 watches a micro-course on her phone, saves it, and keeps watching on the subway without network."""

from __future__ import annotations

import time
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

PROGRESS_POST = "/progress"


def _sign_in(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("账号或工号").fill(username)
    page.get_by_label("密码", exact=True).fill("learnloop-demo")
    page.get_by_role("button", name="登录", exact=True).click()
    page.wait_for_url(f"{base}/")


def _demo_course_with_video(page: Any, base: str) -> dict[str, Any]:
    """A demo course she may watch, once the worker has generated its clip (seeding only queues it)."""
    library = page.request.get(f"{base}/api/v1/courses").json()
    courses = [page.request.get(f"{base}/api/v1/courses/{item['id']}").json() for item in library["items"]]
    # One she has not started: what this journey watches is all that counts.
    fresh = [c for c in courses if c["video_url"] and c["my_progress"]["watched_ratio"] == 0]
    assert fresh, "the demo has published courses zhang has not watched yet"
    course = fresh[0]
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        probe = page.request.get(f"{base}{course['video_url']}", headers={"Range": "bytes=0-1"})
        if probe.status in (200, 206):
            return dict(course)
        page.wait_for_timeout(1000)
    pytest.fail("the demo clip was not generated within 180 s")


def _current_time(page: Any) -> float:
    return float(page.evaluate("document.querySelector('video').currentTime"))


def _play(page: Any) -> None:
    # Muted: browsers let a page start muted playback without a tap.
    page.evaluate("() => { const v = document.querySelector('video'); v.muted = true; return v.play(); }")


def _plays_past(page: Any, seconds: float) -> None:
    page.wait_for_function(
        f"document.querySelector('video').currentTime > {seconds} && !document.querySelector('video').paused",
        timeout=30_000,
    )


def _is_progress_request(course_id: int) -> Any:
    return lambda request: (
        request.method == "POST" and request.url.endswith(f"/api/v1/courses/{course_id}/progress")
    )


def _wait_for(page: Any, condition: Any, timeout_ms: int = 10_000) -> None:
    waited = 0
    while not condition():
        assert waited < timeout_ms, "timed out"
        page.wait_for_timeout(100)
        waited += 100


def _is_progress_post(course_id: int) -> Any:
    return lambda response: (
        response.request.method == "POST" and response.url.endswith(f"/api/v1/courses/{course_id}/progress")
    )


def test_zhang_saves_a_course_and_watches_it_offline_with_seeking(live_server: str, phone: Any) -> None:
    base = live_server
    page = phone.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    _sign_in(page, base, "zhang")
    course = _demo_course_with_video(page, base)
    course_id = int(course["id"])

    # --- online: the page, the video plays, progress is reported ---
    page.goto(f"{base}/watch/{course_id}")
    page.get_by_role("heading", name=course["title"]).wait_for()
    for section in ("问题", "案例", "方法"):
        page.get_by_role("heading", name=section, exact=True).wait_for()
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    page.wait_for_function("document.querySelector('video').readyState >= 1")
    # Leaving before anything was played reports nothing (nothing watched, the position unchanged).
    posts: list[Any] = []
    page.on(
        "request", lambda request: posts.append(request) if _is_progress_request(course_id)(request) else None
    )
    page.evaluate("window.dispatchEvent(new Event('pagehide'))")
    page.wait_for_timeout(500)
    assert posts == []
    start = _current_time(page)
    with page.expect_response(_is_progress_post(course_id)) as reported:
        _play(page)
        _plays_past(page, start + 1.5)
        page.evaluate("document.querySelector('video').pause()")
    assert reported.value.status == 200
    answer = reported.value.json()
    assert answer["watched_ratio"] > 0 and answer["completed"] is False
    sent = reported.value.request.post_data_json
    assert sent["intervals"] and all(end > begin for begin, end in sent["intervals"])

    # A report still in flight when she leaves is not lost: it stays on the phone and goes out again
    # with the page's last request (keepalive). The server merges: sent twice counts once.
    held: list[Any] = []
    page.route(f"**/api/v1/courses/{course_id}/progress", lambda route: held.append(route))
    _play(page)
    _plays_past(page, sent["position"] + 1.5)
    page.evaluate("document.querySelector('video').pause()")
    page.wait_for_function("document.querySelector('video').paused")
    _wait_for(page, lambda: len(held) == 1)
    in_flight = held[0].request.post_data_json["intervals"]
    page.evaluate("window.dispatchEvent(new Event('pagehide'))")
    _wait_for(page, lambda: len(held) == 2)
    assert held[1].request.post_data_json["intervals"] == in_flight
    kept = page.evaluate(
        "Object.keys(localStorage).filter((k) => k.startsWith('learnloop.progress.'))"
        ".map((k) => JSON.parse(localStorage.getItem(k)).intervals)"
    )
    assert kept == [in_flight]
    with page.expect_response(_is_progress_post(course_id)):
        for route in held:
            route.continue_()
    page.unroute(f"**/api/v1/courses/{course_id}/progress")
    page.wait_for_function(
        "Object.keys(localStorage).filter((k) => k.startsWith('learnloop.progress.'))"
        ".every((k) => JSON.parse(localStorage.getItem(k)).intervals.length === 0)"
    )

    # Back later: the player starts where she paused.
    page.reload()
    page.get_by_role("heading", name=course["title"]).wait_for()
    page.wait_for_function(f"document.querySelector('video').currentTime >= {sent['position'] - 0.5}")

    # --- save for offline: a full phone says so clearly; with room, it is saved ---
    save = page.get_by_role("button", name="保存离线观看")
    box = save.bounding_box()
    assert box is not None and box["height"] >= 44
    page.evaluate("navigator.storage.estimate = () => Promise.resolve({ usage: 900, quota: 1000 })")
    save.click()
    page.get_by_role("status").filter(has_text="手机存储空间不足").wait_for()
    page.evaluate("delete navigator.storage.estimate")
    save.click()
    page.get_by_role("button", name="已保存，可离线观看").wait_for(timeout=60_000)
    page.get_by_role("status").filter(has_text="已保存，可离线观看").wait_for()

    # --- offline (subway): the page and the video come from this phone; seeking works ---
    phone.set_offline(True)
    page.reload()
    page.get_by_role("heading", name=course["title"]).wait_for()
    page.get_by_text("当前离线").wait_for()
    page.wait_for_function("document.querySelector('video').readyState >= 1")
    duration = float(page.evaluate("document.querySelector('video').duration"))
    assert duration > 10
    _play(page)
    _plays_past(page, _current_time(page) + 1)
    middle = round(duration / 2, 1)
    page.evaluate(f"document.querySelector('video').currentTime = {middle}")
    _plays_past(page, middle + 1.5)  # it plays on from the middle: the range came from the cache
    page.evaluate("document.querySelector('video').pause()")
    # What she watched offline waits on the phone...
    kept = page.evaluate(
        "Object.keys(localStorage).filter((k) => k.startsWith('learnloop.progress.'))"
        ".map((k) => JSON.parse(localStorage.getItem(k)))"
    )
    waiting = [record for record in kept if record["intervals"]]
    assert len(waiting) == 1
    played = waiting[0]["intervals"]
    assert any(begin >= middle - 0.5 for begin, _ in played)  # from the middle on
    assert not any(begin < middle - 1 < end for begin, end in played)  # the jump itself counts nothing

    # --- /saved, still offline: listed with its size ---
    page.goto(f"{base}/saved")
    page.get_by_role("heading", name="离线课程").wait_for()
    saved = page.get_by_role("list", name="已保存的课程").get_by_role("listitem")
    saved.filter(has_text=course["title"]).wait_for()
    assert saved.count() == 1
    assert "占用" in saved.first.inner_text()
    page.get_by_text("共 1 门").wait_for()

    # ...and is sent once the network is back (the server merges it with what it has).
    with page.expect_response(_is_progress_post(course_id)) as flushed:
        phone.set_offline(False)
    assert flushed.value.status == 200
    after = page.request.get(f"{base}/api/v1/courses/{course_id}").json()
    assert after["my_progress"]["watched_ratio"] > answer["watched_ratio"]
    assert after["my_progress"]["completed"] is False  # jumping to the middle watched nothing in between

    # --- remove it: asked first, then gone from the list and from the phone ---
    remove = page.get_by_role("button", name=f"删除离线课程：{course['title']}")
    box = remove.bounding_box()
    assert box is not None and box["height"] >= 44
    remove.click()
    dialog = page.get_by_role("dialog", name="删除离线课程？")
    dialog.wait_for()
    dialog.get_by_role("button", name="删除", exact=True).click()
    page.get_by_role("heading", name="还没有离线课程").wait_for()
    page.get_by_role("status").filter(has_text="已删除").wait_for()
    left = page.evaluate(
        "caches.open('learnloop-courses').then((cache) => cache.keys()).then((k) => k.length)"
    )
    assert left == 0
    assert errors == []
