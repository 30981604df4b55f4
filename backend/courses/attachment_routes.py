"""Course attachments (PDF, PPT, audio): add (multipart field `file`), list, remove."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, delete, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from backend.courses.attachments import (
    ATTACHMENT_MAX_BYTES,
    attachment_add,
    attachment_delete,
    attachment_list,
)
from backend.courses.routes import ids_guard
from backend.courses.schemas import AttachmentOut
from backend.lib.errors import ValidationFailed
from backend.lib.http import ActorDep

# Room for the multipart framing around a file of the largest allowed size.
_FORM_OVERHEAD_BYTES = 64 * 1024


class AttachmentController(Controller):
    path = "/api/v1/courses"
    tags = ("courses",)
    guards = (ids_guard,)

    @post(
        "/{course_id:int}/attachments",
        status_code=HTTP_201_CREATED,
        request_max_body_size=ATTACHMENT_MAX_BYTES + _FORM_OVERHEAD_BYTES,
        summary="Attach a PDF, PowerPoint or audio file (multipart field `file`, at most 50 MiB)",
    )
    async def attachment_create(
        self,
        actor: ActorDep,
        course_id: FromPath[int],
        data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> AttachmentOut:
        upload = data.get("file")
        if not isinstance(upload, UploadFile):
            raise ValidationFailed("attachment.missing", field="file")
        try:
            return await attachment_add(
                actor=actor, course_id=course_id, filename=upload.filename or "", stream=upload.file
            )
        finally:
            await upload.close()

    @get("/{course_id:int}/attachments", summary="A course's attachments (its author and HR)")
    async def attachments(self, actor: ActorDep, course_id: FromPath[int]) -> list[AttachmentOut]:
        return await attachment_list(actor=actor, course_id=course_id)

    @delete(
        "/{course_id:int}/attachments/{attachment_id:int}",
        status_code=HTTP_204_NO_CONTENT,
        summary="Remove an attachment",
    )
    async def attachment_remove(
        self, actor: ActorDep, course_id: FromPath[int], attachment_id: FromPath[int]
    ) -> None:
        await attachment_delete(actor=actor, course_id=course_id, attachment_id=attachment_id)
