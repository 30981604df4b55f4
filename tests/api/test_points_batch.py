"""Batch awards on SQLite and PostgreSQL: `ledger_award_batch` gives the statuses, points and ledger
that `ledger.award` gives called once per request in order (a property test), and its bounds."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from backend.events.tables import OutboxEvent
from backend.lib.db import engine_bind, engine_close, engine_create, engine_open
from backend.lib.errors import NotFound, ValidationFailed
from backend.org.tables import Department, Employee
from backend.points.facts import org_today, org_zone
from backend.points.ledger import award, year_totals_rebuild
from backend.points.ledger_batch import BATCH_MAX, AwardRequest, ledger_award_batch
from backend.points.rulebook import RuleTerms, rule_insert
from backend.points.rules import KIND_COURSE_COMPLETED, Scope
from backend.points.tables import LedgerEntry, PointYearTotal
from backend.settings import Settings
from tests.conftest import AppClient, login

pytestmark = pytest.mark.usefixtures("backend_name", "points_clean")

BASE_DAY = dt.date(2025, 3, 10)  # rule version 1 until BASE_DAY + 1, version 2 from BASE_DAY + 2
KINDS = 3  # ruled kinds per example; index 3 has no rule, index 4 is course_completed (per hour)

RULED = st.fixed_dictionaries(
    {
        "points": st.integers(min_value=0, max_value=12),
        "points_v2": st.integers(min_value=1, max_value=12),
        "cap_day": st.none() | st.integers(min_value=1, max_value=20),
        "cap_month": st.none() | st.integers(min_value=5, max_value=40),
        "cooldown": st.sampled_from([0, 0, 30, 180]),
        "department_points": st.none() | st.integers(min_value=1, max_value=9),
    }
)
REQUEST = st.tuples(
    st.integers(min_value=0, max_value=2),  # person
    st.integers(min_value=0, max_value=KINDS + 1),  # kind
    st.integers(min_value=0, max_value=7),  # source key
    st.integers(min_value=0, max_value=3),  # day after BASE_DAY
    st.integers(min_value=0, max_value=23 * 12).map(lambda n: n * 5),  # minutes into the day
    st.sampled_from([1.0, 0.1, 0.5, 2.25]),  # quantity (hours, for course_completed)
)


async def _rules(prefix: str, ruled: list[dict[str, Any]], department: Scope) -> None:
    for index, terms in enumerate(ruled):
        kind = f"{prefix}_k{index}"
        common = {"cap_day": terms["cap_day"], "cap_month": terms["cap_month"]}
        common["cooldown_minutes"] = terms["cooldown"]
        await rule_insert(
            actor_id=None,
            kind=kind,
            scope=Scope(),
            terms=RuleTerms(
                points=terms["points"],
                category="other",
                effective_from=BASE_DAY - dt.timedelta(days=30),
                effective_to=BASE_DAY + dt.timedelta(days=1),
                **common,
            ),
        )
        await rule_insert(
            actor_id=None,
            kind=kind,
            scope=Scope(),
            terms=RuleTerms(
                points=terms["points_v2"],
                category="exam",
                effective_from=BASE_DAY + dt.timedelta(days=2),
                **common,
            ),
        )
        if terms["department_points"] is not None:
            await rule_insert(
                actor_id=None,
                kind=kind,
                scope=department,
                terms=RuleTerms(
                    points=terms["department_points"],
                    category="sharing",
                    effective_from=BASE_DAY - dt.timedelta(days=30),
                    **common,
                ),
            )


def _requests(prefix: str, people: list[int], drawn: list[tuple[int, ...]]) -> list[AwardRequest]:
    zone = org_zone()
    requests = []
    for person, kind, key, day, minutes, quantity in drawn:
        local = dt.datetime.combine(BASE_DAY + dt.timedelta(days=day), dt.time(), tzinfo=zone)
        name = KIND_COURSE_COMPLETED if kind == KINDS + 1 else f"{prefix}_k{kind}"
        requests.append(
            AwardRequest(
                employee_id=people[person],
                kind=name,
                source_key=f"batch:{prefix}:{key}",
                occurred_at=local + dt.timedelta(minutes=minutes),
                actor_id=None,
                quantity=quantity,
                note=f" note {key} ",
            )
        )
    return requests


async def _ledger(prefix: str) -> list[tuple[Any, ...]]:
    rows = await LedgerEntry.select().where(LedgerEntry.source_key.like(f"batch:{prefix}:%"))
    return sorted(
        (
            row["employee"],
            row["kind"].removeprefix(prefix),
            row["category"],
            row["points"],
            row["quantity"],
            row["source_key"].removeprefix(f"batch:{prefix}:"),
            row["rule_version"],
            row["occurred_at"],
            row["note"],
        )
        for row in rows
    )


async def _year_totals() -> list[tuple[Any, ...]]:
    rows = await PointYearTotal.select().order_by(PointYearTotal.employee).order_by(PointYearTotal.year)
    return [tuple(value for name, value in row.items() if name != "id") for row in rows]


async def _department_of(employee_id: int) -> dict[str, Any]:
    row = await Employee.select(Employee.department).where(Employee.id == employee_id).first()
    assert row is not None
    found = (
        await Department.select(Department.id, Department.path)
        .where(Department.id == row["department"])
        .first()
    )
    assert found is not None
    return found


def test_a_batch_awards_like_awards_one_by_one(settings: Settings, backend_name: str) -> None:
    """Runs on its own event loop: hypothesis calls the test synchronously, example by example."""
    loop = asyncio.new_event_loop()
    engine = engine_create(settings)
    previous = Employee._meta.db
    run: Callable[[Awaitable[Any]], Any] = loop.run_until_complete
    counter = itertools.count()
    try:
        run(engine_open(engine, settings))
        engine_bind(engine)
        staff = [
            (int(row["id"]), int(row["department"]))
            for row in run(
                Employee.select(Employee.id, Employee.department)
                .where(Employee.department.is_not_null())
                .order_by(Employee.id)
            )
        ]
        first, home = staff[0]
        colleague = next(employee for employee, department in staff[1:] if department == home)
        outsider = next(employee for employee, department in staff if department != home)
        chosen = [first, colleague, outsider]  # a department rule applies to the first two only
        department = run(_department_of(first))
        scope = Scope(department_id=department["id"], department_path=department["path"])
        run(
            rule_insert(
                actor_id=None,
                kind=KIND_COURSE_COMPLETED,
                scope=Scope(),
                terms=RuleTerms(points=2, category="course", effective_from=BASE_DAY - dt.timedelta(days=30)),
            )
        )

        @given(
            ruled=st.lists(RULED, min_size=KINDS, max_size=KINDS),
            drawn=st.lists(REQUEST, min_size=1, max_size=25),
        )
        @hypothesis_settings(
            max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), database=None
        )
        def check(ruled: list[dict[str, Any]], drawn: list[tuple[int, ...]]) -> None:
            n = next(counter)
            one, batch = f"p{n}s", f"p{n}b"
            run(_rules(one, ruled, scope))
            run(_rules(batch, ruled, scope))
            expected = []
            for request in _requests(one, chosen, drawn):
                result = run(
                    award(
                        employee_id=request.employee_id,
                        kind=request.kind,
                        source_key=request.source_key,
                        occurred_at=request.occurred_at,
                        quantity=request.quantity,
                        note=request.note,
                    )
                )
                expected.append(
                    (result.status, result.points, result.rule_id is None, result.entry_id is None)
                )
            got = [
                (result.status, result.points, result.rule_id is None, result.entry_id is None)
                for result in run(ledger_award_batch(_requests(batch, chosen, drawn)))
            ]
            assert got == expected
            assert run(_ledger(batch)) == run(_ledger(one))

        check()
        kept = run(_year_totals())
        run(year_totals_rebuild())
        assert kept == run(_year_totals())  # the batches kept the yearly totals as the ledger says
    finally:
        run(engine_close(engine))
        loop.close()
        engine_bind(previous)


def _request(**values: Any) -> AwardRequest:
    base: dict[str, Any] = {
        "employee_id": 1,
        "kind": "bounds_task",
        "source_key": "bounds:1",
        "occurred_at": dt.datetime(2025, 3, 10, 4, tzinfo=dt.UTC),
    }
    return AwardRequest(**{**base, **values})


async def test_a_batch_is_bounded_and_refused_whole_when_a_request_is_bad() -> None:
    person = int((await Employee.select(Employee.id).order_by(Employee.id).first() or {})["id"])
    await rule_insert(
        actor_id=None,
        kind="bounds_task",
        scope=Scope(),
        terms=RuleTerms(points=3, category="other", effective_from=dt.date(2025, 1, 1)),
    )
    with pytest.raises(ValidationFailed):
        await ledger_award_batch([])
    with pytest.raises(ValidationFailed):
        await ledger_award_batch(
            [_request(employee_id=person, source_key=f"b:{n}") for n in range(BATCH_MAX + 1)]
        )
    good = _request(employee_id=person, source_key="bounds:good")
    for bad in (
        _request(employee_id=person, occurred_at=dt.datetime(2025, 3, 10, 4)),
        _request(employee_id=person, quantity=0),
        _request(employee_id=person, kind="redemption_hold"),
        _request(employee_id=person, source_key=""),
    ):
        with pytest.raises(ValidationFailed):
            await ledger_award_batch([good, bad])
    with pytest.raises(NotFound):
        await ledger_award_batch([good, _request(employee_id=10**9, source_key="bounds:nobody")])
    assert not await LedgerEntry.exists().where(LedgerEntry.source_key == "bounds:good")
    results = await ledger_award_batch([good, good])
    assert [r.status for r in results] == ["awarded", "duplicate"]
    assert results[0].points == 3


async def _employee_named(name: str) -> int:
    row = await Employee.select(Employee.id).where(Employee.name == name).first()
    assert row is not None
    return int(row["id"])


async def _others(count: int, *, besides: list[int]) -> list[int]:
    rows = await Employee.select(Employee.id).where(Employee.id.not_in(besides)).order_by(Employee.id)
    return [int(row["id"]) for row in rows[:count]]


async def _bulk(
    client: AppClient, employee_ids: list[int], kind: str = "workshop_attended", **body: Any
) -> Any:
    payload = {"employee_ids": employee_ids, "kind": kind, "occurred_on": org_today().isoformat(), **body}
    return await client.post("/api/v1/points/awards/bulk", json=payload)


async def test_hr_awards_a_workshop_to_its_attendees_once(client: AppClient) -> None:
    await login(client, "hr")
    assert (await client.post("/api/v1/points/presets/credit/apply")).status_code == 200
    zhang, hr = await _employee_named("张丽华"), await _employee_named("刘芳")
    attendees = [zhang, *await _others(3, besides=[zhang, hr])]
    first = await _bulk(client, attendees, note="销售技巧工作坊")
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["awarded"] == 4
    assert [row["employee_id"] for row in body["results"]] == attendees
    assert {(row["status"], row["points"]) for row in body["results"]} == {("awarded", 5)}
    again = await _bulk(client, [*attendees, zhang], note="销售技巧工作坊")  # a double submit
    assert again.status_code == 200 and again.json()["awarded"] == 0
    assert {row["status"] for row in again.json()["results"]} == {"duplicate"}
    assert [row["source_key"] for row in again.json()["results"][:4]] == [
        row["source_key"] for row in body["results"]
    ]
    single = await client.post(  # the same form for one person: the same source key
        "/api/v1/points/awards",
        json={
            "employee_id": zhang,
            "kind": "workshop_attended",
            "occurred_on": org_today().isoformat(),
            "note": "销售技巧工作坊",
        },
    )
    assert single.status_code == 200 and single.json()["status"] == "duplicate"
    events = await OutboxEvent.count().where(OutboxEvent.kind == "points.credited")
    assert events == 4
    await login(client, "zhang")
    me = (await client.get("/api/v1/points/me")).json()
    assert (me["balance"], me["year_total"], me["by_category"]["course"]) == (5, 5, 5)


async def test_bulk_awards_give_per_person_statuses(client: AppClient) -> None:
    await login(client, "hr")
    zhang, hr = await _employee_named("张丽华"), await _employee_named("刘芳")
    home = await Employee.select(Employee.department).where(Employee.id == zhang).first()
    assert home is not None
    rule = await client.post(
        "/api/v1/points/rules",
        json={"kind": "safety_drill", "points": 8, "department_id": home["department"], "cap_day": 8},
    )
    assert rule.status_code == 201, rule.text
    outsider = (
        await Employee.select(Employee.id)
        .where((Employee.department != home["department"]) & (Employee.id != hr))
        .first()
    )
    assert outsider is not None
    response = await _bulk(client, [zhang, outsider["id"]], "safety_drill", note="上午")
    assert response.status_code == 201, response.text
    assert [(row["status"], row["points"]) for row in response.json()["results"]] == [
        ("awarded", 8),
        ("no_rule", 0),
    ]
    capped = await _bulk(client, [zhang], "safety_drill", note="下午")
    assert capped.status_code == 200 and capped.json()["results"][0]["status"] == "capped"
    nobody = await _bulk(client, [outsider["id"]], "safety_drill", note="下午")
    assert nobody.status_code == 422 and nobody.json()["error"]["code"] == "points_no_rule"


async def test_bulk_awards_refuse_what_a_manual_award_refuses(client: AppClient) -> None:
    zhang, hr = await _employee_named("张丽华"), await _employee_named("刘芳")
    await login(client, "manager")
    assert (await _bulk(client, [zhang])).status_code == 403
    await login(client, "hr")
    assert (await client.post("/api/v1/points/presets/credit/apply")).status_code == 200
    assert (await _bulk(client, [zhang, hr])).status_code == 403  # not to oneself
    automatic = await _bulk(client, [zhang], "reflection_submitted")
    assert automatic.status_code == 422 and automatic.json()["error"]["code"] == "points_kind_automatic"
    tomorrow = (org_today() + dt.timedelta(days=1)).isoformat()
    assert (await _bulk(client, [zhang], occurred_on=tomorrow)).status_code == 422
    assert (await _bulk(client, [zhang, 999_999])).status_code == 404
    assert (await _bulk(client, [])).status_code == 400
    assert (await _bulk(client, list(range(1, BATCH_MAX + 2)))).status_code == 400
    assert (await _bulk(client, [zhang], "BAD KIND")).status_code == 422
    assert not await LedgerEntry.exists()
