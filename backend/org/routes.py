"""Employees and departments, read through the caller's scope; employees added and changed by HR."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, get, post, put
from litestar.params import FromPath, JSONBody, QueryParameter

from backend.lib.http import ActorDep
from backend.org.schemas import DepartmentOut, EmployeeIn, EmployeeOut, EmployeeUpdate, Page
from backend.org.selectors import department_list, employee_get, employee_list
from backend.org.services import employee_create, employee_update


class OrgController(Controller):
    path = "/api/v1"
    tags = ("organisation",)

    @get("/employees", summary="People I may see: managers their subtree, HR and auditors everyone")
    async def employees(
        self,
        actor: ActorDep,
        department_id: Annotated[int | None, QueryParameter(ge=1, le=2**53)] = None,
        q: Annotated[str | None, QueryParameter(max_length=50)] = None,
        page: Annotated[int, QueryParameter(ge=1, le=10_000)] = 1,
    ) -> Page[EmployeeOut]:
        return await employee_list(actor=actor, department_id=department_id, q=q, page=page)

    @get("/employees/{employee_id:int}", summary="One employee (404 outside my scope)")
    async def employee(self, actor: ActorDep, employee_id: FromPath[int]) -> EmployeeOut:
        return await employee_get(actor=actor, employee_id=employee_id)

    @post("/employees", summary="Add an employee, optionally with a sign-in account (HR)")
    async def employee_add(self, actor: ActorDep, data: JSONBody[EmployeeIn]) -> EmployeeOut:
        employee_id = await employee_create(actor=actor, **msgspec.structs.asdict(data))
        return await employee_get(actor=actor, employee_id=employee_id)

    @put(
        "/employees/{employee_id:int}",
        summary="Change an employee's record (HR); without `email` their address stays as it is",
    )
    async def employee_change(
        self, actor: ActorDep, employee_id: FromPath[int], data: JSONBody[EmployeeUpdate]
    ) -> EmployeeOut:
        await employee_update(actor=actor, employee_id=employee_id, **msgspec.structs.asdict(data))
        return await employee_get(actor=actor, employee_id=employee_id)

    @get("/departments", summary="Departments I may see, parents before children")
    async def departments(self, actor: ActorDep) -> list[DepartmentOut]:
        return await department_list(actor=actor)
