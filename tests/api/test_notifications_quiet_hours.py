"""Quiet hours (unit): a message due in them waits for their end in the organisation's time zone."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from backend.lib.errors import ValidationFailed
from backend.notifications.quiet_hours import (
    QuietHours,
    clock_parse,
    quiet_hours_active,
    quiet_hours_release,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
DEFAULT = QuietHours(zone=SHANGHAI)  # 22:00–07:30


def at(day: int, hour: int, minute: int = 0, zone: ZoneInfo = SHANGHAI) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=zone)


@pytest.mark.parametrize(
    ("moment", "release"),
    [
        (at(24, 12), at(24, 12)),  # midday: at once
        (at(24, 21, 59), at(24, 21, 59)),
        (at(24, 22), at(25, 7, 30)),  # 22:00 sharp: quiet, wait for tomorrow morning
        (at(24, 23, 45), at(25, 7, 30)),
        (at(25, 0, 0), at(25, 7, 30)),  # midnight: the same morning
        (at(25, 3, 10), at(25, 7, 30)),
        (at(25, 7, 29), at(25, 7, 30)),
        (at(25, 7, 30), at(25, 7, 30)),  # the end is no longer quiet
    ],
)
def test_default_quiet_hours_defer_to_half_past_seven(moment: dt.datetime, release: dt.datetime) -> None:
    result = quiet_hours_release(moment, DEFAULT)
    assert result == release and result.tzinfo == dt.UTC
    assert quiet_hours_active(moment, DEFAULT) == (release > moment)


def test_a_utc_moment_is_judged_on_the_organisations_clock() -> None:
    # 15:00 UTC is 23:00 in Shanghai: deferred to 07:30 Shanghai = 23:30 UTC
    moment = dt.datetime(2026, 11, 24, 15, 0, tzinfo=dt.UTC)
    assert quiet_hours_release(moment, DEFAULT) == dt.datetime(2026, 11, 24, 23, 30, tzinfo=dt.UTC)
    # the same moment is 16:00 in Berlin: not quiet there
    berlin = QuietHours(zone=ZoneInfo("Europe/Berlin"))
    assert quiet_hours_release(moment, berlin) == moment


def test_a_window_within_one_day_and_none_at_all() -> None:
    lunch = QuietHours(start=dt.time(12, 0), end=dt.time(13, 30), zone=SHANGHAI)
    assert quiet_hours_release(at(24, 12, 15), lunch) == at(24, 13, 30)
    assert quiet_hours_release(at(24, 23, 0), lunch) == at(24, 23, 0)
    never = QuietHours(start=dt.time(22, 0), end=dt.time(22, 0), zone=SHANGHAI)
    assert quiet_hours_release(at(24, 23, 0), never) == at(24, 23, 0)


def test_daylight_saving_nights_end_at_local_half_past_seven() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    quiet = QuietHours(zone=berlin)
    # clocks go back at 03:00 on 25 October 2026: 23:00 CEST (UTC+2), released at 07:30 CET (UTC+1)
    moment = dt.datetime(2026, 10, 24, 23, 0, tzinfo=berlin)
    assert moment.utcoffset() == dt.timedelta(hours=2)
    assert quiet_hours_release(moment, quiet) == dt.datetime(2026, 10, 25, 6, 30, tzinfo=dt.UTC)


def test_naive_moments_are_refused() -> None:
    with pytest.raises(ValueError):
        quiet_hours_release(dt.datetime(2026, 11, 24, 23, 0), DEFAULT)


@pytest.mark.parametrize("text", ["22:00", "7:30", "00:00", "23:59"])
def test_clock_times_parse(text: str) -> None:
    hours, minutes = text.split(":")
    assert clock_parse(text, field="quiet_start") == dt.time(int(hours), int(minutes))


@pytest.mark.parametrize("text", ["24:00", "12:60", "7", "7:5", "ab:cd", "", "-1:00", "12:00:00"])
def test_bad_clock_times_are_422(text: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        clock_parse(text, field="quiet_end")
    assert refused.value.field == "quiet_end"
