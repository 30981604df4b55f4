"""Resumable video uploads (S3 multipart underneath): create, send parts, ask what arrived, complete, cancel."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, delete, get, post, put
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_202_ACCEPTED, HTTP_204_NO_CONTENT

from backend.courses.schemas import Id
from backend.courses.uploads import (
    CONTENT_TYPE_MAX,
    FILENAME_MAX,
    PART_SIZE,
    PartOut,
    UploadCompletedOut,
    UploadCreatedOut,
    UploadStatusOut,
    upload_cancel,
    upload_complete,
    upload_create,
    upload_part_put,
    upload_status,
)
from backend.lib.http import ActorDep
from backend.lib.schema import Schema

# One part and a little slack: the part route reads its body itself and stops at the part's length.
PART_BODY_MAX = PART_SIZE + 64 * 1024


class UploadIn(Schema):
    filename: Annotated[str, msgspec.Meta(min_length=1, max_length=FILENAME_MAX)]
    # Bounded by the service (2 GiB) with a friendlier message; here only the integer range.
    size: Annotated[int, msgspec.Meta(ge=0, le=2**53)]
    purpose: Annotated[str, msgspec.Meta(max_length=24)]
    course_id: Id
    content_type: Annotated[str, msgspec.Meta(max_length=CONTENT_TYPE_MAX)] = ""


def _content_length(request: Request[Any, Any, Any]) -> int | None:
    raw = request.headers.get("content-length")
    return int(raw) if raw and raw.isdigit() else None


class UploadController(Controller):
    path = "/api/v1/uploads"
    tags = ("courses",)

    @post("/", status_code=HTTP_201_CREATED, summary="Start a resumable upload of a course video")
    async def create(self, actor: ActorDep, data: JSONBody[UploadIn]) -> UploadCreatedOut:
        return await upload_create(
            actor=actor,
            filename=data.filename,
            size=data.size,
            content_type=data.content_type,
            purpose=data.purpose,
            course_id=data.course_id,
        )

    @put(
        "/{upload_id:uuid}/parts/{n:int}",
        status_code=HTTP_200_OK,
        request_max_body_size=PART_BODY_MAX,
        summary="Send part n (raw bytes, exactly part_size; the last part the remainder)",
    )
    async def part(
        self,
        actor: ActorDep,
        request: Request[Any, Any, Any],
        upload_id: FromPath[uuid.UUID],
        n: FromPath[int],
    ) -> PartOut:
        return await upload_part_put(
            actor=actor, upload_id=upload_id, n=n, body=request.stream(), length=_content_length(request)
        )

    @get("/{upload_id:uuid}", summary="Which parts arrived, and the upload's state")
    async def status(self, actor: ActorDep, upload_id: FromPath[uuid.UUID]) -> UploadStatusOut:
        return await upload_status(actor=actor, upload_id=upload_id)

    @post(
        "/{upload_id:uuid}/complete",
        status_code=HTTP_202_ACCEPTED,
        summary="All parts sent: the video goes to processing (again: the same answer)",
    )
    async def complete(self, actor: ActorDep, upload_id: FromPath[uuid.UUID]) -> UploadCompletedOut:
        return await upload_complete(actor=actor, upload_id=upload_id)

    @delete("/{upload_id:uuid}", status_code=HTTP_204_NO_CONTENT, summary="Cancel the upload (idempotent)")
    async def cancel(self, actor: ActorDep, upload_id: FromPath[uuid.UUID]) -> None:
        await upload_cancel(actor=actor, upload_id=upload_id)
