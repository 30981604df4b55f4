"""Points (积分): rules, the append-only ledger, annual targets, rewards and redemptions.

The ledger is money-like (ARCHITECTURE §5): entries are only ever inserted; corrections are
compensating entries; balances and totals are sums. A migration adds triggers that refuse UPDATE and
DELETE on `ledger_entry` (PostgreSQL and SQLite), and the composite indexes the sums need.

Rules are versioned: changing one inserts a new version row and closes the old one (its
`effective_to`, `replaced_by`); ledger entries keep the id and version of the rule they were earned by.
"""

from piccolo.columns import (
    JSON,
    Boolean,
    Date,
    DoublePrecision,
    ForeignKey,
    Integer,
    OnDelete,
    Serial,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from backend.org.tables import Department, Employee, JobLevel, Position


class PointRule(Table):
    """Activity kind → points, for a scope (department subtree, position, level; unset = everyone)."""

    id = Serial(primary_key=True)
    kind = Varchar(length=40, index=True)  # course_completed, exam_passed, ... or a custom kind
    category = Varchar(length=16)  # course | exam | sharing | mentoring | workshop | reflection | other
    # Points per award; for per-hour kinds (course_completed) points per hour of video.
    points = Integer()
    department = ForeignKey(Department, null=True, on_delete=OnDelete.restrict)
    position = ForeignKey(Position, null=True, on_delete=OnDelete.restrict)
    level = ForeignKey(JobLevel, null=True, on_delete=OnDelete.restrict)
    # Most points of this kind per person per day / month / year (organisation time zone); null = no cap.
    cap_day = Integer(null=True, default=None)
    cap_month = Integer(null=True, default=None)
    cap_year = Integer(null=True, default=None)
    # Minimum minutes between two awards of this kind to one person; 0 = none.
    cooldown_minutes = Integer(default=0)
    effective_from = Date()
    effective_to = Date(null=True, default=None)  # inclusive; null = open-ended
    # All versions of one rule share `series` (the id of its first version).
    series = Integer(default=0, index=True)
    version = Integer(default=1)
    replaced_by = Integer(null=True, default=None)  # the next version's id; null = current version
    # False: from effective_from on, this scope earns nothing for the kind (a retired rule).
    active = Boolean(default=True)
    note = Varchar(length=200, default="")
    created_by = ForeignKey(Employee, null=True, on_delete=OnDelete.set_null)
    created_at = Timestamptz(default=TimestamptzNow())


class LedgerEntry(Table):
    """One signed movement of points. Never updated, never deleted."""

    id = Serial(primary_key=True)
    employee = ForeignKey(Employee, on_delete=OnDelete.restrict)
    kind = Varchar(length=40)
    category = Varchar(length=16)  # a rule category, or "redemption" for holds and releases
    points = Integer()  # signed
    quantity = DoublePrecision(default=1.0)  # e.g. hours of video for per-hour rules
    # What earned it, e.g. "reflection_submitted:12:34": the same source never earns twice.
    source_key = Varchar(length=200, unique=True)
    rule = ForeignKey(PointRule, null=True, on_delete=OnDelete.restrict)
    rule_version = Integer(null=True, default=None)
    # When the activity happened (caps, cooldowns, yearly totals); created_at is when it was recorded.
    occurred_at = Timestamptz()
    created_at = Timestamptz(default=TimestamptzNow())
    actor = ForeignKey(Employee, null=True, on_delete=OnDelete.restrict)  # null = the system
    reverses: ForeignKey["LedgerEntry"] = ForeignKey("self", null=True, on_delete=OnDelete.restrict)
    note = Varchar(length=500, default="")


class PointTarget(Table):
    """An annual target for a group, with the share each category should contribute."""

    id = Serial(primary_key=True)
    year = Integer(index=True)
    department = ForeignKey(Department, null=True, on_delete=OnDelete.restrict)
    position = ForeignKey(Position, null=True, on_delete=OnDelete.restrict)
    level = ForeignKey(JobLevel, null=True, on_delete=OnDelete.restrict)
    total = Integer()
    mix = JSON(default="{}")  # {"course": 40, "exam": 30, ...} percent, summing to 100 (or empty)
    created_by = ForeignKey(Employee, null=True, on_delete=OnDelete.set_null)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class PointSettings(Table):
    """Organisation-wide points settings: one row."""

    id = Serial(primary_key=True)
    preset = Varchar(length=20, default="")  # the preset last applied: credit | engagement | ""
    # The training component of the performance score, in percent (appraisal exports).
    appraisal_weight = Integer(default=10)
    updated_by = ForeignKey(Employee, null=True, on_delete=OnDelete.set_null)
    updated_at = Timestamptz(default=TimestamptzNow())


class Reward(Table):
    """Something points can be traded for (一天远程办公, 咖啡券 ...)."""

    id = Serial(primary_key=True)
    name = Varchar(length=100)
    description = Text(default="")
    cost = Integer()
    stock = Integer(null=True, default=None)  # null = unlimited
    eligible_level_ids = JSON(default="[]")  # empty = every level
    eligible_department_ids = JSON(default="[]")  # subtrees; empty = every department
    per_person_limit = Integer(null=True, default=None)  # null = no limit
    active = Boolean(default=True)
    sort = Integer(default=0)
    created_at = Timestamptz(default=TimestamptzNow())


class Redemption(Table):
    """A request to trade points for a reward: the points are held (a negative entry) until decided."""

    id = Serial(primary_key=True)
    reward = ForeignKey(Reward, on_delete=OnDelete.restrict, index=True)
    employee = ForeignKey(Employee, on_delete=OnDelete.restrict, index=True)
    points = Integer()
    state = Varchar(length=12, default="pending", index=True)  # pending | approved | rejected | fulfilled
    hold_entry = ForeignKey(LedgerEntry, null=True, on_delete=OnDelete.restrict)
    release_entry = ForeignKey(LedgerEntry, null=True, on_delete=OnDelete.restrict)
    decided_by = ForeignKey(Employee, null=True, on_delete=OnDelete.set_null)
    decided_at = Timestamptz(null=True, default=None)
    fulfilled_at = Timestamptz(null=True, default=None)
    note = Varchar(length=500, default="")
    created_at = Timestamptz(default=TimestamptzNow())


class PointProfile(Table):
    """A person's points preferences: one row per person who changed one (no row = the defaults)."""

    id = Serial(primary_key=True)
    employee = ForeignKey(Employee, unique=True, on_delete=OnDelete.cascade)
    # Shown as 匿名 on leaderboards to everyone else.
    anonymous = Boolean(default=False)
    updated_at = Timestamptz(default=TimestamptzNow())


class PointYearTotal(Table):
    """Points earned per person and year (organisation time zone), in all and per category.

    Derived from the ledger: `ledger.entry_insert` adds every earning entry (not holds or releases)
    to its row in the same transaction, so leaderboards, ranks, team progress and completion rates
    read one row per person instead of every entry. `ledger.year_totals_rebuild` recomputes it (after
    a bulk load into the ledger, or when the organisation's time zone changes). Categories are the
    rule categories (rules.CATEGORIES); anything else counts as "other".
    """

    id = Serial(primary_key=True)
    employee = ForeignKey(Employee, on_delete=OnDelete.cascade)
    year = Integer()
    total = Integer(default=0)
    course = Integer(default=0)
    exam = Integer(default=0)
    sharing = Integer(default=0)
    mentoring = Integer(default=0)
    workshop = Integer(default=0)
    reflection = Integer(default=0)
    other = Integer(default=0)
