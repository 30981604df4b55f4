"""Who got an HR reminder: each recipient by name, whether they read it in the app, and what became of
it on every channel outside the app (sent, failed, waiting, not sent; through a group message or not).

The sender's view of a reminder they may see (HR: any; a manager: the ones they composed): others get
404. Unread recipients first, then by name, a page at a time.
"""

from __future__ import annotations

import datetime as dt

from piccolo.query import OrderByRaw

from backend.lib.errors import NotFound
from backend.lib.policy import Actor
from backend.lib.schema import Schema
from backend.notifications.kinds import KIND_HR_MESSAGE
from backend.notifications.reminder_stats import group_deliveries
from backend.notifications.reminders import MAX_PAGE, PAGE_SIZE, reminder_own_condition, reminder_sender_check
from backend.notifications.tables import Delivery, Notification, Reminder
from backend.org.schemas import Page, Ref

STATES = {"sent": "sent", "failed": "failed", "skipped": "not_sent"}  # any other state: waiting


class RecipientChannelOut(Schema):
    channel: str  # web_push | wecom | dingtalk | email
    state: str  # sent | failed | waiting | not_sent
    group: bool  # carried by the group message (robot post, mailing list), not to the person alone
    detail: str  # the last error, or why it was not sent ("" when it went)


class ReminderRecipientOut(Schema):
    employee: Ref
    department: str
    read_at: dt.datetime | None  # when they opened it in the app; None = unread
    channels: list[RecipientChannelOut]


async def reminder_recipients(
    *, actor: Actor | None, reminder_id: int, page: int = 1
) -> Page[ReminderRecipientOut]:
    """The people a sent reminder reached, unread first; a reminder not sent yet has none."""
    actor = reminder_sender_check(actor)
    page = min(max(page, 1), MAX_PAGE)
    visible = Reminder.id == reminder_id
    own = reminder_own_condition(actor)
    if own is not None:
        visible &= own
    if not await Reminder.exists().where(visible):
        raise NotFound()
    of_reminder = (Notification.source == f"reminder:{reminder_id}") & (Notification.kind == KIND_HR_MESSAGE)
    total = await Notification.count().where(of_reminder)
    rows = (
        await Notification.select(
            Notification.id,
            Notification.employee,
            Notification.read_at,
            Notification.employee.name.as_alias("name"),
            Notification.employee.department.name.as_alias("department"),  # type: ignore[union-attr]
        )
        .where(of_reminder)
        .order_by(OrderByRaw('"notification"."read_at" IS NOT NULL'))  # unread first, on both databases
        .order_by(Notification.employee.name)
        .order_by(Notification.id)
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    )
    channels = await _channels_of([int(row["id"]) for row in rows])
    items = [
        ReminderRecipientOut(
            employee=Ref(id=int(row["employee"]), name=str(row["name"])),
            department=str(row["department"] or ""),
            read_at=row["read_at"],
            channels=channels.get(int(row["id"]), []),
        )
        for row in rows
    ]
    return Page.of(items, page=page, page_size=PAGE_SIZE, total=total)


async def _channels_of(notification_ids: list[int]) -> dict[int, list[RecipientChannelOut]]:
    """Each notification's deliveries; one that went into a group message takes that message's state."""
    if not notification_ids:
        return {}
    rows = (
        await Delivery.select(
            Delivery.notification, Delivery.channel, Delivery.state, Delivery.target, Delivery.last_error
        )
        .where(Delivery.notification.is_in(notification_ids))
        .order_by(Delivery.channel)
    )
    groups = await group_deliveries(str(row["target"]) for row in rows if row["state"] == "skipped")
    found: dict[int, list[RecipientChannelOut]] = {}
    for row in rows:
        group = groups.get(str(row["target"])) if row["state"] == "skipped" else None
        state, detail = (group["state"], group["last_error"]) if group else (row["state"], row["last_error"])
        found.setdefault(int(row["notification"]), []).append(
            RecipientChannelOut(
                channel=str(row["channel"]),
                state=STATES.get(str(state), "waiting"),
                group=group is not None,
                detail=str(detail or ""),
            )
        )
    return found
