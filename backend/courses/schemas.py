"""API structs of micro-courses (the pages use the same shapes)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec

from backend.lib.schema import Schema
from backend.org.schemas import Ref

# Row ids are PostgreSQL `integer`s (Serial): a larger number can name no row, and the database would
# refuse it as an error rather than find nothing. Path ids outside it answer 404 (backend.courses.routes.ids_guard).
ID_MAX = 2**31 - 1
Id = Annotated[int, msgspec.Meta(ge=1, le=ID_MAX)]
IdList = Annotated[list[Id], msgspec.Meta(max_length=200)]
# Above the service limits: the service answers with the friendlier message in between.
Tags = Annotated[list[Annotated[str, msgspec.Meta(max_length=100)]], msgspec.Meta(max_length=50)]
ShortText = Annotated[str, msgspec.Meta(max_length=500)]
LongText = Annotated[str, msgspec.Meta(max_length=10_000)]


class CourseIn(Schema):
    title: ShortText
    summary: LongText = ""
    category: ShortText = ""
    tags: Tags = msgspec.field(default_factory=list)
    audience_department_ids: IdList = msgspec.field(default_factory=list)
    audience_position_ids: IdList = msgspec.field(default_factory=list)
    restricted: bool = False
    problem: LongText = ""
    case_text: LongText = ""
    method: LongText = ""


class CoursePatch(Schema):
    """Only the fields present change."""

    title: ShortText | msgspec.UnsetType = msgspec.UNSET
    summary: LongText | msgspec.UnsetType = msgspec.UNSET
    category: ShortText | msgspec.UnsetType = msgspec.UNSET
    tags: Tags | msgspec.UnsetType = msgspec.UNSET
    audience_department_ids: IdList | msgspec.UnsetType = msgspec.UNSET
    audience_position_ids: IdList | msgspec.UnsetType = msgspec.UNSET
    restricted: bool | msgspec.UnsetType = msgspec.UNSET
    problem: LongText | msgspec.UnsetType = msgspec.UNSET
    case_text: LongText | msgspec.UnsetType = msgspec.UNSET
    method: LongText | msgspec.UnsetType = msgspec.UNSET


class ProgressOut(Schema):
    watched_ratio: float
    completed: bool
    position: float


class AttachmentOut(Schema):
    id: int
    kind: str
    filename: str
    size: int
    url: str


class CourseOut(Schema):
    id: int
    title: str
    summary: str
    category: str
    tags: list[str]
    status: str
    failure_reason: str
    duration: float
    video_url: str | None
    poster_url: str | None
    problem: str
    case_text: str
    method: str
    attachments: list[AttachmentOut]
    author: Ref | None
    restricted: bool
    audience_department_ids: list[int]
    audience_position_ids: list[int]
    rating_avg: float | None
    rating_count: int
    my_rating: int | None
    view_count: int
    comment_count: int
    can_manage: bool
    current_version_id: int | None
    # A newer video is being processed (the current one keeps playing meanwhile).
    processing: bool
    # Publish was pressed while the video was processing: it goes live when the video is ready.
    publish_requested: bool
    my_progress: ProgressOut
    published_at: dt.datetime | None
    updated_at: dt.datetime


class StudioCourseOut(Schema):
    """A row of the trainer's studio list."""

    id: int
    title: str
    status: str
    failure_reason: str
    poster_url: str | None
    duration: float
    processing: bool
    updated_at: dt.datetime
    published_at: dt.datetime | None
    author: Ref | None


class CreatedOut(Schema):
    id: int


class StatusOut(Schema):
    id: int
    status: str
