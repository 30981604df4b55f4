"""Awards: from other features' outbox events, and by hand (HR) for activities outside the app.

Every handler is idempotent (an event may arrive twice) and keys its award so that gaming earns
nothing: one reflection award per (assignment, person) whatever the resubmissions or a deletion and
re-creation; one 优秀 award per (assignment, person); one publication award per course; one completion
award per (course, person), however often it is rewatched or its video replaced.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from typing import Any

from backend.courses.tables import Course, CourseVersion, WatchProgress
from backend.lib.errors import NotFound, ValidationFailed
from backend.lib.policy import Actor
from backend.points.access import manual_award_check, points_admin_check
from backend.points.facts import local_noon, org_today, utc_now
from backend.points.ledger import STATUS_NO_RULE, AwardResult, award, ledger_award, ledger_reverse
from backend.points.rules import (
    KIND_COURSE_COMPLETED,
    KIND_COURSE_PUBLISHED,
    KIND_REFLECTION_EXCELLENT,
    KIND_REFLECTION_SUBMITTED,
    kind_valid,
)
from backend.points.schemas import AwardOut, ReverseOut
from backend.points.tables import LedgerEntry
from backend.reflections.tables import Submission, SubmissionVersion

logger = logging.getLogger("learnloop.points")

# Kinds only events award: a manual award of them would earn the same activity twice.
AUTOMATIC_KINDS = frozenset(
    {KIND_COURSE_COMPLETED, KIND_COURSE_PUBLISHED, KIND_REFLECTION_SUBMITTED, KIND_REFLECTION_EXCELLENT}
)
MANUAL_PREFIX = "manual:"
MANUAL_KEY_MAX = 180  # HR's own source keys (prefixed; the ledger takes 190)
GRADE_EXCELLENT = "excellent"


def _moment(value: Any) -> dt.datetime:
    """An event's time (a datetime from the database, or ISO text), else now."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return utc_now()


async def _award_quietly(**kwargs: Any) -> int | None:
    """An award from an event: a person who no longer exists is skipped, not retried forever."""
    try:
        return await ledger_award(**kwargs)
    except NotFound:
        logger.info("points: %s not awarded, employee %s is gone", kwargs["kind"], kwargs["employee_id"])
        return None


async def _version_time(version_id: Any, column: str) -> dt.datetime:
    if version_id is None:
        return utc_now()
    row = await SubmissionVersion.select().where(SubmissionVersion.id == int(version_id)).first()
    return _moment(row[column] if row else None)


async def points_on_submission_submitted(ctx: dict[str, Any], payload: dict[str, Any]) -> None:
    """ "submission.submitted" → reflection_submitted, once per (assignment, person)."""
    employee_id, assignment_id = int(payload["employee_id"]), int(payload["assignment_id"])
    await _award_quietly(
        employee_id=employee_id,
        kind=KIND_REFLECTION_SUBMITTED,
        source_key=f"{KIND_REFLECTION_SUBMITTED}:{assignment_id}:{employee_id}",
        occurred_at=await _version_time(payload.get("version_id"), "submitted_at"),
    )


async def points_on_submission_graded(ctx: dict[str, Any], payload: dict[str, Any]) -> None:
    """ "submission.graded" with 优秀 → reflection_excellent, once per (assignment, person)."""
    if payload.get("grade") != GRADE_EXCELLENT:
        return
    submission = (
        await Submission.select(Submission.assignment, Submission.employee)
        .where(Submission.id == int(payload["submission_id"]))
        .first()
    )
    if submission is None:  # deleted meanwhile
        return
    employee_id, assignment_id = int(submission["employee"]), int(submission["assignment"])
    await _award_quietly(
        employee_id=employee_id,
        kind=KIND_REFLECTION_EXCELLENT,
        source_key=f"{KIND_REFLECTION_EXCELLENT}:{assignment_id}:{employee_id}",
        occurred_at=await _version_time(payload.get("version_id"), "graded_at"),
    )


async def points_on_course_published(ctx: dict[str, Any], payload: dict[str, Any]) -> None:
    """ "course.published" → course_published for its author, once per course."""
    course_id = int(payload["course_id"])
    course = await Course.select(Course.author, Course.published_at).where(Course.id == course_id).first()
    if course is None or course["author"] is None:
        return
    await _award_quietly(
        employee_id=int(course["author"]),
        kind=KIND_COURSE_PUBLISHED,
        source_key=f"{KIND_COURSE_PUBLISHED}:{course_id}",
        occurred_at=_moment(course["published_at"]),
    )


async def points_on_course_completed(ctx: dict[str, Any], payload: dict[str, Any]) -> None:
    """ "course.completed" {course_id, employee_id, version_id} → course_completed, points per hour of
    the video, once per (course, person): rewatching or a replaced video earns nothing more."""
    course_id, employee_id = int(payload["course_id"]), int(payload["employee_id"])
    version_id = int(payload["version_id"])
    version = await CourseVersion.select(CourseVersion.duration).where(CourseVersion.id == version_id).first()
    hours = float(version["duration"] or 0) / 3600 if version else 0.0
    if hours <= 0:
        return
    progress = (
        await WatchProgress.select(WatchProgress.completed_at)
        .where((WatchProgress.version == version_id) & (WatchProgress.employee == employee_id))
        .first()
    )
    await _award_quietly(
        employee_id=employee_id,
        kind=KIND_COURSE_COMPLETED,
        source_key=f"{KIND_COURSE_COMPLETED}:{course_id}:{employee_id}",
        occurred_at=_moment(payload.get("completed_at") or (progress or {}).get("completed_at")),
        quantity=min(hours, 100.0),
    )


# What each outbox event awards (registered in backend.worker.OUTBOX_HANDLERS).
POINTS_HANDLERS: dict[str, list[Any]] = {
    "submission.submitted": [points_on_submission_submitted],
    "submission.graded": [points_on_submission_graded],
    "course.published": [points_on_course_published],
    "course.completed": [points_on_course_completed],
}


def manual_source_key(
    *, employee_id: int, kind: str, occurred_on: dt.date, note: str, given: str | None
) -> str:
    """The key of a manual award: HR's own (prefixed, so it never takes an event's key), or one made
    from the request, so a double submit of the same form awards once."""
    if given is not None:
        return MANUAL_PREFIX + given.strip()
    content = json.dumps([employee_id, kind, occurred_on.isoformat(), note.strip()], ensure_ascii=False)
    digest = hashlib.sha256(content.encode()).hexdigest()[:16]
    return f"{MANUAL_PREFIX}{kind}:{employee_id}:{occurred_on.isoformat()}:{digest}"


def manual_kind_check(kind: str, occurred_on: dt.date) -> str:
    """What HR may award by hand: a valid kind that no event awards, on a day not after today.
    Returns the kind without surrounding spaces."""
    kind = kind.strip()
    if not kind_valid(kind):
        raise ValidationFailed("error.points_kind_invalid", field="kind", kind=kind[:40])
    if kind in AUTOMATIC_KINDS:
        raise ValidationFailed("error.points_kind_automatic", field="kind", kind=kind)
    if occurred_on > org_today():
        raise ValidationFailed("error.points_date_future", field="occurred_on")
    return kind


async def award_manual(
    *,
    actor: Actor | None,
    employee_id: int,
    kind: str,
    occurred_on: dt.date,
    note: str = "",
    source_key: str | None = None,
) -> AwardOut:
    """HR awards an activity outside the app (workshop, exam, sharing, mentoring, a custom kind)."""
    actor = manual_award_check(actor, employee_id=employee_id)
    kind = manual_kind_check(kind, occurred_on)
    if source_key is not None and not 0 < len(source_key.strip()) <= MANUAL_KEY_MAX:
        raise ValidationFailed("error.points_source_key_invalid", field="source_key", max=MANUAL_KEY_MAX)
    key = manual_source_key(
        employee_id=employee_id,
        kind=kind,
        occurred_on=occurred_on,
        note=note,
        given=source_key,
    )
    result: AwardResult = await award(
        employee_id=employee_id,
        kind=kind,
        source_key=key,
        occurred_at=local_noon(occurred_on),
        actor_id=actor.employee_id,
        note=note,
    )
    if result.status == STATUS_NO_RULE:
        raise ValidationFailed("error.points_no_rule", field="kind", kind=kind)
    return AwardOut(status=result.status, entry_id=result.entry_id, points=result.points, source_key=key)


async def entry_reverse(*, actor: Actor | None, entry_id: int, reason: str) -> ReverseOut:
    """HR reverses an entry with a compensating one (once; again answers "already_reversed")."""
    actor = points_admin_check(actor)
    row = await LedgerEntry.select(LedgerEntry.source_key).where(LedgerEntry.id == entry_id).first()
    if row is None:
        raise NotFound()
    reversal_id = await ledger_reverse(
        source_key=row["source_key"], reason=reason, actor_id=actor.employee_id
    )
    return ReverseOut(status="reversed" if reversal_id else "already_reversed", entry_id=reversal_id)
