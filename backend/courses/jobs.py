"""Worker jobs of micro-courses: a received video becomes a browser-ready version.

`transcode_on_event` (outbox handler of "course.video_received") enqueues `course_transcode` once per
version (deterministic job id). The job streams the upload from object storage to a temporary file,
remuxes or transcodes it in a thread, stores the video and its poster, and marks the version ready.

Failures end, they do not loop: a file that cannot be used (MediaError) fails the version at once
with a message for the trainer; storage or database trouble is retried once after a pause; a third
try — after two crashed or failed ones — only records the failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any

from arq.worker import Retry, func
from minio.error import S3Error

from backend.courses.access import VERSION_PROCESSING, VERSION_READY
from backend.courses.lifecycle import EVENT_VIDEO_RECEIVED, version_failed, version_ready
from backend.courses.tables import CourseVersion
from backend.courses.transcode import MediaCancelled, MediaError, MediaResult, media_process
from backend.courses.urls import version_poster_key, version_video_key
from backend.events.outbox import outbox_kick
from backend.lib.runtime import Runtime, runtime_get

logger = logging.getLogger("learnloop.courses.jobs")

# Wall-clock budget for remux/transcode of one video (inputs are at most 2 h long).
PROCESS_TIMEOUT_SECONDS = 3 * 3600
# arq's own limit also covers the download and the uploads around the processing.
JOB_TIMEOUT_SECONDS = PROCESS_TIMEOUT_SECONDS + 15 * 60
# Tries 1 and 2 process; a 3rd (after a worker died mid-job or unexpected trouble) records the failure.
TRANSCODE_MAX_TRIES = 3
RETRY_AFTER_SECONDS = 60

TOO_SLOW = "transcode.too_slow"
SOURCE_MISSING = "transcode.source_missing"
FAILED = "transcode.failed"


def transcode_job_id(version_id: int) -> str:
    return f"transcode:{version_id}"


async def transcode_on_event(ctx: dict[str, Any], payload: dict[str, Any]) -> None:
    """Outbox handler for "course.video_received": one transcode job per version, however often sent."""
    version_id = int(payload["version_id"])
    await ctx["redis"].enqueue_job("course_transcode", version_id, _job_id=transcode_job_id(version_id))


async def course_transcode(ctx: dict[str, Any], version_id: int) -> str:
    """arq job: process the version's upload. Returns "ready", "failed" or "skipped" (nothing to do)."""
    try:
        return await _version_transcode(version_id, job_try=int(ctx.get("job_try", 1)))
    except Exception as exc:
        # Storage or database trouble, or a bug: try again after a pause; the 3rd try fails the version.
        logger.warning("version %s: processing failed, will retry", version_id, exc_info=True)
        raise Retry(defer=RETRY_AFTER_SECONDS) from exc


async def _version_transcode(version_id: int, *, job_try: int) -> str:
    version = (
        await CourseVersion.select(
            CourseVersion.course, CourseVersion.number, CourseVersion.state, CourseVersion.source_key
        )
        .where(CourseVersion.id == version_id)
        .first()
    )
    if version is None or version["state"] != VERSION_PROCESSING:
        if version is not None and version["state"] == VERSION_READY and version["source_key"]:
            await _source_remove(runtime_get(), version["source_key"])  # a crash may have left it
        return "skipped"
    if job_try >= TRANSCODE_MAX_TRIES:
        logger.error("version %s: giving up after %s tries", version_id, TRANSCODE_MAX_TRIES - 1)
        await version_failed(version_id, reason=FAILED)
        await _source_remove(runtime_get(), version["source_key"])
        return "failed"
    runtime = runtime_get()
    course_id, number = int(version["course"]), int(version["number"])
    try:
        result = await _process(runtime, version["source_key"], course_id, number)
    except MediaError as exc:
        logger.info("version %s cannot be used: %s", version_id, exc)
        await version_failed(version_id, reason=exc.key)
        if exc.key != SOURCE_MISSING:
            await _source_remove(runtime, version["source_key"])  # of no use to anyone now
        return "failed"
    events = await version_ready(
        version_id,
        video_key=version_video_key(course_id, number),
        poster_key=version_poster_key(course_id, number),
        duration=result.duration,
        width=result.width,
        height=result.height,
        size=result.size,
        remuxed=result.remuxed,
    )
    await outbox_kick(events)
    await _source_remove(runtime, version["source_key"])
    if not await CourseVersion.exists().where(CourseVersion.id == version_id):
        # The course was deleted while its video was processed: nothing refers to these any more.
        for key in (version_video_key(course_id, number), version_poster_key(course_id, number)):
            await _source_remove(runtime, key)
        return "skipped"
    return "ready"


# A version still processing this long after its upload was lost by the queue (Redis flushed, a job
# dropped after its last try): it is sent again once, and failed for good after STUCK_FAIL_AFTER.
STUCK_RETRY_AFTER = dt.timedelta(seconds=JOB_TIMEOUT_SECONDS + 30 * 60)
STUCK_FAIL_AFTER = 3 * STUCK_RETRY_AFTER


async def versions_stuck_sweep(ctx: dict[str, Any]) -> int:
    """arq cron (hourly): no video stays "processing" forever. Returns how many versions it touched."""
    now = dt.datetime.now(dt.UTC)
    rows = await CourseVersion.select(
        CourseVersion.id, CourseVersion.created_at, CourseVersion.source_key
    ).where(
        (CourseVersion.state == VERSION_PROCESSING) & (CourseVersion.created_at < now - STUCK_RETRY_AFTER)
    )
    for row in rows:
        if row["created_at"] < now - STUCK_FAIL_AFTER:
            await version_failed(int(row["id"]), reason=FAILED)
            await _source_remove(runtime_get(), row["source_key"])
        else:  # one more try, under its own job id (the first id may still be remembered by arq)
            await ctx["redis"].enqueue_job(
                "course_transcode", row["id"], _job_id=f"{transcode_job_id(row['id'])}:sweep"
            )
    return len(rows)


# The function spec the worker registers (backend/worker.py FUNCTIONS).
TRANSCODE_JOB = func(
    course_transcode, name="course_transcode", timeout=JOB_TIMEOUT_SECONDS, max_tries=TRANSCODE_MAX_TRIES
)
# What the worker adds to OUTBOX_HANDLERS.
TRANSCODE_HANDLERS: dict[str, list[Any]] = {EVENT_VIDEO_RECEIVED: [transcode_on_event]}


async def _process(runtime: Runtime, source_key: str, course_id: int, number: int) -> MediaResult:
    """Download → remux/transcode → upload, in a private temporary directory removed afterwards."""
    storage, bucket = runtime.storage, runtime.settings.storage.bucket
    work_root = runtime.settings.data_path / "transcode"
    work = Path(await asyncio.to_thread(_work_dir, work_root))
    try:
        source, target, poster = work / "source", work / "video.mp4", work / "poster.jpg"
        try:
            # Streams to disk (never the whole file in memory).
            await asyncio.to_thread(storage.fget_object, bucket, source_key, str(source))
        except S3Error as exc:
            if exc.code in ("NoSuchKey", "NoSuchObject"):
                raise MediaError(SOURCE_MISSING, source_key) from exc
            raise
        result = await _media_process_bounded(source, target, poster)
        await asyncio.to_thread(
            storage.fput_object,
            bucket,
            version_video_key(course_id, number),
            str(target),
            content_type="video/mp4",
        )
        await asyncio.to_thread(
            storage.fput_object,
            bucket,
            version_poster_key(course_id, number),
            str(poster),
            content_type="image/jpeg",
        )
        return result
    finally:
        await asyncio.to_thread(shutil.rmtree, work, True)


async def _media_process_bounded(source: Path, target: Path, poster: Path) -> MediaResult:
    """media_process in a thread, stopped (not abandoned) on the time limit or a worker shutdown."""
    stop = threading.Event()
    task = asyncio.ensure_future(asyncio.to_thread(media_process, source, target, poster, cancel=stop))
    try:
        return await asyncio.wait_for(asyncio.shield(task), PROCESS_TIMEOUT_SECONDS)
    except TimeoutError:
        stop.set()
        with contextlib.suppress(MediaCancelled, MediaError):
            await task
        raise MediaError(TOO_SLOW) from None
    except asyncio.CancelledError:
        # The thread cannot be killed: ask it to stop and wait, so its files can be removed after it.
        stop.set()
        with contextlib.suppress(BaseException):
            await task
        raise


def _work_dir(root: Path) -> str:
    root.mkdir(parents=True, exist_ok=True)
    return tempfile.mkdtemp(prefix="version-", dir=root)


async def _source_remove(runtime: Runtime, source_key: str) -> None:
    if not source_key:
        return
    try:
        await asyncio.to_thread(runtime.storage.remove_object, runtime.settings.storage.bucket, source_key)
    except Exception:  # left behind: costs space, harms nobody (rclone answers errors as non-XML)
        logger.warning("object %s not removed", source_key, exc_info=True)
