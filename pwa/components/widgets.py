"""Small shared widgets: empty states, loading, toasts, pagination, form fields, role labels."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reactpy import component, html

from backend.lib.errors import AppError
from pwa.context import UIContext


@component
def EmptyState(*, icon: str, title: str, text: str, action: Any = None) -> Any:
    return html.section(
        {"className": "empty-state", "aria-label": title},
        html.div({"className": "empty-state-icon", "aria-hidden": "true"}, icon),
        html.h2(title),
        html.p({"className": "muted"}, text),
        action,
    )


@component
def Loading(*, label: str) -> Any:
    return html.div(
        {"className": "loading-row", "role": "status", "aria-live": "polite"},
        html.span({"className": "loading", "aria-hidden": "true"}),
        html.span(label),
    )


@component
def Toast(*, message: str | None) -> Any:
    if not message:
        return html.div({"className": "sr-only", "role": "status", "aria-live": "polite"})
    return html.div({"className": "toast", "role": "status", "aria-live": "polite"}, message)


@component
def FormError(*, message: str | None) -> Any:
    if not message:
        return html.div({"className": "sr-only", "aria-live": "assertive"})
    return html.div({"className": "form-error", "role": "alert"}, message)


@component
def Pager(*, ctx: UIContext, page: int, pages: int, total: int, on_page: Callable[[int], None]) -> Any:
    return html.nav(
        {"className": "pager", "aria-label": ctx.t("common.page_of", page=page, pages=pages)},
        html.button(
            {
                "className": "btn",
                "type": "button",
                "disabled": page <= 1,
                "onClick": lambda _event: on_page(page - 1),
            },
            ctx.t("common.previous"),
        ),
        html.span(
            {"className": "muted"},
            ctx.t("common.page_of", page=page, pages=pages),
            " · ",
            ctx.t("common.total", total=total),
        ),
        html.button(
            {
                "className": "btn",
                "type": "button",
                "disabled": page >= pages,
                "onClick": lambda _event: on_page(page + 1),
            },
            ctx.t("common.next"),
        ),
    )


def field_block(*, field_id: str, label: str, control: Any, hint: str = "", error: str = "") -> Any:
    """A labelled form control with an optional hint and error, wired for screen readers."""
    described = " ".join(
        part for part in (f"{field_id}-hint" if hint else "", f"{field_id}-error" if error else "") if part
    )
    if described and isinstance(control, dict):
        control.setdefault("attributes", {})["aria-describedby"] = described
        if error:
            control["attributes"]["aria-invalid"] = "true"
    return html.div(
        {"className": "field"},
        html.label({"htmlFor": field_id}, label),
        control,
        html.div({"id": f"{field_id}-hint", "className": "field-hint"}, hint) if hint else "",
        html.div({"id": f"{field_id}-error", "className": "field-error"}, error) if error else "",
    )


def error_text(ctx: UIContext, exc: AppError) -> str:
    return ctx.t(exc.key, **exc.params)


def role_labels(ctx: UIContext, roles: list[str] | frozenset[str]) -> str:
    order = ["hr_admin", "manager", "trainer", "auditor", "employee"]
    return (
        "、".join(ctx.t(f"role.{role}") for role in order if role in roles)
        if ctx.locale == "zh-CN"
        else ", ".join(ctx.t(f"role.{role}") for role in order if role in roles)
    )


def event_value(event_data: dict[str, Any]) -> str:
    """The value of the control an onChange came from.

    ReactPy's client serialises any target with a length and an iterator as a list: a <select>
    arrives as the list of its options, so its value is the selected option's.
    """
    target = event_data.get("target")
    if isinstance(target, dict):
        return str(target.get("value", ""))
    if isinstance(target, list):
        for option in target:
            if isinstance(option, dict) and option.get("selected"):
                return str(option.get("value", ""))
    return ""
