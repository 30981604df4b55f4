"""Organisation writes, for HR administrators: departments, employees, accounts and roles."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import unicodedata
from typing import Any

from backend.accounts.passwords import password_hash
from backend.accounts.services import password_check_rules, sessions_cache_clear, sessions_end_for_account
from backend.accounts.tables import Account, AccountRole
from backend.lib.db import row_by_id, write_transaction
from backend.lib.errors import Conflict, NotFound, ValidationFailed
from backend.lib.i18n import locale_normalize
from backend.lib.policy import (
    ROLE_EMPLOYEE,
    ROLE_MANAGER,
    ROLES,
    Actor,
    actor_require,
    organisation_write_check,
)
from backend.org.tables import EMPLOYEE_ACTIVE, EMPLOYEE_DEPARTED, Department, Employee, JobLevel, Position


async def _department(department_id: int) -> dict[str, object]:
    row = await row_by_id(Department, department_id)
    if row is None:
        raise ValidationFailed("error.department_unknown", field="department_id")
    return row


async def department_create(*, actor: Actor | None, name: str, parent_id: int | None = None) -> int:
    organisation_write_check(actor)
    name = _check_name(name)
    parent_path = "/"
    if parent_id is not None:
        parent_path = str((await _department(parent_id))["path"])
    department = Department(name=name, parent=parent_id)
    async with write_transaction(Department):
        await department.save()
        await Department.update({Department.path: f"{parent_path}{department.id}/"}).where(
            Department.id == department.id
        )
    return int(department.id)


async def department_update(
    *, actor: Actor | None, department_id: int, name: str, parent_id: int | None
) -> None:
    """Rename or move a department; moving carries its whole subtree along."""
    organisation_write_check(actor)
    current = await row_by_id(Department, department_id)
    if current is None:
        raise NotFound()
    name = _check_name(name)
    old_path = str(current["path"])
    new_path = old_path
    if parent_id != current["parent"]:
        parent_path = "/"
        if parent_id is not None:
            parent_path = str((await _department(parent_id))["path"])
            if parent_path.startswith(old_path):
                raise ValidationFailed("error.department_cycle", field="parent_id")
        new_path = f"{parent_path}{department_id}/"
    async with write_transaction(Department):
        await Department.update({Department.name: name, Department.parent: parent_id}).where(
            Department.id == department_id
        )
        if new_path != old_path:
            descendants = await Department.select(Department.id, Department.path).where(
                Department.path.like(f"{old_path}%")
            )
            for row in descendants:
                await Department.update({Department.path: new_path + row["path"][len(old_path) :]}).where(
                    Department.id == row["id"]
                )
    sessions_cache_clear()  # managers' scopes are department paths


async def department_delete(*, actor: Actor | None, department_id: int) -> None:
    """Only an empty department (no sub-departments, no people) can be removed."""
    organisation_write_check(actor)
    if not await Department.exists().where(Department.id == department_id):
        raise NotFound()
    if await Department.exists().where(Department.parent == department_id) or await Employee.exists().where(
        Employee.department == department_id
    ):
        raise Conflict("error.department_not_empty")
    await Department.delete().where(Department.id == department_id)


async def _check_refs(
    *, department_id: int, position_id: int | None, level_id: int | None, manager_id: int | None
) -> None:
    await _department(department_id)
    if position_id is not None and not await Position.exists().where(Position.id == position_id):
        raise ValidationFailed("error.position_unknown", field="position_id")
    if level_id is not None and not await JobLevel.exists().where(JobLevel.id == level_id):
        raise ValidationFailed("error.level_unknown", field="level_id")
    if manager_id is not None and not await Employee.exists().where(Employee.id == manager_id):
        raise ValidationFailed("error.manager_unknown", field="manager_id")


EMPLOYEE_NO_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{2,64}$")
NAME_MAX_LENGTH = 100


def _check_name(name: str) -> str:
    """Names are bounded here too: pages call services directly, without the API's structs."""
    name = name.strip()
    if not name:
        raise ValidationFailed("error.name_required", field="name")
    if len(name) > NAME_MAX_LENGTH:
        raise ValidationFailed("error.name_too_long", field="name", max=NAME_MAX_LENGTH)
    return name


EMAIL_MAX_LENGTH = 254  # RFC 5321's limit for a whole address
EMAIL_LOCAL_MAX_LENGTH = 64
# The local part as most mail servers accept it: RFC 5322's atom characters and dots, ASCII only
# (a non-ASCII local part needs SMTPUTF8, which the organisation's server may not offer).
EMAIL_LOCAL_PATTERN = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")


def _domain_plausible(domain: str) -> bool:
    labels = domain.split(".")
    if len(labels) < 2 or labels[-1].isdigit():
        return False
    for label in labels:
        if not 1 <= len(label) <= 63 or label[0] == "-" or label[-1] == "-":
            return False
        if not all(char.isalnum() or char == "-" for char in label):
            return False
    try:
        domain.encode("idna")  # an internationalised domain must have an ASCII (punycode) form
    except UnicodeError:
        return False
    return True


def email_checked(value: str, *, field: str = "email") -> str:
    """A plausible e-mail address: trimmed, its domain lower-cased; "" means none. Else a 422.

    Full-width characters typed with a Chinese input method (＠, ｚ) count as their ASCII forms."""
    address = unicodedata.normalize("NFKC", value).strip()
    if not address:
        return ""
    if len(address) > EMAIL_MAX_LENGTH:
        raise ValidationFailed("error.email_too_long", field=field, max=EMAIL_MAX_LENGTH)
    local, _, domain = address.partition("@")
    domain = domain.lower()
    if (
        address.count("@") != 1
        or len(local) > EMAIL_LOCAL_MAX_LENGTH
        or not EMAIL_LOCAL_PATTERN.match(local)
        or not _domain_plausible(domain)
    ):
        raise ValidationFailed("error.email_invalid", field=field)
    return f"{local}@{domain}"


def _locale_setting(locale: str) -> str:
    if not locale:
        return ""
    normalized = locale_normalize(locale)
    if normalized is None:
        raise ValidationFailed("error.locale_unknown", field="locale")
    return normalized


async def employee_create(
    *,
    actor: Actor | None,
    employee_no: str,
    name: str,
    department_id: int,
    position_id: int | None = None,
    level_id: int | None = None,
    manager_id: int | None = None,
    hire_date: dt.date | None = None,
    locale: str = "",
    email: str = "",
    username: str | None = None,
    password: str | None = None,
) -> int:
    """Add an employee; with a username and password they also get an account to sign in."""
    organisation_write_check(actor)
    employee_no, name, email = employee_no.strip(), _check_name(name), email_checked(email)
    if not employee_no:
        raise ValidationFailed("error.employee_no_required", field="employee_no")
    if not EMPLOYEE_NO_PATTERN.match(employee_no):
        raise ValidationFailed("error.employee_no_format", field="employee_no")
    if username is not None and not USERNAME_PATTERN.match(username):
        raise ValidationFailed("error.username_format", field="username")
    await _check_refs(
        department_id=department_id, position_id=position_id, level_id=level_id, manager_id=manager_id
    )
    if await Employee.exists().where(Employee.employee_no == employee_no):
        raise Conflict("error.employee_no_taken", field="employee_no", employee_no=employee_no)
    if username is not None and await Account.exists().where(Account.username == username):
        raise Conflict("error.username_taken", field="username", username=username)
    if (username is None) != (password is None):
        raise ValidationFailed("error.account_needs_both", field="password")
    hashed = None
    if password is not None:
        password_check_rules(password, field="password")
        hashed = await asyncio.to_thread(password_hash, password)
    employee = Employee(
        employee_no=employee_no,
        name=name,
        department=department_id,
        position=position_id,
        level=level_id,
        manager=manager_id,
        hire_date=hire_date,
        locale=_locale_setting(locale),
        email=email,
    )
    async with write_transaction(Employee):
        await employee.save()
        if username is not None and hashed is not None:
            await Account(username=username, password_hash=hashed, employee=employee.id).save()
    return int(employee.id)


async def employee_update(
    *,
    actor: Actor | None,
    employee_id: int,
    name: str,
    department_id: int,
    position_id: int | None = None,
    level_id: int | None = None,
    manager_id: int | None = None,
    hire_date: dt.date | None = None,
    locale: str = "",
    email: str | None = None,
) -> None:
    """Change an employee's record (HR). `email`: None keeps the address, "" removes it."""
    organisation_write_check(actor)
    if not await Employee.exists().where(Employee.id == employee_id):
        raise NotFound()
    name = _check_name(name)
    if manager_id == employee_id:
        raise ValidationFailed("error.manager_self", field="manager_id")
    changes: dict[Any, Any] = {Employee.email: email_checked(email)} if email is not None else {}
    locale = _locale_setting(locale)
    await _check_refs(
        department_id=department_id, position_id=position_id, level_id=level_id, manager_id=manager_id
    )
    await Employee.update(
        {
            Employee.name: name,
            Employee.department: department_id,
            Employee.position: position_id,
            Employee.level: level_id,
            Employee.manager: manager_id,
            Employee.hire_date: hire_date,
            Employee.locale: locale,
            **changes,
        }
    ).where(Employee.id == employee_id)
    sessions_cache_clear()


async def employee_set_status(*, actor: Actor | None, employee_id: int, active: bool) -> None:
    """Mark someone departed (their sessions end at once and they cannot sign in) or active again."""
    actor = organisation_write_check(actor)
    if not await Employee.exists().where(Employee.id == employee_id):
        raise NotFound()
    if not active and actor.employee_id == employee_id:
        raise ValidationFailed("error.deactivate_self")
    status = EMPLOYEE_ACTIVE if active else EMPLOYEE_DEPARTED
    async with write_transaction(Employee):
        await Employee.update({Employee.status: status}).where(Employee.id == employee_id)
        account = await Account.select(Account.id).where(Account.employee == employee_id).first()
        if account is not None:
            await Account.update({Account.is_active: active}).where(Account.id == account["id"])
            if not active:
                await sessions_end_for_account(account["id"])
    sessions_cache_clear()


async def employee_preferences_update(*, actor: Actor | None, locale: str) -> None:
    """Anyone may choose their own language ("" follows the browser)."""
    if actor is None or actor.employee_id is None:
        raise NotFound()
    await Employee.update({Employee.locale: _locale_setting(locale)}).where(Employee.id == actor.employee_id)
    sessions_cache_clear()


async def employee_email_update(*, actor: Actor | None, email: str) -> str:
    """Anyone may set their own e-mail address ("" removes it); HR changes others' in employee_update.
    Returns the address as stored."""
    actor = actor_require(actor)
    if actor.employee_id is None:  # an account without an employee record has no address
        raise NotFound()
    address = email_checked(email)
    await Employee.update({Employee.email: address}).where(Employee.id == actor.employee_id)
    return address


async def roles_assign(
    *, actor: Actor | None, employee_id: int, roles: list[str], managed_department_id: int | None = None
) -> None:
    """Replace the roles of an employee's account. A manager role needs the department it manages."""
    actor = organisation_write_check(actor)
    unknown = [role for role in roles if role not in ROLES]
    if unknown:
        raise ValidationFailed("error.role_unknown", field="roles", role=", ".join(unknown))
    account = await Account.select(Account.id).where(Account.employee == employee_id).first()
    if account is None:
        if not await Employee.exists().where(Employee.id == employee_id):
            raise NotFound()
        raise ValidationFailed("error.no_account", field="roles")
    wanted = {role for role in roles if role != ROLE_EMPLOYEE}
    if ROLE_MANAGER in wanted:
        if managed_department_id is None:
            raise ValidationFailed("error.manager_needs_department", field="managed_department_id")
        await _department(managed_department_id)
    if account["id"] == actor.account_id and "hr_admin" not in wanted:
        raise ValidationFailed("error.remove_own_admin", field="roles")
    async with write_transaction(AccountRole):
        await AccountRole.delete().where(AccountRole.account == account["id"])
        for role in sorted(wanted):
            await AccountRole(
                account=account["id"],
                role=role,
                department=managed_department_id if role == ROLE_MANAGER else None,
            ).save()
    sessions_cache_clear()


async def position_ensure(*, name: str) -> int:
    row = await Position.select(Position.id).where(Position.name == name).first()
    if row:
        return int(row["id"])
    position = Position(name=name)
    await position.save()
    return int(position.id)


async def level_ensure(*, name: str, rank: int) -> int:
    row = await JobLevel.select(JobLevel.id).where(JobLevel.name == name).first()
    if row:
        return int(row["id"])
    level = JobLevel(name=name, rank=rank)
    await level.save()
    return int(level.id)
