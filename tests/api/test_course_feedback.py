"""Ratings and comments on courses over the API: one rating per person, comments removed by their
author or HR, bounded input, and nothing for people who may not watch the course."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from backend.courses.feedback import COMMENT_MAX, rating_set
from backend.courses.tables import CourseRating
from backend.org.tables import Department
from tests.api.test_course_library import actor_of, make_course
from tests.conftest import AppClient, app_client, login

pytestmark = pytest.mark.usefixtures("backend_name", "demo")


async def test_a_rating_is_one_per_person_and_can_change(client: AppClient, settings: Any) -> None:
    course_id = await make_course("评分的课")
    await login(client, "zhang")
    first = await client.put(f"/api/v1/courses/{course_id}/rating", json={"stars": 5})
    assert first.status_code == 200
    assert first.json() == {"stars": 5, "rating_avg": 5.0, "rating_count": 1}
    changed = (await client.put(f"/api/v1/courses/{course_id}/rating", json={"stars": 2})).json()
    assert changed == {"stars": 2, "rating_avg": 2.0, "rating_count": 1}
    async with app_client(settings) as wang:
        await login(wang, "wang")
        both = (await wang.put(f"/api/v1/courses/{course_id}/rating", json={"stars": 4})).json()
        assert both == {"stars": 4, "rating_avg": 3.0, "rating_count": 2}
    course = (await client.get(f"/api/v1/courses/{course_id}")).json()
    assert (course["my_rating"], course["rating_avg"], course["rating_count"]) == (2, 3.0, 2)
    removed = (await client.delete(f"/api/v1/courses/{course_id}/rating")).json()
    assert removed == {"stars": None, "rating_avg": 4.0, "rating_count": 1}
    again = (await client.delete(f"/api/v1/courses/{course_id}/rating")).json()
    assert again == removed


async def test_ratings_sent_at_once_leave_one_row(client: AppClient) -> None:
    course_id = await make_course("连点评分的课")
    zhang = await actor_of("zhang")
    await asyncio.gather(*[rating_set(actor=zhang, course_id=course_id, stars=1 + n % 5) for n in range(8)])
    rows = await CourseRating.select(CourseRating.stars).where(CourseRating.course == course_id)
    assert len(rows) == 1 and 1 <= rows[0]["stars"] <= 5


@pytest.mark.parametrize("stars", [0, 6, -1])
async def test_stars_outside_one_to_five_are_refused(client: AppClient, stars: int) -> None:
    course_id = await make_course("评分范围")
    await login(client, "zhang")
    response = await client.put(f"/api/v1/courses/{course_id}/rating", json={"stars": stars})
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "stars"
    assert response.json()["error"]["message"] == "请选择 1 到 5 颗星"
    assert await CourseRating.count().where(CourseRating.course == course_id) == 0


async def test_comments_are_listed_newest_first_and_removed_by_author_or_hr(
    client: AppClient, settings: Any
) -> None:
    course_id = await make_course("评论的课")
    await login(client, "zhang")
    created = await client.post(f"/api/v1/courses/{course_id}/comments", json={"body": "  讲得清楚  "})
    assert created.status_code == 201
    mine = created.json()
    assert mine["body"] == "讲得清楚" and mine["author"]["name"] == "张丽华" and mine["can_delete"] is True
    second = (await client.post(f"/api/v1/courses/{course_id}/comments", json={"body": "第二条"})).json()
    async with app_client(settings) as wang:
        await login(wang, "wang")
        theirs = (
            await wang.post(f"/api/v1/courses/{course_id}/comments", json={"body": "王磊的评论"})
        ).json()
        listed = (await wang.get(f"/api/v1/courses/{course_id}/comments")).json()
        assert [c["body"] for c in listed["items"]] == ["王磊的评论", "第二条", "讲得清楚"]
        assert [c["can_delete"] for c in listed["items"]] == [True, False, False]
        assert (await wang.delete(f"/api/v1/courses/{course_id}/comments/{mine['id']}")).status_code == 403
    async with app_client(settings) as hr:
        await login(hr, "hr")
        assert all(
            c["can_delete"] for c in (await hr.get(f"/api/v1/courses/{course_id}/comments")).json()["items"]
        )
        assert (await hr.delete(f"/api/v1/courses/{course_id}/comments/{theirs['id']}")).status_code == 204
    assert (await client.delete(f"/api/v1/courses/{course_id}/comments/{second['id']}")).status_code == 204
    assert (await client.delete(f"/api/v1/courses/{course_id}/comments/{second['id']}")).status_code == 404
    left = (await client.get(f"/api/v1/courses/{course_id}/comments")).json()
    assert [c["body"] for c in left["items"]] == ["讲得清楚"] and left["total"] == 1
    assert (await client.get(f"/api/v1/courses/{course_id}")).json()["comment_count"] == 1
    other = await make_course("另一门课")
    # a comment is removed through its own course only
    assert (await client.delete(f"/api/v1/courses/{other}/comments/{mine['id']}")).status_code == 404


async def test_comments_page_through(client: AppClient) -> None:
    course_id = await make_course("评论很多的课")
    await login(client, "zhang")
    for n in range(23):
        await client.post(f"/api/v1/courses/{course_id}/comments", json={"body": f"第 {n} 条"})
    first = (await client.get(f"/api/v1/courses/{course_id}/comments")).json()
    second = (await client.get(f"/api/v1/courses/{course_id}/comments?page=2")).json()
    assert (first["total"], first["pages"], len(first["items"]), len(second["items"])) == (23, 2, 20, 3)
    assert first["items"][0]["body"] == "第 22 条" and second["items"][-1]["body"] == "第 0 条"


async def test_comment_bodies_are_bounded(client: AppClient) -> None:
    course_id = await make_course("评论长度")
    await login(client, "zhang")
    empty = await client.post(f"/api/v1/courses/{course_id}/comments", json={"body": "   "})
    assert empty.status_code == 422 and empty.json()["error"]["message"] == "此项必填"
    too_long = await client.post(
        f"/api/v1/courses/{course_id}/comments", json={"body": "长" * (COMMENT_MAX + 1)}
    )
    assert too_long.status_code == 422 and too_long.json()["error"]["field"] == "body"
    just_right = await client.post(f"/api/v1/courses/{course_id}/comments", json={"body": "长" * COMMENT_MAX})
    assert just_right.status_code == 201
    unknown = await client.post(f"/api/v1/courses/{course_id}/comments", json={"body": "x", "extra": 1})
    assert unknown.status_code == 400


async def test_people_who_may_not_watch_get_not_found(client: AppClient, settings: Any) -> None:
    draft = await make_course("草稿课", publish=False)
    production = await Department.select(Department.id).where(Department.name == "生产部").first()
    assert production is not None
    restricted = await make_course("生产部内部课", departments=[production["id"]], restricted=True)
    await login(client, "zhang")
    for course_id in (draft, restricted, 999_999):
        assert (await client.put(f"/api/v1/courses/{course_id}/rating", json={"stars": 3})).status_code == 404
        assert (await client.delete(f"/api/v1/courses/{course_id}/rating")).status_code == 404
        assert (
            await client.post(f"/api/v1/courses/{course_id}/comments", json={"body": "hi"})
        ).status_code == 404
        assert (await client.get(f"/api/v1/courses/{course_id}/comments")).status_code == 404
    # its author sees the draft, but nobody rates or comments on a course that is not published
    async with app_client(settings) as trainer:
        await login(trainer, "trainer")
        assert (await trainer.put(f"/api/v1/courses/{draft}/rating", json={"stars": 3})).status_code == 404
        assert (
            await trainer.post(f"/api/v1/courses/{draft}/comments", json={"body": "hi"})
        ).status_code == 404
        assert (
            await trainer.put(f"/api/v1/courses/{restricted}/rating", json={"stars": 3})
        ).status_code == 200
    anonymous = await client.post("/api/v1/auth/logout")
    assert anonymous.status_code in (200, 204)
    assert (await client.get(f"/api/v1/courses/{restricted}/comments")).status_code == 401
