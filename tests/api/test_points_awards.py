"""Awards from outbox events and presets, on SQLite and PostgreSQL: each source earns once, however
often its event arrives, the reflection is resubmitted or the course rewatched."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import pytest

from backend.courses.tables import Course, CourseVersion
from backend.events.tables import OutboxEvent
from backend.lib.errors import NotFound, PermissionDenied
from backend.org.tables import Employee, JobLevel
from backend.points.awards import (
    POINTS_HANDLERS,
    points_on_course_completed,
    points_on_course_published,
    points_on_submission_graded,
    points_on_submission_submitted,
)
from backend.points.facts import org_today
from backend.points.ledger import balance, by_category
from backend.points.presets import preset_apply
from backend.points.rulebook import rule_list
from backend.points.tables import LedgerEntry, PointSettings, PointTarget
from backend.reflections.grading import submission_grade
from backend.reflections.selectors import assignments_mine
from backend.reflections.services import submission_submit
from tests.ui.harness import actor_named

pytestmark = pytest.mark.usefixtures("backend_name", "points_clean")

TEXT = "这次培训让我学会先倾听客户的真实需求，再给出方案，客户也更愿意和我多聊。" * 4


async def employee_of(username: str) -> int:
    actor = await actor_named(username)
    assert actor.employee_id is not None
    return actor.employee_id


async def last_event(kind: str) -> dict[str, Any]:
    row = (
        await OutboxEvent.select()
        .where(OutboxEvent.kind == kind)
        .order_by(OutboxEvent.id, ascending=False)
        .first()
    )
    assert row is not None, kind
    payload = row["payload"]
    return json.loads(payload) if isinstance(payload, str) else dict(payload)


async def presets() -> None:
    hr = await actor_named("hr")
    await preset_apply(actor=hr, name="credit")
    await preset_apply(actor=hr, name="engagement")


async def zhang_submits() -> dict[str, Any]:
    zhang = await actor_named("zhang")
    assignment = (await assignments_mine(actor=zhang))[0]
    await submission_submit(
        actor=zhang, assignment_id=assignment.id, body=TEXT, photo_ids=[], idempotency_key=uuid.uuid4().hex
    )
    return await last_event("submission.submitted")


async def test_a_submitted_reflection_earns_once_also_after_revision() -> None:
    await presets()
    zhang = await employee_of("zhang")
    payload = await zhang_submits()
    await points_on_submission_submitted({}, payload)
    assert await balance(zhang) == 50
    await points_on_submission_submitted({}, payload)  # the event delivered again
    assert await balance(zhang) == 50

    # 需修改 → resubmitted: a new event, the same (assignment, person), nothing more
    manager = await actor_named("manager")
    due = dt.datetime.now(dt.UTC) + dt.timedelta(days=3)
    await submission_grade(
        actor=manager,
        submission_id=payload["submission_id"],
        grade="revise",
        feedback="请补充下一步行动",
        revise_due_at=due,
    )
    await points_on_submission_graded({}, await last_event("submission.graded"))
    resubmitted = await zhang_submits()
    assert resubmitted["version"] == 2
    await points_on_submission_submitted({}, resubmitted)
    assert await balance(zhang) == 50

    # 优秀 earns its own award, once
    await submission_grade(actor=manager, submission_id=payload["submission_id"], grade="excellent")
    graded = await last_event("submission.graded")
    await points_on_submission_graded({}, graded)
    await points_on_submission_graded({}, graded)
    assert await balance(zhang) == 150
    assert (await by_category(zhang, org_today().year))["reflection"] == 150
    keys = {row["source_key"] for row in await LedgerEntry.select().where(LedgerEntry.employee == zhang)}
    assert keys == {
        f"reflection_submitted:{payload['assignment_id']}:{zhang}",
        f"reflection_excellent:{payload['assignment_id']}:{zhang}",
    }


async def test_no_rule_no_points() -> None:
    zhang = await employee_of("zhang")
    await points_on_submission_submitted({}, await zhang_submits())
    assert await balance(zhang) == 0


async def _course(author: int, *durations: float) -> tuple[int, list[int]]:
    rows = await Course.insert(
        Course(title="客户异议处理", author=author, status="published", published_at=dt.datetime.now(dt.UTC))
    ).returning(Course.id)
    course_id = int(rows[0]["id"])
    versions = []
    for number, seconds in enumerate(durations, start=1):
        version = await CourseVersion.insert(
            CourseVersion(course=course_id, number=number, state="ready", duration=seconds)
        ).returning(CourseVersion.id)
        versions.append(int(version[0]["id"]))
    return course_id, versions


async def test_course_publication_and_completion_earn_once() -> None:
    await presets()
    trainer, zhang = await employee_of("trainer"), await employee_of("zhang")
    course_id, (first, second) = await _course(trainer, 5400.0, 600.0)
    for _ in range(2):
        await points_on_course_published({}, {"course_id": course_id})
    assert await balance(trainer) == 20

    # 1.5 hours at 2 points an hour = 3; rewatching, or the replaced video, earns nothing more
    done = {"course_id": course_id, "employee_id": zhang, "version_id": first}
    await points_on_course_completed({}, done)
    await points_on_course_completed({}, done)
    await points_on_course_completed({}, {**done, "version_id": second})
    assert await balance(zhang) == 3
    row = await LedgerEntry.select().where(LedgerEntry.employee == zhang).first()
    assert row is not None and row["category"] == "course" and row["quantity"] == pytest.approx(1.5)

    # a ten-minute video earns 2 x 1/6 h, which rounds to 0: finishing it still earns 1 point, once
    short_course, (short,) = await _course(trainer, 600.0)
    for _ in range(2):
        await points_on_course_completed(
            {}, {"course_id": short_course, "employee_id": zhang, "version_id": short}
        )
    assert await balance(zhang) == 4
    # a course or person that is gone is skipped, not retried forever
    await points_on_course_published({}, {"course_id": 999_999})
    await points_on_course_completed(
        {}, {"course_id": course_id, "employee_id": 999_999, "version_id": first}
    )


async def test_presets_are_idempotent_and_set_middle_manager_targets() -> None:
    hr = await actor_named("hr")
    first = await preset_apply(actor=hr, name="credit")
    assert (first.rules_created, first.rules_changed, first.rules_unchanged) == (5, 0, 0)
    again = await preset_apply(actor=hr, name="credit")
    assert (again.rules_created, again.rules_changed, again.rules_unchanged) == (0, 0, 5)
    assert first.targets_set == again.targets_set == 2
    assert len(await rule_list(actor=hr)) == 5
    targets = await PointTarget.select(PointTarget.level.name.as_alias("level"), PointTarget.total)
    assert sorted((row["level"], row["total"]) for row in targets) == [("M1 主管", 100), ("M2 经理", 100)]
    engagement = await preset_apply(actor=hr, name="engagement")
    assert (engagement.rules_created, engagement.targets_set) == (3, 0)
    assert len(await rule_list(actor=hr)) == 8
    settings = await PointSettings.select().first()
    assert settings is not None and settings["preset"] == "engagement"
    # explicit levels
    p4 = await JobLevel.select(JobLevel.id).where(JobLevel.name == "P4 资深").first()
    assert p4 is not None
    assert (await preset_apply(actor=hr, name="credit", target_level_ids=[p4["id"]])).targets_set == 1
    with pytest.raises(NotFound):
        await preset_apply(actor=hr, name="bonus")
    with pytest.raises(PermissionDenied):
        await preset_apply(actor=await actor_named("manager"), name="credit")


async def test_the_worker_runs_the_points_handlers_after_the_others() -> None:
    """Archives first, then awards, then notifications (which may tell of the award)."""
    from backend.notifications.handlers import NOTIFICATION_HANDLERS
    from backend.reflections.archive import archive_on_event
    from backend.worker import OUTBOX_HANDLERS

    assert OUTBOX_HANDLERS["submission.submitted"][:2] == [archive_on_event, points_on_submission_submitted]
    for kind, handlers in POINTS_HANDLERS.items():
        after = NOTIFICATION_HANDLERS.get(kind, [])
        chain = OUTBOX_HANDLERS[kind]
        assert chain[len(chain) - len(after) - len(handlers) : len(chain) - len(after)] == handlers
    assert await Employee.count() > 0
