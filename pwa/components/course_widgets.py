"""Pieces the course pages share: durations, file sizes, progress bars, course cards and the comments
of a course."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reactpy import component, event, html, use_state
from reactpy.types import VdomDict

from backend.courses.feedback import COMMENT_MAX, CommentOut, comment_add, comment_delete, comment_list
from backend.courses.library import CourseCard
from backend.lib.errors import AppError
from pwa.components.admin_widgets import use_loaded
from pwa.components.reflection_widgets import alert_field, date_text
from pwa.components.widgets import FormError, Loading, Pager, error_text
from pwa.context import UIContext, use_app

# --- formatting ---------------------------------------------------------------------------------


def duration_text(seconds: float) -> str:
    """03:25 (mm:ss); 1:02:03 past an hour."""
    total = max(0, round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def size_text(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / 1024 / 1024:.1f} MB"


def rating_text(ctx: UIContext, average: float | None, count: int) -> str:
    if not count or average is None:
        return ctx.t("courses_library.rating_none")
    return ctx.t("courses_library.rating", average=f"{average:.1f}", count=count)


def progress_bar(ctx: UIContext, *, ratio: float, completed: bool, title: str) -> VdomDict:
    """My share of a course watched, as a bar a screen reader reads as a percentage."""
    percent = 100 if completed else max(0, min(100, round(ratio * 100)))
    text = (
        ctx.t("courses_library.completed") if completed else ctx.t("courses_library.watched", percent=percent)
    )
    return html.div(
        {"className": "cl-progress-row"},
        html.div(
            {
                "className": "cl-progress cl-progress-done" if completed else "cl-progress",
                "role": "progressbar",
                "aria-valuemin": 0,
                "aria-valuemax": 100,
                "aria-valuenow": percent,
                "aria-valuetext": text,
                "aria-label": ctx.t("courses_library.progress_label", title=title),
            },
            html.div({"className": "cl-progress-fill", "style": {"width": f"{percent}%"}}),
        ),
        html.span({"className": "cl-progress-text", "aria-hidden": "true"}, text),
    )


def poster(ctx: UIContext, *, url: str | None, title: str, duration: float) -> VdomDict:
    image: VdomDict = (
        html.img(
            {
                "className": "cl-poster-img",
                "src": url,
                "alt": ctx.t("courses_library.poster_alt", title=title),
                "width": 320,
                "height": 180,
                "loading": "lazy",
                "decoding": "async",
            }
        )
        if url
        else html.span({"className": "cl-poster-none", "aria-hidden": "true"}, title[:1])
    )
    return html.div(
        {"className": "cl-poster"},
        image,
        html.span(
            {"className": "cl-duration"},
            html.span({"className": "sr-only"}, ctx.t("courses_library.duration_label")),
            duration_text(duration),
        )
        if duration
        else "",
    )


def course_card(ctx: UIContext, card: CourseCard) -> VdomDict:
    """A course in a list: poster with its length, title, author, rating, views and my progress."""
    meta = [card.author_name] if card.author_name else []
    meta.append(rating_text(ctx, card.rating_avg, card.rating_count))
    meta.append(ctx.t("courses_library.views", count=card.view_count))
    watched = card.my_completed or card.my_watched_ratio > 0
    return html.article(
        {"key": f"course-{card.id}", "className": "cl-card"},
        poster(ctx, url=card.poster_url, title=card.title, duration=card.duration),
        html.div(
            {"className": "cl-card-body"},
            html.h3(
                {"className": "cl-card-title"},
                html.a({"className": "cl-card-link", "href": f"/courses/{card.id}"}, card.title),
            ),
            html.p({"className": "cl-card-meta"}, " · ".join(meta)),
            html.p({"className": "cl-card-summary"}, card.summary) if card.summary else "",
            html.div(
                {"className": "cl-card-badges"},
                html.span({"className": "chip"}, card.category) if card.category else "",
                html.span({"className": "chip cl-for-me"}, ctx.t("courses_library.for_me_badge"))
                if card.for_me
                else "",
            ),
            progress_bar(ctx, ratio=card.my_watched_ratio, completed=card.my_completed, title=card.title)
            if watched
            else "",
        ),
    )


def course_cards(ctx: UIContext, cards: list[CourseCard], *, label: str) -> VdomDict:
    return html.div(
        {"className": "cl-cards", "role": "list", "aria-label": label},
        *[html.div({"key": str(card.id), "role": "listitem"}, course_card(ctx, card)) for card in cards],
    )


# --- comments -----------------------------------------------------------------------------------


@component
def CourseComments(*, course_id: int, can_comment: bool, on_toast: Callable[[str], None]) -> Any:
    """A course's comments, newest first, with the form to add one."""
    ctx = use_app()
    page, set_page = use_state(1)
    version, set_version = use_state(0)
    loaded = use_loaded(
        lambda: comment_list(actor=ctx.actor, course_id=course_id, page=page),
        [course_id, page, version],
    )

    def changed(message: str) -> None:
        on_toast(message)
        set_version(lambda current: current + 1)

    def added(message: str) -> None:
        set_page(1)
        changed(message)

    if loaded is None:
        body: Any = Loading(label=ctx.t("course_page.comments_loading"))
        total = None
    elif isinstance(loaded, AppError):
        body, total = FormError(message=error_text(ctx, loaded)), None
    else:
        total = loaded.total
        body = (
            html.div(
                html.ul(
                    {"className": "cl-comment-list"},
                    *[
                        CommentRow(key=str(item.id), course_id=course_id, comment=item, on_changed=changed)
                        for item in loaded.items
                    ],
                ),
                Pager(ctx=ctx, page=loaded.page, pages=loaded.pages, total=loaded.total, on_page=set_page)
                if loaded.pages > 1
                else "",
            )
            if loaded.items
            else html.p({"className": "muted"}, ctx.t("course_page.comments_empty"))
        )
    return html.section(
        {"className": "card cl-comments", "aria-labelledby": "cl-comments-title"},
        html.h2(
            {"id": "cl-comments-title"},
            ctx.t("course_page.comments_title"),
            html.span({"className": "muted"}, f" ({total})") if total is not None else "",
        ),
        CommentForm(course_id=course_id, on_added=added) if can_comment else "",
        body,
    )


@component
def CommentForm(*, course_id: int, on_added: Callable[[str], None]) -> Any:
    ctx = use_app()
    text, set_text = use_state("")
    error, set_error = use_state("")
    busy, set_busy = use_state(False)

    @event(prevent_default=True)
    async def submit(_event: dict[str, Any]) -> None:
        if busy:
            return
        set_busy(True)
        try:
            await comment_add(actor=ctx.actor, course_id=course_id, body=text)
        except AppError as exc:
            set_error(error_text(ctx, exc))
            set_busy(False)
            return
        set_text("")
        set_error("")
        set_busy(False)
        on_added(ctx.t("course_page.comment_added"))

    return html.form(
        {
            "className": "cl-comment-form",
            "onSubmit": submit,
            "aria-label": ctx.t("course_page.comment_form"),
            "noValidate": True,
        },
        alert_field(
            field_id="cl-comment-body",
            label=ctx.t("course_page.comment_label"),
            hint=ctx.t("course_page.comment_hint", max=COMMENT_MAX),
            error=error,
            control=html.textarea(
                {
                    "id": "cl-comment-body",
                    "className": "input",
                    "rows": 3,
                    "maxLength": COMMENT_MAX,
                    "value": text,
                    "onChange": lambda e: set_text(str(e["target"]["value"])[: COMMENT_MAX + 1]),
                }
            ),
        ),
        html.button(
            {"type": "submit", "className": "btn btn-primary", "disabled": busy, "aria-busy": busy},
            ctx.t("course_page.comment_sending") if busy else ctx.t("course_page.comment_submit"),
        ),
    )


@component
def CommentRow(*, course_id: int, comment: CommentOut, on_changed: Callable[[str], None]) -> Any:
    """One comment; its author and HR remove it after confirming."""
    ctx = use_app()
    confirming, set_confirming = use_state(False)
    error, set_error = use_state("")
    name = comment.author.name

    async def remove(_event: dict[str, Any]) -> None:
        set_confirming(False)
        try:
            await comment_delete(actor=ctx.actor, course_id=course_id, comment_id=comment.id)
        except AppError as exc:
            set_error(error_text(ctx, exc))
            return
        on_changed(ctx.t("course_page.comment_deleted"))

    actions: list[Any] = []
    if comment.can_delete and confirming:
        actions = [
            html.span(
                {"key": "ask", "className": "cl-confirm-text"}, ctx.t("course_page.comment_delete_ask")
            ),
            html.button(
                {
                    "key": "confirm",
                    "type": "button",
                    "className": "btn btn-danger",
                    "aria-label": ctx.t("course_page.comment_delete_confirm_label", name=name),
                    "onClick": remove,
                },
                ctx.t("course_page.comment_delete_confirm"),
            ),
            html.button(
                {
                    "key": "cancel",
                    "type": "button",
                    "className": "btn",
                    "aria-label": ctx.t("course_page.comment_delete_cancel_label", name=name),
                    "onClick": lambda _e: set_confirming(False),
                },
                ctx.t("common.cancel"),
            ),
        ]
    elif comment.can_delete:
        actions = [
            html.button(
                {
                    "key": "delete",
                    "type": "button",
                    "className": "btn btn-ghost",
                    "aria-label": ctx.t("course_page.comment_delete_label", name=name),
                    "onClick": lambda _e: set_confirming(True),
                },
                ctx.t("course_page.comment_delete"),
            )
        ]
    return html.li(
        {"className": "cl-comment"},
        html.div(
            {"className": "cl-comment-head"},
            html.span({"className": "avatar", "aria-hidden": "true"}, name[:1]),
            html.strong(name),
            html.span({"className": "muted cl-comment-time"}, date_text(ctx, comment.created_at)),
        ),
        html.p({"className": "cl-comment-body"}, comment.body),
        html.div({"className": "cl-comment-actions"}, *actions) if actions else "",
        FormError(message=error or None),
    )
