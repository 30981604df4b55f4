"""Training reads for the admin pages: the trainings I manage, 工号 lists, training choices for the archive.

Same rules as backend.reflections.trainings: HR administrators see every training, a trainer the
trainings they created; anyone else is refused. The archive's training choices follow the archive's
scope (HR and auditors everything, a manager the trainings with people of their subtree).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import msgspec
from piccolo.query.methods.select import Count

from backend.lib.errors import ValidationFailed
from backend.lib.policy import ROLE_HR_ADMIN, Actor
from backend.lib.schema import Schema
from backend.org.schemas import DepartmentOut, Page, Ref
from backend.org.selectors import department_tree_order, level_list, position_list
from backend.org.tables import EMPLOYEE_ACTIVE, Department, Employee
from backend.reflections.access import (
    STATE_GRADED,
    STATE_RETURNED,
    STATE_SUBMITTED,
    archive_scope_check,
    training_manage_check,
)
from backend.reflections.tables import Assignment, Submission, Training, TrainingParticipant
from backend.reflections.trainings import LIST_MAX

PAGE_SIZE = 20
MAX_PAGE = 10_000
OPTIONS_MAX = 500
# States of a reflection that has been handed in at least once.
HANDED_IN = (STATE_SUBMITTED, STATE_GRADED, STATE_RETURNED)
_NUMBER_SEPARATORS = re.compile(r"[\s,，、;；]+")


class TrainingAssignmentOut(Schema):
    id: int
    prompt: str
    due_at: dt.datetime
    visibility: str
    submitted: int  # handed in at least once
    total: int  # the training's participants


class TrainingOut(Schema):
    id: int
    title: str
    kind: str
    starts_on: dt.date
    ends_on: dt.date | None
    description: str
    created_by: Ref | None
    participant_count: int
    assignments: list[TrainingAssignmentOut]


def _managed_condition(actor: Actor) -> Any:
    """Trainings the actor manages (None: all of them)."""
    if actor.has(ROLE_HR_ADMIN):
        return None
    return Training.created_by == (actor.employee_id or 0)


async def training_list(*, actor: Actor | None, page: int = 1) -> Page[TrainingOut]:
    """Trainings I manage, newest first, with participant counts and their assignments' progress."""
    actor = training_manage_check(actor)
    page = min(max(page, 1), MAX_PAGE)
    condition = _managed_condition(actor)
    query = Training.select(
        *Training.all_columns(), Training.created_by.name.as_alias("creator_name")
    ).order_by(Training.starts_on, ascending=False)
    count = Training.count()
    if condition is not None:
        query = query.where(condition)
        count = count.where(condition)
    rows = await query.order_by(Training.id, ascending=False).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
    total = await count
    ids = [row["id"] for row in rows] or [0]
    participants = {
        row["training"]: row["count"]
        for row in await TrainingParticipant.select(TrainingParticipant.training, Count())
        .where(TrainingParticipant.training.is_in(ids))
        .group_by(TrainingParticipant.training)
    }
    assignments = (
        await Assignment.select(
            Assignment.id, Assignment.training, Assignment.prompt, Assignment.due_at, Assignment.visibility
        )
        .where(Assignment.training.is_in(ids))
        .order_by(Assignment.due_at)
    )
    handed_in = {
        row["assignment"]: row["count"]
        for row in await Submission.select(Submission.assignment, Count())
        .where(
            Submission.assignment.is_in([row["id"] for row in assignments] or [0])
            & Submission.state.is_in(list(HANDED_IN))
        )
        .group_by(Submission.assignment)
    }
    by_training: dict[int, list[TrainingAssignmentOut]] = {}
    for row in assignments:
        by_training.setdefault(row["training"], []).append(
            TrainingAssignmentOut(
                id=row["id"],
                prompt=row["prompt"],
                due_at=row["due_at"],
                visibility=row["visibility"],
                submitted=handed_in.get(row["id"], 0),
                total=participants.get(row["training"], 0),
            )
        )
    return Page.of(
        items=[
            TrainingOut(
                id=row["id"],
                title=row["title"],
                kind=row["kind"],
                starts_on=row["starts_on"],
                ends_on=row["ends_on"],
                description=row["description"],
                created_by=Ref(id=row["created_by"], name=row["creator_name"]) if row["created_by"] else None,
                participant_count=participants.get(row["id"], 0),
                assignments=by_training.get(row["id"], []),
            )
            for row in rows
        ],
        page=page,
        page_size=PAGE_SIZE,
        total=total,
    )


class ParticipantChoicesOut(Schema):
    departments: list[DepartmentOut]  # tree order, parents first
    positions: list[Ref]
    levels: list[Ref]
    courses: list[Ref] = msgspec.field(default_factory=list)  # micro-courses a training may link


async def participant_choices(*, actor: Actor | None) -> ParticipantChoicesOut:
    """What a training's participants can be chosen by. A trainer chooses from the whole organisation
    (as the training services allow), not only from the departments they may otherwise see."""
    training_manage_check(actor)
    rows = await Department.select(Department.id, Department.name, Department.parent).where(
        Department.active == True  # noqa: E712
    )
    counts: dict[int, int] = {}
    for row in await Employee.select(Employee.department).where(Employee.status == EMPLOYEE_ACTIVE):
        counts[row["department"]] = counts.get(row["department"], 0) + 1
    ordered = department_tree_order([dict(row) for row in rows], counts)
    return ParticipantChoicesOut(
        departments=ordered,
        positions=await position_list(),
        levels=await level_list(),
        courses=await _linkable_courses(actor),
    )


async def _linkable_courses(actor: Actor | None) -> list[Ref]:
    """Published micro-courses, and the actor's own drafts (HR: every course), newest first."""
    from backend.courses.access import STATUS_PUBLISHED
    from backend.courses.tables import Course

    condition: Any = Course.status == STATUS_PUBLISHED
    if actor is not None and actor.has(ROLE_HR_ADMIN):
        condition = Course.id > 0
    elif actor is not None and actor.employee_id is not None:
        condition = condition | (Course.author == actor.employee_id)
    rows = (
        await Course.select(Course.id, Course.title)
        .where(condition)
        .order_by(Course.id, ascending=False)
        .limit(200)
    )
    return [Ref(id=row["id"], name=row["title"]) for row in rows]


def employee_numbers_parse(text: str) -> list[str]:
    """工号 typed or pasted as a list: separated by spaces, new lines, commas, 、 or semicolons."""
    return list(dict.fromkeys(part for part in _NUMBER_SEPARATORS.split(text or "") if part))


async def employee_ids_by_numbers(*, actor: Actor | None, numbers: list[str]) -> list[int]:
    """The ids of the active people with these 工号 (for a training's participant list).

    Unknown or departed numbers are refused, naming (up to five of) them.
    """
    training_manage_check(actor)
    numbers = list(dict.fromkeys(number.strip() for number in numbers if number.strip()))
    if not numbers:
        return []
    if len(numbers) > LIST_MAX:
        raise ValidationFailed("error.participants_too_many", field="participants", max=LIST_MAX)
    rows = await Employee.select(Employee.id, Employee.employee_no).where(
        Employee.employee_no.is_in(numbers) & (Employee.status == EMPLOYEE_ACTIVE)
    )
    found = {row["employee_no"]: row["id"] for row in rows}
    unknown = [number for number in numbers if number not in found]
    if unknown:
        raise ValidationFailed(
            "radmin.numbers_unknown", field="employee_numbers", numbers="、".join(unknown[:5])
        )
    return [found[number] for number in numbers]


async def archive_training_options(*, actor: Actor | None) -> list[Ref]:
    """Trainings to filter the archive by: all for HR and auditors, those with people of my subtree for managers."""
    actor = archive_scope_check(actor)
    query = Training.select(Training.id, Training.title).order_by(Training.starts_on, ascending=False)
    if not actor.sees_whole_organisation:
        scope: Any = None
        for path in actor.managed_paths:
            part = TrainingParticipant.employee.department.path.like(f"{path}%")  # type: ignore[union-attr]
            scope = part if scope is None else scope | part
        query = query.where(
            Training.id.is_in(TrainingParticipant.select(TrainingParticipant.training).where(scope))
        )
    rows = await query.order_by(Training.id, ascending=False).limit(OPTIONS_MAX)
    return [Ref(id=row["id"], name=row["title"]) for row in rows]
