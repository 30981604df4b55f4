"""Who may see, watch and manage micro-courses. Services, selectors and /media call these.

- A published course is seen by everyone in the organisation, unless it is `restricted`: then only
  by its audience (people in one of the audience departments' subtrees or in one of its positions).
- Drafts, courses being processed and failed ones are seen by their author and HR only.
- The author and HR manage a course (edit, upload, publish, see its analytics); auditors read every
  published course (restricted ones too), never drafts.
- Anything outside that is 404: its existence is not revealed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from backend.lib.errors import NotFound, PermissionDenied
from backend.lib.policy import ROLE_HR_ADMIN, ROLE_TRAINER, Actor, actor_require, require_role

STATUS_DRAFT = "draft"
STATUS_PROCESSING = "processing"
STATUS_PUBLISHED = "published"
STATUS_FAILED = "failed"
STATUSES = (STATUS_DRAFT, STATUS_PROCESSING, STATUS_PUBLISHED, STATUS_FAILED)

VERSION_UPLOADING = "uploading"
VERSION_PROCESSING = "processing"
VERSION_READY = "ready"
VERSION_FAILED = "failed"


@dataclass(frozen=True)
class CourseFacts:
    """What the rules need to know about one course."""

    id: int
    author_id: int | None
    status: str
    restricted: bool
    audience_department_ids: tuple[int, ...]
    audience_position_ids: tuple[int, ...]
    # Materialised paths ("/1/4/") of the audience departments.
    audience_department_paths: tuple[str, ...] = ()


@dataclass(frozen=True)
class Viewer:
    """The actor plus what audience matching needs: their department's path and their position."""

    actor: Actor
    department_path: str
    position_id: int | None


def course_create_check(actor: Actor | None) -> Actor:
    """Creating courses: trainers and HR administrators (with an employee record to be the author)."""
    actor = require_role(actor, ROLE_TRAINER, ROLE_HR_ADMIN)
    if actor.employee_id is None:
        raise PermissionDenied()
    return actor


def is_manager_of_course(actor: Actor, facts: CourseFacts) -> bool:
    return actor.has(ROLE_HR_ADMIN) or (facts.author_id is not None and actor.employee_id == facts.author_id)


def in_audience(viewer: Viewer, facts: CourseFacts) -> bool:
    if viewer.position_id is not None and viewer.position_id in facts.audience_position_ids:
        return True
    return any(viewer.department_path.startswith(path) for path in facts.audience_department_paths)


def can_see_course(viewer: Viewer, facts: CourseFacts) -> bool:
    actor = viewer.actor
    if is_manager_of_course(actor, facts):
        return True
    if facts.status != STATUS_PUBLISHED:
        return False  # drafts, processing and failed courses: author and HR only
    if actor.sees_whole_organisation:
        return True  # auditors read every published course, restricted ones included
    if actor.employee_id is None:
        return False
    return not facts.restricted or in_audience(viewer, facts)


def course_see_check(viewer: Viewer, facts: CourseFacts) -> Actor:
    if not can_see_course(viewer, facts):
        raise NotFound()
    return viewer.actor


def course_manage_check(viewer: Viewer, facts: CourseFacts) -> Actor:
    """Editing, uploading, publishing and the trainer centre: the author and HR. Others: 404 or 403."""
    actor = course_see_check(viewer, facts)
    if not is_manager_of_course(actor, facts):
        raise PermissionDenied()
    return actor


def course_watch_check(viewer: Viewer, facts: CourseFacts) -> Actor:
    """Recording progress, rating and commenting: people with an employee record who may see it published."""
    actor = course_see_check(viewer, facts)
    if facts.status != STATUS_PUBLISHED or actor.employee_id is None:
        raise NotFound()
    return actor


def comment_delete_allowed(actor: Actor, comment: dict[str, Any]) -> bool:
    """A comment is removed by its author or by HR."""
    return actor.has(ROLE_HR_ADMIN) or comment["author"] == actor.employee_id


def actor_required(actor: Actor | None) -> Actor:
    return actor_require(actor)
