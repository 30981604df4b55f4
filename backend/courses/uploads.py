"""Resumable video uploads from a phone: S3 multipart underneath, one 8 MiB part per request.

A client creates an upload, PUTs its parts in any order (a dropped connection re-sends whole parts;
a re-sent part replaces the earlier one), asks which parts arrived, and completes it: the course
gets a new version to process. The server holds at most one part of one request in memory. The
first part's bytes say whether the file is a video (never its name or declared type). Uploads left
idle for 24 hours are aborted by `uploads_abort_idle`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import math
import uuid
import weakref
from collections.abc import AsyncIterable
from typing import Any, NoReturn

from backend.courses.access import actor_required, course_manage_check
from backend.courses.facts import course_facts, viewer_for
from backend.courses.lifecycle import video_received
from backend.courses.sniff import SNIFF_BYTES, sniff_video
from backend.courses.tables import Upload, UploadPart
from backend.courses.urls import source_key
from backend.events.outbox import outbox_kick
from backend.lib.db import unique_violation, write_transaction
from backend.lib.errors import Conflict, NotFound, PermissionDenied, Throttled, ValidationFailed
from backend.lib.policy import Actor
from backend.lib.schema import Schema
from backend.lib.storage import (
    S3_NO_SUCH_UPLOAD,
    storage_delete,
    storage_error_code,
    storage_multipart_abort,
    storage_multipart_complete,
    storage_multipart_create,
    storage_multipart_part_put,
    storage_size,
)

logger = logging.getLogger("learnloop.courses")

PART_SIZE = 8 * 1024 * 1024
UPLOAD_MAX_BYTES = 2 * 1024**3
PURPOSE_COURSE_VIDEO = "course_video"
FILENAME_MAX = 200
CONTENT_TYPE_MAX = 100
# Open uploads one person may have at a time (abandoned ones are aborted after IDLE_AFTER).
OPEN_UPLOADS_MAX = 20
IDLE_AFTER = dt.timedelta(hours=24)
IDLE_BATCH = 500
# A concurrent upload to the same course can take the version number first: try again.
COMPLETE_ATTEMPTS = 3

_completing: weakref.WeakValueDictionary[uuid.UUID, asyncio.Lock] = weakref.WeakValueDictionary()

STATE_OPEN = "open"
STATE_COMPLETED = "completed"
STATE_ABORTED = "aborted"


class UploadCreatedOut(Schema):
    id: str
    part_size: int
    part_count: int


class PartOut(Schema):
    n: int
    etag: str


class UploadStatusOut(Schema):
    received: list[int]
    state: str
    part_size: int
    part_count: int
    size: int


class UploadCompletedOut(Schema):
    course_id: int
    version_id: int | None


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def part_length(*, size: int, part_size: int, part_count: int, n: int) -> int:
    """The exact length of part `n`: `part_size`, except the last, which holds the remainder."""
    if n < part_count:
        return part_size
    return size - part_size * (part_count - 1)


def _uploader(actor: Actor | None) -> Actor:
    actor = actor_required(actor)
    if actor.employee_id is None:
        raise NotFound()
    return actor


async def _own_upload(actor: Actor, upload_id: uuid.UUID | str) -> dict[str, Any]:
    """The upload row when `actor` started it; anyone else gets 404 (its existence is not revealed)."""
    try:
        key = upload_id if isinstance(upload_id, uuid.UUID) else uuid.UUID(str(upload_id))
    except ValueError as error:
        raise NotFound() from error
    row = await Upload.select().where(Upload.id == key).first()
    if row is None or row["owner"] != actor.employee_id:
        raise NotFound()
    return dict(row)


def _require_open(upload: dict[str, Any]) -> None:
    if upload["state"] == STATE_COMPLETED:
        raise Conflict("upload.completed")
    if upload["state"] != STATE_OPEN:
        raise Conflict("upload.aborted")


async def upload_create(
    *,
    actor: Actor | None,
    filename: str,
    size: int,
    content_type: str,
    purpose: str,
    course_id: int,
) -> UploadCreatedOut:
    """Start uploading a video to a course (its author or HR). Returns the id and how to cut the file."""
    viewer = await viewer_for(actor)
    actor = course_manage_check(viewer, await course_facts(course_id))
    if actor.employee_id is None:
        raise PermissionDenied()
    if purpose != PURPOSE_COURSE_VIDEO:
        raise ValidationFailed("upload.purpose_invalid", field="purpose")
    filename = (filename or "").strip()
    if not filename:
        raise ValidationFailed("error.required", field="filename")
    if len(filename) > FILENAME_MAX:
        raise ValidationFailed("error.too_long", field="filename", max=FILENAME_MAX)
    content_type = (content_type or "").strip()
    if len(content_type) > CONTENT_TYPE_MAX:
        raise ValidationFailed("error.too_long", field="content_type", max=CONTENT_TYPE_MAX)
    if size <= 0:
        raise ValidationFailed("upload.empty", field="size")
    if size > UPLOAD_MAX_BYTES:
        raise ValidationFailed("upload.too_large", field="size", limit_gib=UPLOAD_MAX_BYTES // 1024**3)
    open_count = await Upload.count().where(
        (Upload.owner == actor.employee_id) & (Upload.state == STATE_OPEN)
    )
    if open_count >= OPEN_UPLOADS_MAX:
        raise Conflict("upload.too_many_open", max=OPEN_UPLOADS_MAX)
    part_count = math.ceil(size / PART_SIZE)
    upload_id = uuid.uuid4()
    key = source_key(str(upload_id))
    try:
        s3_upload_id = await storage_multipart_create(key)
    except Exception as error:
        if storage_error_code(error) == "SlowDown":
            raise Throttled("upload.busy", retry_after=30) from error
        raise
    await Upload.insert(
        Upload(
            id=upload_id,
            owner=actor.employee_id,
            course=course_id,
            purpose=purpose,
            filename=filename,
            content_type=content_type,
            size=size,
            part_size=PART_SIZE,
            part_count=part_count,
            storage_key=key,
            s3_upload_id=s3_upload_id,
            state=STATE_OPEN,
        )
    )
    return UploadCreatedOut(id=str(upload_id), part_size=PART_SIZE, part_count=part_count)


async def _part_read(body: AsyncIterable[bytes], expected: int) -> bytearray:
    """Exactly `expected` bytes of a request body into one buffer; refused as soon as it runs over."""
    buffer = bytearray(expected)
    view = memoryview(buffer)
    received = 0
    try:
        async for chunk in body:
            end = received + len(chunk)
            if end > expected:
                raise ValidationFailed("upload.part_size_wrong", field="body", expected=expected)
            view[received:end] = chunk
            received = end
    finally:
        view.release()
    if received != expected:
        raise ValidationFailed("upload.part_size_wrong", field="body", expected=expected)
    return buffer


async def _part_record(upload_id: uuid.UUID, n: int, etag: str, size: int, sniffed: str | None) -> None:
    """The part's row (a re-sent part replaces it) and the upload's last activity, if still open."""
    for attempt in range(2):
        try:
            async with write_transaction(Upload):
                state = await Upload.select(Upload.state).where(Upload.id == upload_id).first()
                if state is None:
                    raise NotFound()
                _require_open(state)
                updated = (
                    await UploadPart.update(
                        {UploadPart.etag: etag, UploadPart.size: size, UploadPart.created_at: now()}
                    )
                    .where((UploadPart.upload == upload_id) & (UploadPart.n == n))
                    .returning(UploadPart.id)
                )
                if not updated:
                    await UploadPart.insert(UploadPart(upload=upload_id, n=n, etag=etag, size=size))
                values: dict[Any, Any] = {Upload.touched_at: now()}
                if sniffed:
                    values[Upload.sniffed_type] = sniffed
                await Upload.update(values).where(Upload.id == upload_id)
            return
        except Exception as error:
            # The same part sent twice at once: the other request inserted the row first.
            if attempt or not unique_violation(error):
                raise


async def _s3_upload_lost(upload: dict[str, Any]) -> NoReturn:
    """The S3 server no longer knows the upload: cancelled or completed meanwhile, or lost (the
    embedded S3 server keeps uploads in progress in memory only, so a restart loses them)."""
    current = await Upload.select(Upload.state).where(Upload.id == upload["id"]).first()
    if current is None:
        raise NotFound()
    _require_open(current)
    if await storage_size(upload["storage_key"]) is not None:
        raise Conflict("upload.completed")  # being completed by another request right now
    await Upload.update({Upload.state: STATE_ABORTED, Upload.touched_at: now()}).where(
        (Upload.id == upload["id"]) & (Upload.state == STATE_OPEN)
    )
    raise Conflict("upload.aborted")


async def upload_part_put(
    *,
    actor: Actor | None,
    upload_id: uuid.UUID | str,
    n: int,
    body: AsyncIterable[bytes],
    length: int | None = None,
) -> PartOut:
    """Store part `n` of my upload from a request body of exactly the part's length.

    `length` is the declared Content-Length, when there is one: a wrong one is refused before reading.
    """
    actor = _uploader(actor)
    upload = await _own_upload(actor, upload_id)
    _require_open(upload)
    part_count = int(upload["part_count"])
    if not 1 <= n <= part_count:
        raise ValidationFailed("upload.part_number_invalid", field="n", count=part_count)
    expected = part_length(size=upload["size"], part_size=upload["part_size"], part_count=part_count, n=n)
    if length is not None and length != expected:
        raise ValidationFailed("upload.part_size_wrong", field="body", expected=expected)
    data = await _part_read(body, expected)
    sniffed = None
    if n == 1:
        sniffed = sniff_video(bytes(data[:SNIFF_BYTES]))
        if sniffed is None:
            del data
            await _discard(upload)
            raise ValidationFailed("upload.not_video", field="file")
    try:
        etag = await storage_multipart_part_put(upload["storage_key"], upload["s3_upload_id"], n, data)
    except Exception as error:
        code = storage_error_code(error)
        if code == S3_NO_SUCH_UPLOAD:
            await _s3_upload_lost(upload)
        if code == "NotImplemented":
            # The embedded S3 server streams parts in order: one already streamed can be sent
            # again with the same bytes (a retry), never with different ones.
            raise Conflict("upload.part_fixed", n=n) from error
        if code == "SlowDown":
            raise Throttled("upload.busy", retry_after=5) from error
        raise
    del data
    await _part_record(upload["id"], n, etag, expected, sniffed)
    return PartOut(n=n, etag=etag)


async def _received(upload_id: uuid.UUID) -> list[dict[str, Any]]:
    rows = (
        await UploadPart.select(UploadPart.n, UploadPart.etag)
        .where(UploadPart.upload == upload_id)
        .order_by(UploadPart.n)
    )
    return list(rows)


async def upload_status(*, actor: Actor | None, upload_id: uuid.UUID | str) -> UploadStatusOut:
    """Which parts of my upload arrived (a resuming client sends the others) and its state."""
    actor = _uploader(actor)
    upload = await _own_upload(actor, upload_id)
    parts = await _received(upload["id"])
    return UploadStatusOut(
        received=[int(row["n"]) for row in parts],
        state=upload["state"],
        part_size=int(upload["part_size"]),
        part_count=int(upload["part_count"]),
        size=int(upload["size"]),
    )


async def _assemble(upload: dict[str, Any], parts: list[dict[str, Any]]) -> None:
    """Have the S3 server join the parts. Done already (a concurrent or interrupted completion) is fine."""
    key = upload["storage_key"]
    try:
        await storage_multipart_complete(
            key, upload["s3_upload_id"], [(int(row["n"]), row["etag"]) for row in parts]
        )
    except Exception as error:
        code = storage_error_code(error)
        if code == S3_NO_SUCH_UPLOAD:
            if await storage_size(key) == upload["size"]:
                return
            await _s3_upload_lost(upload)
        if code in ("InvalidPart", "InvalidPartOrder"):  # a part was re-sent while completing
            raise Conflict("upload.parts_changed") from error
        if await storage_size(key) == upload["size"]:  # joined meanwhile by another process
            return
        raise


async def _version_record(upload: dict[str, Any]) -> tuple[int | None, int | None]:
    """Mark the upload completed and add the course version, once: (version id, outbox event id)."""
    upload_id = upload["id"]
    for attempt in range(COMPLETE_ATTEMPTS):
        try:
            async with write_transaction(Upload):
                # Claiming the row first: a concurrent completion waits here, then finds it taken.
                claimed = (
                    await Upload.update({Upload.state: STATE_COMPLETED, Upload.touched_at: now()})
                    .where((Upload.id == upload_id) & (Upload.state == STATE_OPEN))
                    .returning(Upload.id)
                )
                if claimed:
                    version_id, event_id = await video_received(
                        course_id=int(upload["course"]),
                        source_key=upload["storage_key"],
                        size=int(upload["size"]),
                    )
                    await Upload.update({Upload.version: version_id}).where(Upload.id == upload_id)
                    return version_id, event_id
            break
        except Exception as error:
            if attempt + 1 >= COMPLETE_ATTEMPTS or not unique_violation(error):
                raise
    row = await Upload.select(Upload.state, Upload.version).where(Upload.id == upload_id).first()
    if row is None:
        raise NotFound()
    if row["state"] != STATE_COMPLETED:  # cancelled or aborted while the parts were being joined
        await storage_delete(upload["storage_key"])
        raise Conflict("upload.aborted")
    return row["version"], None


def _completion_lock(upload_id: uuid.UUID) -> asyncio.Lock:
    """One completion of an upload at a time in this process (kept while someone holds it)."""
    lock = _completing.get(upload_id)
    if lock is None:
        lock = _completing[upload_id] = asyncio.Lock()
    return lock


async def upload_complete(*, actor: Actor | None, upload_id: uuid.UUID | str) -> UploadCompletedOut:
    """All parts arrived: assemble the video and hand it to processing. Completing again is harmless."""
    actor = _uploader(actor)
    upload = await _own_upload(actor, upload_id)
    # A double tap completes once: the second waits here, then finds the upload completed. (Across
    # processes the S3 join is idempotent below and the database claim decides.)
    async with _completion_lock(upload["id"]):
        upload = await _own_upload(actor, upload_id)
        if upload["course"] is None:
            raise NotFound()
        course_id = int(upload["course"])
        if upload["state"] == STATE_COMPLETED:
            return UploadCompletedOut(course_id=course_id, version_id=upload["version"])
        _require_open(upload)
        course_manage_check(await viewer_for(actor), await course_facts(course_id))
        parts = await _received(upload["id"])
        missing = int(upload["part_count"]) - len(parts)
        if missing > 0:
            raise ValidationFailed("upload.parts_missing", count=missing)
        if not upload["sniffed_type"]:
            raise ValidationFailed("upload.not_video", field="file")
        await _assemble(upload, parts)
        version_id, event_id = await _version_record(upload)
    if event_id is not None:
        await outbox_kick([event_id])
    return UploadCompletedOut(course_id=course_id, version_id=version_id)


async def _discard(upload: dict[str, Any]) -> bool:
    """Abort the S3 upload, then mark the row aborted (when still open). True when this call did it."""
    await storage_multipart_abort(upload["storage_key"], upload["s3_upload_id"])
    aborted = (
        await Upload.update({Upload.state: STATE_ABORTED, Upload.touched_at: now()})
        .where((Upload.id == upload["id"]) & (Upload.state == STATE_OPEN))
        .returning(Upload.id)
    )
    return bool(aborted)


async def upload_cancel(*, actor: Actor | None, upload_id: uuid.UUID | str) -> None:
    """Stop my upload and discard its parts. Cancelling again is harmless; a completed one stays."""
    actor = _uploader(actor)
    upload = await _own_upload(actor, upload_id)
    if upload["state"] == STATE_ABORTED:
        return
    if upload["state"] == STATE_COMPLETED:
        raise Conflict("upload.completed")
    await _discard(upload)


async def _abort_claimed(rows: list[dict[str, Any]]) -> None:
    """Best effort for rows already marked aborted: drop their parts and any assembled object."""
    for row in rows:
        try:
            await storage_multipart_abort(row["storage_key"], row["s3_upload_id"])
            await storage_delete(row["storage_key"])
        except Exception:
            logger.warning("could not discard the stored parts of upload %s", row["id"], exc_info=True)


async def uploads_abort_idle(ctx: dict[str, Any]) -> int:
    """arq cron: abort uploads still open with no part for IDLE_AFTER. Returns how many it aborted."""
    cutoff = now() - IDLE_AFTER
    total = 0
    while True:
        idle = (
            await Upload.select(Upload.id)
            .where((Upload.state == STATE_OPEN) & (Upload.touched_at < cutoff))
            .limit(IDLE_BATCH)
        )
        if not idle:
            return total
        # Claimed in the database first: a part arriving now is refused instead of landing in a
        # discarded upload.
        claimed = (
            await Upload.update({Upload.state: STATE_ABORTED})
            .where(
                Upload.id.is_in([row["id"] for row in idle])
                & (Upload.state == STATE_OPEN)
                & (Upload.touched_at < cutoff)
            )
            .returning(Upload.id, Upload.storage_key, Upload.s3_upload_id)
        )
        await _abort_claimed(list(claimed))
        total += len(claimed)
        if len(idle) < IDLE_BATCH:
            return total


async def uploads_abort_for_course(*, course_id: int) -> int:
    """Abort a course's open uploads (call before deleting the course: its rows go with it)."""
    claimed = (
        await Upload.update({Upload.state: STATE_ABORTED, Upload.touched_at: now()})
        .where((Upload.course == course_id) & (Upload.state == STATE_OPEN))
        .returning(Upload.id, Upload.storage_key, Upload.s3_upload_id)
    )
    await _abort_claimed(list(claimed))
    return len(claimed)
