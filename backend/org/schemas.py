"""API structs of the organisation feature."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Generic, TypeVar

import msgspec

from backend.lib.schema import Schema

T = TypeVar("T")

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
EmployeeNo = Annotated[str, msgspec.Meta(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")]
Username = Annotated[str, msgspec.Meta(min_length=2, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]
Password = Annotated[str, msgspec.Meta(min_length=8, max_length=128)]
Id = Annotated[int, msgspec.Meta(ge=1, le=2**53)]
# Bounded loosely here: the service checks the address (at most 254 characters) and answers a 422
# that says what is wrong, in the user's language.
EmailText = Annotated[str, msgspec.Meta(max_length=1000)]


class Ref(Schema):
    id: int
    name: str


class DepartmentOut(Schema):
    id: int
    name: str
    parent_id: int | None
    depth: int
    employee_count: int = 0


class EmployeeOut(Schema):
    id: int
    employee_no: str
    name: str
    department: Ref
    position: Ref | None
    level: Ref | None
    manager: Ref | None
    hire_date: dt.date | None
    status: str
    locale: str
    email: str = ""  # "" = none
    username: str | None = None
    roles: list[str] = msgspec.field(default_factory=list)
    # For a manager: the root of the department subtree they manage.
    managed_department: Ref | None = None


class Page(Schema, Generic[T]):
    items: list[T]
    page: int
    page_size: int
    total: int
    pages: int

    @classmethod
    def of(cls, items: list[T], *, page: int, page_size: int, total: int) -> Page[T]:
        """A page of a `total`-long list; there is always at least one (empty) page."""
        return cls(
            items=items, page=page, page_size=page_size, total=total, pages=max(1, -(-total // page_size))
        )


class DepartmentIn(Schema):
    name: Name
    parent_id: Id | None = None


class EmployeeIn(Schema):
    employee_no: EmployeeNo
    name: Name
    department_id: Id
    position_id: Id | None = None
    level_id: Id | None = None
    manager_id: Id | None = None
    hire_date: dt.date | None = None
    locale: str = ""
    email: EmailText = ""
    username: Username | None = None
    password: Password | None = None


class EmployeeUpdate(Schema):
    name: Name
    department_id: Id
    position_id: Id | None = None
    level_id: Id | None = None
    manager_id: Id | None = None
    hire_date: dt.date | None = None
    locale: str = ""
    # Left out (None): the address stays as it is (people may set their own); "" removes it.
    email: EmailText | None = None


class RolesIn(Schema):
    roles: list[str]
    managed_department_id: Id | None = None
