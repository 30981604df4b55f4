"""Who may do what with points. Services and selectors call these; pages never bypass them.

- Rules, presets, manual awards and reversals: HR administrators. Auditors may read the rules.
- A ledger is seen by its owner, HR and auditors, and the managers of the owner's department subtree;
  for anyone else it does not exist (404).
- Nobody awards points to themselves by hand.
"""

from __future__ import annotations

from backend.lib.errors import NotFound, PermissionDenied
from backend.lib.policy import (
    ROLE_AUDITOR,
    ROLE_HR_ADMIN,
    Actor,
    actor_require,
    department_path_visible,
    require_role,
)


def points_admin_check(actor: Actor | None) -> Actor:
    """Configuring points and awarding or reversing them by hand: HR administrators."""
    return require_role(actor, ROLE_HR_ADMIN)


def rules_read_check(actor: Actor | None) -> Actor:
    return require_role(actor, ROLE_HR_ADMIN, ROLE_AUDITOR)


def employee_required(actor: Actor | None) -> tuple[Actor, int]:
    """Personal points belong to people with an employee record (not a bare admin account)."""
    actor = actor_require(actor)
    if actor.employee_id is None:
        raise NotFound()
    return actor, actor.employee_id


def ledger_read_check(actor: Actor | None, *, employee_id: int, department_path: str) -> Actor:
    """Reading someone's ledger: oneself, HR/auditors, or a manager of their department subtree."""
    actor = actor_require(actor)
    if actor.employee_id == employee_id or department_path_visible(actor, department_path):
        return actor
    raise NotFound()


def manual_award_check(actor: Actor | None, *, employee_id: int) -> Actor:
    actor = points_admin_check(actor)
    if actor.employee_id == employee_id:
        raise PermissionDenied("error.points_self_award")
    return actor
