"""Course media: Range streaming (embedded) or a presigned redirect (MinIO), after the viewer's check.

GET and HEAD on
  /media/courses/{c}/versions/{v}/video.mp4 and .../poster.jpg   (any ready version: old ones stay playable)
  /media/courses/{c}/attachments/{a}
answer 404 to anyone who may not see the course (401 when signed out).

Streaming (RFC 7233, one range): no Range → 200 with the whole object; `bytes=a-b`, `bytes=a-` and the
suffix `bytes=-n` → 206 with Content-Range; a start at or past the end → 416 with `bytes */size`.
HEAD gets the same status and headers without a body, in redirect mode too (a presigned URL is
signed for GET only).
A malformed Range header, or several ranges, is ignored (200 with the whole object), as the RFC
allows. If-Range is not consulted: objects are never rewritten under a key (each version and
attachment gets its own), so a range of an ETag a client holds is always that ETag's range.
The object is read from S3 with offset/length in 256 KiB chunks, never whole: the embedded S3 server
answers ranges with 200 + Content-Range, so the status and headers sent here are made here.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import functools
import ipaddress
import logging
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from litestar import Controller, Request, Response, route
from litestar.enums import HttpMethod
from litestar.params import FromPath
from litestar.response import Redirect, Stream
from litestar.response.base import ASGIResponse
from minio import Minio
from minio.error import MinioException, S3Error

from backend.courses.access import VERSION_READY, course_see_check
from backend.courses.facts import course_facts, viewer_for
from backend.courses.routes import ids_guard
from backend.courses.tables import CourseAttachment, CourseVersion
from backend.lib.errors import NotFound
from backend.lib.http import ActorDep
from backend.lib.policy import Actor
from backend.lib.runtime import runtime_get
from backend.settings import StorageSettings

logger = logging.getLogger("learnloop")

CHUNK_BYTES = 256 * 1024
PRESIGNED_LIFETIME = dt.timedelta(minutes=10)
# Objects never change under their key, so a private copy may be reused for a while.
CACHE_CONTROL = "private, max-age=3600"
# A redirect is reused well within the presigned URL's lifetime.
REDIRECT_CACHE_CONTROL = "private, max-age=300"
INLINE_ATTACHMENT_TYPES = ("application/pdf", "audio/")
_RANGE = re.compile(r"^\s*bytes\s*=\s*(\d{0,18})\s*-\s*(\d{0,18})\s*$", re.IGNORECASE)
_CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+)$")
METHODS = [HttpMethod.GET, HttpMethod.HEAD]
VERSION_FILES = {"video.mp4": "video", "poster.jpg": "poster"}  # see backend/courses/urls.py


@dataclass(frozen=True)
class MediaObject:
    """What /media hands out: a stored object, its type and (attachments) its download name."""

    key: str
    content_type: str
    filename: str = ""


# --- who may have which object -------------------------------------------------------------------


async def _see(actor: Actor | None, course_id: int) -> None:
    viewer = await viewer_for(actor)
    course_see_check(viewer, await course_facts(course_id))


async def version_media(*, actor: Actor | None, course_id: int, version_id: int, part: str) -> MediaObject:
    """The video (part "video") or poster (part "poster") of a ready version of a course I may see."""
    await _see(actor, course_id)
    row = (
        await CourseVersion.select(CourseVersion.video_key, CourseVersion.poster_key)
        .where(
            (CourseVersion.id == version_id)
            & (CourseVersion.course == course_id)
            & (CourseVersion.state == VERSION_READY)
        )
        .first()
    )
    key = str(row[f"{part}_key"] or "") if row else ""
    if not key:
        raise NotFound()
    return MediaObject(key=key, content_type="video/mp4" if part == "video" else "image/jpeg")


async def attachment_media(*, actor: Actor | None, course_id: int, attachment_id: int) -> MediaObject:
    """An attachment of a course I may see."""
    await _see(actor, course_id)
    row = (
        await CourseAttachment.select(
            CourseAttachment.storage_key, CourseAttachment.content_type, CourseAttachment.filename
        )
        .where((CourseAttachment.id == attachment_id) & (CourseAttachment.course == course_id))
        .first()
    )
    if row is None or not row["storage_key"]:
        raise NotFound()
    return MediaObject(
        key=str(row["storage_key"]),
        content_type=str(row["content_type"] or "application/octet-stream"),
        filename=str(row["filename"] or ""),
    )


# --- Range arithmetic ----------------------------------------------------------------------------


def range_requested(header: str | None) -> tuple[int | None, int | None] | None:
    """The one byte range a Range header asks for: (start, end or None), or (None, n) for the last n
    bytes. None when there is no header, or one to ignore (malformed, several ranges, end < start)."""
    if not header:
        return None
    match = _RANGE.match(header)
    if match is None:  # not bytes=, or a list of ranges
        return None
    first, last = match.group(1), match.group(2)
    if not first:
        return (None, int(last)) if last else None
    start = int(first)
    if last and int(last) < start:
        return None
    return start, int(last) if last else None


def range_resolve(wanted: tuple[int | None, int | None], size: int) -> tuple[int, int] | None:
    """The inclusive (first, last) byte positions of a requested range in an object of `size` bytes;
    None when it cannot be satisfied (it starts at or past the end)."""
    start, end = wanted
    if start is None:
        assert end is not None
        return (max(0, size - end), size - 1) if size > 0 and end > 0 else None
    if start >= size:
        return None
    return start, size - 1 if end is None else min(end, size - 1)


def content_disposition(filename: str, *, inline: bool) -> str:
    """`filename` for every browser: an ASCII fallback plus the UTF-8 name (RFC 5987/6266)."""
    fallback = "".join(c if 32 <= ord(c) < 127 and c not in '"\\;' else "_" for c in filename) or "download"
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def _object_headers(media: MediaObject, *, etag: str, last_modified: str) -> dict[str, str]:
    headers = {
        "Accept-Ranges": "bytes",
        "Content-Type": media.content_type,
        "Cache-Control": CACHE_CONTROL,
        "X-Content-Type-Options": "nosniff",
    }
    if etag:
        headers["ETag"] = etag if etag.startswith(('"', "W/")) else f'"{etag}"'
    if last_modified:
        headers["Last-Modified"] = last_modified
    if media.filename:
        inline = media.content_type.startswith(INLINE_ATTACHMENT_TYPES)
        headers["Content-Disposition"] = content_disposition(media.filename, inline=inline)
    return headers


# --- delivery --------------------------------------------------------------------------------------


def media_delivery_mode(storage: StorageSettings) -> str:
    """ "stream" or "redirect". "auto" streams from a loopback S3 server (the embedded one), which
    browsers cannot reach, and redirects to any other."""
    if storage.media_delivery != "auto":
        return storage.media_delivery
    host = urlsplit(f"//{storage.endpoint}").hostname or ""
    if not host or host == "localhost":
        return "stream"
    try:
        return "stream" if ipaddress.ip_address(host).is_loopback else "redirect"
    except ValueError:
        return "redirect"


@functools.cache
def _signer(endpoint: str, access_key: str, secret_key: str, region: str, secure: bool) -> Minio:
    # With the region given the SDK never asks the server: presigning is local CPU only.
    return Minio(endpoint, access_key=access_key, secret_key=secret_key, secure=secure, region=region)


def presigned_media_url(storage: StorageSettings, media: MediaObject) -> str:
    """A GET URL for the object, valid PRESIGNED_LIFETIME, signed for the host browsers use."""
    public = storage.public_endpoint or storage.endpoint
    secure = storage.secure
    if "://" in public:
        parts = urlsplit(public)
        public, secure = parts.netloc, parts.scheme == "https"
    signer = _signer(public, storage.access_key, storage.secret_key, storage.region, secure)
    response_headers: dict[str, str | list[str] | tuple[str]] = {"response-content-type": media.content_type}
    if media.filename:
        inline = media.content_type.startswith(INLINE_ATTACHMENT_TYPES)
        response_headers["response-content-disposition"] = content_disposition(media.filename, inline=inline)
    return signer.presigned_get_object(
        storage.bucket, media.key, expires=PRESIGNED_LIFETIME, response_headers=response_headers
    )


def _http_date(value: dt.datetime | None) -> str:
    return email.utils.format_datetime(value.astimezone(dt.UTC), usegmt=True) if value else ""


def _storage_status(exc: MinioException) -> int | None:
    """The HTTP status behind an SDK error (the embedded server's text/xml errors come as
    InvalidResponseError, MinIO's as S3Error)."""
    if isinstance(exc, S3Error):
        return int(exc.response.status) if exc.response is not None else None
    code = getattr(exc, "_code", None)
    return code if isinstance(code, int) else None


def _not_stored(media: MediaObject) -> NotFound:
    logger.warning("media object %s is missing from the bucket", media.key)
    return NotFound()


async def _stat(media: MediaObject) -> tuple[int, str, str]:
    """(size, etag, last modified) of the object; 404 when it is not stored."""
    runtime = runtime_get()
    try:
        stat = await asyncio.to_thread(
            runtime.storage.stat_object, runtime.settings.storage.bucket, media.key
        )
    except MinioException as exc:
        if _storage_status(exc) == 404:
            raise _not_stored(media) from None
        raise
    return int(stat.size or 0), str(stat.etag or ""), _http_date(stat.last_modified)


def _unsatisfiable(size: int) -> Response[bytes]:
    return Response(
        b"",
        status_code=416,
        media_type="text/plain",
        headers={"Content-Range": f"bytes */{size}", "Accept-Ranges": "bytes", "Cache-Control": "no-store"},
    )


async def _chunks(response: Any, length: int) -> AsyncIterator[bytes]:
    """`length` bytes of an open S3 response, CHUNK_BYTES at a time, read in a worker thread."""
    complete = False
    try:
        remaining = length
        while remaining > 0:
            chunk = await asyncio.to_thread(response.read, min(CHUNK_BYTES, remaining))
            if not chunk:
                logger.warning("media object ended %d bytes early", remaining)
                break
            remaining -= len(chunk)
            yield chunk
        complete = remaining == 0
    finally:
        response.close()  # a client gone mid-stream: the half-read connection is dropped, not reused
        if complete:
            response.release_conn()


class RangeStream(Stream):
    """A streamed object with its own Content-Length; for HEAD, the same headers and no body."""

    def __init__(
        self, body: AsyncIterator[bytes] | None, *, status_code: int, headers: dict[str, str]
    ) -> None:
        super().__init__(
            body if body is not None else iter(()),
            status_code=status_code,
            headers=headers,
            media_type=headers["Content-Type"],
        )
        self.head = body is None

    def to_asgi_response(self, app: Any, request: Request[Any, Any, Any], **kwargs: Any) -> ASGIResponse:
        kwargs["is_head_response"] = self.head  # Litestar would otherwise stream a HEAD's body
        return super().to_asgi_response(app, request, **kwargs)


async def _open(media: MediaObject, offset: int, length: int) -> Any:
    """The object from `offset` (`length` bytes, 0: to the end) as an unread S3 response."""
    runtime = runtime_get()
    try:
        return await asyncio.to_thread(
            runtime.storage.get_object,
            runtime.settings.storage.bucket,
            media.key,
            offset=offset,
            length=length,
        )
    except MinioException as exc:
        if _storage_status(exc) == 404:
            raise _not_stored(media) from None
        raise


async def media_stream(media: MediaObject, *, range_header: str | None, head: bool) -> Response[Any]:
    """The object, or the byte range asked for, as a streamed response (see the module docstring)."""
    wanted = range_requested(range_header)
    if head:
        size, etag, modified = await _stat(media)
        span = range_resolve(wanted, size) if wanted is not None else None
        if wanted is not None and span is None:
            return _unsatisfiable(size)
        headers = _object_headers(media, etag=etag, last_modified=modified)
        if span is not None:
            headers["Content-Range"] = f"bytes {span[0]}-{span[1]}/{size}"
        headers["Content-Length"] = str(size if span is None else span[1] - span[0] + 1)
        return RangeStream(None, status_code=200 if span is None else 206, headers=headers)
    if wanted is None:
        response = await _open(media, 0, 0)
        length = int(response.headers.get("Content-Length", "0"))
        headers = _response_headers(media, response, length)
        return RangeStream(_chunks(response, length), status_code=200, headers=headers)
    start, end = wanted
    if start is None:  # the last n bytes: the size comes first
        size = (await _stat(media))[0]
        span = range_resolve(wanted, size)
        if span is None:
            return _unsatisfiable(size)
        start, end = span
    try:
        response = await _open(media, start, 0 if end is None else end - start + 1)
    except MinioException as exc:
        if _storage_status(exc) != 416:
            raise
        return _unsatisfiable((await _stat(media))[0])
    first, last, size = _range_stored(media, response, start)
    if size <= first:
        _discard(response)
        return _unsatisfiable(size)
    headers = _response_headers(media, response, last - first + 1)
    headers["Content-Range"] = f"bytes {first}-{last}/{size}"
    return RangeStream(_chunks(response, last - first + 1), status_code=206, headers=headers)


def _range_stored(media: MediaObject, response: Any, start: int) -> tuple[int, int, int]:
    """(first, last, size) of what the object store sent for a request from `start`."""
    content_range = _CONTENT_RANGE.match(response.headers.get("Content-Range", ""))
    if content_range is not None:
        first, last, size = (int(value) for value in content_range.groups())
        return first, last, size
    if start == 0:  # bytes=0- goes to S3 without a Range header: the whole object comes back
        size = int(response.headers.get("Content-Length", "0"))
        return 0, size - 1, size
    _discard(response)
    raise RuntimeError(f"the object store ignored a Range request for {media.key}")


def _response_headers(media: MediaObject, response: Any, length: int) -> dict[str, str]:
    headers = _object_headers(
        media, etag=response.headers.get("ETag", ""), last_modified=response.headers.get("Last-Modified", "")
    )
    headers["Content-Length"] = str(length)
    return headers


def _discard(response: Any) -> None:
    response.close()
    response.release_conn()


async def media_answer(request: Request[Any, Any, Any], media: MediaObject) -> Response[Any]:
    """Stream or redirect, as the settings say. A HEAD is always answered here, from the object's
    metadata: a presigned URL is signed for GET, and S3 refuses it for any other method."""
    storage: StorageSettings = request.app.state.settings.storage
    head = request.method == HttpMethod.HEAD
    if not head and media_delivery_mode(storage) == "redirect":
        return Redirect(
            presigned_media_url(storage, media),
            status_code=302,
            headers={"Cache-Control": REDIRECT_CACHE_CONTROL},
        )
    return await media_stream(media, range_header=request.headers.get("range"), head=head)


class MediaController(Controller):
    path = "/media"
    tags = ("courses",)
    guards = (ids_guard,)

    @route(
        "/courses/{course_id:int}/versions/{version_id:int}/{file_name:str}",
        http_method=METHODS,
        summary="A course video (video.mp4: Range → 206, or 302 to a presigned URL) or its poster (poster.jpg)",
    )
    async def version_file(
        self,
        request: Request[Any, Any, Any],
        actor: ActorDep,
        course_id: FromPath[int],
        version_id: FromPath[int],
        file_name: FromPath[str],
    ) -> Response[Any]:
        part = VERSION_FILES.get(file_name)
        if part is None:
            raise NotFound()
        media = await version_media(actor=actor, course_id=course_id, version_id=version_id, part=part)
        return await media_answer(request, media)

    @route(
        "/courses/{course_id:int}/attachments/{attachment_id:int}",
        http_method=METHODS,
        summary="A course attachment (PDF, slides, audio)",
    )
    async def attachment(
        self,
        request: Request[Any, Any, Any],
        actor: ActorDep,
        course_id: FromPath[int],
        attachment_id: FromPath[int],
    ) -> Response[Any]:
        media = await attachment_media(actor=actor, course_id=course_id, attachment_id=attachment_id)
        return await media_answer(request, media)
