"""Loading what the access rules need: a course's facts and the viewer's department path and position."""

from __future__ import annotations

import json
from typing import Any

from backend.courses.access import CourseFacts, Viewer
from backend.courses.tables import Course
from backend.lib.errors import NotFound
from backend.lib.policy import Actor, actor_require
from backend.org.tables import Department, Employee


def json_ids(value: Any) -> tuple[int, ...]:
    """A JSON column holding a list of ids (Piccolo hands JSON back as text on some engines)."""
    if isinstance(value, str):
        value = json.loads(value or "[]")
    return tuple(int(item) for item in value or ())


def json_strings(value: Any) -> list[str]:
    if isinstance(value, str):
        value = json.loads(value or "[]")
    return [str(item) for item in value or ()]


async def viewer_for(actor: Actor | None) -> Viewer:
    """The actor with their department's materialised path and their position (401 when signed out)."""
    actor = actor_require(actor)
    if actor.employee_id is None:
        return Viewer(actor=actor, department_path="", position_id=None)
    row = (
        await Employee.select(Employee.position, Employee.department.path)
        .where(Employee.id == actor.employee_id)
        .first()
    )
    if row is None:
        return Viewer(actor=actor, department_path="", position_id=None)
    return Viewer(actor=actor, department_path=row["department.path"] or "", position_id=row["position"])


async def department_paths(department_ids: tuple[int, ...]) -> tuple[str, ...]:
    if not department_ids:
        return ()
    rows = await Department.select(Department.path).where(Department.id.is_in(list(department_ids)))
    return tuple(row["path"] for row in rows)


def facts_from_row(row: dict[str, Any], paths: tuple[str, ...]) -> CourseFacts:
    return CourseFacts(
        id=int(row["id"]),
        author_id=row["author"],
        status=row["status"],
        restricted=bool(row["restricted"]),
        audience_department_ids=json_ids(row["audience_department_ids"]),
        audience_position_ids=json_ids(row["audience_position_ids"]),
        audience_department_paths=paths,
    )


async def course_facts(course_id: int) -> CourseFacts:
    """The facts of one course; 404 when it does not exist."""
    row = (
        await Course.select(
            Course.id,
            Course.author,
            Course.status,
            Course.restricted,
            Course.audience_department_ids,
            Course.audience_position_ids,
        )
        .where(Course.id == course_id)
        .first()
    )
    if row is None:
        raise NotFound()
    return facts_from_row(row, await department_paths(json_ids(row["audience_department_ids"])))
