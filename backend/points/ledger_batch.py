"""Many awards at once, set-based: the same outcome as `ledger.award` called for each request in order.

`ledger_award_batch` decides every request in Python over a handful of statements, in one transaction:
the people's advisory locks (PostgreSQL; taken in ascending order, so two batches never deadlock),
one read of the people, the rules in force once per (kind, day), one read of the source keys already
written, one read each of what the caps and the cooldowns need (only for the people and kinds whose
rules have caps or cooldowns), then one multi-row INSERT ... ON CONFLICT (source_key) DO NOTHING, one
upsert of the yearly totals per (person, year) and one insert of the `points.credited` outbox events,
which are kicked after the commit (or swept, inside a caller's transaction).

Requests are decided in order, each seeing the ones before it: a key written earlier in the batch makes
a later request with the same key a duplicate, and earlier awards count toward later caps and
cooldowns. A request whose key is taken is a duplicate before anything else is looked at (as `award`
checks first). Unlike a loop, the batch is all or nothing: an invalid request (ValidationFailed) or an
unknown person (NotFound) refuses the whole batch before anything is written.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from piccolo.querystring import QueryString
from piccolo.utils.encoding import dump_json

from backend.events.outbox import outbox_kick
from backend.events.tables import OutboxEvent
from backend.lib.db import rows_insert, write_transaction
from backend.lib.errors import NotFound, ValidationFailed
from backend.org.tables import Employee
from backend.points.facts import LOCK_LEDGER, org_zone
from backend.points.ledger import (
    EVENT_POINTS_CREDITED,
    NOTE_MAX,
    STATUS_AWARDED,
    STATUS_CAPPED,
    STATUS_COOLDOWN,
    STATUS_DUPLICATE,
    STATUS_NO_RULE,
    STATUS_PARTIAL,
    STATUS_ZERO,
    AwardResult,
    source_key_check,
    year_total_column,
)
from backend.points.rulebook import rules_in_force
from backend.points.rules import (
    CATEGORIES,
    PER_HOUR_KINDS,
    PERIODS,
    Person,
    RuleView,
    award_points,
    cap_allowance,
    cooldown_blocks,
    kind_valid,
    period_bounds,
    quantity_valid,
    rule_pick,
)
from backend.points.tables import LedgerEntry, PointYearTotal

BATCH_MAX = 1_000


@dataclass(frozen=True)
class AwardRequest:
    """One award, as `ledger.award` takes it."""

    employee_id: int
    kind: str
    source_key: str
    occurred_at: dt.datetime
    actor_id: int | None = None
    quantity: float = 1.0
    note: str = ""


@dataclass
class _Decided:
    """A request decided to earn: the values of its entry."""

    index: int
    request: AwardRequest
    moment: dt.datetime
    rule: RuleView
    points: int  # what the rule gives
    allowed: int  # what the caps leave


def _checked(requests: Sequence[AwardRequest]) -> list[dt.datetime]:
    """Refuse the batch (422) when it is too large or a request is invalid; the requests' UTC times."""
    if not 0 < len(requests) <= BATCH_MAX:
        raise ValidationFailed("error.points_out_of_range", field="requests", min=1, max=BATCH_MAX)
    moments = []
    for request in requests:
        source_key_check(request.source_key)
        if not kind_valid(request.kind):
            raise ValidationFailed("error.points_kind_invalid", field="kind", kind=request.kind[:40])
        if not quantity_valid(request.quantity):
            raise ValidationFailed("error.points_out_of_range", field="quantity", min=0, max=100)
        if len(request.note) > NOTE_MAX:
            raise ValidationFailed("error.points_too_long", field="note", max=NOTE_MAX)
        if request.occurred_at.tzinfo is None:
            raise ValidationFailed("error.points_time_invalid", field="occurred_at")
        moments.append(request.occurred_at.astimezone(dt.UTC))
    return moments


async def _locks(employee_ids: list[int]) -> None:
    """Every person's ledger lock (PostgreSQL), in ascending order, in one statement."""
    engine = LedgerEntry._meta.db
    if engine.engine_type == "postgres" and employee_ids:
        await engine.run_querystring(
            QueryString(
                "SELECT pg_advisory_xact_lock({}, k) FROM (SELECT unnest({}::int[]) AS k ORDER BY 1) AS keys",
                LOCK_LEDGER,
                sorted(employee_ids),
            )
        )


async def _people(employee_ids: list[int]) -> dict[int, Person]:
    rows = await Employee.select(
        Employee.id,
        Employee.department,
        Employee.department.path.as_alias("department_path"),
        Employee.position,
        Employee.level,
    ).where(Employee.id.is_in(employee_ids))
    return {
        int(row["id"]): Person(
            employee_id=int(row["id"]),
            department_id=row["department"],
            department_path=row["department_path"] or "",
            position_id=row["position"],
            level_id=row["level"],
        )
        for row in rows
    }


async def _taken(keys: list[str]) -> set[str]:
    rows = await LedgerEntry.select(LedgerEntry.source_key).where(LedgerEntry.source_key.is_in(keys))
    return {row["source_key"] for row in rows}


History = dict[tuple[int, str], list[tuple[dt.datetime, int]]]


async def _history(
    pairs: set[tuple[int, str]], start: dt.datetime, end: dt.datetime, *, standing_awards: bool
) -> History:
    """(time, points) of the entries of these (person, kind) pairs in [start, end). With
    `standing_awards`, only awards (points > 0) that are not reversals and not reversed (cooldowns);
    else every entry (caps)."""
    found: History = defaultdict(list)
    if not pairs:
        return found
    where = (
        LedgerEntry.employee.is_in(sorted({person for person, _kind in pairs}))
        & LedgerEntry.kind.is_in(sorted({kind for _person, kind in pairs}))
        & (LedgerEntry.occurred_at >= start)
        & (LedgerEntry.occurred_at < end)
    )
    if standing_awards:
        where = where & (LedgerEntry.points > 0) & LedgerEntry.reverses.is_null()
    rows = await LedgerEntry.select(
        LedgerEntry.id, LedgerEntry.employee, LedgerEntry.kind, LedgerEntry.occurred_at, LedgerEntry.points
    ).where(where)
    reversed_ids: set[int] = set()
    if standing_awards and rows:
        reversed_ids = {
            int(row["reverses"])
            for row in await LedgerEntry.select(LedgerEntry.reverses).where(
                LedgerEntry.reverses.is_in([row["id"] for row in rows])
            )
        }
    for row in rows:
        pair = (int(row["employee"]), row["kind"])
        if pair in pairs and row["id"] not in reversed_ids:
            found[pair].append((row["occurred_at"], int(row["points"])))
    return found


def _earned(
    history: list[tuple[dt.datetime, int]], bounds: dict[str, tuple[dt.datetime, dt.datetime]]
) -> dict[str, int]:
    return {
        period: sum(points for moment, points in history if start <= moment < end)
        for period, (start, end) in bounds.items()
    }


async def _rules(wanted: set[tuple[str, dt.date]]) -> dict[tuple[str, dt.date], list[RuleView]]:
    return {(kind, day): await rules_in_force(kind, day) for kind, day in sorted(wanted)}


def _span(
    moments: list[dt.datetime], before: dt.timedelta, after: dt.timedelta
) -> tuple[dt.datetime, dt.datetime]:
    return min(moments) - before, max(moments) + after


async def ledger_award_batch(requests: Sequence[AwardRequest]) -> list[AwardResult]:
    """Award every request (at most BATCH_MAX), as `ledger.award` would one after another; the results
    in the requests' order. See the module's docstring for the one difference (all or nothing)."""
    moments = _checked(requests)
    zone = org_zone()
    keys = sorted({request.source_key for request in requests})
    employee_ids = sorted({request.employee_id for request in requests})
    nested = LedgerEntry._meta.db.transaction_exists()
    results: list[AwardResult | None] = [None] * len(requests)
    event_ids: list[int] = []
    async with write_transaction(LedgerEntry):
        await _locks(employee_ids)
        taken = await _taken(keys)
        people = await _people(employee_ids)
        days = [moment.astimezone(zone).date() for moment in moments]
        rules = await _rules(
            {(r.kind, day) for r, day in zip(requests, days, strict=True) if r.employee_id in people}
        )
        # Which rule each live request would earn under (duplicates of written keys aside).
        picked: list[RuleView | None] = []
        for request, day in zip(requests, days, strict=True):
            person = people.get(request.employee_id)
            found = (
                rule_pick(rules.get((request.kind, day), []), person, request.kind, day) if person else None
            )
            picked.append(found)
        capped_pairs = {
            (r.employee_id, r.kind)
            for r, rule in zip(requests, picked, strict=True)
            if rule and any(cap is not None for cap in rule.caps.values())
        }
        cooling = [rule.cooldown_minutes for rule in picked if rule and rule.cooldown_minutes]
        cooling_pairs = {
            (r.employee_id, r.kind)
            for r, rule in zip(requests, picked, strict=True)
            if rule and rule.cooldown_minutes
        }
        caps_history: History = defaultdict(list)
        if capped_pairs:
            year = dt.timedelta(days=367)  # covers every day, month and year around a moment
            caps_history = await _history(capped_pairs, *_span(moments, year, year), standing_awards=False)
        cooldown_history: History = defaultdict(list)
        if cooling_pairs:
            window = dt.timedelta(minutes=max(cooling))
            cooldown_history = await _history(
                cooling_pairs, *_span(moments, window, window), standing_awards=True
            )
        decided: list[_Decided] = []
        written: set[str] = set()
        for index, (request, moment, rule) in enumerate(zip(requests, moments, picked, strict=True)):
            if request.source_key in taken or request.source_key in written:
                results[index] = AwardResult(STATUS_DUPLICATE)
                continue
            if request.employee_id not in people:
                raise NotFound()
            if rule is None:
                results[index] = AwardResult(STATUS_NO_RULE)
                continue
            points = award_points(rule.points, request.quantity, per_hour=request.kind in PER_HOUR_KINDS)
            if points <= 0:
                results[index] = AwardResult(STATUS_ZERO, rule_id=rule.id)
                continue
            pair = (request.employee_id, request.kind)
            if rule.cooldown_minutes:
                window = dt.timedelta(minutes=rule.cooldown_minutes)
                near = [when for when, _points in cooldown_history[pair] if abs(when - moment) < window]
                if cooldown_blocks(moment, near, rule.cooldown_minutes):
                    results[index] = AwardResult(STATUS_COOLDOWN, rule_id=rule.id)
                    continue
            periods = {p: period_bounds(moment, zone, p) for p in PERIODS if rule.caps.get(p) is not None}
            earned = _earned(caps_history[pair], periods) if periods else {}
            allowed = cap_allowance(points, rule.caps, earned)
            if allowed <= 0:
                results[index] = AwardResult(STATUS_CAPPED, rule_id=rule.id)
                continue
            written.add(request.source_key)
            caps_history[pair].append((moment, allowed))
            cooldown_history[pair].append((moment, allowed))
            decided.append(_Decided(index, request, moment, rule, points, allowed))
        if decided:
            event_ids = await _write(decided, results, zone)
    if event_ids and not nested:
        await outbox_kick(event_ids)
    return [result or AwardResult(STATUS_DUPLICATE) for result in results]


# (column, PostgreSQL type) of what a batch inserts.
_ENTRY_COLUMNS = (
    ("employee", "int"),
    ("kind", "text"),
    ("category", "text"),
    ("points", "int"),
    ("quantity", "float8"),
    ("source_key", "text"),
    ("rule", "int"),
    ("rule_version", "int"),
    ("occurred_at", "timestamptz"),
    ("created_at", "timestamptz"),
    ("actor", "int"),
    ("note", "text"),
)
_EVENT_COLUMNS = (("kind", "text"), ("payload", "json"), ("created_at", "timestamptz"), ("attempts", "int"))


async def _write(decided: list[_Decided], results: list[AwardResult | None], zone: Any) -> list[int]:
    """Insert the decided entries, add them to the yearly totals, record their events; the event ids.
    An entry whose key a concurrent writer took meanwhile is a duplicate."""
    now = dt.datetime.now(dt.UTC)
    rows = await rows_insert(
        LedgerEntry,
        _ENTRY_COLUMNS,
        [
            (
                d.request.employee_id,
                d.request.kind,
                d.rule.category,
                d.allowed,
                float(d.request.quantity),
                d.request.source_key,
                d.rule.id,
                d.rule.version,
                d.moment,
                now,
                d.request.actor_id,
                d.request.note.strip(),
            )
            for d in decided
        ],
        "ON CONFLICT (source_key) DO NOTHING RETURNING id, source_key",
    )
    ids = {row["source_key"]: int(row["id"]) for row in rows}
    totals: dict[tuple[int, int], dict[str, int]] = defaultdict(lambda: dict.fromkeys(CATEGORIES, 0))
    events = []
    for d in decided:
        entry_id = ids.get(d.request.source_key)
        if entry_id is None:
            results[d.index] = AwardResult(STATUS_DUPLICATE)
            continue
        status = STATUS_AWARDED if d.allowed == d.points else STATUS_PARTIAL
        results[d.index] = AwardResult(status, entry_id, d.allowed, d.rule.id)
        year = d.moment.astimezone(zone).year
        totals[(d.request.employee_id, year)][year_total_column(d.rule.category)] += d.allowed
        payload = {
            "employee_id": d.request.employee_id,
            "entry_id": entry_id,
            "points": d.allowed,
            "kind": d.request.kind,
            "category": d.rule.category,
        }
        events.append((EVENT_POINTS_CREDITED, dump_json(payload), now, 0))
    if not events:
        return []
    await _year_totals_add(totals)
    return [int(row["id"]) for row in await rows_insert(OutboxEvent, _EVENT_COLUMNS, events, "RETURNING id")]


async def _year_totals_add(totals: dict[tuple[int, int], dict[str, int]]) -> None:
    """Add per (person, year) and category to the yearly totals, in one upsert."""
    columns = [(name, "int") for name in ("employee", "year", "total", *CATEGORIES)]
    rows = [
        (employee_id, year, sum(by_column.values()), *(by_column[c] for c in CATEGORIES))
        for (employee_id, year), by_column in sorted(totals.items())
    ]
    updates = ", ".join(f"{c} = point_year_total.{c} + excluded.{c}" for c in ("total", *CATEGORIES))
    await rows_insert(PointYearTotal, columns, rows, f"ON CONFLICT (employee, year) DO UPDATE SET {updates}")
