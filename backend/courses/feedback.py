"""Ratings (1–5 stars, one per person, changeable) and comments (removed by their author or HR).

Only people who may watch a published course rate it and comment on it; for anyone else the course
does not exist (404). Reading the comments needs only the right to see the course.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import msgspec
from piccolo.query.functions.aggregate import Avg, Count

from backend.courses.access import comment_delete_allowed, course_see_check, course_watch_check
from backend.courses.facts import course_facts, viewer_for
from backend.courses.tables import CourseComment, CourseRating
from backend.lib.db import write_transaction
from backend.lib.errors import NotFound, PermissionDenied, ValidationFailed
from backend.lib.policy import Actor
from backend.lib.schema import Schema
from backend.org.schemas import Page, Ref

STARS_MIN = 1
STARS_MAX = 5
COMMENT_MAX = 2_000
COMMENTS_PAGE_SIZE = 20


class RatingIn(Schema):
    stars: int  # checked by the service: 0 or 6 get a clear 422, not a schema error


class RatingOut(Schema):
    stars: int | None  # mine (None: I have not rated)
    rating_avg: float | None  # None while nobody has rated
    rating_count: int


class CommentIn(Schema):
    # Above the service limit (2,000): the service answers with the friendlier message in between.
    body: Annotated[str, msgspec.Meta(max_length=20_000)]


class CommentOut(Schema):
    id: int
    author: Ref
    body: str
    created_at: dt.datetime
    can_delete: bool


async def rating_summaries(course_ids: list[int]) -> dict[int, tuple[float | None, int]]:
    """{course id: (average stars rounded to 2 places, number of ratings)} in one query."""
    if not course_ids:
        return {}
    rows = (
        await CourseRating.select(
            CourseRating.course, Avg(CourseRating.stars, alias="avg"), Count(alias="count")
        )
        .where(CourseRating.course.is_in(list(course_ids)))
        .group_by(CourseRating.course)
    )
    return {
        int(row["course"]): (
            round(float(row["avg"]), 2) if row["avg"] is not None else None,
            int(row["count"] or 0),
        )
        for row in rows
    }


async def _rating_out(course_id: int, stars: int | None) -> RatingOut:
    average, count = (await rating_summaries([course_id])).get(course_id, (None, 0))
    return RatingOut(stars=stars, rating_avg=average, rating_count=count)


async def _watcher(actor: Actor | None, course_id: int) -> tuple[Actor, int]:
    """Someone who may rate and comment on this course, with their employee id (404 for anyone else)."""
    actor = course_watch_check(await viewer_for(actor), await course_facts(course_id))
    assert actor.employee_id is not None  # course_watch_check refuses accounts without one
    return actor, actor.employee_id


def stars_checked(stars: Any) -> int:
    if isinstance(stars, bool) or not isinstance(stars, int) or not STARS_MIN <= stars <= STARS_MAX:
        raise ValidationFailed("courses_library.stars_invalid", field="stars", min=STARS_MIN, max=STARS_MAX)
    return stars


async def rating_set(*, actor: Actor | None, course_id: int, stars: int) -> RatingOut:
    """Rate a course 1–5; rating again changes my one rating. Returns it with the new average."""
    _actor, employee_id = await _watcher(actor, course_id)
    stars = stars_checked(stars)
    # One statement, so two taps at once still leave one row (unique index course_rating_once).
    async with write_transaction(CourseRating):
        await CourseRating.insert(
            CourseRating(course=course_id, employee=employee_id, stars=stars, updated_at=_now())
        ).on_conflict(
            target=(CourseRating.course, CourseRating.employee),
            action="DO UPDATE",
            values=[CourseRating.stars, CourseRating.updated_at],
        )
    return await _rating_out(course_id, stars)


async def rating_clear(*, actor: Actor | None, course_id: int) -> RatingOut:
    """Take my rating back (nothing to do without one)."""
    _actor, employee_id = await _watcher(actor, course_id)
    await CourseRating.delete().where(
        (CourseRating.course == course_id) & (CourseRating.employee == employee_id)
    )
    return await _rating_out(course_id, None)


def _comment_out(actor: Actor, row: dict[str, Any]) -> CommentOut:
    return CommentOut(
        id=row["id"],
        author=Ref(id=row["author"], name=row["author_name"] or ""),
        body=row["body"],
        created_at=row["created_at"],
        can_delete=comment_delete_allowed(actor, row),
    )


_COMMENT_COLUMNS = (
    CourseComment.id,
    CourseComment.author,
    CourseComment.author.name.as_alias("author_name"),
    CourseComment.body,
    CourseComment.created_at,
)


async def comment_list(*, actor: Actor | None, course_id: int, page: int = 1) -> Page[CommentOut]:
    """A course's comments, newest first, each saying whether I may remove it."""
    actor = course_see_check(await viewer_for(actor), await course_facts(course_id))
    page = max(1, page)
    condition = CourseComment.course == course_id
    rows = (
        await CourseComment.select(*_COMMENT_COLUMNS)
        .where(condition)
        .order_by(CourseComment.created_at, ascending=False)
        .order_by(CourseComment.id, ascending=False)
        .limit(COMMENTS_PAGE_SIZE)
        .offset((page - 1) * COMMENTS_PAGE_SIZE)
    )
    total = await CourseComment.count().where(condition)
    return Page.of(
        items=[_comment_out(actor, row) for row in rows],
        page=page,
        page_size=COMMENTS_PAGE_SIZE,
        total=total,
    )


def comment_body_checked(body: str) -> str:
    body = (body or "").strip()
    if not body:
        raise ValidationFailed("error.required", field="body")
    if len(body) > COMMENT_MAX:
        raise ValidationFailed("error.too_long", field="body", max=COMMENT_MAX)
    return body


async def comment_add(*, actor: Actor | None, course_id: int, body: str) -> CommentOut:
    """Comment on a course I may watch (1–2,000 characters)."""
    actor, employee_id = await _watcher(actor, course_id)
    body = comment_body_checked(body)
    rows = await CourseComment.insert(
        CourseComment(course=course_id, author=employee_id, body=body, created_at=_now())
    ).returning(CourseComment.id)
    row = await CourseComment.select(*_COMMENT_COLUMNS).where(CourseComment.id == rows[0]["id"]).first()
    assert row is not None
    return _comment_out(actor, row)


async def comment_delete(*, actor: Actor | None, course_id: int, comment_id: int) -> None:
    """Remove a comment: its author or HR (403 for others who see it; 404 when it is not there)."""
    actor = course_see_check(await viewer_for(actor), await course_facts(course_id))
    comment = (
        await CourseComment.select(CourseComment.id, CourseComment.author)
        .where((CourseComment.id == comment_id) & (CourseComment.course == course_id))
        .first()
    )
    if comment is None:
        raise NotFound()
    if not comment_delete_allowed(actor, comment):
        raise PermissionDenied()
    await CourseComment.delete().where(CourseComment.id == comment_id)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
