"""The HR form that creates an employee (optionally with an account) or edits one."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import msgspec
from reactpy import component, event, html, use_state

from backend.lib.errors import AppError, ValidationFailed
from backend.org.schemas import EmployeeIn, EmployeeUpdate
from backend.org.selectors import employee_list
from backend.org.services import employee_create, employee_update
from pwa.components.admin_widgets import (
    department_options,
    errors_by_field,
    invalid_field,
    no_errors,
    parse_id,
)
from pwa.components.widgets import FormError, event_value, field_block
from pwa.context import UIContext, use_app

# service/struct field -> form field
FIELDS = {
    "employee_no": "employee_no",
    "name": "name",
    "department_id": "department",
    "position_id": "position",
    "level_id": "level",
    "manager_id": "manager",
    "hire_date": "hire_date",
    "locale": "locale",
    "email": "email",
    "username": "username",
    "password": "password",
    "new_password": "password",
}

# fields whose format rules get their own explanation (the others are picked from lists)
EXPLAINED = ("employee_no", "name", "username", "password")


def _initial(data: Any) -> dict[str, str]:
    employee = data.employee
    if employee is None:
        return {
            key: ""
            for key in (
                "employee_no",
                "name",
                "department",
                "position",
                "level",
                "manager",
                "hire_date",
                "locale",
                "email",
                "username",
                "password",
            )
        }
    return {
        "employee_no": employee.employee_no,
        "name": employee.name,
        "department": str(employee.department.id),
        "position": str(employee.position.id) if employee.position else "",
        "level": str(employee.level.id) if employee.level else "",
        "manager": data.manager_no,
        "hire_date": employee.hire_date.isoformat() if employee.hire_date else "",
        "locale": employee.locale,
        "email": employee.email,
        "username": "",
        "password": "",
    }


async def _manager_id(actor: Any, employee_no: str) -> int | None:
    """The id of the person with this 工号 ("" means no manager)."""
    if not employee_no:
        return None
    found = await employee_list(actor=actor, q=employee_no, page_size=100)
    for person in found.items:
        if person.employee_no == employee_no:
            return person.id
    raise ValidationFailed("admin.employees.manager_not_found", field="manager_id", employee_no=employee_no)


def _hire_date(value: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed("admin.employees.date_invalid", field="hire_date") from None


@component
def EmployeeForm(*, data: Any, on_saved: Callable[[int, str], None]) -> Any:
    ctx = use_app()
    employee = data.employee
    creating = employee is None
    values, set_values = use_state(lambda: _initial(data))
    errors, set_errors = use_state(no_errors)
    form_error, set_form_error = use_state("")
    busy, set_busy = use_state(False)

    def change(key: str) -> Callable[[dict[str, Any]], None]:
        def handler(event_data: dict[str, Any]) -> None:
            value = event_value(event_data)
            set_values(lambda current: {**current, key: value})

        return handler

    async def save() -> tuple[int, str]:
        department_id = parse_id(values["department"])
        if department_id is None:
            raise ValidationFailed("admin.employees.department_required", field="department_id")
        fields: dict[str, Any] = {
            "name": values["name"].strip(),
            "department_id": department_id,
            "position_id": parse_id(values["position"]),
            "level_id": parse_id(values["level"]),
            "manager_id": await _manager_id(ctx.actor, values["manager"].strip()),
            "hire_date": _hire_date(values["hire_date"]),
            "locale": values["locale"],
            "email": values["email"],  # checked (and trimmed) by the service
        }
        if creating:
            fields |= {
                "employee_no": values["employee_no"].strip(),
                "username": values["username"].strip() or None,
                "password": values["password"] or None,
            }
        schema: type[EmployeeIn | EmployeeUpdate] = EmployeeIn if creating else EmployeeUpdate
        try:
            parsed = msgspec.convert(fields, schema)
        except msgspec.ValidationError as exc:
            field = invalid_field(exc)
            key = f"admin.employees.invalid_{field}" if field in EXPLAINED else "error.invalid"
            raise ValidationFailed(key, field=field) from None
        if employee is None:
            new_id = await employee_create(actor=ctx.actor, **msgspec.structs.asdict(parsed))
            return new_id, parsed.name
        await employee_update(actor=ctx.actor, employee_id=employee.id, **msgspec.structs.asdict(parsed))
        return employee.id, parsed.name

    @event(prevent_default=True)
    async def submit(_event: dict[str, Any]) -> None:
        set_busy(True)
        try:
            saved_id, name = await save()
        except AppError as exc:
            by_field, message = errors_by_field(ctx, exc, FIELDS)
            set_errors(by_field)
            set_form_error(message)
            set_busy(False)
            return
        if not creating:
            set_errors({})
            set_form_error("")
            set_busy(False)
        # After a create the page swaps this form for the outcome: no render of it may follow, or a
        # late one lands where the outcome now is (ReactPy renders components in parallel tasks).
        on_saved(saved_id, name)

    def text_field(
        key: str, *, kind: str = "text", max_length: int = 100, hint: str = "", **extra: Any
    ) -> Any:
        field_id = f"employee-{key.replace('_', '-')}"
        return field_block(
            field_id=field_id,
            label=ctx.t(f"admin.employees.{key}"),
            hint=hint,
            error=errors.get(key, ""),
            control=html.input(
                {
                    "id": field_id,
                    "type": kind,
                    "className": "input",
                    **({} if kind == "date" else {"maxLength": max_length}),
                    "value": values[key],
                    "onChange": change(key),
                    **extra,
                }
            ),
        )

    def select_field(key: str, options: list[Any], *, empty_label: str) -> Any:
        field_id = f"employee-{key}"
        return field_block(
            field_id=field_id,
            label=ctx.t(
                f"admin.{key}" if key in ("department", "position", "level") else f"admin.employees.{key}"
            ),
            error=errors.get(key, ""),
            control=html.select(
                {"id": field_id, "className": "input", "value": values[key], "onChange": change(key)},
                html.option({"key": "none", "value": ""}, empty_label),
                *options,
            ),
        )

    manager_hint = ctx.t("admin.employees.manager_hint")
    if employee is not None and employee.manager is not None:
        manager_hint += " " + ctx.t("admin.employees.manager_current", name=employee.manager.name)
    title_key = "admin.employees.create_title" if creating else "admin.employees.edit_title"
    return html.form(
        {
            "className": "card",
            "onSubmit": submit,
            "aria-labelledby": "employee-form-title",
            "noValidate": True,
        },
        html.h2({"id": "employee-form-title"}, ctx.t(title_key)),
        FormError(message=form_error or None),
        text_field("employee_no", max_length=32, required=True, autoCapitalize="characters")
        if creating
        else _read_only_row(ctx, employee.employee_no),
        text_field("name", required=True),
        select_field(
            "department", department_options(data.departments), empty_label=ctx.t("admin.choose_department")
        ),
        select_field("position", _ref_options(data.positions), empty_label=ctx.t("admin.unspecified")),
        select_field("level", _ref_options(data.levels), empty_label=ctx.t("admin.unspecified")),
        text_field("manager", max_length=32, hint=manager_hint, autoCapitalize="characters"),
        text_field("hire_date", kind="date"),
        select_field(
            "locale",
            [
                html.option({"key": "zh-CN", "value": "zh-CN"}, ctx.t("me.language_zh")),
                html.option({"key": "en", "value": "en"}, ctx.t("me.language_en")),
            ],
            empty_label=ctx.t("me.language_auto"),
        ),
        text_field(
            "email",
            kind="email",
            max_length=254,
            hint=ctx.t("admin.employees.email_hint"),
            inputMode="email",
            autoComplete="off",
            autoCapitalize="none",
            spellCheck=False,
        ),
        _account_fields(ctx, text_field) if creating else "",
        html.button(
            {"type": "submit", "className": "btn btn-primary btn-block", "disabled": busy},
            ctx.t("common.saving")
            if busy
            else ctx.t("admin.employees.create" if creating else "common.save"),
        ),
    )


def _ref_options(refs: Any) -> list[Any]:
    return [html.option({"key": str(ref.id), "value": str(ref.id)}, ref.name) for ref in refs]


def _read_only_row(ctx: UIContext, employee_no: str) -> Any:
    return html.div(
        {"className": "field"},
        html.span({"className": "field-label"}, ctx.t("admin.employees.employee_no")),
        html.span(employee_no),
    )


def _account_fields(ctx: UIContext, text_field: Callable[..., Any]) -> Any:
    return html.section(
        {"aria-labelledby": "employee-account-title"},
        html.h3({"id": "employee-account-title"}, ctx.t("admin.employees.account_title")),
        html.p({"className": "muted"}, ctx.t("admin.employees.account_hint")),
        text_field("username", max_length=64, autoComplete="off", autoCapitalize="none"),
        text_field("password", kind="password", max_length=128, autoComplete="new-password"),
    )
