"""Account reads."""

from __future__ import annotations

from typing import Any

from piccolo.querystring import QueryString

from backend.accounts.tables import Account
from backend.lib.db import row_by_id
from backend.lib.policy import ROLE_EMPLOYEE, ROLE_MANAGER, Actor
from backend.org.tables import EMPLOYEE_ACTIVE, Department, Employee

_PERSON_COLUMNS = (
    "a.id AS account_id, a.username, a.is_active, e.id AS employee_id, e.name AS employee_name, "
    "e.employee_no, e.status, e.locale, d.id AS department_id, d.name AS department_name"
)
_PERSON_JOINS = 'LEFT JOIN "employee" e ON e.id = a.employee LEFT JOIN "department" d ON d.id = e.department'
# Hand-written once: resolving the acting person runs on every request, and Piccolo's query
# builder costs more than these reads themselves.
ACCOUNT_PERSON_SQL = f'SELECT {_PERSON_COLUMNS} FROM "account" a {_PERSON_JOINS} WHERE a.id = {{}}'  # noqa: S608
SESSION_PERSON_SQL = (
    f"SELECT s.id AS session_id, s.created_at, s.last_seen_at, {_PERSON_COLUMNS} "  # noqa: S608
    f'FROM "session" s JOIN "account" a ON a.id = s.account {_PERSON_JOINS} WHERE s.token_hash = {{}}'
)
ROLES_SQL = (
    'SELECT r.role, r.department, dp.path FROM "account_role" r '
    'LEFT JOIN "department" dp ON dp.id = r.department WHERE r.account = {}'
)


async def _run(sql: str, *args: Any) -> list[dict[str, Any]]:
    rows = await Account._meta.db.run_querystring(QueryString(sql, *args))
    return [dict(row) for row in rows]


async def actor_from_person_row(row: dict[str, Any], *, session_id: int | None = None) -> Actor | None:
    """The Actor of a row of ACCOUNT_PERSON_SQL/SESSION_PERSON_SQL (None when deactivated or departed)."""
    if not row["is_active"]:
        return None
    if row["employee_id"] is not None and row["status"] != EMPLOYEE_ACTIVE:
        return None
    role_rows = await _run(ROLES_SQL, row["account_id"])
    roles = {r["role"] for r in role_rows} | {ROLE_EMPLOYEE}
    managed = tuple(sorted(r["path"] for r in role_rows if r["role"] == ROLE_MANAGER and r["path"]))
    return Actor(
        account_id=row["account_id"],
        username=row["username"],
        employee_id=row["employee_id"],
        department_id=row["department_id"],
        roles=frozenset(roles),
        managed_paths=managed,
        locale=row["locale"] or "",
        session_id=session_id,
        name=row["employee_name"] or row["username"],
        employee_no=row["employee_no"],
        department_name=row["department_name"],
    )


async def actor_for_account(account_id: int, *, session_id: int | None = None) -> Actor | None:
    """Build the Actor of an active account (None when deactivated or departed)."""
    rows = await _run(ACCOUNT_PERSON_SQL, account_id)
    return await actor_from_person_row(rows[0], session_id=session_id) if rows else None


async def session_person_row(token_hash: str) -> dict[str, Any] | None:
    rows = await _run(SESSION_PERSON_SQL, token_hash)
    return rows[0] if rows else None


async def department_path(department_id: int) -> str | None:
    row = await row_by_id(Department, department_id)
    return str(row["path"]) if row else None


async def me_get(*, actor: Actor) -> dict[str, object]:
    """The signed-in person's own profile fields."""
    row: dict[str, object] | None = None
    if actor.employee_id is not None:
        row = (
            await Employee.select(
                Employee.name,
                Employee.employee_no,
                Employee.department.id,
                Employee.department.name,
                Employee.email,
            )
            .where(Employee.id == actor.employee_id)
            .first()
        )
    return row or {
        "name": actor.username,
        "employee_no": None,
        "department.id": None,
        "department.name": None,
        "email": "",
    }
