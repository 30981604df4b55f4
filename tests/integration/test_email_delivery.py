"""E-mail to each person, end to end on SQLite and PostgreSQL, against a loopback SMTP server that speaks
the protocol (AUTH, MAIL, RCPT, DATA) and records what arrives.

A person with an address gets every kind of notification there (points credited too), in their
language, with the title as subject and a link into the app; a person without one is covered by the
mailing list for reminders only. Preferences hold, nothing arrives twice, 4xx retries, 5xx fails.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import msgspec
import pytest
import pytest_asyncio

from backend.lib.queue import queue_pool
from backend.lib.runtime import Runtime, runtime_bind, runtime_peek
from backend.lib.storage import storage_client
from backend.notifications.channel_senders import channel_deliver, channel_sweep
from backend.notifications.channel_settings import ChannelSettings, channel_settings_set
from backend.notifications.handlers import notify_on_points_credited
from backend.notifications.kinds import CHANNEL_EMAIL, KIND_HR_MESSAGE, KIND_POINTS_CREDITED
from backend.notifications.reminder_jobs import reminder_send
from backend.notifications.reminders import ReminderTarget, reminder_create, reminder_list
from backend.notifications.services import notify, preference_set, quiet_hours_set
from backend.notifications.tables import Delivery, DeliveryAttempt, Notification
from backend.org.services import employee_email_update, employee_preferences_update
from backend.org.tables import EMPLOYEE_ACTIVE, Employee
from backend.settings import Settings
from backend.worker import worker_create
from tests.support.fake_channels import FakeSmtp, Mail
from tests.ui.harness import actor_named, rendered_page

pytestmark = pytest.mark.usefixtures("backend_name")

ORIGIN = "https://learn.example.com"
LIST_ADDRESS = "all-staff@example.com"
ZHANG = "zhang@demo.learnloop.example"
WANG = "wang@demo.learnloop.example"


@pytest.fixture(scope="module")
def smtp() -> Iterator[FakeSmtp]:
    server = FakeSmtp().start()
    yield server
    server.stop()


def email_settings(smtp: FakeSmtp, *, to_address: str = LIST_ADDRESS) -> ChannelSettings:
    """E-mail on, through the fake server, with a mailing list unless told otherwise."""
    email = {
        "enabled": True,
        "host": "127.0.0.1",
        "port": smtp.port,
        "security": "none",
        "username": smtp.username,
        "password": smtp.password,
        "from_address": "learnloop@example.com",
        "to_address": to_address,
    }
    return msgspec.convert({"email": email}, ChannelSettings)


@dataclass
class World:
    settings: Settings
    smtp: FakeSmtp
    ctx: dict[str, Any]


@pytest_asyncio.fixture(loop_scope="session")
async def world(settings: Settings, demo: None, smtp: FakeSmtp) -> AsyncIterator[World]:
    """The demo organisation with e-mail on (and a mailing list), no quiet hours, a public origin."""
    settings = msgspec.structs.replace(
        settings, server=msgspec.structs.replace(settings.server, allowed_origins=[ORIGIN])
    )
    previous = runtime_peek()
    runtime_bind(Runtime(settings=settings, storage=storage_client(settings.storage), queue=None))
    hr = await actor_named("hr")
    await quiet_hours_set(actor=hr, start="00:00", end="00:00")
    await channel_settings_set(actor=hr, settings=email_settings(smtp))
    smtp.scripted.clear()
    smtp.scripted_rcpt.clear()
    try:
        yield World(settings=settings, smtp=smtp, ctx={})
    finally:
        runtime_bind(previous)


async def employee_of(username: str) -> int:
    actor = await actor_named(username)
    assert actor.employee_id is not None
    return actor.employee_id


async def someone_without_address() -> tuple[int, str]:
    """A workshop-floor person of the demo: no company mailbox."""
    row = (
        await Employee.select(Employee.id, Employee.name)
        .where((Employee.email == "") & (Employee.status == EMPLOYEE_ACTIVE))
        .order_by(Employee.id)
        .first()
    )
    assert row is not None
    return int(row["id"]), str(row["name"])


async def points_credited(employee_id: int, entry_id: int, points: int = 5) -> list[int]:
    """What the worker does when the ledger credits points (the outbox event's handler)."""
    payload = {"entry_id": entry_id, "employee_id": employee_id, "points": points, "kind": "exam_passed"}
    await notify_on_points_credited({}, payload)
    rows = await Notification.select(Notification.id).where(
        Notification.dedupe_key == f"{employee_id}:points_credited:{entry_id}"
    )
    return [int(row["id"]) for row in rows]


async def hr_reminder(source: str, *employee_ids: int) -> list[int]:
    return await notify(
        employee_ids=list(employee_ids),
        kind=KIND_HR_MESSAGE,
        title="请提交心得",
        body="大客户关系维护心得本周五截止",
        url="/reflections",
        source=source,
        dedupe_key=source,
    )


async def email_deliveries(notification_ids: list[int]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = (
        await Delivery.select()
        .where(Delivery.notification.is_in(notification_ids) & (Delivery.channel == CHANNEL_EMAIL))
        .order_by(Delivery.id)
    )
    return rows


async def run_all(world: World, notification_ids: list[int]) -> list[str]:
    return [
        await channel_deliver(world.ctx, int(row["id"])) for row in await email_deliveries(notification_ids)
    ]


async def come_due(delivery_id: int) -> None:
    await Delivery.update({Delivery.not_before: dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)}).where(
        Delivery.id == delivery_id
    )


def new_mails(world: World, before: int) -> list[Mail]:
    return world.smtp.mails()[before:]


async def test_points_credited_reach_zhangs_own_address_in_her_language(world: World) -> None:
    before = len(world.smtp.mails())
    created = await points_credited(await employee_of("zhang"), entry_id=501)
    assert await run_all(world, created) == ["sent"]
    [mail] = new_mails(world, before)
    assert mail.recipients == [ZHANG] and mail.message["To"] == ZHANG
    assert mail.sender == "learnloop@example.com" and mail.user == world.smtp.username
    assert mail.message["Subject"] == "获得 5 积分"
    text = mail.message.get_content()
    assert text.startswith("通过考试")
    assert f"{ORIGIN}/points" in text  # an absolute link into the app
    assert "“我的”页面" in text  # where to change the address
    [row] = await email_deliveries(created)
    assert (row["state"], row["target"], row["attempts"], row["last_error"]) == ("sent", ZHANG, 1, "")


async def test_an_english_speaker_gets_english(world: World) -> None:
    wang = await actor_named("wang")
    await employee_preferences_update(actor=wang, locale="en")
    before = len(world.smtp.mails())
    created = await points_credited(await employee_of("wang"), entry_id=502, points=12)
    await run_all(world, created)
    [mail] = new_mails(world, before)
    assert mail.recipients == [WANG]
    assert mail.message["Subject"] == "You earned 12 points"
    text = mail.message.get_content()
    assert text.startswith("Exam passed") and f"{ORIGIN}/points" in text and "Me page" in text


async def hr_sends_reminder(*employee_ids: int) -> tuple[int, list[int]]:
    """HR's reminder (the Reminders page's flow): its id and the notifications it made."""
    hr = await actor_named("hr")
    target = ReminderTarget(employee_ids=list(employee_ids))
    created = await reminder_create(actor=hr, target=target, title="请提交心得", url="/reflections")
    await reminder_send(created.id)
    rows = await Notification.select(Notification.id).where(Notification.source == f"reminder:{created.id}")
    return created.id, [int(row["id"]) for row in rows]


async def email_stat(reminder_id: int) -> tuple[int, int, int, int]:
    (reminder,) = [
        r for r in (await reminder_list(actor=await actor_named("hr"))).items if r.id == reminder_id
    ]
    (stat,) = [stat for stat in reminder.stats if stat.channel == CHANNEL_EMAIL]
    return stat.sent, stat.failed, stat.pending, stat.skipped


async def test_a_reminder_goes_to_own_addresses_and_the_list_only_for_the_rest(world: World) -> None:
    nobody_id, nobody_name = await someone_without_address()
    zhang = await employee_of("zhang")
    before = len(world.smtp.mails())
    reminder_id, created = await hr_sends_reminder(zhang, nobody_id)
    assert await email_stat(reminder_id) == (0, 0, 2, 0)  # waiting for the worker
    await run_all(world, created)
    await run_all(world, created)  # again: nothing more
    mails = new_mails(world, before)
    assert sorted(mail.recipients[0] for mail in mails) == sorted([ZHANG, LIST_ADDRESS])
    [personal] = [mail for mail in mails if mail.recipients == [ZHANG]]
    [listed] = [mail for mail in mails if mail.recipients == [LIST_ADDRESS]]
    assert personal.message["Subject"] == listed.message["Subject"] == "请提交心得"
    assert f"{ORIGIN}/reflections" in personal.message.get_content()
    listed_text = listed.message.get_content()
    assert nobody_name in listed_text and "张丽华" not in listed_text  # the list stands in for her only
    # HR's figures: zhang's own e-mail and the list's for the other one both count as sent
    assert await email_stat(reminder_id) == (2, 0, 0, 0)


async def test_without_a_mailing_list_people_without_an_address_count_as_not_sent(world: World) -> None:
    hr = await actor_named("hr")
    await channel_settings_set(actor=hr, settings=email_settings(world.smtp, to_address=""))
    nobody_id, _name = await someone_without_address()
    before = len(world.smtp.mails())
    reminder_id, created = await hr_sends_reminder(await employee_of("zhang"), nobody_id)
    await run_all(world, created)
    assert [mail.recipients for mail in new_mails(world, before)] == [[ZHANG]]
    nobody = [row for row in await email_deliveries(created) if row["target"] != ZHANG]
    assert [(row["state"], row["last_error"]) for row in nobody] == [
        ("skipped", "no e-mail address and no mailing list")
    ]
    assert await email_stat(reminder_id) == (1, 0, 0, 1)
    async with rendered_page("/admin/reminders", settings=world.settings, actor=hr) as page:
        assert "电子邮件：已发送 1，失败 0，等待 0，未发送 1（没有邮箱等）" in page.text


async def test_the_list_gets_nothing_when_everyone_has_an_address(world: World) -> None:
    before = len(world.smtp.mails())
    created = await hr_reminder("reminder:902", await employee_of("zhang"), await employee_of("wang"))
    await run_all(world, created)
    assert sorted(mail.recipients[0] for mail in new_mails(world, before)) == [WANG, ZHANG]
    assert not await Delivery.exists().where(Delivery.unique_key.like("group:email:%:reminder:902"))


async def test_only_the_list_when_the_person_has_no_address(world: World) -> None:
    nobody_id, nobody_name = await someone_without_address()
    before = len(world.smtp.mails())
    created = await hr_reminder("reminder:903", nobody_id)
    await run_all(world, created)
    [mail] = new_mails(world, before)
    assert mail.recipients == [LIST_ADDRESS] and nobody_name in mail.message.get_content()
    [row] = await email_deliveries(created)
    assert row["state"] == "skipped" and row["target"].startswith("group:")


async def test_a_personal_kind_without_an_address_sends_nothing(world: World) -> None:
    nobody_id, _name = await someone_without_address()
    before = len(world.smtp.mails())
    created = await points_credited(nobody_id, entry_id=503)
    assert await run_all(world, created) == ["skipped"]
    assert new_mails(world, before) == []  # never to the list: it is personal
    [row] = await email_deliveries(created)
    assert (row["state"], row["last_error"]) == ("skipped", "no e-mail address")


async def test_preference_off_means_no_email_of_that_kind(world: World) -> None:
    zhang = await actor_named("zhang")
    await preference_set(actor=zhang, kind=KIND_POINTS_CREDITED, channel=CHANNEL_EMAIL, enabled=False)
    before = len(world.smtp.mails())
    created = await points_credited(await employee_of("zhang"), entry_id=504)
    assert created and await email_deliveries(created) == []
    await run_all(world, created)
    reminded = await hr_reminder("reminder:904", await employee_of("zhang"))  # other kinds still come
    await run_all(world, reminded)
    assert [mail.message["Subject"] for mail in new_mails(world, before)] == ["请提交心得"]


async def test_the_same_delivery_twice_concurrently_and_by_the_sweep_sends_one_email(world: World) -> None:
    before = len(world.smtp.mails())
    created = await points_credited(await employee_of("zhang"), entry_id=505)
    [row] = await email_deliveries(created)
    outcomes = await asyncio.gather(*(channel_deliver(world.ctx, int(row["id"])) for _ in range(4)))
    assert sorted(outcomes) == ["sent", "skipped", "skipped", "skipped"]
    assert await channel_deliver(world.ctx, int(row["id"])) == "skipped"
    queue = await queue_pool(world.settings.redis.url)
    await queue.flushdb()
    try:
        await channel_sweep({"redis": queue})
        worker = worker_create(world.settings, redis_pool=queue, burst=True)
        await worker.main()
        assert worker.jobs_failed == 0
    finally:
        await queue.flushdb()
        await queue.aclose()
    assert [mail.recipients for mail in new_mails(world, before)] == [[ZHANG]]


async def test_an_smtp_451_retries_later_then_sends_once(world: World) -> None:
    world.smtp.scripted.append("451 4.3.0 try again later")
    before = len(world.smtp.mails())
    created = await points_credited(await employee_of("zhang"), entry_id=506)
    assert await run_all(world, created) == ["retry"]
    [row] = await email_deliveries(created)
    assert (row["state"], row["attempts"], row["target"]) == ("pending", 1, ZHANG)
    assert "451" in row["last_error"] and row["not_before"] > dt.datetime.now(dt.UTC)  # backoff
    assert await channel_deliver(world.ctx, int(row["id"])) == "skipped"  # not due yet
    assert new_mails(world, before) == []
    await come_due(int(row["id"]))
    assert await channel_deliver(world.ctx, int(row["id"])) == "sent"
    assert await channel_deliver(world.ctx, int(row["id"])) == "skipped"
    assert [mail.recipients for mail in new_mails(world, before)] == [[ZHANG]]
    [row] = await email_deliveries(created)
    assert (row["state"], row["attempts"], row["last_error"]) == ("sent", 2, "")
    # both tries are in the attempts log, the first with what the server said
    log = (
        await DeliveryAttempt.select()
        .where(DeliveryAttempt.delivery == row["id"])
        .order_by(DeliveryAttempt.id)
    )
    assert [(entry["attempt"], entry["outcome"]) for entry in log] == [(1, "retry"), (2, "sent")]
    assert "451" in log[0]["detail"]


async def test_a_greylisted_recipient_retries(world: World) -> None:
    world.smtp.scripted_rcpt.append("450 4.2.0 greylisted, come back later")
    created = await points_credited(await employee_of("zhang"), entry_id=507)
    assert await run_all(world, created) == ["retry"]
    [row] = await email_deliveries(created)
    assert row["state"] == "pending" and "450" in row["last_error"]


async def test_a_550_fails_with_the_servers_message(world: World) -> None:
    world.smtp.scripted_rcpt.append("550 5.1.1 mailbox unavailable")
    before = len(world.smtp.mails())
    created = await points_credited(await employee_of("zhang"), entry_id=508)
    assert await run_all(world, created) == ["failed"]
    [row] = await email_deliveries(created)
    assert (row["state"], row["target"]) == ("failed", ZHANG)
    assert "recipient refused" in row["last_error"] and "mailbox unavailable" in row["last_error"]
    world.smtp.scripted.append("550 5.7.1 relaying denied")
    created = await points_credited(await employee_of("zhang"), entry_id=509)
    assert await run_all(world, created) == ["failed"]
    [row] = await email_deliveries(created)
    assert "550" in row["last_error"] and "relaying denied" in row["last_error"]
    assert await channel_deliver(world.ctx, int(row["id"])) == "skipped"  # failed stays failed
    assert new_mails(world, before) == []


async def test_a_changed_address_is_used_from_then_on(world: World) -> None:
    zhang = await actor_named("zhang")
    assert await employee_email_update(actor=zhang, email="  Li.Hua@Example.COM ") == "Li.Hua@example.com"
    before = len(world.smtp.mails())
    created = await points_credited(await employee_of("zhang"), entry_id=510)
    await run_all(world, created)
    assert [mail.recipients for mail in new_mails(world, before)] == [["Li.Hua@example.com"]]
    await employee_email_update(actor=zhang, email="zhang@例子.中国")  # an internationalised domain
    created = await points_credited(await employee_of("zhang"), entry_id=511)
    await run_all(world, created)
    assert world.smtp.mails()[-1].recipients == ["zhang@xn--fsqu00a.xn--fiqs8s"]  # its ASCII form
    [row] = await email_deliveries(created)
    assert (row["state"], row["target"]) == ("sent", "zhang@例子.中国")


async def test_a_very_long_address_is_mailed_once(world: World) -> None:
    longest = "z" * 64 + "@" + ".".join(["d" * 60] * 3) + ".cn"  # 250 characters: allowed
    await employee_email_update(actor=await actor_named("zhang"), email=longest)
    before = len(world.smtp.mails())
    created = await points_credited(await employee_of("zhang"), entry_id=512)
    assert await run_all(world, created) == ["sent"]
    assert await run_all(world, created) == ["skipped"]
    assert [mail.recipients for mail in new_mails(world, before)] == [[longest]]
    [row] = await email_deliveries(created)
    assert row["state"] == "sent" and longest.startswith(row["target"])  # recorded as far as it fits
