"""Who a notification is for, when an event does not say: the people who may decide a redemption,
a course's audience."""

from __future__ import annotations

from collections.abc import Sequence

from backend.accounts.tables import AccountRole
from backend.lib.policy import ROLE_HR_ADMIN, ROLE_MANAGER
from backend.org.tables import EMPLOYEE_ACTIVE, Department, Employee


async def redemption_deciders(*, requester_id: int, department_path: str) -> list[int]:
    """HR administrators and the managers of the requester's department subtree — never the requester
    (as redemptions.redemption_decide allows). Active accounts of active people only."""
    rows = await AccountRole.select(
        AccountRole.role,
        AccountRole.department.path.as_alias("path"),
        AccountRole.account.employee.as_alias("employee"),
    ).where(
        AccountRole.role.is_in([ROLE_HR_ADMIN, ROLE_MANAGER])
        & (AccountRole.account.is_active == True)  # noqa: E712 - a SQL comparison
        & (AccountRole.account.employee.status == EMPLOYEE_ACTIVE)  # type: ignore[union-attr]
    )
    deciders = {
        int(row["employee"])
        for row in rows
        if row["employee"] is not None
        and (
            row["role"] == ROLE_HR_ADMIN
            or (row["path"] and department_path and department_path.startswith(row["path"]))
        )
    }
    deciders.discard(requester_id)
    return sorted(deciders)


async def course_audience(
    *, department_ids: Sequence[int], position_ids: Sequence[int], author_id: int | None
) -> list[int]:
    """Active people in the audience departments' subtrees or in the audience positions (not the
    author). A course without an audience is for everyone and announces itself to nobody."""
    paths = (
        [
            str(row["path"])
            for row in await Department.select(Department.path).where(
                Department.id.is_in(list(department_ids))
            )
            if row["path"]
        ]
        if department_ids
        else []
    )
    subtree: set[int] = set()
    for path in paths:
        rows = await Department.select(Department.id).where(Department.path.like(f"{path}%"))
        subtree.update(int(row["id"]) for row in rows)
    people: set[int] = set()
    active = Employee.status == EMPLOYEE_ACTIVE
    if subtree:
        rows = await Employee.select(Employee.id).where(active & Employee.department.is_in(sorted(subtree)))
        people.update(int(row["id"]) for row in rows)
    if position_ids:
        rows = await Employee.select(Employee.id).where(active & Employee.position.is_in(list(position_ids)))
        people.update(int(row["id"]) for row in rows)
    if author_id is not None:
        people.discard(author_id)
    return sorted(people)
