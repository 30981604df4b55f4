"""Reflections (心得): trainings, their participants and assignments, submissions and their archive.

Pairs that must be unique (one submission per person and assignment, one like per person...) get
unique indexes in the migrations: Piccolo columns cannot declare a composite unique constraint.
"""

from piccolo.columns import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    OnDelete,
    Serial,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from backend.courses.tables import Course
from backend.org.tables import Department, Employee


class Training(Table):
    id = Serial(primary_key=True)
    title = Varchar(length=120)
    kind = Varchar(length=16)  # course | workshop | programme
    starts_on = Date()
    ends_on = Date(null=True, default=None)
    description = Text(default="")
    created_by = ForeignKey(Employee, null=True, on_delete=OnDelete.set_null)
    created_at = Timestamptz(default=TimestamptzNow())


class TrainingParticipant(Table):
    id = Serial(primary_key=True)
    training = ForeignKey(Training, on_delete=OnDelete.cascade, index=True)
    employee = ForeignKey(Employee, on_delete=OnDelete.cascade, index=True)


class TrainingCourse(Table):
    """A micro-course linked to a training: participants find it with their assignment."""

    id = Serial(primary_key=True)
    training = ForeignKey(Training, on_delete=OnDelete.cascade, index=True)
    course = ForeignKey(Course, on_delete=OnDelete.cascade, index=True)
    sort = Integer(default=0)


class Assignment(Table):
    id = Serial(primary_key=True)
    training = ForeignKey(Training, on_delete=OnDelete.cascade, index=True)
    prompt = Text()
    due_at = Timestamptz()
    min_length = Integer(default=0)
    max_photos = Integer(default=3)
    visibility = Varchar(length=16)  # graders | department | organisation
    created_at = Timestamptz(default=TimestamptzNow())


class Submission(Table):
    """One person's reflection for one assignment: its current state and latest text."""

    id = Serial(primary_key=True)
    assignment = ForeignKey(Assignment, on_delete=OnDelete.cascade, index=True)
    employee = ForeignKey(Employee, on_delete=OnDelete.cascade, index=True)
    # The author's department when last submitted: visibility "department" is decided by it.
    department = ForeignKey(Department, null=True, on_delete=OnDelete.set_null, index=True)
    state = Varchar(length=12, index=True)  # draft | submitted | returned | graded
    body = Text(default="")
    photo_ids = JSON(default="[]")
    version = Integer(default=0)  # how many times it has been submitted
    submitted_at = Timestamptz(null=True, default=None, index=True)
    late = Boolean(default=False)
    # A new due date for a reflection returned for revision (else the assignment's).
    due_at = Timestamptz(null=True, default=None)
    grade = Varchar(length=16, null=True, default=None)  # excellent | good | pass | revise
    feedback = Text(default="")
    graded_by = ForeignKey(Employee, null=True, on_delete=OnDelete.set_null)
    graded_at = Timestamptz(null=True, default=None)
    featured = Boolean(default=False, index=True)
    like_count = Integer(default=0)
    comment_count = Integer(default=0)
    updated_at = Timestamptz(default=TimestamptzNow())


class Photo(Table):
    id = Serial(primary_key=True)
    owner = ForeignKey(Employee, on_delete=OnDelete.cascade, index=True)
    # Set when a submission uses the photo: who may see the submission may see its photos.
    submission = ForeignKey(Submission, null=True, on_delete=OnDelete.set_null, index=True)
    storage_key = Varchar(length=200)
    width = Integer()
    height = Integer()
    size = Integer()
    created_at = Timestamptz(default=TimestamptzNow())


class SubmissionVersion(Table):
    """Every submitted and every graded version, kept for the archive (rendered to PDF by a job)."""

    id = Serial(primary_key=True)
    submission = ForeignKey(Submission, on_delete=OnDelete.cascade, index=True)
    version = Integer()
    kind = Varchar(length=12)  # submitted | graded
    body = Text()
    photo_ids = JSON(default="[]")
    submitted_at = Timestamptz()
    late = Boolean(default=False)
    grade = Varchar(length=16, null=True, default=None)
    feedback = Text(default="")
    graded_by = ForeignKey(Employee, null=True, on_delete=OnDelete.set_null)
    graded_at = Timestamptz(null=True, default=None)
    archive_key = Varchar(length=200, default="")
    created_at = Timestamptz(default=TimestamptzNow(), index=True)


class SubmissionRequest(Table):
    """An Idempotency-Key seen for a submission: the same key again answers the same submission."""

    id = Serial(primary_key=True)
    employee = ForeignKey(Employee, on_delete=OnDelete.cascade)
    key = Varchar(length=64)
    submission = ForeignKey(Submission, on_delete=OnDelete.cascade)
    fingerprint = Varchar(length=64)  # SHA-256 of the request's content
    created_at = Timestamptz(default=TimestamptzNow())


class ReflectionLike(Table):
    id = Serial(primary_key=True)
    submission = ForeignKey(Submission, on_delete=OnDelete.cascade, index=True)
    employee = ForeignKey(Employee, on_delete=OnDelete.cascade)
    created_at = Timestamptz(default=TimestamptzNow())


class ReflectionComment(Table):
    id = Serial(primary_key=True)
    submission = ForeignKey(Submission, on_delete=OnDelete.cascade, index=True)
    author = ForeignKey(Employee, on_delete=OnDelete.cascade)
    body = Text()
    created_at = Timestamptz(default=TimestamptzNow())
