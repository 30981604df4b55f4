"""A course's video lifecycle: upload received → processing → ready (published) or failed.

`video_received` runs inside the upload's completing transaction and writes the outbox event that sets
off transcoding; `version_ready` / `version_failed` are called by the transcode job. Each is idempotent
for its version: a job that runs twice changes nothing the second time.
"""

from __future__ import annotations

import datetime as dt

from backend.courses.access import (
    STATUS_DRAFT,
    STATUS_FAILED,
    STATUS_PROCESSING,
    STATUS_PUBLISHED,
    VERSION_FAILED,
    VERSION_PROCESSING,
    VERSION_READY,
)
from backend.courses.tables import Course, CourseVersion
from backend.events.outbox import outbox_add
from backend.lib.db import write_transaction
from backend.lib.errors import NotFound

EVENT_VIDEO_RECEIVED = "course.video_received"
EVENT_PUBLISHED = "course.published"


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def video_received(*, course_id: int, source_key: str, size: int) -> tuple[int, int]:
    """A complete upload for a course: a new version to process. Call inside a write transaction.

    Returns (version id, outbox event id); kick the event after the commit.
    """
    course = await Course.select(Course.status).where(Course.id == course_id).first()
    if course is None:
        raise NotFound()
    last = (
        await CourseVersion.select(CourseVersion.number)
        .where(CourseVersion.course == course_id)
        .order_by(CourseVersion.number, ascending=False)
        .first()
    )
    number = (last["number"] if last else 0) + 1
    rows = await CourseVersion.insert(
        CourseVersion(
            course=course_id, number=number, state=VERSION_PROCESSING, source_key=source_key, size=size
        )
    ).returning(CourseVersion.id)
    version_id = int(rows[0]["id"])
    if course["status"] != STATUS_PUBLISHED:  # a published course keeps playing its current video
        await Course.update(
            {Course.status: STATUS_PROCESSING, Course.failure_reason: "", Course.updated_at: now()}
        ).where(Course.id == course_id)
    else:
        await Course.update({Course.failure_reason: "", Course.updated_at: now()}).where(
            Course.id == course_id
        )
    event_id = await outbox_add(EVENT_VIDEO_RECEIVED, {"version_id": version_id, "course_id": course_id})
    return version_id, event_id


async def version_ready(
    version_id: int,
    *,
    video_key: str,
    poster_key: str,
    duration: float,
    width: int,
    height: int,
    size: int,
    remuxed: bool,
) -> list[int]:
    """The processed video is stored: it becomes the course's current video. Returns outbox event ids."""
    events: list[int] = []
    async with write_transaction(Course):
        version = (
            await CourseVersion.select(CourseVersion.course, CourseVersion.state, CourseVersion.number)
            .where(CourseVersion.id == version_id)
            .first()
        )
        if version is None or version["state"] == VERSION_READY:
            return events  # deleted meanwhile, or a second run of the same job
        course_id = int(version["course"])
        await CourseVersion.update(
            {
                CourseVersion.state: VERSION_READY,
                CourseVersion.failure_reason: "",
                CourseVersion.video_key: video_key,
                CourseVersion.poster_key: poster_key,
                CourseVersion.duration: duration,
                CourseVersion.width: width,
                CourseVersion.height: height,
                CourseVersion.size: size,
                CourseVersion.remuxed: remuxed,
                CourseVersion.processed_at: now(),
            }
        ).where(CourseVersion.id == version_id)
        course = (
            await Course.select(
                Course.status, Course.publish_requested, Course.published_at, Course.current_version_id
            )
            .where(Course.id == course_id)
            .first()
        )
        assert course is not None
        if not await _newer_than_current(int(version["number"]), course["current_version_id"]):
            return events  # a newer video finished first: this one stays in the history only
        publish = course["status"] == STATUS_PUBLISHED or course["publish_requested"]
        values: dict[object, object] = {
            Course.current_version_id: version_id,
            Course.status: STATUS_PUBLISHED if publish else STATUS_DRAFT,
            Course.failure_reason: "",
            Course.publish_requested: False,
            Course.updated_at: now(),
        }
        if publish and course["status"] != STATUS_PUBLISHED:
            values[Course.published_at] = course["published_at"] or now()
            events.append(await outbox_add(EVENT_PUBLISHED, {"course_id": course_id}))
        await Course.update(values).where(Course.id == course_id)  # type: ignore[arg-type]
    return events


async def _newer_than_current(number: int, current_version_id: int | None) -> bool:
    """Two replacements processed in parallel may finish in any order: the newest upload wins."""
    if current_version_id is None:
        return True
    current = (
        await CourseVersion.select(CourseVersion.number).where(CourseVersion.id == current_version_id).first()
    )
    return current is None or number > int(current["number"])


async def version_failed(version_id: int, *, reason: str) -> None:
    """Processing failed for good: the trainer sees `reason` (a catalog key) on the course."""
    async with write_transaction(Course):
        version = (
            await CourseVersion.select(CourseVersion.course, CourseVersion.state)
            .where(CourseVersion.id == version_id)
            .first()
        )
        if version is None or version["state"] in (VERSION_READY, VERSION_FAILED):
            return
        await CourseVersion.update(
            {CourseVersion.state: VERSION_FAILED, CourseVersion.failure_reason: reason}
        ).where(CourseVersion.id == version_id)
        course_id = int(version["course"])
        course = await Course.select(Course.status).where(Course.id == course_id).first()
        if course is not None and course["status"] == STATUS_PUBLISHED:
            # The current video keeps playing; the trainer still sees why the replacement failed.
            await Course.update({Course.failure_reason: reason, Course.updated_at: now()}).where(
                Course.id == course_id
            )
        elif course is not None:
            await Course.update(
                {
                    Course.status: STATUS_FAILED,
                    Course.failure_reason: reason,
                    Course.publish_requested: False,
                    Course.updated_at: now(),
                }
            ).where(Course.id == course_id)
