"""The ledger: append-only entries with a unique source key; balances and totals are sums.

Exactly once. Every award names its source (`source_key`, e.g. "reflection_submitted:12:34"). The
insert is `INSERT ... ON CONFLICT (source_key) DO NOTHING`: a retry, a duplicated event or a
concurrent request with the same key inserts nothing and gets None. This is used rather than catching
the unique violation (backend.lib.db.unique_violation) because awards also run inside their source's
transaction, and on PostgreSQL a failed statement would abort that whole transaction.

Per person, writers take turns (a transaction-scoped advisory lock on PostgreSQL; SQLite's write
transactions are serial already), so caps, cooldowns and, later, redemption balances are decided on
what is committed. Awarding works inside a caller's transaction: Piccolo treats a nested
`transaction()` as part of the outer one, and the lock is then held until the caller commits.

Every real earning (points > 0: awarded or partial, never holds, releases or reversals) records the
outbox event `points.credited` {employee_id, entry_id, points, kind, category} in the same
transaction and hands it to the worker after the commit (notifications tell the person).

Reversals are compensating entries ("reverse:<source key>", at most once) with the original's kind,
category and time, so they correct the totals, caps and year of the original.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from piccolo.query.functions.aggregate import Max, Min, Sum
from piccolo.querystring import QueryString

from backend.events.outbox import outbox_add, outbox_kick
from backend.lib.db import write_transaction
from backend.lib.errors import NotFound, ValidationFailed
from backend.points.facts import LOCK_LEDGER, org_zone, person_get, xact_lock
from backend.points.rulebook import rule_for
from backend.points.rules import (
    CATEGORIES,
    CATEGORY_OTHER,
    CATEGORY_REDEMPTION,
    PER_HOUR_KINDS,
    PERIODS,
    award_points,
    cap_allowance,
    cooldown_blocks,
    kind_valid,
    period_bounds,
    quantity_valid,
    year_bounds,
)
from backend.points.tables import LedgerEntry, PointYearTotal

SOURCE_KEY_MAX = 190  # the column holds 200: room for the "reverse:" prefix
REVERSE_PREFIX = "reverse:"
NOTE_MAX = 500

EVENT_POINTS_CREDITED = "points.credited"

STATUS_AWARDED = "awarded"
STATUS_PARTIAL = "partial"  # a cap left room for part of the points
STATUS_DUPLICATE = "duplicate"  # this source earned already
STATUS_CAPPED = "capped"
STATUS_COOLDOWN = "cooldown"
STATUS_NO_RULE = "no_rule"
STATUS_ZERO = "zero"  # the rule gives 0 points


@dataclass(frozen=True)
class AwardResult:
    status: str
    entry_id: int | None = None
    points: int = 0
    rule_id: int | None = None


def source_key_check(source_key: str) -> str:
    if not source_key or len(source_key) > SOURCE_KEY_MAX or not source_key.isprintable():
        raise ValidationFailed("error.points_source_key_invalid", field="source_key", max=SOURCE_KEY_MAX)
    return source_key


def _utc(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None:
        raise ValidationFailed("error.points_time_invalid", field="occurred_at")
    return moment.astimezone(dt.UTC)


async def _exists(source_key: str) -> bool:
    """Is the source key taken? Plain SQL: it runs twice per award, and Piccolo's query building
    costs more than the indexed read."""
    query = QueryString("SELECT 1 FROM ledger_entry WHERE source_key = {} LIMIT 1", source_key)
    return bool(await LedgerEntry._meta.db.run_querystring(query))


# An entry's columns and what an award leaves unset. Inserted with plain SQL (the statement's text
# is built once): Piccolo's per-call query building cost more than the insert itself.
_ENTRY_COLUMNS = tuple(
    column._meta.db_column_name for column in LedgerEntry._meta.columns if not column._meta.primary_key
)
_ENTRY_DEFAULTS: dict[str, Any] = {
    "quantity": 1.0,
    "rule": None,
    "rule_version": None,
    "actor": None,
    "reverses": None,
    "note": "",
}
_ENTRY_INSERT = (
    f"INSERT INTO ledger_entry ({', '.join(_ENTRY_COLUMNS)}) "  # noqa: S608 - names from the table
    f"VALUES ({', '.join('{}' for _ in _ENTRY_COLUMNS)}) ON CONFLICT (source_key) DO NOTHING RETURNING id"
)


async def entry_insert(**values: Any) -> int | None:
    """Insert one entry; None when its source key is taken (the entry exists already). An earning
    entry (any category but redemption) is added to the person's yearly totals in the same
    transaction (the caller's, when there is one)."""
    unknown = set(values) - set(_ENTRY_COLUMNS)
    if unknown:
        raise TypeError(f"not ledger entry columns: {sorted(unknown)}")
    row = {**_ENTRY_DEFAULTS, "created_at": dt.datetime.now(dt.UTC), **values}
    async with write_transaction(LedgerEntry):
        rows = await LedgerEntry._meta.db.run_querystring(
            QueryString(_ENTRY_INSERT, *(row[column] for column in _ENTRY_COLUMNS))
        )
        if rows and values["category"] != CATEGORY_REDEMPTION and values["points"]:
            await _year_total_add(
                int(values["employee"]), values["occurred_at"], values["category"], int(values["points"])
            )
    return int(rows[0]["id"]) if rows else None


def year_total_column(category: str) -> str:
    """The PointYearTotal column of a category (a rule category; anything else counts as other)."""
    return category if category in CATEGORIES else CATEGORY_OTHER


async def _year_total_add(employee_id: int, occurred_at: dt.datetime, category: str, points: int) -> None:
    column = year_total_column(category)  # one of a fixed set of names: safe to format in
    year = occurred_at.astimezone(org_zone()).year
    await PointYearTotal._meta.db.run_querystring(
        QueryString(
            f"INSERT INTO point_year_total (employee, year, total, {column}) VALUES ({{}}, {{}}, {{}}, {{}}) "  # noqa: S608 - a column name from CATEGORIES
            "ON CONFLICT (employee, year) DO UPDATE SET "
            f"total = point_year_total.total + excluded.total, {column} = point_year_total.{column} + excluded.{column}",
            employee_id,
            year,
            points,
            points,
        )
    )


def _moment(value: Any) -> dt.datetime:
    """A time from an aggregate: SQLite answers MIN()/MAX() of a timestamp as text."""
    moment = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


async def year_totals_rebuild() -> int:
    """Recompute every person's yearly totals from the ledger; the number of rows written. For after
    a bulk load into the ledger (benchmarks, imports) or a change of the organisation's time zone;
    run it while nothing else writes points."""
    named = [c for c in CATEGORIES if c != CATEGORY_OTHER]
    sums = ", ".join(f"SUM(CASE WHEN category = '{c}' THEN points ELSE 0 END)" for c in named)
    listed = ", ".join(f"'{c}'" for c in named)
    zone = org_zone()
    written = 0
    async with write_transaction(LedgerEntry):
        await PointYearTotal.delete(force=True)
        span = await LedgerEntry.select(
            Min(LedgerEntry.occurred_at).as_alias("first"), Max(LedgerEntry.occurred_at).as_alias("last")
        ).where(LedgerEntry.category != CATEGORY_REDEMPTION)
        if not span or span[0]["first"] is None:
            return 0
        first, last = (_moment(span[0][end]).astimezone(zone).year for end in ("first", "last"))
        for year in range(first, last + 1):
            start, end = year_bounds(year, zone)
            rows = await PointYearTotal._meta.db.run_querystring(
                QueryString(
                    f"INSERT INTO point_year_total (employee, year, total, {', '.join(named)}, other) "  # noqa: S608 - names from CATEGORIES
                    f"SELECT employee, {int(year)}, SUM(points), {sums}, "
                    f"SUM(CASE WHEN category NOT IN ({listed}) THEN points ELSE 0 END) FROM ledger_entry "
                    "WHERE category <> {} AND occurred_at >= {} AND occurred_at < {} GROUP BY employee "
                    "RETURNING id",
                    CATEGORY_REDEMPTION,
                    start,
                    end,
                )
            )
            written += len(rows)
    return written


async def _earned(
    employee_id: int, kind: str, moment: dt.datetime, zone: ZoneInfo, caps: dict[str, int | None]
) -> dict[str, int]:
    """Points of `kind` the person holds in each capped period around `moment`."""
    periods = [period for period in PERIODS if caps.get(period) is not None]
    if not periods:
        return {}
    bounds = {period: period_bounds(moment, zone, period) for period in periods}
    widest_start = min(start for start, _end in bounds.values())
    widest_end = max(end for _start, end in bounds.values())
    rows = await LedgerEntry.select(LedgerEntry.occurred_at, LedgerEntry.points).where(
        (LedgerEntry.employee == employee_id)
        & (LedgerEntry.kind == kind)
        & (LedgerEntry.occurred_at >= widest_start)
        & (LedgerEntry.occurred_at < widest_end)
    )
    return {
        period: sum(row["points"] for row in rows if start <= row["occurred_at"] < end)
        for period, (start, end) in bounds.items()
    }


async def _award_times(employee_id: int, kind: str, moment: dt.datetime, minutes: int) -> list[dt.datetime]:
    """When the person's standing (not reversed) awards of `kind` near `moment` happened."""
    window = dt.timedelta(minutes=minutes)
    rows = await LedgerEntry.select(LedgerEntry.id, LedgerEntry.occurred_at).where(
        (LedgerEntry.employee == employee_id)
        & (LedgerEntry.kind == kind)
        & (LedgerEntry.points > 0)
        & LedgerEntry.reverses.is_null()
        & (LedgerEntry.occurred_at > moment - window)
        & (LedgerEntry.occurred_at < moment + window)
    )
    if not rows:
        return []
    reversed_ids = {
        row["reverses"]
        for row in await LedgerEntry.select(LedgerEntry.reverses).where(
            LedgerEntry.reverses.is_in([row["id"] for row in rows])
        )
    }
    return [row["occurred_at"] for row in rows if row["id"] not in reversed_ids]


async def award(
    *,
    employee_id: int,
    kind: str,
    source_key: str,
    occurred_at: dt.datetime,
    actor_id: int | None = None,
    quantity: float = 1.0,
    note: str = "",
) -> AwardResult:
    """Award `kind` to a person for one source, under the rule in force when it happened.

    Caps leave room for part of the points (STATUS_PARTIAL) or none (STATUS_CAPPED; nothing is
    written, so a later reversal of an earlier award makes room again).
    """
    source_key_check(source_key)
    if not kind_valid(kind):
        raise ValidationFailed("error.points_kind_invalid", field="kind", kind=kind[:40])
    if not quantity_valid(quantity):
        raise ValidationFailed("error.points_out_of_range", field="quantity", min=0, max=100)
    if len(note) > NOTE_MAX:
        raise ValidationFailed("error.points_too_long", field="note", max=NOTE_MAX)
    moment = _utc(occurred_at)
    if await _exists(source_key):  # the common retry, without taking the lock
        return AwardResult(STATUS_DUPLICATE)
    person = await person_get(employee_id)
    zone = org_zone()
    # Inside a caller's transaction the event is only committed with it: the sweep delivers it then.
    nested = LedgerEntry._meta.db.transaction_exists()
    event_id: int | None = None
    async with write_transaction(LedgerEntry):
        await xact_lock(LOCK_LEDGER, employee_id)
        if await _exists(source_key):
            return AwardResult(STATUS_DUPLICATE)
        rule = await rule_for(person, kind, moment.astimezone(zone).date())
        if rule is None:
            return AwardResult(STATUS_NO_RULE)
        points = award_points(rule.points, quantity, per_hour=kind in PER_HOUR_KINDS)
        if points <= 0:
            return AwardResult(STATUS_ZERO, rule_id=rule.id)
        if rule.cooldown_minutes and cooldown_blocks(
            moment,
            await _award_times(employee_id, kind, moment, rule.cooldown_minutes),
            rule.cooldown_minutes,
        ):
            return AwardResult(STATUS_COOLDOWN, rule_id=rule.id)
        allowed = cap_allowance(points, rule.caps, await _earned(employee_id, kind, moment, zone, rule.caps))
        if allowed <= 0:
            return AwardResult(STATUS_CAPPED, rule_id=rule.id)
        entry_id = await entry_insert(
            employee=employee_id,
            kind=kind,
            category=rule.category,
            points=allowed,
            quantity=quantity,
            source_key=source_key,
            rule=rule.id,
            rule_version=rule.version,
            occurred_at=moment,
            actor=actor_id,
            note=note.strip(),
        )
        if entry_id is not None:
            event_id = await outbox_add(
                EVENT_POINTS_CREDITED,
                {
                    "employee_id": employee_id,
                    "entry_id": entry_id,
                    "points": allowed,
                    "kind": kind,
                    "category": rule.category,
                },
            )
    if entry_id is None:
        return AwardResult(STATUS_DUPLICATE)
    if event_id is not None and not nested:
        await outbox_kick([event_id])
    return AwardResult(STATUS_AWARDED if allowed == points else STATUS_PARTIAL, entry_id, allowed, rule.id)


async def ledger_award(
    *,
    employee_id: int,
    kind: str,
    source_key: str,
    occurred_at: dt.datetime,
    actor_id: int | None = None,
    quantity: float = 1.0,
    note: str = "",
) -> int | None:
    """Award once per source key; the new entry's id, or None when nothing was written (already
    awarded for this source, no rule, capped, in cooldown). See `award` for the reason."""
    result = await award(
        employee_id=employee_id,
        kind=kind,
        source_key=source_key,
        occurred_at=occurred_at,
        actor_id=actor_id,
        quantity=quantity,
        note=note,
    )
    return result.entry_id


async def ledger_reverse(*, source_key: str, reason: str, actor_id: int | None) -> int | None:
    """Compensate the entry of `source_key` once; the reversal's id, or None when reversed already."""
    reason = reason.strip()
    if not reason:
        raise ValidationFailed("error.points_reason_required", field="reason")
    if len(reason) > NOTE_MAX:
        raise ValidationFailed("error.points_too_long", field="reason", max=NOTE_MAX)
    original = await LedgerEntry.select().where(LedgerEntry.source_key == source_key).first()
    if original is None:
        raise NotFound()
    if original["reverses"] is not None or original["category"] == CATEGORY_REDEMPTION:
        raise ValidationFailed("error.points_not_reversible")
    async with write_transaction(LedgerEntry):
        await xact_lock(LOCK_LEDGER, original["employee"])
        return await entry_insert(
            employee=original["employee"],
            kind=original["kind"],
            category=original["category"],
            points=-int(original["points"]),
            quantity=original["quantity"],
            source_key=REVERSE_PREFIX + source_key,
            rule=original["rule"],
            rule_version=original["rule_version"],
            occurred_at=original["occurred_at"],
            actor=actor_id,
            reverses=original["id"],
            note=reason,
        )


async def _sum(where: Any) -> int:
    rows = await LedgerEntry.select(Sum(LedgerEntry.points).as_alias("total")).where(where)
    return int(rows[0]["total"] or 0) if rows else 0


async def balance(employee_id: int) -> int:
    """What the person holds: everything earned, minus reversals and held or spent points."""
    return await _sum(LedgerEntry.employee == employee_id)


def _earning_in_year(employee_id: int, year: int) -> Any:
    start, end = year_bounds(year, org_zone())
    return (
        (LedgerEntry.employee == employee_id)
        & (LedgerEntry.category != CATEGORY_REDEMPTION)
        & (LedgerEntry.occurred_at >= start)
        & (LedgerEntry.occurred_at < end)
    )


async def year_total(employee_id: int, year: int) -> int:
    """Points earned in a calendar year (organisation time zone); spending does not lower it."""
    return await _sum(_earning_in_year(employee_id, year))


async def by_category(employee_id: int, year: int) -> dict[str, int]:
    """Points earned in a year per category; every category is present (0 when none)."""
    totals = dict.fromkeys(CATEGORIES, 0)
    rows = (
        await LedgerEntry.select(LedgerEntry.category, Sum(LedgerEntry.points).as_alias("total"))
        .where(_earning_in_year(employee_id, year))
        .group_by(LedgerEntry.category)
    )
    for row in rows:
        totals[row["category"]] = totals.get(row["category"], 0) + int(row["total"] or 0)
    return totals
