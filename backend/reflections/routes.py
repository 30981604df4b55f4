"""Reflections API: trainings, my assignments, submissions (Idempotency-Key), peers, grading, archive."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from litestar import Controller, Response, delete, get, post, put
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency, Provide
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, HeaderParameter, JSONBody, QueryParameter, SkipValidation
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT

from backend.lib.errors import ValidationFailed
from backend.lib.http import ActorDep
from backend.org.schemas import Page
from backend.reflections.archive import ArchiveFilter, archive_pdf_get, archive_search, archive_zip
from backend.reflections.grading import submission_feature, submission_grade
from backend.reflections.peer import comment_add, comment_delete, reflection_like, reflection_unlike
from backend.reflections.photos import PHOTO_MAX_BYTES
from backend.reflections.schemas import (
    ArchiveEntryOut,
    AssignmentIn,
    AssignmentOut,
    CommentIn,
    CreatedOut,
    DraftIn,
    FeatureIn,
    GradeIn,
    LikeOut,
    ParticipantsIn,
    ParticipantsPreviewOut,
    ReflectionOut,
    SubmissionIn,
    SubmissionOut,
    TrainingIn,
)
from backend.reflections.selectors import (
    assignment_mine,
    assignments_mine,
    featured_list,
    grading_queue,
    reflection_feed,
    reflection_get,
)
from backend.reflections.services import draft_save, photo_read, photo_upload, submission_submit
from backend.reflections.tables import Submission
from backend.reflections.trainings import (
    ParticipantFilter,
    assignment_create,
    participants_preview,
    training_create,
)

PageNo = Annotated[int, QueryParameter(ge=1, le=10_000)]
OptionalId = Annotated[int | None, QueryParameter(ge=1, le=2**53)]


def _filter(data: ParticipantsIn) -> ParticipantFilter:
    return ParticipantFilter(
        department_ids=tuple(data.department_ids),
        position_ids=tuple(data.position_ids),
        level_ids=tuple(data.level_ids),
        employee_ids=tuple(data.employee_ids),
    )


async def _submission_out(submission_id: int) -> SubmissionOut:
    row = await Submission.select().where(Submission.id == submission_id).first()
    assert row is not None
    return SubmissionOut(
        id=row["id"],
        assignment_id=row["assignment"],
        state=row["state"],
        version=row["version"],
        late=row["late"],
        submitted_at=row["submitted_at"],
    )


class TrainingController(Controller):
    path = "/api/v1"
    tags = ("reflections",)

    @post(
        "/trainings/participants/preview", status_code=HTTP_200_OK, summary="How many people a filter selects"
    )
    async def preview(self, actor: ActorDep, data: JSONBody[ParticipantsIn]) -> ParticipantsPreviewOut:
        result = await participants_preview(actor=actor, selection=_filter(data))
        return ParticipantsPreviewOut(count=result["count"], names=result["names"])

    @post("/trainings", status_code=HTTP_201_CREATED, summary="Create a training with its participants")
    async def training(self, actor: ActorDep, data: JSONBody[TrainingIn]) -> CreatedOut:
        training_id = await training_create(
            actor=actor,
            title=data.title,
            kind=data.kind,
            starts_on=data.starts_on,
            ends_on=data.ends_on,
            description=data.description,
            participants=_filter(data.participants),
            course_ids=tuple(data.course_ids),
        )
        return CreatedOut(id=training_id)

    @post(
        "/trainings/{training_id:int}/assignments", status_code=HTTP_201_CREATED, summary="Add an assignment"
    )
    async def assignment(
        self, actor: ActorDep, training_id: FromPath[int], data: JSONBody[AssignmentIn]
    ) -> CreatedOut:
        assignment_id = await assignment_create(
            actor=actor,
            training_id=training_id,
            prompt=data.prompt,
            due_at=data.due_at,
            min_length=data.min_length,
            max_photos=data.max_photos,
            visibility=data.visibility,
        )
        return CreatedOut(id=assignment_id)


class ReflectionController(Controller):
    path = "/api/v1"
    tags = ("reflections",)

    @get("/assignments", summary="My assignments with their state and due date")
    async def assignments(self, actor: ActorDep) -> list[AssignmentOut]:
        return await assignments_mine(actor=actor)

    @get("/assignments/{assignment_id:int}", summary="One of my assignments, with my draft")
    async def assignment(self, actor: ActorDep, assignment_id: FromPath[int]) -> AssignmentOut:
        return await assignment_mine(actor=actor, assignment_id=assignment_id)

    @put("/assignments/{assignment_id:int}/draft", status_code=HTTP_204_NO_CONTENT, summary="Save my draft")
    async def draft(self, actor: ActorDep, assignment_id: FromPath[int], data: JSONBody[DraftIn]) -> None:
        await draft_save(actor=actor, assignment_id=assignment_id, body=data.body, photo_ids=data.photo_ids)

    @post(
        "/assignments/{assignment_id:int}/submissions",
        summary="Submit my reflection; the same Idempotency-Key again answers the same submission",
    )
    async def submit(
        self,
        actor: ActorDep,
        assignment_id: FromPath[int],
        data: JSONBody[SubmissionIn],
        idempotency_key: Annotated[
            str, HeaderParameter(name="Idempotency-Key", min_length=1, max_length=200)
        ],
    ) -> Response[SubmissionOut]:
        result = await submission_submit(
            actor=actor,
            assignment_id=assignment_id,
            body=data.body,
            photo_ids=data.photo_ids,
            idempotency_key=idempotency_key,
        )
        return Response(
            await _submission_out(result.submission_id),
            status_code=HTTP_201_CREATED if result.created else HTTP_200_OK,
        )

    @post(
        "/photos",
        status_code=HTTP_201_CREATED,
        request_max_body_size=PHOTO_MAX_BYTES + 64 * 1024,
        summary="Upload a photo (multipart field `file`); re-encoded, EXIF/GPS stripped",
    )
    async def photo(
        self,
        actor: ActorDep,
        data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> CreatedOut:
        upload = data.get("file")
        if not isinstance(upload, UploadFile):
            raise ValidationFailed("error.photo_not_image", field="file")
        content = await upload.read(PHOTO_MAX_BYTES + 1)
        return CreatedOut(id=await photo_upload(actor=actor, data=content))

    @get("/photos/{photo_id:int}", summary="A photo (its owner, or who may see its reflection)")
    async def photo_get(self, actor: ActorDep, photo_id: FromPath[int]) -> Response[bytes]:
        content = await photo_read(actor=actor, photo_id=photo_id)
        return Response(content, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=86400"})

    @get("/reflections", summary="Reflections I may see, newest or most liked first")
    async def feed(
        self,
        actor: ActorDep,
        in_scope: Annotated[
            Literal["department", "organisation"], QueryParameter(name="scope")
        ] = "department",
        sort: Annotated[Literal["newest", "likes"], QueryParameter()] = "newest",
        page: PageNo = 1,
    ) -> Page[ReflectionOut]:
        return await reflection_feed(actor=actor, scope=in_scope, sort=sort, page=page)

    @get("/reflections/featured", summary="The featured wall")
    async def featured(
        self,
        actor: ActorDep,
        in_scope: Annotated[
            Literal["department", "organisation"], QueryParameter(name="scope")
        ] = "organisation",
        page: PageNo = 1,
    ) -> Page[ReflectionOut]:
        return await featured_list(actor=actor, scope=in_scope, page=page)

    @get("/reflections/grading", summary="Reflections I grade")
    async def grading(
        self,
        actor: ActorDep,
        in_state: Annotated[
            Literal["submitted", "graded", "returned"], QueryParameter(name="state")
        ] = "submitted",
        page: PageNo = 1,
    ) -> Page[ReflectionOut]:
        return await grading_queue(actor=actor, state=in_state, page=page)

    @get("/reflections/{submission_id:int}", summary="One reflection with its comments")
    async def reflection(self, actor: ActorDep, submission_id: FromPath[int]) -> ReflectionOut:
        return await reflection_get(actor=actor, submission_id=submission_id)

    @post("/reflections/{submission_id:int}/like", status_code=HTTP_200_OK, summary="Like (idempotent)")
    async def like(self, actor: ActorDep, submission_id: FromPath[int]) -> LikeOut:
        return LikeOut(
            like_count=await reflection_like(actor=actor, submission_id=submission_id), liked_by_me=True
        )

    @delete("/reflections/{submission_id:int}/like", status_code=HTTP_200_OK, summary="Unlike (idempotent)")
    async def unlike(self, actor: ActorDep, submission_id: FromPath[int]) -> LikeOut:
        count = await reflection_unlike(actor=actor, submission_id=submission_id)
        return LikeOut(like_count=count, liked_by_me=False)

    @post("/reflections/{submission_id:int}/comments", status_code=HTTP_201_CREATED, summary="Comment")
    async def comment(
        self, actor: ActorDep, submission_id: FromPath[int], data: JSONBody[CommentIn]
    ) -> CreatedOut:
        return CreatedOut(id=await comment_add(actor=actor, submission_id=submission_id, body=data.body))

    @delete("/comments/{comment_id:int}", status_code=HTTP_204_NO_CONTENT, summary="Delete a comment")
    async def uncomment(self, actor: ActorDep, comment_id: FromPath[int]) -> None:
        await comment_delete(actor=actor, comment_id=comment_id)

    @put("/reflections/{submission_id:int}/grade", status_code=HTTP_204_NO_CONTENT, summary="Grade")
    async def grade(self, actor: ActorDep, submission_id: FromPath[int], data: JSONBody[GradeIn]) -> None:
        await submission_grade(
            actor=actor,
            submission_id=submission_id,
            grade=data.grade,
            feedback=data.feedback,
            revise_due_at=data.revise_due_at,
        )

    @put("/reflections/{submission_id:int}/featured", status_code=HTTP_204_NO_CONTENT, summary="Feature")
    async def feature(self, actor: ActorDep, submission_id: FromPath[int], data: JSONBody[FeatureIn]) -> None:
        await submission_feature(actor=actor, submission_id=submission_id, featured=data.featured)


def _attachment(name: str, content: bytes, media_type: str) -> Response[bytes]:
    return Response(
        content,
        media_type=media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "private, no-store",
        },
    )


def archive_filter(
    employee_id: OptionalId = None,
    department_id: OptionalId = None,
    training_id: OptionalId = None,
    date_from: Annotated[dt.date | None, QueryParameter()] = None,
    date_to: Annotated[dt.date | None, QueryParameter()] = None,
) -> ArchiveFilter:
    """The archive's filter, read once from the query string for the search and the ZIP alike."""
    return ArchiveFilter(
        employee_id=employee_id,
        department_id=department_id,
        training_id=training_id,
        date_from=date_from,
        date_to=date_to,
    )


ArchiveFilterDep = NamedDependency[SkipValidation[ArchiveFilter]]  # built by archive_filter, validated there


class ArchiveController(Controller):
    path = "/api/v1"
    tags = ("reflections",)

    @get(
        "/archive",
        dependencies={"filters": Provide(archive_filter, sync_to_thread=False)},
        summary="Search archived versions by person, department, training and date",
    )
    async def search(
        self, actor: ActorDep, filters: ArchiveFilterDep, page: PageNo = 1
    ) -> Page[ArchiveEntryOut]:
        return await archive_search(actor=actor, filters=filters, page=page)

    @get(
        "/archive.zip",
        dependencies={"filters": Provide(archive_filter, sync_to_thread=False)},
        summary="A ZIP of the PDFs a filter finds (up to 200)",
    )
    async def zip(self, actor: ActorDep, filters: ArchiveFilterDep) -> Response[bytes]:
        content = await archive_zip(actor=actor, filters=filters)
        return _attachment("reflections-archive.zip", content, "application/zip")

    @get(
        "/submissions/{submission_id:int}/archive.pdf",
        summary="The archived PDF (newest version, or ?version_id=)",
    )
    async def pdf(
        self, actor: ActorDep, submission_id: FromPath[int], version_id: OptionalId = None
    ) -> Response[bytes]:
        name, content = await archive_pdf_get(actor=actor, submission_id=submission_id, version_id=version_id)
        return _attachment(name, content, "application/pdf")
