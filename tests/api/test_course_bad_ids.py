"""Ids no row can have: every course route answers 404 (in the path) or 400/422 (in a body), never 500.

Row ids are PostgreSQL `integer`s (Serial): 2**31 and up make PostgreSQL refuse the query, past 2**63
SQLite overflows. The API and /media answer with the app's JSON error, /watch with its not-found page.
"""

from __future__ import annotations

from typing import Any

import pytest

from backend.courses.urls import attachment_url, poster_url, video_url
from tests.api.test_course_media import course_with_video
from tests.conftest import AppClient, login

pytestmark = pytest.mark.usefixtures("backend_name", "demo")

BAD_IDS = (0, 2**31, 2**63, 99_999_999_999_999_999_999)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _json_not_found(answer: Any, what: str) -> None:
    assert answer.status_code == 404, (what, answer.status_code, answer.text[:300])
    assert answer.headers["content-type"].startswith("application/json"), what
    assert answer.json()["error"]["code"] == "not_found", what


def _course_routes(course: int) -> list[tuple[str, str, dict[str, Any]]]:
    """(method, path, request arguments) of every API route under one course id."""
    base = f"/api/v1/courses/{course}"
    return [
        ("GET", base, {}),
        ("PATCH", base, {"json": {"title": "新标题"}}),
        ("DELETE", base, {}),
        ("POST", f"{base}/publish", {}),
        ("POST", f"{base}/unpublish", {}),
        ("POST", f"{base}/progress", {"json": {"intervals": [[0, 1]], "position": 1}}),
        ("GET", f"{base}/stats", {}),
        ("PUT", f"{base}/rating", {"json": {"stars": 4}}),
        ("DELETE", f"{base}/rating", {}),
        ("GET", f"{base}/comments", {}),
        ("POST", f"{base}/comments", {"json": {"body": "讲得清楚"}}),
        ("GET", f"{base}/attachments", {}),
        ("POST", f"{base}/attachments", {"files": {"file": ("清单.pdf", PDF, "application/pdf")}}),
    ]


async def test_a_course_id_no_row_can_have_is_not_found_everywhere(client: AppClient) -> None:
    course, version, _ = await course_with_video()
    await login(client, "hr")  # HR may manage every course: nothing stops the request before the id
    for bad in BAD_IDS:
        for method, path, arguments in _course_routes(bad):
            _json_not_found(await client.request(method, path, **arguments), f"{method} {path}")
        for url in (video_url(bad, version), poster_url(bad, version), attachment_url(bad, 1)):
            _json_not_found(await client.get(url, headers={"Range": "bytes=0-99"}), url)
            assert (await client.head(url)).status_code == 404, url
    # The course itself is untouched and still answers.
    assert (await client.get(f"/api/v1/courses/{course}")).status_code == 200


async def test_a_second_id_no_row_can_have_is_not_found(client: AppClient) -> None:
    course, version, _ = await course_with_video()
    await login(client, "hr")
    for bad in BAD_IDS:
        for method, path in (
            ("DELETE", f"/api/v1/courses/{course}/comments/{bad}"),
            ("DELETE", f"/api/v1/courses/{course}/attachments/{bad}"),
            ("GET", video_url(course, bad)),
            ("GET", poster_url(course, bad)),
            ("GET", attachment_url(course, bad)),
        ):
            _json_not_found(await client.request(method, path), f"{method} {path}")
    assert (await client.get(video_url(course, version), headers={"Range": "bytes=0-9"})).status_code == 206


async def test_the_watch_page_of_an_impossible_id_is_its_not_found_page(client: AppClient) -> None:
    await login(client, "zhang")
    for bad in BAD_IDS:
        page = await client.get(f"/watch/{bad}")
        assert page.status_code == 404, (bad, page.text[:300])
        assert page.headers["content-type"].startswith("text/html") and "找不到这门课程" in page.text


async def test_the_studio_upload_page_of_an_impossible_id_is_not_found(client: AppClient) -> None:
    await login(client, "trainer")
    for bad in BAD_IDS:
        page = await client.get(f"/studio/courses/{bad}/upload")
        assert page.status_code == 404, (bad, page.text[:300])


def _refused(answer: Any, what: str) -> None:
    assert answer.status_code in (400, 422), (what, answer.status_code, answer.text[:300])
    assert answer.json()["error"]["code"] in ("body_invalid", "invalid"), what


async def test_ids_in_bodies_that_no_row_can_have_are_refused(client: AppClient) -> None:
    course, _version, _ = await course_with_video(duration=100.0)
    await login(client, "trainer")  # the author: may upload to the course, edit it and watch it
    for bad in (2**31, 2**40, 2**63):
        progress = await client.post(
            f"/api/v1/courses/{course}/progress",
            json={"intervals": [[0, 1]], "position": 1, "version_id": bad},
        )
        _refused(progress, f"progress version_id {bad}")
        upload = await client.post(
            "/api/v1/uploads",
            json={
                "filename": "课.mp4",
                "size": 1000,
                "content_type": "video/mp4",
                "purpose": "course_video",
                "course_id": bad,
            },
        )
        _refused(upload, f"upload course_id {bad}")
        for field in ("audience_department_ids", "audience_position_ids"):
            created = await client.post("/api/v1/courses", json={"title": "新课", field: [bad]})
            _refused(created, f"create {field} {bad}")
            changed = await client.patch(f"/api/v1/courses/{course}", json={field: [bad]})
            _refused(changed, f"change {field} {bad}")
    assert (await client.get(f"/api/v1/courses/{course}")).json()["audience_department_ids"] == []
