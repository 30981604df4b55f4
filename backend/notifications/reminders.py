"""HR reminders: compose a message for a target, preview who gets it, send it now or at a set time.

A target combines criteria (all must hold): the participants of a training (optionally only those who
have not submitted every reflection of it), a department subtree, a position, a level, a list of people.
HR reaches everyone; a manager reaches the department subtrees they manage (a department outside them
is a 404). An empty target, or one that reaches nobody, is refused (422) with the reason.
Sending happens in the worker (backend.notifications.reminder_jobs): now through the outbox, later
through the every-minute cron; each recipient is notified once whatever repeats (dedupe "reminder:<id>").
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

import msgspec

from backend.events.outbox import outbox_add, outbox_kick
from backend.lib.db import write_transaction
from backend.lib.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from backend.lib.policy import ROLE_HR_ADMIN, ROLE_MANAGER, Actor, actor_require
from backend.lib.schema import Schema
from backend.notifications.reminder_stats import ChannelStatOut, reminder_stats
from backend.notifications.services import url_checked, utc_now
from backend.notifications.tables import Reminder
from backend.org.schemas import DepartmentOut, Page, Ref
from backend.org.selectors import department_tree_order, level_list, position_list
from backend.org.tables import EMPLOYEE_ACTIVE, Department, Employee, JobLevel, Position
from backend.reflections.access import STATE_GRADED, STATE_SUBMITTED
from backend.reflections.tables import Assignment, Submission, Training, TrainingParticipant

EVENT_REMINDER_SEND = "reminder.send"
STATE_SCHEDULED = "scheduled"
STATE_SENT = "sent"
STATE_CANCELLED = "cancelled"
# A reflection in one of these states counts as submitted (a returned one must be handed in again).
SUBMITTED_STATES = (STATE_SUBMITTED, STATE_GRADED)
PREVIEW_NAMES = 20
TITLE_MAX = 200
BODY_MAX = 2000
EMPLOYEE_IDS_MAX = 5000
SCHEDULE_MAX = dt.timedelta(days=366)
PAGE_SIZE = 20
MAX_PAGE = 10_000


class ReminderTarget(Schema):
    training_id: int | None = None
    not_submitted: bool = False
    department_id: int | None = None
    position_id: int | None = None
    level_id: int | None = None
    employee_ids: list[int] = msgspec.field(default_factory=list)


class ReminderPreviewOut(Schema):
    count: int
    names: list[str]  # the first PREVIEW_NAMES, by name


class ReminderChoicesOut(Schema):
    trainings: list[Ref]  # newest first
    departments: list[DepartmentOut]  # tree order, inside the sender's scope
    positions: list[Ref]
    levels: list[Ref]


class ReminderCreatedOut(Schema):
    id: int
    recipients: int


class ReminderOut(Schema):
    id: int
    title: str
    body: str
    url: str
    target: ReminderTarget
    state: str
    send_at: dt.datetime
    sent_at: dt.datetime | None
    recipients: int
    created_by: Ref | None
    stats: list[ChannelStatOut]
    can_cancel: bool


def reminder_sender_check(actor: Actor | None) -> Actor:
    """HR administrators, and managers (for their subtrees), send reminders; others get 403."""
    actor = actor_require(actor)
    if actor.has(ROLE_HR_ADMIN) or (actor.has(ROLE_MANAGER) and actor.managed_paths):
        return actor
    raise PermissionDenied()


def target_decode(value: Any) -> ReminderTarget:
    raw = json.loads(value) if isinstance(value, str) else value
    return msgspec.convert(raw or {}, ReminderTarget)


def _in_scope(path: str, whole_organisation: bool, paths: Sequence[str]) -> bool:
    return whole_organisation or any(path.startswith(root) for root in paths)


async def _subtree(path: str) -> list[int]:
    return [
        int(row["id"])
        for row in await Department.select(Department.id).where(Department.path.like(f"{path}%"))
    ]


async def _training_people(training_id: int, not_submitted: bool) -> set[int]:
    people = {
        int(row["employee"])
        for row in await TrainingParticipant.select(TrainingParticipant.employee).where(
            TrainingParticipant.training == training_id
        )
    }
    if not not_submitted:
        return people
    assignments = [
        int(row["id"])
        for row in await Assignment.select(Assignment.id).where(Assignment.training == training_id)
    ]
    if not assignments:
        return set()
    handed: dict[int, int] = {}
    for row in await Submission.select(Submission.employee).where(
        Submission.assignment.is_in(assignments) & Submission.state.is_in(list(SUBMITTED_STATES))
    ):
        handed[int(row["employee"])] = handed.get(int(row["employee"]), 0) + 1
    return {person for person in people if handed.get(person, 0) < len(assignments)}


async def target_people(
    target: ReminderTarget, *, whole_organisation: bool, scope_paths: Sequence[str]
) -> list[tuple[int, str]]:
    """(id, name) of the active people the target reaches inside the sender's scope, by name."""
    condition: Any = Employee.status == EMPLOYEE_ACTIVE
    if target.department_id is not None:
        department = (
            await Department.select(Department.path).where(Department.id == target.department_id).first()
        )
        if department is None or not _in_scope(str(department["path"]), whole_organisation, scope_paths):
            raise NotFound("error.reminders_department_unknown")
        condition &= Employee.department.is_in(await _subtree(str(department["path"])))
    if target.position_id is not None:
        if not await Position.exists().where(Position.id == target.position_id):
            raise ValidationFailed("error.reminders_position_unknown", field="position_id")
        condition &= Employee.position == target.position_id
    if target.level_id is not None:
        if not await JobLevel.exists().where(JobLevel.id == target.level_id):
            raise ValidationFailed("error.reminders_level_unknown", field="level_id")
        condition &= Employee.level == target.level_id
    if target.employee_ids:
        condition &= Employee.id.is_in(sorted(set(target.employee_ids)))
    if target.training_id is not None:
        if not await Training.exists().where(Training.id == target.training_id):
            raise ValidationFailed("error.reminders_training_unknown", field="training_id")
        wanted = await _training_people(target.training_id, target.not_submitted)
        condition &= Employee.id.is_in(sorted(wanted) or [0])
    rows = (
        await Employee.select(Employee.id, Employee.name, Employee.department.path.as_alias("path"))
        .where(condition)
        .order_by(Employee.name)
        .order_by(Employee.id)
    )
    return [
        (int(row["id"]), str(row["name"]))
        for row in rows
        if _in_scope(str(row["path"] or ""), whole_organisation, scope_paths)
    ]


def _target_check(target: ReminderTarget) -> None:
    if target.not_submitted and target.training_id is None:
        raise ValidationFailed("error.reminders_not_submitted_needs_training", field="target")
    if len(target.employee_ids) > EMPLOYEE_IDS_MAX:
        raise ValidationFailed("error.reminders_too_many_people", field="employee_ids")
    if not (
        target.training_id is not None
        or target.department_id is not None
        or target.position_id is not None
        or target.level_id is not None
        or target.employee_ids
    ):
        raise ValidationFailed("error.reminders_target_empty", field="target")


async def _recipients(actor: Actor, target: ReminderTarget) -> list[tuple[int, str]]:
    _target_check(target)
    people = await target_people(
        target, whole_organisation=actor.has(ROLE_HR_ADMIN), scope_paths=actor.managed_paths
    )
    if not people:
        raise ValidationFailed("error.reminders_nobody", field="target")
    return people


async def reminder_choices(*, actor: Actor | None) -> ReminderChoicesOut:
    """What a target can be picked from: trainings with people in my scope, my departments, positions, levels."""
    actor = reminder_sender_check(actor)
    whole = actor.has(ROLE_HR_ADMIN)
    rows = await Department.select(Department.id, Department.name, Department.parent, Department.path).where(
        Department.active == True  # noqa: E712 - a SQL comparison
    )
    departments = [dict(row) for row in rows if _in_scope(str(row["path"]), whole, actor.managed_paths)]
    trainings = await TrainingParticipant.select(
        TrainingParticipant.training,
        TrainingParticipant.training.title.as_alias("title"),
        TrainingParticipant.employee.department.path.as_alias("path"),  # type: ignore[union-attr]
    )
    visible = {
        int(row["training"]): str(row["title"])
        for row in trainings
        if _in_scope(str(row["path"] or ""), whole, actor.managed_paths)
    }
    return ReminderChoicesOut(
        trainings=[Ref(id=tid, name=visible[tid]) for tid in sorted(visible, reverse=True)],
        departments=department_tree_order(departments, {}),
        positions=await position_list(),
        levels=await level_list(),
    )


async def reminder_preview(*, actor: Actor | None, target: ReminderTarget) -> ReminderPreviewOut:
    """How many people a target reaches and the first names: what "send" would do now."""
    actor = reminder_sender_check(actor)
    people = await _recipients(actor, target)
    return ReminderPreviewOut(count=len(people), names=[name for _, name in people[:PREVIEW_NAMES]])


async def reminder_create(
    *,
    actor: Actor | None,
    target: ReminderTarget,
    title: str,
    body: str = "",
    url: str = "",
    send_at: dt.datetime | None = None,
) -> ReminderCreatedOut:
    """Compose a reminder: sent now (after commit, through the outbox) or at `send_at`."""
    actor = reminder_sender_check(actor)
    title, body = title.strip(), body.strip()
    if not title or len(title) > TITLE_MAX:
        raise ValidationFailed("error.reminders_title_invalid", field="title")
    if len(body) > BODY_MAX:
        raise ValidationFailed("error.reminders_body_too_long", field="body")
    try:
        url = url_checked(url.strip())
    except ValueError:
        raise ValidationFailed("error.reminders_url_invalid", field="url") from None
    now = utc_now()
    if send_at is not None and send_at.tzinfo is None:
        raise ValidationFailed("error.reminders_send_at_invalid", field="send_at")
    if send_at is not None and send_at > now + SCHEDULE_MAX:
        raise ValidationFailed("error.reminders_send_at_too_far", field="send_at")
    later = send_at is not None and send_at > now
    people = await _recipients(actor, target)
    async with write_transaction(Reminder):
        rows = await Reminder.insert(
            Reminder(
                title=title,
                body=body,
                url=url,
                target=msgspec.to_builtins(target),
                whole_organisation=actor.has(ROLE_HR_ADMIN),
                scope_paths=list(actor.managed_paths),
                send_at=send_at if later else now,
                state=STATE_SCHEDULED,
                recipient_count=len(people),
                created_by=actor.employee_id,
                created_at=now,
            )
        ).returning(Reminder.id)
        reminder_id = int(rows[0]["id"])
        event_id = None if later else await outbox_add(EVENT_REMINDER_SEND, {"reminder_id": reminder_id})
    if event_id is not None:
        await outbox_kick([event_id])
    return ReminderCreatedOut(id=reminder_id, recipients=len(people))


def reminder_own_condition(actor: Actor) -> Any:
    """The reminders an actor may see and cancel: HR all (None), a manager the ones they composed."""
    return None if actor.has(ROLE_HR_ADMIN) else Reminder.created_by == (actor.employee_id or 0)


async def reminder_cancel(*, actor: Actor | None, reminder_id: int) -> None:
    """Cancel a scheduled reminder (HR: any; a manager: their own). Sent or cancelled already: 409."""
    actor = reminder_sender_check(actor)
    mine = Reminder.id == reminder_id
    own = reminder_own_condition(actor)
    if own is not None:
        mine &= own
    row = await Reminder.select(Reminder.state).where(mine).first()
    if row is None:
        raise NotFound()
    changed = (
        await Reminder.update({Reminder.state: STATE_CANCELLED})
        .where(mine & (Reminder.state == STATE_SCHEDULED))
        .returning(Reminder.id)
    )
    if not changed:
        raise Conflict("error.reminders_not_scheduled")


async def reminder_list(*, actor: Actor | None, page: int = 1) -> Page[ReminderOut]:
    """Reminders, latest send time first, with their delivery statistics.
    HR sees all; a manager the ones they composed."""
    actor = reminder_sender_check(actor)
    page = min(max(page, 1), MAX_PAGE)
    own = reminder_own_condition(actor)
    query = Reminder.select(*Reminder.all_columns(), Reminder.created_by.name.as_alias("creator_name"))
    count = Reminder.count()
    if own is not None:
        query, count = query.where(own), count.where(own)
    rows = (
        await query.order_by(Reminder.send_at, ascending=False)
        .order_by(Reminder.id, ascending=False)
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    )
    stats, now = await reminder_stats([int(row["id"]) for row in rows]), utc_now()
    items = [
        ReminderOut(
            id=row["id"],
            title=row["title"],
            body=row["body"],
            url=row["url"],
            target=target_decode(row["target"]),
            state=row["state"],
            send_at=row["send_at"],
            sent_at=row["sent_at"],
            recipients=row["recipient_count"],
            created_by=Ref(id=row["created_by"], name=row["creator_name"]) if row["created_by"] else None,
            stats=stats.get(int(row["id"]), []),
            # one sent "now" is on its way (the worker picks it up at once): too late to cancel
            can_cancel=row["state"] == STATE_SCHEDULED and row["send_at"] > now,
        )
        for row in rows
    ]
    return Page.of(items=items, page=page, page_size=PAGE_SIZE, total=await count)
