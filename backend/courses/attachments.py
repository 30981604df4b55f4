"""Course attachments (PDF, PowerPoint, audio): sniffed from their content, stored under server-made keys.

The kind is decided by the bytes, never by the name or the declared type: a renamed file that is not
what it claims to be is refused with a message the trainer understands. Only the course's author
and HR add or remove attachments; a course holds at most ATTACHMENTS_MAX of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import re
import unicodedata
import uuid
import zipfile
from dataclasses import dataclass
from typing import IO, Any, BinaryIO, cast

from backend.courses.access import course_manage_check
from backend.courses.facts import course_facts, viewer_for
from backend.courses.schemas import AttachmentOut
from backend.courses.tables import Course, CourseAttachment
from backend.courses.urls import attachment_key, attachment_url
from backend.lib.db import write_transaction
from backend.lib.errors import Conflict, NotFound, ValidationFailed
from backend.lib.policy import Actor
from backend.lib.runtime import runtime_get
from backend.lib.storage import storage_delete

ATTACHMENT_MAX_BYTES = 50 * 1024 * 1024
ATTACHMENTS_MAX = 10
FILENAME_MAX = 120
KIND_PDF = "pdf"
KIND_PPT = "ppt"
KIND_AUDIO = "audio"
KINDS = (KIND_PDF, KIND_PPT, KIND_AUDIO)

_OLE_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")
# The stream every binary PowerPoint file has, as its OLE directory spells it (UTF-16LE).
_PPT_STREAM = "PowerPoint Document".encode("utf-16-le")
_SCAN_CHUNK = 1024 * 1024
_MPEG_BITRATE_BAD = 0x0F
_MPEG_RATE_BAD = 0x03


@dataclass(frozen=True)
class Sniffed:
    """What a file's bytes say it is."""

    kind: str
    content_type: str
    extensions: tuple[str, ...]


PDF = Sniffed(KIND_PDF, "application/pdf", (".pdf",))
PPT = Sniffed(KIND_PPT, "application/vnd.ms-powerpoint", (".ppt", ".pps", ".pot"))
PPTX = Sniffed(
    KIND_PPT,
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    (".pptx", ".ppsx", ".potx"),
)
MP3 = Sniffed(KIND_AUDIO, "audio/mpeg", (".mp3", ".mp2", ".aac"))
M4A = Sniffed(KIND_AUDIO, "audio/mp4", (".m4a", ".m4b", ".mp4"))
OGG = Sniffed(KIND_AUDIO, "audio/ogg", (".ogg", ".oga", ".opus"))
WAV = Sniffed(KIND_AUDIO, "audio/wav", (".wav",))
FLAC = Sniffed(KIND_AUDIO, "audio/flac", (".flac",))


def _mpeg_frame(head: bytes) -> bool:
    """An MPEG audio frame header (or AAC ADTS): 11 sync bits, then no reserved field values."""
    if len(head) < 4 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return False
    if head[1] & 0x16 == 0x10:  # ADTS: MPEG version bit set, layer 00
        return True
    version, layer = (head[1] >> 3) & 0x03, (head[1] >> 1) & 0x03
    bitrate, rate = head[2] >> 4, (head[2] >> 2) & 0x03
    return version != 1 and layer != 0 and bitrate != _MPEG_BITRATE_BAD and rate != _MPEG_RATE_BAD


def _contains(stream: IO[bytes], needle: bytes) -> bool:
    """Whether `needle` occurs anywhere in the stream, read a chunk at a time."""
    stream.seek(0)
    tail = b""
    while chunk := stream.read(_SCAN_CHUNK):
        if needle in tail + chunk:
            return True
        tail = chunk[-len(needle) :]
    return False


def _is_presentation_zip(stream: IO[bytes]) -> bool:
    stream.seek(0)
    try:
        with zipfile.ZipFile(stream) as archive:
            return any(name.startswith("ppt/") for name in archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return False


def attachment_sniff(stream: IO[bytes]) -> Sniffed | None:
    """The kind of a (seekable) file from its content, or None when it is not a PDF, PPT or audio."""
    stream.seek(0)
    head = stream.read(64)
    found: Sniffed | None = None
    if head.startswith(b"%PDF-"):
        found = PDF
    elif head.startswith(_OLE_MAGIC):
        found = PPT if _contains(stream, _PPT_STREAM) else None
    elif head.startswith(b"PK\x03\x04"):
        found = PPTX if _is_presentation_zip(stream) else None
    elif head.startswith(b"ID3") or _mpeg_frame(head):
        found = MP3
    elif head[4:8] == b"ftyp" and b"M4A " in head[8:64]:
        found = M4A
    elif head.startswith(b"OggS"):
        found = OGG
    elif head.startswith(b"RIFF") and head[8:12] == b"WAVE":
        found = WAV
    elif head.startswith(b"fLaC"):
        found = FLAC
    stream.seek(0)
    return found


_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]+')
_SPACES = re.compile(r"\s+")


def attachment_filename(raw: str, sniffed: Sniffed) -> str:
    """A display and download name: no folders or control characters, bounded, with a fitting extension."""
    name = unicodedata.normalize("NFC", raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = _SPACES.sub(" ", _UNSAFE.sub("_", name)).strip(" ._")
    stem, dot, extension = name.rpartition(".")
    if not dot:
        stem, extension = name, ""
    extension = f".{extension.lower()}" if extension else ""
    if extension not in sniffed.extensions:
        stem, extension = (name or "attachment"), sniffed.extensions[0]
    stem = stem[: FILENAME_MAX - len(extension)].rstrip(" ._") or "attachment"
    return stem + extension


def _attachment_out(course_id: int, row: dict[str, Any]) -> AttachmentOut:
    return AttachmentOut(
        id=int(row["id"]),
        kind=str(row["kind"]),
        filename=str(row["filename"]),
        size=int(row["size"]),
        url=attachment_url(course_id, int(row["id"])),
    )


async def _manage_check(actor: Actor | None, course_id: int) -> Actor:
    viewer = await viewer_for(actor)
    return course_manage_check(viewer, await course_facts(course_id))


async def _count(course_id: int) -> int:
    return int(await CourseAttachment.count().where(CourseAttachment.course == course_id))


def _store(stream: IO[bytes], key: str, size: int, content_type: str) -> None:
    runtime = runtime_get()
    stream.seek(0)
    runtime.storage.put_object(
        runtime.settings.storage.bucket, key, cast(BinaryIO, stream), size, content_type=content_type
    )


def _stream_size(stream: IO[bytes]) -> int:
    stream.seek(0, 2)
    size = stream.tell()
    stream.seek(0)
    return size


async def attachment_add(
    *, actor: Actor | None, course_id: int, filename: str, stream: IO[bytes]
) -> AttachmentOut:
    """Add a PDF, PowerPoint or audio file (a seekable stream, read in a thread) to a course."""
    await _manage_check(actor, course_id)
    size = await asyncio.to_thread(_stream_size, stream)
    if size == 0:
        raise ValidationFailed("attachment.empty", field="file")
    if size > ATTACHMENT_MAX_BYTES:
        raise ValidationFailed("attachment.too_large", field="file", max_mb=ATTACHMENT_MAX_BYTES // 2**20)
    if await _count(course_id) >= ATTACHMENTS_MAX:
        raise Conflict("attachment.too_many", field="file", max=ATTACHMENTS_MAX)
    sniffed = await asyncio.to_thread(attachment_sniff, stream)
    if sniffed is None:
        raise ValidationFailed("attachment.unsupported", field="file")
    name = attachment_filename(filename, sniffed)
    key = attachment_key(course_id, uuid.uuid4().hex)
    await asyncio.to_thread(_store, stream, key, size, sniffed.content_type)
    try:
        async with write_transaction(CourseAttachment):
            # Touching the course first locks its row: two uploads at once cannot both pass the count.
            touched = (
                await Course.update({Course.updated_at: dt.datetime.now(dt.UTC)})
                .where(Course.id == course_id)
                .returning(Course.id)
            )
            if not touched:
                raise NotFound()
            if await _count(course_id) >= ATTACHMENTS_MAX:
                raise Conflict("attachment.too_many", field="file", max=ATTACHMENTS_MAX)
            rows = await CourseAttachment.insert(
                CourseAttachment(
                    course=course_id,
                    kind=sniffed.kind,
                    filename=name,
                    content_type=sniffed.content_type,
                    storage_key=key,
                    size=size,
                )
            ).returning(CourseAttachment.id)
    except BaseException:
        with contextlib.suppress(Exception):
            await storage_delete(key)
        raise
    return _attachment_out(
        course_id, {"id": rows[0]["id"], "kind": sniffed.kind, "filename": name, "size": size}
    )


async def attachment_list(*, actor: Actor | None, course_id: int) -> list[AttachmentOut]:
    """A course's attachments, oldest first, for whoever manages it."""
    await _manage_check(actor, course_id)
    rows = (
        await CourseAttachment.select(
            CourseAttachment.id, CourseAttachment.kind, CourseAttachment.filename, CourseAttachment.size
        )
        .where(CourseAttachment.course == course_id)
        .order_by(CourseAttachment.id)
    )
    return [_attachment_out(course_id, row) for row in rows]


async def attachment_delete(*, actor: Actor | None, course_id: int, attachment_id: int) -> None:
    """Remove an attachment: its row, then its stored object."""
    await _manage_check(actor, course_id)
    async with write_transaction(CourseAttachment):
        row = (
            await CourseAttachment.select(CourseAttachment.storage_key)
            .where((CourseAttachment.id == attachment_id) & (CourseAttachment.course == course_id))
            .first()
        )
        if row is None:
            raise NotFound()
        await CourseAttachment.delete().where(CourseAttachment.id == attachment_id)
    # The row is gone: a failed object removal leaves only an unreachable object behind.
    with contextlib.suppress(Exception):
        await storage_delete(str(row["storage_key"]))
