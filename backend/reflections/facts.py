"""Loading one submission with what the access rules need (one query)."""

from __future__ import annotations

from typing import Any

from backend.lib.errors import NotFound
from backend.reflections.access import SubmissionFacts
from backend.reflections.tables import Submission


async def submission_facts(submission_id: int) -> tuple[dict[str, Any], SubmissionFacts]:
    row = (
        await Submission.select(
            *Submission.all_columns(),
            Submission.department.path.as_alias("department_path"),
            Submission.assignment.visibility.as_alias("visibility"),
            Submission.assignment.due_at.as_alias("assignment_due_at"),
            Submission.assignment.training.id.as_alias("training_id"),  # type: ignore[union-attr]
            Submission.assignment.training.created_by.as_alias("training_creator_id"),  # type: ignore[union-attr]
        )
        .where(Submission.id == submission_id)
        .first()
    )
    if row is None:
        raise NotFound()
    facts = SubmissionFacts(
        author_id=int(row["employee"]),
        department_id=row["department"],
        department_path=str(row["department_path"] or ""),
        state=str(row["state"]),
        visibility=str(row["visibility"]),
        training_creator_id=row["training_creator_id"],
    )
    return row, facts
