"""The two presets HR can start from: 学分制 (annual credit) and 激励积分 (engagement).

Applying a preset is idempotent: a kind whose organisation-wide rule already says what the preset
says is left alone; a kind without one gets a rule in force from 1 January of the year; a kind whose
rule says something else gets a new version from today (history stays). Targets are set per level.
"""

from __future__ import annotations

import datetime as dt
import functools
import operator
from dataclasses import dataclass, field
from typing import Any

from backend.lib.db import write_transaction
from backend.lib.errors import NotFound, ValidationFailed
from backend.lib.policy import Actor
from backend.org.tables import JobLevel
from backend.points.access import points_admin_check
from backend.points.facts import LOCK_RULES, org_today, utc_now, xact_lock
from backend.points.rulebook import RuleTerms, rule_insert
from backend.points.rules import (
    CATEGORY_COURSE,
    CATEGORY_EXAM,
    CATEGORY_MENTORING,
    CATEGORY_REFLECTION,
    CATEGORY_SHARING,
    KIND_COURSE_COMPLETED,
    KIND_COURSE_PUBLISHED,
    KIND_EXAM_PASSED,
    KIND_MENTORING,
    KIND_REFLECTION_EXCELLENT,
    KIND_REFLECTION_SUBMITTED,
    KIND_SHARING_SESSION,
    KIND_WORKSHOP_ATTENDED,
    Scope,
)
from backend.points.schemas import PresetOut
from backend.points.tables import PointRule, PointSettings, PointTarget

PRESET_CREDIT = "credit"  # 学分制
PRESET_ENGAGEMENT = "engagement"  # 激励积分
# Levels the credit preset's target is for when HR names none: middle managers.
MIDDLE_MANAGER_MARKERS = ("主管", "经理")


@dataclass(frozen=True)
class PresetRule:
    kind: str
    category: str
    points: int


@dataclass(frozen=True)
class Preset:
    name: str
    rules: tuple[PresetRule, ...]
    target_total: int | None = None
    target_mix: dict[str, int] = field(default_factory=dict)


PRESETS = {
    PRESET_CREDIT: Preset(
        name=PRESET_CREDIT,
        rules=(
            PresetRule(KIND_COURSE_COMPLETED, CATEGORY_COURSE, 2),  # per hour of video
            PresetRule(KIND_WORKSHOP_ATTENDED, CATEGORY_COURSE, 5),  # a workshop counts as a course
            PresetRule(KIND_EXAM_PASSED, CATEGORY_EXAM, 10),
            PresetRule(KIND_SHARING_SESSION, CATEGORY_SHARING, 15),
            PresetRule(KIND_MENTORING, CATEGORY_MENTORING, 20),
        ),
        target_total=100,
        target_mix={CATEGORY_COURSE: 40, CATEGORY_EXAM: 30, CATEGORY_SHARING: 20, CATEGORY_MENTORING: 10},
    ),
    PRESET_ENGAGEMENT: Preset(
        name=PRESET_ENGAGEMENT,
        rules=(
            PresetRule(KIND_REFLECTION_SUBMITTED, CATEGORY_REFLECTION, 50),
            PresetRule(KIND_REFLECTION_EXCELLENT, CATEGORY_REFLECTION, 100),
            PresetRule(KIND_COURSE_PUBLISHED, CATEGORY_SHARING, 20),
        ),
    ),
}


def _same(row: dict[str, Any], rule: PresetRule) -> bool:
    return (
        row["active"]
        and row["points"] == rule.points
        and row["category"] == rule.category
        and row["effective_to"] is None
        and row["cap_day"] is None
        and row["cap_month"] is None
        and row["cap_year"] is None
        and row["cooldown_minutes"] == 0
    )


async def _rule_apply(rule: PresetRule, *, actor_id: int | None, year: int) -> str:
    """created | changed | unchanged."""
    current = (
        await PointRule.select()
        .where(
            (PointRule.kind == rule.kind)
            & PointRule.department.is_null()
            & PointRule.position.is_null()
            & PointRule.level.is_null()
            & PointRule.replaced_by.is_null()
        )
        .order_by(PointRule.id, ascending=False)
        .first()
    )
    if current is not None and _same(current, rule):
        return "unchanged"
    starts = dt.date(year, 1, 1) if current is None else max(org_today(), current["effective_from"])
    terms = RuleTerms(points=rule.points, category=rule.category, effective_from=starts)
    await rule_insert(
        actor_id=actor_id,
        kind=rule.kind,
        scope=Scope(),
        terms=terms,
        replaces=dict(current) if current else None,
    )
    return "created" if current is None else "changed"


async def _middle_manager_levels() -> list[int]:
    condition = functools.reduce(
        operator.or_, (JobLevel.name.like(f"%{marker}%") for marker in MIDDLE_MANAGER_MARKERS)
    )
    return [row["id"] for row in await JobLevel.select(JobLevel.id).where(condition).order_by(JobLevel.rank)]


async def _target_set(
    *, year: int, level_id: int, total: int, mix: dict[str, int], actor_id: int | None
) -> None:
    existing = (
        await PointTarget.select(PointTarget.id)
        .where(
            (PointTarget.year == year)
            & PointTarget.department.is_null()
            & PointTarget.position.is_null()
            & (PointTarget.level == level_id)
        )
        .first()
    )
    if existing is None:
        await PointTarget.insert(
            PointTarget(year=year, level=level_id, total=total, mix=mix, created_by=actor_id)
        )
    else:
        await PointTarget.update(
            {PointTarget.total: total, PointTarget.mix: mix, PointTarget.updated_at: utc_now()}
        ).where(PointTarget.id == existing["id"])


async def preset_apply(
    *, actor: Actor | None, name: str, target_level_ids: list[int] | None = None, year: int | None = None
) -> PresetOut:
    """Apply a preset's rules (and its targets, for the levels given or the middle managers) — HR."""
    actor = points_admin_check(actor)
    preset = PRESETS.get(name)
    if preset is None:
        raise NotFound()
    year = year or org_today().year
    counts = {"created": 0, "changed": 0, "unchanged": 0}
    targets = 0
    async with write_transaction(PointRule):
        await xact_lock(LOCK_RULES, 0)
        for rule in preset.rules:
            counts[await _rule_apply(rule, actor_id=actor.employee_id, year=year)] += 1
        if preset.target_total is not None:
            if target_level_ids is None:
                level_ids = await _middle_manager_levels()
            else:
                level_ids = list(dict.fromkeys(target_level_ids))
                known = await JobLevel.count().where(JobLevel.id.is_in(level_ids or [0]))
                if known != len(level_ids):
                    raise ValidationFailed("error.points_scope_unknown", field="target_level_ids")
            for level_id in level_ids:
                await _target_set(
                    year=year,
                    level_id=level_id,
                    total=preset.target_total,
                    mix=preset.target_mix,
                    actor_id=actor.employee_id,
                )
                targets += 1
        await _settings_preset(preset.name, actor.employee_id)
    return PresetOut(
        name=preset.name,
        rules_created=counts["created"],
        rules_changed=counts["changed"],
        rules_unchanged=counts["unchanged"],
        targets_set=targets,
    )


async def _settings_preset(name: str, actor_id: int | None) -> None:
    row = await PointSettings.select(PointSettings.id).order_by(PointSettings.id).first()
    if row is None:
        await PointSettings.insert(PointSettings(preset=name, updated_by=actor_id))
    else:
        await PointSettings.update(
            {
                PointSettings.preset: name,
                PointSettings.updated_by: actor_id,
                PointSettings.updated_at: utc_now(),
            }
        ).where(PointSettings.id == row["id"])
