"""Resumable course-video uploads from a phone, over the API, on the real embedded S3 server."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import json
from typing import Any

import av
import pytest

from backend.accounts.tables import Account
from backend.courses.tables import Course, CourseVersion, Upload, UploadPart
from backend.courses.uploads import PART_SIZE, uploads_abort_idle
from backend.events.tables import OutboxEvent
from backend.lib.storage import (
    storage_error_code,
    storage_get,
    storage_multipart_abort,
    storage_multipart_complete,
    storage_multipart_parts,
)
from tests.conftest import AppClient, app_client, login

pytestmark = pytest.mark.usefixtures("backend_name", "demo")

# Three parts: two full ones and a 1 MiB remainder (S3 wants every part but the last >= 5 MiB).
LARGE_SIZE = 2 * PART_SIZE + 1024 * 1024


def _clip() -> bytes:
    """A real three-frame H.264 MP4 made by PyAV."""
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4") as output:
        stream = output.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 64, "yuv420p"
        for _ in range(3):
            frame = av.VideoFrame(64, 64, "yuv420p")
            for plane in frame.planes:
                plane.update(bytes(plane.buffer_size))
            for packet in stream.encode(frame):
                output.mux(packet)
        for packet in stream.encode():
            output.mux(packet)
    return buffer.getvalue()


CLIP = _clip()


def _video(size: int, fill: int = 0x5A) -> bytes:
    """A file of `size` bytes that starts like a real MP4 (the clip), then padding."""
    return CLIP + bytes([fill]) * (size - len(CLIP))


def _parts(data: bytes) -> dict[int, bytes]:
    return {
        index + 1: data[start : start + PART_SIZE]
        for index, start in enumerate(range(0, len(data), PART_SIZE))
    }


async def _employee_id(username: str) -> int:
    row = await Account.select(Account.employee).where(Account.username == username).first()
    assert row is not None and row["employee"] is not None
    return int(row["employee"])


async def _course(author: str = "trainer", status: str = "draft") -> int:
    rows = await Course.insert(
        Course(title="叉车日常点检", author=await _employee_id(author), status=status)
    ).returning(Course.id)
    return int(rows[0]["id"])


async def _create(client: AppClient, course_id: int, size: int, **overrides: Any) -> Any:
    body = {
        "filename": "点检.mp4",
        "size": size,
        "content_type": "video/mp4",
        "purpose": "course_video",
        "course_id": course_id,
        **overrides,
    }
    return await client.post("/api/v1/uploads", json=body)


async def _started(client: AppClient, course_id: int, size: int) -> str:
    response = await _create(client, course_id, size)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def _put(client: AppClient, upload_id: str, n: int, data: bytes) -> Any:
    return await client.put(
        f"/api/v1/uploads/{upload_id}/parts/{n}",
        content=data,
        headers={"Content-Type": "application/octet-stream"},
    )


async def _status(client: AppClient, upload_id: str) -> dict[str, Any]:
    response = await client.get(f"/api/v1/uploads/{upload_id}")
    assert response.status_code == 200, response.text
    return dict(response.json())


def _code(response: Any) -> str:
    return str(response.json()["error"]["code"])


async def _s3_upload_gone(upload_id: str) -> bool:
    """True when the S3 server no longer knows the upload's multipart upload (aborted)."""
    upload = (
        await Upload.select(Upload.storage_key, Upload.s3_upload_id).where(Upload.id == upload_id).first()
    )
    assert upload is not None
    try:
        await storage_multipart_parts(upload["storage_key"], upload["s3_upload_id"])
    except Exception as error:
        return storage_error_code(error) == "NoSuchUpload"
    return False


async def test_a_video_uploaded_in_parts_goes_to_processing(client: AppClient) -> None:
    course_id = await _course()
    await login(client, "trainer")
    data = _video(LARGE_SIZE)
    created = await _create(client, course_id, len(data))
    assert created.status_code == 201, created.text
    assert created.json()["part_size"] == 8 * 1024 * 1024 and created.json()["part_count"] == 3
    upload_id = created.json()["id"]
    for n, part in _parts(data).items():
        sent = await _put(client, upload_id, n, part)
        assert sent.status_code == 200, sent.text
        assert sent.json()["n"] == n and sent.json()["etag"]
    status = await _status(client, upload_id)
    assert status["received"] == [1, 2, 3] and status["state"] == "open"
    assert status["size"] == len(data) and status["part_count"] == 3

    done = await client.post(f"/api/v1/uploads/{upload_id}/complete")
    assert done.status_code == 202, done.text
    assert done.json()["course_id"] == course_id
    version = await CourseVersion.select().where(CourseVersion.id == done.json()["version_id"]).first()
    assert version is not None and version["state"] == "processing" and version["size"] == len(data)
    course = await Course.select(Course.status).where(Course.id == course_id).first()
    assert course == {"status": "processing"}
    events = await OutboxEvent.select(OutboxEvent.payload).where(OutboxEvent.kind == "course.video_received")
    payloads = [json.loads(e["payload"]) if isinstance(e["payload"], str) else e["payload"] for e in events]
    assert payloads == [{"version_id": version["id"], "course_id": course_id}]
    assert await storage_get(version["source_key"]) == data  # the parts joined in order
    assert (await _status(client, upload_id))["state"] == "completed"


async def test_a_dropped_connection_resumes_with_the_missing_parts_only(client: AppClient) -> None:
    course_id = await _course()
    await login(client, "trainer")
    data = _video(LARGE_SIZE, fill=0x33)
    parts = _parts(data)
    upload_id = await _started(client, course_id, len(data))
    assert (await _put(client, upload_id, 1, parts[1])).status_code == 200
    assert (await _put(client, upload_id, 3, parts[3])).status_code == 200
    # The phone lost its connection; back online it asks what arrived.
    status = await _status(client, upload_id)
    assert status["received"] == [1, 3]
    early = await client.post(f"/api/v1/uploads/{upload_id}/complete")
    assert early.status_code == 422 and _code(early) == "upload.parts_missing"
    assert "1" in early.json()["error"]["message"]
    missing = sorted(set(range(1, status["part_count"] + 1)) - set(status["received"]))
    for n in missing:
        assert (await _put(client, upload_id, n, parts[n])).status_code == 200
    done = await client.post(f"/api/v1/uploads/{upload_id}/complete")
    assert done.status_code == 202, done.text
    version = (
        await CourseVersion.select(CourseVersion.source_key)
        .where(CourseVersion.id == done.json()["version_id"])
        .first()
    )
    assert version is not None and await storage_get(version["source_key"]) == data


async def test_a_part_sent_again_replaces_the_first_one(client: AppClient) -> None:
    course_id = await _course()
    await login(client, "trainer")
    first, second = _video(LARGE_SIZE, fill=0x11), _video(LARGE_SIZE, fill=0x22)
    upload_id = await _started(client, course_id, len(first))
    stored = await _put(client, upload_id, 1, _parts(first)[1])
    # The answer was lost on the way back: the phone sends the same part again.
    retried = await _put(client, upload_id, 1, _parts(first)[1])
    assert stored.status_code == retried.status_code == 200
    assert (await _put(client, upload_id, 3, _parts(first)[3])).status_code == 200
    # A part not yet joined may also be sent again with other bytes: the later one counts.
    replaced = await _put(client, upload_id, 3, _parts(second)[3])
    assert replaced.status_code == 200
    assert (await _put(client, upload_id, 2, _parts(first)[2])).status_code == 200
    rows = await UploadPart.select(UploadPart.n, UploadPart.etag).where(UploadPart.upload == upload_id)
    assert sorted(row["n"] for row in rows) == [1, 2, 3]
    assert {row["etag"] for row in rows if row["n"] == 3} == {replaced.json()["etag"]}
    assert (await _status(client, upload_id))["received"] == [1, 2, 3]
    done = await client.post(f"/api/v1/uploads/{upload_id}/complete")
    assert done.status_code == 202, done.text
    version = (
        await CourseVersion.select(CourseVersion.source_key)
        .where(CourseVersion.id == done.json()["version_id"])
        .first()
    )
    assert version is not None
    expected = _parts(first)[1] + _parts(first)[2] + _parts(second)[3]
    assert await storage_get(version["source_key"]) == expected


async def test_a_part_of_the_wrong_size_is_refused_and_nothing_is_stored(client: AppClient) -> None:
    course_id = await _course()
    await login(client, "trainer")
    data = _video(LARGE_SIZE)
    parts = _parts(data)
    upload_id = await _started(client, course_id, len(data))
    short = await _put(client, upload_id, 1, parts[1][:-1])
    assert short.status_code == 422 and _code(short) == "upload.part_size_wrong"
    assert str(PART_SIZE) in short.json()["error"]["message"]
    long = await _put(client, upload_id, 3, parts[3] + b"\x00")
    assert long.status_code == 422 and _code(long) == "upload.part_size_wrong"
    full_as_last = await _put(client, upload_id, 3, parts[1])
    assert full_as_last.status_code == 422
    too_big_for_any_part = await _put(client, upload_id, 2, parts[1] + parts[3])
    assert too_big_for_any_part.status_code in (413, 422)
    for n in (0, 4):
        outside = await _put(client, upload_id, n, parts[3])
        assert outside.status_code == 422 and _code(outside) == "upload.part_number_invalid"
    assert (await _status(client, upload_id))["received"] == []
    upload = (
        await Upload.select(Upload.storage_key, Upload.s3_upload_id).where(Upload.id == upload_id).first()
    )
    assert upload is not None
    assert await storage_multipart_parts(upload["storage_key"], upload["s3_upload_id"]) == []


async def test_sizes_and_fields_are_checked_when_an_upload_starts(client: AppClient) -> None:
    course_id = await _course()
    await login(client, "trainer")
    huge = await _create(client, course_id, 2 * 1024**3 + 1)
    assert huge.status_code == 422 and _code(huge) == "upload.too_large"
    assert "2" in huge.json()["error"]["message"]
    exactly_the_limit = await _create(client, course_id, 2 * 1024**3)
    assert exactly_the_limit.status_code == 201 and exactly_the_limit.json()["part_count"] == 256
    empty = await _create(client, course_id, 0)
    assert empty.status_code == 422 and _code(empty) == "upload.empty"
    photo = await _create(client, course_id, 1000, purpose="reflection_photo")
    assert photo.status_code == 422 and _code(photo) == "upload.purpose_invalid"
    long_name = await _create(client, course_id, 1000, filename="x" * 201)
    assert long_name.status_code == 400
    unknown = await _create(client, course_id, 1000, duration=12)
    assert unknown.status_code == 400
    missing_course = await _create(client, 999_999, 1000)
    assert missing_course.status_code == 404


async def test_a_file_that_is_not_a_video_is_refused_and_the_upload_aborted(client: AppClient) -> None:
    course_id = await _course()
    await login(client, "trainer")
    # Named and declared as a video; its content is a PDF.
    document = b"%PDF-1.7\n" + b"\x20" * 3000
    upload_id = await _started(client, course_id, len(document))
    refused = await _put(client, upload_id, 1, document)
    assert refused.status_code == 422 and _code(refused) == "upload.not_video"
    assert (await _status(client, upload_id))["state"] == "aborted"
    assert await _s3_upload_gone(upload_id)
    again = await _put(client, upload_id, 1, document)
    assert again.status_code == 409 and _code(again) == "upload.aborted"
    done = await client.post(f"/api/v1/uploads/{upload_id}/complete")
    assert done.status_code == 409
    assert await CourseVersion.count().where(CourseVersion.course == course_id) == 0


async def test_only_the_uploader_sees_and_feeds_an_upload(client: AppClient, settings: Any) -> None:
    course_id = await _course()
    await login(client, "zhang")
    assert (await _create(client, course_id, len(CLIP))).status_code == 404  # a draft zhang cannot see
    published = await _course(status="published")
    assert (await _create(client, published, len(CLIP))).status_code == 403  # sees it, may not manage it

    async with app_client(settings) as trainer:
        await login(trainer, "trainer")
        upload_id = await _started(trainer, course_id, len(CLIP))
    assert (await client.get(f"/api/v1/uploads/{upload_id}")).status_code == 404
    assert (await _put(client, upload_id, 1, CLIP)).status_code == 404
    assert (await client.post(f"/api/v1/uploads/{upload_id}/complete")).status_code == 404
    assert (await client.delete(f"/api/v1/uploads/{upload_id}")).status_code == 404
    assert (await client.get("/api/v1/uploads/not-a-uuid")).status_code in (400, 404)

    async with app_client(settings) as hr:
        await login(hr, "hr")  # HR manages every course and may upload to it
        hr_upload = await _started(hr, course_id, len(CLIP))
        assert (await _put(hr, hr_upload, 1, CLIP)).status_code == 200
        assert (await hr.get(f"/api/v1/uploads/{upload_id}")).status_code == 404  # still the trainer's
    async with app_client(settings) as anonymous:
        assert (await anonymous.get(f"/api/v1/uploads/{upload_id}")).status_code == 401
        assert (await _create(anonymous, course_id, len(CLIP))).status_code == 401
    assert (await Upload.select(Upload.state).where(Upload.id == upload_id).first()) == {"state": "open"}


async def test_a_cancelled_upload_takes_no_more_parts(client: AppClient) -> None:
    course_id = await _course()
    await login(client, "trainer")
    data = _video(LARGE_SIZE)
    upload_id = await _started(client, course_id, len(data))
    assert (await _put(client, upload_id, 1, _parts(data)[1])).status_code == 200
    cancelled = await client.delete(f"/api/v1/uploads/{upload_id}")
    assert cancelled.status_code == 204
    assert (await _status(client, upload_id))["state"] == "aborted"
    assert await _s3_upload_gone(upload_id)
    assert (await client.delete(f"/api/v1/uploads/{upload_id}")).status_code == 204
    late = await _put(client, upload_id, 2, _parts(data)[2])
    assert late.status_code == 409 and _code(late) == "upload.aborted"
    assert (await client.post(f"/api/v1/uploads/{upload_id}/complete")).status_code == 409
    assert await CourseVersion.count().where(CourseVersion.course == course_id) == 0


async def test_uploads_left_idle_for_a_day_are_aborted(client: AppClient) -> None:
    course_id = await _course()
    await login(client, "trainer")
    idle = await _started(client, course_id, len(CLIP))
    active = await _started(client, course_id, len(CLIP))
    finished = await _started(client, course_id, len(CLIP))
    assert (await _put(client, finished, 1, CLIP)).status_code == 200
    assert (await client.post(f"/api/v1/uploads/{finished}/complete")).status_code == 202
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(hours=25)
    await Upload.update({Upload.touched_at: long_ago}).where(Upload.id.is_in([idle, finished]))
    await Upload.update({Upload.touched_at: dt.datetime.now(dt.UTC) - dt.timedelta(hours=23)}).where(
        Upload.id == active
    )
    assert await uploads_abort_idle({}) == 1
    assert (await _status(client, idle))["state"] == "aborted"
    assert await _s3_upload_gone(idle)
    assert (await _status(client, active))["state"] == "open"
    assert not await _s3_upload_gone(active)
    assert (await _status(client, finished))["state"] == "completed"
    assert await uploads_abort_idle({}) == 0  # a second run changes nothing
    assert (await _put(client, active, 1, CLIP)).status_code == 200


async def test_completing_twice_gives_the_same_version(client: AppClient) -> None:
    course_id = await _course()
    await login(client, "trainer")
    upload_id = await _started(client, course_id, len(CLIP))
    assert (await _put(client, upload_id, 1, CLIP)).status_code == 200
    first = await client.post(f"/api/v1/uploads/{upload_id}/complete")
    second = await client.post(f"/api/v1/uploads/{upload_id}/complete")
    assert first.status_code == second.status_code == 202
    assert first.json() == second.json()
    assert (await _put(client, upload_id, 1, CLIP)).status_code == 409

    racing = await _started(client, course_id, len(CLIP))
    assert (await _put(client, racing, 1, CLIP)).status_code == 200
    answers = await asyncio.gather(*(client.post(f"/api/v1/uploads/{racing}/complete") for _ in range(3)))
    assert {answer.status_code for answer in answers} == {202}
    assert len({answer.json()["version_id"] for answer in answers}) == 1
    assert await CourseVersion.count().where(CourseVersion.course == course_id) == 2


async def test_a_completion_cut_short_after_joining_the_parts_finishes_when_retried(
    client: AppClient,
) -> None:
    course_id = await _course()
    await login(client, "trainer")
    upload_id = await _started(client, course_id, len(CLIP))
    assert (await _put(client, upload_id, 1, CLIP)).status_code == 200
    # The server joined the parts, then died before recording it: the upload still looks open.
    upload = (
        await Upload.select(Upload.storage_key, Upload.s3_upload_id).where(Upload.id == upload_id).first()
    )
    assert upload is not None
    parts = await UploadPart.select(UploadPart.n, UploadPart.etag).where(UploadPart.upload == upload_id)
    await storage_multipart_complete(
        upload["storage_key"], upload["s3_upload_id"], [(row["n"], row["etag"]) for row in parts]
    )
    assert (await _status(client, upload_id))["state"] == "open"
    done = await client.post(f"/api/v1/uploads/{upload_id}/complete")
    assert done.status_code == 202, done.text
    assert await storage_get(upload["storage_key"]) == CLIP
    assert await CourseVersion.count().where(CourseVersion.course == course_id) == 1


async def test_an_upload_the_storage_server_lost_is_reported_as_ended(client: AppClient) -> None:
    course_id = await _course()
    await login(client, "trainer")
    data = _video(LARGE_SIZE)
    upload_id = await _started(client, course_id, len(data))
    assert (await _put(client, upload_id, 1, _parts(data)[1])).status_code == 200
    # The embedded S3 server keeps uploads in progress in memory: a restart forgets them.
    upload = (
        await Upload.select(Upload.storage_key, Upload.s3_upload_id).where(Upload.id == upload_id).first()
    )
    assert upload is not None
    await storage_multipart_abort(upload["storage_key"], upload["s3_upload_id"])
    lost = await _put(client, upload_id, 2, _parts(data)[2])
    assert lost.status_code == 409 and _code(lost) == "upload.aborted"
    assert (await _status(client, upload_id))["state"] == "aborted"
