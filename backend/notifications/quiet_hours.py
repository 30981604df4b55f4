"""Quiet hours: messages to channels outside the app wait until the quiet time ends (deferred, never
dropped). Times are the organisation's wall clock (settings.i18n.timezone, default Asia/Shanghai);
the in-app centre ignores them — a message there wakes nobody.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from backend.lib.errors import ValidationFailed
from backend.lib.runtime import runtime_peek
from backend.settings import I18nSettings

DEFAULT_START = dt.time(22, 0)
DEFAULT_END = dt.time(7, 30)


@dataclass(frozen=True)
class QuietHours:
    """From `start` to `end` (wall clock; crossing midnight when end <= start). start == end: none."""

    zone: ZoneInfo
    start: dt.time = DEFAULT_START
    end: dt.time = DEFAULT_END


def org_zone() -> ZoneInfo:
    """The organisation's time zone, from the running app's settings (the default outside one)."""
    runtime = runtime_peek()
    return ZoneInfo(runtime.settings.i18n.timezone if runtime else I18nSettings().timezone)


def clock_parse(value: str, *, field: str) -> dt.time:
    """ "HH:MM" (24-hour) as a time; anything else is a 422 on `field`."""
    hours, _, minutes = value.strip().partition(":")
    if not (hours.isdigit() and minutes.isdigit() and len(minutes) == 2 and len(hours) <= 2):
        raise ValidationFailed("error.notifications_clock_invalid", field=field)
    if not (0 <= int(hours) <= 23 and 0 <= int(minutes) <= 59):
        raise ValidationFailed("error.notifications_clock_invalid", field=field)
    return dt.time(int(hours), int(minutes))


def clock_text(value: dt.time) -> str:
    return f"{value.hour:02d}:{value.minute:02d}"


def _inside(clock: dt.time, quiet: QuietHours) -> bool:
    if quiet.start == quiet.end:
        return False
    if quiet.start < quiet.end:  # within one day, e.g. 12:00–13:30
        return quiet.start <= clock < quiet.end
    return clock >= quiet.start or clock < quiet.end  # across midnight, e.g. 22:00–07:30


def quiet_hours_release(moment: dt.datetime, quiet: QuietHours) -> dt.datetime:
    """When a message due at `moment` may go out: `moment` itself outside quiet hours, else the end of
    the quiet time it falls in. Returns an aware UTC datetime."""
    if moment.tzinfo is None:
        raise ValueError("quiet_hours_release needs an aware datetime")
    local = moment.astimezone(quiet.zone)
    if not _inside(local.time(), quiet):
        return moment.astimezone(dt.UTC)
    day = local.date()
    if quiet.start > quiet.end and local.time() >= quiet.start:
        day += dt.timedelta(days=1)  # late evening: the quiet time ends tomorrow morning
    release = dt.datetime.combine(day, quiet.end, tzinfo=quiet.zone)
    return release.astimezone(dt.UTC)


def quiet_hours_active(moment: dt.datetime, quiet: QuietHours) -> bool:
    return quiet_hours_release(moment, quiet) > moment
