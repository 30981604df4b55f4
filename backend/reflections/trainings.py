"""Trainings and their assignments, created by HR and trainers; participants chosen by filter."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from backend.lib.db import write_transaction
from backend.lib.errors import NotFound, ValidationFailed
from backend.lib.policy import ROLE_HR_ADMIN, Actor
from backend.org.tables import EMPLOYEE_ACTIVE, Department, Employee, JobLevel, Position
from backend.reflections.access import VISIBILITIES, training_manage_check
from backend.reflections.services import BODY_MAX, PHOTOS_MAX, now, text_bounded
from backend.reflections.tables import Assignment, Training, TrainingCourse, TrainingParticipant

TITLE_MAX = 120
PROMPT_MAX = 2_000
DESCRIPTION_MAX = 5_000
PARTICIPANTS_MAX = 20_000
LIST_MAX = 2_000  # ids in one participant list / filter
TRAINING_KINDS = ("course", "workshop", "programme")
COURSES_MAX = 20  # micro-courses linked to one training


@dataclass(frozen=True)
class ParticipantFilter:
    """Who takes part: people in these department subtrees AND of these positions AND levels
    (each list only when given), plus everyone listed by id. Departed people never."""

    department_ids: tuple[int, ...] = ()
    position_ids: tuple[int, ...] = ()
    level_ids: tuple[int, ...] = ()
    employee_ids: tuple[int, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.department_ids or self.position_ids or self.level_ids or self.employee_ids)


async def participants_resolve(selection: ParticipantFilter) -> list[int]:
    """The employee ids a filter selects (validating every id it names)."""
    if selection.empty:
        raise ValidationFailed("error.participants_empty", field="participants")
    for ids in (
        selection.department_ids,
        selection.position_ids,
        selection.level_ids,
        selection.employee_ids,
    ):
        if len(ids) > LIST_MAX:
            raise ValidationFailed("error.participants_too_many", field="participants", max=LIST_MAX)
    chosen: set[int] = set()
    if selection.department_ids or selection.position_ids or selection.level_ids:
        condition: Any = Employee.status == EMPLOYEE_ACTIVE
        if selection.department_ids:
            paths = await Department.select(Department.id, Department.path).where(
                Department.id.is_in(list(selection.department_ids))
            )
            if len(paths) != len(set(selection.department_ids)):
                raise ValidationFailed("error.department_unknown", field="participants")
            subtree: Any = None
            for row in paths:
                part = Employee.department.path.like(f"{row['path']}%")
                subtree = part if subtree is None else subtree | part
            condition = condition & subtree
        if selection.position_ids:
            await _ids_exist(Position, selection.position_ids, "error.position_unknown")
            condition = condition & Employee.position.is_in(list(selection.position_ids))
        if selection.level_ids:
            await _ids_exist(JobLevel, selection.level_ids, "error.level_unknown")
            condition = condition & Employee.level.is_in(list(selection.level_ids))
        chosen |= {row["id"] for row in await Employee.select(Employee.id).where(condition)}
    if selection.employee_ids:
        listed = await Employee.select(Employee.id).where(
            Employee.id.is_in(list(selection.employee_ids)) & (Employee.status == EMPLOYEE_ACTIVE)
        )
        if len(listed) != len(set(selection.employee_ids)):
            raise ValidationFailed("error.employee_unknown", field="participants")
        chosen |= {row["id"] for row in listed}
    if not chosen:
        raise ValidationFailed("error.participants_none_match", field="participants")
    if len(chosen) > PARTICIPANTS_MAX:
        raise ValidationFailed("error.participants_too_many", field="participants", max=PARTICIPANTS_MAX)
    return sorted(chosen)


async def _ids_exist(table: Any, ids: tuple[int, ...], key: str) -> None:
    found = await table.count().where(table.id.is_in(list(ids)))
    if found != len(set(ids)):
        raise ValidationFailed(key, field="participants")


async def participants_preview(*, actor: Actor | None, selection: ParticipantFilter) -> dict[str, Any]:
    """How many people a filter selects, and the first names, before the training is saved."""
    training_manage_check(actor)
    ids = await participants_resolve(selection)
    names = await Employee.select(Employee.name).where(Employee.id.is_in(ids[:10])).order_by(Employee.id)
    return {"count": len(ids), "names": [row["name"] for row in names]}


@dataclass(frozen=True)
class AssignmentSpec:
    """A reflection assignment to create (with a new training, or added to an existing one)."""

    prompt: str
    due_at: dt.datetime
    min_length: int = 0
    max_photos: int = 3
    visibility: str = "department"


def _assignment_checked(spec: AssignmentSpec) -> AssignmentSpec:
    prompt = text_bounded(spec.prompt, field="prompt", max_length=PROMPT_MAX)
    if spec.due_at.tzinfo is None:
        raise ValidationFailed("error.invalid", field="due_at")
    if spec.due_at <= now():
        raise ValidationFailed("error.due_in_past", field="due_at")
    if not 0 <= spec.min_length <= BODY_MAX:
        raise ValidationFailed("error.out_of_range", field="min_length", min=0, max=BODY_MAX)
    if not 0 <= spec.max_photos <= PHOTOS_MAX:
        raise ValidationFailed("error.out_of_range", field="max_photos", min=0, max=PHOTOS_MAX)
    if spec.visibility not in VISIBILITIES:
        raise ValidationFailed("error.invalid", field="visibility")
    return AssignmentSpec(
        prompt=prompt,
        due_at=spec.due_at,
        min_length=spec.min_length,
        max_photos=spec.max_photos,
        visibility=spec.visibility,
    )


async def _assignment_insert(training_id: int, spec: AssignmentSpec) -> int:
    rows = await Assignment.insert(
        Assignment(
            training=training_id,
            prompt=spec.prompt,
            due_at=spec.due_at,
            min_length=spec.min_length,
            max_photos=spec.max_photos,
            visibility=spec.visibility,
        )
    ).returning(Assignment.id)
    return int(rows[0]["id"])


async def training_create(
    *,
    actor: Actor | None,
    title: str,
    kind: str,
    starts_on: dt.date,
    ends_on: dt.date | None,
    description: str = "",
    participants: ParticipantFilter,
    assignment: AssignmentSpec | None = None,
    course_ids: tuple[int, ...] = (),
) -> int:
    """Create a training, its participants, its linked micro-courses and (optionally) its first
    assignment in one transaction: a refused assignment leaves no training behind."""
    actor = training_manage_check(actor)
    course_ids = await training_courses_checked(actor, course_ids)
    if assignment is not None:
        assignment = _assignment_checked(assignment)
    title = text_bounded(title, field="title", max_length=TITLE_MAX)
    description = text_bounded(description, field="description", max_length=DESCRIPTION_MAX, required=False)
    if kind not in TRAINING_KINDS:
        raise ValidationFailed("error.invalid", field="kind")
    if ends_on is not None and ends_on < starts_on:
        raise ValidationFailed("error.dates_order", field="ends_on")
    people = await participants_resolve(participants)
    async with write_transaction(Training):
        training = Training(
            title=title,
            kind=kind,
            starts_on=starts_on,
            ends_on=ends_on,
            description=description,
            created_by=actor.employee_id,
        )
        await training.save()
        for start in range(0, len(people), 500):
            await TrainingParticipant.insert(
                *(
                    TrainingParticipant(training=training.id, employee=person)
                    for person in people[start : start + 500]
                )
            )
        if course_ids:
            await TrainingCourse.insert(
                *(
                    TrainingCourse(training=training.id, course=course_id, sort=index)
                    for index, course_id in enumerate(course_ids)
                )
            )
        if assignment is not None:
            await _assignment_insert(int(training.id), assignment)
    return int(training.id)


async def training_courses_checked(actor: Actor, course_ids: tuple[int, ...]) -> tuple[int, ...]:
    """Linked micro-courses: published ones, or drafts the actor manages (published later)."""
    from backend.courses.access import can_see_course
    from backend.courses.facts import course_facts, viewer_for

    unique = tuple(dict.fromkeys(course_ids))
    if len(unique) > COURSES_MAX:
        raise ValidationFailed("training.too_many_courses", field="course_ids", max=COURSES_MAX)
    viewer = await viewer_for(actor)
    for course_id in unique:
        try:
            visible = can_see_course(viewer, await course_facts(course_id))
        except NotFound:
            visible = False
        if not visible:
            raise ValidationFailed("training.course_unknown", field="course_ids")
    return unique


async def _training_managed(actor: Actor, training_id: int) -> dict[str, Any]:
    row = await Training.select().where(Training.id == training_id).first()
    if row is None:
        raise NotFound()
    if not actor.has(ROLE_HR_ADMIN) and row["created_by"] != actor.employee_id:
        raise NotFound()  # a trainer manages their own trainings
    return dict(row)


async def assignment_create(
    *,
    actor: Actor | None,
    training_id: int,
    prompt: str,
    due_at: dt.datetime,
    min_length: int = 0,
    max_photos: int = 3,
    visibility: str = "department",
) -> int:
    actor = training_manage_check(actor)
    await _training_managed(actor, training_id)
    spec = _assignment_checked(
        AssignmentSpec(
            prompt=prompt, due_at=due_at, min_length=min_length, max_photos=max_photos, visibility=visibility
        )
    )
    return await _assignment_insert(training_id, spec)
