"""/media: Range semantics on the embedded S3 server, HEAD, who may fetch what, the presigned redirect.

Courses, versions and objects are put in place directly (the upload and transcode pipeline is tested
on its own): a published course by `trainer` with a ready version whose video is random bytes.
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import quote

import httpx
import msgspec
import pytest

from backend.accounts.tables import Account
from backend.courses.tables import Course, CourseAttachment, CourseVersion
from backend.courses.urls import (
    attachment_key,
    attachment_url,
    poster_url,
    version_poster_key,
    version_video_key,
    video_url,
)
from backend.lib.storage import storage_put
from backend.org.tables import Department
from backend.settings import Settings
from tests.conftest import AppClient, app_client, login

pytestmark = pytest.mark.usefixtures("backend_name", "demo")

VIDEO_BYTES = 700_000  # several 256 KiB chunks
JPEG = b"\xff\xd8\xff\xe0" + os.urandom(2_000) + b"\xff\xd9"


async def employee_of(username: str) -> int:
    row = await Account.select(Account.employee).where(Account.username == username).first()
    assert row is not None and row["employee"] is not None
    return int(row["employee"])


async def department_id(name: str) -> int:
    row = await Department.select(Department.id).where(Department.name == name).first()
    assert row is not None
    return int(row["id"])


async def course_create_direct(
    *,
    author: str = "trainer",
    status: str = "published",
    restricted: bool = False,
    audience_department_ids: tuple[int, ...] = (),
    title: str = "设备点检五步法",
) -> int:
    rows = await Course.insert(
        Course(
            title=title,
            author=await employee_of(author),
            status=status,
            restricted=restricted,
            audience_department_ids=list(audience_department_ids),
        )
    ).returning(Course.id)
    return int(rows[0]["id"])


async def version_add_direct(
    course_id: int, *, video: bytes, duration: float = 60.0, state: str = "ready", current: bool = True
) -> int:
    """A processed version of the course with its video and poster stored; the current one if asked."""
    number = await CourseVersion.count().where(CourseVersion.course == course_id) + 1
    video_key, poster_key = version_video_key(course_id, number), version_poster_key(course_id, number)
    await storage_put(video_key, video, content_type="video/mp4")
    await storage_put(poster_key, JPEG, content_type="image/jpeg")
    rows = await CourseVersion.insert(
        CourseVersion(
            course=course_id,
            number=number,
            state=state,
            video_key=video_key,
            poster_key=poster_key,
            duration=duration,
            width=640,
            height=360,
            size=len(video),
        )
    ).returning(CourseVersion.id)
    version_id = int(rows[0]["id"])
    if current:
        await Course.update({Course.current_version_id: version_id}).where(Course.id == course_id)
    return version_id


async def course_with_video(
    *, video: bytes | None = None, duration: float = 60.0, **course: Any
) -> tuple[int, int, bytes]:
    """(course id, version id, video bytes) of a course with one ready version."""
    content = video if video is not None else os.urandom(VIDEO_BYTES)
    course_id = await course_create_direct(**course)
    version_id = await version_add_direct(course_id, video=content, duration=duration)
    return course_id, version_id, content


async def test_range_requests_answer_exactly_the_bytes_asked_for(client: AppClient) -> None:
    course_id, version_id, video = await course_with_video()
    url, size = video_url(course_id, version_id), len(video)
    await login(client, "zhang")

    async def fetch(range_header: str | None) -> httpx.Response:
        return await client.get(url, headers={"Range": range_header} if range_header else {})

    whole = await fetch(None)
    assert whole.status_code == 200 and whole.content == video
    assert whole.headers["accept-ranges"] == "bytes" and whole.headers["content-type"] == "video/mp4"
    assert int(whole.headers["content-length"]) == size and "content-range" not in whole.headers
    assert whole.headers["cache-control"].startswith("private") and whole.headers.get("etag")

    cases = {
        "bytes=0-1023": (0, 1023),  # the first KiB, as a player probes
        "bytes=300000-300099": (300_000, 300_099),  # the middle
        f"bytes={size - 5000}-": (size - 5000, size - 1),  # open-ended
        "bytes=0-": (0, size - 1),  # what browsers send first for a video
        "bytes=-500": (size - 500, size - 1),  # the last 500 bytes
        f"bytes=-{size * 2}": (0, size - 1),  # a suffix longer than the object: all of it
        f"bytes={size - 10}-{size * 3}": (size - 10, size - 1),  # an end past the end is cut
    }
    for header, (first, last) in cases.items():
        answer = await fetch(header)
        assert answer.status_code == 206, header
        assert answer.headers["content-range"] == f"bytes {first}-{last}/{size}", header
        assert int(answer.headers["content-length"]) == last - first + 1, header
        assert answer.headers["accept-ranges"] == "bytes" and answer.headers["content-type"] == "video/mp4"
        assert answer.content == video[first : last + 1], header

    for header in (f"bytes={size}-", f"bytes={size + 100}-{size + 200}", "bytes=-0"):
        refused = await fetch(header)
        assert refused.status_code == 416, header
        assert refused.headers["content-range"] == f"bytes */{size}" and not refused.content

    # Ignored as RFC 7233 allows: not a byte range, several ranges, last before first.
    for header in ("bytes=abc", "items=0-10", "bytes=0-10,20-30", "bytes=500-100"):
        ignored = await fetch(header)
        assert ignored.status_code == 200 and ignored.content == video, header


async def test_head_answers_the_headers_without_a_body(client: AppClient) -> None:
    course_id, version_id, video = await course_with_video()
    await login(client, "zhang")
    url = video_url(course_id, version_id)
    whole = await client.head(url)
    assert whole.status_code == 200 and whole.content == b""
    assert int(whole.headers["content-length"]) == len(video) and whole.headers["accept-ranges"] == "bytes"
    part = await client.head(url, headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == b""
    assert part.headers["content-range"] == f"bytes 100-199/{len(video)}"
    assert part.headers["content-length"] == "100"
    assert (await client.head(url, headers={"Range": f"bytes={len(video)}-"})).status_code == 416


async def test_people_who_may_not_see_the_course_get_not_found(client: AppClient, settings: Settings) -> None:
    draft, draft_version, _ = await course_with_video(status="draft")
    research = await department_id("研发部")
    restricted, restricted_version, _ = await course_with_video(
        restricted=True, audience_department_ids=(research,)
    )
    public, public_version, video = await course_with_video()
    processing = await version_add_direct(public, video=b"x" * 10, state="processing", current=False)

    signed_out = await client.get(video_url(public, public_version))
    assert signed_out.status_code == 401
    await login(client, "zhang")  # 华东大区: outside 研发部's audience; not the author of the draft
    for url in (
        video_url(draft, draft_version),
        poster_url(draft, draft_version),
        video_url(restricted, restricted_version),
        video_url(public, processing),  # not ready
        video_url(draft, public_version),  # a version of another course
        video_url(public, 999_999),
        video_url(999_999, public_version),
        video_url(public, public_version).replace("video.mp4", "source"),  # no such file of a version
    ):
        answer = await client.get(url, headers={"Range": "bytes=0-99"})
        assert answer.status_code == 404, url
        assert answer.headers["content-type"].startswith("application/json"), url
    assert (await client.get(video_url(public, public_version))).content == video

    async with app_client(settings) as wang:  # 研发部: in the restricted course's audience
        await login(wang, "wang")
        assert (await wang.get(video_url(restricted, restricted_version))).status_code == 200
        assert (await wang.get(video_url(draft, draft_version))).status_code == 404
    async with app_client(settings) as author:
        await login(author, "trainer")
        assert (await author.get(video_url(draft, draft_version))).status_code == 200


async def test_an_old_version_stays_playable(client: AppClient) -> None:
    course_id, old_version, old_video = await course_with_video()
    new_video = os.urandom(50_000)
    new_version = await version_add_direct(course_id, video=new_video)
    await login(client, "zhang")
    old = await client.get(video_url(course_id, old_version), headers={"Range": "bytes=0-999"})
    assert old.status_code == 206 and old.content == old_video[:1000]
    assert (await client.get(video_url(course_id, new_version))).content == new_video


async def test_poster_and_an_attachment_with_a_chinese_name(client: AppClient) -> None:
    course_id, version_id, _ = await course_with_video()
    document = b"%PDF-1.4\n" + os.urandom(30_000)
    key = attachment_key(course_id, "tok123")
    await storage_put(key, document, content_type="application/pdf")
    rows = await CourseAttachment.insert(
        CourseAttachment(
            course=course_id,
            kind="pdf",
            filename="设备点检 清单.pdf",
            content_type="application/pdf",
            storage_key=key,
            size=len(document),
        )
    ).returning(CourseAttachment.id)
    await login(client, "zhang")

    poster = await client.get(poster_url(course_id, version_id))
    assert poster.status_code == 200 and poster.content == JPEG
    assert poster.headers["content-type"] == "image/jpeg"

    url = attachment_url(course_id, int(rows[0]["id"]))
    whole = await client.get(url)
    assert whole.status_code == 200 and whole.content == document
    assert whole.headers["content-type"] == "application/pdf"
    disposition = whole.headers["content-disposition"]
    assert f"filename*=UTF-8''{quote('设备点检 清单.pdf')}" in disposition
    assert disposition.isascii() and 'filename="' in disposition
    part = await client.get(url, headers={"Range": "bytes=-100"})
    assert part.status_code == 206 and part.content == document[-100:]
    assert (await client.get(attachment_url(course_id, 999_999))).status_code == 404


async def test_redirect_mode_hands_out_a_short_lived_presigned_url(settings: Settings, db: Any) -> None:
    redirecting = msgspec.structs.replace(
        settings, storage=msgspec.structs.replace(settings.storage, media_delivery="redirect")
    )
    async with app_client(redirecting) as client:
        from backend.lib.db import engine_bind

        engine_bind(db)
        course_id, version_id, video = await course_with_video()
        draft, draft_version, _ = await course_with_video(status="draft")
        await login(client, "zhang")
        answer = await client.get(video_url(course_id, version_id))
        assert answer.status_code == 302
        location = answer.headers["location"]
        assert location.startswith(f"http://{settings.storage.endpoint}/") and "X-Amz-Signature=" in location
        assert "X-Amz-Expires=600" in location
        async with httpx.AsyncClient() as browser:  # straight to the S3 server, as a browser would
            fetched = await browser.get(location)
            assert fetched.status_code == 200 and fetched.content == video
            tampered = await browser.get(location.replace(version_video_key(course_id, 1), "other"))
            assert tampered.status_code in (403, 404)
        # A HEAD is answered here: a presigned URL is signed for GET, and S3 refuses it for HEAD.
        head = await client.head(video_url(course_id, version_id))
        assert head.status_code == 200 and "location" not in head.headers and head.content == b""
        assert int(head.headers["content-length"]) == len(video) and head.headers["accept-ranges"] == "bytes"
        part = await client.head(video_url(course_id, version_id), headers={"Range": "bytes=10-19"})
        assert part.status_code == 206 and part.headers["content-range"] == f"bytes 10-19/{len(video)}"
        # The permission check comes first: nothing is signed for people who may not see the course.
        assert (await client.get(video_url(draft, draft_version))).status_code == 404
        assert (await client.head(video_url(draft, draft_version))).status_code == 404


async def test_a_version_whose_object_is_missing_is_not_found(client: AppClient) -> None:
    course_id = await course_create_direct()
    rows = await CourseVersion.insert(
        CourseVersion(course=course_id, number=1, state="ready", video_key="courses/gone.mp4", duration=10.0)
    ).returning(CourseVersion.id)
    url = video_url(course_id, int(rows[0]["id"]))
    await login(client, "zhang")
    assert (await client.get(url)).status_code == 404
    assert (await client.get(url, headers={"Range": "bytes=10-"})).status_code == 404
    assert (await client.get(url, headers={"Range": "bytes=-10"})).status_code == 404
    assert (await client.head(url)).status_code == 404
    assert (await client.get(poster_url(course_id, int(rows[0]["id"])))).status_code == 404  # no poster key
