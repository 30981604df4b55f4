"""Honest watch progress: the player reports the intervals it actually played; the server keeps the
union per person and video version, so replays count once and seeking to the end completes nothing.

A report is believed only as far as it could be true: it may add at most
CREDIT_RATE x (seconds since the person's previous report) + CREDIT_SLACK_SECONDS of seconds not
watched before (for a first report, counted from when the person last opened the course page; from
nothing when they never did). New seconds are credited in the video's time order, the interval that
crosses the limit is cut, and what lies beyond is dropped: one POST of [[0, duration]] completes
nothing, while intervals played offline and sent hours later are credited in full. An empty report
(nothing played, position 0) from someone without progress stores nothing.

watched_ratio = distinct seconds watched / duration; a course is completed at COMPLETION_RATIO and
stays completed (completed_at is set once). The interval arithmetic is pure and unit-tested; the
read-merge-write of one person's row runs in one write transaction (SELECT ... FOR UPDATE on
PostgreSQL, BEGIN IMMEDIATE on SQLite), retried when two first reports race to insert the row.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterable, Sequence
from typing import Any, TypedDict

from backend.courses.access import (
    VERSION_READY,
    CourseFacts,
    Viewer,
    course_see_check,
    course_watch_check,
)
from backend.courses.facts import course_facts, viewer_for
from backend.courses.tables import Course, CourseVersion, CourseView, WatchProgress
from backend.events.outbox import outbox_add, outbox_kick
from backend.lib.db import unique_violation, write_transaction
from backend.lib.errors import Conflict, NotFound, ValidationFailed
from backend.lib.policy import Actor

# Written in the transaction that first completes a course for a person (points award on it).
EVENT_COURSE_COMPLETED = "course.completed"

Interval = tuple[float, float]

COMPLETION_RATIO = 0.9
MAX_INTERVALS_PER_REQUEST = 200
# One person's merged intervals of one video; more means a client reporting slivers, not watching.
MAX_STORED_INTERVALS = 1000
# Players report the last frame's end a little past the container's duration.
END_TOLERANCE_SECONDS = 1.0
INSERT_ATTEMPTS = 3
# A report may credit at most this many new seconds per second since the previous one (the player
# counts playback up to 2x; the rest is slack for clocks and requests in flight), plus the slack.
CREDIT_RATE = 2.5
CREDIT_SLACK_SECONDS = 10.0


class MyProgress(TypedDict):
    """The signed-in person's progress on a course's current video (course page, resume)."""

    watched_ratio: float
    completed: bool
    position: float


NO_PROGRESS = MyProgress(watched_ratio=0.0, completed=False, position=0.0)


# --- pure interval arithmetic ----------------------------------------------------------------------


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def intervals_validate(raw: Sequence[Any], *, duration: float) -> list[Interval]:
    """Reported [[start, end], ...] checked against the video: finite numbers, 0 <= start < end <=
    duration + END_TOLERANCE_SECONDS, at most MAX_INTERVALS_PER_REQUEST. Ends are clamped to the
    duration; an interval left empty by the clamp (it began inside the tolerance) is dropped."""
    if len(raw) > MAX_INTERVALS_PER_REQUEST:
        raise ValidationFailed(
            "progress.too_many_intervals", field="intervals", max=MAX_INTERVALS_PER_REQUEST
        )
    valid: list[Interval] = []
    for index, pair in enumerate(raw):
        if not isinstance(pair, list | tuple) or len(pair) != 2 or not all(_finite(v) for v in pair):
            raise ValidationFailed("progress.interval_invalid", field="intervals", number=index + 1)
        start, end = float(pair[0]), float(pair[1])
        if not (0 <= start < end <= duration + END_TOLERANCE_SECONDS):
            raise ValidationFailed(
                "progress.interval_out_of_range",
                field="intervals",
                number=index + 1,
                duration=round(duration, 1),
            )
        end = min(end, duration)
        if start < end:
            valid.append((start, end))
    return valid


def position_validate(raw: Any, *, duration: float) -> float:
    """Where the player stands, inside [0, duration] (the tolerance past the end is clamped)."""
    if not _finite(raw) or not (0 <= raw <= duration + END_TOLERANCE_SECONDS):
        raise ValidationFailed("progress.position_invalid", field="position", duration=round(duration, 1))
    return min(float(raw), duration)


def intervals_merge(*groups: Iterable[Sequence[float]]) -> list[Interval]:
    """The union of interval lists, sorted, overlapping and touching intervals joined."""
    ordered = sorted((float(start), float(end)) for group in groups for start, end in group if start < end)
    merged: list[Interval] = []
    for start, end in ordered:
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def intervals_subtract(merged: Sequence[Interval], removed: Sequence[Interval]) -> list[Interval]:
    """The parts of `merged` not covered by `removed` (both merged: sorted and disjoint), in order."""
    out: list[Interval] = []
    index = 0
    for start, end in merged:
        while index < len(removed) and removed[index][1] <= start:
            index += 1
        cursor, probe = start, index
        while probe < len(removed) and removed[probe][0] < end:
            low, high = removed[probe]
            if low > cursor:
                out.append((cursor, low))
            cursor = max(cursor, high)
            if cursor >= end:
                break
            probe += 1
        if cursor < end:
            out.append((cursor, end))
    return out


def credit_limit(elapsed_seconds: float) -> float:
    """How many new seconds one report may add, `elapsed_seconds` after the person's previous one."""
    return max(0.0, elapsed_seconds) * CREDIT_RATE + CREDIT_SLACK_SECONDS


def intervals_credit(
    stored: Sequence[Interval], reported: Iterable[Interval], limit: float
) -> list[Interval]:
    """What of `reported` is credited on top of `stored` (merged): the seconds not watched before, in
    the video's time order, `limit` of them at most. The interval crossing the limit is cut; the ones
    after it are dropped."""
    credited: list[Interval] = []
    left = limit
    for start, end in intervals_subtract(intervals_merge(reported), stored):
        if left <= 0:
            break
        taken = min(end - start, left)
        credited.append((start, start + taken))
        left -= taken
    return credited


def seconds_covered(merged: Iterable[Interval]) -> float:
    """Total length of already merged (disjoint) intervals."""
    return sum(end - start for start, end in merged)


def ratio_watched(merged: Iterable[Interval], duration: float) -> float:
    """Distinct seconds watched / duration, in [0, 1], to four places."""
    if duration <= 0:
        return 0.0
    return round(min(1.0, seconds_covered(merged) / duration), 4)


def intervals_stored(value: Any) -> list[Interval]:
    """A WatchProgress.intervals value (JSON text on some engines) as intervals."""
    if isinstance(value, str):
        value = json.loads(value or "[]")
    return [(float(start), float(end)) for start, end in value or ()]


def _for_storage(merged: list[Interval]) -> list[list[float]]:
    return [[round(start, 3), round(end, 3)] for start, end in merged]


# --- services --------------------------------------------------------------------------------------


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _seconds_since(moment: dt.datetime | None, at: dt.datetime) -> float:
    if moment is None:
        return 0.0
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return max(0.0, (at - moment).total_seconds())


async def _last_opened(course_id: int, employee_id: int) -> dt.datetime | None:
    """When the person last opened the course page (a counted view), if ever."""
    row = (
        await CourseView.select(CourseView.viewed_at)
        .where((CourseView.course == course_id) & (CourseView.employee == employee_id))
        .order_by(CourseView.viewed_at, ascending=False)
        .first()
    )
    return row["viewed_at"] if row else None


async def _version_for_progress(course_id: int, version_id: int | None) -> tuple[int, float]:
    """(version id, duration) of the video being watched: the one named (a ready version of this
    course, for a player still showing an older video) or the course's current one."""
    if version_id is None:
        course = await Course.select(Course.current_version_id).where(Course.id == course_id).first()
        version_id = course["current_version_id"] if course else None
        if version_id is None:
            raise Conflict("progress.no_video")
    row = (
        await CourseVersion.select(CourseVersion.id, CourseVersion.duration)
        .where(
            (CourseVersion.id == version_id)
            & (CourseVersion.course == course_id)
            & (CourseVersion.state == VERSION_READY)
        )
        .first()
    )
    if row is None:
        raise NotFound()
    if not row["duration"] or row["duration"] <= 0:
        raise Conflict("progress.no_video")
    return int(row["id"]), float(row["duration"])


async def progress_record(
    *,
    actor: Actor | None,
    course_id: int,
    intervals: Sequence[Any],
    position: Any,
    version_id: int | None = None,
) -> MyProgress:
    """Add the intervals the player reports to what this person watched of the video, as far as they
    could have been watched since the previous report (see the module docstring); save the position to
    resume from. Returns the new progress. 404 for anyone who may not watch the course, 409 when it
    has no video yet, 422 for intervals outside the video or too many of them."""
    viewer = await viewer_for(actor)
    actor = course_watch_check(viewer, await course_facts(course_id))
    employee_id = actor.employee_id
    assert employee_id is not None  # course_watch_check admits employees only
    version_id, duration = await _version_for_progress(course_id, version_id)
    reported = intervals_validate(intervals, duration=duration)
    place = position_validate(position, duration=duration)
    for attempt in range(1, INSERT_ATTEMPTS + 1):
        try:
            return await _merge_into_row(course_id, version_id, employee_id, reported, place, duration)
        except Exception as exc:
            # Two first reports of one person both inserted; the loser merges into the winner's row.
            if attempt == INSERT_ATTEMPTS or not unique_violation(exc):
                raise
    raise AssertionError("unreachable")


async def _merge_into_row(
    course_id: int,
    version_id: int,
    employee_id: int,
    reported: list[Interval],
    position: float,
    duration: float,
) -> MyProgress:
    async with write_transaction(WatchProgress):
        query = WatchProgress.select(
            WatchProgress.id,
            WatchProgress.intervals,
            WatchProgress.completed,
            WatchProgress.completed_at,
            WatchProgress.updated_at,
        ).where((WatchProgress.version == version_id) & (WatchProgress.employee == employee_id))
        if WatchProgress._meta.db.engine_type == "postgres":
            query = query.lock_rows()  # concurrent reports of one person wait for each other
        row = await query.first()
        if row is None and not reported and position == 0:
            return MyProgress(**NO_PROGRESS)  # nothing played, nowhere to resume: nothing to keep
        stored = intervals_stored(row["intervals"]) if row else []
        moment = now()
        since = row["updated_at"] if row else await _last_opened(course_id, employee_id)
        credited = intervals_credit(stored, reported, credit_limit(_seconds_since(since, moment)))
        merged = intervals_merge(stored, credited)
        if len(merged) > MAX_STORED_INTERVALS:
            raise ValidationFailed("progress.too_fragmented", field="intervals", max=MAX_STORED_INTERVALS)
        ratio = ratio_watched(merged, duration)
        completed = bool(row and row["completed"]) or ratio >= COMPLETION_RATIO
        completed_at = (row["completed_at"] if row else None) or (moment if completed else None)
        stored_values: dict[Any, Any] = {
            "intervals": json.dumps(_for_storage(merged)),
            "watched_seconds": round(seconds_covered(merged), 3),
            "position": position,
            "completed": completed,
            "completed_at": completed_at,
            "updated_at": moment,
        }
        if row is None:
            await WatchProgress.insert(
                WatchProgress(course=course_id, version=version_id, employee=employee_id, **stored_values)
            )
        else:
            await WatchProgress.update(stored_values).where(WatchProgress.id == row["id"])
        events = []
        if completed and not (row and row["completed"]):  # completed just now: once per person and video
            payload = {
                "course_id": course_id,
                "employee_id": employee_id,
                "version_id": version_id,
                "completed_at": moment.isoformat(),
            }
            events.append(await outbox_add(EVENT_COURSE_COMPLETED, payload))
    await outbox_kick(events)
    return MyProgress(watched_ratio=ratio, completed=completed, position=position)


async def progress_mine(
    *,
    actor: Actor | None,
    course_id: int,
    viewer: Viewer | None = None,
    facts: CourseFacts | None = None,
) -> MyProgress:
    """My progress on the course's current video (zeros before I watch; 404 if I may not see it).
    Pass `viewer`/`facts` when the caller has loaded them already."""
    viewer = viewer or await viewer_for(actor)
    actor = course_see_check(viewer, facts or await course_facts(course_id))
    if actor.employee_id is None:
        return MyProgress(**NO_PROGRESS)
    course = await Course.select(Course.current_version_id).where(Course.id == course_id).first()
    if course is None or course["current_version_id"] is None:
        return MyProgress(**NO_PROGRESS)
    from backend.courses.selectors import progress_of  # one read of a person's progress for both

    mine = await progress_of(actor.employee_id, course["current_version_id"])
    return MyProgress(watched_ratio=mine.watched_ratio, completed=mine.completed, position=mine.position)
