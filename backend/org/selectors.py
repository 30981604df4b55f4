"""Organisation reads, always within what the actor may see."""

from __future__ import annotations

from typing import Any, NamedTuple

from piccolo.columns.combination import Or, Where

from backend.accounts.tables import Account, AccountRole
from backend.lib.db import row_by_id, text_contains
from backend.lib.errors import NotFound, PermissionDenied
from backend.lib.policy import (
    ROLE_MANAGER,
    Actor,
    actor_require,
    can_list_people,
    department_path_visible,
    employee_read_check,
)
from backend.org.schemas import DepartmentOut, EmployeeOut, Page, Ref
from backend.org.tables import Department, Employee, JobLevel, Position

PAGE_SIZE = 20
MAX_PAGE = 10_000


def _scope_condition(actor: Actor) -> Any:
    """A WHERE on Employee that keeps the actor's visible people (None: everybody)."""
    if actor.sees_whole_organisation:
        return None
    conditions = [Employee.department.path.like(f"{root}%") for root in actor.managed_paths]
    if not conditions:
        return Employee.id == actor.employee_id
    combined = conditions[0]
    for condition in conditions[1:]:
        combined = Or(combined, condition)
    return combined


def _ref(row: dict[str, Any], prefix: str) -> Ref | None:
    return Ref(id=row[f"{prefix}.id"], name=row[f"{prefix}.name"]) if row.get(f"{prefix}.id") else None


_EMPLOYEE_COLUMNS = (
    Employee.id,
    Employee.employee_no,
    Employee.name,
    Employee.department.id,
    Employee.department.name,
    Employee.department.path,
    Employee.position.id,
    Employee.position.name,
    Employee.level.id,
    Employee.level.name,
    Employee.manager.id,
    Employee.manager.name,
    Employee.hire_date,
    Employee.status,
    Employee.locale,
    Employee.email,
)


def _employee_out(row: dict[str, Any], accounts: dict[int, _AccountInfo]) -> EmployeeOut:
    account = accounts.get(row["id"])
    return EmployeeOut(
        id=row["id"],
        employee_no=row["employee_no"],
        name=row["name"],
        department=Ref(id=row["department.id"], name=row["department.name"]),
        position=_ref(row, "position"),
        level=_ref(row, "level"),
        manager=_ref(row, "manager"),
        hire_date=row["hire_date"],
        status=row["status"],
        locale=row["locale"],
        email=row["email"],
        username=account.username if account else None,
        roles=account.roles if account else [],
        managed_department=account.managed_department if account else None,
    )


class _AccountInfo(NamedTuple):
    username: str
    roles: list[str]
    managed_department: Ref | None


async def _accounts_of(employee_ids: list[int]) -> dict[int, _AccountInfo]:
    """Account name, roles and managed department per employee id, in two queries whatever the page size."""
    if not employee_ids:
        return {}
    accounts = await Account.select(Account.id, Account.username, Account.employee).where(
        Account.employee.is_in(employee_ids)
    )
    roles: dict[int, list[str]] = {a["id"]: [] for a in accounts}
    managed: dict[int, Ref] = {}
    if roles:
        for row in await AccountRole.select(
            AccountRole.account, AccountRole.role, AccountRole.department.id, AccountRole.department.name
        ).where(AccountRole.account.is_in(list(roles))):
            roles[row["account"]].append(row["role"])
            if row["role"] == ROLE_MANAGER and row["department.id"] is not None:
                managed[row["account"]] = Ref(id=row["department.id"], name=row["department.name"])
    return {
        a["employee"]: _AccountInfo(a["username"], sorted(roles[a["id"]]), managed.get(a["id"]))
        for a in accounts
    }


async def employee_list(
    *,
    actor: Actor | None,
    department_id: int | None = None,
    q: str | None = None,
    status: str | None = None,
    page: int = 1,
    page_size: int = PAGE_SIZE,
) -> Page[EmployeeOut]:
    """People the actor may see: managers their subtree, HR and auditors everyone."""
    actor = actor_require(actor)
    if not can_list_people(actor):
        raise PermissionDenied()
    page = min(max(page, 1), MAX_PAGE)
    page_size = min(max(page_size, 1), 100)
    where: list[Where | Any] = []
    scope = _scope_condition(actor)
    if scope is not None:
        where.append(scope)
    if department_id is not None:
        path = await _department_path_visible(actor, department_id)
        where.append(Employee.department.path.like(f"{path}%"))
    if q:
        needle = q.strip()[:50].replace("%", "").replace("_", "")
        if needle:
            where.append(
                Or(text_contains(Employee.name, needle), text_contains(Employee.employee_no, needle))
            )
    if status:
        where.append(Employee.status == status)

    count_query = Employee.count()
    rows_query = Employee.select(*_EMPLOYEE_COLUMNS).order_by(Employee.employee_no)
    for condition in where:
        count_query = count_query.where(condition)
        rows_query = rows_query.where(condition)
    total = await count_query
    rows = await rows_query.limit(page_size).offset((page - 1) * page_size)
    accounts = await _accounts_of([row["id"] for row in rows])
    return Page.of(
        items=[_employee_out(row, accounts) for row in rows],
        page=page,
        page_size=page_size,
        total=total,
    )


async def employee_get(*, actor: Actor | None, employee_id: int) -> EmployeeOut:
    actor = actor_require(actor)
    row = await Employee.select(*_EMPLOYEE_COLUMNS).where(Employee.id == employee_id).first()
    if row is None:
        raise NotFound()
    employee_read_check(actor, employee_id=employee_id, department_path=row["department.path"])
    return _employee_out(row, await _accounts_of([employee_id]))


async def _department_path_visible(actor: Actor, department_id: int) -> str:
    row = await row_by_id(Department, department_id)
    if row is None or not department_path_visible(actor, row["path"]):
        raise NotFound()
    return str(row["path"])


async def department_list(*, actor: Actor | None) -> list[DepartmentOut]:
    """Departments the actor may see, in tree order (parents before children)."""
    actor = actor_require(actor)
    rows = await Department.select(
        Department.id, Department.name, Department.parent, Department.path
    ).order_by(Department.path)
    counts: dict[int, int] = {}
    for row in await Employee.select(Employee.department).where(Employee.status == "active"):
        counts[row["department"]] = counts.get(row["department"], 0) + 1
    visible = [
        row for row in rows if department_path_visible(actor, row["path"]) or row["id"] == actor.department_id
    ]
    return department_tree_order(visible, counts)


def department_tree_order(rows: list[dict[str, Any]], counts: dict[int, int]) -> list[DepartmentOut]:
    """Departments parents-first with their depth (a parent outside `rows` makes a root)."""
    children: dict[int | None, list[dict[str, Any]]] = {}
    ids = {row["id"] for row in rows}
    for row in rows:
        parent = row["parent"] if row["parent"] in ids else None
        children.setdefault(parent, []).append(row)
    ordered: list[DepartmentOut] = []

    def walk(parent: int | None, depth: int) -> None:
        for row in sorted(children.get(parent, []), key=lambda r: r["id"]):
            ordered.append(
                DepartmentOut(
                    id=row["id"],
                    name=row["name"],
                    parent_id=row["parent"],
                    depth=depth,
                    employee_count=counts.get(row["id"], 0),
                )
            )
            walk(row["id"], depth + 1)

    walk(None, 0)
    return ordered


async def position_list() -> list[Ref]:
    return [Ref(id=r["id"], name=r["name"]) for r in await Position.select().order_by(Position.name)]


async def level_list() -> list[Ref]:
    return [Ref(id=r["id"], name=r["name"]) for r in await JobLevel.select().order_by(JobLevel.rank)]
