"""The transcode job on the real object storage, database and Redis: a received video becomes a
playable version of its course, a broken one fails the course with a reason, and nothing loops."""

from __future__ import annotations

import asyncio
import io
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
import pytest_asyncio
from arq.worker import Retry, Worker
from minio.error import S3Error

from backend.courses import jobs, lifecycle
from backend.courses.access import STATUS_DRAFT, STATUS_PROCESSING, STATUS_PUBLISHED
from backend.courses.clips import clip_generate, encoder_name
from backend.courses.jobs import TRANSCODE_HANDLERS, TRANSCODE_JOB, course_transcode
from backend.courses.tables import Course, CourseVersion
from backend.courses.urls import source_key, version_poster_key, version_video_key
from backend.events.outbox import outbox_deliver, outbox_kick
from backend.events.tables import OutboxEvent
from backend.lib.db import write_transaction
from backend.lib.queue import job_decode, job_encode, queue_pool, queue_redis_settings
from backend.lib.runtime import Runtime, runtime_bind, runtime_peek
from backend.lib.storage import storage_client, storage_ensure_bucket
from backend.org.tables import Employee
from backend.settings import Settings

SECONDS = 2.0


@pytest_asyncio.fixture(loop_scope="session")
async def runtime(settings: Settings, demo: None) -> AsyncIterator[Runtime]:
    """Storage and queue bound as the worker binds them."""
    pool = await queue_pool(settings.redis.url)
    storage = storage_client(settings.storage)
    await storage_ensure_bucket(storage, settings.storage.bucket)
    previous = runtime_peek()
    bound = Runtime(settings=settings, storage=storage, queue=pool)
    runtime_bind(bound)
    try:
        await pool.flushdb()
        yield bound
    finally:
        runtime_bind(previous)
        await pool.flushdb()
        await pool.aclose()


async def _put(runtime: Runtime, path: Path | None, data: bytes = b"") -> str:
    key = source_key(str(uuid.uuid4()))
    bucket = runtime.settings.storage.bucket
    if path is not None:
        await asyncio.to_thread(runtime.storage.fput_object, bucket, key, str(path))
    else:
        await asyncio.to_thread(runtime.storage.put_object, bucket, key, io.BytesIO(data), len(data))
    return key


async def _course(*, status: str = STATUS_PROCESSING, publish_requested: bool = True) -> int:
    trainer = await Employee.select(Employee.id).first()
    assert trainer is not None
    rows = await Course.insert(
        Course(
            title="设备点检三步法", status=status, publish_requested=publish_requested, author=trainer["id"]
        )
    ).returning(Course.id)
    return int(rows[0]["id"])


async def _version(course_id: int, key: str, number: int = 1) -> int:
    rows = await CourseVersion.insert(
        CourseVersion(course=course_id, number=number, state="processing", source_key=key, size=1)
    ).returning(CourseVersion.id)
    return int(rows[0]["id"])


async def _exists(runtime: Runtime, key: str) -> Any:
    try:
        return await asyncio.to_thread(runtime.storage.stat_object, runtime.settings.storage.bucket, key)
    except S3Error as exc:
        if exc.code in ("NoSuchKey", "NoSuchObject"):
            return None
        raise


async def _row(table: Any, row_id: int) -> dict[str, Any]:
    row = await table.select().where(table.id == row_id).first()
    assert row is not None
    return dict(row)


@pytest.mark.parametrize(
    ("publish_requested", "expected_status"), [(True, STATUS_PUBLISHED), (False, STATUS_DRAFT)]
)
async def test_a_received_video_becomes_the_courses_playable_version(
    runtime: Runtime, tmp_path: Path, backend_name: str, publish_requested: bool, expected_status: str
) -> None:
    clip = clip_generate(tmp_path / "iphone.mp4", seconds=SECONDS, width=320, height=180, pix_fmt="yuv422p")
    key = await _put(runtime, clip)
    course_id = await _course(publish_requested=publish_requested)
    version_id = await _version(course_id, key)

    assert await course_transcode({"job_try": 1}, version_id) == "ready"

    version = await _row(CourseVersion, version_id)
    assert version["state"] == "ready" and not version["remuxed"]
    assert version["duration"] == pytest.approx(SECONDS, abs=0.1)
    assert (version["width"], version["height"]) == (320, 180)
    course = await _row(Course, course_id)
    assert course["status"] == expected_status and course["current_version_id"] == version_id
    video = await _exists(runtime, version["video_key"])
    poster = await _exists(runtime, version["poster_key"])
    assert video is not None and video.content_type == "video/mp4" and video.size == version["size"]
    assert poster is not None and poster.content_type == "image/jpeg"
    assert await _exists(runtime, key) is None  # the upload is gone once processed
    published_events = await OutboxEvent.count().where(OutboxEvent.kind == "course.published")
    assert published_events == (1 if publish_requested else 0)

    assert not list((runtime.settings.data_path / "transcode").iterdir())  # no temporary files left

    # Run again (arq delivers at least once): nothing changes.
    assert await course_transcode({"job_try": 1}, version_id) == "skipped"
    assert await _row(CourseVersion, version_id) == version
    assert await OutboxEvent.count().where(OutboxEvent.kind == "course.published") == published_events


async def test_a_browser_ready_upload_is_only_remuxed(runtime: Runtime, tmp_path: Path) -> None:
    key = await _put(runtime, clip_generate(tmp_path / "a.mp4", seconds=SECONDS, width=320, height=180))
    version_id = await _version(await _course(), key)
    assert await course_transcode({"job_try": 1}, version_id) == "ready"
    assert (await _row(CourseVersion, version_id))["remuxed"]


async def test_a_corrupt_upload_fails_the_course_with_a_reason_and_the_job_ends(
    runtime: Runtime, backend_name: str
) -> None:
    key = await _put(runtime, None, b"\x00\x00\x00\x20ftypisom" + bytes(range(256)) * 200)
    course_id = await _course()
    version_id = await _version(course_id, key)

    assert await course_transcode({"job_try": 1}, version_id) == "failed"  # returned: arq will not retry

    version = await _row(CourseVersion, version_id)
    course = await _row(Course, course_id)
    assert version["state"] == "failed" and version["failure_reason"] == "transcode.unreadable"
    assert course["status"] == "failed" and course["failure_reason"] == "transcode.unreadable"
    assert course["current_version_id"] is None
    assert await course_transcode({"job_try": 1}, version_id) == "skipped"


async def test_a_broken_replacement_keeps_the_published_video_playing(
    runtime: Runtime, tmp_path: Path
) -> None:
    course_id = await _course()
    good = await _version(course_id, await _put(runtime, clip_generate(tmp_path / "a.mp4", seconds=1)))
    assert await course_transcode({"job_try": 1}, good) == "ready"
    broken = await _version(course_id, await _put(runtime, None, b"not a video at all" * 100), number=2)

    assert await course_transcode({"job_try": 1}, broken) == "failed"

    course = await _row(Course, course_id)
    assert course["status"] == STATUS_PUBLISHED and course["current_version_id"] == good
    assert (await _row(CourseVersion, broken))["failure_reason"] == "transcode.unreadable"


async def test_a_missing_upload_fails_with_its_own_reason(runtime: Runtime) -> None:
    version_id = await _version(await _course(), source_key(str(uuid.uuid4())))
    assert await course_transcode({"job_try": 1}, version_id) == "failed"
    assert (await _row(CourseVersion, version_id))["failure_reason"] == "transcode.source_missing"


async def test_processing_that_takes_too_long_is_stopped_and_fails_the_version(
    runtime: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = await _put(runtime, clip_generate(tmp_path / "a.mov", seconds=4, pix_fmt="yuv422p"))
    version_id = await _version(await _course(), key)
    monkeypatch.setattr(jobs, "PROCESS_TIMEOUT_SECONDS", 0.001)  # instead of hours of video

    assert await course_transcode({"job_try": 1}, version_id) == "failed"

    assert (await _row(CourseVersion, version_id))["failure_reason"] == "transcode.too_slow"
    assert not list((runtime.settings.data_path / "transcode").iterdir())  # the thread stopped, files gone


async def test_storage_trouble_is_retried_a_bounded_number_of_times(
    runtime: Runtime, settings: Settings, tmp_path: Path
) -> None:
    key = await _put(runtime, clip_generate(tmp_path / "a.mp4", seconds=1))
    course_id = await _course()
    version_id = await _version(course_id, key)
    # Storage that refuses the worker (say, a rotated key not yet deployed): nothing wrong with the file.
    refused = storage_client(msgspec.structs.replace(settings.storage, secret_key="rotated-elsewhere"))
    runtime_bind(Runtime(settings=settings, storage=refused, queue=runtime.queue))
    try:
        for job_try in (1, 2):  # storage unreachable: try again later, the version waits
            with pytest.raises(Retry):
                await course_transcode({"job_try": job_try}, version_id)
            assert (await _row(CourseVersion, version_id))["state"] == "processing"
        # The last try (also after workers died mid-job twice) records the failure instead of looping.
        assert await course_transcode({"job_try": 3}, version_id) == "failed"
    finally:
        runtime_bind(runtime)
    assert (await _row(Course, course_id))["failure_reason"] == "transcode.failed"
    # The give-up path tries to remove the upload (of no use to anyone now); storage still refuses
    # this worker, so the object stays and the job still ends normally.
    assert await _exists(runtime, key) is not None


def _worker(settings: Settings, runtime: Runtime) -> Worker:
    """A burst worker with the outbox and the transcode job, as backend/worker.py registers them."""

    async def on_startup(ctx: dict[str, Any]) -> None:
        ctx["settings"] = settings
        ctx["outbox_handlers"] = TRANSCODE_HANDLERS

    return Worker(
        functions=[outbox_deliver, TRANSCODE_JOB],
        redis_settings=queue_redis_settings(settings.redis.url),
        redis_pool=runtime.queue,
        on_startup=on_startup,
        poll_delay=settings.worker.poll_delay,
        handle_signals=False,
        burst=True,
        job_serializer=job_encode,
        job_deserializer=job_decode,
    )


async def test_the_outbox_event_of_a_received_video_leads_to_a_ready_version(
    runtime: Runtime, settings: Settings, tmp_path: Path, backend_name: str
) -> None:
    if encoder_name("hevc") is None:
        pytest.skip("this PyAV build cannot write HEVC")
    iphone = clip_generate(
        tmp_path / "iphone.mov", seconds=SECONDS, width=320, height=180, video_codec="hevc"
    )
    key = await _put(runtime, iphone)
    course_id = await _course(status=STATUS_DRAFT, publish_requested=True)
    async with write_transaction(Course):
        version_id, event_id = await lifecycle.video_received(course_id=course_id, source_key=key, size=1)
    await outbox_kick([event_id])

    worker = _worker(settings, runtime)
    await worker.main()  # delivers the event, which enqueues the transcode, which the burst then runs

    assert worker.jobs_failed == 0
    results = sorted((r.function, r.result) for r in await runtime.queue.all_job_results())  # type: ignore[union-attr]
    # The video's event, its transcode, and the "published" event the ready version set off.
    assert results == [
        ("course_transcode", "ready"),
        ("outbox_deliver", "handled"),
        ("outbox_deliver", "handled"),
    ]
    version = await _row(CourseVersion, version_id)
    assert version["state"] == "ready" and version["duration"] == pytest.approx(SECONDS, abs=0.1)
    course = await _row(Course, course_id)
    assert course["current_version_id"] == version_id and course["status"] == STATUS_PUBLISHED

    # The same event delivered again (the sweep after a lost acknowledgement) starts no second job.
    await OutboxEvent.update({OutboxEvent.handled_at: None}).where(OutboxEvent.id == event_id)
    await runtime.queue.delete(f"arq:result:outbox:{event_id}")  # type: ignore[union-attr]
    await outbox_kick([event_id])
    again = _worker(settings, runtime)
    await again.main()
    assert again.jobs_complete == 1 and again.jobs_failed == 0  # the delivery only
    assert await _row(CourseVersion, version_id) == version


async def test_a_course_deleted_while_its_video_is_processed_leaves_no_objects(
    runtime: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_version_ready = lifecycle.version_ready
    course_id = await _course()
    version_id = await _version(course_id, await _put(runtime, clip_generate(tmp_path / "a.mp4", seconds=1)))

    async def delete_then_ready(*args: Any, **kwargs: Any) -> list[int]:
        await Course.delete().where(Course.id == course_id)  # the trainer deletes it meanwhile
        return await real_version_ready(*args, **kwargs)

    # The deletion lands between storing the processed video and recording it.
    monkeypatch.setattr(jobs, "version_ready", delete_then_ready)
    assert await course_transcode({"job_try": 1}, version_id) == "skipped"
    assert await _exists(runtime, version_video_key(course_id, 1)) is None
    assert await _exists(runtime, version_poster_key(course_id, 1)) is None


async def test_versions_the_queue_lost_are_sent_again_then_failed(runtime: Runtime, tmp_path: Path) -> None:
    import datetime as dt

    from backend.courses.jobs import STUCK_FAIL_AFTER, STUCK_RETRY_AFTER, versions_stuck_sweep

    course_id = await _course(publish_requested=False)
    fresh = await _version(course_id, await _put(runtime, None, b"x"), number=1)
    lost = await _version(
        course_id, await _put(runtime, clip_generate(tmp_path / "a.mp4", seconds=1)), number=2
    )
    abandoned = await _version(course_id, await _put(runtime, None, b"y"), number=3)
    now = dt.datetime.now(dt.UTC)
    await CourseVersion.update(
        {CourseVersion.created_at: now - STUCK_RETRY_AFTER - dt.timedelta(minutes=5)}
    ).where(CourseVersion.id == lost)
    await CourseVersion.update(
        {CourseVersion.created_at: now - STUCK_FAIL_AFTER - dt.timedelta(minutes=5)}
    ).where(CourseVersion.id == abandoned)
    assert await versions_stuck_sweep({"redis": runtime.queue}) == 2
    assert (await _row(CourseVersion, fresh))["state"] == "processing"  # still within its time
    assert (await _row(CourseVersion, abandoned))["state"] == "failed"
    assert runtime.queue is not None
    queued = await runtime.queue.queued_jobs()  # the lost one is sent again, once
    assert [(j.function, list(j.args)) for j in queued] == [("course_transcode", [lost])]
    assert await versions_stuck_sweep({"redis": runtime.queue}) == 1  # same job id: not queued twice
    assert len(await runtime.queue.queued_jobs()) == 1
