"""Peer work: likes (one per person, idempotent both ways) and comments (removed by author or HR)."""

from __future__ import annotations

from backend.events.outbox import outbox_add, outbox_kick
from backend.lib.db import unique_violation, write_transaction
from backend.lib.errors import NotFound, PermissionDenied, ValidationFailed
from backend.lib.policy import Actor
from backend.reflections.access import PUBLISHED_STATES, comment_delete_allowed, employee_require, see_check
from backend.reflections.facts import submission_facts
from backend.reflections.services import text_bounded
from backend.reflections.tables import ReflectionComment, ReflectionLike, Submission

COMMENT_MAX = 1_000


async def _published_visible(actor: Actor | None, submission_id: int) -> tuple[Actor, int, int]:
    _row, facts = await submission_facts(submission_id)
    actor = see_check(actor, facts)
    actor, employee_id = employee_require(actor)
    if facts.state not in PUBLISHED_STATES:
        raise NotFound()
    return actor, employee_id, facts.author_id


async def reflection_like(*, actor: Actor | None, submission_id: int) -> int:
    """Like a reflection; liking again changes nothing. Returns the like count."""
    _actor, employee_id, author_id = await _published_visible(actor, submission_id)
    if employee_id == author_id:
        raise ValidationFailed("error.like_own", field="submission_id")
    event_id = None
    try:
        async with write_transaction(Submission):
            await ReflectionLike.insert(ReflectionLike(submission=submission_id, employee=employee_id))
            await Submission.update({Submission.like_count: Submission.like_count + 1}).where(
                Submission.id == submission_id
            )
            event_id = await outbox_add(
                "reflection.liked",
                {"submission_id": submission_id, "employee_id": employee_id, "author_id": author_id},
            )
    except Exception as error:
        if not unique_violation(error):
            raise
    if event_id is not None:
        await outbox_kick([event_id])
    return await _like_count(submission_id)


async def reflection_unlike(*, actor: Actor | None, submission_id: int) -> int:
    """Take a like back; without one there is nothing to do. Returns the like count."""
    _actor, employee_id, _author = await _published_visible(actor, submission_id)
    async with write_transaction(Submission):
        removed = (
            await ReflectionLike.delete()
            .where((ReflectionLike.submission == submission_id) & (ReflectionLike.employee == employee_id))
            .returning(ReflectionLike.id)
        )
        if removed:
            await Submission.update({Submission.like_count: Submission.like_count - 1}).where(
                Submission.id == submission_id
            )
    return await _like_count(submission_id)


async def _like_count(submission_id: int) -> int:
    row = await Submission.select(Submission.like_count).where(Submission.id == submission_id).first()
    return int(row["like_count"]) if row else 0


async def comment_add(*, actor: Actor | None, submission_id: int, body: str) -> int:
    _actor, employee_id, author_id = await _published_visible(actor, submission_id)
    body = text_bounded(body, field="body", max_length=COMMENT_MAX)
    async with write_transaction(Submission):
        rows = await ReflectionComment.insert(
            ReflectionComment(submission=submission_id, author=employee_id, body=body)
        ).returning(ReflectionComment.id)
        await Submission.update({Submission.comment_count: Submission.comment_count + 1}).where(
            Submission.id == submission_id
        )
        event_id = await outbox_add(
            "reflection.commented",
            {
                "submission_id": submission_id,
                "comment_id": int(rows[0]["id"]),
                "employee_id": employee_id,
                "author_id": author_id,
            },
        )
    await outbox_kick([event_id])
    return int(rows[0]["id"])


async def comment_delete(*, actor: Actor | None, comment_id: int) -> None:
    comment = await ReflectionComment.select().where(ReflectionComment.id == comment_id).first()
    if comment is None:
        raise NotFound()
    _row, facts = await submission_facts(int(comment["submission"]))
    actor = see_check(actor, facts)
    if not comment_delete_allowed(actor, comment):
        raise PermissionDenied()
    async with write_transaction(Submission):
        removed = (
            await ReflectionComment.delete()
            .where(ReflectionComment.id == comment_id)
            .returning(ReflectionComment.id)
        )
        if removed:
            await Submission.update({Submission.comment_count: Submission.comment_count - 1}).where(
                Submission.id == comment["submission"]
            )
