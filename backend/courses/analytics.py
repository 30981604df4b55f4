"""The trainer centre: how one course is watched, for its author and HR.

Views, viewers and the audience by department come from CourseView (page opens); completion and the
segment chart from WatchProgress of the current version: one query for its rows, computed here.

The segment chart cuts the video into BUCKET_SECONDS buckets and counts, per bucket:
- viewers: people whose watched intervals cover at least MIN_WATCHED_SECONDS of it (all of a final
  bucket shorter than that);
- drop-off: people who have not completed the course and whose furthest watched second lies in it,
  unless that is the final bucket (they reached the end: they skipped, they did not leave);
- skipped: people whose furthest watched second lies in a later bucket but who did not watch this one.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable

from piccolo.query.functions.aggregate import Avg, Count

from backend.courses.access import course_manage_check
from backend.courses.facts import course_facts, viewer_for
from backend.courses.progress import Interval, intervals_merge, intervals_stored
from backend.courses.tables import (
    Course,
    CourseComment,
    CourseRating,
    CourseVersion,
    CourseView,
    WatchProgress,
)
from backend.lib.errors import NotFound
from backend.lib.policy import Actor
from backend.lib.schema import Schema

BUCKET_SECONDS = 5
MIN_WATCHED_SECONDS = 1.0
TOP_DEPARTMENTS = 8
_TOLERANCE = 0.01  # stored interval ends are rounded to milliseconds


class DepartmentViewers(Schema):
    name: str
    viewers: int


class Segment(Schema):
    start: float
    end: float
    viewers: int
    drop_off: int
    skipped: int


class CourseStats(Schema):
    course_id: int
    title: str
    status: str
    views: int  # page opens (once per person per 30 minutes)
    unique_viewers: int  # people who opened the page
    learners: int  # people who watched some of the current video
    completed: int
    completion_rate: float  # completed / learners, 0..1
    rating_avg: float | None
    rating_count: int
    comment_count: int
    departments: list[DepartmentViewers]  # viewers per department, most first, at most TOP_DEPARTMENTS
    other_department_viewers: int  # viewers in the departments not listed
    version_id: int | None
    duration: float
    bucket_seconds: int
    segments: list[Segment]


def segments_compute(
    people: Iterable[tuple[Iterable[Interval], bool]],
    *,
    duration: float,
    bucket_seconds: int = BUCKET_SECONDS,
) -> list[Segment]:
    """The segment chart from each person's (watched intervals, completed)."""
    count = math.ceil(duration / bucket_seconds) if duration > 0 else 0
    bounds = [(i * bucket_seconds, min(duration, (i + 1) * bucket_seconds)) for i in range(count)]
    viewers, drop_off, skipped = [0] * count, [0] * count, [0] * count
    for intervals, completed in people:
        merged = intervals_merge(intervals)
        if not merged or not count:
            continue
        covered = [0.0] * count
        for start, end in merged:
            first, last = int(start // bucket_seconds), min(count - 1, math.ceil(end / bucket_seconds) - 1)
            for index in range(first, last + 1):
                low, high = bounds[index]
                covered[index] += max(0.0, min(end, high) - max(start, low))
        # The bucket of the furthest watched second (a second ending on a boundary: the earlier one).
        stop = min(count - 1, max(0, math.ceil(merged[-1][1] / bucket_seconds) - 1))
        for index, (low, high) in enumerate(bounds):
            watched = covered[index] >= min(MIN_WATCHED_SECONDS, high - low) - _TOLERANCE
            viewers[index] += watched
            skipped[index] += not watched and index < stop
        if not completed and stop < count - 1:
            drop_off[stop] += 1
    return [
        Segment(start=low, end=round(high, 3), viewers=viewers[i], drop_off=drop_off[i], skipped=skipped[i])
        for i, (low, high) in enumerate(bounds)
    ]


async def course_stats(*, actor: Actor | None, course_id: int) -> CourseStats:
    """The trainer centre of one course: its author and HR (others: 404, or 403 when they may see it)."""
    viewer = await viewer_for(actor)
    course_manage_check(viewer, await course_facts(course_id))
    course = (
        await Course.select(Course.title, Course.status, Course.current_version_id)
        .where(Course.id == course_id)
        .first()
    )
    if course is None:
        raise NotFound()
    views = await CourseView.count().where(CourseView.course == course_id)
    viewer_rows = (
        await CourseView.select(CourseView.employee, CourseView.employee._.department._.name)
        .where(CourseView.course == course_id)
        .distinct()
    )
    people = {row["employee"]: row["employee.department.name"] or "" for row in viewer_rows}
    per_department = Counter(people.values()).most_common()
    rating = (
        await CourseRating.select(Avg(CourseRating.stars, alias="avg"), Count(alias="count"))
        .where(CourseRating.course == course_id)
        .first()
    )
    comments = await CourseComment.count().where(CourseComment.course == course_id)

    version_id, duration, segments = course["current_version_id"], 0.0, []
    learners = completed = 0
    if version_id is not None:
        version = (
            await CourseVersion.select(CourseVersion.duration).where(CourseVersion.id == version_id).first()
        )
        duration = float(version["duration"] or 0.0) if version else 0.0
        # Learners are people who watched something: a row that only keeps a position is not one.
        rows = await WatchProgress.select(WatchProgress.intervals, WatchProgress.completed).where(
            (WatchProgress.version == version_id) & (WatchProgress.watched_seconds > 0)
        )
        learners = len(rows)
        completed = sum(1 for row in rows if row["completed"])
        segments = segments_compute(
            ((intervals_stored(row["intervals"]), bool(row["completed"])) for row in rows), duration=duration
        )
    rating_count = int(rating["count"]) if rating else 0
    return CourseStats(
        course_id=course_id,
        title=course["title"],
        status=course["status"],
        views=views,
        unique_viewers=len(people),
        learners=learners,
        completed=completed,
        completion_rate=round(completed / learners, 4) if learners else 0.0,
        rating_avg=round(float(rating["avg"]), 2)
        if rating_count and rating and rating["avg"] is not None
        else None,
        rating_count=rating_count,
        comment_count=comments,
        departments=[DepartmentViewers(name=name, viewers=n) for name, n in per_department[:TOP_DEPARTMENTS]],
        other_department_viewers=sum(n for _name, n in per_department[TOP_DEPARTMENTS:]),
        version_id=version_id,
        duration=round(duration, 3),
        bucket_seconds=BUCKET_SECONDS,
        segments=segments,
    )
