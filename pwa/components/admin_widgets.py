"""Pieces the HR admin pages share: guarded loading, department options, error mapping, states."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, TypeVar

import msgspec
from reactpy import component, html

from backend.lib.errors import AppError
from backend.org.schemas import DepartmentOut
from pwa.components.widgets import EmptyState, error_text
from pwa.context import UIContext, use_app
from pwa.hooks import use_async_value

T = TypeVar("T")
_STRUCT_PATH = re.compile(r"at `\$\.(\w+)")


def use_loaded(load: Callable[[], Awaitable[T]], dependencies: Sequence[Any]) -> T | AppError | None:
    """Like use_async_value, but an AppError from `load` comes back as the value, to be rendered."""

    async def guarded() -> T | AppError:
        try:
            return await load()
        except AppError as exc:
            return exc

    return use_async_value(guarded, dependencies)


def department_options(
    departments: Iterable[DepartmentOut], *, exclude: frozenset[int] = frozenset()
) -> list[Any]:
    """<option>s in tree order, indented by depth (an option cannot hold markup, so with spaces)."""
    return [
        html.option({"key": str(d.id), "value": str(d.id)}, "\u3000" * d.depth + d.name)
        for d in departments
        if d.id not in exclude
    ]


def errors_by_field(ctx: UIContext, exc: AppError, fields: dict[str, str]) -> tuple[dict[str, str], str]:
    """Split a service error into (messages under form fields, message for the whole form)."""
    message = error_text(ctx, exc)
    if exc.field and exc.field in fields:
        return {fields[exc.field]: message}, ""
    return {}, message


def invalid_field(exc: msgspec.ValidationError) -> str:
    """The struct field a msgspec validation error is about ("" when it does not say)."""
    match = _STRUCT_PATH.search(str(exc))
    return match.group(1) if match else ""


def no_errors() -> dict[str, str]:
    """Initial state of a form's field errors (a function, so each form gets its own dict)."""
    return {}


def parse_id(value: str) -> int | None:
    return int(value) if value.isdigit() else None


@component
def NoPermission() -> Any:
    ctx = use_app()
    return EmptyState(
        icon="🔒",
        title=ctx.t("admin.no_permission_title"),
        text=ctx.t("admin.no_permission_text"),
        action=html.a({"className": "btn btn-primary", "href": "/"}, ctx.t("nav.home")),
    )


@component
def UndoToast(*, message: str, on_undo: Callable[[], Awaitable[None]]) -> Any:
    ctx = use_app()

    async def undo(_event: dict[str, Any]) -> None:
        await on_undo()

    return html.div(
        {"className": "toast", "role": "status", "aria-live": "polite"},
        html.span(message),
        " ",
        html.button({"type": "button", "className": "btn", "onClick": undo}, ctx.t("common.undo")),
    )
