"""HR admin: the employee list (search, filters, pages) and one employee's record (edit or read-only)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from reactpy import component, event, html, use_state

from backend.lib.errors import AppError, NotFound, PermissionDenied
from backend.lib.policy import ROLE_HR_ADMIN, actor_require, can_list_people
from backend.org.schemas import DepartmentOut, EmployeeOut, Page, Ref
from backend.org.selectors import department_list, employee_get, employee_list, level_list, position_list
from backend.org.services import employee_set_status
from pwa.components.admin_employee_form import EmployeeForm
from pwa.components.admin_employee_record import EmployeeDetail, RolesForm, StatusActions
from pwa.components.admin_widgets import NoPermission, UndoToast, department_options, parse_id, use_loaded
from pwa.components.shell import AppShell, PageHeader
from pwa.components.widgets import EmptyState, FormError, Loading, Pager, Toast, error_text, event_value
from pwa.context import UIContext, use_app

LIST_HREF = "/admin/employees"
STATUSES = ("active", "departed", "")


def _shell(ctx: UIContext, title: str, *children: Any) -> Any:
    return AppShell(ctx=ctx, active="admin/employees", title=title, children=html.div(*children))


@component
def EmployeeListPage() -> Any:
    ctx = use_app()
    actor = actor_require(ctx.actor)
    typed, set_typed = use_state("")
    search, set_search = use_state("")
    department, set_department = use_state("")
    status, set_status = use_state("active")
    page, set_page = use_state(1)
    result = use_loaded(
        lambda: employee_list(
            actor=actor,
            q=search or None,
            department_id=parse_id(department),
            status=status or None,
            page=page,
        ),
        [actor.account_id, search, department, status, page],
    )
    departments = use_loaded(lambda: department_list(actor=actor), [actor.account_id])
    title = ctx.t("nav.employees")
    if isinstance(result, PermissionDenied):
        return _shell(ctx, title, PageHeader(title=title), NoPermission())

    @event(prevent_default=True)
    def submit_search(_event: dict[str, Any]) -> None:
        set_search(typed.strip())
        set_page(1)

    def choose(setter: Any) -> Any:
        def handler(event_data: dict[str, Any]) -> None:
            setter(event_value(event_data))
            set_page(1)

        return handler

    actions = (
        html.a({"className": "btn btn-primary", "href": f"{LIST_HREF}/new"}, ctx.t("admin.employees.new"))
        if actor.has(ROLE_HR_ADMIN)
        else None
    )
    filters = html.div(
        {"className": "toolbar"},
        html.label(
            {"htmlFor": "employee-department-filter", "className": "sr-only"}, ctx.t("admin.department")
        ),
        html.select(
            {
                "id": "employee-department-filter",
                "className": "input",
                "value": department,
                "onChange": choose(set_department),
            },
            html.option({"key": "all", "value": ""}, ctx.t("admin.employees.all_departments")),
            *department_options(departments if isinstance(departments, list) else []),
        ),
        html.label({"htmlFor": "employee-status-filter", "className": "sr-only"}, ctx.t("admin.status")),
        html.select(
            {
                "id": "employee-status-filter",
                "className": "input",
                "value": status,
                "onChange": choose(set_status),
            },
            *[
                html.option(
                    {"key": value or "all", "value": value}, ctx.t(f"admin.employees.status_{value or 'all'}")
                )
                for value in STATUSES
            ],
        ),
    )
    search_form = html.form(
        {
            "className": "toolbar",
            "role": "search",
            "aria-label": ctx.t("admin.employees.search"),
            "onSubmit": submit_search,
        },
        html.label({"htmlFor": "employee-search", "className": "sr-only"}, ctx.t("admin.employees.search")),
        html.input(
            {
                "id": "employee-search",
                "type": "search",
                "className": "input",
                "maxLength": 50,
                "placeholder": ctx.t("admin.employees.search"),
                "value": typed,
                "onChange": lambda e: set_typed(event_value(e)),
            }
        ),
        html.button({"type": "submit", "className": "btn"}, ctx.t("common.search")),
    )
    return _shell(
        ctx,
        title,
        PageHeader(title=title, actions=actions),
        search_form,
        filters,
        _results(ctx, result, on_page=set_page),
    )


def _results(ctx: UIContext, result: Page[EmployeeOut] | AppError | None, *, on_page: Any) -> Any:
    if result is None:
        return Loading(label=ctx.t("app.loading"))
    if isinstance(result, AppError):
        return FormError(message=error_text(ctx, result))
    if not result.items:
        return EmptyState(
            icon="🔍", title=ctx.t("admin.employees.none_title"), text=ctx.t("admin.employees.none_text")
        )
    return html.section(
        {"aria-label": ctx.t("admin.employees.results")},
        html.p(
            {"className": "muted", "aria-live": "polite"}, ctx.t("admin.employees.total", total=result.total)
        ),
        html.div({"className": "list"}, *[_employee_cell(ctx, employee) for employee in result.items]),
        Pager(ctx=ctx, page=result.page, pages=result.pages, total=result.total, on_page=on_page)
        if result.pages > 1
        else "",
    )


def _employee_cell(ctx: UIContext, employee: EmployeeOut) -> Any:
    where = " · ".join(
        part for part in (employee.department.name, employee.position and employee.position.name) if part
    )
    return html.div(
        {"key": str(employee.id), "className": "list-cell"},
        html.div(
            {"className": "list-cell-main"},
            html.a(
                {"className": "list-cell-title", "href": f"{LIST_HREF}/{employee.id}"},
                employee.name,
            ),
            html.span({"className": "list-cell-sub"}, f"{employee.employee_no} · {where}"),
            html.span({"className": "list-cell-sub"}, employee.email) if employee.email else "",
        ),
        html.div(
            {"className": "list-cell-extra"},
            html.span({"className": "chip"}, ctx.t("admin.employees.status_departed")),
        )
        if employee.status == "departed"
        else "",
    )


@dataclass(frozen=True)
class EmployeeFormData:
    """What the record page needs; the choice lists only for HR administrators."""

    employee: EmployeeOut | None
    manager_no: str = ""
    departments: tuple[DepartmentOut, ...] = ()
    positions: tuple[Ref, ...] = ()
    levels: tuple[Ref, ...] = ()


@component
def EmployeeFormPage(*, employee_id: int | None) -> Any:
    ctx = use_app()
    actor = actor_require(ctx.actor)
    is_hr = actor.has(ROLE_HR_ADMIN)
    version, set_version = use_state(0)
    toast, set_toast = use_state("")
    undo, set_undo = use_state(False)
    created, set_created = use_state(_nothing_created)

    async def load() -> EmployeeFormData:
        if employee_id is None and not is_hr:
            raise PermissionDenied()
        employee = (
            await employee_get(actor=actor, employee_id=employee_id) if employee_id is not None else None
        )
        if not is_hr:
            return EmployeeFormData(employee=employee)
        manager_no = ""
        if employee is not None and employee.manager is not None:
            manager_no = (await employee_get(actor=actor, employee_id=employee.manager.id)).employee_no
        return EmployeeFormData(
            employee=employee,
            manager_no=manager_no,
            departments=tuple(await department_list(actor=actor)),
            positions=tuple(await position_list()),
            levels=tuple(await level_list()),
        )

    data = use_loaded(load, [actor.account_id, employee_id, version])
    back = (
        {"back_href": LIST_HREF, "back_label": ctx.t("admin.employees.back")}
        if can_list_people(actor)
        else {}
    )

    def saved(message: str, *, offer_undo: bool = False) -> None:
        set_toast(message)
        set_undo(offer_undo)
        set_version(lambda v: v + 1)

    def created_done(new_id: int, name: str) -> None:
        # A server-rendered page cannot redirect: show the outcome with a link to the new record.
        set_created({"id": new_id, "name": name})
        set_toast(ctx.t("admin.employees.created_toast", name=name))

    async def reactivate() -> None:
        try:
            await employee_set_status(actor=actor, employee_id=employee_id or 0, active=True)
        except AppError as exc:
            saved(error_text(ctx, exc))
        else:
            saved(ctx.t("admin.employees.reactivated"))

    toast_view = (
        UndoToast(message=toast, on_undo=reactivate) if undo and toast else Toast(message=toast or None)
    )
    if data is None:
        title = ctx.t("admin.employees.title")
        return _shell(ctx, title, PageHeader(title=title, **back), Loading(label=ctx.t("app.loading")))
    if isinstance(data, NotFound):
        title = ctx.t("error.not_found")
        return _shell(
            ctx,
            title,
            PageHeader(title=ctx.t("admin.employees.title"), **back),
            EmptyState(icon="?", title=title, text=ctx.t("admin.employees.not_found_text")),
        )
    if isinstance(data, AppError):
        title = ctx.t("admin.employees.title")
        return _shell(ctx, title, PageHeader(title=title, **back), NoPermission())

    employee = data.employee
    if employee is None:
        title = ctx.t("admin.employees.new")
        body: Any = (
            _created(ctx, created, on_again=lambda _e: set_created(None))
            if created
            else EmployeeForm(
                data=data,
                on_saved=lambda new_id, name: created_done(new_id, name),
            )
        )
        return _shell(ctx, title, PageHeader(title=title, **back), body, toast_view)

    header = PageHeader(
        title=employee.name,
        actions=html.span({"className": "chip"}, ctx.t("admin.employees.status_departed"))
        if employee.status == "departed"
        else None,
        **back,
    )
    if not is_hr:
        return _shell(ctx, employee.name, header, EmployeeDetail(employee=employee))
    return _shell(
        ctx,
        employee.name,
        header,
        EmployeeForm(
            key=f"form-{employee.id}", data=data, on_saved=lambda _id, _name: saved(ctx.t("common.saved"))
        ),
        RolesForm(
            key=f"roles-{employee.id}", employee=employee, departments=list(data.departments), on_saved=saved
        )
        if employee.username is not None
        else "",
        StatusActions(key=f"status-{employee.id}", employee=employee, on_changed=saved),
        toast_view,
    )


def _nothing_created() -> dict[str, Any] | None:
    return None


def _created(ctx: UIContext, created: dict[str, Any], *, on_again: Any) -> Any:
    return html.section(
        {"className": "card", "aria-labelledby": "employee-created-title"},
        html.h2(
            {"id": "employee-created-title"}, ctx.t("admin.employees.created_title", name=created["name"])
        ),
        html.p(
            html.a(
                {"className": "btn btn-primary btn-block", "href": f"{LIST_HREF}/{created['id']}"},
                ctx.t("admin.employees.open_record"),
            )
        ),
        html.button(
            {"type": "button", "className": "btn btn-block", "onClick": on_again},
            ctx.t("admin.employees.add_another"),
        ),
    )
