"""Grading reflections: 优秀 / 良好 / 合格 / 需修改 with feedback, and the featured wall."""

from __future__ import annotations

import datetime as dt

from backend.events.outbox import outbox_add, outbox_kick
from backend.lib.db import write_transaction
from backend.lib.errors import Conflict, ValidationFailed
from backend.lib.policy import Actor
from backend.reflections.access import STATE_GRADED, STATE_RETURNED, STATE_SUBMITTED, grade_check
from backend.reflections.facts import submission_facts
from backend.reflections.services import (
    FEEDBACK_MAX,
    GRADE_EXCELLENT,
    GRADE_REVISE,
    GRADES,
    now,
    text_bounded,
)
from backend.reflections.tables import Submission, SubmissionVersion


async def submission_grade(
    *,
    actor: Actor | None,
    submission_id: int,
    grade: str,
    feedback: str = "",
    revise_due_at: dt.datetime | None = None,
) -> None:
    """优秀 / 良好 / 合格, or 需修改 which returns the reflection for revision with a new due date."""
    row, facts = await submission_facts(submission_id)
    actor = grade_check(actor, facts)
    if grade not in GRADES:
        raise ValidationFailed("error.invalid", field="grade")
    feedback = text_bounded(
        feedback, field="feedback", max_length=FEEDBACK_MAX, required=grade == GRADE_REVISE
    )
    if row["state"] not in (STATE_SUBMITTED, STATE_GRADED):
        raise Conflict("error.not_gradable")
    if grade == GRADE_REVISE and (
        revise_due_at is None or revise_due_at.tzinfo is None or revise_due_at <= now()
    ):
        raise ValidationFailed("error.due_in_past", field="revise_due_at")
    at = now()
    async with write_transaction(Submission):
        changed = (
            await Submission.update(
                {
                    Submission.state: STATE_RETURNED if grade == GRADE_REVISE else STATE_GRADED,
                    Submission.grade: grade,
                    Submission.feedback: feedback,
                    Submission.graded_by: actor.employee_id,
                    Submission.graded_at: at,
                    Submission.due_at: revise_due_at if grade == GRADE_REVISE else row["due_at"],
                    Submission.featured: row["featured"] and grade == GRADE_EXCELLENT,
                    Submission.updated_at: at,
                }
            )
            .where((Submission.id == submission_id) & (Submission.version == row["version"]))
            .returning(Submission.id)
        )
        if not changed:
            raise Conflict("error.changed_meanwhile")
        version_rows = await SubmissionVersion.insert(
            SubmissionVersion(
                submission=submission_id,
                version=row["version"],
                kind=STATE_GRADED,
                body=row["body"],
                photo_ids=row["photo_ids"],
                submitted_at=row["submitted_at"],
                late=row["late"],
                grade=grade,
                feedback=feedback,
                graded_by=actor.employee_id,
                graded_at=at,
            )
        ).returning(SubmissionVersion.id)
        event_id = await outbox_add(
            "submission.graded",
            {
                "submission_id": submission_id,
                "version_id": int(version_rows[0]["id"]),
                "employee_id": facts.author_id,
                "grade": grade,
                "grader_id": actor.employee_id,
            },
        )
    await outbox_kick([event_id])


async def submission_feature(*, actor: Actor | None, submission_id: int, featured: bool) -> None:
    """Put an 优秀 reflection on the featured wall (or take it off)."""
    row, facts = await submission_facts(submission_id)
    grade_check(actor, facts)
    if featured and row["grade"] != GRADE_EXCELLENT:
        raise ValidationFailed("error.feature_needs_excellent", field="featured")
    await Submission.update({Submission.featured: featured}).where(Submission.id == submission_id)
