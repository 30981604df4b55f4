"""API structs of points. Bounds here are wide: the services check the real ones and answer 422
with a message in the user's language (negative or absurd points, bad dates, unknown kinds)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec

from backend.lib.schema import Schema
from backend.org.schemas import Ref

Id = Annotated[int, msgspec.Meta(ge=1, le=2**53)]
Wide = Annotated[int, msgspec.Meta(ge=-(10**9), le=10**9)]
Kind = Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
Category = Annotated[str, msgspec.Meta(min_length=1, max_length=16)]
Note = Annotated[str, msgspec.Meta(max_length=500)]


class RuleIn(Schema):
    kind: Kind
    points: Wide
    category: Category | None = None  # default: the kind's own category (custom kinds: "other")
    department_id: Id | None = None
    position_id: Id | None = None
    level_id: Id | None = None
    cap_day: Wide | None = None
    cap_month: Wide | None = None
    cap_year: Wide | None = None
    cooldown_minutes: Wide = 0
    effective_from: dt.date | None = None  # default: today
    effective_to: dt.date | None = None
    note: Annotated[str, msgspec.Meta(max_length=200)] = ""


class RuleVersionIn(Schema):
    """A change to a rule: a new version from `effective_from` (default today); the scope stays."""

    points: Wide
    category: Category | None = None  # default: unchanged
    cap_day: Wide | None = None
    cap_month: Wide | None = None
    cap_year: Wide | None = None
    cooldown_minutes: Wide = 0
    effective_from: dt.date | None = None
    effective_to: dt.date | None = None
    active: bool = True  # False retires the rule from effective_from on
    note: Annotated[str, msgspec.Meta(max_length=200)] = ""


class RuleOut(Schema):
    id: int
    series: int
    version: int
    kind: str
    category: str
    points: int
    per_hour: bool
    department: Ref | None
    position: Ref | None
    level: Ref | None
    cap_day: int | None
    cap_month: int | None
    cap_year: int | None
    cooldown_minutes: int
    effective_from: dt.date
    effective_to: dt.date | None
    active: bool
    current: bool  # not replaced by a newer version
    replaced_by: int | None
    note: str
    created_at: dt.datetime


class CreatedOut(Schema):
    id: int


class PresetApplyIn(Schema):
    # Levels the preset's annual target is for (default: levels named 主管/经理, i.e. middle managers).
    target_level_ids: Annotated[list[Id], msgspec.Meta(max_length=50)] | None = None
    year: Annotated[int, msgspec.Meta(ge=2000, le=2100)] | None = None  # default: this year


class PresetOut(Schema):
    name: str
    rules_created: int
    rules_changed: int
    rules_unchanged: int
    targets_set: int


class AwardIn(Schema):
    employee_id: Id
    kind: Kind
    occurred_on: dt.date
    note: Note = ""
    source_key: Annotated[str, msgspec.Meta(min_length=1, max_length=190)] | None = None


class AwardOut(Schema):
    # awarded | duplicate (this source earned already) | capped | cooldown | zero
    status: str
    entry_id: int | None
    points: int
    source_key: str


class ReverseIn(Schema):
    reason: Annotated[str, msgspec.Meta(max_length=500)]


class ReverseOut(Schema):
    status: str  # reversed | already_reversed
    entry_id: int | None


class LedgerEntryOut(Schema):
    id: int
    kind: str
    category: str
    points: int
    occurred_at: dt.datetime
    created_at: dt.datetime
    note: str
    reverses_id: int | None
    rule_version: int | None


class PointsMeOut(Schema):
    balance: int
    year: int
    year_total: int
    target: int | None
    by_category: dict[str, int]
    rank_in_department: int | None
    rank_in_organisation: int | None = None
    anonymous: bool = False  # I chose to show as 匿名 on leaderboards


class RewardIn(Schema):
    name: Annotated[str, msgspec.Meta(max_length=200)]
    cost: Wide
    description: Annotated[str, msgspec.Meta(max_length=5_000)] = ""
    stock: Wide | None = None  # null = unlimited
    eligible_level_ids: Annotated[list[Id], msgspec.Meta(max_length=100)] = msgspec.field(
        default_factory=list
    )
    eligible_department_ids: Annotated[list[Id], msgspec.Meta(max_length=100)] = msgspec.field(
        default_factory=list
    )
    per_person_limit: Wide | None = None


class DecisionIn(Schema):
    note: Note = ""


Year = Annotated[int, msgspec.Meta(ge=2000, le=2100)]


class TargetIn(Schema):
    year: Year
    total: Wide
    mix: Annotated[dict[str, Wide], msgspec.Meta(max_length=20)] = msgspec.field(default_factory=dict)
    department_id: Id | None = None
    position_id: Id | None = None
    level_id: Id | None = None


class TargetOut(Schema):
    id: int
    year: int
    department: Ref | None
    position: Ref | None
    level: Ref | None
    total: int
    mix: dict[str, int]
    updated_at: dt.datetime


class CategoryProgressOut(Schema):
    category: str
    earned: int  # points earned in the category this year (capped at `needed` when a mix exists)
    needed: int  # the category's share of the target (0 without a mix)
    missing: int  # max(needed - earned, 0)


class TargetProgressOut(Schema):
    year: int
    target: int | None
    earned: int  # points counting toward the target
    attainment_percent: int  # 0..100, floor
    missing: int
    categories: list[CategoryProgressOut]
    expected_percent: int  # share of the year elapsed
    behind: bool


class TeamMemberOut(Schema):
    employee: Ref
    department: Ref | None
    target: int | None
    earned: int
    attainment_percent: int
    behind: bool
    missing: int
    categories: list[CategoryProgressOut]


class LeaderRowOut(Schema):
    rank: int
    name: str  # the catalog's 匿名 for people who chose anonymity (except to themselves)
    department: str | None
    total: int
    me: bool
    anonymous: bool


class LeaderboardOut(Schema):
    year: int
    board: str  # department | organisation
    my_rank: int | None
    my_total: int
    people: int
    page: int
    pages: int
    entries: list[LeaderRowOut]


class DepartmentRateOut(Schema):
    department: Ref
    people: int
    with_target: int
    reached: int
    rate_percent: int


class PrivacyIn(Schema):
    anonymous: bool


class PrivacyOut(Schema):
    anonymous: bool


class RewardOut(Schema):
    id: int
    name: str
    description: str
    cost: int
    stock_left: int | None  # null = unlimited
    per_person_limit: int | None
    my_count: int  # my redemptions of it that hold or spent points (pending, approved, fulfilled)
    eligible: bool  # my level and department may redeem it
    active: bool
    eligible_level_ids: list[int]
    eligible_department_ids: list[int]


class RewardUpdateIn(Schema):
    name: Annotated[str, msgspec.Meta(max_length=200)]
    cost: Wide
    description: Annotated[str, msgspec.Meta(max_length=5_000)] = ""
    stock: Wide | None = None
    eligible_level_ids: Annotated[list[Id], msgspec.Meta(max_length=100)] = msgspec.field(
        default_factory=list
    )
    eligible_department_ids: Annotated[list[Id], msgspec.Meta(max_length=100)] = msgspec.field(
        default_factory=list
    )
    per_person_limit: Wide | None = None
    active: bool = True


class RedemptionOut(Schema):
    id: int
    reward: Ref
    employee: Ref
    department: Ref | None
    points: int
    state: str
    note: str
    created_at: dt.datetime
    decided_at: dt.datetime | None
    decided_by: Ref | None
    fulfilled_at: dt.datetime | None
    can_decide: bool
    can_fulfil: bool
