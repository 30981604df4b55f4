"""The studio's plain page: /studio/courses/{id}/upload records or chooses the video and uploads it.

Plain HTML plus upload.js, not a ReactPy page: a phone's camera, `File.slice` and resumable fetches
need the browser's own file input. Every string upload.js shows is rendered into the page in the
user's language.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from litestar import MediaType, Request, get
from litestar.params import FromPath
from litestar.response import Redirect, Template

from backend.courses.attachments import ATTACHMENT_MAX_BYTES, ATTACHMENTS_MAX
from backend.courses.routes import ids_guard
from backend.courses.selectors import course_get
from backend.courses.uploads import UPLOAD_MAX_BYTES
from backend.lib.errors import NotFound, PermissionDenied
from backend.lib.http import actor_from_connection, request_locale
from backend.lib.i18n import catalog, translate

_MESSAGE_PREFIX = "studio_upload."
# Parts in flight at once: two keep a phone's uplink busy while one waits for its answer.
PARALLEL_PARTS = 2
_HEADERS = {"Cache-Control": "no-cache, private", "Vary": "Cookie, Accept-Language"}
# What the attachment picker offers (the server decides by content; this only filters the picker).
ATTACHMENT_ACCEPT = ",".join(
    (
        ".pdf,.ppt,.pptx,.pps,.ppsx,.mp3,.m4a,.aac,.ogg,.oga,.opus,.wav,.flac",
        "application/pdf,application/vnd.ms-powerpoint",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation,audio/*",
    )
)


def upload_messages(locale: str) -> dict[str, str]:
    """Every studio_upload.* message (zh-CN has them all), unformatted: the script fills in {n}, {mb}..."""
    return {
        key.removeprefix(_MESSAGE_PREFIX): catalog(locale).get(key) or value
        for key, value in catalog("zh-CN").items()
        if key.startswith(_MESSAGE_PREFIX)
    }


@get(
    "/studio/courses/{course_id:int}/upload",
    include_in_schema=False,
    media_type=MediaType.HTML,
    guards=[ids_guard],  # an impossible id is a plain 404, not a database error
)
async def upload_page(request: Request[Any, Any, Any], course_id: FromPath[int]) -> Template | Redirect:
    """Record with the camera or choose a video, upload it resumably; add attachments. Author and HR."""
    from pwa.routes import shell_context  # pwa.routes gathers this module's handlers

    actor = await actor_from_connection(request)
    if actor is None:
        return Redirect(f"/login?next={quote(request.url.path, safe='/')}", status_code=303)
    locale = request_locale(request, actor)
    context = shell_context(locale)
    try:
        course = await course_get(actor=actor, course_id=course_id)
        if not course.can_manage:
            raise NotFound()
    except (NotFound, PermissionDenied):
        context.update(found=False, title=translate(locale, "studio_upload.not_found_title"))
        return Template(template_name="upload.html", context=context, status_code=404, headers=_HEADERS)
    data = {
        "course_id": course.id,
        "locale": locale,
        "messages": upload_messages(locale),
        "edit_href": f"/studio/courses/{course.id}",
        "video_max_bytes": UPLOAD_MAX_BYTES,
        "attachment_max_bytes": ATTACHMENT_MAX_BYTES,
        "attachments_max": ATTACHMENTS_MAX,
        "parallel": PARALLEL_PARTS,
    }
    context.update(
        found=True,
        title=f"{translate(locale, 'studio_upload.page_title')} · {course.title}",
        course=course,
        status_text=translate(locale, f"course.status.{course.status}"),
        attachment_accept=ATTACHMENT_ACCEPT,
        video_max_gib=UPLOAD_MAX_BYTES // 1024**3,
        attachment_max_mb=ATTACHMENT_MAX_BYTES // 1024**2,
        data=data,
    )
    return Template(template_name="upload.html", context=context, headers=_HEADERS)


# Litestar's router prefers a static segment over the shell's catch-all `/{path:path}`: once the upload
# page exists under /studio, the studio's ReactPy URLs must be routed to the page shell here.
STUDIO_SHELL_PATHS = [
    "/studio",
    "/studio/new",
    "/studio/courses/{course_id:int}",
    "/studio/courses/{course_id:int}/stats",
    "/studio/{rest:path}",
]


@get(STUDIO_SHELL_PATHS, include_in_schema=False, media_type=MediaType.HTML)
async def studio_shell(request: Request[Any, Any, Any]) -> Template:
    """The page shell (as pwa.routes.page_shell serves it) for the studio's ReactPy screens."""
    from pwa.routes import shell_context

    actor = await actor_from_connection(request)
    return Template(
        template_name="shell.html",
        context=shell_context(request_locale(request, actor)),
        headers={"Cache-Control": "no-cache"},
    )


def studio_route_handlers() -> list[Any]:
    """Register these with the PWA routes (pwa.routes.pwa_route_handlers)."""
    return [upload_page, studio_shell]
