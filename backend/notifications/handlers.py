"""Outbox handlers: other features' events become notifications.

Every handler is idempotent (an event may arrive twice): each notification has a dedupe key made from
the event's own identity (a ledger entry, a redemption step, a graded version, a course), so a repeat
creates nothing. A person or a thing gone meanwhile is skipped, not retried forever.
The worker registers NOTIFICATION_HANDLERS next to the other features' handlers (backend.worker).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

from backend.courses.lifecycle import EVENT_PUBLISHED
from backend.courses.tables import Course
from backend.notifications.kinds import (
    KIND_COURSE_NEW,
    KIND_POINTS_CREDITED,
    KIND_REDEMPTION_DECIDED,
    KIND_REDEMPTION_FULFILLED,
    KIND_REDEMPTION_REQUESTED,
    KIND_SUBMISSION_GRADED,
    KIND_SUBMISSION_RETURNED,
    message_key,
)
from backend.notifications.peer import peer_on_commented, peer_on_liked
from backend.notifications.recipients import course_audience, redemption_deciders
from backend.notifications.services import notify
from backend.points.ledger import EVENT_POINTS_CREDITED
from backend.points.redemptions import EVENT_DECIDED, EVENT_FULFILLED, EVENT_REQUESTED
from backend.points.tables import Redemption
from backend.reflections.services import GRADE_EXCELLENT, GRADE_REVISE
from backend.reflections.tables import Submission

logger = logging.getLogger("learnloop.notifications")

COURSE_PUBLISHED_STATUS = "published"


def _ids(value: Any) -> list[int]:
    decoded = json.loads(value) if isinstance(value, str) else value
    return [int(item) for item in decoded or []]


def _moment_text(value: Any) -> str:
    return value.isoformat() if isinstance(value, dt.datetime) else str(value)


async def notify_on_points_credited(ctx: dict[str, Any], payload: dict[str, Any]) -> None:
    """ "points.credited" → the person: "+{points} 积分：{activity}"."""
    entry_id, kind = int(payload["entry_id"]), str(payload.get("kind", ""))
    await notify(
        employee_ids=[int(payload["employee_id"])],
        kind=KIND_POINTS_CREDITED,
        key=message_key("points_credited"),
        params={"points": int(payload["points"]), "activity": {"key": f"points.kind.{kind}", "text": kind}},
        url="/points",
        source=f"ledger:{entry_id}",
        dedupe_key=f"points_credited:{entry_id}",
    )


async def _redemption(redemption_id: int) -> dict[str, Any] | None:
    return (
        await Redemption.select(
            Redemption.employee,
            Redemption.employee.name.as_alias("name"),
            Redemption.employee.department.path.as_alias("department_path"),  # type: ignore[union-attr]
            Redemption.reward.name.as_alias("reward"),
            Redemption.points,
            Redemption.note,
        )
        .where(Redemption.id == redemption_id)
        .first()
    )


async def notify_on_redemption_requested(ctx: dict[str, Any], payload: dict[str, Any]) -> None:
    """ "points.redemption.requested" → HR and the requester's managers (never the requester)."""
    redemption_id = int(payload["redemption_id"])
    row = await _redemption(redemption_id)
    if row is None:
        return
    deciders = await redemption_deciders(
        requester_id=int(row["employee"]), department_path=str(row["department_path"] or "")
    )
    await notify(
        employee_ids=deciders,
        kind=KIND_REDEMPTION_REQUESTED,
        key=message_key("redemption_requested"),
        params={"name": row["name"], "reward": row["reward"], "points": int(row["points"])},
        url="/points/approvals",
        source=f"redemption:{redemption_id}",
        dedupe_key=f"redemption_requested:{redemption_id}",
    )


async def notify_on_redemption_decided(ctx: dict[str, Any], payload: dict[str, Any]) -> None:
    """ "points.redemption.decided" → the requester: approved, or rejected (with the note)."""
    redemption_id = int(payload["redemption_id"])
    row = await _redemption(redemption_id)
    if row is None:
        return
    note = str(row["note"] or "").strip()
    variant = (
        "redemption_approved"
        if payload.get("approved")
        else ("redemption_rejected_note" if note else "redemption_rejected")
    )
    await notify(
        employee_ids=[int(row["employee"])],
        kind=KIND_REDEMPTION_DECIDED,
        key=message_key(variant),
        params={"reward": row["reward"], "points": int(row["points"]), "note": note},
        url="/points/rewards",
        source=f"redemption:{redemption_id}",
        dedupe_key=f"redemption_decided:{redemption_id}",
    )


async def notify_on_redemption_fulfilled(ctx: dict[str, Any], payload: dict[str, Any]) -> None:
    """ "points.redemption.fulfilled" → the requester: the reward was handed over."""
    redemption_id = int(payload["redemption_id"])
    row = await _redemption(redemption_id)
    if row is None:
        return
    await notify(
        employee_ids=[int(row["employee"])],
        kind=KIND_REDEMPTION_FULFILLED,
        key=message_key("redemption_fulfilled"),
        params={"reward": row["reward"]},
        url="/points/rewards",
        source=f"redemption:{redemption_id}",
        dedupe_key=f"redemption_fulfilled:{redemption_id}",
    )


async def notify_on_submission_graded(ctx: dict[str, Any], payload: dict[str, Any]) -> None:
    """ "submission.graded" → the author: 优秀 has its own words; 需修改 returns it with a new due date."""
    submission_id, grade = int(payload["submission_id"]), str(payload.get("grade", ""))
    row = (
        await Submission.select(
            Submission.employee,
            Submission.due_at,
            Submission.assignment.training.title.as_alias("title"),  # type: ignore[union-attr]
        )
        .where(Submission.id == submission_id)
        .first()
    )
    if row is None:
        return
    params: dict[str, Any] = {
        "title": row["title"],
        "grade": {"key": f"reflections.grade_{grade}", "text": grade},
    }
    if grade == GRADE_REVISE:
        kind, variant = KIND_SUBMISSION_RETURNED, "submission_returned"
        if row["due_at"] is not None:
            params["due"] = {"at": _moment_text(row["due_at"])}
    else:
        kind = KIND_SUBMISSION_GRADED
        variant = "graded_excellent" if grade == GRADE_EXCELLENT else "graded"
    version = payload.get("version_id") or f"{submission_id}:{grade}"
    await notify(
        employee_ids=[int(row["employee"])],
        kind=kind,
        key=message_key(variant),
        params=params,
        url=f"/reflections/{submission_id}",
        source=f"submission:{submission_id}",
        dedupe_key=f"submission_graded:{version}",
    )


async def notify_on_course_published(ctx: dict[str, Any], payload: dict[str, Any]) -> None:
    """ "course.published" → its audience (departments' subtrees, positions); once per course, even
    when it is unpublished and published again."""
    course_id = int(payload["course_id"])
    course = (
        await Course.select(
            Course.title,
            Course.status,
            Course.author,
            Course.audience_department_ids,
            Course.audience_position_ids,
        )
        .where(Course.id == course_id)
        .first()
    )
    if course is None or course["status"] != COURSE_PUBLISHED_STATUS:
        return
    people = await course_audience(
        department_ids=_ids(course["audience_department_ids"]),
        position_ids=_ids(course["audience_position_ids"]),
        author_id=course["author"],
    )
    await notify(
        employee_ids=people,
        kind=KIND_COURSE_NEW,
        key=message_key("course_new"),
        params={"title": course["title"]},
        url=f"/courses/{course_id}",
        source=f"course:{course_id}",
        dedupe_key=f"course_new:{course_id}",
    )


# What each outbox event tells people (registered in backend.worker.OUTBOX_HANDLERS).
NOTIFICATION_HANDLERS: dict[str, list[Any]] = {
    EVENT_POINTS_CREDITED: [notify_on_points_credited],
    EVENT_REQUESTED: [notify_on_redemption_requested],
    EVENT_DECIDED: [notify_on_redemption_decided],
    EVENT_FULFILLED: [notify_on_redemption_fulfilled],
    "submission.graded": [notify_on_submission_graded],
    "reflection.liked": [peer_on_liked],
    "reflection.commented": [peer_on_commented],
    EVENT_PUBLISHED: [notify_on_course_published],
}
