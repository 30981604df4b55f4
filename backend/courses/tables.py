"""Micro-courses: courses and their video versions, attachments, uploads, watch progress, feedback.

Pairs that must be unique (one rating per person, one progress row per person and video version, one
row per uploaded part) get unique indexes in the migrations: Piccolo columns cannot declare them.
"""

from piccolo.columns import (
    JSON,
    UUID,
    BigInt,
    Boolean,
    DoublePrecision,
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

from backend.org.tables import Employee


class Course(Table):
    id = Serial(primary_key=True)
    title = Varchar(length=120)
    summary = Text(default="")
    category = Varchar(length=40, default="", index=True)
    # Free skill tags, e.g. ["安全", "设备点检"]; audience ids double as department/position tags.
    tags = JSON(default="[]")
    audience_department_ids = JSON(default="[]")
    audience_position_ids = JSON(default="[]")
    # True: only the audience (and the author, HR) may see it; False: the whole organisation.
    restricted = Boolean(default=False)
    # The micro-lesson template: 问题 → 案例 → 方法.
    problem = Text(default="")
    case_text = Text(default="")
    method = Text(default="")
    status = Varchar(length=12, default="draft", index=True)  # draft | processing | published | failed
    failure_reason = Text(default="")
    # Publish as soon as the video being processed is ready.
    publish_requested = Boolean(default=False)
    author = ForeignKey(Employee, null=True, on_delete=OnDelete.set_null, index=True)
    # The version people watch (a CourseVersion id; null until one is ready).
    current_version_id = Integer(null=True, default=None)
    view_count = Integer(default=0)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    published_at = Timestamptz(null=True, default=None, index=True)


class CourseVersion(Table):
    """One uploaded video of a course. Replacing the video adds a version; old watch history stays."""

    id = Serial(primary_key=True)
    course = ForeignKey(Course, on_delete=OnDelete.cascade, index=True)
    number = Integer()
    state = Varchar(length=12, default="uploading")  # uploading | processing | ready | failed
    failure_reason = Text(default="")
    source_key = Varchar(length=200, default="")  # the upload as received (deleted once processed)
    video_key = Varchar(length=200, default="")
    poster_key = Varchar(length=200, default="")
    duration = DoublePrecision(default=0.0)  # seconds
    width = Integer(default=0)
    height = Integer(default=0)
    size = BigInt(default=0)
    remuxed = Boolean(default=False)  # True: the upload was already H.264/AAC and only remuxed
    created_at = Timestamptz(default=TimestamptzNow())
    processed_at = Timestamptz(null=True, default=None)


class CourseAttachment(Table):
    id = Serial(primary_key=True)
    course = ForeignKey(Course, on_delete=OnDelete.cascade, index=True)
    kind = Varchar(length=8)  # pdf | ppt | audio
    filename = Varchar(length=200)
    content_type = Varchar(length=100)
    storage_key = Varchar(length=200)
    size = BigInt()
    created_at = Timestamptz(default=TimestamptzNow())


class Upload(Table):
    """A resumable upload: S3 multipart underneath, parts of `part_size` bytes."""

    id = UUID(primary_key=True)
    owner = ForeignKey(Employee, on_delete=OnDelete.cascade, index=True)
    course = ForeignKey(Course, null=True, on_delete=OnDelete.cascade, index=True)
    version = ForeignKey(CourseVersion, null=True, on_delete=OnDelete.set_null)
    purpose = Varchar(length=24)  # course_video
    filename = Varchar(length=200)
    content_type = Varchar(length=100)  # as declared by the client; the content is sniffed
    size = BigInt()
    part_size = Integer()
    part_count = Integer()
    storage_key = Varchar(length=200)
    s3_upload_id = Varchar(length=200, default="")
    state = Varchar(length=12, default="open", index=True)  # open | completed | aborted
    sniffed_type = Varchar(length=40, default="")
    created_at = Timestamptz(default=TimestamptzNow())
    touched_at = Timestamptz(default=TimestamptzNow(), index=True)


class UploadPart(Table):
    id = Serial(primary_key=True)
    upload = ForeignKey(Upload, on_delete=OnDelete.cascade, index=True)
    n = Integer()
    etag = Varchar(length=100)
    size = BigInt()
    created_at = Timestamptz(default=TimestamptzNow())


class WatchProgress(Table):
    """What one person watched of one video version: merged intervals of distinct seconds."""

    id = Serial(primary_key=True)
    course = ForeignKey(Course, on_delete=OnDelete.cascade, index=True)
    version = ForeignKey(CourseVersion, on_delete=OnDelete.cascade, index=True)
    employee = ForeignKey(Employee, on_delete=OnDelete.cascade, index=True)
    intervals = JSON(default="[]")  # [[start, end], ...] merged, sorted, inside the duration
    watched_seconds = DoublePrecision(default=0.0)
    position = DoublePrecision(default=0.0)
    completed = Boolean(default=False)
    completed_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class CourseView(Table):
    """A person opening a course page (counted at most once per person per 30 minutes)."""

    id = Serial(primary_key=True)
    course = ForeignKey(Course, on_delete=OnDelete.cascade, index=True)
    employee = ForeignKey(Employee, on_delete=OnDelete.cascade, index=True)
    viewed_at = Timestamptz(default=TimestamptzNow())


class CourseRating(Table):
    id = Serial(primary_key=True)
    course = ForeignKey(Course, on_delete=OnDelete.cascade, index=True)
    employee = ForeignKey(Employee, on_delete=OnDelete.cascade)
    stars = Integer()
    updated_at = Timestamptz(default=TimestamptzNow())


class CourseComment(Table):
    id = Serial(primary_key=True)
    course = ForeignKey(Course, on_delete=OnDelete.cascade, index=True)
    author = ForeignKey(Employee, on_delete=OnDelete.cascade)
    body = Text()
    created_at = Timestamptz(default=TimestamptzNow())
