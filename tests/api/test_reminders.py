"""HR reminders on SQLite and PostgreSQL: targets (the non-submitters of a training, counted exactly),
preview, sending now through the outbox or at a set time once, cancelling, policy, 422s, statistics."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from backend.events.outbox import outbox_deliver
from backend.events.tables import OutboxEvent
from backend.notifications.reminder_jobs import REMINDER_HANDLERS, reminder_send, reminders_send_due
from backend.notifications.reminders import ReminderTarget, reminder_create, reminder_list, reminder_preview
from backend.notifications.services import notification_read
from backend.notifications.tables import Delivery, Notification, NotificationSettings, Reminder
from backend.org.tables import EMPLOYEE_ACTIVE, Department, Employee
from backend.reflections.tables import Assignment, Submission, Training, TrainingParticipant
from tests.conftest import AppClient, login
from tests.ui.harness import actor_named

pytestmark = pytest.mark.usefixtures("backend_name", "demo")

NOW = dt.datetime.now(dt.UTC)


async def training_with_non_submitters() -> tuple[int, list[int], list[int]]:
    """A training of 31 people: 5 submitted, 2 graded, 1 returned for revision, 23 nothing handed in
    that counts. Returns (training id, everyone, the 23 + 1 returned = 24 who have not submitted)."""
    people = [
        int(row["id"])
        for row in await Employee.select(Employee.id)
        .where(Employee.status == EMPLOYEE_ACTIVE)
        .order_by(Employee.id)
        .limit(31)
    ]
    training = await Training.insert(
        Training(title="大客户关系维护（复训）", kind="workshop", starts_on=NOW.date())
    ).returning(Training.id)
    training_id = int(training[0]["id"])
    await TrainingParticipant.insert(*[TrainingParticipant(training=training_id, employee=p) for p in people])
    rows = await Assignment.insert(
        Assignment(
            training=training_id, prompt="心得", due_at=NOW + dt.timedelta(days=2), visibility="graders"
        )
    ).returning(Assignment.id)
    states = ["submitted"] * 5 + ["graded"] * 2 + ["returned"] + ["draft"] * 3
    await Submission.insert(
        *[
            Submission(assignment=rows[0]["id"], employee=person, state=state, version=1)
            for person, state in zip(people, states, strict=False)
        ]
    )
    return training_id, people, people[7:]


async def test_the_non_submitters_of_a_training_are_counted_exactly_and_notified_once(
    client: AppClient,
) -> None:
    training_id, _, waiting = await training_with_non_submitters()
    await login(client, "hr")
    target = {"training_id": training_id, "not_submitted": True}
    preview = (await client.post("/api/v1/reminders/preview", json={"target": target})).json()
    assert preview["count"] == 24 and len(preview["names"]) == 20
    response = await client.post(
        "/api/v1/reminders",
        json={"target": target, "title": "请提交心得", "body": "周五截止", "url": "/reflections"},
    )
    assert response.status_code == 201
    created = response.json()
    assert set(created) == {"id", "recipients"} and created["recipients"] == 24
    # sent after commit through the outbox: deliver the event (twice: a repeat notifies nobody again)
    event = await OutboxEvent.select().where(OutboxEvent.kind == "reminder.send").first()
    assert event is not None and event["payload"] and str(created["id"]) in str(event["payload"])
    ctx: dict[str, Any] = {"outbox_handlers": REMINDER_HANDLERS}
    await outbox_deliver(ctx, int(event["id"]))
    assert await reminder_send(created["id"]) == 0
    assert await reminders_send_due({}) == 0
    source = Notification.source == f"reminder:{created['id']}"
    rows = await Notification.select(Notification.employee, Notification.kind).where(source)
    assert sorted(row["employee"] for row in rows) == sorted(waiting)
    assert {row["kind"] for row in rows} == {"hr_message"}
    listed = (await client.get("/api/v1/reminders")).json()
    item = next(i for i in listed["items"] if i["id"] == created["id"])
    assert (item["state"], item["recipients"], item["can_cancel"]) == ("sent", 24, False)
    assert item["target"]["training_id"] == training_id


async def test_statistics_per_channel_count_sent_failed_pending_and_read() -> None:
    await NotificationSettings.delete(force=True)
    await NotificationSettings.insert(
        NotificationSettings(
            id=1, quiet_start="00:00", quiet_end="00:00", channels={"wecom": {"enabled": True}}
        )
    )
    hr = await actor_named("hr")
    zhang, wang = await actor_named("zhang"), await actor_named("wang")
    created = await reminder_create(
        actor=hr,
        target=ReminderTarget(employee_ids=[zhang.employee_id or 0, wang.employee_id or 0]),
        title="请提交心得",
    )
    assert await reminder_send(created.id) == 2
    deliveries = await Delivery.select(Delivery.id).order_by(Delivery.id)
    assert len(deliveries) == 2
    await Delivery.update({Delivery.state: "failed"}).where(Delivery.id == deliveries[0]["id"])
    mine = await Notification.select(Notification.id).where(
        (Notification.employee == zhang.employee_id) & (Notification.source == f"reminder:{created.id}")
    )
    await notification_read(actor=zhang, notification_id=int(mine[0]["id"]))
    (item,) = [i for i in (await reminder_list(actor=hr)).items if i.id == created.id]
    stats = {stat.channel: (stat.sent, stat.failed, stat.pending, stat.read) for stat in item.stats}
    assert stats == {"in_app": (2, 0, 0, 1), "wecom": (0, 1, 1, 0)}


async def test_a_scheduled_reminder_is_sent_once_when_its_time_comes_or_not_if_cancelled(
    client: AppClient,
) -> None:
    zhang = await actor_named("zhang")
    await login(client, "hr")
    later = (NOW + dt.timedelta(hours=3)).isoformat()
    body = {"target": {"employee_ids": [zhang.employee_id]}, "title": "明天上午培训", "send_at": later}
    first = (await client.post("/api/v1/reminders", json=body)).json()
    second = (await client.post("/api/v1/reminders", json=body)).json()
    assert await reminders_send_due({}) == 0  # not yet
    assert (await client.post(f"/api/v1/reminders/{second['id']}/cancel")).status_code == 204
    assert (await client.post(f"/api/v1/reminders/{second['id']}/cancel")).status_code == 409
    await Reminder.update({Reminder.send_at: NOW - dt.timedelta(minutes=1)}).where(
        Reminder.id.is_in([first["id"], second["id"]])
    )
    assert await reminders_send_due({}) == 1
    assert await reminders_send_due({}) == 0
    states = {row["id"]: row["state"] for row in await Reminder.select(Reminder.id, Reminder.state)}
    assert (states[first["id"]], states[second["id"]]) == ("sent", "cancelled")
    assert await Notification.count().where(Notification.source == f"reminder:{second['id']}") == 0
    assert (await client.post(f"/api/v1/reminders/{first['id']}/cancel")).status_code == 409


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ({"target": {}, "title": "x"}, "reminders_target_empty"),
        ({"title": "x"}, "reminders_target_empty"),
        ({"target": {"not_submitted": True}, "title": "x"}, "reminders_not_submitted_needs_training"),
        ({"target": {"employee_ids": [999_999]}, "title": "x"}, "reminders_nobody"),
        ({"target": {"level_id": 999_999}, "title": "x"}, "reminders_level_unknown"),
        ({"target": {"employee_ids": [1]}, "title": " "}, "reminders_title_invalid"),
        (
            {"target": {"employee_ids": [1]}, "title": "x", "url": "https://evil.example/"},
            "reminders_url_invalid",
        ),
    ],
)
async def test_bad_input_is_a_422_with_the_reason(client: AppClient, body: dict[str, Any], key: str) -> None:
    await login(client, "hr")
    before = await Reminder.count()
    response = await client.post("/api/v1/reminders", json=body)
    assert response.status_code == 422, response.text
    assert key in response.text or response.json()
    if "target" in body and key != "reminders_title_invalid" and key != "reminders_url_invalid":
        preview = await client.post("/api/v1/reminders/preview", json={"target": body.get("target", {})})
        assert preview.status_code == 422
    assert await Reminder.count() == before


async def test_the_reason_is_in_the_readers_language(client: AppClient) -> None:
    await login(client, "hr")
    response = await client.post(
        "/api/v1/reminders/preview", json={"target": {}}, headers={"Accept-Language": "en"}
    )
    assert response.status_code == 422
    assert "Choose whom to send it to" in response.text


async def test_managers_reach_their_subtree_only_and_employees_nobody(client: AppClient) -> None:
    manager, zhang, wang = [await actor_named(name) for name in ("manager", "zhang", "wang")]
    everyone = ReminderTarget(employee_ids=[zhang.employee_id or 0, wang.employee_id or 0])
    assert (await reminder_preview(actor=manager, target=everyone)).count == 1  # wang is in 研发部
    rnd = await Department.select(Department.id).where(Department.name == "研发部").first()
    assert rnd is not None
    await login(client, "manager")
    outside = await client.post("/api/v1/reminders/preview", json={"target": {"department_id": rnd["id"]}})
    assert outside.status_code == 404
    hr_made = await reminder_create(
        actor=await actor_named("hr"), target=everyone, title="HR", send_at=NOW + dt.timedelta(days=1)
    )
    mine = (
        await client.post(
            "/api/v1/reminders", json={"target": {"employee_ids": [zhang.employee_id]}, "title": "本周例会"}
        )
    ).json()
    listed = (await client.get("/api/v1/reminders")).json()
    assert [item["id"] for item in listed["items"]] == [mine["id"]]
    assert (await client.post(f"/api/v1/reminders/{hr_made.id}/cancel")).status_code == 404
    await login(client, "zhang")
    for response in (
        await client.get("/api/v1/reminders"),
        await client.post("/api/v1/reminders/preview", json={"target": {"employee_ids": [1]}}),
        await client.post("/api/v1/reminders", json={"target": {"employee_ids": [1]}, "title": "x"}),
    ):
        assert response.status_code == 403
