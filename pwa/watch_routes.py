"""Plain course pages that work without the ReactPy socket: /watch/{id} (offline once saved) and /saved.

Both are server-rendered HTML plus plain scripts (player.js, offline_courses.js), so the service worker
can keep and serve them without a network. Every string is rendered in the user's language; the
scripts read what they need to say from data attributes.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any
from urllib.parse import quote

from litestar import MediaType, Request, get
from litestar.params import FromPath
from litestar.response import Redirect, Template

from backend.courses.access import STATUS_PUBLISHED
from backend.courses.routes import id_in_range
from backend.courses.schemas import CourseOut
from backend.courses.selectors import course_get
from backend.courses.services import course_view_record
from backend.lib.errors import AppError, NotFound
from backend.lib.http import actor_from_connection, request_locale
from backend.lib.i18n import translate
from pwa.routes import shell_context

# The "save for offline" button: data-offline-label-<state> -> catalog key. Any page rendering the
# button (this one, the ReactPy course page) uses `offline_save_attributes` so player.js can switch labels.
OFFLINE_LABELS = {
    "save": "player.offline_save",
    "saving": "player.offline_saving",
    "saving-unknown": "player.offline_saving_unknown",
    "saved": "player.offline_saved",
    "failed": "player.offline_failed",
    "quota": "player.offline_quota",
    "offline": "player.offline_offline",
    "unsupported": "player.offline_unsupported",
}
# The micro-lesson template, in its order: 问题 → 案例 → 方法.
SECTIONS = (("problem", "player.problem"), ("case_text", "player.case"), ("method", "player.method"))
_PAGE_HEADERS = {"Cache-Control": "no-cache, private", "Vary": "Cookie, Accept-Language"}


def progress_url(course_id: int) -> str:
    return f"/api/v1/courses/{course_id}/progress"


def offline_save_attributes(locale: str, course_id: int) -> dict[str, str]:
    """Data attributes of a "save for offline" button: player.js saves the course when it is tapped."""
    attributes = {"data-offline-save": str(course_id)}
    for state, key in OFFLINE_LABELS.items():
        attributes[f"data-offline-label-{state}"] = translate(locale, key, percent="{percent}")
    return attributes


def video_attributes(course: CourseOut, employee_id: int | None) -> dict[str, str]:
    """Data attributes of the course's <video>: player.js resumes it and reports watched intervals.

    Progress is only reported on published courses by people with an employee record (the API's rule).
    """
    attributes = {
        "data-course-id": str(course.id),
        "data-position": f"{course.my_progress.position:.2f}",
        "data-duration": f"{course.duration:.2f}",
        # When this page was drawn: a position this phone recorded later (offline) wins over ours.
        "data-rendered-at": str(int(time.time() * 1000)),
    }
    if course.status == STATUS_PUBLISHED and employee_id is not None:
        attributes["data-progress-url"] = progress_url(course.id)
        attributes["data-viewer"] = str(employee_id)
    if course.current_version_id is not None:
        # Progress counts against the video this page plays, even after the trainer replaced it.
        attributes["data-version-id"] = str(course.current_version_id)
    return attributes


def duration_text(seconds: float) -> str:
    whole = max(0, round(seconds))
    return f"{whole // 60}:{whole % 60:02d}"


@get("/watch/{course_id:int}", include_in_schema=False, media_type=MediaType.HTML)
async def watch_page(request: Request[Any, Any, Any], course_id: FromPath[int]) -> Template | Redirect:
    """A course's video and its 问题/案例/方法: plain HTML the service worker keeps when saved for offline.
    Opening it counts a view of the course, as the ReactPy course page does."""
    actor = await actor_from_connection(request)
    if actor is None:
        return Redirect(f"/login?next={quote(request.url.path, safe='/')}", status_code=303)
    locale = request_locale(request, actor)
    context = shell_context(locale)
    try:
        if not id_in_range(course_id):
            raise NotFound()
        # A view counts people who may watch (once per half hour), as on the ReactPy course page; it
        # is also where their first progress report is measured from (backend.courses.progress).
        with contextlib.suppress(AppError):
            await course_view_record(actor=actor, course_id=course_id)
        course = await course_get(actor=actor, course_id=course_id)
    except NotFound:
        context.update(found=False, title=translate(locale, "player.not_found_title"))
        return Template(template_name="watch.html", context=context, status_code=404, headers=_PAGE_HEADERS)
    sections = [
        {"id": field.replace("_text", ""), "label": translate(locale, key), "text": getattr(course, field)}
        for field, key in SECTIONS
        if getattr(course, field).strip()
    ]
    progress = course.my_progress
    context.update(
        found=True,
        title=f"{course.title} · {translate(locale, 'player.page_title')}",
        course=course,
        sections=sections,
        duration_text=duration_text(course.duration) if course.duration else "",
        watched_percent=round(progress.watched_ratio * 100),
        video=video_attributes(course, actor.employee_id),
        offline_button=offline_save_attributes(locale, course.id) if course.video_url else {},
        # What offline_courses.js keeps about a saved course (read from this page when saving it).
        data={
            "id": course.id,
            "title": course.title,
            "duration": course.duration,
            "video_url": course.video_url,
            "poster_url": course.poster_url,
            "version_id": course.current_version_id,
        },
    )
    return Template(template_name="watch.html", context=context, headers=_PAGE_HEADERS)


@get("/saved", include_in_schema=False, media_type=MediaType.HTML)
async def saved_page(request: Request[Any, Any, Any]) -> Template:
    """Courses saved on this phone (read from Cache Storage by offline_courses.js); works offline.

    Nothing personal is rendered, so the service worker precaches it like the offline page.
    """
    locale = request_locale(request, await actor_from_connection(request))
    context = shell_context(locale)
    context.update(
        title=translate(locale, "saved_courses.page_title"),
        messages={
            name: translate(locale, f"saved_courses.{name}")
            for name in (
                "summary",
                "device",
                "size",
                "saved_at",
                "watch",
                "remove",
                "remove_label",
                "confirm_text",
                "removed",
                "remove_failed",
            )
        },
    )
    return Template(template_name="saved.html", context=context, headers={"Cache-Control": "no-cache"})


def watch_route_handlers() -> list[Any]:
    return [watch_page, saved_page]
