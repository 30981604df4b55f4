"""The points ledger on real SQLite and PostgreSQL: exactly-once awards, caps, cooldowns, rule
versions and specificity, reversals, and a ledger that refuses UPDATE and DELETE."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest
from piccolo.querystring import QueryString

from backend.lib.db import write_transaction
from backend.lib.errors import NotFound, PermissionDenied, ValidationFailed
from backend.org.tables import Department, Employee
from backend.points.ledger import (
    STATUS_CAPPED,
    STATUS_COOLDOWN,
    STATUS_NO_RULE,
    STATUS_PARTIAL,
    award,
    balance,
    by_category,
    ledger_award,
    ledger_reverse,
    year_total,
)
from backend.points.rulebook import RuleTerms, rule_create, rule_list, rule_version_create
from backend.points.tables import LedgerEntry, PointRule
from tests.ui.harness import actor_named

pytestmark = pytest.mark.usefixtures("backend_name", "points_clean")

JAN_1 = dt.date(2026, 1, 1)
AT = dt.datetime(2026, 6, 1, 2, tzinfo=dt.UTC)  # 10:00 in Shanghai


async def employee_id(username_name: str) -> int:
    row = await Employee.select(Employee.id).where(Employee.name == username_name).first()
    assert row is not None
    return int(row["id"])


async def zhang_id() -> int:
    return await employee_id("张丽华")


async def department_id(name: str) -> int:
    row = await Department.select(Department.id).where(Department.name == name).first()
    assert row is not None
    return int(row["id"])


async def a_rule(kind: str = "safety_drill", points: int = 30, **terms: Any) -> int:
    hr = await actor_named("hr")
    scope = {key: terms.pop(key) for key in ("department_id", "position_id", "level_id") if key in terms}
    terms.setdefault("effective_from", JAN_1)
    return await rule_create(actor=hr, kind=kind, terms=RuleTerms(points=points, **terms), **scope)


async def entries(employee: int) -> list[dict[str, Any]]:
    return [dict(row) for row in await LedgerEntry.select().where(LedgerEntry.employee == employee)]


async def test_an_award_is_written_once_per_source_key() -> None:
    await a_rule()
    zhang = await zhang_id()
    first = await ledger_award(employee_id=zhang, kind="safety_drill", source_key="drill:1", occurred_at=AT)
    again = await ledger_award(employee_id=zhang, kind="safety_drill", source_key="drill:1", occurred_at=AT)
    assert first is not None and again is None
    assert await balance(zhang) == 30 and len(await entries(zhang)) == 1
    row = (await entries(zhang))[0]
    assert row["category"] == "other" and row["rule_version"] == 1 and row["actor"] is None


async def test_concurrent_duplicates_make_one_entry() -> None:
    await a_rule()
    zhang = await zhang_id()
    results = await asyncio.gather(
        *(
            ledger_award(employee_id=zhang, kind="safety_drill", source_key="drill:race", occurred_at=AT)
            for _ in range(6)
        )
    )
    assert sum(result is not None for result in results) == 1
    assert await balance(zhang) == 30 and len(await entries(zhang)) == 1


async def test_an_award_inside_the_callers_transaction_commits_or_rolls_back_with_it() -> None:
    await a_rule()
    zhang = await zhang_id()
    with pytest.raises(RuntimeError):
        async with write_transaction(LedgerEntry):
            assert await ledger_award(
                employee_id=zhang, kind="safety_drill", source_key="tx:1", occurred_at=AT
            )
            raise RuntimeError("the source's transaction fails")
    assert await balance(zhang) == 0
    async with write_transaction(LedgerEntry):
        assert await ledger_award(employee_id=zhang, kind="safety_drill", source_key="tx:1", occurred_at=AT)
        # a duplicate inside the same transaction is harmless too (no aborted transaction on PostgreSQL)
        assert (
            await ledger_award(employee_id=zhang, kind="safety_drill", source_key="tx:1", occurred_at=AT)
            is None
        )
        assert await balance(zhang) == 30
    assert await balance(zhang) == 30


async def test_caps_award_what_remains_then_nothing_per_local_day() -> None:
    await a_rule(cap_day=50, cap_year=80)
    zhang = await zhang_id()

    async def drill(key: str, at: dt.datetime) -> Any:
        return await award(employee_id=zhang, kind="safety_drill", source_key=key, occurred_at=at)

    assert (await drill("d:1", AT)).points == 30
    second = await drill("d:2", AT + dt.timedelta(hours=1))
    assert second.status == STATUS_PARTIAL and second.points == 20
    assert (await drill("d:3", AT + dt.timedelta(hours=2))).status == STATUS_CAPPED
    # 00:30 the next day in Shanghai (16:30 UTC) is a new day; the year cap leaves 30
    next_day = dt.datetime(2026, 6, 1, 16, 30, tzinfo=dt.UTC)
    assert (await drill("d:4", next_day)).points == 30
    assert (await drill("d:5", next_day + dt.timedelta(hours=1))).status == STATUS_CAPPED
    assert await balance(zhang) == 80
    # a reversal makes room again
    await ledger_reverse(source_key="d:1", reason="录入错误", actor_id=None)
    assert (await drill("d:6", AT + dt.timedelta(hours=3))).points == 30
    assert await year_total(zhang, 2026) == 80


async def test_concurrent_awards_under_a_cap_never_pass_it() -> None:
    await a_rule(cap_day=50)
    zhang = await zhang_id()
    results = await asyncio.gather(
        *(
            award(employee_id=zhang, kind="safety_drill", source_key=f"cap:{n}", occurred_at=AT)
            for n in range(5)
        )
    )
    assert sorted(result.points for result in results) == [0, 0, 0, 20, 30]
    assert await balance(zhang) == 50


async def test_cooldown_refuses_awards_too_close_together() -> None:
    await a_rule(cooldown_minutes=60)
    zhang = await zhang_id()
    assert (
        await award(employee_id=zhang, kind="safety_drill", source_key="c:1", occurred_at=AT)
    ).points == 30
    soon = await award(
        employee_id=zhang, kind="safety_drill", source_key="c:2", occurred_at=AT + dt.timedelta(minutes=30)
    )
    assert soon.status == STATUS_COOLDOWN and soon.entry_id is None
    later = await award(
        employee_id=zhang, kind="safety_drill", source_key="c:3", occurred_at=AT + dt.timedelta(minutes=61)
    )
    assert later.points == 30


async def test_the_most_specific_rule_applies_and_rule_versions_keep_history() -> None:
    hr = await actor_named("hr")
    global_rule = await a_rule("exam_passed", 10)
    await a_rule("exam_passed", 20, department_id=await department_id("销售部"))
    east = await a_rule("exam_passed", 30, department_id=await department_id("华东大区"))
    zhang, wang = await zhang_id(), await employee_id("王磊")
    await ledger_award(employee_id=zhang, kind="exam_passed", source_key="e:z1", occurred_at=AT)
    await ledger_award(employee_id=wang, kind="exam_passed", source_key="e:w1", occurred_at=AT)
    assert (await balance(zhang), await balance(wang)) == (30, 10)
    assert (await by_category(zhang, 2026))["exam"] == 30

    # A change from 1 July: a new version; June awards keep the old terms, July ones the new.
    v2 = await rule_version_create(
        actor=hr, rule_id=east, terms=RuleTerms(points=40, effective_from=dt.date(2026, 7, 1))
    )
    await ledger_award(employee_id=zhang, kind="exam_passed", source_key="e:z2", occurred_at=AT)
    july = dt.datetime(2026, 7, 2, tzinfo=dt.UTC)
    await ledger_award(employee_id=zhang, kind="exam_passed", source_key="e:z3", occurred_at=july)
    rows = {row["source_key"]: row for row in await entries(zhang)}
    assert (rows["e:z2"]["points"], rows["e:z2"]["rule_version"]) == (30, 1)
    assert (rows["e:z3"]["points"], rows["e:z3"]["rule_version"], rows["e:z3"]["rule"]) == (40, 2, v2)
    old = await PointRule.select().where(PointRule.id == east).first()
    assert old is not None and old["replaced_by"] == v2 and old["effective_to"] == dt.date(2026, 6, 30)
    assert old["points"] == 30  # the old version's terms are untouched
    current = await rule_list(actor=hr)
    assert {rule.id for rule in current if rule.kind == "exam_passed"} >= {global_rule, v2}
    assert east not in {rule.id for rule in current}
    assert {rule.id for rule in await rule_list(actor=hr, history=True)} >= {east, v2}
    # only the current version can be changed
    with pytest.raises(Exception, match="points_rule_replaced"):
        await rule_version_create(actor=hr, rule_id=east, terms=RuleTerms(points=1))


async def test_equal_specificity_overlaps_are_refused_with_the_conflict_named() -> None:
    sales = await department_id("销售部")
    first = await a_rule("mentoring", 20, department_id=sales, effective_to=dt.date(2026, 12, 31))
    with pytest.raises(ValidationFailed) as refused:
        await a_rule("mentoring", 25, department_id=sales)
    assert refused.value.key == "error.points_rule_conflict" and refused.value.status_code == 422
    assert refused.value.params == {"rule_id": first, "kind": "mentoring", "version": 1}
    # a sibling subtree, a deeper department, or dates that do not overlap are fine
    await a_rule("mentoring", 25, department_id=await department_id("研发部"))
    await a_rule("mentoring", 25, department_id=await department_id("华东大区"))
    await a_rule("mentoring", 25, department_id=sales, effective_from=dt.date(2027, 1, 1))
    # a level rule and a position rule are equally specific and could meet in one person
    zhang = await Employee.select(Employee.level, Employee.position).where(Employee.name == "张丽华").first()
    assert zhang is not None
    level_rule = await a_rule("sharing_session", 15, level_id=zhang["level"])
    with pytest.raises(ValidationFailed) as refused:
        await a_rule("sharing_session", 18, position_id=zhang["position"])
    assert refused.value.params["rule_id"] == level_rule


@pytest.mark.parametrize(
    ("terms", "field"),
    [
        ({"points": -5}, "points"),
        ({"points": 1_000_000}, "points"),
        ({"points": 10, "cap_day": 0}, "cap_day"),
        ({"points": 10, "cooldown_minutes": -1}, "cooldown_minutes"),
        ({"points": 10, "category": "money"}, "category"),
        (
            {"points": 10, "effective_from": dt.date(2026, 6, 1), "effective_to": dt.date(2026, 5, 1)},
            "effective_to",
        ),
    ],
)
async def test_bad_rules_are_refused(terms: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        await rule_create(actor=await actor_named("hr"), kind="exam_passed", terms=RuleTerms(**terms))
    assert refused.value.status_code == 422 and refused.value.field == field


async def test_only_hr_writes_rules() -> None:
    for username in ("zhang", "manager", "trainer"):
        with pytest.raises(PermissionDenied):
            await rule_create(
                actor=await actor_named(username), kind="exam_passed", terms=RuleTerms(points=5)
            )


async def test_effective_dates_bound_awards() -> None:
    await a_rule(effective_from=dt.date(2026, 7, 1))
    zhang = await zhang_id()
    early = await award(employee_id=zhang, kind="safety_drill", source_key="x:1", occurred_at=AT)
    assert early.status == STATUS_NO_RULE and await balance(zhang) == 0


async def test_a_reversal_compensates_once() -> None:
    await a_rule()
    zhang = await zhang_id()
    entry = await ledger_award(employee_id=zhang, kind="safety_drill", source_key="r:1", occurred_at=AT)
    reversal = await ledger_reverse(source_key="r:1", reason="删除了心得", actor_id=None)
    assert reversal is not None and await balance(zhang) == 0
    assert await ledger_reverse(source_key="r:1", reason="again", actor_id=None) is None
    assert await balance(zhang) == 0 and len(await entries(zhang)) == 2
    row = next(row for row in await entries(zhang) if row["id"] == reversal)
    assert (row["points"], row["reverses"], row["source_key"]) == (-30, entry, "reverse:r:1")
    with pytest.raises(ValidationFailed):
        await ledger_reverse(source_key="reverse:r:1", reason="undo the undo", actor_id=None)
    with pytest.raises(NotFound):
        await ledger_reverse(source_key="nothing:here", reason="?", actor_id=None)
    # a re-award of the same source after its reversal earns nothing
    assert (
        await ledger_award(employee_id=zhang, kind="safety_drill", source_key="r:1", occurred_at=AT) is None
    )


async def test_the_ledger_refuses_update_and_delete() -> None:
    await a_rule()
    zhang = await zhang_id()
    entry = await ledger_award(employee_id=zhang, kind="safety_drill", source_key="t:1", occurred_at=AT)
    engine = LedgerEntry._meta.db
    for sql in (
        "UPDATE ledger_entry SET points = 1000 WHERE id = {}",
        "DELETE FROM ledger_entry WHERE id = {}",
    ):
        with pytest.raises(Exception, match="append-only"):
            await engine.run_querystring(QueryString(sql, entry))
    assert await balance(zhang) == 30


async def test_awards_need_an_aware_time_and_a_sane_key() -> None:
    await a_rule()
    zhang = await zhang_id()
    with pytest.raises(ValidationFailed):
        await ledger_award(
            employee_id=zhang, kind="safety_drill", source_key="n:1", occurred_at=dt.datetime(2026, 6, 1)
        )
    with pytest.raises(ValidationFailed):
        await ledger_award(employee_id=zhang, kind="safety_drill", source_key="k" * 191, occurred_at=AT)
    with pytest.raises(NotFound):
        await ledger_award(employee_id=999_999, kind="safety_drill", source_key="n:2", occurred_at=AT)


async def test_ledgers_are_read_within_scope() -> None:
    from backend.points.selectors import ledger_page

    await a_rule()
    zhang, wang = await zhang_id(), await employee_id("王磊")
    await ledger_award(employee_id=zhang, kind="safety_drill", source_key="s:1", occurred_at=AT)
    manager, hr = await actor_named("manager"), await actor_named("hr")
    assert (await ledger_page(actor=manager, employee_id=zhang)).total == 1  # 销售部 manages 华东大区
    assert (await ledger_page(actor=hr, employee_id=zhang)).total == 1
    assert (await ledger_page(actor=await actor_named("zhang"))).total == 1
    for actor, someone in (
        (manager, wang),
        (await actor_named("wang"), zhang),
        (await actor_named("trainer"), zhang),
    ):
        with pytest.raises(NotFound):
            await ledger_page(actor=actor, employee_id=someone)
