"""Reminder jobs: reflections due soon or overdue, and HR reminders, each notifying a person once.

Due windows (from a person's due time: the assignment's, or their own extension on the submission):
48 h and 2 h before ("due in 2 days", "due in 2 hours"), then overdue at due + 1 day and every 2 days
after, at most 3 times. A window lasts until the next one begins, so a worker that was down catches up
with the latest window only. Nothing is sent once the reflection is submitted (or graded).

The cron `due_reminders_scan` (every minute) finds people in a window and enqueues one job per person
and window with a deterministic job id `remind:{assignment}:{employee}:{offset}`; the offset names the
window and the due time it belongs to, so an extension opens fresh windows. The job re-checks and
calls `notify` with a dedupe key made of the same parts: duplicate jobs and re-runs notify once.
`reminders_send_due` (cron) and the outbox event "reminder.send" send HR reminders whose time came.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass
from typing import Any

from backend.accounts.selectors import actor_for_account
from backend.accounts.tables import Account
from backend.lib.errors import ValidationFailed
from backend.notifications.kinds import KIND_DUE_SOON, KIND_HR_MESSAGE, KIND_OVERDUE
from backend.notifications.quiet_hours import org_zone
from backend.notifications.reminders import (
    EVENT_REMINDER_SEND,
    STATE_SCHEDULED,
    STATE_SENT,
    SUBMITTED_STATES,
    ReminderTarget,
    reminder_create,
    target_decode,
    target_people,
)
from backend.notifications.services import notify, utc_now
from backend.notifications.tables import Notification, Reminder
from backend.org.tables import EMPLOYEE_ACTIVE
from backend.reflections.tables import Assignment, Submission, Training, TrainingParticipant

logger = logging.getLogger("learnloop.reminders")

HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class DueWindow:
    name: str
    starts: dt.timedelta  # from the due time
    ends: dt.timedelta
    kind: str


WINDOWS = (
    DueWindow("soon48", -48 * HOUR, -2 * HOUR, KIND_DUE_SOON),
    DueWindow("soon2", -2 * HOUR, dt.timedelta(0), KIND_DUE_SOON),
    DueWindow("overdue1", DAY, 3 * DAY, KIND_OVERDUE),
    DueWindow("overdue2", 3 * DAY, 5 * DAY, KIND_OVERDUE),
    DueWindow("overdue3", 5 * DAY, 7 * DAY, KIND_OVERDUE),
)
EARLIEST, LATEST = WINDOWS[0].starts, WINDOWS[-1].ends
DUE_JOB_NAME = "due_reminder_job"
CHUNK = 500


@dataclass(frozen=True)
class DueReminder:
    assignment_id: int
    employee_id: int
    offset: str  # "<window>@<due as unix seconds>"

    @property
    def job_id(self) -> str:
        return f"remind:{self.assignment_id}:{self.employee_id}:{self.offset}"

    @property
    def dedupe_key(self) -> str:  # notify() prefixes the employee id
        return f"remind:{self.assignment_id}:{self.offset}"


def window_at(due: dt.datetime, now: dt.datetime) -> DueWindow | None:
    for window in WINDOWS:
        if due + window.starts <= now < due + window.ends:
            return window
    return None


def offset_parse(offset: str) -> tuple[DueWindow, dt.datetime] | None:
    name, _, stamp = offset.partition("@")
    window = next((w for w in WINDOWS if w.name == name), None)
    if window is None or not stamp.isdigit():
        return None
    return window, dt.datetime.fromtimestamp(int(stamp), dt.UTC)


async def _people_due(assignment: dict[str, Any]) -> list[tuple[int, dt.datetime, str]]:
    """(employee, their due time, submission state or "") for the assignment's active participants."""
    people = [
        int(row["employee"])
        for row in await TrainingParticipant.select(TrainingParticipant.employee).where(
            (TrainingParticipant.training == assignment["training"])
            & (TrainingParticipant.employee.status == EMPLOYEE_ACTIVE)
        )
    ]
    submissions = {
        int(row["employee"]): row
        for row in await Submission.select(Submission.employee, Submission.state, Submission.due_at).where(
            Submission.assignment == assignment["id"]
        )
    }
    result = []
    for person in people:
        submission = submissions.get(person) or {}
        due = submission.get("due_at") or assignment["due_at"]
        result.append((person, due, str(submission.get("state") or "")))
    return result


async def due_windows_find(now: dt.datetime) -> list[DueReminder]:
    """Everyone in a due window now who was not reminded for it yet and has not submitted."""
    low, high = now - LATEST, now - EARLIEST
    assignment_ids = {
        int(row["id"])
        for row in await Assignment.select(Assignment.id).where(
            (Assignment.due_at > low) & (Assignment.due_at <= high)
        )
    }
    assignment_ids.update(
        int(row["assignment"])
        for row in await Submission.select(Submission.assignment).where(
            (Submission.due_at > low) & (Submission.due_at <= high)
        )
    )
    if not assignment_ids:
        return []
    found: list[DueReminder] = []
    for assignment in await Assignment.select(Assignment.id, Assignment.training, Assignment.due_at).where(
        Assignment.id.is_in(sorted(assignment_ids))
    ):
        for person, due, state in await _people_due(assignment):
            window = window_at(due, now)
            if window is not None and state not in SUBMITTED_STATES:
                found.append(
                    DueReminder(int(assignment["id"]), person, f"{window.name}@{int(due.timestamp())}")
                )
    return await _not_yet_notified(found)


async def _not_yet_notified(found: list[DueReminder]) -> list[DueReminder]:
    keys = {f"{item.employee_id}:{item.dedupe_key}": item for item in found}
    done: set[str] = set()
    wanted = sorted(keys)
    for start in range(0, len(wanted), CHUNK):
        rows = await Notification.select(Notification.dedupe_key).where(
            Notification.dedupe_key.is_in(wanted[start : start + CHUNK])
        )
        done.update(str(row["dedupe_key"]) for row in rows)
    return [item for key, item in keys.items() if key not in done]


def _amount(window: DueWindow, due: dt.datetime, now: dt.datetime) -> tuple[str, int]:
    """("days" | "hours", how many): "due in 2 days", "due in 2 hours", "3 days overdue"."""
    if window.kind == KIND_OVERDUE:
        return "days", max(1, int((now - due) / DAY))
    left = max(due - now, dt.timedelta(0))
    if left >= DAY:
        return "days", round(left / DAY)
    return "hours", max(1, round(left / HOUR))


async def due_reminder_send(item: DueReminder, *, now: dt.datetime | None = None) -> bool:
    """Notify one person for one window, if still due and not submitted. True if it notified now."""
    now = now or utc_now()
    parsed = offset_parse(item.offset)
    if parsed is None:
        return False
    window, due = parsed
    assignment = (
        await Assignment.select(
            Assignment.id, Assignment.training, Assignment.due_at, Assignment.training.title.as_alias("title")
        )
        .where(Assignment.id == item.assignment_id)
        .first()
    )
    if assignment is None:
        return False
    current = next((p for p in await _people_due(assignment) if p[0] == item.employee_id), None)
    if (
        current is None
        or current[2] in SUBMITTED_STATES
        or int(current[1].timestamp()) != int(due.timestamp())
    ):
        return False  # gone, submitted, or the due time moved (the new one has its own windows)
    unit, amount = _amount(window, due, now)
    variant = "overdue" if window.kind == KIND_OVERDUE else f"due_soon_{unit}"
    created = await notify(
        employee_ids=[item.employee_id],
        kind=window.kind,
        key=f"reminders.msg.{variant}",
        params={"training": str(assignment["title"]), "count": amount, "due": {"at": due.isoformat()}},
        url="/reflections",
        source=f"assignment:{item.assignment_id}",
        dedupe_key=item.dedupe_key,
    )
    return bool(created)


async def due_reminders_scan(ctx: dict[str, Any]) -> int:
    """arq cron (every minute): enqueue a job per person in a due window. Returns how many it found."""
    found = await due_windows_find(utc_now())
    for item in found:
        await ctx["redis"].enqueue_job(
            DUE_JOB_NAME, item.assignment_id, item.employee_id, item.offset, _job_id=item.job_id
        )
    return len(found)


async def due_reminder_job(ctx: dict[str, Any], assignment_id: int, employee_id: int, offset: str) -> bool:
    """arq job: one person, one window."""
    return await due_reminder_send(DueReminder(assignment_id, employee_id, offset))


async def reminder_send(reminder_id: int, *, now: dt.datetime | None = None) -> int:
    """Send an HR reminder whose time came (a scheduled one only). Returns how many it notified now."""
    now = now or utc_now()
    row = await Reminder.select().where(Reminder.id == reminder_id).first()
    if row is None or row["state"] != STATE_SCHEDULED or row["send_at"] > now:
        return 0
    people = await target_people(
        target_decode(row["target"]),
        whole_organisation=bool(row["whole_organisation"]),
        scope_paths=target_decode_paths(row["scope_paths"]),
    )
    source = f"reminder:{reminder_id}"
    created = await notify(
        employee_ids=[person for person, _ in people],
        kind=KIND_HR_MESSAGE,
        title=str(row["title"]),
        body=str(row["body"]),
        url=str(row["url"]),
        source=source,
        dedupe_key=source,
    )
    total = await Notification.count().where(Notification.source == source)
    await Reminder.update(
        {Reminder.state: STATE_SENT, Reminder.sent_at: now, Reminder.recipient_count: total}
    ).where((Reminder.id == reminder_id) & (Reminder.state == STATE_SCHEDULED))
    return len(created)


def target_decode_paths(value: Any) -> list[str]:
    decoded = json.loads(value) if isinstance(value, str) else value
    return [str(item) for item in decoded or []]


async def reminders_send_due(ctx: dict[str, Any]) -> int:
    """arq cron (every minute): send the scheduled HR reminders whose time came."""
    now = utc_now()
    rows = (
        await Reminder.select(Reminder.id)
        .where((Reminder.state == STATE_SCHEDULED) & (Reminder.send_at <= now))
        .order_by(Reminder.send_at)
    )
    sent = 0
    for row in rows:
        try:
            sent += await reminder_send(int(row["id"]), now=now)
        except Exception:  # one bad reminder does not hold the others back; the next minute retries
            logger.exception("reminder %s not sent", row["id"])
    return sent


async def reminder_send_on_event(ctx: dict[str, Any], payload: dict[str, Any]) -> None:
    """Outbox handler for "reminder.send": a reminder to send now, right after its commit."""
    await reminder_send(int(payload["reminder_id"]))


REMINDER_HANDLERS = {EVENT_REMINDER_SEND: [reminder_send_on_event]}
REMINDER_JOBS = [due_reminder_job]


DEMO_REMINDER_TITLE = "周五前请提交「大客户关系维护」心得"
DEMO_REMINDER_BODY = "还没有提交的同事，请结合一位你负责的大客户，写下培训后你准备改变的一个做法。"
DEMO_TRAINING_TITLE = "大客户关系维护"


async def reminders_demo_seed() -> bool:
    """The demo's scheduled HR reminder: `hr` reminds the non-submitters of 大客户关系维护 tomorrow at
    10:00 (organisation time). Returns False when it exists already (or the demo has no such training)."""
    if await Reminder.exists().where(Reminder.title == DEMO_REMINDER_TITLE):
        return False
    hr = await Account.select(Account.id).where(Account.username == "hr").first()
    training = await Training.select(Training.id).where(Training.title == DEMO_TRAINING_TITLE).first()
    actor = await actor_for_account(int(hr["id"])) if hr else None
    if actor is None or training is None:
        return False
    tomorrow = dt.datetime.now(org_zone()).date() + DAY
    try:
        await reminder_create(
            actor=actor,
            target=ReminderTarget(training_id=int(training["id"]), not_submitted=True),
            title=DEMO_REMINDER_TITLE,
            body=DEMO_REMINDER_BODY,
            url="/reflections",
            send_at=dt.datetime.combine(tomorrow, dt.time(10, 0), tzinfo=org_zone()),
        )
    except ValidationFailed:  # everyone submitted already: nothing to remind
        return False
    return True
