"""HR admin: the department tree with head counts; HR creates, renames, moves and deletes departments."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reactpy import component, event, html, use_state

from backend.lib.errors import AppError, PermissionDenied
from backend.lib.policy import ROLE_HR_ADMIN, actor_require
from backend.org.schemas import DepartmentOut
from backend.org.selectors import department_list
from backend.org.services import department_create, department_delete, department_update
from pwa.components.admin_widgets import (
    NoPermission,
    department_options,
    errors_by_field,
    no_errors,
    parse_id,
    use_loaded,
)
from pwa.components.shell import AppShell, PageHeader
from pwa.components.widgets import FormError, Loading, Toast, error_text, event_value, field_block
from pwa.context import use_app

FIELDS = {"name": "name", "parent_id": "parent", "department_id": "parent"}


@component
def DepartmentPage() -> Any:
    ctx = use_app()
    actor = actor_require(ctx.actor)
    can_edit = actor.has(ROLE_HR_ADMIN)
    version, set_version = use_state(0)
    toast, set_toast = use_state("")

    async def load() -> list[DepartmentOut]:
        if not actor.sees_whole_organisation:
            raise PermissionDenied()
        return await department_list(actor=actor)

    departments = use_loaded(load, [actor.account_id, version])
    title = ctx.t("nav.departments")

    def changed(message: str) -> None:
        set_toast(message)
        set_version(lambda v: v + 1)

    if departments is None:
        body: Any = Loading(label=ctx.t("app.loading"))
    elif isinstance(departments, AppError):
        body = NoPermission()
    else:
        names = {d.id: d.name for d in departments}
        body = html.div(
            DepartmentCreateForm(departments=departments, on_created=changed) if can_edit else "",
            html.section(
                {"aria-labelledby": "department-tree-title"},
                html.h2({"id": "department-tree-title"}, ctx.t("admin.departments.tree_title")),
                html.div(
                    {"className": "list"},
                    *[
                        DepartmentRow(
                            key=str(d.id),
                            department=d,
                            departments=departments,
                            parent_name=names.get(d.parent_id or 0, ""),
                            can_edit=can_edit,
                            on_changed=changed,
                        )
                        for d in departments
                    ],
                ),
            ),
        )
    return AppShell(
        ctx=ctx,
        active="admin/departments",
        title=title,
        children=html.div(PageHeader(title=title), body, Toast(message=toast or None)),
    )


@component
def DepartmentCreateForm(*, departments: list[DepartmentOut], on_created: Callable[[str], None]) -> Any:
    ctx = use_app()
    name, set_name = use_state("")
    parent, set_parent = use_state(str(departments[0].id) if departments else "")
    errors, set_errors = use_state(no_errors)
    form_error, set_form_error = use_state("")

    @event(prevent_default=True)
    async def submit(_event: dict[str, Any]) -> None:
        try:
            await department_create(actor=ctx.actor, name=name[:100], parent_id=parse_id(parent))
        except AppError as exc:
            by_field, message = errors_by_field(ctx, exc, FIELDS)
            set_errors(by_field)
            set_form_error(message)
            return
        set_errors({})
        set_form_error("")
        set_name("")
        on_created(ctx.t("admin.departments.created", name=name.strip()))

    return html.form(
        {
            "className": "card",
            "onSubmit": submit,
            "aria-labelledby": "department-create-title",
            "noValidate": True,
        },
        html.h2({"id": "department-create-title"}, ctx.t("admin.departments.create_title")),
        FormError(message=form_error or None),
        *_name_and_parent_fields(
            ctx,
            id_prefix="department-new",
            labels=("admin.departments.new_name", "admin.departments.new_parent"),
            name=(name, set_name),
            parent_select=_parent_select(ctx, "department-new-parent", parent, set_parent, departments),
            errors=errors,
        ),
        html.button(
            {"type": "submit", "className": "btn btn-primary btn-block"}, ctx.t("admin.departments.create")
        ),
    )


def _name_and_parent_fields(
    ctx: Any,
    *,
    id_prefix: str,
    labels: tuple[str, str],
    name: tuple[str, Any],
    parent_select: Any,
    errors: dict[str, str],
) -> tuple[Any, Any]:
    """The name input and the parent select, shared by the create form and each row's edit form."""
    value, set_value = name
    return (
        field_block(
            field_id=f"{id_prefix}-name",
            label=ctx.t(labels[0]),
            error=errors.get("name", ""),
            control=html.input(
                {
                    "id": f"{id_prefix}-name",
                    "className": "input",
                    "maxLength": 100,
                    "required": True,
                    "value": value,
                    "onChange": lambda e: set_value(event_value(e)),
                }
            ),
        ),
        field_block(
            field_id=f"{id_prefix}-parent",
            label=ctx.t(labels[1]),
            error=errors.get("parent", ""),
            control=parent_select,
        ),
    )


def _parent_select(
    ctx: Any,
    field_id: str,
    value: str,
    set_value: Callable[[str], None],
    departments: list[DepartmentOut],
    *,
    exclude: frozenset[int] = frozenset(),
) -> Any:
    return html.select(
        {
            "id": field_id,
            "className": "input",
            "value": value,
            "onChange": lambda e: set_value(event_value(e)),
        },
        html.option({"key": "top", "value": ""}, ctx.t("admin.departments.top_level")),
        *department_options(departments, exclude=exclude),
    )


def _subtree(department: DepartmentOut, departments: list[DepartmentOut]) -> frozenset[int]:
    """The department and everything under it (tree order: descendants follow, deeper)."""
    ids = {department.id}
    start = departments.index(department)
    for other in departments[start + 1 :]:
        if other.depth <= department.depth:
            break
        ids.add(other.id)
    return frozenset(ids)


@component
def DepartmentRow(
    *,
    department: DepartmentOut,
    departments: list[DepartmentOut],
    parent_name: str,
    can_edit: bool,
    on_changed: Callable[[str], None],
) -> Any:
    ctx = use_app()
    mode, set_mode = use_state("view")  # view | edit | confirm_delete
    name, set_name = use_state(department.name)
    parent, set_parent = use_state(str(department.parent_id or ""))
    errors, set_errors = use_state(no_errors)
    row_error, set_row_error = use_state("")
    d = department

    def to(new_mode: str) -> Callable[[Any], None]:
        def handler(_event: Any) -> None:
            set_row_error("")
            set_errors({})
            set_name(d.name)
            set_parent(str(d.parent_id or ""))
            set_mode(new_mode)

        return handler

    @event(prevent_default=True)
    async def save(_event: dict[str, Any]) -> None:
        try:
            await department_update(
                actor=ctx.actor, department_id=d.id, name=name[:100], parent_id=parse_id(parent)
            )
        except AppError as exc:
            by_field, message = errors_by_field(ctx, exc, FIELDS)
            set_errors(by_field)
            set_row_error(message)
            return
        set_mode("view")
        on_changed(ctx.t("common.saved"))

    async def delete(_event: dict[str, Any]) -> None:
        set_mode("view")
        try:
            await department_delete(actor=ctx.actor, department_id=d.id)
        except AppError as exc:
            set_row_error(error_text(ctx, exc))
            return
        on_changed(ctx.t("admin.departments.deleted", name=d.name))

    sub = ctx.t("admin.departments.count", count=d.employee_count)
    if parent_name:
        sub = ctx.t("admin.departments.under", parent=parent_name) + " · " + sub
    actions: list[Any] = []
    if can_edit and mode == "view":
        actions = [
            _row_button(
                "edit", ctx.t("common.edit"), ctx.t("admin.departments.edit_label", name=d.name), to("edit")
            ),
            _row_button(
                "delete",
                ctx.t("common.delete"),
                ctx.t("admin.departments.delete_label", name=d.name),
                to("confirm_delete"),
            ),
        ]
    elif can_edit and mode == "confirm_delete":
        actions = [
            _row_button(
                "confirm",
                ctx.t("admin.departments.delete_confirm"),
                ctx.t("admin.departments.delete_confirm_label", name=d.name),
                delete,
                danger=True,
            ),
            _row_button(
                "cancel",
                ctx.t("common.cancel"),
                ctx.t("admin.departments.cancel_label", name=d.name),
                to("view"),
            ),
        ]
    cell = html.div(
        {
            "className": "list-cell",
            "style": {"paddingInlineStart": f"calc(var(--space-4) + {d.depth * 1.25}rem)"},
        },
        html.div(
            {"className": "list-cell-main"},
            html.span({"className": "list-cell-title"}, d.name),
            html.span({"className": "list-cell-sub"}, sub),
        ),
        html.div({"className": "list-cell-extra"}, *actions) if actions else "",
    )
    edit_form = html.form(
        {
            "className": "card",
            "onSubmit": save,
            "aria-label": ctx.t("admin.departments.edit_form", name=d.name),
            "noValidate": True,
        },
        FormError(message=row_error or None),
        *_name_and_parent_fields(
            ctx,
            id_prefix=f"department-{d.id}",
            labels=("admin.departments.name", "admin.departments.parent"),
            name=(name, set_name),
            parent_select=_parent_select(
                ctx,
                f"department-{d.id}-parent",
                parent,
                set_parent,
                departments,
                exclude=_subtree(d, departments),
            ),
            errors=errors,
        ),
        html.div(
            {"className": "toolbar"},
            html.button({"type": "submit", "className": "btn btn-primary"}, ctx.t("common.save")),
            html.button(
                {"type": "button", "className": "btn", "onClick": to("view")}, ctx.t("common.cancel")
            ),
        ),
    )
    return html.div(
        cell,
        edit_form if mode == "edit" else "",
        html.div({"className": "form-error", "role": "alert"}, row_error)
        if row_error and mode != "edit"
        else "",
    )


def _row_button(key: str, text: str, label: str, on_click: Any, *, danger: bool = False) -> Any:
    return html.button(
        {
            "key": key,
            "type": "button",
            "className": "btn btn-danger" if danger else "btn",
            "aria-label": label,
            "onClick": on_click,
        },
        text,
    )
