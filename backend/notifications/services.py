"""Writing notifications: notify people (idempotently), mark read, preferences, organisation settings.

`notify` is what features and reminders call. It stores one notification per person and dedupe key
(a repeat of the same event creates nothing) and plans a delivery on every channel outside the app
that the organisation enabled and the person did not turn off, not before quiet hours end.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from piccolo.utils.encoding import dump_json

from backend.lib.db import rows_insert, write_transaction
from backend.lib.errors import NotFound, ValidationFailed
from backend.lib.policy import ROLE_HR_ADMIN, Actor, actor_require, require_role
from backend.notifications.delivery_claims import utc_now
from backend.notifications.kinds import CHANNEL_IN_APP, CHANNEL_WEB_PUSH, KINDS, OUTSIDE_CHANNELS
from backend.notifications.push_jobs import push_kick_deliveries
from backend.notifications.quiet_hours import QuietHours, clock_parse, clock_text, quiet_hours_release
from backend.notifications.selectors import organisation_settings, preferences_disabled
from backend.notifications.tables import (
    Delivery,
    Notification,
    NotificationPreference,
    NotificationSettings,
)
from backend.org.tables import EMPLOYEE_ACTIVE, Employee

CHUNK = 500  # rows per statement when a notification fans out to many people
# (column, PostgreSQL type): what notify writes, with plain SQL (see rows_insert).
_NOTIFICATION_COLUMNS = (
    ("employee", "int"),
    ("kind", "text"),
    ("message_key", "text"),
    ("params", "json"),
    ("title", "text"),
    ("body", "text"),
    ("url", "text"),
    ("source", "text"),
    ("dedupe_key", "text"),
    ("created_at", "timestamptz"),
    ("updated_at", "timestamptz"),
)
_DELIVERY_COLUMNS = (
    ("notification", "int"),
    ("channel", "text"),
    ("target", "text"),
    ("unique_key", "text"),
    ("state", "text"),
    ("attempts", "int"),
    ("not_before", "timestamptz"),
    ("last_error", "text"),
    ("created_at", "timestamptz"),
    ("updated_at", "timestamptz"),
)
TITLE_MAX = 200
SETTINGS_ROW_ID = 1


def url_checked(url: str) -> str:
    """Only paths inside the app: a notification never sends anyone elsewhere."""
    if url and (not url.startswith("/") or url.startswith("//") or "\\" in url or len(url) > 500):
        raise ValueError(f"a notification links inside the app only, not {url[:80]!r}")
    return url


def dedupe_key_for(employee_id: int, key: str) -> str:
    return f"{employee_id}:{key}"[:255]


async def _active_people(employee_ids: Iterable[int]) -> list[int]:
    wanted = sorted(set(employee_ids))
    found: list[int] = []
    for start in range(0, len(wanted), CHUNK):
        rows = await Employee.select(Employee.id).where(
            Employee.id.is_in(wanted[start : start + CHUNK]) & (Employee.status == EMPLOYEE_ACTIVE)
        )
        found.extend(int(row["id"]) for row in rows)
    return found


async def notify(
    *,
    employee_ids: Iterable[int],
    kind: str,
    dedupe_key: str,
    key: str = "",
    params: Mapping[str, Any] | None = None,
    title: str = "",
    body: str = "",
    url: str = "",
    source: str = "",
    channels: Sequence[str] | None = None,
    not_before: dt.datetime | None = None,
) -> list[int]:
    """Notify active people once per `dedupe_key`: a message `key` (catalog prefix) with `params`, or a
    literal `title`/`body` (HR messages). `channels`: outside channels to deliver on (default: those the
    organisation enabled); `not_before`: hold those deliveries (batches), quiet hours hold them further.
    Returns the ids of the notifications created by this call (none when all existed already)."""
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")
    if not key and not title:
        raise ValueError("a notification needs a message key or a title")
    url = url_checked(url)
    people = await _active_people(employee_ids)
    if not people:
        return []
    settings = await organisation_settings()
    wanted = [c for c in (settings.channels if channels is None else channels) if c in OUTSIDE_CHANNELS]
    now = utc_now()
    release = quiet_hours_release(max(not_before or now, now), settings.quiet_hours)
    params_json = dump_json(dict(params or {}))
    created: list[int] = []
    for start in range(0, len(people), CHUNK):
        chunk = people[start : start + CHUNK]
        push_now: list[int] = []
        async with write_transaction(Notification):
            rows = await rows_insert(
                Notification,
                _NOTIFICATION_COLUMNS,
                [
                    (
                        person,
                        kind,
                        key,
                        params_json,
                        title[:TITLE_MAX],
                        body,
                        url,
                        source[:100],
                        dedupe_key_for(person, dedupe_key),
                        now,
                        now,
                    )
                    for person in chunk
                ],
                "ON CONFLICT (dedupe_key) DO NOTHING RETURNING id, employee",
            )
            if rows and wanted:
                planned = await _deliveries_plan(
                    rows, kind=kind, channels=wanted, not_before=release, now=now
                )
                if release <= now:
                    push_now = planned.get(CHANNEL_WEB_PUSH, [])
        created.extend(int(row["id"]) for row in rows)
        # Committed: the worker sends this chunk's pushes while the next chunk is written.
        await push_kick_deliveries(push_now)
    return created


async def _deliveries_plan(
    rows: list[dict[str, Any]],
    *,
    kind: str,
    channels: Sequence[str],
    not_before: dt.datetime,
    now: dt.datetime,
) -> dict[str, list[int]]:
    """A pending delivery per new notification and channel, unless the person turned it off.
    Returns the new deliveries' ids by channel."""
    off = await preferences_disabled([int(row["employee"]) for row in rows], kind=kind, channels=channels)
    rows_planned = [
        (row["id"], channel, "", f"{row['id']}:{channel}", "pending", 0, not_before, "", now, now)
        for row in rows
        for channel in channels
        if (int(row["employee"]), channel) not in off
    ]
    planned: dict[str, list[int]] = {}
    inserted = await rows_insert(
        Delivery, _DELIVERY_COLUMNS, rows_planned, "ON CONFLICT (unique_key) DO NOTHING RETURNING id, channel"
    )
    for row in inserted:
        planned.setdefault(str(row["channel"]), []).append(int(row["id"]))
    return planned


def _employee_of(actor: Actor | None) -> int:
    actor = actor_require(actor)
    if actor.employee_id is None:  # an account without an employee record has no notifications
        raise NotFound()
    return actor.employee_id


async def notification_read(*, actor: Actor | None, notification_id: int) -> str:
    """Mark one of my notifications read (again: no change). Returns its link; another's is a 404."""
    employee_id = _employee_of(actor)
    mine = (Notification.id == notification_id) & (Notification.employee == employee_id)
    row = await Notification.select(Notification.url, Notification.read_at).where(mine).first()
    if row is None:
        raise NotFound()
    if row["read_at"] is None:
        await Notification.update({Notification.read_at: utc_now()}).where(
            mine & Notification.read_at.is_null()
        )
    return str(row["url"])


async def notifications_read_all(*, actor: Actor | None) -> int:
    """Mark all my unread notifications read. Returns how many were unread."""
    actor = actor_require(actor)
    if actor.employee_id is None:
        return 0
    changed = (
        await Notification.update({Notification.read_at: utc_now()})
        .where((Notification.employee == actor.employee_id) & Notification.read_at.is_null())
        .returning(Notification.id)
    )
    return len(changed)


async def preference_set(*, actor: Actor | None, kind: str, channel: str, enabled: bool) -> None:
    """Turn one kind on one outside channel on or off for myself (the in-app centre is always on)."""
    employee_id = _employee_of(actor)
    if kind not in KINDS:
        raise ValidationFailed("error.notifications_kind_invalid", field="kind")
    if channel == CHANNEL_IN_APP:
        raise ValidationFailed("error.notifications_in_app_always", field="channel")
    if channel not in OUTSIDE_CHANNELS:
        raise ValidationFailed("error.notifications_channel_invalid", field="channel")
    await NotificationPreference.insert(
        NotificationPreference(
            employee=employee_id,
            kind=kind,
            channel=channel,
            enabled=enabled,
            unique_key=f"{employee_id}:{kind}:{channel}",
            updated_at=utc_now(),
        )
    ).on_conflict(
        target=NotificationPreference.unique_key,
        action="DO UPDATE",
        values=[NotificationPreference.enabled, NotificationPreference.updated_at],
    )


async def quiet_hours_set(*, actor: Actor | None, start: str, end: str) -> QuietHours:
    """HR sets the organisation's quiet hours ("22:00" to "07:30"; equal times switch them off)."""
    actor = require_role(actor, ROLE_HR_ADMIN)
    start_clock = clock_text(clock_parse(start, field="quiet_start"))
    end_clock = clock_text(clock_parse(end, field="quiet_end"))
    await NotificationSettings.insert(
        NotificationSettings(
            id=SETTINGS_ROW_ID,
            quiet_start=start_clock,
            quiet_end=end_clock,
            updated_by=actor.employee_id,
            updated_at=utc_now(),
        )
    ).on_conflict(
        target=NotificationSettings.id,
        action="DO UPDATE",
        values=[
            NotificationSettings.quiet_start,
            NotificationSettings.quiet_end,
            NotificationSettings.updated_by,
            NotificationSettings.updated_at,
        ],
    )
    return (await organisation_settings()).quiet_hours
