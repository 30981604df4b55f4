"""The rules engine, as pure functions: which rule applies to a person, conflicts, caps, cooldowns.

Specificity. A rule (or target) is scoped by any of department (with its subtree), position and level;
unset parts match everyone. Among the rules of a kind that match a person on a day, the most specific
wins: more scope parts set wins; on equal parts, the deeper department wins (a subtree beats its
parent). Two active rules of one kind with equal specificity that could both match one person on one
day are ambiguous: the second is refused when it is created (`rule_conflict`).

Caps. An award that would pass a day/month/year cap of its kind earns what remains up to the cap, and
nothing once the cap is reached (`cap_allowance`): a partial award is recorded as such, so nobody loses
the points they did earn before hitting the cap. Periods are calendar days, months and years in the
organisation's time zone, taken at the moment the activity happened (not when it was recorded), so a
retried or late event is judged exactly like the original.

Cooldown. An award of a kind is refused when another (not reversed) award of that kind to the same
person happened less than `cooldown_minutes` before or after it.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import TypeVar
from zoneinfo import ZoneInfo

CATEGORY_COURSE = "course"
CATEGORY_EXAM = "exam"
CATEGORY_SHARING = "sharing"
CATEGORY_MENTORING = "mentoring"
CATEGORY_WORKSHOP = "workshop"
CATEGORY_REFLECTION = "reflection"
CATEGORY_OTHER = "other"
CATEGORIES = (
    CATEGORY_COURSE,
    CATEGORY_EXAM,
    CATEGORY_SHARING,
    CATEGORY_MENTORING,
    CATEGORY_WORKSHOP,
    CATEGORY_REFLECTION,
    CATEGORY_OTHER,
)
# Ledger category of redemption holds and releases: spending, not earning (outside yearly totals).
CATEGORY_REDEMPTION = "redemption"

KIND_COURSE_COMPLETED = "course_completed"
KIND_WORKSHOP_ATTENDED = "workshop_attended"
KIND_EXAM_PASSED = "exam_passed"
KIND_SHARING_SESSION = "sharing_session"
KIND_MENTORING = "mentoring"
KIND_REFLECTION_SUBMITTED = "reflection_submitted"
KIND_REFLECTION_EXCELLENT = "reflection_excellent"
KIND_COURSE_PUBLISHED = "course_published"
# Built-in kinds and the category they count toward unless a rule says otherwise.
KINDS: dict[str, str] = {
    KIND_COURSE_COMPLETED: CATEGORY_COURSE,
    KIND_WORKSHOP_ATTENDED: CATEGORY_COURSE,
    KIND_EXAM_PASSED: CATEGORY_EXAM,
    KIND_SHARING_SESSION: CATEGORY_SHARING,
    KIND_MENTORING: CATEGORY_MENTORING,
    KIND_REFLECTION_SUBMITTED: CATEGORY_REFLECTION,
    KIND_REFLECTION_EXCELLENT: CATEGORY_REFLECTION,
    KIND_COURSE_PUBLISHED: CATEGORY_SHARING,
}
# Kinds whose rule points are per hour (the award's quantity is hours of video).
PER_HOUR_KINDS = frozenset({KIND_COURSE_COMPLETED})
# Kinds HR may award by hand (activities outside the app); custom kinds are manual too.
MANUAL_KINDS = frozenset({KIND_WORKSHOP_ATTENDED, KIND_EXAM_PASSED, KIND_SHARING_SESSION, KIND_MENTORING})
KIND_REDEMPTION_HOLD = "redemption_hold"
KIND_REDEMPTION_RELEASE = "redemption_release"
RESERVED_KINDS = frozenset({KIND_REDEMPTION_HOLD, KIND_REDEMPTION_RELEASE})
CUSTOM_KIND = re.compile(r"^[a-z][a-z0-9_]{1,39}$")

POINTS_MAX = 1_000  # per award (per hour for per-hour kinds)
CAP_MAX = 100_000
COOLDOWN_MAX_MINUTES = 366 * 24 * 60
QUANTITY_MAX = 100.0  # e.g. hours of video in one award

T = TypeVar("T")

PERIOD_DAY = "day"
PERIOD_MONTH = "month"
PERIOD_YEAR = "year"
PERIODS = (PERIOD_DAY, PERIOD_MONTH, PERIOD_YEAR)


def kind_valid(kind: str) -> bool:
    return kind not in RESERVED_KINDS and (kind in KINDS or bool(CUSTOM_KIND.match(kind)))


@dataclass(frozen=True)
class Scope:
    """Who a rule or target is for. `department_path` is the department's materialised path."""

    department_id: int | None = None
    department_path: str | None = None
    position_id: int | None = None
    level_id: int | None = None

    @property
    def parts(self) -> int:
        return sum(part is not None for part in (self.department_id, self.position_id, self.level_id))

    @property
    def depth(self) -> int:
        return path_depth(self.department_path) if self.department_id is not None else 0


@dataclass(frozen=True)
class Person:
    """What scopes are matched against."""

    employee_id: int
    department_id: int | None
    department_path: str
    position_id: int | None
    level_id: int | None


def path_depth(path: str | None) -> int:
    """ "/1/4/" → 2."""
    return len([part for part in (path or "").split("/") if part])


def specificity(scope: Scope) -> tuple[int, int]:
    """Greater is more specific: (scope parts set, department depth)."""
    return (scope.parts, scope.depth)


def scope_matches(scope: Scope, person: Person) -> bool:
    if scope.department_id is not None and not person.department_path.startswith(
        scope.department_path or "\0"
    ):
        return False
    if scope.position_id is not None and scope.position_id != person.position_id:
        return False
    return scope.level_id is None or scope.level_id == person.level_id


def scopes_overlap(a: Scope, b: Scope) -> bool:
    """Could one person match both? (Departments overlap when one is in the other's subtree.)"""
    if a.department_id is not None and b.department_id is not None:
        path_a, path_b = a.department_path or "", b.department_path or ""
        if not (path_a.startswith(path_b) or path_b.startswith(path_a)):
            return False
    if a.position_id is not None and b.position_id is not None and a.position_id != b.position_id:
        return False
    return not (a.level_id is not None and b.level_id is not None and a.level_id != b.level_id)


def dates_overlap(a_from: dt.date, a_to: dt.date | None, b_from: dt.date, b_to: dt.date | None) -> bool:
    """Inclusive ranges; None = open-ended. An empty range (to < from) overlaps nothing."""
    if (a_to is not None and a_to < a_from) or (b_to is not None and b_to < b_from):
        return False
    return (a_to is None or b_from <= a_to) and (b_to is None or a_from <= b_to)


@dataclass(frozen=True)
class RuleView:
    """The parts of a rule version the engine needs."""

    id: int
    kind: str
    category: str
    points: int
    scope: Scope
    effective_from: dt.date
    effective_to: dt.date | None = None
    active: bool = True
    cap_day: int | None = None
    cap_month: int | None = None
    cap_year: int | None = None
    cooldown_minutes: int = 0
    version: int = 1
    series: int = 0

    def in_force(self, day: dt.date) -> bool:
        return (
            self.active
            and self.effective_from <= day
            and (self.effective_to is None or day <= self.effective_to)
        )

    @property
    def caps(self) -> dict[str, int | None]:
        return {PERIOD_DAY: self.cap_day, PERIOD_MONTH: self.cap_month, PERIOD_YEAR: self.cap_year}


def rule_pick(rules: Iterable[RuleView], person: Person, kind: str, day: dt.date) -> RuleView | None:
    """The most specific rule of `kind` in force on `day` that matches `person` (ties: the oldest)."""
    candidates = [
        rule
        for rule in rules
        if rule.kind == kind and rule.in_force(day) and scope_matches(rule.scope, person)
    ]
    if not candidates:
        return None
    return min(candidates, key=lambda rule: (tuple(-n for n in specificity(rule.scope)), rule.id))


def rule_conflict(candidate: RuleView, others: Iterable[RuleView]) -> RuleView | None:
    """An active rule of the same kind (another series) that is as specific as `candidate` and could
    apply to the same person on the same day, if any."""
    if not candidate.active:
        return None
    for other in others:
        if (
            other.active
            and other.kind == candidate.kind
            and (candidate.series == 0 or other.series != candidate.series)
            and other.id != candidate.id
            and specificity(other.scope) == specificity(candidate.scope)
            and scopes_overlap(other.scope, candidate.scope)
            and dates_overlap(
                other.effective_from, other.effective_to, candidate.effective_from, candidate.effective_to
            )
        ):
            return other
    return None


def target_pick(targets: Sequence[tuple[Scope, T]], person: Person) -> T | None:
    """The value of the most specific target scope matching `person` (ties: the first)."""
    best: tuple[tuple[int, int], T] | None = None
    for scope, value in targets:
        if scope_matches(scope, person) and (best is None or specificity(scope) > best[0]):
            best = (specificity(scope), value)
    return best[1] if best else None


def award_points(rule_points: int, quantity: float, *, per_hour: bool) -> int:
    """Points of one award: per unit (quantity 1) or per hour (quantity = hours), rounded half up.

    A per-hour award that rounds to 0 still earns 1 point when the rule gives points and something
    was done (a 10-minute micro-course under 2 points/hour earns 1): finishing a short course counts.
    """
    if not per_hour:
        return rule_points
    amount = Decimal(rule_points) * Decimal(str(quantity))
    points = int(amount.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    if points == 0 and rule_points > 0 and quantity > 0:
        return 1
    return points


def quantity_valid(quantity: float) -> bool:
    return math.isfinite(quantity) and 0 < quantity <= QUANTITY_MAX


def period_bounds(moment: dt.datetime, zone: ZoneInfo, period: str) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) in UTC of the calendar day/month/year containing `moment` in `zone`."""
    local = moment.astimezone(zone)
    if period == PERIOD_DAY:
        start = dt.datetime(local.year, local.month, local.day, tzinfo=zone)
        end_local = start.date() + dt.timedelta(days=1)
        end = dt.datetime(end_local.year, end_local.month, end_local.day, tzinfo=zone)
    elif period == PERIOD_MONTH:
        start = dt.datetime(local.year, local.month, 1, tzinfo=zone)
        year, month = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
        end = dt.datetime(year, month, 1, tzinfo=zone)
    elif period == PERIOD_YEAR:
        start = dt.datetime(local.year, 1, 1, tzinfo=zone)
        end = dt.datetime(local.year + 1, 1, 1, tzinfo=zone)
    else:
        raise ValueError(period)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def year_bounds(year: int, zone: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    return period_bounds(dt.datetime(year, 7, 1, tzinfo=zone), zone, PERIOD_YEAR)


def cap_allowance(points: int, caps: dict[str, int | None], earned: dict[str, int]) -> int:
    """What an award of `points` may still earn under the caps, given what each period holds already."""
    allowed = points
    for period, cap in caps.items():
        if cap is not None:
            allowed = min(allowed, cap - earned.get(period, 0))
    return max(allowed, 0)


def cooldown_blocks(moment: dt.datetime, others: Iterable[dt.datetime], minutes: int) -> bool:
    """True when another award happened less than `minutes` before or after `moment`."""
    if minutes <= 0:
        return False
    window = dt.timedelta(minutes=minutes)
    return any(abs(moment - other) < window for other in others)


def mix_needs(total: int, mix: dict[str, int]) -> dict[str, int]:
    """A target's points per category from its mix (percent): shares summing exactly to `total`
    (largest remainder, ties in category order), so 100 % of the mix is reachable. Empty mix: {}."""
    shares = {category: total * percent for category, percent in mix.items() if percent > 0}
    needs = {category: share // 100 for category, share in shares.items()}
    left = total - sum(needs.values())
    order = {category: index for index, category in enumerate(CATEGORIES)}
    by_remainder = sorted(shares, key=lambda c: (-(shares[c] % 100), order.get(c, len(order)), c))
    for category in by_remainder[:left]:
        needs[category] += 1
    return needs


@dataclass(frozen=True)
class CategoryProgress:
    category: str
    earned: int
    needed: int
    missing: int


@dataclass(frozen=True)
class Progress:
    """How far a person is toward a target (None: no target applies)."""

    target: int | None
    earned: int
    attainment_percent: int
    missing: int
    categories: tuple[CategoryProgress, ...]


def progress_compute(
    target: int | None, needs: dict[str, int], earned_by_category: dict[str, int]
) -> Progress:
    """With a mix, each category counts up to its share; without one, every earning counts.
    The same arithmetic runs in SQL for teams (backend.points.targets): keep them in step."""
    order = {category: index for index, category in enumerate(CATEGORIES)}
    if needs:
        categories = tuple(
            CategoryProgress(
                category,
                min(earned_by_category.get(category, 0), needed),
                needed,
                max(needed - earned_by_category.get(category, 0), 0),
            )
            for category, needed in sorted(needs.items(), key=lambda item: order.get(item[0], len(order)))
        )
        earned = sum(item.earned for item in categories)
    else:
        categories = tuple(
            CategoryProgress(category, points, 0, 0)
            for category, points in sorted(
                earned_by_category.items(), key=lambda item: order.get(item[0], len(order))
            )
            if points
        )
        earned = sum(earned_by_category.values())
    if target is None:
        return Progress(None, earned, 0, 0, categories)
    attainment = 100 if earned >= target else max(earned, 0) * 100 // target
    return Progress(target, earned, attainment, max(target - earned, 0), categories)


def year_elapsed_percent(year: int, today: dt.date) -> int:
    """The share of `year` gone by at the end of `today` (0 before it starts, 100 after it ends)."""
    if year < today.year:
        return 100
    if year > today.year:
        return 0
    days = (dt.date(year + 1, 1, 1) - dt.date(year, 1, 1)).days
    return today.timetuple().tm_yday * 100 // days
