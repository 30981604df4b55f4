"""Ratings and comments on courses."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, delete, get, post, put
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT

from backend.courses.feedback import (
    CommentIn,
    CommentOut,
    RatingIn,
    RatingOut,
    comment_add,
    comment_delete,
    comment_list,
    rating_clear,
    rating_set,
)
from backend.courses.routes import ids_guard
from backend.lib.http import ActorDep
from backend.org.schemas import Page

PageNo = Annotated[int, QueryParameter(ge=1, le=10_000)]


class FeedbackController(Controller):
    path = "/api/v1/courses"
    tags = ("courses",)
    guards = (ids_guard,)

    @put("/{course_id:int}/rating", status_code=HTTP_200_OK, summary="Rate a course 1–5 (changeable)")
    async def rate(self, actor: ActorDep, course_id: FromPath[int], data: JSONBody[RatingIn]) -> RatingOut:
        return await rating_set(actor=actor, course_id=course_id, stars=data.stars)

    @delete("/{course_id:int}/rating", status_code=HTTP_200_OK, summary="Take my rating back")
    async def unrate(self, actor: ActorDep, course_id: FromPath[int]) -> RatingOut:
        return await rating_clear(actor=actor, course_id=course_id)

    @get("/{course_id:int}/comments", summary="A course's comments, newest first")
    async def comments(self, actor: ActorDep, course_id: FromPath[int], page: PageNo = 1) -> Page[CommentOut]:
        return await comment_list(actor=actor, course_id=course_id, page=page)

    @post("/{course_id:int}/comments", status_code=HTTP_201_CREATED, summary="Comment on a course")
    async def comment(
        self, actor: ActorDep, course_id: FromPath[int], data: JSONBody[CommentIn]
    ) -> CommentOut:
        return await comment_add(actor=actor, course_id=course_id, body=data.body)

    @delete(
        "/{course_id:int}/comments/{comment_id:int}",
        status_code=HTTP_204_NO_CONTENT,
        summary="Remove a comment (its author or HR)",
    )
    async def uncomment(self, actor: ActorDep, course_id: FromPath[int], comment_id: FromPath[int]) -> None:
        await comment_delete(actor=actor, course_id=course_id, comment_id=comment_id)
