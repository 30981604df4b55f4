"""The points API: my points and ledger, HR's rules, presets, manual awards and reversals, and who
may do what — on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from backend.org.tables import EMPLOYEE_ACTIVE, Department, Employee
from backend.points.facts import org_today
from tests.conftest import AppClient, login

pytestmark = pytest.mark.usefixtures("backend_name", "points_clean")

CATEGORIES = {"course", "exam", "sharing", "mentoring", "workshop", "reflection", "other"}


async def employee_named(name: str) -> int:
    row = await Employee.select(Employee.id).where(Employee.name == name).first()
    assert row is not None
    return int(row["id"])


async def colleague_of_zhang() -> int:
    east = await Department.select(Department.id).where(Department.name == "华东大区").first()
    assert east is not None
    row = (
        await Employee.select(Employee.id)
        .where(
            (Employee.department == east["id"])
            & (Employee.name != "张丽华")
            & (Employee.status == EMPLOYEE_ACTIVE)
        )
        .first()
    )
    assert row is not None
    return int(row["id"])


async def as_hr_with_credit(client: AppClient) -> None:
    await login(client, "hr")
    response = await client.post("/api/v1/points/presets/credit/apply")
    assert response.status_code == 200, response.text


async def manual(client: AppClient, employee_id: int, kind: str = "workshop_attended", **body: Any) -> Any:
    payload = {"employee_id": employee_id, "kind": kind, "occurred_on": org_today().isoformat(), **body}
    return await client.post("/api/v1/points/awards", json=payload)


async def test_my_points_start_empty(client: AppClient) -> None:
    await login(client, "zhang")
    me = (await client.get("/api/v1/points/me")).json()
    assert set(me) == {
        "balance",
        "year",
        "year_total",
        "target",
        "by_category",
        "rank_in_department",
        "rank_in_organisation",
        "anonymous",
    }
    assert (me["balance"], me["year_total"], me["target"]) == (0, 0, None)
    assert set(me["by_category"]) == CATEGORIES and not any(me["by_category"].values())
    assert me["rank_in_department"] == me["rank_in_organisation"] == 1  # everyone at 0 shares the first place
    assert me["anonymous"] is False
    ledger = (await client.get("/api/v1/points/ledger")).json()
    assert (ledger["items"], ledger["total"], ledger["page"], ledger["pages"]) == ([], 0, 1, 1)


async def test_awards_show_in_my_points_rank_and_ledger(client: AppClient) -> None:
    await as_hr_with_credit(client)
    zhang, colleague = await employee_named("张丽华"), await colleague_of_zhang()
    assert (await manual(client, zhang, note="销售技巧工作坊")).status_code == 201
    assert (await manual(client, zhang, "exam_passed", note="产品知识考试")).status_code == 201
    assert (await manual(client, colleague, "mentoring", note="带教新人")).status_code == 201

    await login(client, "zhang")
    me = (await client.get("/api/v1/points/me")).json()
    assert (me["balance"], me["year_total"], me["year"]) == (15, 15, org_today().year)
    assert me["by_category"]["course"] == 5 and me["by_category"]["exam"] == 10
    assert me["rank_in_department"] == 2  # the colleague has 20
    ledger = (await client.get("/api/v1/points/ledger")).json()
    assert [item["kind"] for item in ledger["items"]] == ["exam_passed", "workshop_attended"]  # newest first
    assert set(ledger["items"][0]) == {
        "id",
        "kind",
        "category",
        "points",
        "occurred_at",
        "created_at",
        "note",
        "reverses_id",
        "rule_version",
    }
    assert ledger["items"][0]["note"] == "产品知识考试"

    await login(client, "manager")  # M2 经理: the credit preset's middle-manager target
    me = (await client.get("/api/v1/points/me")).json()
    assert me["target"] == 100 and me["balance"] == 0


async def test_a_double_submitted_manual_award_counts_once(client: AppClient) -> None:
    await as_hr_with_credit(client)
    zhang = await employee_named("张丽华")
    first = await manual(client, zhang, note="季度分享")
    second = await manual(client, zhang, note="季度分享")
    assert first.status_code == 201 and first.json()["status"] == "awarded"
    assert second.status_code == 200 and second.json()["status"] == "duplicate"
    assert first.json()["source_key"] == second.json()["source_key"]
    # an explicit key decides; another note is another award
    assert (await manual(client, zhang, note="第二场", source_key="ws-2026-06")).status_code == 201
    assert (await manual(client, zhang, note="第二场 again", source_key="ws-2026-06")).status_code == 200
    assert (await manual(client, zhang, note="第三场")).status_code == 201
    await login(client, "zhang")
    assert (await client.get("/api/v1/points/me")).json()["balance"] == 15


async def test_manual_awards_refuse_bad_requests(client: AppClient) -> None:
    await as_hr_with_credit(client)
    zhang, hr = await employee_named("张丽华"), await employee_named("刘芳")
    assert (await manual(client, hr)).status_code == 403  # not to oneself
    refused = await manual(client, zhang, "reflection_submitted")
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "points_kind_automatic"
    tomorrow = (org_today() + dt.timedelta(days=1)).isoformat()
    assert (await manual(client, zhang, occurred_on=tomorrow)).status_code == 422
    no_rule = await manual(client, zhang, "safety_drill")
    assert no_rule.status_code == 422 and "safety_drill" in no_rule.json()["error"]["message"]
    assert (await manual(client, 999_999)).status_code == 404
    assert (await manual(client, zhang, "BAD KIND")).status_code == 422


async def test_hr_reverses_an_entry_once(client: AppClient) -> None:
    await as_hr_with_credit(client)
    zhang = await employee_named("张丽华")
    entry_id = (await manual(client, zhang, "exam_passed")).json()["entry_id"]
    reversed_ = await client.post(f"/api/v1/points/entries/{entry_id}/reverse", json={"reason": "成绩作废"})
    assert reversed_.status_code == 200 and reversed_.json()["status"] == "reversed"
    again = await client.post(f"/api/v1/points/entries/{entry_id}/reverse", json={"reason": "成绩作废"})
    assert again.json() == {"status": "already_reversed", "entry_id": None}
    reversal_id = reversed_.json()["entry_id"]
    undo = await client.post(f"/api/v1/points/entries/{reversal_id}/reverse", json={"reason": "撤销冲销"})
    assert undo.status_code == 422
    assert (
        await client.post("/api/v1/points/entries/999999/reverse", json={"reason": "x"})
    ).status_code == 404
    await login(client, "zhang")
    me = (await client.get("/api/v1/points/me")).json()
    assert (me["balance"], me["year_total"]) == (0, 0)
    items = (await client.get("/api/v1/points/ledger")).json()["items"]
    assert [item["points"] for item in items] == [-10, 10] and items[0]["reverses_id"] == entry_id


async def test_hr_manages_rules_over_the_api(client: AppClient) -> None:
    await login(client, "hr")
    created = await client.post(
        "/api/v1/points/rules",
        json={"kind": "safety_drill", "points": 8, "cap_month": 40, "note": "安全演练"},
    )
    assert created.status_code == 201, created.text
    rule = created.json()
    assert (rule["category"], rule["version"], rule["current"], rule["per_hour"]) == ("other", 1, True, False)
    assert rule["effective_from"] == org_today().isoformat()
    changed = await client.post(f"/api/v1/points/rules/{rule['id']}/versions", json={"points": 12})
    assert changed.status_code == 201 and changed.json()["version"] == 2
    current = (await client.get("/api/v1/points/rules")).json()
    assert [(item["kind"], item["points"]) for item in current] == [("safety_drill", 12)]
    history = (await client.get("/api/v1/points/rules", params={"history": "true"})).json()
    assert [item["version"] for item in history] == [1, 2] and history[0]["replaced_by"] == history[1]["id"]

    conflict = await client.post("/api/v1/points/rules", json={"kind": "safety_drill", "points": 9})
    assert conflict.status_code == 422
    assert conflict.json()["error"]["code"] == "points_rule_conflict"
    assert f"#{history[1]['id']}" in conflict.json()["error"]["message"]
    for bad in (
        {"points": -1},
        {"points": 5000},
        {"points": 5, "cap_day": -3},
        {"points": 5, "category": "x"},
    ):
        response = await client.post("/api/v1/points/rules", json={"kind": "exam_passed", **bad})
        assert response.status_code == 422, (bad, response.text)
    unknown_field = await client.post(
        "/api/v1/points/rules", json={"kind": "exam_passed", "points": 5, "x": 1}
    )
    assert unknown_field.status_code == 400
    assert (await client.post("/api/v1/points/presets/bonus/apply")).status_code == 404
    again = (await client.post("/api/v1/points/presets/engagement/apply")).json()
    assert again["rules_created"] == 3
    again = (await client.post("/api/v1/points/presets/engagement/apply", json={})).json()
    assert (again["rules_created"], again["rules_unchanged"]) == (0, 3)


@pytest.mark.parametrize("username", ["zhang", "manager", "trainer"])
async def test_only_hr_configures_awards_and_reverses(client: AppClient, username: str) -> None:
    await login(client, username)
    zhang = await employee_named("张丽华")
    assert (await client.get("/api/v1/points/rules")).status_code == 403
    assert (
        await client.post("/api/v1/points/rules", json={"kind": "exam_passed", "points": 5})
    ).status_code == 403
    assert (await client.post("/api/v1/points/rules/1/versions", json={"points": 5})).status_code == 403
    assert (await client.post("/api/v1/points/presets/credit/apply")).status_code == 403
    assert (await manual(client, zhang)).status_code == 403
    assert (await client.post("/api/v1/points/entries/1/reverse", json={"reason": "x"})).status_code == 403


async def test_points_need_a_signed_in_person(client: AppClient) -> None:
    for path in ("/api/v1/points/me", "/api/v1/points/ledger", "/api/v1/points/rules"):
        assert (await client.get(path)).status_code == 401
