"""The form that creates or edits a micro-course: title, summary, tags, audience and 问题 → 案例 → 方法.

Saving is one service call (course_create or course_update); the form checks the text limits first
only to show every problem next to its field at once. The service's own refusals land under the
field they name.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from reactpy import component, event, html, use_ref, use_state

from backend.courses.schemas import CourseOut
from backend.courses.services import (
    CATEGORY_MAX,
    SECTION_MAX,
    SUMMARY_MAX,
    TAG_MAX,
    TAGS_MAX,
    TITLE_MAX,
    course_create,
    course_update,
)
from backend.lib.errors import AppError
from backend.reflections.training_selectors import ParticipantChoicesOut
from pwa.components.admin_widgets import errors_by_field, no_errors
from pwa.components.widgets import FormError, event_value, field_block
from pwa.context import UIContext, use_app

# The tags box holds at most this many characters (the service bounds count and length of each).
TAGS_TEXT_MAX = (TAG_MAX + 2) * TAGS_MAX
TEXTS = {
    "title": TITLE_MAX,
    "summary": SUMMARY_MAX,
    "category": CATEGORY_MAX,
    "problem": SECTION_MAX,
    "case_text": SECTION_MAX,
    "method": SECTION_MAX,
}
# service field -> form field
FIELDS = {
    **{name: name for name in TEXTS},
    "tags": "tags",
    "audience_department_ids": "audience",
    "audience_position_ids": "audience",
    "restricted": "audience",
}
TEMPLATE = ("problem", "case_text", "method")
PICKS = ("department", "position")
_TAG_SEPARATORS = re.compile(r"[,，、;；\n]+")
FIELDSET_STYLE = {"border": "0", "minWidth": "0", "margin": "0", "padding": "0"}
LEGEND_STYLE = {"padding": "0", "marginBottom": "12px", "fontWeight": "600", "fontSize": "1.0625rem"}


def tags_parse(text: str) -> list[str]:
    """Tags typed as one line, separated by commas (either width), 、 or semicolons."""
    return [tag.strip() for tag in _TAG_SEPARATORS.split(text[:TAGS_TEXT_MAX]) if tag.strip()]


def _initial(course: CourseOut | None) -> dict[str, str]:
    if course is None:
        return {**dict.fromkeys(TEXTS, ""), "tags": ""}
    return {
        "title": course.title,
        "summary": course.summary,
        "category": course.category,
        "problem": course.problem,
        "case_text": course.case_text,
        "method": course.method,
        "tags": "，".join(course.tags),
    }


def _initial_picks(course: CourseOut | None) -> dict[str, tuple[int, ...]]:
    if course is None:
        return {key: () for key in PICKS}
    return {
        "department": tuple(course.audience_department_ids),
        "position": tuple(course.audience_position_ids),
    }


def _checked_texts(ctx: UIContext, values: dict[str, str]) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not values["title"].strip():
        errors["title"] = ctx.t("error.required")
    for name, limit in TEXTS.items():
        if len(values[name].strip()) > limit:
            errors[name] = ctx.t("error.too_long", max=limit)
    return errors


def _card_fieldset(legend: str, *children: Any, described_by: str = "") -> Any:
    attributes = {"style": FIELDSET_STYLE, **({"aria-describedby": described_by} if described_by else {})}
    return html.div(
        {"className": "card"},
        html.fieldset(attributes, html.legend({"style": LEGEND_STYLE}, legend), *children),
    )


@component
def CourseForm(
    *, course: CourseOut | None, choices: ParticipantChoicesOut, on_saved: Callable[[int], None]
) -> Any:
    """Creates a course when `course` is None, else edits it; `on_saved(course_id)` after success."""
    ctx = use_app()
    actor = ctx.actor
    values, set_values = use_state(lambda: _initial(course))
    picks, set_picks = use_state(lambda: _initial_picks(course))
    restricted, set_restricted = use_state(course.restricted if course else False)
    # What the fields hold right now: a submit can arrive before the render that follows a change.
    latest_values = use_ref(values)
    latest_picks = use_ref(picks)
    latest_restricted = use_ref(restricted)
    errors, set_errors = use_state(no_errors)
    form_error, set_form_error = use_state("")
    busy, set_busy = use_state(False)
    prefix = f"course-{course.id}" if course else "course-new"

    def change(key: str) -> Callable[[dict[str, Any]], None]:
        def handler(event_data: dict[str, Any]) -> None:
            latest_values.current = {**latest_values.current, key: event_value(event_data)}
            set_values(latest_values.current)
            if key in errors:
                set_errors(lambda found: {name: text for name, text in found.items() if name != key})

        return handler

    def toggle(kind: str, item_id: int) -> Callable[[dict[str, Any]], None]:
        def handler(event_data: dict[str, Any]) -> None:
            checked = bool(event_data["target"].get("checked"))
            chosen = set(latest_picks.current[kind])
            chosen = chosen | {item_id} if checked else chosen - {item_id}
            latest_picks.current = {**latest_picks.current, kind: tuple(sorted(chosen))}
            set_picks(latest_picks.current)

        return handler

    def toggle_restricted(event_data: dict[str, Any]) -> None:
        latest_restricted.current = bool(event_data["target"].get("checked"))
        set_restricted(latest_restricted.current)

    @event(prevent_default=True)
    async def submit(_event: dict[str, Any]) -> None:
        values, picks = latest_values.current, latest_picks.current
        found = _checked_texts(ctx, values)
        if found:
            set_errors(found)
            set_form_error(ctx.t("studio.form.fix_errors"))
            return
        fields: dict[str, Any] = {
            **{name: values[name] for name in TEXTS},
            "tags": tags_parse(values["tags"]),
            "audience_department_ids": list(picks["department"]),
            "audience_position_ids": list(picks["position"]),
            "restricted": latest_restricted.current,
        }
        set_busy(True)
        try:
            if course is None:
                course_id = await course_create(actor=actor, **fields)
            else:
                await course_update(actor=actor, course_id=course.id, **fields)
                course_id = course.id
        except AppError as exc:
            by_field, message = errors_by_field(ctx, exc, FIELDS)
            set_errors(by_field)
            set_form_error(message or ctx.t("studio.form.fix_errors"))
            set_busy(False)
            return
        set_errors({})
        set_form_error("")
        set_busy(False)
        on_saved(course_id)

    def text_field(key: str, *, hint: str = "", rows: int = 0, counter: bool = False) -> Any:
        field_id = f"{prefix}-{key.replace('_', '-')}"
        limit = TEXTS.get(key, TAGS_TEXT_MAX)
        attributes = {
            "id": field_id,
            "className": "input",
            "maxLength": limit,
            "value": values[key],
            "onChange": change(key),
            "disabled": busy,
        }
        if counter:
            count = ctx.t("studio.form.counter", n=len(values[key]), max=limit)
            hint = f"{hint} · {count}" if hint else count
        control = (
            html.textarea({**attributes, "rows": rows})
            if rows
            else html.input({**attributes, "type": "text"})
        )
        return field_block(
            field_id=field_id,
            label=ctx.t(f"studio.form.{key}"),
            hint=hint,
            error=errors.get(key, ""),
            control=control,
        )

    def pick_group(kind: str, items: list[tuple[int, str, int]]) -> Any:
        """Checkbox chips; `items` are (id, name, depth): departments are indented as a tree."""
        label = ctx.t(f"studio.form.by_{kind}")
        return html.div(
            {"role": "group", "aria-label": label, "className": "field"},
            html.span({"className": "field-label", "aria-hidden": "true"}, label),
            html.div(
                {"className": "toolbar" if kind != "department" else ""},
                *[
                    html.div(
                        {
                            "key": str(item_id),
                            **({"style": {"marginLeft": f"{depth * 1.25}em"}} if depth else {}),
                        },
                        html.label(
                            {"className": "chip", "htmlFor": f"{prefix}-{kind}-{item_id}"},
                            html.input(
                                {
                                    "id": f"{prefix}-{kind}-{item_id}",
                                    "type": "checkbox",
                                    "checked": item_id in picks[kind],
                                    "onChange": toggle(kind, item_id),
                                    "disabled": busy,
                                }
                            ),
                            name,
                        ),
                    )
                    for item_id, name, depth in items
                ],
            ),
        )

    audience_error = errors.get("audience", "")
    audience = _card_fieldset(
        ctx.t("studio.form.audience"),
        html.p(
            {"id": f"{prefix}-audience-hint", "className": "field-hint"}, ctx.t("studio.form.audience_hint")
        ),
        pick_group("department", [(d.id, d.name, d.depth) for d in choices.departments]),
        pick_group("position", [(p.id, p.name, 0) for p in choices.positions]),
        html.label(
            {"htmlFor": f"{prefix}-restricted"},
            html.input(
                {
                    "id": f"{prefix}-restricted",
                    "type": "checkbox",
                    "checked": restricted,
                    "onChange": toggle_restricted,
                    "disabled": busy,
                }
            ),
            ctx.t("studio.form.restricted"),
        ),
        html.p({"className": "field-hint"}, ctx.t("studio.form.restricted_hint")),
        html.div(
            {"id": f"{prefix}-audience-error", "className": "field-error", "role": "alert"}, audience_error
        )
        if audience_error
        else "",
        described_by=f"{prefix}-audience-hint",
    )
    title_id = f"{prefix}-form-title"
    return html.form(
        {"onSubmit": submit, "aria-labelledby": title_id, "noValidate": True},
        html.h2(
            {"id": title_id, "className": "sr-only"},
            ctx.t("studio.form.edit_title"),
        ),
        FormError(message=form_error or None),
        _card_fieldset(
            ctx.t("studio.form.basics"),
            text_field("title", hint=ctx.t("studio.form.title_hint", max=TITLE_MAX)),
            text_field("summary", rows=3, counter=True),
            text_field("category", hint=ctx.t("studio.form.category_hint")),
            text_field("tags", hint=ctx.t("studio.form.tags_hint", max=TAGS_MAX)),
        ),
        audience,
        _card_fieldset(
            ctx.t("studio.form.template"),
            html.p({"className": "field-hint"}, ctx.t("studio.form.template_hint")),
            *[
                text_field(key, rows=4, counter=True, hint=ctx.t(f"studio.form.{key}_hint"))
                for key in TEMPLATE
            ],
        ),
        html.button(
            {"type": "submit", "className": "btn btn-primary btn-block", "disabled": busy},
            ctx.t("common.saving") if busy else ctx.t("studio.form.save"),
        ),
    )


# Small pieces the studio screens share ---------------------------------------------------------
def upload_href(course_id: int) -> str:
    """The plain page that records or chooses the video and uploads it (upload.js)."""
    return f"/studio/courses/{course_id}/upload"


def duration_text(seconds: float) -> str:
    """3:05, or 1:02:03 for an hour or more."""
    whole = max(0, round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def size_text(size: int) -> str:
    """A file size as people read it: 820 KB, 12.5 MB."""
    if size < 1024 * 1024:
        return f"{max(1, round(size / 1024))} KB"
    return f"{size / 1024 / 1024:.1f} MB"


def status_badge(ctx: UIContext, status: str) -> Any:
    return html.span({"className": "studio-status", "data-status": status}, ctx.t(f"course.status.{status}"))


@component
def ConfirmButton(
    *,
    label: str,
    question: str,
    confirm_label: str,
    on_confirm: Callable[[], Awaitable[None]],
    danger: bool = True,
) -> Any:
    """A button that asks first: the question with a confirming and a cancelling button."""
    ctx = use_app()
    asking, set_asking = use_state(False)
    busy, set_busy = use_state(False)
    if not asking:
        return html.button(
            {
                "type": "button",
                "className": "btn btn-danger" if danger else "btn",
                "onClick": lambda _event: set_asking(True),
            },
            label,
        )

    async def confirm(_event: dict[str, Any]) -> None:
        set_busy(True)
        try:
            await on_confirm()
        finally:
            set_busy(False)
            set_asking(False)

    return html.div(
        {"className": "studio-confirm", "role": "group", "aria-label": question},
        html.p({"role": "alert"}, question),
        html.div(
            {"className": "toolbar"},
            html.button(
                {
                    "type": "button",
                    "className": "btn btn-danger" if danger else "btn btn-primary",
                    "onClick": confirm,
                    "disabled": busy,
                },
                confirm_label,
            ),
            html.button(
                {"type": "button", "className": "btn", "onClick": lambda _event: set_asking(False)},
                ctx.t("common.cancel"),
            ),
        ),
    )
