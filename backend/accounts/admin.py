"""Account administration from the command line (`learnloop user ...`), e.g. the first HR admin.

These run as the operator, outside any signed-in actor, so they are not reachable from the web.
"""

from __future__ import annotations

import asyncio

from backend.accounts.passwords import password_hash
from backend.accounts.services import password_check_rules, sessions_end_for_account
from backend.accounts.tables import Account, AccountRole
from backend.lib.db import write_transaction
from backend.lib.errors import ValidationFailed
from backend.lib.i18n import translate
from backend.org.tables import Department, Employee


class AccountAdminError(Exception):
    pass


async def _department_for(name: str | None) -> int:
    root = await Department.select(Department.id, Department.path).where(Department.parent.is_null()).first()
    if root is None:
        root_department = Department(name=name or "总部")
        await root_department.save()
        await Department.update({Department.path: f"/{root_department.id}/"}).where(
            Department.id == root_department.id
        )
        return int(root_department.id)
    if not name:
        return int(root["id"])
    found = await Department.select(Department.id).where(Department.name == name).first()
    if found:
        return int(found["id"])
    department = Department(name=name, parent=root["id"])
    await department.save()
    await Department.update({Department.path: f"{root['path']}{department.id}/"}).where(
        Department.id == department.id
    )
    return int(department.id)


def _check_password(password: str) -> None:
    try:
        password_check_rules(password)
    except ValidationFailed as exc:
        raise AccountAdminError(translate("en", exc.key, **exc.params)) from None


async def account_create(
    *, username: str, password: str, name: str, employee_no: str, department: str | None, roles: list[str]
) -> str:
    _check_password(password)
    if await Account.exists().where(Account.username == username):
        raise AccountAdminError(f"account {username} already exists")
    if await Employee.exists().where(Employee.employee_no == employee_no):
        raise AccountAdminError(f"employee number {employee_no} is already taken")
    hashed = await asyncio.to_thread(password_hash, password)
    async with write_transaction(Account):
        department_id = await _department_for(department)
        employee = Employee(employee_no=employee_no, name=name, department=department_id)
        await employee.save()
        account = Account(username=username, password_hash=hashed, employee=employee.id)
        await account.save()
        for role in roles:
            await AccountRole(
                account=account.id, role=role, department=department_id if role == "manager" else None
            ).save()
    return f"account {username} created" + (f" with roles {', '.join(roles)}" if roles else "")


async def account_set_password(*, username: str, password: str) -> str:
    _check_password(password)
    account = await Account.select(Account.id).where(Account.username == username).first()
    if account is None:
        raise AccountAdminError(f"no account named {username}")
    hashed = await asyncio.to_thread(password_hash, password)
    await Account.update({Account.password_hash: hashed}).where(Account.id == account["id"])
    await sessions_end_for_account(account["id"])
    return f"password of {username} changed; their sessions were ended"


async def account_deactivate(*, username: str) -> str:
    account = await Account.select(Account.id).where(Account.username == username).first()
    if account is None:
        raise AccountAdminError(f"no account named {username}")
    await Account.update({Account.is_active: False}).where(Account.id == account["id"])
    await sessions_end_for_account(account["id"])
    return f"account {username} deactivated; their sessions were ended"
