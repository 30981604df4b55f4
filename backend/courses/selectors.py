"""Course reads: one course with everything its page needs, and the trainer's studio list."""

from __future__ import annotations

from typing import Any

from piccolo.query.functions.aggregate import Avg, Count

from backend.courses.access import (
    VERSION_PROCESSING,
    VERSION_READY,
    course_see_check,
    is_manager_of_course,
)
from backend.courses.facts import course_facts, json_ids, json_strings, viewer_for
from backend.courses.schemas import AttachmentOut, CourseOut, ProgressOut, StudioCourseOut
from backend.courses.tables import (
    Course,
    CourseAttachment,
    CourseComment,
    CourseRating,
    CourseVersion,
    WatchProgress,
)
from backend.courses.urls import attachment_url, poster_url, video_url
from backend.lib.policy import ROLE_HR_ADMIN, Actor, actor_require
from backend.org.schemas import Ref
from backend.org.tables import Employee

NO_PROGRESS = ProgressOut(watched_ratio=0.0, completed=False, position=0.0)


async def _ready_version(version_id: int | None) -> dict[str, Any] | None:
    if version_id is None:
        return None
    return (
        await CourseVersion.select(
            CourseVersion.id, CourseVersion.duration, CourseVersion.poster_key, CourseVersion.state
        )
        .where((CourseVersion.id == version_id) & (CourseVersion.state == VERSION_READY))
        .first()
    )


async def progress_of(employee_id: int | None, version_id: int | None) -> ProgressOut:
    """A person's progress on a video version (nothing watched yet: zeros)."""
    from backend.courses.progress import intervals_stored, ratio_watched

    if employee_id is None or version_id is None:
        return NO_PROGRESS
    row = (
        await WatchProgress.select(
            WatchProgress.intervals,
            WatchProgress.completed,
            WatchProgress.position,
            WatchProgress.version.duration,
        )
        .where((WatchProgress.version == version_id) & (WatchProgress.employee == employee_id))
        .first()
    )
    if row is None:
        return NO_PROGRESS
    return ProgressOut(
        watched_ratio=ratio_watched(
            intervals_stored(row["intervals"]), float(row["version.duration"] or 0.0)
        ),
        completed=bool(row["completed"]),
        position=float(row["position"] or 0.0),
    )


async def course_get(*, actor: Actor | None, course_id: int) -> CourseOut:
    """One course as its page shows it; 404 for people who may not see it."""
    viewer = await viewer_for(actor)
    facts = await course_facts(course_id)
    actor = course_see_check(viewer, facts)
    row = (
        await Course.select(*Course.all_columns(), Course.author.name.as_alias("author_name"))
        .where(Course.id == course_id)
        .first()
    )
    assert row is not None
    version = await _ready_version(row["current_version_id"])
    attachments = (
        await CourseAttachment.select()
        .where(CourseAttachment.course == course_id)
        .order_by(CourseAttachment.id)
    )
    ratings = (
        await CourseRating.select(Avg(CourseRating.stars, alias="avg"), Count(alias="count"))
        .where(CourseRating.course == course_id)
        .first()
    ) or {"avg": None, "count": 0}
    mine = None
    if actor.employee_id is not None:
        mine = (
            await CourseRating.select(CourseRating.stars)
            .where((CourseRating.course == course_id) & (CourseRating.employee == actor.employee_id))
            .first()
        )
    comments = await CourseComment.count().where(CourseComment.course == course_id)
    processing = await CourseVersion.exists().where(
        (CourseVersion.course == course_id) & (CourseVersion.state == VERSION_PROCESSING)
    )
    version_id = version["id"] if version else None
    return CourseOut(
        id=row["id"],
        title=row["title"],
        summary=row["summary"],
        category=row["category"],
        tags=json_strings(row["tags"]),
        status=row["status"],
        failure_reason=row["failure_reason"],
        duration=float(version["duration"]) if version else 0.0,
        video_url=video_url(course_id, version_id) if version_id else None,
        poster_url=poster_url(course_id, version_id)
        if version_id and version and version["poster_key"]
        else None,
        problem=row["problem"],
        case_text=row["case_text"],
        method=row["method"],
        attachments=[
            AttachmentOut(
                id=a["id"],
                kind=a["kind"],
                filename=a["filename"],
                size=a["size"],
                url=attachment_url(course_id, a["id"]),
            )
            for a in attachments
        ],
        author=Ref(id=row["author"], name=row["author_name"]) if row["author"] else None,
        restricted=bool(row["restricted"]),
        audience_department_ids=list(json_ids(row["audience_department_ids"])),
        audience_position_ids=list(json_ids(row["audience_position_ids"])),
        rating_avg=round(float(ratings["avg"]), 2) if ratings["avg"] is not None else None,
        rating_count=int(ratings["count"] or 0),
        my_rating=mine["stars"] if mine else None,
        view_count=row["view_count"],
        comment_count=comments,
        can_manage=is_manager_of_course(actor, facts),
        current_version_id=version_id,
        processing=processing,
        publish_requested=bool(row["publish_requested"]),
        my_progress=await progress_of(actor.employee_id, version_id),
        published_at=row["published_at"],
        updated_at=row["updated_at"],
    )


async def courses_authored(*, actor: Actor | None) -> list[StudioCourseOut]:
    """The studio list: my courses (HR: everyone's), most recently changed first."""
    actor = actor_require(actor)
    query = Course.select(
        Course.id,
        Course.title,
        Course.status,
        Course.failure_reason,
        Course.current_version_id,
        Course.updated_at,
        Course.published_at,
        Course.author,
        Course.author.name.as_alias("author_name"),
    )
    if not actor.has(ROLE_HR_ADMIN):
        if actor.employee_id is None:
            return []
        query = query.where(Course.author == actor.employee_id)
    rows = await query.order_by(Course.updated_at, ascending=False).limit(500)
    ids = [row["id"] for row in rows]
    versions: dict[int, dict[str, Any]] = {}
    busy: set[int] = set()
    if ids:
        for found in await CourseVersion.select(
            CourseVersion.id,
            CourseVersion.course,
            CourseVersion.state,
            CourseVersion.duration,
            CourseVersion.poster_key,
        ).where(CourseVersion.course.is_in(ids)):
            versions[found["id"]] = found
            if found["state"] == VERSION_PROCESSING:
                busy.add(found["course"])
    out = []
    for row in rows:
        version = versions.get(row["current_version_id"]) if row["current_version_id"] else None
        out.append(
            StudioCourseOut(
                id=row["id"],
                title=row["title"],
                status=row["status"],
                failure_reason=row["failure_reason"],
                poster_url=poster_url(row["id"], version["id"])
                if version and version["poster_key"]
                else None,
                duration=float(version["duration"]) if version else 0.0,
                processing=row["id"] in busy,
                updated_at=row["updated_at"],
                published_at=row["published_at"],
                author=Ref(id=row["author"], name=row["author_name"]) if row["author"] else None,
            )
        )
    return out


async def employee_name(employee_id: int) -> str:
    row = await Employee.select(Employee.name).where(Employee.id == employee_id).first()
    return row["name"] if row else ""
