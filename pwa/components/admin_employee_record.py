"""Parts of one employee's record: the read-only detail, roles (HR) and departed/active status (HR)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reactpy import component, event, html, use_state

from backend.lib.errors import AppError
from backend.lib.policy import ROLE_AUDITOR, ROLE_HR_ADMIN, ROLE_MANAGER, ROLE_TRAINER
from backend.org.schemas import DepartmentOut, EmployeeOut
from backend.org.services import employee_set_status, roles_assign
from pwa.components.admin_widgets import department_options, errors_by_field, no_errors, parse_id
from pwa.components.widgets import FormError, error_text, event_value, field_block, role_labels
from pwa.context import use_app

ASSIGNABLE_ROLES = (ROLE_TRAINER, ROLE_MANAGER, ROLE_HR_ADMIN, ROLE_AUDITOR)
ROLE_FIELDS = {"roles": "roles", "managed_department_id": "managed_department"}
LOCALE_KEYS = {"": "me.language_auto", "zh-CN": "me.language_zh", "en": "me.language_en"}


@component
def EmployeeDetail(*, employee: EmployeeOut) -> Any:
    """What managers and auditors see: the record without a single control that writes."""
    ctx = use_app()
    rows = [
        (ctx.t("admin.employees.employee_no"), employee.employee_no),
        (ctx.t("admin.department"), employee.department.name),
        (ctx.t("admin.position"), employee.position.name if employee.position else "—"),
        (ctx.t("admin.level"), employee.level.name if employee.level else "—"),
        (ctx.t("admin.employees.manager_name"), employee.manager.name if employee.manager else "—"),
        (ctx.t("admin.employees.hire_date"), employee.hire_date.isoformat() if employee.hire_date else "—"),
        (ctx.t("admin.status"), ctx.t(f"admin.employees.status_{employee.status}")),
        (ctx.t("admin.employees.locale"), ctx.t(LOCALE_KEYS.get(employee.locale, "me.language_auto"))),
        (ctx.t("admin.employees.email"), employee.email or ctx.t("admin.employees.no_email")),
        (ctx.t("admin.employees.username"), employee.username or ctx.t("admin.employees.no_account")),
    ]
    if employee.username is not None:
        rows.append((ctx.t("me.roles"), role_labels(ctx, [*employee.roles, "employee"])))
    return html.section(
        {"aria-label": ctx.t("admin.employees.title")},
        html.div(
            {"className": "list"},
            *[
                html.div(
                    {"key": label, "className": "list-cell"},
                    html.div({"className": "list-cell-main"}, label),
                    html.div({"className": "list-cell-extra"}, value),
                )
                for label, value in rows
            ],
        ),
    )


@component
def RolesForm(
    *, employee: EmployeeOut, departments: list[DepartmentOut], on_saved: Callable[[str], None]
) -> Any:
    ctx = use_app()
    chosen, set_chosen = use_state(lambda: frozenset(r for r in employee.roles if r in ASSIGNABLE_ROLES))
    managed, set_managed = use_state(
        lambda: str(employee.managed_department.id) if employee.managed_department else ""
    )
    errors, set_errors = use_state(no_errors)
    form_error, set_form_error = use_state("")
    busy, set_busy = use_state(False)

    def toggle(role: str) -> Callable[[dict[str, Any]], None]:
        def handler(event_data: dict[str, Any]) -> None:
            checked = bool(event_data["target"].get("checked"))
            set_chosen(lambda current: current | {role} if checked else current - {role})

        return handler

    @event(prevent_default=True)
    async def submit(_event: dict[str, Any]) -> None:
        set_busy(True)
        try:
            await roles_assign(
                actor=ctx.actor,
                employee_id=employee.id,
                roles=sorted(chosen),
                managed_department_id=parse_id(managed) if ROLE_MANAGER in chosen else None,
            )
        except AppError as exc:
            by_field, message = errors_by_field(ctx, exc, ROLE_FIELDS)
            set_errors(by_field)
            set_form_error(message)
        else:
            set_errors({})
            set_form_error("")
            on_saved(ctx.t("admin.employees.roles_saved"))
        finally:
            set_busy(False)

    checkboxes = [
        html.label(
            {"key": role, "className": "chip", "htmlFor": f"employee-role-{role}"},
            html.input(
                {
                    "id": f"employee-role-{role}",
                    "type": "checkbox",
                    "checked": role in chosen,
                    "onChange": toggle(role),
                }
            ),
            ctx.t(f"role.{role}"),
        )
        for role in ASSIGNABLE_ROLES
    ]
    return html.form(
        {"className": "card", "onSubmit": submit, "aria-labelledby": "employee-roles-title"},
        html.h2({"id": "employee-roles-title"}, ctx.t("admin.employees.roles_title")),
        html.p({"className": "muted"}, ctx.t("admin.employees.roles_account", username=employee.username)),
        FormError(message=form_error or None),
        html.div(
            {
                "className": "field",
                "role": "group",
                "aria-label": ctx.t("me.roles"),
                **({"aria-describedby": "employee-roles-error"} if errors.get("roles") else {}),
            },
            html.div({"className": "toolbar"}, *checkboxes),
            html.div({"id": "employee-roles-error", "className": "field-error"}, errors["roles"])
            if errors.get("roles")
            else "",
        ),
        field_block(
            field_id="employee-managed-department",
            label=ctx.t("admin.employees.managed_department"),
            hint=ctx.t("admin.employees.managed_department_hint"),
            error=errors.get("managed_department", ""),
            control=html.select(
                {
                    "id": "employee-managed-department",
                    "className": "input",
                    "value": managed,
                    "onChange": lambda e: set_managed(event_value(e)),
                },
                html.option({"key": "none", "value": ""}, ctx.t("admin.choose_department")),
                *department_options(departments),
            ),
        )
        if ROLE_MANAGER in chosen
        else "",
        html.button(
            {"type": "submit", "className": "btn btn-primary btn-block", "disabled": busy},
            ctx.t("common.saving") if busy else ctx.t("admin.employees.roles_save"),
        ),
    )


@component
def StatusActions(*, employee: EmployeeOut, on_changed: Callable[..., None]) -> Any:
    """Mark departed (after a confirming second tap) or active again."""
    ctx = use_app()
    confirming, set_confirming = use_state(False)
    error, set_error = use_state("")

    async def set_active(active: bool) -> None:
        set_confirming(False)
        try:
            await employee_set_status(actor=ctx.actor, employee_id=employee.id, active=active)
        except AppError as exc:
            set_error(error_text(ctx, exc))
            return
        set_error("")
        if active:
            on_changed(ctx.t("admin.employees.reactivated"))
        else:
            on_changed(ctx.t("admin.employees.deactivated", name=employee.name), offer_undo=True)

    async def deactivate(_event: dict[str, Any]) -> None:
        await set_active(False)

    async def reactivate(_event: dict[str, Any]) -> None:
        await set_active(True)

    if employee.status == "departed":
        text = ctx.t("admin.employees.departed_text")
        buttons: list[Any] = [
            html.button(
                {
                    "key": "on",
                    "type": "button",
                    "className": "btn btn-primary btn-block",
                    "onClick": reactivate,
                },
                ctx.t("admin.employees.reactivate"),
            )
        ]
    elif confirming:
        text = ctx.t("admin.employees.deactivate_confirm_text", name=employee.name)
        buttons = [
            html.button(
                {
                    "key": "yes",
                    "type": "button",
                    "className": "btn btn-danger btn-block",
                    "onClick": deactivate,
                },
                ctx.t("admin.employees.deactivate_confirm"),
            ),
            html.button(
                {
                    "key": "no",
                    "type": "button",
                    "className": "btn btn-block",
                    "onClick": lambda _e: set_confirming(False),
                },
                ctx.t("common.cancel"),
            ),
        ]
    else:
        text = ctx.t("admin.employees.deactivate_text")
        buttons = [
            html.button(
                {
                    "key": "ask",
                    "type": "button",
                    "className": "btn btn-danger btn-block",
                    "onClick": lambda _e: set_confirming(True),
                },
                ctx.t("admin.employees.deactivate"),
            )
        ]
    return html.section(
        {"className": "card", "aria-labelledby": "employee-status-title"},
        html.h2({"id": "employee-status-title"}, ctx.t("admin.employees.status_title")),
        FormError(message=error or None),
        html.p({"className": "muted", **({"role": "alert"} if confirming else {})}, text),
        *buttons,
    )
