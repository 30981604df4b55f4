"""Pieces the points admin and manager pages share: the frame, labels, form fields, typed-value parsing
and a confirming step for actions that cannot be taken back."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from reactpy import component, html, use_ref, use_state

from backend.lib.errors import AppError, ValidationFailed
from backend.lib.policy import Actor
from backend.org.schemas import DepartmentOut, Ref
from backend.org.selectors import department_list, level_list, position_list
from pwa.components.admin_widgets import errors_by_field
from pwa.components.shell import AppShell, PageHeader
from pwa.components.widgets import FormError, error_text, event_value, field_block
from pwa.context import UIContext, use_app

# A fieldset drawn as a card body (app.css has no fieldset rules): no groove, legend as a heading.
FIELDSET_STYLE = {"border": "0", "minWidth": "0", "margin": "0", "padding": "0"}
LEGEND_STYLE = {"padding": "0", "marginBottom": "12px", "fontWeight": "600", "fontSize": "1.0625rem"}


def points_frame(
    ctx: UIContext,
    *,
    active: str,
    title: str,
    children: list[Any],
    back_href: str | None = None,
    back_label: str = "",
    actions: Any = None,
) -> Any:
    """The app shell with the page's header (and a way back) above `children`."""
    return AppShell(
        ctx=ctx,
        active=active,
        title=title,
        children=html.div(
            PageHeader(title=title, actions=actions, back_href=back_href, back_label=back_label), *children
        ),
    )


def org_today(ctx: UIContext) -> dt.date:
    return dt.datetime.now(ZoneInfo(ctx.settings.i18n.timezone)).date()


def local_time(ctx: UIContext, value: dt.datetime | None) -> str:
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(ZoneInfo(ctx.settings.i18n.timezone)).strftime("%Y-%m-%d %H:%M")


def message_or(ctx: UIContext, key: str, fallback: str) -> str:
    """The catalog's message for `key`, or `fallback` when the catalog has none (custom kinds)."""
    text = ctx.t(key)
    return fallback if text == key else text


def kind_label(ctx: UIContext, kind: str) -> str:
    return message_or(ctx, f"points.kind.{kind}", kind)


def category_label(ctx: UIContext, category: str) -> str:
    return message_or(ctx, f"points.category.{category}", category)


def joined(ctx: UIContext, parts: list[str]) -> str:
    return ("、" if ctx.locale == "zh-CN" else ", ").join(parts)


def scope_text(ctx: UIContext, department: Ref | None, position: Ref | None, level: Ref | None) -> str:
    """Who a rule or target is for: 全公司, or its department / position / level."""
    parts = [ref.name for ref in (department, position, level) if ref is not None]
    return " · ".join(parts) if parts else ctx.t("padmin.scope_everyone")


@dataclass(frozen=True)
class ScopeChoices:
    """What a rule, target or reward may be scoped to."""

    departments: list[DepartmentOut]
    positions: list[Ref]
    levels: list[Ref]


async def scope_choices(actor: Actor | None) -> ScopeChoices:
    return ScopeChoices(
        departments=await department_list(actor=actor),
        positions=await position_list(),
        levels=await level_list(),
    )


def department_choices(
    ctx: UIContext, departments: list[DepartmentOut], *, everyone_key: str
) -> list[tuple[str, str]]:
    """Departments in tree order, indented by depth (an option holds no markup: with spaces)."""
    return [("", ctx.t(everyone_key)), *[(str(d.id), "\u3000" * d.depth + d.name) for d in departments]]


def ref_options(ctx: UIContext, refs: list[Ref], *, everyone_key: str) -> list[tuple[str, str]]:
    return [("", ctx.t(everyone_key)), *[(str(ref.id), ref.name) for ref in refs]]


# typed values -----------------------------------------------------------------------------
def whole_number(value: str, field: str, low: int, high: int, *, required: bool = True) -> int | None:
    """A whole number typed in a field, within [low, high]; None for an empty optional field."""
    text = value.strip()
    if not text:
        if required:
            raise ValidationFailed("error.required", field=field)
        return None
    try:
        number = int(text)
    except ValueError:
        raise ValidationFailed("error.points_out_of_range", field=field, min=low, max=high) from None
    if not low <= number <= high:
        raise ValidationFailed("error.points_out_of_range", field=field, min=low, max=high)
    return number


def typed_date(value: str, field: str, *, required: bool = False) -> dt.date | None:
    text = value.strip()
    if not text:
        if required:
            raise ValidationFailed("error.required", field=field)
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValidationFailed("padmin.date_invalid", field=field) from None


def optional_id(value: str) -> int | None:
    return int(value) if value.isdigit() else None


class Checked:
    """Collects one message per form field while a form's values are parsed."""

    def __init__(self, ctx: UIContext, fields: dict[str, str]) -> None:
        self.ctx = ctx
        self.fields = fields
        self.errors: dict[str, str] = {}

    def run(self, function: Callable[[], Any]) -> Any:
        try:
            return function()
        except AppError as exc:
            self.add(exc)
            return None

    def add(self, exc: AppError) -> None:
        by_field, message = errors_by_field(self.ctx, exc, self.fields)
        for key, text in (by_field or {"form": message}).items():
            self.errors.setdefault(key, text)


# form fields ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Fields:
    """Labelled controls of one form: values and errors by key, ids `<prefix>-<key>`."""

    prefix: str
    values: dict[str, str]
    errors: dict[str, str]
    on_change: Callable[[str, str], None]
    busy: bool = False

    def field_id(self, key: str) -> str:
        return f"{self.prefix}-{key.replace('_', '-')}"

    def _changed(self, key: str) -> Callable[[dict[str, Any]], None]:
        return lambda event_data: self.on_change(key, event_value(event_data))

    def text(self, key: str, label: str, *, kind: str = "text", hint: str = "", **extra: Any) -> Any:
        field_id = self.field_id(key)
        control = html.input(
            {
                "id": field_id,
                "type": kind,
                "className": "input",
                "value": self.values.get(key, ""),
                "onChange": self._changed(key),
                "disabled": self.busy,
                **({"inputMode": "numeric"} if kind == "number" else {}),
                **extra,
            }
        )
        return field_block(
            field_id=field_id, label=label, hint=hint, error=self.errors.get(key, ""), control=control
        )

    def area(self, key: str, label: str, *, max_length: int, hint: str = "", rows: int = 3) -> Any:
        field_id = self.field_id(key)
        control = html.textarea(
            {
                "id": field_id,
                "className": "input",
                "rows": rows,
                "maxLength": max_length,
                "value": self.values.get(key, ""),
                "onChange": self._changed(key),
                "disabled": self.busy,
            }
        )
        return field_block(
            field_id=field_id, label=label, hint=hint, error=self.errors.get(key, ""), control=control
        )

    def select(self, key: str, label: str, options: list[tuple[str, str]], *, hint: str = "") -> Any:
        field_id = self.field_id(key)
        control = html.select(
            {
                "id": field_id,
                "className": "input",
                "value": self.values.get(key, ""),
                "onChange": self._changed(key),
                "disabled": self.busy,
            },
            *[html.option({"key": value or "-", "value": value}, text) for value, text in options],
        )
        return field_block(
            field_id=field_id, label=label, hint=hint, error=self.errors.get(key, ""), control=control
        )


def card_fieldset(legend: str, *children: Any) -> Any:
    return html.div(
        {"className": "card"},
        html.fieldset({"style": FIELDSET_STYLE}, html.legend({"style": LEGEND_STYLE}, legend), *children),
    )


@dataclass(frozen=True)
class FormState:
    values: dict[str, str]
    latest: Any  # a ref holding what the fields hold right now
    change: Callable[[str, str], None]
    replace: Callable[[dict[str, str]], None]


def use_form(initial: Callable[[], dict[str, str]]) -> FormState:
    """A form's values. Saving reads `latest.current`: a submit may arrive before the render that
    follows a change, so the values of the render it was made in may be stale."""
    values, set_values = use_state(initial)
    latest = use_ref(values)

    def change(key: str, value: str) -> None:
        latest.current = {**latest.current, key: value}
        set_values(latest.current)

    def replace(new_values: dict[str, str]) -> None:
        latest.current = dict(new_values)
        set_values(latest.current)

    return FormState(values=values, latest=latest, change=change, replace=replace)


# confirming ---------------------------------------------------------------------------------
@component
def ConfirmStep(
    *,
    label: str,
    question: str,
    confirm_label: str,
    on_confirm: Callable[[str], Awaitable[None]],
    field_id: str,
    reason_label: str = "",
    reason_required: bool = False,
    danger: bool = True,
    aria_label: str = "",
) -> Any:
    """A button that asks first: the question (and a reason, when asked for), confirm or cancel.

    `on_confirm(reason)` may raise an AppError: its message stays next to the reason or above.
    """
    ctx = use_app()
    asking, set_asking = use_state(False)
    reason, set_reason = use_state("")
    error, set_error = use_state("")
    busy, set_busy = use_state(False)
    if not asking:
        return html.button(
            {
                "type": "button",
                "className": "btn btn-danger" if danger else "btn btn-primary",
                "onClick": lambda _event: set_asking(True),
                **({"aria-label": aria_label} if aria_label else {}),
            },
            label,
        )

    async def confirm(_event: dict[str, Any]) -> None:
        if reason_required and not reason.strip():
            set_error(ctx.t("padmin.reason_required"))
            return
        set_busy(True)
        try:
            await on_confirm(reason.strip())
        except AppError as exc:
            set_error(error_text(ctx, exc))
            set_busy(False)
            return
        set_busy(False)
        set_error("")
        set_reason("")
        set_asking(False)

    def cancel(_event: dict[str, Any]) -> None:
        set_error("")
        set_asking(False)

    question_id = f"{field_id}-question"
    reason_block = (
        field_block(
            field_id=field_id,
            label=reason_label,
            error=error,
            control=html.textarea(
                {
                    "id": field_id,
                    "className": "input",
                    "rows": 2,
                    "maxLength": 500,
                    "value": reason,
                    "onChange": lambda event_data: set_reason(event_value(event_data)),
                    "disabled": busy,
                }
            ),
        )
        if reason_label
        else FormError(message=error or None)
    )
    return html.div(
        # In a toolbar the question takes a whole row of its own.
        {
            "className": "card",
            "role": "group",
            "aria-labelledby": question_id,
            "style": {"flexBasis": "100%"},
        },
        html.p({"id": question_id, "role": "alert"}, question),
        reason_block,
        html.div(
            {"className": "toolbar"},
            html.button(
                {
                    "type": "button",
                    "className": "btn btn-danger" if danger else "btn btn-primary",
                    "onClick": confirm,
                    "disabled": busy,
                },
                ctx.t("common.saving") if busy else confirm_label,
            ),
            html.button({"type": "button", "className": "btn", "onClick": cancel}, ctx.t("common.cancel")),
        ),
    )
