"""API structs of reflections (the pages use the same shapes)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import msgspec

from backend.lib.schema import Schema
from backend.org.schemas import Ref

Id = Annotated[int, msgspec.Meta(ge=1, le=2**53)]
IdList = Annotated[list[Id], msgspec.Meta(max_length=2_000)]
# Above the service limit (20,000): the service answers with the friendlier message in between.
Body = Annotated[str, msgspec.Meta(max_length=25_000)]
PhotoIds = Annotated[list[Id], msgspec.Meta(max_length=9)]


class ParticipantsIn(Schema):
    department_ids: IdList = msgspec.field(default_factory=list)
    position_ids: IdList = msgspec.field(default_factory=list)
    level_ids: IdList = msgspec.field(default_factory=list)
    employee_ids: IdList = msgspec.field(default_factory=list)


class ParticipantsPreviewOut(Schema):
    count: int
    names: list[str]


class TrainingIn(Schema):
    title: Annotated[str, msgspec.Meta(max_length=120)]
    kind: Literal["course", "workshop", "programme"]
    starts_on: dt.date
    participants: ParticipantsIn
    ends_on: dt.date | None = None
    description: Annotated[str, msgspec.Meta(max_length=5_000)] = ""
    course_ids: Annotated[list[Id], msgspec.Meta(max_length=100)] = msgspec.field(default_factory=list)


class AssignmentIn(Schema):
    prompt: Annotated[str, msgspec.Meta(max_length=2_000)]
    due_at: dt.datetime
    min_length: Annotated[int, msgspec.Meta(ge=0, le=20_000)] = 0
    max_photos: Annotated[int, msgspec.Meta(ge=0, le=9)] = 3
    visibility: Literal["graders", "department", "organisation"] = "department"


class CreatedOut(Schema):
    id: int


class AssignmentOut(Schema):
    id: int
    training: Ref
    prompt: str
    due_at: dt.datetime  # the one that applies to me (a returned reflection has its own)
    min_length: int
    max_photos: int
    visibility: str
    # assigned | draft | submitted | late | returned | graded
    state: str
    submission_id: int | None = None
    body: str = ""
    photo_ids: list[int] = msgspec.field(default_factory=list)
    grade: str | None = None
    feedback: str = ""
    # The training's micro-courses I may watch (id, title).
    courses: list[Ref] = msgspec.field(default_factory=list)


class DraftIn(Schema):
    body: Body = ""
    photo_ids: PhotoIds = msgspec.field(default_factory=list)


class SubmissionIn(Schema):
    body: Body
    photo_ids: PhotoIds = msgspec.field(default_factory=list)


class SubmissionOut(Schema):
    id: int
    assignment_id: int
    state: str
    version: int
    late: bool
    submitted_at: dt.datetime | None


class CommentOut(Schema):
    id: int
    author: Ref
    body: str
    created_at: dt.datetime
    can_delete: bool


class ReflectionOut(Schema):
    id: int
    author: Ref
    department: str
    training: Ref
    assignment_id: int
    prompt: str
    body: str
    photo_ids: list[int]
    state: str
    late: bool
    submitted_at: dt.datetime | None
    grade: str | None
    feedback: str
    featured: bool
    like_count: int
    comment_count: int
    liked_by_me: bool = False
    can_grade: bool = False
    comments: list[CommentOut] = msgspec.field(default_factory=list)


class CommentIn(Schema):
    body: Annotated[str, msgspec.Meta(max_length=1_000)]


class LikeOut(Schema):
    like_count: int
    liked_by_me: bool


class GradeIn(Schema):
    grade: Literal["excellent", "good", "pass", "revise"]
    feedback: Annotated[str, msgspec.Meta(max_length=5_000)] = ""
    revise_due_at: dt.datetime | None = None


class FeatureIn(Schema):
    featured: bool


class ArchiveEntryOut(Schema):
    id: int  # the archived version's id
    submission_id: int
    version: int
    kind: str  # submitted | graded
    author: Ref
    department: str
    training: Ref
    submitted_at: dt.datetime
    grade: str | None
    created_at: dt.datetime
