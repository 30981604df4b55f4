"""Who may do what. Every service and selector that touches people's data checks the actor here.

Roles: employee, trainer, manager (scoped to department subtrees), hr_admin (organisation),
auditor (read-only, organisation).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from backend.lib.errors import NotAuthenticated, NotFound, PermissionDenied

ROLE_EMPLOYEE = "employee"
ROLE_TRAINER = "trainer"
ROLE_MANAGER = "manager"
ROLE_HR_ADMIN = "hr_admin"
ROLE_AUDITOR = "auditor"
ROLES = (ROLE_EMPLOYEE, ROLE_TRAINER, ROLE_MANAGER, ROLE_HR_ADMIN, ROLE_AUDITOR)


@dataclass(frozen=True)
class Actor:
    """The signed-in person on whose behalf a service runs."""

    account_id: int
    username: str
    employee_id: int | None
    department_id: int | None
    roles: frozenset[str]
    # Materialised paths ("/1/4/") of the department subtrees this person manages.
    managed_paths: tuple[str, ...] = ()
    locale: str = ""  # the person's own language setting; "" follows the browser
    session_id: int | None = field(default=None, compare=False)
    name: str = ""
    employee_no: str | None = None
    department_name: str | None = None

    def has(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def sees_whole_organisation(self) -> bool:
        return self.has(ROLE_HR_ADMIN, ROLE_AUDITOR)


def actor_require(actor: Actor | None) -> Actor:
    if actor is None:
        raise NotAuthenticated()
    return actor


def require_role(actor: Actor | None, *roles: str) -> Actor:
    """The actor must hold one of `roles`; otherwise 403."""
    actor = actor_require(actor)
    if not actor.has(*roles):
        raise PermissionDenied()
    return actor


def can_list_people(actor: Actor) -> bool:
    return actor.sees_whole_organisation or bool(actor.managed_paths)


def department_path_visible(actor: Actor, department_path: str) -> bool:
    """True when a department (by its materialised path) is inside what the actor may see."""
    if actor.sees_whole_organisation:
        return True
    return any(department_path.startswith(root) for root in actor.managed_paths)


def employee_read_check(actor: Actor, *, employee_id: int, department_path: str) -> None:
    """Reading someone's record: oneself, HR/auditors, or a manager of their department subtree.

    Anything else is 404, so people outside one's scope are not even confirmed to exist.
    """
    if actor.employee_id == employee_id or department_path_visible(actor, department_path):
        return
    raise NotFound()


def organisation_write_check(actor: Actor | None) -> Actor:
    """Changing the organisation (departments, employees, roles) is for HR administrators."""
    return require_role(actor, ROLE_HR_ADMIN)
