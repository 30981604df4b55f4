"""One course: the player, its 问题 → 案例 → 方法 outline, attachments, rating, comments and related
courses. Opening the page counts a view. Anything I may not see is the not-found page.

The player is a plain <video>: pwa/static/player.js finds it by `data-progress-url`, resumes at
`data-position`, reports the watched intervals, and handles the `data-offline-save` button.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from reactpy import component, html, use_state

from backend.courses.access import STATUS_DRAFT, STATUS_FAILED, STATUS_PROCESSING, STATUS_PUBLISHED
from backend.courses.feedback import STARS_MAX, STARS_MIN, RatingOut, rating_clear, rating_set
from backend.courses.library import CourseCard, course_related
from backend.courses.schemas import AttachmentOut, CourseOut
from backend.courses.selectors import course_get
from backend.courses.services import course_view_record
from backend.lib.errors import AppError, NotFound
from backend.lib.policy import Actor, actor_require
from pwa.components.admin_widgets import use_loaded
from pwa.components.course_widgets import (
    CourseComments,
    course_cards,
    duration_text,
    progress_bar,
    rating_text,
    size_text,
)
from pwa.components.reflection_widgets import href_with, section_heading
from pwa.components.shell import AppShell, PageHeader
from pwa.components.widgets import EmptyState, FormError, Loading, Toast, error_text
from pwa.context import UIContext, use_app
from pwa.watch_routes import offline_save_attributes, video_attributes

SECTIONS = (
    ("problem", "course_page.problem"),
    ("case_text", "course_page.case"),
    ("method", "course_page.method"),
)


async def _open(actor: Actor, course_id: int) -> CourseOut:
    """Count my view (people who may watch it, once per half hour), then read the course."""
    # Not published, or not mine to watch: no view, and course_get says what I may see.
    with contextlib.suppress(AppError):
        await course_view_record(actor=actor, course_id=course_id)
    return await course_get(actor=actor, course_id=course_id)


def _shell(ctx: UIContext, title: str, *children: Any) -> Any:
    back = PageHeader(title=title, back_href="/courses", back_label=ctx.t("course_page.back"))
    return AppShell(ctx=ctx, active="courses", title=title, children=html.div(back, *children))


@component
def CourseDetailPage(*, course_id: int) -> Any:
    ctx = use_app()
    actor = actor_require(ctx.actor)
    toast, set_toast = use_state("")
    course = use_loaded(lambda: _open(actor, course_id), [actor.account_id, course_id])
    related = use_loaded(
        lambda: course_related(actor=actor, course_id=course_id), [actor.account_id, course_id]
    )
    if course is None:
        return _shell(ctx, ctx.t("courses.title"), Loading(label=ctx.t("course_page.loading")))
    if isinstance(course, NotFound):
        return _shell(
            ctx,
            ctx.t("courses.title"),
            EmptyState(
                icon="?",
                title=ctx.t("error.not_found"),
                text=ctx.t("course_page.not_found_text"),
                action=html.a(
                    {"className": "btn btn-primary", "href": "/courses"}, ctx.t("course_page.back")
                ),
            ),
        )
    if isinstance(course, AppError):
        return _shell(ctx, ctx.t("courses.title"), FormError(message=error_text(ctx, course)))
    may_take_part = course.status == STATUS_PUBLISHED and actor.employee_id is not None
    return _shell(
        ctx,
        course.title,
        _status_note(ctx, course),
        _player(ctx, course),
        _about(ctx, course),
        _outline(ctx, course),
        _attachments(ctx, course.attachments),
        StarRating(
            key=f"rating-{course.id}",
            course_id=course.id,
            initial=RatingOut(
                stars=course.my_rating, rating_avg=course.rating_avg, rating_count=course.rating_count
            ),
            can_rate=may_take_part,
            closed_text=ctx.t(
                "course_page.rating_employees_only"
                if course.status == STATUS_PUBLISHED
                else "course_page.rating_closed"
            ),
        ),
        CourseComments(
            key=f"comments-{course.id}", course_id=course.id, can_comment=may_take_part, on_toast=set_toast
        ),
        _related(ctx, related),
        Toast(message=toast or None),
    )


def _status_note(ctx: UIContext, course: CourseOut) -> Any:
    """What the author and HR need to know about a course that is not (only) playing."""
    if not course.can_manage:
        return ""
    edit = html.a({"className": "btn", "href": f"/studio/courses/{course.id}"}, ctx.t("course_page.edit"))
    if course.status == STATUS_FAILED:
        reason = (
            ctx.t(course.failure_reason) if course.failure_reason else ctx.t("course_page.failed_unknown")
        )
        text, tone = ctx.t("course_page.status_failed", reason=reason), "cl-note cl-note-danger"
    elif course.status == STATUS_PROCESSING:
        text, tone = ctx.t("course_page.status_processing"), "cl-note"
    elif course.status == STATUS_DRAFT:
        text, tone = ctx.t("course_page.status_draft"), "cl-note"
    elif course.processing:
        text, tone = ctx.t("course_page.status_replacing"), "cl-note"
    else:
        return ""
    return html.div({"className": tone, "role": "status"}, html.p(text), edit)


def _player(ctx: UIContext, course: CourseOut) -> Any:
    if not course.video_url or course.current_version_id is None:
        if course.status == STATUS_FAILED:
            key = "course_page.no_video_failed"
        elif course.status == STATUS_PROCESSING or course.processing:
            key = "course_page.no_video_processing"
        else:
            key = "course_page.no_video"
        return html.div(
            {"className": "cl-player cl-player-empty", "role": "status"},
            html.span({"className": "cl-player-empty-icon", "aria-hidden": "true"}, "▶"),
            html.p(ctx.t(key)),
        )
    progress = course.my_progress
    # The data attributes player.js reads, as the plain /watch page renders them: no progress URL
    # where progress would be refused (a draft previewed by its author), the viewer for shared phones.
    video = video_attributes(course, ctx.actor.employee_id if ctx.actor else None)
    offline_status = f"cl-offline-status-{course.id}"
    return html.section(
        {"className": "cl-player", "aria-label": ctx.t("course_page.player_label")},
        html.video(
            {
                "id": "course-video",
                "className": "course-video",
                "controls": True,
                "preload": "metadata",
                "playsInline": True,
                "poster": course.poster_url,
                "src": course.video_url,
                "aria-label": ctx.t("course_page.video_label", title=course.title),
                **video,
            }
        ),
        progress_bar(ctx, ratio=progress.watched_ratio, completed=progress.completed, title=course.title)
        if progress.completed or progress.watched_ratio > 0
        else "",
        html.div(
            {"className": "cl-offline"},
            html.button(
                {
                    "type": "button",
                    "className": "btn",
                    "aria-describedby": offline_status,
                    **offline_save_attributes(ctx.locale, course.id),
                },
                ctx.t("player.offline_save"),
            ),
            html.a({"className": "btn btn-ghost", "href": "/saved"}, ctx.t("player.saved_link")),
            html.progress(
                {
                    "className": "cl-offline-progress",
                    "data-offline-progress": str(course.id),
                    "max": 100,
                    "hidden": True,
                    "aria-label": ctx.t("player.offline_status_label"),
                }
            ),
            html.p(
                {
                    "id": offline_status,
                    "className": "cl-offline-status",
                    "data-offline-status": str(course.id),
                    "role": "status",
                    "aria-live": "polite",
                }
            ),
        ),
    )


def _about(ctx: UIContext, course: CourseOut) -> Any:
    meta = [course.author.name] if course.author else []
    if course.duration:
        meta.append(ctx.t("course_page.duration", duration=duration_text(course.duration)))
    meta.append(ctx.t("courses_library.views", count=course.view_count))
    chips = [
        html.span({"key": "category", "className": "chip cl-category"}, course.category)
        if course.category
        else "",
        *[
            html.a(
                {"key": f"tag-{tag}", "className": "chip", "href": href_with("/courses", q=tag)}, f"#{tag}"
            )
            for tag in course.tags
        ],
    ]
    return html.section(
        {"className": "card cl-about", "aria-label": ctx.t("course_page.about_label")},
        html.p({"className": "cl-about-meta"}, " · ".join(meta)),
        html.p({"className": "cl-about-rating"}, rating_text(ctx, course.rating_avg, course.rating_count)),
        html.div({"className": "cl-chips"}, *chips) if course.category or course.tags else "",
        html.p({"className": "cl-summary"}, course.summary) if course.summary else "",
    )


def _outline(ctx: UIContext, course: CourseOut) -> Any:
    """The micro-lesson template: 问题 → 案例 → 方法, each shown when the trainer wrote it."""
    parts = [(name, key, str(getattr(course, name)).strip()) for name, key in SECTIONS]
    parts = [part for part in parts if part[2]]
    if not parts:
        return ""
    return html.section(
        {"className": "card cl-outline", "aria-label": ctx.t("course_page.outline_label")},
        *[
            html.div(
                {"key": name, "className": f"cl-outline-part cl-outline-{name}"},
                html.h2({"id": f"cl-outline-{name}"}, ctx.t(key)),
                html.p({"className": "cl-outline-text", "aria-labelledby": f"cl-outline-{name}"}, text),
            )
            for name, key, text in parts
        ],
    )


def _attachments(ctx: UIContext, attachments: list[AttachmentOut]) -> Any:
    if not attachments:
        return ""
    return html.section(
        {"className": "card cl-attachments", "aria-labelledby": "cl-attachments-title"},
        html.h2({"id": "cl-attachments-title"}, ctx.t("course_page.attachments_title")),
        html.ul(
            {"className": "list"},
            *[
                html.li(
                    {"key": str(item.id), "className": "list-cell"},
                    html.span(
                        {"className": f"cl-kind cl-kind-{item.kind}"}, ctx.t(f"course_page.kind_{item.kind}")
                    ),
                    html.span(
                        {"className": "list-cell-main"},
                        html.a(
                            {"className": "list-cell-title", "href": item.url, "download": item.filename},
                            item.filename,
                        ),
                        html.span({"className": "list-cell-sub"}, size_text(item.size)),
                    ),
                )
                for item in attachments
            ],
        ),
    )


def _related(ctx: UIContext, related: list[CourseCard] | AppError | None) -> Any:
    if related is None:
        return Loading(label=ctx.t("course_page.related_loading"))
    if isinstance(related, AppError) or not related:
        return ""
    return html.section(
        {"className": "cl-related", "aria-labelledby": "cl-related-title"},
        section_heading("cl-related-title", ctx.t("course_page.related_title")),
        course_cards(ctx, related, label=ctx.t("course_page.related_title")),
    )


# --- rating -------------------------------------------------------------------------------------


@component
def StarRating(*, course_id: int, initial: RatingOut, can_rate: bool, closed_text: str = "") -> Any:
    """1–5 stars as toggle buttons; choosing again changes my rating, "clear" takes it back.

    Without `can_rate` only the average shows, with `closed_text` saying why.
    """
    ctx = use_app()
    rating, set_rating = use_state(initial)
    busy, set_busy = use_state(False)
    error, set_error = use_state("")
    status, set_status = use_state("")

    async def apply(stars: int | None) -> None:
        if busy:
            return
        set_busy(True)
        try:
            if stars is None:
                result = await rating_clear(actor=ctx.actor, course_id=course_id)
            else:
                result = await rating_set(actor=ctx.actor, course_id=course_id, stars=stars)
        except AppError as exc:
            set_error(error_text(ctx, exc))
        else:
            set_error("")
            set_rating(result)
            set_status(
                ctx.t("course_page.rated", stars=stars) if stars else ctx.t("course_page.rating_cleared")
            )
        finally:
            set_busy(False)

    def choose(stars: int) -> Callable[[dict[str, Any]], Any]:
        async def handler(_event: dict[str, Any]) -> None:
            await apply(stars)

        return handler

    async def clear(_event: dict[str, Any]) -> None:
        await apply(None)

    mine = rating.stars or 0
    return html.section(
        {"className": "card cl-rating", "aria-labelledby": "cl-rating-title"},
        html.h2({"id": "cl-rating-title"}, ctx.t("course_page.rating_title")),
        html.p({"className": "cl-rating-summary"}, rating_text(ctx, rating.rating_avg, rating.rating_count)),
        html.div(
            {"className": "cl-stars", "role": "group", "aria-label": ctx.t("course_page.rating_group")},
            *[
                html.button(
                    {
                        "key": str(stars),
                        "type": "button",
                        "className": "cl-star cl-star-on" if stars <= mine else "cl-star",
                        "aria-pressed": "true" if stars == mine else "false",
                        "aria-label": ctx.t("course_page.stars", stars=stars),
                        "disabled": busy,
                        "onClick": choose(stars),
                    },
                    "★",
                )
                for stars in range(STARS_MIN, STARS_MAX + 1)
            ],
            html.button(
                {
                    "key": "clear",
                    "type": "button",
                    "className": "btn btn-ghost",
                    "disabled": busy,
                    "onClick": clear,
                },
                ctx.t("course_page.rating_clear"),
            )
            if mine
            else "",
        )
        if can_rate
        else html.p({"className": "muted"}, closed_text),
        html.p({"className": "sr-only", "role": "status", "aria-live": "polite"}, status),
        FormError(message=error or None),
    )
