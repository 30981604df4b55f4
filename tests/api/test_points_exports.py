"""Appraisal exports and points settings on SQLite and PostgreSQL: what HR checks in the files — a
person's attainment, percentile, training score with the weight applied, the top 20 % — CSV that
Excel opens with Chinese headers, XLSX that parses, and 403 for everyone but HR and auditors."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import AsyncIterator
from typing import Any

import openpyxl
import pytest
import pytest_asyncio

from backend.accounts.selectors import actor_for_account
from backend.accounts.tables import Account
from backend.lib.db import engine_bind
from backend.lib.errors import PermissionDenied, ValidationFailed
from backend.lib.policy import Actor
from backend.org.tables import EMPLOYEE_ACTIVE, Employee
from backend.points.awards import award_manual
from backend.points.export_routes import PointsExportController
from backend.points.exports import (
    AppraisalRow,
    appraisal_rows,
    percentiles,
    points_settings_get,
    points_settings_set,
)
from backend.points.facts import org_today
from backend.points.ledger import ledger_award
from backend.points.presets import preset_apply
from backend.points.rulebook import RuleTerms, rule_create
from backend.points.targets import target_progress
from backend.settings import Settings
from tests.conftest import AppClient, app_client, login

pytestmark = pytest.mark.usefixtures("backend_name", "points_clean")

EXPORT_PATHS = ("/api/v1/points/exports/appraisal.csv", "/api/v1/points/exports/appraisal.xlsx")
BONUS_PEOPLE = 15  # more than 20 % of the 60 demo people earn something


@pytest_asyncio.fixture(loop_scope="session")
async def client(settings: Settings, db: Any) -> AsyncIterator[AppClient]:
    """The app, with the exports controller registered when backend.app does not yet."""
    async with app_client(settings) as test_client:
        if not any(route.path == "/api/v1/points/settings" for route in test_client.app.routes):
            test_client.app.register(PointsExportController)
        engine_bind(db)
        yield test_client


async def actor_named(username: str) -> Actor:
    row = await Account.select(Account.id).where(Account.username == username).first()
    assert row is not None, username
    actor = await actor_for_account(int(row["id"]))
    assert actor is not None
    return actor


async def earnings() -> dict[str, int]:
    """The manager (李强, M2: 学分制 target 100, course 40 / exam 30 / sharing 20 / mentoring 10) earns
    course 10, exam 30, sharing 30: 70 in all, 60 toward the target. Fifteen colleagues earn 10..150."""
    hr = await actor_named("hr")
    await preset_apply(actor=hr, name="credit")
    manager = await actor_named("manager")
    assert manager.employee_id is not None
    today = org_today()
    plan = ["workshop_attended"] * 2 + ["exam_passed"] * 3 + ["sharing_session"] * 2
    for number, kind in enumerate(plan):
        await award_manual(
            actor=hr, employee_id=manager.employee_id, kind=kind, occurred_on=today, source_key=f"t:{number}"
        )
    accounts = [row["employee"] for row in await Account.select(Account.employee)]
    colleagues = (  # people without a demo account
        await Employee.select(Employee.id, Employee.name)
        .where((Employee.status == EMPLOYEE_ACTIVE) & Employee.id.not_in(accounts))
        .order_by(Employee.id)
        .limit(BONUS_PEOPLE)
    )
    totals = {"李强": 70}
    for index, person in enumerate(colleagues, start=1):
        kind = f"bonus_{index}"
        await rule_create(
            actor=hr, kind=kind, terms=RuleTerms(points=index * 10, effective_from=dt.date(2000, 1, 1))
        )
        await ledger_award(
            employee_id=person["id"], kind=kind, source_key=f"{kind}:1", occurred_at=dt.datetime.now(dt.UTC)
        )
        totals[person["name"]] = index * 10
    return totals


def by_name(rows: list[AppraisalRow], name: str) -> AppraisalRow:
    return next(row for row in rows if row.name == name)


async def test_a_persons_attainment_percentile_and_training_score() -> None:
    totals = await earnings()
    rows = await appraisal_rows(actor=await actor_named("hr"))
    people = await Employee.count().where(Employee.status == EMPLOYEE_ACTIVE)
    assert len(rows) == people == 60
    li = by_name(rows, "李强")
    assert (li.earned, li.target, li.counted, li.attainment_percent) == (70, 100, 60, 60)
    assert (li.by_category["course"], li.by_category["exam"], li.by_category["sharing"]) == (10, 30, 30)
    assert li.by_category["mentoring"] == 0 and li.position == "大客户经理" and li.level == "M2 经理"
    assert li.department == "销售部"
    assert li.training_score == 6.0  # 60 % x the default weight 10
    progress = await target_progress(actor=await actor_named("hr"), employee_id=li.employee_id)
    assert (progress.earned, progress.attainment_percent) == (li.counted, li.attainment_percent)
    above = sum(total > 70 for total in totals.values())  # 80..150: eight people
    assert above == 8
    assert li.percentile == (people - above) * 100 // people == 86
    top = max(rows, key=lambda row: row.earned)
    assert (top.earned, top.percentile, top.target, top.attainment_percent, top.training_score) == (
        150,
        100,
        None,
        None,
        None,
    )
    nobody = by_name(rows, "王磊")  # wang earned nothing
    assert nobody.earned == 0 and nobody.percentile == (people - len(totals)) * 100 // people
    assert not nobody.top20


async def test_the_top_twenty_percent() -> None:
    totals = await earnings()
    rows = await appraisal_rows(actor=await actor_named("hr"))
    flagged = sorted((row.earned, row.name) for row in rows if row.top20)
    # 60 people: those of whom fewer than 12 earned more — 150 down to 50 and 李强's 70 tie with one.
    expected = sorted((total, name) for name, total in totals.items() if total >= 50)
    assert flagged == expected and len(flagged) == 12
    assert percentiles([5, 5, 0, 10]) == [75, 75, 25, 100]


async def test_the_weight_is_a_setting_of_hr() -> None:
    await earnings()
    hr = await actor_named("hr")
    assert (await points_settings_get(actor=hr)).appraisal_weight == 10
    assert (await points_settings_set(actor=hr, appraisal_weight=15)).appraisal_weight == 15
    assert by_name(await appraisal_rows(actor=hr), "李强").training_score == 9.0  # 60 % x 15 / 100
    for wrong in (-1, 101):
        with pytest.raises(ValidationFailed) as refused:
            await points_settings_set(actor=hr, appraisal_weight=wrong)
        assert refused.value.key == "error.points_exports_weight_range"
    for username in ("manager", "zhang"):
        with pytest.raises(PermissionDenied):
            await points_settings_set(actor=await actor_named(username), appraisal_weight=20)
        with pytest.raises(PermissionDenied):
            await appraisal_rows(actor=await actor_named(username))


async def test_settings_api(client: AppClient) -> None:
    await login(client, "hr")
    assert (await client.get("/api/v1/points/settings")).json() == {"appraisal_weight": 10, "preset": ""}
    response = await client.put("/api/v1/points/settings", json={"appraisal_weight": 20})
    assert response.status_code == 200 and response.json()["appraisal_weight"] == 20
    refused = await client.put(
        "/api/v1/points/settings", json={"appraisal_weight": 120}, headers={"Accept-Language": "zh-CN"}
    )
    assert refused.status_code == 422
    assert refused.json()["error"]["message"] == "培训在绩效中的权重须在 0% 到 100% 之间"
    assert refused.json()["error"]["field"] == "appraisal_weight"
    assert (await client.put("/api/v1/points/settings", json={"weight": 20})).status_code == 400


async def test_csv_opens_with_chinese_headers(client: AppClient) -> None:
    await earnings()
    hr = await actor_named("hr")
    await points_settings_set(actor=hr, appraisal_weight=15)
    # A name that would be a formula in Excel stays text.
    await Employee.update({Employee.name: "=HYPERLINK(1)"}).where(Employee.name == "王磊")
    await login(client, "hr")
    year = org_today().year
    response = await client.get(EXPORT_PATHS[0], params={"year": year}, headers={"Accept-Language": "zh-CN"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    disposition = response.headers["content-disposition"]
    assert disposition.startswith(f'attachment; filename="points-appraisal-{year}.csv"')
    assert "filename*=UTF-8''%E7%A7%AF%E5%88%86%E8%80%83%E6%A0%B8" in disposition  # 积分考核
    assert response.content.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs for Chinese
    table = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    header = table[0]
    assert header[:6] == ["工号", "姓名", "部门", "岗位", "职级", "年度积分"]
    assert "课程积分" in header and "目标达成率(%)" in header and "培训得分(权重15%)" in header
    assert len(table) == 61
    li = dict(zip(header, next(row for row in table if row[1] == "李强"), strict=True))
    assert (li["年度积分"], li["年度目标"], li["目标达成率(%)"], li["全员百分位"]) == (
        "70",
        "100",
        "60",
        "86",
    )
    assert (li["培训得分(权重15%)"], li["前20%"], li["考试积分"]) == ("9.0", "是", "30")
    assert any(row[1] == "'=HYPERLINK(1)" for row in table)
    english = await client.get(EXPORT_PATHS[0], headers={"Accept-Language": "en"})
    assert english.content.decode("utf-8-sig").startswith("Employee no.,Name,Department")


async def test_xlsx_parses_with_both_sheets(client: AppClient) -> None:
    totals = await earnings()
    await Employee.update({Employee.name: "=HYPERLINK(1)"}).where(Employee.name == "王磊")
    await login(client, "hr")
    response = await client.get(EXPORT_PATHS[1], headers={"Accept-Language": "zh-CN"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert response.headers["cache-control"] == "no-store"
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["考核", "前20%"]
    everyone = list(workbook["考核"].iter_rows(values_only=True))
    header = list(everyone[0])
    assert header[:2] == ["工号", "姓名"] and workbook["考核"]["A1"].font.b
    assert len(everyone) == 61
    li = dict(zip(header, next(row for row in everyone if row[1] == "李强"), strict=True))
    assert (li["年度积分"], li["目标达成率(%)"], li["全员百分位"], li["培训得分(权重10%)"]) == (70, 60, 86, 6)
    assert any(row[1] == "=HYPERLINK(1)" for row in everyone)  # text, not a formula
    top = list(workbook["前20%"].iter_rows(values_only=True))
    assert top[0] == everyone[0]
    earned = [row[header.index("年度积分")] for row in top[1:]]
    assert earned == sorted((total for total in totals.values() if total >= 50), reverse=True)


@pytest.mark.parametrize("username", ["zhang", "manager"])
async def test_employees_and_managers_get_403(client: AppClient, username: str) -> None:
    await login(client, username)
    for path in (*EXPORT_PATHS, "/api/v1/points/settings"):
        assert (await client.get(path)).status_code == 403, path
    assert (await client.put("/api/v1/points/settings", json={"appraisal_weight": 5})).status_code == 403


async def test_signed_out_and_bad_years(client: AppClient) -> None:
    assert (await client.get(EXPORT_PATHS[0])).status_code == 401
    await login(client, "hr")
    assert (await client.get(EXPORT_PATHS[1], params={"year": 1999})).status_code == 400
    empty = await client.get(EXPORT_PATHS[0], params={"year": 2001})
    assert empty.status_code == 200
    rows = list(csv.reader(io.StringIO(empty.content.decode("utf-8-sig"))))
    assert len(rows) == 61 and all(row[5] == "0" for row in rows[1:])
