"""The trainer's studio: my micro-courses (HR: everyone's), and the page that creates or edits one.

Recording and uploading the video happens on a plain page (/studio/courses/{id}/upload, upload.js):
a phone's camera and resumable uploads need a real file input and fetch, not a socket.
"""

from __future__ import annotations

import asyncio
from typing import Any

from reactpy import component, html, use_async_effect, use_state

from backend.courses.attachments import attachment_delete
from backend.courses.schemas import AttachmentOut, CourseOut, StudioCourseOut
from backend.courses.selectors import course_get, courses_authored
from backend.courses.services import course_delete, course_publish, course_unpublish
from backend.lib.errors import AppError, NotFound
from backend.lib.policy import ROLE_HR_ADMIN, ROLE_TRAINER, actor_require
from backend.reflections.training_selectors import participant_choices
from pwa.components.admin_widgets import NoPermission, use_loaded
from pwa.components.course_form import (
    ConfirmButton,
    CourseForm,
    duration_text,
    size_text,
    status_badge,
    upload_href,
)
from pwa.components.shell import AppShell, PageHeader
from pwa.components.widgets import EmptyState, FormError, Loading, Toast, error_text
from pwa.context import UIContext, use_app
from pwa.pages.grading import local_time
from pwa.pages.tabs import NotFoundPage

STUDIO_HREF = "/studio"
# While a video is being processed the edit page looks again this often.
POLL_SECONDS = 3.0


def _shell(ctx: UIContext, title: str, *children: Any) -> Any:
    return AppShell(ctx=ctx, active="courses/studio", title=title, children=html.div(*children))


def _may_author(ctx: UIContext) -> bool:
    actor = ctx.actor
    return actor is not None and actor.employee_id is not None and actor.has(ROLE_TRAINER, ROLE_HR_ADMIN)


def edit_href(course_id: int) -> str:
    return f"{STUDIO_HREF}/courses/{course_id}"


@component
def StudioPage() -> Any:
    ctx = use_app()
    actor = actor_require(ctx.actor)
    if not _may_author(ctx):
        return NotFoundPage()
    result = use_loaded(lambda: courses_authored(actor=actor), [actor.account_id])
    title = ctx.t("nav.studio")
    new = html.a({"className": "btn btn-primary", "href": f"{STUDIO_HREF}/new"}, ctx.t("studio.new"))
    return _shell(ctx, title, PageHeader(title=title, actions=new), _studio_list(ctx, result))


def _studio_list(ctx: UIContext, result: list[StudioCourseOut] | AppError | None) -> Any:
    if result is None:
        return Loading(label=ctx.t("app.loading"))
    if isinstance(result, AppError):
        return FormError(message=error_text(ctx, result))
    if not result:
        return EmptyState(
            icon="🎬",
            title=ctx.t("studio.empty_title"),
            text=ctx.t("studio.empty_text"),
            action=html.a(
                {"className": "btn btn-primary", "href": f"{STUDIO_HREF}/new"}, ctx.t("studio.new")
            ),
        )
    return html.section(
        {"aria-label": ctx.t("studio.list_label")},
        html.p({"className": "muted"}, ctx.t("studio.total", total=len(result))),
        html.div({"className": "studio-list"}, *[_course_card(ctx, course) for course in result]),
    )


def _poster(ctx: UIContext, poster_url: str | None, duration: float) -> Any:
    if poster_url:
        picture = html.img(
            {"src": poster_url, "alt": "", "width": 128, "height": 72, "loading": "lazy", "decoding": "async"}
        )
    else:
        picture = html.span({"className": "studio-poster-none", "aria-hidden": "true"}, "▶")
    return html.div(
        {"className": "studio-poster"},
        picture,
        html.span({"className": "studio-duration"}, duration_text(duration)) if duration else "",
    )


def _course_card(ctx: UIContext, course: StudioCourseOut) -> Any:
    heading_id = f"studio-course-{course.id}"
    show_author = ctx.actor is not None and course.author and course.author.id != ctx.actor.employee_id
    meta = [ctx.t("studio.updated", time=local_time(ctx, course.updated_at))]
    if show_author and course.author:
        meta.insert(0, course.author.name)
    return html.article(
        {"key": str(course.id), "className": "card studio-card", "aria-labelledby": heading_id},
        html.div(
            {"className": "studio-card-top"},
            _poster(ctx, course.poster_url, course.duration),
            html.div(
                {"className": "studio-card-main"},
                html.h2({"id": heading_id, "className": "studio-card-title"}, course.title),
                html.p(
                    {"className": "studio-card-status"},
                    status_badge(ctx, course.status),
                    html.span({"className": "muted"}, ctx.t("studio.new_video_processing"))
                    if course.processing and course.status == "published"
                    else "",
                ),
                html.p({"className": "studio-failure", "role": "note"}, failure_text(ctx, course))
                if course.failure_reason
                else "",
                html.p({"className": "muted studio-card-meta"}, " · ".join(meta)),
            ),
        ),
        html.nav(
            {"className": "studio-actions", "aria-label": ctx.t("studio.actions_for", title=course.title)},
            html.a({"className": "btn", "href": edit_href(course.id)}, ctx.t("studio.edit")),
            html.a({"className": "btn", "href": upload_href(course.id)}, ctx.t("studio.upload_video")),
            html.a({"className": "btn", "href": f"{edit_href(course.id)}/stats"}, ctx.t("studio.stats")),
            html.a({"className": "btn btn-ghost", "href": f"/courses/{course.id}"}, ctx.t("studio.view")),
        ),
    )


def failure_text(ctx: Any, course: Any) -> str:
    """Why processing failed; on a published course the old video still plays, which the trainer is told."""
    reason = ctx.t(course.failure_reason)
    if course.status == "published":
        return ctx.t("course.replacement_failed", reason=reason)
    return reason


@component
def CourseEditPage(*, course_id: int | None) -> Any:
    """/studio/new (course_id None) and /studio/courses/{id}. After creating, it becomes the edit page."""
    ctx = use_app()
    actor = actor_require(ctx.actor)
    created, set_created = use_state(0)
    current_id = course_id or created or None
    choices = use_loaded(lambda: participant_choices(actor=actor), [actor.account_id])
    title = ctx.t("studio.edit_title") if current_id else ctx.t("studio.new")
    back = {"back_href": STUDIO_HREF, "back_label": ctx.t("studio.back")}
    if not _may_author(ctx):
        return NotFoundPage()
    if choices is None:
        return _shell(ctx, title, PageHeader(title=title, **back), Loading(label=ctx.t("app.loading")))
    if isinstance(choices, AppError):
        return _shell(ctx, title, PageHeader(title=title, **back), NoPermission())
    if current_id is None:
        return _shell(
            ctx,
            title,
            PageHeader(title=title, **back),
            html.p({"className": "muted"}, ctx.t("studio.new_hint")),
            CourseForm(key="course-new", course=None, choices=choices, on_saved=set_created),
        )
    return CourseEditor(
        key=f"editor-{current_id}", course_id=current_id, choices=choices, just_created=bool(created)
    )


@component
def CourseEditor(*, course_id: int, choices: Any, just_created: bool) -> Any:
    ctx = use_app()
    actor = actor_require(ctx.actor)
    reload, set_reload = use_state(0)
    toast, set_toast = use_state(ctx.t("studio.created_toast") if just_created else "")
    problem, set_problem = use_state("")
    deleted, set_deleted = use_state(False)
    course = use_loaded(lambda: course_get(actor=actor, course_id=course_id), [course_id, reload])
    title = ctx.t("studio.edit_title")
    header = PageHeader(title=title, back_href=STUDIO_HREF, back_label=ctx.t("studio.back"))
    waiting = isinstance(course, CourseOut) and (course.status == "processing" or course.processing)
    poll_key = f"{reload}:{waiting}"

    @use_async_effect(dependencies=[poll_key])
    async def _poll() -> None:
        if waiting:
            await asyncio.sleep(POLL_SECONDS)
            set_reload(lambda n: n + 1)

    if deleted:
        return _shell(ctx, title, header, _deleted(ctx))
    if course is None:
        return _shell(ctx, title, header, Loading(label=ctx.t("app.loading")))
    if isinstance(course, NotFound):
        return NotFoundPage()
    if isinstance(course, AppError):
        return _shell(ctx, title, header, FormError(message=error_text(ctx, course)))
    if not course.can_manage:
        return _shell(ctx, title, header, NoPermission())

    def refresh(message: str = "") -> None:
        set_problem("")
        set_toast(message)
        set_reload(lambda n: n + 1)

    async def act(action: Any) -> None:
        set_problem("")
        try:
            await action()
        except AppError as exc:
            set_problem(error_text(ctx, exc))

    async def publish() -> None:
        status = await course_publish(actor=actor, course_id=course_id)
        refresh(ctx.t("studio.published_toast" if status == "published" else "studio.publish_later_toast"))

    async def unpublish() -> None:
        await course_unpublish(actor=actor, course_id=course_id)
        refresh(ctx.t("studio.unpublished_toast"))

    async def delete() -> None:
        await course_delete(actor=actor, course_id=course_id)
        set_deleted(True)

    return _shell(
        ctx,
        title,
        header,
        # After creating, the address becomes this course's own (a reload or a shared link finds it).
        html.script({"key": f"url-{course_id}"}, f"history.replaceState(null, '', '{edit_href(course_id)}')")
        if ctx.path != edit_href(course_id)
        else "",
        _status_card(ctx, course),
        FormError(message=problem or None),
        _publish_card(ctx, course, on_publish=lambda: act(publish), on_unpublish=lambda: act(unpublish)),
        CourseForm(
            key=f"course-form-{course_id}",
            course=course,
            choices=choices,
            on_saved=lambda _id: refresh(ctx.t("studio.saved_toast")),
        ),
        AttachmentList(course=course, on_changed=lambda: refresh(ctx.t("studio.attachment_removed_toast"))),
        _danger_card(ctx, course, on_delete=lambda: act(delete)),
        Toast(message=toast or None),
    )


def _deleted(ctx: UIContext) -> Any:
    return EmptyState(
        icon="🗑",
        title=ctx.t("studio.deleted_title"),
        text=ctx.t("studio.deleted_text"),
        action=html.a({"className": "btn btn-primary", "href": STUDIO_HREF}, ctx.t("studio.back")),
    )


def _status_card(ctx: UIContext, course: CourseOut) -> Any:
    """Where the course stands and its video: poster and length, or what is happening to it."""
    if course.video_url:
        video: Any = html.div(
            {"className": "studio-card-top"},
            _poster(ctx, course.poster_url, course.duration),
            html.p(
                {"className": "muted"}, ctx.t("studio.video_ready", duration=duration_text(course.duration))
            ),
        )
    elif course.status == "processing" or course.processing:
        video = html.p({"className": "studio-processing", "role": "status"}, ctx.t("studio.video_processing"))
    else:
        video = html.p({"className": "muted"}, ctx.t("studio.video_none"))
    return html.section(
        {"className": "card", "aria-labelledby": "studio-video-title"},
        html.h2({"id": "studio-video-title", "className": "studio-section-title"}, course.title),
        html.p(
            {"className": "studio-card-status", "role": "status", "aria-live": "polite"},
            html.span({"className": "muted"}, ctx.t("studio.status_label")),
            status_badge(ctx, course.status),
        ),
        html.p({"className": "studio-failure", "role": "alert"}, failure_text(ctx, course))
        if course.failure_reason
        else "",
        video,
        html.p({"className": "muted"}, ctx.t("studio.new_video_processing"))
        if course.processing and course.video_url
        else "",
        html.a(
            {"className": "btn btn-primary btn-block studio-video-action", "href": upload_href(course.id)},
            ctx.t("studio.record_or_upload") if not course.video_url else ctx.t("studio.replace_video"),
        ),
    )


def _publish_card(ctx: UIContext, course: CourseOut, *, on_publish: Any, on_unpublish: Any) -> Any:
    async def publish(_event: dict[str, Any]) -> None:
        await on_publish()

    if course.status == "published":
        body: list[Any] = [
            html.p({"className": "muted"}, ctx.t("studio.published_hint")),
            html.div(
                {"className": "toolbar"},
                html.a({"className": "btn", "href": f"/courses/{course.id}"}, ctx.t("studio.view")),
                ConfirmButton(
                    label=ctx.t("studio.unpublish"),
                    question=ctx.t("studio.unpublish_question"),
                    confirm_label=ctx.t("studio.unpublish_confirm"),
                    on_confirm=on_unpublish,
                    danger=False,
                ),
            ),
        ]
    else:
        waiting = course.status == "processing" or course.processing
        hint = "studio.publish_when_ready" if waiting else "studio.publish_hint"
        body = [
            html.p({"className": "muted"}, ctx.t(hint)),
            html.button(
                {"type": "button", "className": "btn btn-primary btn-block", "onClick": publish},
                ctx.t("studio.publish"),
            ),
        ]
    return html.section(
        {"className": "card", "aria-labelledby": "studio-publish-title"},
        html.h2(
            {"id": "studio-publish-title", "className": "studio-section-title"}, ctx.t("studio.publish_title")
        ),
        *body,
    )


@component
def AttachmentList(*, course: CourseOut, on_changed: Any) -> Any:
    ctx = use_app()
    actor = actor_require(ctx.actor)
    problem, set_problem = use_state("")

    def remover(attachment: AttachmentOut) -> Any:
        async def remove() -> None:
            try:
                await attachment_delete(actor=actor, course_id=course.id, attachment_id=attachment.id)
            except AppError as exc:
                set_problem(error_text(ctx, exc))
                return
            on_changed()

        return remove

    items = [
        html.li(
            {"key": str(attachment.id), "className": "list-cell studio-attachment"},
            html.div(
                {"className": "studio-attachment-main"},
                html.a({"href": attachment.url, "className": "studio-attachment-name"}, attachment.filename),
                html.span(
                    {"className": "list-cell-sub"},
                    f"{ctx.t(f'studio.kind_{attachment.kind}')} · {size_text(attachment.size)}",
                ),
            ),
            ConfirmButton(
                label=ctx.t("studio.attachment_delete"),
                question=ctx.t("studio.attachment_delete_question", name=attachment.filename),
                confirm_label=ctx.t("studio.attachment_delete_confirm"),
                on_confirm=remover(attachment),
            ),
        )
        for attachment in course.attachments
    ]
    return html.section(
        {"className": "card", "aria-labelledby": "studio-attachments-title"},
        html.h2(
            {"id": "studio-attachments-title", "className": "studio-section-title"},
            ctx.t("studio.attachments_title"),
        ),
        FormError(message=problem or None),
        html.ul({"className": "list studio-attachments"}, *items)
        if items
        else html.p({"className": "muted"}, ctx.t("studio.attachments_none")),
        html.a(
            {"className": "btn btn-block", "href": f"{upload_href(course.id)}#attachments"},
            ctx.t("studio.attachment_add"),
        ),
    )


def _danger_card(ctx: UIContext, course: CourseOut, *, on_delete: Any) -> Any:
    return html.section(
        {"className": "card", "aria-labelledby": "studio-delete-title"},
        html.h2(
            {"id": "studio-delete-title", "className": "studio-section-title"}, ctx.t("studio.delete_title")
        ),
        html.p({"className": "muted"}, ctx.t("studio.delete_hint")),
        ConfirmButton(
            label=ctx.t("studio.delete"),
            question=ctx.t("studio.delete_question", title=course.title),
            confirm_label=ctx.t("studio.delete_confirm"),
            on_confirm=on_delete,
        ),
    )
