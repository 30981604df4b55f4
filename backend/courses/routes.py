"""The courses API: create, edit, publish, list and read courses.

Every controller of courses (and /media) takes `ids_guard`: an id in the path outside 1..ID_MAX names
nothing, so it answers 404 before any query (PostgreSQL refuses such a number for an `integer`
column, SQLite overflows on one past 64 bits: both would be a 500).
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, delete, get, patch, post
from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT

from backend.courses.schemas import ID_MAX, CourseIn, CourseOut, CoursePatch, CreatedOut, StatusOut
from backend.courses.selectors import course_get
from backend.courses.services import (
    course_create,
    course_delete,
    course_publish,
    course_unpublish,
    course_update,
)
from backend.lib.errors import NotFound
from backend.lib.http import ActorDep

PageNo = Annotated[int, QueryParameter(ge=1, le=10_000)]
SearchText = Annotated[str, QueryParameter(max_length=100)]


def id_in_range(value: int) -> bool:
    """Whether `value` can be the id of a row (see backend.courses.schemas.ID_MAX)."""
    return 1 <= value <= ID_MAX


def ids_guard(connection: ASGIConnection[Any, Any, Any, Any], _handler: BaseRouteHandler) -> None:
    """Guard: 404 (the app's JSON error) for an integer path parameter that can be no row's id."""
    for value in connection.path_params.values():
        if isinstance(value, int) and not isinstance(value, bool) and not id_in_range(value):
            raise NotFound()


class CourseController(Controller):
    path = "/api/v1/courses"
    tags = ("courses",)
    guards = (ids_guard,)

    @post("/", status_code=HTTP_201_CREATED, summary="Create a draft micro-course")
    async def create(self, actor: ActorDep, data: JSONBody[CourseIn]) -> CreatedOut:
        course_id = await course_create(actor=actor, **msgspec.structs.asdict(data))
        return CreatedOut(id=course_id)

    @get("/", summary="The library: courses for my department and position first, search, categories")
    async def library(
        self,
        actor: ActorDep,
        q: SearchText = "",
        category: SearchText = "",
        tag: SearchText = "",
        page: PageNo = 1,
    ) -> Any:
        from backend.courses.library import course_library

        return await course_library(actor=actor, query=q, category=category, tag=tag, page=page)

    @get("/{course_id:int}", summary="One course with my progress")
    async def read(self, actor: ActorDep, course_id: FromPath[int]) -> CourseOut:
        return await course_get(actor=actor, course_id=course_id)

    @patch("/{course_id:int}", summary="Change a course's fields (author or HR)")
    async def change(
        self, actor: ActorDep, course_id: FromPath[int], data: JSONBody[CoursePatch]
    ) -> CourseOut:
        fields = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not msgspec.UNSET}
        await course_update(actor=actor, course_id=course_id, **fields)
        return await course_get(actor=actor, course_id=course_id)

    @post(
        "/{course_id:int}/publish",
        status_code=HTTP_200_OK,
        summary="Publish (now, or when the video is ready)",
    )
    async def publish(self, actor: ActorDep, course_id: FromPath[int]) -> StatusOut:
        status = await course_publish(actor=actor, course_id=course_id)
        return StatusOut(id=course_id, status=status)

    @post("/{course_id:int}/unpublish", status_code=HTTP_200_OK, summary="Back to draft")
    async def unpublish(self, actor: ActorDep, course_id: FromPath[int]) -> StatusOut:
        await course_unpublish(actor=actor, course_id=course_id)
        course = await course_get(actor=actor, course_id=course_id)
        return StatusOut(id=course_id, status=course.status)

    @delete("/{course_id:int}", status_code=HTTP_204_NO_CONTENT, summary="Delete a course and its media")
    async def remove(self, actor: ActorDep, course_id: FromPath[int]) -> None:
        await course_delete(actor=actor, course_id=course_id)
