"""Due-soon and overdue reminders on SQLite and PostgreSQL: the windows, extensions, stopping once
submitted, the overdue cadence, and duplicate jobs or re-runs notifying once (also through arq)."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest

from backend.lib.i18n import translate
from backend.lib.queue import queue_pool
from backend.notifications.kinds import KIND_DUE_SOON, KIND_OVERDUE
from backend.notifications.reminder_jobs import (
    DueReminder,
    due_reminder_send,
    due_reminders_scan,
    due_windows_find,
)
from backend.notifications.render import notification_words
from backend.notifications.tables import Notification
from backend.reflections.tables import Assignment, Submission, Training, TrainingParticipant
from backend.worker import worker_create
from tests.ui.harness import actor_named

pytestmark = pytest.mark.usefixtures("backend_name", "demo")

# Far from the demo's own assignments, whose due times are near the real now.
DUE = dt.datetime(2031, 3, 10, 9, 0, tzinfo=dt.UTC)
HOUR, DAY = dt.timedelta(hours=1), dt.timedelta(days=1)


async def training_for(*usernames: str, due: dt.datetime = DUE) -> tuple[int, list[int]]:
    """A training of these people with one assignment due at `due`: (assignment id, employee ids)."""
    training = await Training.insert(
        Training(title="大客户关系维护", kind="workshop", starts_on=due.date())
    ).returning(Training.id)
    people = []
    for username in usernames:
        actor = await actor_named(username)
        assert actor.employee_id is not None
        people.append(actor.employee_id)
        await TrainingParticipant.insert(
            TrainingParticipant(training=training[0]["id"], employee=actor.employee_id)
        )
    rows = await Assignment.insert(
        Assignment(training=training[0]["id"], prompt="心得", due_at=due, visibility="graders")
    ).returning(Assignment.id)
    return int(rows[0]["id"]), people


async def run_at(now: dt.datetime, assignment_id: int) -> list[DueReminder]:
    """What the cron would find at `now` for this assignment, each sent once."""
    found = [item for item in await due_windows_find(now) if item.assignment_id == assignment_id]
    for item in found:
        assert await due_reminder_send(item, now=now)
    return found


async def mine(employee_id: int, kind: str | None = None) -> list[dict[str, Any]]:
    condition: Any = Notification.employee == employee_id
    if kind is not None:
        condition &= Notification.kind == kind
    return await Notification.select().where(condition & Notification.source.like("assignment:%"))


async def test_due_soon_windows_say_when_in_the_readers_language() -> None:
    assignment, (zhang, wang) = await training_for("zhang", "wang")
    assert await run_at(DUE - 50 * HOUR, assignment) == []
    found = await run_at(DUE - 47 * HOUR, assignment)
    assert sorted(item.employee_id for item in found) == sorted([zhang, wang])
    assert found[0].job_id == f"remind:{assignment}:{found[0].employee_id}:soon48@{int(DUE.timestamp())}"
    assert await run_at(DUE - 30 * HOUR, assignment) == []  # reminded for this window already
    (row,) = await mine(zhang, KIND_DUE_SOON)
    zh = notification_words("zh-CN", message_key=row["message_key"], params=row["params"])
    en = notification_words("en", message_key=row["message_key"], params=row["params"])
    assert zh[0] == "大客户关系维护心得 2 天后截止"
    assert en[0] == "大客户关系维护 reflection due in 2 days"
    assert len(await run_at(DUE - 2 * HOUR, assignment)) == 2
    latest = max(await mine(zhang, KIND_DUE_SOON), key=lambda r: r["id"])
    assert notification_words("en", message_key=latest["message_key"], params=latest["params"])[0] == (
        "大客户关系维护 reflection due in 2 hours"
    )
    assert await run_at(DUE - HOUR, assignment) == []


async def test_overdue_cadence_is_day_one_then_every_two_days_at_most_three_times() -> None:
    assignment, (zhang,) = await training_for("zhang")
    sent_at = []
    moment = DUE
    while moment < DUE + 10 * DAY:
        if await run_at(moment, assignment):
            sent_at.append(moment - DUE)
        moment += 6 * HOUR
    assert sent_at == [DAY, 3 * DAY, 5 * DAY]
    rows = sorted(await mine(zhang, KIND_OVERDUE), key=lambda r: r["id"])
    assert len(rows) == 3
    words = [notification_words("zh-CN", message_key=r["message_key"], params=r["params"])[0] for r in rows]
    assert words == [
        "大客户关系维护心得已逾期 1 天",
        "大客户关系维护心得已逾期 3 天",
        "大客户关系维护心得已逾期 5 天",
    ]


async def test_a_worker_that_was_down_catches_up_with_the_latest_window_only() -> None:
    assignment, (zhang,) = await training_for("zhang")
    found = await run_at(DUE + 4 * DAY, assignment)
    assert [item.offset.split("@")[0] for item in found] == ["overdue2"]
    assert len(await mine(zhang)) == 1


async def test_nothing_once_submitted_and_extensions_move_the_windows() -> None:
    assignment, (zhang, wang, li) = await training_for("zhang", "wang", "manager")
    await Submission.insert(
        Submission(assignment=assignment, employee=zhang, state="submitted", version=1, submitted_at=DUE),
        Submission(assignment=assignment, employee=li, state="graded", version=1, submitted_at=DUE),
        # wang's reflection was returned for revision with a new due time a week later
        Submission(assignment=assignment, employee=wang, state="returned", version=1, due_at=DUE + 7 * DAY),
    )
    assert await run_at(DUE - 47 * HOUR, assignment) == []
    assert await run_at(DUE + DAY + HOUR, assignment) == []
    found = await run_at(DUE + 7 * DAY - 47 * HOUR, assignment)
    assert [(item.employee_id, item.offset) for item in found] == [
        (wang, f"soon48@{int((DUE + 7 * DAY).timestamp())}")
    ]


async def test_a_job_for_a_window_that_moved_or_a_submitted_reflection_sends_nothing() -> None:
    assignment, (zhang,) = await training_for("zhang")
    (item,) = [i for i in await due_windows_find(DUE - 47 * HOUR) if i.assignment_id == assignment]
    await Submission.insert(
        Submission(assignment=assignment, employee=zhang, state="returned", version=1, due_at=DUE + DAY)
    )
    assert not await due_reminder_send(item, now=DUE - 47 * HOUR)  # the due time moved
    await Submission.update({Submission.state: "submitted"}).where(Submission.employee == zhang)
    moved = DueReminder(assignment, zhang, f"soon48@{int((DUE + DAY).timestamp())}")
    assert not await due_reminder_send(moved, now=DUE)
    assert not await due_reminder_send(DueReminder(assignment, zhang, "sometime@x"))
    assert await mine(zhang) == []


async def test_duplicate_jobs_notify_once() -> None:
    assignment, (zhang,) = await training_for("zhang")
    item = DueReminder(assignment, zhang, f"soon2@{int(DUE.timestamp())}")
    results = await asyncio.gather(*(due_reminder_send(item, now=DUE - HOUR) for _ in range(4)))
    assert sorted(results) == [False, False, False, True]
    assert len(await mine(zhang)) == 1


async def test_the_cron_enqueues_deterministic_jobs_that_the_worker_runs_once(settings: Any) -> None:
    due = dt.datetime.now(dt.UTC) + 47 * HOUR
    assignment, (zhang, wang) = await training_for("zhang", "wang", due=due)
    pool = await queue_pool(settings.redis.url)
    try:
        await pool.flushdb()
        ctx = {"redis": pool}
        assert await due_reminders_scan(ctx) >= 2
        await due_reminders_scan(ctx)  # a re-run enqueues the same job ids: arq keeps one of each
        queued = [job.job_id for job in await pool.queued_jobs()]
        ours = [job_id for job_id in queued if job_id and job_id.startswith(f"remind:{assignment}:")]
        assert sorted(ours) == sorted(
            f"remind:{assignment}:{person}:soon48@{int(due.timestamp())}" for person in (zhang, wang)
        )
        worker = worker_create(settings, redis_pool=pool, burst=True)
        await worker.main()
        assert worker.jobs_failed == 0
        ours_sent = Notification.source == f"assignment:{assignment}"
        assert await Notification.count().where(ours_sent & (Notification.employee == zhang)) == 1
        assert await Notification.count().where(ours_sent & (Notification.employee == wang)) == 1
        assert [
            i for i in await due_windows_find(dt.datetime.now(dt.UTC)) if i.assignment_id == assignment
        ] == []
    finally:
        await pool.flushdb()
        await pool.aclose()
    assert (
        translate("en", "reminders.msg.due_soon_days.title", training="x", count=2)
        == "x reflection due in 2 days"
    )
