"""Reading notifications: my centre (in my language), my unread count, preferences, settings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from backend.lib.policy import ROLE_AUDITOR, ROLE_HR_ADMIN, Actor, actor_require, require_role
from backend.notifications.kinds import KINDS, OUTSIDE_CHANNELS
from backend.notifications.quiet_hours import QuietHours, clock_parse, clock_text, org_zone
from backend.notifications.render import notification_words, params_decode
from backend.notifications.schemas import NotificationOut, NotificationSettingsOut, PreferenceOut
from backend.notifications.tables import Notification, NotificationPreference, NotificationSettings
from backend.org.schemas import Page

PAGE_SIZE = 20


@dataclass(frozen=True)
class OrganisationSettings:
    quiet_hours: QuietHours
    channels: tuple[str, ...]  # enabled channels outside the app


async def organisation_settings() -> OrganisationSettings:
    """Quiet hours and enabled channels (defaults until HR changes them: 22:00–07:30, none)."""
    row = await NotificationSettings.select().order_by(NotificationSettings.id).first()
    zone = org_zone()
    if row is None:
        return OrganisationSettings(quiet_hours=QuietHours(zone=zone), channels=())
    channels = params_decode(row["channels"])
    return OrganisationSettings(
        quiet_hours=QuietHours(
            start=clock_parse(row["quiet_start"], field="quiet_start"),
            end=clock_parse(row["quiet_end"], field="quiet_end"),
            zone=zone,
        ),
        channels=tuple(
            name
            for name in OUTSIDE_CHANNELS
            if isinstance(channels.get(name), dict) and channels[name].get("enabled")
        ),
    )


async def preferences_disabled(
    employee_ids: Sequence[int], *, kind: str, channels: Sequence[str]
) -> set[tuple[int, str]]:
    """(person, channel) pairs turned off for `kind` among these people."""
    if not employee_ids or not channels:
        return set()
    rows = await NotificationPreference.select(
        NotificationPreference.employee, NotificationPreference.channel
    ).where(
        NotificationPreference.employee.is_in(list(employee_ids))
        & (NotificationPreference.kind == kind)
        & NotificationPreference.channel.is_in(list(channels))
        & (NotificationPreference.enabled == False)  # noqa: E712 - a SQL comparison
    )
    return {(int(row["employee"]), str(row["channel"])) for row in rows}


async def notifications_mine(*, actor: Actor | None, locale: str, page: int = 1) -> Page[NotificationOut]:
    """My notifications, newest activity first, in `locale`."""
    actor = actor_require(actor)
    if actor.employee_id is None:
        return Page.of([], page=page, page_size=PAGE_SIZE, total=0)
    mine = Notification.employee == actor.employee_id
    total = await Notification.count().where(mine)
    rows = (
        await Notification.select(
            Notification.id,
            Notification.kind,
            Notification.message_key,
            Notification.params,
            Notification.title,
            Notification.body,
            Notification.url,
            Notification.created_at,
            Notification.updated_at,
            Notification.read_at,
        )
        .where(mine)
        .order_by(Notification.updated_at, ascending=False)
        .order_by(Notification.id, ascending=False)
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    )
    items = []
    for row in rows:
        title, body = notification_words(
            locale,
            message_key=row["message_key"],
            params=row["params"],
            title=row["title"],
            body=row["body"],
        )
        items.append(
            NotificationOut(
                id=row["id"],
                kind=row["kind"],
                title=title,
                body=body,
                url=row["url"],
                created_at=row["created_at"],
                updated_at=row["updated_at"],
                read=row["read_at"] is not None,
                read_at=row["read_at"],
            )
        )
    return Page.of(items, page=page, page_size=PAGE_SIZE, total=total)


async def unread_count(*, actor: Actor | None) -> int:
    actor = actor_require(actor)
    if actor.employee_id is None:
        return 0
    return int(
        await Notification.count().where(
            (Notification.employee == actor.employee_id) & Notification.read_at.is_null()
        )
    )


async def preferences_mine(*, actor: Actor | None) -> list[PreferenceOut]:
    """Every kind on every outside channel: on unless I turned it off; `available` when enabled."""
    actor = actor_require(actor)
    off: set[tuple[str, str]] = set()
    if actor.employee_id is not None:
        rows = await NotificationPreference.select(
            NotificationPreference.kind, NotificationPreference.channel
        ).where(
            (NotificationPreference.employee == actor.employee_id) & (NotificationPreference.enabled == False)  # noqa: E712 - a SQL comparison
        )
        off = {(str(row["kind"]), str(row["channel"])) for row in rows}
    enabled = (await organisation_settings()).channels
    return [
        PreferenceOut(
            kind=kind, channel=channel, enabled=(kind, channel) not in off, available=channel in enabled
        )
        for kind in KINDS
        for channel in OUTSIDE_CHANNELS
    ]


async def notification_settings_get(*, actor: Actor | None) -> NotificationSettingsOut:
    """The organisation's quiet hours and channels (HR, auditors)."""
    require_role(actor, ROLE_HR_ADMIN, ROLE_AUDITOR)
    settings = await organisation_settings()
    return NotificationSettingsOut(
        quiet_start=clock_text(settings.quiet_hours.start),
        quiet_end=clock_text(settings.quiet_hours.end),
        timezone=settings.quiet_hours.zone.key,
        channels=list(settings.channels),
    )
