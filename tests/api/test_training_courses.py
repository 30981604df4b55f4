"""Micro-courses linked to trainings: chosen when the training is created, found beside the assignment."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from backend.courses.tables import Course
from backend.org.tables import Department
from backend.reflections.tables import Training
from tests.conftest import AppClient, app_client, login

pytestmark = pytest.mark.usefixtures("backend_name", "demo")


async def _course_id(title: str) -> int:
    row = await Course.select(Course.id).where(Course.title == title).first()
    assert row is not None
    return int(row["id"])


async def test_the_demo_assignment_shows_its_training_courses(client: AppClient) -> None:
    await login(client, "zhang")
    mine = (await client.get("/api/v1/assignments")).json()
    sales = next(a for a in mine if a["training"]["name"] == "大客户关系维护")
    assert [c["name"] for c in sales["courses"]] == ["大客户拜访前的十分钟准备", "客户投诉的三步回应"]
    for course in sales["courses"]:
        assert (await client.get(f"/api/v1/courses/{course['id']}")).status_code == 200


async def test_hr_links_published_courses_and_participants_see_only_what_they_may(
    client: AppClient, settings: Any
) -> None:
    rnd = await Department.select(Department.id).where(Department.name == "研发部").first()
    production = await Department.select(Department.id).where(Department.name == "生产部").first()
    assert rnd is not None and production is not None
    open_course = await _course_id("开好十五分钟的周会")
    restricted = await _course_id("设备点检三步法")
    await Course.update({Course.restricted: True}).where(Course.id == restricted)  # 生产部 only
    training = {
        "title": "班组长进阶",
        "kind": "programme",
        "starts_on": dt.date.today().isoformat(),
        "participants": {"department_ids": [rnd["id"]]},
        "course_ids": [open_course, restricted],
    }
    await login(client, "hr")
    created = await client.post("/api/v1/trainings", json=training)
    assert created.status_code == 201, created.text
    await client.post(
        f"/api/v1/trainings/{created.json()['id']}/assignments",
        json={
            "prompt": "周会改进计划",
            "due_at": (dt.datetime.now(dt.UTC) + dt.timedelta(days=3)).isoformat(),
            "visibility": "graders",
        },
    )
    async with app_client(settings) as wang:  # 研发部: sees the open course, not the 生产部-only one
        await login(wang, "wang")
        mine = (await wang.get("/api/v1/assignments")).json()
        linked = next(a for a in mine if a["training"]["name"] == "班组长进阶")["courses"]
        assert [c["id"] for c in linked] == [open_course]


async def test_a_course_the_creator_may_not_use_is_refused(client: AppClient) -> None:
    await login(client, "trainer")
    draft = await client.post("/api/v1/courses", json={"title": "未发布的草稿"})
    draft_id = draft.json()["id"]
    trainings_before = await Training.count()
    base = {
        "title": "试用培训",
        "kind": "course",
        "starts_on": dt.date.today().isoformat(),
        "participants": {"employee_ids": [1]},
    }
    async with app_client(client.app.state.settings) as hr:
        await login(hr, "hr")  # HR may link any course, including a draft (published later)
        assert (
            await hr.post("/api/v1/trainings", json={**base, "course_ids": [draft_id]})
        ).status_code == 201
    # A trainer may link their own draft, but not a course that does not exist.
    assert (
        await client.post("/api/v1/trainings", json={**base, "course_ids": [draft_id]})
    ).status_code == 201
    missing = await client.post("/api/v1/trainings", json={**base, "course_ids": [9_999_999]})
    assert missing.status_code == 422 and missing.json()["error"]["field"] == "course_ids"
    assert await Training.count() == trainings_before + 2
