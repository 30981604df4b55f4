"""The points rules engine as pure functions: specificity, conflicts, caps, periods, cooldowns."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from backend.points.rules import (
    Person,
    RuleView,
    Scope,
    award_points,
    cap_allowance,
    cooldown_blocks,
    dates_overlap,
    kind_valid,
    mix_needs,
    period_bounds,
    progress_compute,
    rule_conflict,
    rule_pick,
    scope_matches,
    specificity,
    target_pick,
    year_bounds,
    year_elapsed_percent,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY = dt.date(2026, 6, 1)
ORG = Scope()
SALES = Scope(department_id=2, department_path="/1/2/")
EAST = Scope(department_id=3, department_path="/1/2/3/")
SOUTH = Scope(department_id=4, department_path="/1/2/4/")
SENIOR = Scope(position_id=7)
P3 = Scope(level_id=3)
SALES_P3 = Scope(department_id=2, department_path="/1/2/", level_id=3)

ZHANG = Person(employee_id=1, department_id=3, department_path="/1/2/3/", position_id=7, level_id=3)


def rule(rule_id: int, scope: Scope, points: int = 10, **fields: object) -> RuleView:
    values: dict[str, object] = {
        "id": rule_id,
        "kind": "exam_passed",
        "category": "exam",
        "points": points,
        "scope": scope,
        "effective_from": dt.date(2026, 1, 1),
        "series": rule_id,
    }
    values.update(fields)
    return RuleView(**values)  # type: ignore[arg-type]


def test_more_scope_parts_then_deeper_departments_are_more_specific() -> None:
    assert specificity(ORG) < specificity(SALES) < specificity(EAST) < specificity(SALES_P3)
    assert specificity(SENIOR) == specificity(P3) < specificity(SALES)


def test_a_department_scope_covers_its_subtree_only() -> None:
    assert scope_matches(SALES, ZHANG) and scope_matches(EAST, ZHANG)
    assert not scope_matches(SOUTH, ZHANG)
    # "/1/2/" must not match "/1/23/": paths end with a slash
    assert not scope_matches(SALES, Person(9, 23, "/1/23/", None, None))
    assert not scope_matches(Scope(position_id=8), ZHANG) and scope_matches(P3, ZHANG)


def test_the_most_specific_matching_rule_in_force_wins() -> None:
    rules = [rule(1, ORG, 10), rule(2, SALES, 20), rule(3, EAST, 30), rule(4, SOUTH, 40)]
    assert rule_pick(rules, ZHANG, "exam_passed", DAY).id == 3  # type: ignore[union-attr]
    assert rule_pick(rules[:2], ZHANG, "exam_passed", DAY).id == 2  # type: ignore[union-attr]
    assert rule_pick([*rules, rule(5, SALES_P3, 50)], ZHANG, "exam_passed", DAY).id == 5  # type: ignore[union-attr]
    assert rule_pick(rules, ZHANG, "mentoring", DAY) is None
    outsider = Person(2, 9, "/1/9/", None, None)
    assert rule_pick(rules, outsider, "exam_passed", DAY).id == 1  # type: ignore[union-attr]


def test_effective_dates_and_retired_rules_are_respected() -> None:
    old = rule(1, ORG, 10, effective_to=dt.date(2026, 5, 31))
    new = rule(2, ORG, 12, effective_from=dt.date(2026, 6, 1))
    assert rule_pick([old, new], ZHANG, "exam_passed", dt.date(2026, 5, 31)).id == 1  # type: ignore[union-attr]
    assert rule_pick([old, new], ZHANG, "exam_passed", DAY).id == 2  # type: ignore[union-attr]
    assert rule_pick([old, new], ZHANG, "exam_passed", dt.date(2025, 12, 31)) is None
    retired = rule(3, EAST, 30, active=False)
    assert rule_pick([new, retired], ZHANG, "exam_passed", DAY).id == 2  # type: ignore[union-attr]


def test_equal_specificity_that_could_meet_one_person_conflicts() -> None:
    assert rule_conflict(rule(9, SALES), [rule(1, SALES)]) is not None
    assert rule_conflict(rule(9, SENIOR), [rule(1, P3)]).id == 1  # type: ignore[union-attr]
    # disjoint departments, other positions, other levels: nobody matches both
    assert rule_conflict(rule(9, EAST), [rule(1, SOUTH)]) is None
    assert rule_conflict(rule(9, Scope(position_id=8)), [rule(1, SENIOR)]) is None
    # a deeper department or more scope parts are not equal: the more specific one wins
    assert rule_conflict(rule(9, EAST), [rule(1, SALES), rule(2, ORG)]) is None
    # other kinds, other dates, retired rules and the rule's own series do not count
    assert rule_conflict(rule(9, SALES), [rule(1, SALES, kind="mentoring")]) is None
    assert rule_conflict(rule(9, SALES), [rule(1, SALES, effective_to=dt.date(2025, 12, 31))]) is None
    assert rule_conflict(rule(9, SALES), [rule(1, SALES, active=False)]) is None
    assert rule_conflict(rule(9, SALES, series=1), [rule(1, SALES)]) is None


def test_date_ranges() -> None:
    jan, jun, dec = dt.date(2026, 1, 1), dt.date(2026, 6, 1), dt.date(2026, 12, 31)
    assert dates_overlap(jan, None, jun, None)
    assert dates_overlap(jan, jun, jun, dec)  # inclusive
    assert not dates_overlap(jan, jun - dt.timedelta(days=1), jun, dec)
    assert not dates_overlap(jun, jun - dt.timedelta(days=1), jan, None)  # an empty range


def test_caps_leave_what_remains_and_then_nothing() -> None:
    caps = {"day": 50, "month": None, "year": 500}
    assert cap_allowance(30, caps, {}) == 30
    assert cap_allowance(30, caps, {"day": 30, "year": 30}) == 20
    assert cap_allowance(30, caps, {"day": 50, "year": 50}) == 0
    assert cap_allowance(30, caps, {"day": 0, "year": 490}) == 10
    assert cap_allowance(30, caps, {"day": 80}) == 0  # never negative


def test_periods_follow_the_organisations_time_zone() -> None:
    # 2026-06-01 23:30 in Shanghai is 15:30 UTC: the local day began at 16:00 UTC the day before.
    moment = dt.datetime(2026, 6, 1, 15, 30, tzinfo=dt.UTC)
    start, end = period_bounds(moment, SHANGHAI, "day")
    assert start == dt.datetime(2026, 5, 31, 16, tzinfo=dt.UTC) and end - start == dt.timedelta(days=1)
    start, end = period_bounds(dt.datetime(2026, 12, 31, 17, tzinfo=dt.UTC), SHANGHAI, "month")
    assert start == dt.datetime(2026, 12, 31, 16, tzinfo=dt.UTC)  # already January in Shanghai
    assert end == dt.datetime(2027, 1, 31, 16, tzinfo=dt.UTC)
    assert year_bounds(2026, SHANGHAI) == (
        dt.datetime(2025, 12, 31, 16, tzinfo=dt.UTC),
        dt.datetime(2026, 12, 31, 16, tzinfo=dt.UTC),
    )
    with pytest.raises(ValueError, match="week"):
        period_bounds(moment, SHANGHAI, "week")


def test_per_hour_points_round_half_up() -> None:
    assert award_points(2, 1.5, per_hour=True) == 3
    assert award_points(2, 0.25, per_hour=True) == 1  # 0.5 rounds up
    assert award_points(10, 3.0, per_hour=False) == 10


def test_a_short_course_earns_at_least_one_point() -> None:
    # A 10-minute micro-course under 学分制's 2 points/hour: 0.33 rounds to 0, but it earns 1.
    assert award_points(2, 10 / 60, per_hour=True) == 1
    assert award_points(2, 0.2, per_hour=True) == 1
    assert award_points(0, 0.2, per_hour=True) == 0  # a rule giving nothing still gives nothing
    assert award_points(0, 3.0, per_hour=True) == 0


def test_cooldown_looks_both_ways() -> None:
    at = dt.datetime(2026, 6, 1, 9, tzinfo=dt.UTC)
    others = [at - dt.timedelta(minutes=90)]
    assert not cooldown_blocks(at, others, 60)
    assert cooldown_blocks(at, [at + dt.timedelta(minutes=30)], 60)
    assert not cooldown_blocks(at, [at], 0)


def test_targets_pick_the_most_specific() -> None:
    targets = [(ORG, "everyone"), (P3, "p3"), (SALES_P3, "sales p3"), (SOUTH, "south")]
    assert target_pick(targets, ZHANG) == "sales p3"
    assert target_pick(targets[:2], ZHANG) == "p3"
    assert target_pick([(SOUTH, "south")], ZHANG) is None


@pytest.mark.parametrize(
    ("kind", "valid"),
    [
        ("exam_passed", True),
        ("safety_drill", True),
        ("redemption_hold", False),
        ("Exam", False),
        ("1abc", False),
        ("a", False),
        ("x" * 41, False),
    ],
)
def test_kinds(kind: str, valid: bool) -> None:
    assert kind_valid(kind) is valid


def test_mix_shares_add_up_to_the_target() -> None:
    assert mix_needs(100, {"course": 40, "exam": 30, "sharing": 20, "mentoring": 10}) == {
        "course": 40,
        "exam": 30,
        "sharing": 20,
        "mentoring": 10,
    }
    # 75 x (40, 30, 20, 10) % = 30, 22.5, 15, 7.5: the halves go to the first categories, summing to 75
    assert mix_needs(75, {"course": 40, "exam": 30, "sharing": 20, "mentoring": 10}) == {
        "course": 30,
        "exam": 23,
        "sharing": 15,
        "mentoring": 7,
    }
    assert sum(mix_needs(7, {"course": 33, "exam": 33, "other": 34}).values()) == 7
    assert mix_needs(100, {}) == {} and mix_needs(100, {"exam": 0, "course": 100}) == {"course": 100}


def test_progress_caps_each_category_at_its_share() -> None:
    progress = progress_compute(100, {"course": 40, "exam": 60}, {"course": 70, "exam": 20, "other": 9})
    assert (progress.earned, progress.attainment_percent, progress.missing) == (60, 60, 40)
    assert [(c.category, c.earned, c.needed, c.missing) for c in progress.categories] == [
        ("course", 40, 40, 0),
        ("exam", 20, 60, 40),
    ]
    free = progress_compute(50, {}, {"other": 9, "course": 70, "exam": 0})
    assert (free.earned, free.attainment_percent, free.missing) == (79, 100, 0)
    assert [c.category for c in free.categories] == ["course", "other"]  # category order, non-zero only
    none = progress_compute(None, {}, {"course": 3})
    assert (none.target, none.earned, none.attainment_percent, none.missing) == (None, 3, 0, 0)
    assert progress_compute(3, {}, {"course": 1}).attainment_percent == 33  # floor


def test_the_share_of_the_year_gone_by() -> None:
    assert year_elapsed_percent(2026, dt.date(2026, 1, 1)) == 0
    assert year_elapsed_percent(2026, dt.date(2026, 7, 2)) == 50  # day 183 of 365
    assert year_elapsed_percent(2026, dt.date(2026, 12, 31)) == 100
    assert year_elapsed_percent(2025, dt.date(2026, 3, 1)) == 100
    assert year_elapsed_percent(2027, dt.date(2026, 3, 1)) == 0
