"""Who may see, grade and manage reflections. Services and selectors call these; pages never bypass them.

- A draft is its author's alone.
- A submitted reflection is seen by its author, its graders (the training's creator, HR, the author's
  managers), auditors, and by colleagues as the assignment's visibility allows: `department` = the
  author's department, `organisation` = everyone, `graders` = nobody else.
- Anything outside that is 404: its existence is not revealed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from backend.lib.errors import NotFound, PermissionDenied
from backend.lib.policy import (
    ROLE_HR_ADMIN,
    ROLE_TRAINER,
    Actor,
    actor_require,
    department_path_visible,
    require_role,
)

VISIBILITY_GRADERS = "graders"
VISIBILITY_DEPARTMENT = "department"
VISIBILITY_ORGANISATION = "organisation"
VISIBILITIES = (VISIBILITY_GRADERS, VISIBILITY_DEPARTMENT, VISIBILITY_ORGANISATION)

STATE_DRAFT = "draft"
STATE_SUBMITTED = "submitted"
STATE_RETURNED = "returned"
STATE_GRADED = "graded"
# What peers may ever see: a draft or a returned (being revised) text is not shown around.
PUBLISHED_STATES = (STATE_SUBMITTED, STATE_GRADED)


@dataclass(frozen=True)
class SubmissionFacts:
    """What the rules need to know about one submission."""

    author_id: int
    department_id: int | None
    department_path: str
    state: str
    visibility: str
    training_creator_id: int | None


def employee_require(actor: Actor | None) -> tuple[Actor, int]:
    """Reflections are written by people with an employee record (not a bare admin account)."""
    actor = actor_require(actor)
    if actor.employee_id is None:
        raise NotFound()
    return actor, actor.employee_id


def training_manage_check(actor: Actor | None) -> Actor:
    """Creating trainings and assignments: HR administrators and trainers."""
    return require_role(actor, ROLE_HR_ADMIN, ROLE_TRAINER)


def is_grader(actor: Actor, facts: SubmissionFacts) -> bool:
    if actor.employee_id == facts.author_id:
        return False  # nobody grades their own reflection
    if actor.has(ROLE_HR_ADMIN):
        return True
    if facts.training_creator_id is not None and actor.employee_id == facts.training_creator_id:
        return True
    return bool(actor.managed_paths) and department_path_visible(actor, facts.department_path)


def can_see(actor: Actor, facts: SubmissionFacts) -> bool:
    if actor.employee_id == facts.author_id:
        return True
    if facts.state not in PUBLISHED_STATES and facts.state != STATE_RETURNED:
        return False
    if actor.sees_whole_organisation or is_grader(actor, facts):
        return True
    if facts.state not in PUBLISHED_STATES:
        return False
    if facts.visibility == VISIBILITY_ORGANISATION:
        return actor.employee_id is not None
    if facts.visibility == VISIBILITY_DEPARTMENT:
        return actor.department_id is not None and actor.department_id == facts.department_id
    return False


def see_check(actor: Actor | None, facts: SubmissionFacts) -> Actor:
    actor = actor_require(actor)
    if not can_see(actor, facts):
        raise NotFound()
    return actor


def grade_check(actor: Actor | None, facts: SubmissionFacts) -> Actor:
    actor = see_check(actor, facts)
    if not is_grader(actor, facts):
        raise PermissionDenied()
    return actor


def comment_delete_allowed(actor: Actor, comment: dict[str, Any]) -> bool:
    """A comment is removed by its author or by HR."""
    return actor.has(ROLE_HR_ADMIN) or comment["author"] == actor.employee_id


def archive_scope_check(actor: Actor | None) -> Actor:
    """The archive is for HR, auditors and managers (their subtree); others only reach their own PDFs."""
    actor = actor_require(actor)
    if not (actor.sees_whole_organisation or actor.managed_paths):
        raise PermissionDenied()
    return actor
