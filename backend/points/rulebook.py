"""The rule book in the database: HR creates rules and new versions of them; awards look rules up.

A change never rewrites history: it inserts a new version (same series, version + 1) in force from a
date, and closes the previous version the day before (its `effective_to`, `replaced_by`). Ledger
entries keep the id and version of the rule they were earned under.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from piccolo.columns.combination import Or

from backend.lib.db import write_transaction
from backend.lib.errors import Conflict, NotFound, ValidationFailed
from backend.lib.policy import Actor
from backend.org.schemas import Ref
from backend.org.tables import Department, JobLevel, Position
from backend.points.access import points_admin_check, rules_read_check
from backend.points.facts import LOCK_RULES, org_today, xact_lock
from backend.points.rules import (
    CAP_MAX,
    CATEGORIES,
    CATEGORY_OTHER,
    COOLDOWN_MAX_MINUTES,
    KINDS,
    PER_HOUR_KINDS,
    POINTS_MAX,
    Person,
    RuleView,
    Scope,
    kind_valid,
    rule_conflict,
    rule_pick,
)
from backend.points.schemas import RuleOut
from backend.points.tables import PointRule


@dataclass(frozen=True)
class RuleTerms:
    """What a rule version says (its scope and kind stay with the series)."""

    points: int
    category: str | None = None
    cap_day: int | None = None
    cap_month: int | None = None
    cap_year: int | None = None
    cooldown_minutes: int = 0
    effective_from: dt.date | None = None
    effective_to: dt.date | None = None
    active: bool = True
    note: str = ""


_COLUMNS = (
    *PointRule.all_columns(),
    PointRule.department.path.as_alias("department_path"),
    PointRule.department.name.as_alias("department_name"),
    PointRule.position.name.as_alias("position_name"),
    PointRule.level.name.as_alias("level_name"),
)


def rule_view(row: dict[str, Any]) -> RuleView:
    return RuleView(
        id=int(row["id"]),
        kind=row["kind"],
        category=row["category"],
        points=int(row["points"]),
        scope=Scope(
            department_id=row["department"],
            department_path=row.get("department_path"),
            position_id=row["position"],
            level_id=row["level"],
        ),
        effective_from=row["effective_from"],
        effective_to=row["effective_to"],
        active=bool(row["active"]),
        cap_day=row["cap_day"],
        cap_month=row["cap_month"],
        cap_year=row["cap_year"],
        cooldown_minutes=int(row["cooldown_minutes"]),
        version=int(row["version"]),
        series=int(row["series"]),
    )


async def rules_in_force(kind: str, day: dt.date) -> list[RuleView]:
    rows = await PointRule.select(*_COLUMNS).where(
        (PointRule.kind == kind)
        & (PointRule.active == True)  # noqa: E712 - a SQL expression
        & (PointRule.effective_from <= day)
        & Or(PointRule.effective_to.is_null(), PointRule.effective_to >= day)
    )
    return [rule_view(row) for row in rows]


async def rule_for(person: Person, kind: str, day: dt.date) -> RuleView | None:
    """The rule an award of `kind` to `person` on `day` is earned under (None: the kind earns nothing)."""
    return rule_pick(await rules_in_force(kind, day), person, kind, day)


def _bounded(value: int | None, *, field: str, low: int, high: int) -> None:
    if value is not None and not low <= value <= high:
        raise ValidationFailed("error.points_out_of_range", field=field, min=low, max=high)


def terms_check(kind: str, terms: RuleTerms, *, category: str) -> RuleTerms:
    """Refuse bad terms (422); fill in the category and start date."""
    if not kind_valid(kind):
        raise ValidationFailed("error.points_kind_invalid", field="kind", kind=kind[:40])
    if category not in CATEGORIES:
        raise ValidationFailed("error.points_category_invalid", field="category")
    _bounded(terms.points, field="points", low=0, high=POINTS_MAX)
    for field in ("cap_day", "cap_month", "cap_year"):
        _bounded(getattr(terms, field), field=field, low=1, high=CAP_MAX)
    _bounded(terms.cooldown_minutes, field="cooldown_minutes", low=0, high=COOLDOWN_MAX_MINUTES)
    effective_from = terms.effective_from or org_today()
    if terms.effective_to is not None and terms.effective_to < effective_from:
        raise ValidationFailed("error.points_dates_order", field="effective_to")
    if len(terms.note) > 200:
        raise ValidationFailed("error.points_too_long", field="note", max=200)
    return RuleTerms(
        points=terms.points,
        category=category,
        cap_day=terms.cap_day,
        cap_month=terms.cap_month,
        cap_year=terms.cap_year,
        cooldown_minutes=terms.cooldown_minutes,
        effective_from=effective_from,
        effective_to=terms.effective_to,
        active=terms.active,
        note=terms.note.strip(),
    )


async def _scope_load(department_id: int | None, position_id: int | None, level_id: int | None) -> Scope:
    path = None
    if department_id is not None:
        row = await Department.select(Department.path).where(Department.id == department_id).first()
        if row is None:
            raise ValidationFailed("error.points_scope_unknown", field="department_id")
        path = row["path"]
    if position_id is not None and not await Position.exists().where(Position.id == position_id):
        raise ValidationFailed("error.points_scope_unknown", field="position_id")
    if level_id is not None and not await JobLevel.exists().where(JobLevel.id == level_id):
        raise ValidationFailed("error.points_scope_unknown", field="level_id")
    return Scope(
        department_id=department_id, department_path=path, position_id=position_id, level_id=level_id
    )


async def _conflict_check(candidate: RuleView) -> None:
    rows = await PointRule.select(*_COLUMNS).where(
        (PointRule.kind == candidate.kind) & (PointRule.active == True)  # noqa: E712
    )
    conflict = rule_conflict(candidate, [rule_view(row) for row in rows if row["id"] != candidate.id])
    if conflict is not None:
        raise ValidationFailed(
            "error.points_rule_conflict",
            field="kind",
            rule_id=conflict.id,
            kind=conflict.kind,
            version=conflict.version,
        )


def _row_values(kind: str, scope: Scope, terms: RuleTerms) -> dict[str, Any]:
    return {
        "kind": kind,
        "category": terms.category,
        "points": terms.points,
        "department": scope.department_id,
        "position": scope.position_id,
        "level": scope.level_id,
        "cap_day": terms.cap_day,
        "cap_month": terms.cap_month,
        "cap_year": terms.cap_year,
        "cooldown_minutes": terms.cooldown_minutes,
        "effective_from": terms.effective_from,
        "effective_to": terms.effective_to,
        "active": terms.active,
        "note": terms.note,
    }


async def rule_insert(
    *, actor_id: int | None, kind: str, scope: Scope, terms: RuleTerms, replaces: dict[str, Any] | None = None
) -> int:
    """Write a checked rule (a first version, or the next version of `replaces`) in one transaction."""
    assert terms.effective_from is not None
    async with write_transaction(PointRule):
        await xact_lock(LOCK_RULES, 0)
        series = int(replaces["series"]) if replaces else 0
        probe = RuleView(
            id=0,
            kind=kind,
            category=terms.category or CATEGORY_OTHER,
            points=terms.points,
            scope=scope,
            effective_from=terms.effective_from,
            effective_to=terms.effective_to,
            active=terms.active,
            series=series,
        )
        await _conflict_check(probe)
        rows = await PointRule.insert(
            PointRule(
                **_row_values(kind, scope, terms),
                series=series,
                version=int(replaces["version"]) + 1 if replaces else 1,
                created_by=actor_id,
            )
        ).returning(PointRule.id)
        rule_id = int(rows[0]["id"])
        if replaces is None:
            await PointRule.update({PointRule.series: rule_id}).where(PointRule.id == rule_id)
            return rule_id
        closing = terms.effective_from - dt.timedelta(days=1)
        if replaces["effective_to"] is not None:
            closing = min(closing, replaces["effective_to"])
        closed = (
            await PointRule.update({PointRule.replaced_by: rule_id, PointRule.effective_to: closing})
            .where((PointRule.id == replaces["id"]) & PointRule.replaced_by.is_null())
            .returning(PointRule.id)
        )
        if not closed:
            raise Conflict("error.points_rule_replaced")
    return rule_id


async def rule_create(
    *,
    actor: Actor | None,
    kind: str,
    terms: RuleTerms,
    department_id: int | None = None,
    position_id: int | None = None,
    level_id: int | None = None,
) -> int:
    """A new rule (HR). Refused (422) when an equally specific active rule could apply to the same person."""
    actor = points_admin_check(actor)
    kind = kind.strip()
    terms = terms_check(kind, terms, category=terms.category or KINDS.get(kind, CATEGORY_OTHER))
    scope = await _scope_load(department_id, position_id, level_id)
    return await rule_insert(actor_id=actor.employee_id, kind=kind, scope=scope, terms=terms)


async def rule_version_create(*, actor: Actor | None, rule_id: int, terms: RuleTerms) -> int:
    """Change a rule (HR): a new version in force from `terms.effective_from` (default today)."""
    actor = points_admin_check(actor)
    current = await PointRule.select(*_COLUMNS).where(PointRule.id == rule_id).first()
    if current is None:
        raise NotFound()
    if current["replaced_by"] is not None:
        raise Conflict("error.points_rule_replaced")
    terms = terms_check(current["kind"], terms, category=terms.category or current["category"])
    assert terms.effective_from is not None
    if terms.effective_from < current["effective_from"]:
        raise ValidationFailed("error.points_version_before_rule", field="effective_from")
    return await rule_insert(
        actor_id=actor.employee_id,
        kind=current["kind"],
        scope=rule_view(current).scope,
        terms=terms,
        replaces=dict(current),
    )


def _ref(row: dict[str, Any], column: str) -> Ref | None:
    return Ref(id=row[column], name=row[f"{column}_name"]) if row[column] is not None else None


def rule_out(row: dict[str, Any]) -> RuleOut:
    return RuleOut(
        id=row["id"],
        series=row["series"],
        version=row["version"],
        kind=row["kind"],
        category=row["category"],
        points=row["points"],
        per_hour=row["kind"] in PER_HOUR_KINDS,
        department=_ref(row, "department"),
        position=_ref(row, "position"),
        level=_ref(row, "level"),
        cap_day=row["cap_day"],
        cap_month=row["cap_month"],
        cap_year=row["cap_year"],
        cooldown_minutes=row["cooldown_minutes"],
        effective_from=row["effective_from"],
        effective_to=row["effective_to"],
        active=row["active"],
        current=row["replaced_by"] is None,
        replaced_by=row["replaced_by"],
        note=row["note"],
        created_at=row["created_at"],
    )


async def rule_list(*, actor: Actor | None, history: bool = False) -> list[RuleOut]:
    """The rule book (HR, auditors): current versions, or every version with `history`."""
    rules_read_check(actor)
    query = (
        PointRule.select(*_COLUMNS)
        .order_by(PointRule.kind)
        .order_by(PointRule.series)
        .order_by(PointRule.version)
    )
    if not history:
        query = query.where(PointRule.replaced_by.is_null())
    return [rule_out(row) for row in await query]


async def rule_get(rule_id: int) -> RuleOut:
    row = await PointRule.select(*_COLUMNS).where(PointRule.id == rule_id).first()
    if row is None:
        raise NotFound()
    return rule_out(row)
