"""The arithmetic of honest progress: validating, merging and counting watched intervals; the segment chart."""

from __future__ import annotations

import math

import pytest

from backend.courses.analytics import segments_compute
from backend.courses.progress import (
    COMPLETION_RATIO,
    MAX_INTERVALS_PER_REQUEST,
    credit_limit,
    intervals_credit,
    intervals_merge,
    intervals_stored,
    intervals_subtract,
    intervals_validate,
    position_validate,
    ratio_watched,
    seconds_covered,
)
from backend.lib.errors import ValidationFailed


def test_merge_joins_overlapping_and_touching_intervals_in_any_order() -> None:
    assert intervals_merge([(20, 30), (0, 10), (10, 12), (5, 8), (29, 31)]) == [(0, 12), (20, 31)]
    assert intervals_merge([(0, 5)], [(5, 5)], []) == [(0, 5)]  # an empty interval adds nothing
    assert intervals_merge() == []


def test_replaying_the_same_seconds_counts_them_once() -> None:
    stored = intervals_merge([(0, 30)])
    for _ in range(5):
        stored = intervals_merge(stored, [(10, 20)])
    assert stored == [(0, 30)] and seconds_covered(stored) == 30
    assert ratio_watched(stored, 100) == 0.3


def test_pieces_add_up_to_the_distinct_seconds() -> None:
    pieces = [(i * 10.0, i * 10.0 + 10) for i in range(9)]  # 0..90 in ten-second heartbeats
    merged = intervals_merge(pieces[::-1])
    assert merged == [(0, 90)] and ratio_watched(merged, 100) == COMPLETION_RATIO


def test_seeking_to_the_end_adds_only_what_was_played_there() -> None:
    merged = intervals_merge([(0, 3)], [(97, 100)])
    assert seconds_covered(merged) == 6 and ratio_watched(merged, 100) == 0.06


def test_subtract_leaves_what_was_not_watched_before() -> None:
    stored = [(10.0, 20.0), (30.0, 40.0)]
    assert intervals_subtract([(0, 50)], stored) == [(0, 10), (20, 30), (40, 50)]
    assert intervals_subtract([(12, 18), (35, 45)], stored) == [(40, 45)]
    assert intervals_subtract([(0, 5), (20, 30)], stored) == [(0, 5), (20, 30)]  # touching: all new
    assert intervals_subtract([(0, 5)], []) == [(0, 5)] and intervals_subtract([], stored) == []


def test_the_credit_limit_grows_with_the_time_since_the_last_report() -> None:
    assert credit_limit(0) == 10 and credit_limit(-3) == 10  # a clock behind us gives no extra
    assert credit_limit(10) == 35 and credit_limit(3600) == 9010


def test_new_seconds_are_credited_in_time_order_and_the_crossing_interval_is_cut() -> None:
    stored = [(0.0, 10.0)]
    reported = [(50.0, 60.0), (5.0, 25.0), (70.0, 80.0)]  # in any order; 5-10 was watched before
    assert intervals_credit(stored, reported, 20) == [(10, 25), (50, 55)]
    assert intervals_credit(stored, reported, 100) == [(10, 25), (50, 60), (70, 80)]
    assert intervals_credit(stored, reported, 0) == []
    assert intervals_credit(stored, [(0, 10), (2, 8)], 10) == []  # a replay credits nothing
    skipped = intervals_merge(stored, intervals_credit([], [(0, 100)], credit_limit(0)))
    assert ratio_watched(skipped, 100) == 0.1  # one report of the whole video: 10 s, not completion


def test_ratio_is_bounded_and_safe_for_a_zero_duration() -> None:
    assert ratio_watched([(0, 120)], 100) == 1.0
    assert ratio_watched([(0, 1)], 0) == 0.0
    assert ratio_watched([(0, 1)], 3) == round(1 / 3, 4)


def test_validate_clamps_the_end_within_the_tolerance_and_drops_what_starts_after_it() -> None:
    assert intervals_validate([[0, 10], [50, 60.8]], duration=60) == [(0, 10), (50, 60)]
    assert intervals_validate([[60.2, 60.9]], duration=60) == []
    assert intervals_validate([], duration=60) == []
    assert intervals_validate([(0, 1)], duration=60) == [(0, 1)]


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ([[0, 62]], "progress.interval_out_of_range"),  # past the end beyond the tolerance
        ([[-1, 5]], "progress.interval_out_of_range"),
        ([[5, 5]], "progress.interval_out_of_range"),  # empty
        ([[8, 3]], "progress.interval_out_of_range"),  # backwards
        ([[0, math.nan]], "progress.interval_invalid"),
        ([[math.inf, 1]], "progress.interval_invalid"),
        ([[0, None]], "progress.interval_invalid"),  # what JSON.stringify makes of NaN
        ([[0, 1, 2]], "progress.interval_invalid"),
        ([[0]], "progress.interval_invalid"),
        ([[True, 3]], "progress.interval_invalid"),
        ([["0", 3]], "progress.interval_invalid"),
        ([[0, 1]] * (MAX_INTERVALS_PER_REQUEST + 1), "progress.too_many_intervals"),
    ],
)
def test_validate_refuses_what_is_not_a_played_interval(raw: list[object], key: str) -> None:
    with pytest.raises(ValidationFailed) as error:
        intervals_validate(raw, duration=60)
    assert error.value.key == key and error.value.field == "intervals"


def test_the_second_bad_interval_is_named() -> None:
    with pytest.raises(ValidationFailed) as error:
        intervals_validate([[0, 1], [2, 99]], duration=60)
    assert error.value.params["number"] == 2


def test_position_is_inside_the_video() -> None:
    assert position_validate(12.5, duration=60) == 12.5
    assert position_validate(60.5, duration=60) == 60
    assert position_validate(0, duration=60) == 0
    for bad in (-0.1, 61.5, math.nan, None, "3"):
        with pytest.raises(ValidationFailed) as error:
            position_validate(bad, duration=60)
        assert error.value.key == "progress.position_invalid"


def test_stored_intervals_read_from_json_text_or_lists() -> None:
    assert intervals_stored("[[0, 1.5], [3, 4]]") == [(0, 1.5), (3, 4)]
    assert intervals_stored([[0, 2]]) == [(0, 2)]
    assert intervals_stored("") == [] and intervals_stored(None) == []


def test_segments_count_viewers_drop_off_and_skips_per_five_seconds() -> None:
    people = [
        ([(0, 22)], True),  # watched it all (completed)
        ([(0, 7)], False),  # left in the second bucket
        ([(0, 4), (15, 22)], False),  # skipped 5-15, reached the end: not a drop-off
        ([(0, 0.5)], False),  # half a second: no bucket watched, left in the first
    ]
    segments = segments_compute(people, duration=22)
    assert [(s.start, s.end) for s in segments] == [(0, 5), (5, 10), (10, 15), (15, 20), (20, 22)]
    assert [s.viewers for s in segments] == [3, 2, 1, 2, 2]
    assert [s.drop_off for s in segments] == [1, 1, 0, 0, 0]
    assert [s.skipped for s in segments] == [0, 1, 1, 0, 0]


def test_a_short_final_bucket_counts_whoever_watched_all_of_it() -> None:
    segments = segments_compute([([(0, 10.4)], True), ([(10.2, 10.4)], False)], duration=10.4)
    assert len(segments) == 3 and segments[-1].end == 10.4
    assert segments[-1].viewers == 1  # 0.2 s of a 0.4 s bucket is not all of it
    assert [s.skipped for s in segments] == [1, 1, 0]


def test_no_one_watched_gives_empty_buckets_and_no_duration_no_buckets() -> None:
    segments = segments_compute([], duration=12)
    assert len(segments) == 3 and all(s.viewers == s.drop_off == s.skipped == 0 for s in segments)
    assert segments_compute([([(0, 1)], False)], duration=0) == []
