"""One reflection: the full text and photos, grade and feedback, likes, comments and (for its
graders) the grading form with the featured-wall switch. Anything I may not see is the not-found page.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from reactpy import component, event, html, use_state

from backend.lib.errors import AppError, NotFound, ValidationFailed
from backend.lib.policy import actor_require
from backend.reflections.grading import submission_feature, submission_grade
from backend.reflections.peer import (
    COMMENT_MAX,
    comment_add,
    comment_delete,
    reflection_like,
    reflection_unlike,
)
from backend.reflections.schemas import CommentOut, ReflectionOut
from backend.reflections.selectors import reflection_get
from backend.reflections.services import FEEDBACK_MAX
from pwa.components.admin_widgets import errors_by_field, no_errors, use_loaded
from pwa.components.reflection_widgets import (
    GRADES,
    alert_field,
    date_text,
    grade_badge,
    grade_label,
    local_now,
    org_zone,
    state_badge,
)
from pwa.components.shell import AppShell, PageHeader
from pwa.components.widgets import EmptyState, FormError, Loading, Toast, error_text
from pwa.context import UIContext, use_app

PUBLISHED = ("submitted", "graded")
# service field -> grading form field
GRADE_FIELDS = {"grade": "grade", "feedback": "feedback", "revise_due_at": "due"}


def _shell(ctx: UIContext, title: str, *children: Any) -> Any:
    return AppShell(ctx=ctx, active="reflections", title=title, children=html.div(*children))


@component
def ReflectionDetailPage(*, submission_id: int) -> Any:
    ctx = use_app()
    actor = actor_require(ctx.actor)
    version, set_version = use_state(0)
    toast, set_toast = use_state("")
    data = use_loaded(
        lambda: reflection_get(actor=actor, submission_id=submission_id),
        [actor.account_id, submission_id, version],
    )
    back = {"back_href": "/reflections", "back_label": ctx.t("reflections_ui.detail_back")}

    def changed(message: str = "") -> None:
        set_toast(message)
        set_version(lambda current: current + 1)

    if data is None:
        title = ctx.t("reflections.title")
        return _shell(
            ctx, title, PageHeader(title=title, **back), Loading(label=ctx.t("reflections_ui.detail_loading"))
        )
    if isinstance(data, NotFound):
        title = ctx.t("error.not_found")
        return _shell(
            ctx,
            title,
            PageHeader(title=ctx.t("reflections.title"), **back),
            EmptyState(
                icon="?",
                title=title,
                text=ctx.t("reflections_ui.not_found_text"),
                action=html.a(
                    {"className": "btn btn-primary", "href": "/reflections"},
                    ctx.t("reflections_ui.back_to_reflections"),
                ),
            ),
        )
    if isinstance(data, AppError):
        title = ctx.t("reflections.title")
        return _shell(ctx, title, PageHeader(title=title, **back), FormError(message=error_text(ctx, data)))

    item = data
    title = ctx.t("reflections_ui.detail_title", name=item.author.name)
    own = actor.employee_id == item.author.id
    return _shell(
        ctx,
        title,
        PageHeader(title=title, **back),
        _article(ctx, item, own=own, on_changed=changed),
        _grade_card(ctx, item),
        GradingForm(key=f"grading-{item.id}-{item.state}-{item.grade}", item=item, on_changed=changed)
        if item.can_grade
        else "",
        FeatureSwitch(key=f"feature-{item.id}", item=item, on_changed=changed)
        if item.can_grade and item.state == "graded" and item.grade == "excellent"
        else "",
        Comments(key=f"comments-{item.id}", item=item, on_changed=changed),
        Toast(message=toast or None),
    )


def _article(ctx: UIContext, item: ReflectionOut, *, own: bool, on_changed: Callable[[str], None]) -> Any:
    meta = [item.department] if item.department else []
    if item.submitted_at is not None:
        meta.append(ctx.t("reflections_ui.submitted_at", date=date_text(ctx, item.submitted_at)))
    badges: list[Any] = []
    if item.late:
        badges.append(html.span({"key": "late", "className": "rf-badge"}, ctx.t("reflections_ui.late_badge")))
    if item.state == "returned":
        badges.append(html.span({"key": "state"}, state_badge(ctx, "returned")))
    if item.featured:
        badges.append(
            html.span(
                {"key": "featured", "className": "rf-badge rf-badge-featured"},
                ctx.t("reflections_ui.featured_badge"),
            )
        )
    photos = [
        html.a(
            {
                "key": str(photo_id),
                "className": "rf-photo",
                "href": f"/api/v1/photos/{photo_id}",
                "target": "_blank",
            },
            html.img(
                {
                    "src": f"/api/v1/photos/{photo_id}",
                    "alt": ctx.t("reflections_ui.photo_alt", name=item.author.name, index=index),
                    "width": 320,
                    "height": 240,
                    "loading": "lazy",
                    "decoding": "async",
                }
            ),
        )
        for index, photo_id in enumerate(item.photo_ids, start=1)
    ]
    return html.article(
        {"className": "card rf-article", "aria-labelledby": "rf-article-author"},
        html.div(
            {"className": "rf-card-head"},
            html.span({"className": "avatar", "aria-hidden": "true"}, item.author.name[:1]),
            html.div(
                {"className": "rf-card-who"},
                html.strong({"id": "rf-article-author"}, item.author.name),
                html.span({"className": "rf-card-where"}, " · ".join(meta)),
            ),
            html.span({"className": "rf-card-badges"}, grade_badge(ctx, item.grade), *badges),
        ),
        html.p({"className": "rf-card-training"}, item.training.name),
        html.div(
            {"className": "rf-prompt", "role": "note", "aria-label": ctx.t("reflections_ui.prompt_label")},
            item.prompt,
        ),
        html.div({"className": "rf-body"}, item.body),
        html.div(
            {"className": "rf-photos", "role": "group", "aria-label": ctx.t("reflections_ui.photos_label")},
            *photos,
        )
        if photos
        else "",
        html.div(
            {"className": "rf-actions"},
            LikeButton(key=f"like-{item.id}", item=item, on_changed=on_changed)
            if not own and item.state in PUBLISHED
            else html.span(
                {"className": "rf-stat rf-stat-likes", "title": ctx.t("reflections_ui.like_own_hint")},
                html.span({"aria-hidden": "true"}, str(item.like_count)),
                html.span(
                    {"className": "sr-only"}, ctx.t("reflections_ui.likes_count", count=item.like_count)
                ),
            ),
            html.span(
                {"className": "rf-stat rf-stat-comments"},
                html.span({"aria-hidden": "true"}, str(item.comment_count)),
                html.span(
                    {"className": "sr-only"}, ctx.t("reflections_ui.comments_count", count=item.comment_count)
                ),
            ),
        ),
    )


def _grade_card(ctx: UIContext, item: ReflectionOut) -> Any:
    if not item.grade:
        return ""
    return html.section(
        {"className": "card rf-grade-card", "aria-labelledby": "rf-grade-title"},
        html.h2({"id": "rf-grade-title"}, ctx.t("reflections_ui.grade_title")),
        html.p(grade_badge(ctx, item.grade)),
        html.p({"className": "rf-feedback"}, item.feedback)
        if item.feedback
        else html.p({"className": "muted"}, ctx.t("reflections_ui.feedback_empty")),
    )


@component
def LikeButton(*, item: ReflectionOut, on_changed: Callable[[str], None]) -> Any:
    ctx = use_app()
    busy, set_busy = use_state(False)
    error, set_error = use_state("")

    async def toggle(_event: dict[str, Any]) -> None:
        if busy:
            return
        set_busy(True)
        try:
            if item.liked_by_me:
                await reflection_unlike(actor=ctx.actor, submission_id=item.id)
            else:
                await reflection_like(actor=ctx.actor, submission_id=item.id)
        except AppError as exc:
            set_error(error_text(ctx, exc))
        else:
            set_error("")
            on_changed("")
        finally:
            set_busy(False)

    return html.span(
        {"className": "rf-like-wrap"},
        html.button(
            {
                "type": "button",
                "className": "btn rf-like",
                "aria-pressed": "true" if item.liked_by_me else "false",
                "aria-busy": "true" if busy else "false",
                "onClick": toggle,
            },
            html.span({"className": "rf-like-word"}, ctx.t("reflections_ui.like")),
            html.span({"className": "rf-like-count"}, str(item.like_count)),
        ),
        FormError(message=error or None),
    )


# --- grading ------------------------------------------------------------------------------------


def _end_of_day(ctx: UIContext, value: str) -> dt.datetime:
    """A date picked in the organisation's calendar, as the end of that day (aware, UTC)."""
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed("reflections_ui.revise_due_invalid", field="revise_due_at") from None
    local = dt.datetime.combine(day, dt.time(23, 59), tzinfo=org_zone(ctx))
    return local.astimezone(dt.UTC)


@component
def GradingForm(*, item: ReflectionOut, on_changed: Callable[[str], None]) -> Any:
    ctx = use_app()
    grade, set_grade = use_state(item.grade if item.state == "graded" and item.grade in GRADES else "")
    feedback, set_feedback = use_state(item.feedback if item.state == "graded" else "")
    due, set_due = use_state("")
    errors, set_errors = use_state(no_errors)
    form_error, set_form_error = use_state("")
    busy, set_busy = use_state(False)

    @event(prevent_default=True)
    async def submit(_event: dict[str, Any]) -> None:
        if busy:
            return
        if grade not in GRADES:
            set_errors({"grade": ctx.t("reflections_ui.grading_choose")})
            set_form_error("")
            return
        if grade == "revise" and not due:
            set_errors({"due": ctx.t("reflections_ui.revise_due_required")})
            set_form_error("")
            return
        set_busy(True)
        try:
            await submission_grade(
                actor=ctx.actor,
                submission_id=item.id,
                grade=grade,
                feedback=feedback,
                revise_due_at=_end_of_day(ctx, due) if grade == "revise" else None,
            )
        except AppError as exc:
            by_field, message = errors_by_field(ctx, exc, GRADE_FIELDS)
            set_errors(by_field)
            set_form_error(message)
            set_busy(False)
            return
        set_busy(False)
        on_changed(ctx.t("reflections_ui.graded_toast", grade=grade_label(ctx, grade)))

    def choose(value: str) -> Callable[[dict[str, Any]], None]:
        def handler(_event: dict[str, Any]) -> None:
            set_grade(value)
            set_errors({})

        return handler

    tomorrow = (local_now(ctx) + dt.timedelta(days=1)).date().isoformat()
    title = ctx.t(
        "reflections_ui.regrading_title" if item.state == "graded" else "reflections_ui.grading_title"
    )
    grade_error = errors.get("grade", "")
    return html.form(
        {
            "className": "card rf-grading",
            "onSubmit": submit,
            "aria-labelledby": "rf-grading-title",
            "noValidate": True,
        },
        html.h2({"id": "rf-grading-title"}, title),
        FormError(message=form_error or None),
        html.fieldset(
            {
                "className": "rf-fieldset",
                **({"aria-describedby": "rf-grade-error"} if grade_error else {}),
            },
            html.legend({"className": "field-label"}, ctx.t("reflections_ui.grade_label")),
            html.div(
                {"className": "rf-grade-options"},
                *[
                    html.label(
                        {"key": value, "className": "chip", "htmlFor": f"rf-grade-{value}"},
                        html.input(
                            {
                                "id": f"rf-grade-{value}",
                                "type": "radio",
                                "name": "grade",
                                "value": value,
                                "checked": grade == value,
                                "onChange": choose(value),
                            }
                        ),
                        grade_label(ctx, value),
                    )
                    for value in GRADES
                ],
            ),
            html.div({"id": "rf-grade-error", "className": "field-error", "role": "alert"}, grade_error)
            if grade_error
            else "",
        ),
        alert_field(
            field_id="rf-feedback",
            label=ctx.t("reflections_ui.feedback_label"),
            hint=ctx.t("reflections_ui.feedback_hint"),
            error=errors.get("feedback", ""),
            control=html.textarea(
                {
                    "id": "rf-feedback",
                    "className": "input",
                    "maxLength": FEEDBACK_MAX,
                    "rows": 4,
                    "value": feedback,
                    "onChange": lambda e: set_feedback(str(e["target"]["value"])[:FEEDBACK_MAX]),
                }
            ),
        ),
        alert_field(
            field_id="rf-revise-due",
            label=ctx.t("reflections_ui.revise_due_label"),
            hint=ctx.t("reflections_ui.revise_due_hint"),
            error=errors.get("due", ""),
            control=html.input(
                {
                    "id": "rf-revise-due",
                    "type": "date",
                    "className": "input",
                    "min": tomorrow,
                    "required": True,
                    "value": due,
                    "onChange": lambda e: set_due(str(e["target"]["value"])[:10]),
                }
            ),
        )
        if grade == "revise"
        else "",
        html.button(
            {"type": "submit", "className": "btn btn-primary btn-block", "disabled": busy},
            ctx.t("reflections_ui.grading_sending") if busy else ctx.t("reflections_ui.grading_submit"),
        ),
    )


@component
def FeatureSwitch(*, item: ReflectionOut, on_changed: Callable[[str], None]) -> Any:
    ctx = use_app()
    error, set_error = use_state("")
    busy, set_busy = use_state(False)

    async def toggle(event_data: dict[str, Any]) -> None:
        if busy:
            return
        featured = bool(event_data.get("target", {}).get("checked", not item.featured))
        set_busy(True)
        try:
            await submission_feature(actor=ctx.actor, submission_id=item.id, featured=featured)
        except AppError as exc:
            set_error(error_text(ctx, exc))
            set_busy(False)
            return
        set_error("")
        set_busy(False)
        on_changed(ctx.t("reflections_ui.featured_on" if featured else "reflections_ui.featured_off"))

    return html.section(
        {"className": "card rf-feature", "aria-label": ctx.t("reflections_ui.feature_label")},
        FormError(message=error or None),
        html.label(
            {"className": "rf-switch-row", "htmlFor": "rf-feature"},
            html.span(
                {"className": "rf-switch-text"},
                html.span({"className": "rf-switch-title"}, ctx.t("reflections_ui.feature_label")),
            ),
            html.input(
                {
                    "id": "rf-feature",
                    "type": "checkbox",
                    "role": "switch",
                    "className": "rf-switch-input",
                    "checked": item.featured,
                    "aria-checked": "true" if item.featured else "false",
                    "aria-describedby": "rf-feature-hint",
                    "disabled": busy,
                    "onChange": toggle,
                }
            ),
        ),
        html.p({"id": "rf-feature-hint", "className": "field-hint"}, ctx.t("reflections_ui.feature_hint")),
    )


# --- comments -----------------------------------------------------------------------------------


@component
def Comments(*, item: ReflectionOut, on_changed: Callable[[str], None]) -> Any:
    ctx = use_app()
    return html.section(
        {"className": "card rf-comments", "aria-labelledby": "rf-comments-title"},
        html.h2(
            {"id": "rf-comments-title"},
            ctx.t("reflections_ui.comments_title"),
            " ",
            html.span({"className": "muted"}, f"({len(item.comments)})"),
        ),
        html.ul(
            {"className": "rf-comment-list"},
            *[
                CommentRow(key=str(comment.id), comment=comment, on_changed=on_changed)
                for comment in item.comments
            ],
        )
        if item.comments
        else html.p({"className": "muted rf-comments-empty"}, ctx.t("reflections_ui.comments_empty")),
        CommentForm(item=item, on_changed=on_changed) if item.state in PUBLISHED else "",
    )


@component
def CommentRow(*, comment: CommentOut, on_changed: Callable[[str], None]) -> Any:
    ctx = use_app()
    confirming, set_confirming = use_state(False)
    error, set_error = use_state("")
    name = comment.author.name

    async def delete(_event: dict[str, Any]) -> None:
        set_confirming(False)
        try:
            await comment_delete(actor=ctx.actor, comment_id=comment.id)
        except AppError as exc:
            set_error(error_text(ctx, exc))
            return
        on_changed(ctx.t("reflections_ui.comment_deleted"))

    if not comment.can_delete:
        actions: list[Any] = []
    elif confirming:
        actions = [
            html.button(
                {
                    "key": "confirm",
                    "type": "button",
                    "className": "btn btn-danger",
                    "aria-label": ctx.t("reflections_ui.comment_delete_confirm_label", name=name),
                    "onClick": delete,
                },
                ctx.t("reflections_ui.comment_delete_confirm"),
            ),
            html.button(
                {
                    "key": "cancel",
                    "type": "button",
                    "className": "btn",
                    "aria-label": ctx.t("reflections_ui.comment_delete_cancel_label", name=name),
                    "onClick": lambda _e: set_confirming(False),
                },
                ctx.t("common.cancel"),
            ),
        ]
    else:
        actions = [
            html.button(
                {
                    "key": "delete",
                    "type": "button",
                    "className": "btn btn-ghost",
                    "aria-label": ctx.t("reflections_ui.comment_delete_label", name=name),
                    "onClick": lambda _e: set_confirming(True),
                },
                ctx.t("reflections_ui.comment_delete"),
            )
        ]
    return html.li(
        {"className": "rf-comment"},
        html.div(
            {"className": "rf-comment-head"},
            html.strong(name),
            html.span({"className": "muted rf-comment-time"}, date_text(ctx, comment.created_at)),
        ),
        html.p({"className": "rf-comment-body"}, comment.body),
        html.div({"className": "rf-comment-actions"}, *actions) if actions else "",
        FormError(message=error or None) if error else "",
    )


@component
def CommentForm(*, item: ReflectionOut, on_changed: Callable[[str], None]) -> Any:
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
            await comment_add(actor=ctx.actor, submission_id=item.id, body=text)
        except AppError as exc:
            set_error(error_text(ctx, exc))
            set_busy(False)
            return
        set_error("")
        set_text("")
        set_busy(False)
        on_changed(ctx.t("reflections_ui.comment_added"))

    return html.form(
        {
            "className": "rf-comment-form",
            "onSubmit": submit,
            "aria-label": ctx.t("reflections_ui.comment_form"),
            "noValidate": True,
        },
        alert_field(
            field_id="rf-comment",
            label=ctx.t("reflections_ui.comment_label"),
            hint=ctx.t("reflections_ui.comment_counter", count=len(text), max=COMMENT_MAX),
            error=error,
            control=html.textarea(
                {
                    "id": "rf-comment",
                    "className": "input rf-comment-input",
                    "maxLength": COMMENT_MAX,
                    "rows": 3,
                    "placeholder": ctx.t("reflections_ui.comment_placeholder"),
                    "value": text,
                    "onChange": lambda e: set_text(str(e["target"]["value"])[:COMMENT_MAX]),
                }
            ),
        ),
        html.button(
            {"type": "submit", "className": "btn btn-primary", "disabled": busy},
            ctx.t("reflections_ui.comment_sending") if busy else ctx.t("reflections_ui.comment_submit"),
        ),
    )
