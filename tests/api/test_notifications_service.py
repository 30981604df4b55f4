"""The notification service on SQLite and PostgreSQL: once per dedupe key (also when two deliveries of
one event race), only active people, and deliveries planned per channel, preference and quiet hours."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from backend.notifications.handlers import NOTIFICATION_HANDLERS
from backend.notifications.kinds import KIND_COURSE_NEW, KIND_HR_MESSAGE, KIND_REFLECTION_PEER, message_key
from backend.notifications.quiet_hours import clock_text, org_zone
from backend.notifications.render import params_decode
from backend.notifications.services import notify, preference_set, quiet_hours_set
from backend.notifications.tables import Delivery, Notification
from backend.org.tables import EMPLOYEE_DEPARTED, Employee
from backend.reflections.tables import Submission
from tests.ui.harness import actor_named

pytestmark = pytest.mark.usefixtures("backend_name", "demo")


async def people(*usernames: str) -> list[int]:
    ids = []
    for username in usernames:
        actor = await actor_named(username)
        assert actor.employee_id is not None
        ids.append(actor.employee_id)
    return ids


async def hr_message(employee_ids: list[int], key: str = "reminder:1", **extra: object) -> list[int]:
    return await notify(
        employee_ids=employee_ids,
        kind=KIND_HR_MESSAGE,
        title="请提交心得",
        body="大客户关系维护心得本周五截止",
        url="/reflections",
        source="reminder:1",
        dedupe_key=key,
        **extra,  # type: ignore[arg-type]
    )


async def test_the_same_key_notifies_each_person_once() -> None:
    zhang, wang = await people("zhang", "wang")
    assert len(await hr_message([zhang, zhang, wang])) == 2
    assert await hr_message([zhang, wang]) == []
    raced = await asyncio.gather(*(hr_message([zhang, wang], key="reminder:2") for _ in range(4)))
    assert sorted(len(created) for created in raced) == [0, 0, 0, 2]
    messages = Notification.source == "reminder:1"  # the demo's own notifications aside
    assert await Notification.count().where(messages) == 4


async def test_departed_and_unknown_people_are_skipped() -> None:
    zhang, wang = await people("zhang", "wang")
    await Employee.update({Employee.status: EMPLOYEE_DEPARTED}).where(Employee.id == wang)
    created = await hr_message([zhang, wang, 999_999])
    rows = await Notification.select(Notification.employee).where(Notification.id.is_in(created))
    assert [row["employee"] for row in rows] == [zhang]


async def test_bad_calls_are_programming_errors() -> None:
    zhang, *_ = await people("zhang")
    with pytest.raises(ValueError):
        await notify(employee_ids=[zhang], kind="gossip", title="x", dedupe_key="x")
    with pytest.raises(ValueError):
        await notify(employee_ids=[zhang], kind=KIND_HR_MESSAGE, dedupe_key="x")
    for url in ("https://evil.example/", "//evil.example/", "javascript:alert(1)"):
        with pytest.raises(ValueError):
            await notify(employee_ids=[zhang], kind=KIND_HR_MESSAGE, title="x", url=url, dedupe_key="x")


async def test_deliveries_follow_channels_preferences_and_quiet_hours() -> None:
    zhang, wang = await people("zhang", "wang")
    await preference_set(
        actor=await actor_named("wang"), kind=KIND_HR_MESSAGE, channel="email", enabled=False
    )
    # quiet from an hour ago to an hour from now (organisation time): the deliveries wait for its end
    local = dt.datetime.now(org_zone())
    start, end = (local - dt.timedelta(hours=1)).time(), (local + dt.timedelta(hours=1)).time()
    await quiet_hours_set(actor=await actor_named("hr"), start=clock_text(start), end=clock_text(end))
    created = await hr_message([zhang, wang], channels=("web_push", "email", "in_app"))
    rows = await Delivery.select(
        Delivery.notification.employee.as_alias("employee"),
        Delivery.channel,
        Delivery.state,
        Delivery.unique_key,
        Delivery.not_before,
    ).where(Delivery.notification.is_in(created))
    assert sorted((row["employee"], row["channel"]) for row in rows) == sorted(
        [(zhang, "web_push"), (zhang, "email"), (wang, "web_push")]
    )
    assert {row["state"] for row in rows} == {"pending"}
    assert all(row["not_before"] > dt.datetime.now(dt.UTC) + dt.timedelta(minutes=50) for row in rows)
    assert await hr_message([zhang, wang], channels=("web_push", "email")) == []
    assert await Delivery.count() == 3  # a repeat plans nothing more


async def test_without_enabled_channels_only_the_centre_gets_it() -> None:
    zhang, *_ = await people("zhang")
    assert len(await hr_message([zhang])) == 1
    assert await Delivery.count() == 0


async def test_a_course_fans_out_to_many_people_once() -> None:
    everyone = [row["id"] for row in await Employee.select(Employee.id)]
    created = await notify(
        employee_ids=everyone,
        kind=KIND_COURSE_NEW,
        key=message_key("course_new"),
        params={"title": "安全生产第一课"},
        url="/courses/1",
        dedupe_key="course_new:test-fan-out",
    )
    fanned = Notification.id.is_in(created)
    assert len(created) == len(everyone) == len(set(created)) == await Notification.count().where(fanned)


async def test_racing_likes_land_in_one_batch_counted_once() -> None:
    row = (
        await Submission.select(Submission.id, Submission.employee)
        .where(Submission.state == "graded")
        .first()
    )
    assert row is not None
    likers = [
        r["id"] for r in await Employee.select(Employee.id).where(Employee.id != row["employee"]).limit(6)
    ]
    handler = NOTIFICATION_HANDLERS["reflection.liked"][0]
    payloads = [
        {"submission_id": row["id"], "employee_id": liker, "author_id": row["employee"]}
        for liker in likers
        for _ in range(2)  # every event delivered twice
    ]
    await asyncio.gather(*(handler({}, payload) for payload in payloads))
    batches = await Notification.select(Notification.params).where(
        (Notification.employee == row["employee"]) & (Notification.kind == KIND_REFLECTION_PEER)
    )
    assert len(batches) == 1
    params = params_decode(batches[0]["params"])
    assert params["likes"] == 6 and sorted(params["liker_ids"]) == sorted(likers)


async def test_the_demo_fills_centres_once() -> None:
    from backend.notifications.demo import notifications_demo_seed

    # The demo fixture seeded them already: seeding again adds nothing.
    assert await notifications_demo_seed() == 0
    assert await Notification.count() > 1
    zhang, *_ = await people("zhang")
    kinds = [
        row["kind"]
        for row in await Notification.select(Notification.kind).where(Notification.employee == zhang)
    ]
    assert "hr_message" in kinds and "course_new" in kinds
