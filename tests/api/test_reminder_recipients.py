"""Who got a reminder, on SQLite and PostgreSQL: each recipient by name, unread first, read in the app
or not, each channel's outcome (a group message's own, for people it stood in for); who may look."""

from __future__ import annotations

from typing import Any

import pytest

from backend.notifications.kinds import CHANNEL_WEB_PUSH, CHANNEL_WECOM
from backend.notifications.reminder_jobs import reminder_send
from backend.notifications.reminders import ReminderTarget, reminder_create
from backend.notifications.services import notification_read
from backend.notifications.tables import Delivery, Notification, NotificationSettings
from tests.conftest import AppClient, login
from tests.ui.harness import actor_named

pytestmark = pytest.mark.usefixtures("backend_name", "notifications_clean")


async def employee_of(username: str) -> int:
    actor = await actor_named(username)
    assert actor.employee_id is not None
    return actor.employee_id


async def sent_reminder(usernames: list[str], *, by: str = "hr") -> int:
    """A reminder to these people, sent (the worker's part done here), with push and WeCom on."""
    await NotificationSettings.insert(
        NotificationSettings(
            id=1,
            quiet_start="00:00",
            quiet_end="00:00",
            channels={CHANNEL_WEB_PUSH: {"enabled": True}, CHANNEL_WECOM: {"enabled": True}},
        )
    ).on_conflict(target=NotificationSettings.id, action="DO UPDATE", values=[NotificationSettings.channels])
    created = await reminder_create(
        actor=await actor_named(by),
        target=ReminderTarget(employee_ids=[await employee_of(name) for name in usernames]),
        title="请提交心得",
        body="周五截止",
    )
    assert await reminder_send(created.id) == len(usernames)
    return created.id


async def deliveries(reminder_id: int, username: str) -> dict[str, dict[str, Any]]:
    rows = await Delivery.select(Delivery.id, Delivery.channel).where(
        (Delivery.notification.source == f"reminder:{reminder_id}")
        & (Delivery.notification.employee == await employee_of(username))
    )
    return {str(row["channel"]): row for row in rows}


async def test_hr_sees_who_got_it_unread_first_and_each_channel(client: AppClient) -> None:
    reminder_id = await sent_reminder(["zhang", "wang", "trainer"])
    zhang = await actor_named("zhang")
    [mine] = await Notification.select(Notification.id).where(
        (Notification.source == f"reminder:{reminder_id}") & (Notification.employee == zhang.employee_id)
    )
    await notification_read(actor=zhang, notification_id=int(mine["id"]))
    # zhang's push went out; wang's WeCom share went into the group message, which was sent
    push = (await deliveries(reminder_id, "zhang"))[CHANNEL_WEB_PUSH]
    await Delivery.update({Delivery.state: "sent"}).where(Delivery.id == push["id"])
    group = await Delivery.insert(
        Delivery(notification=None, channel=CHANNEL_WECOM, unique_key="group:wecom:test", state="sent")
    ).returning(Delivery.id)
    wecom = (await deliveries(reminder_id, "wang"))[CHANNEL_WECOM]
    await Delivery.update(
        {Delivery.state: "skipped", Delivery.target: f"group:{group[0]['id']}", Delivery.last_error: "x"}
    ).where(Delivery.id == wecom["id"])

    await login(client, "hr")
    response = await client.get(f"/api/v1/reminders/{reminder_id}/recipients")

    assert response.status_code == 200
    listed = response.json()
    assert listed["total"] == 3 and listed["pages"] == 1
    people = [item["employee"]["name"] for item in listed["items"]]
    assert people[-1] == "张丽华"  # read: after the two who have not read it
    by_name = {item["employee"]["name"]: item for item in listed["items"]}
    assert by_name["张丽华"]["read_at"] is not None
    assert [item["read_at"] for item in listed["items"][:2]] == [None, None]
    channels = {(c["channel"], c["state"], c["group"]) for c in by_name["张丽华"]["channels"]}
    assert ("web_push", "sent", False) in channels and ("wecom", "waiting", False) in channels
    wang_id = await employee_of("wang")
    wang = next(item for item in listed["items"] if item["employee"]["id"] == wang_id)
    assert {"channel": "wecom", "state": "sent", "group": True, "detail": ""} in wang["channels"]


async def test_only_the_sender_and_hr_see_the_recipients(client: AppClient) -> None:
    reminder_id = await sent_reminder(["zhang"], by="manager")  # 李强 reminds someone of his team
    await login(client, "zhang")
    assert (await client.get(f"/api/v1/reminders/{reminder_id}/recipients")).status_code == 403
    await login(client, "manager")
    listed = (await client.get(f"/api/v1/reminders/{reminder_id}/recipients")).json()
    assert [item["employee"]["name"] for item in listed["items"]] == ["张丽华"]
    hr_reminder = await sent_reminder(["wang"])
    assert (await client.get(f"/api/v1/reminders/{hr_reminder}/recipients")).status_code == 404
    assert (await client.get("/api/v1/reminders/999999/recipients")).status_code == 404
    assert (await client.get(f"/api/v1/reminders/{reminder_id}/recipients?page=0")).status_code == 400
