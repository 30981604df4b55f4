"""The course library: mine first, search by title and tag, categories, visibility, pages, related courses.

Courses are made the way trainers make them (course_create, a processed video, publish); each test
uses its own category or title words, so whatever other courses the demo holds does not matter.
The demo: `zhang` works in 华东大区 (under 销售部) as 高级销售; `wang` in 研发部; `trainer` in 一车间.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from backend.accounts.selectors import actor_for_account
from backend.accounts.tables import Account
from backend.courses.library import PAGE_SIZE, course_categories, course_library, course_related
from backend.courses.lifecycle import version_ready, video_received
from backend.courses.services import course_create, course_publish
from backend.courses.tables import Course, WatchProgress
from backend.lib.db import write_transaction
from backend.lib.errors import NotFound
from backend.lib.policy import Actor
from backend.org.tables import Department, Employee, Position
from tests.conftest import AppClient, login

pytestmark = pytest.mark.usefixtures("backend_name", "demo")


async def actor_of(username: str) -> Actor:
    row = await Account.select(Account.id).where(Account.username == username).first()
    assert row is not None
    actor = await actor_for_account(row["id"])
    assert actor is not None
    return actor


async def department_id(name: str) -> int:
    row = await Department.select(Department.id).where(Department.name == name).first()
    assert row is not None
    return int(row["id"])


async def position_id(name: str) -> int:
    row = await Position.select(Position.id).where(Position.name == name).first()
    assert row is not None
    return int(row["id"])


async def make_course(
    title: str,
    *,
    category: str = "",
    tags: Sequence[str] = (),
    departments: Sequence[int] = (),
    positions: Sequence[int] = (),
    restricted: bool = False,
    publish: bool = True,
    author: str = "trainer",
    **fields: Any,
) -> int:
    """A course by `author` with a processed 60-second video, published unless told otherwise."""
    actor = await actor_of(author)
    course_id = await course_create(
        actor=actor,
        title=title,
        summary=f"{title}：一段足够长的简介，" * 8,
        category=category,
        tags=tags,
        audience_department_ids=departments,
        audience_position_ids=positions,
        restricted=restricted,
        **fields,
    )
    async with write_transaction(Course):
        version_id, _event = await video_received(
            course_id=course_id, source_key=f"uploads/{course_id}/source", size=10
        )
    await version_ready(
        version_id,
        video_key=f"courses/{course_id}/v1/video.mp4",
        poster_key=f"courses/{course_id}/v1/poster.jpg",
        duration=60.0,
        width=640,
        height=360,
        size=1000,
        remuxed=True,
    )
    if publish:
        await course_publish(actor=actor, course_id=course_id)
    return course_id


async def watched(who: str | int, course_id: int, seconds: float = 30.0) -> None:
    """Someone (a username or an employee id) watched `seconds` of the course's current video."""
    employee_id = who if isinstance(who, int) else (await actor_of(who)).employee_id
    course = await Course.select(Course.current_version_id).where(Course.id == course_id).first()
    assert course is not None and employee_id is not None
    await WatchProgress.insert(
        WatchProgress(
            course=course_id,
            version=course["current_version_id"],
            employee=employee_id,
            intervals=[[0.0, seconds]],
            watched_seconds=seconds,
            position=seconds,
        )
    )


def titles(items: list[Any]) -> list[str]:
    return [item["title"] if isinstance(item, dict) else item.title for item in items]


async def test_courses_for_my_department_and_position_come_first(client: AppClient) -> None:
    sales = await department_id("销售部")
    senior_sales = await position_id("高级销售")
    await make_course("面向销售部的课", category="排序", departments=[sales])
    await make_course("面向高级销售的课", category="排序", positions=[senior_sales])
    await make_course("全公司都能看的新课", category="排序")

    await login(client, "zhang")
    page = (await client.get("/api/v1/courses", params={"category": "排序"})).json()
    # 华东大区 is inside 销售部, so that course is hers as well; the newest of hers first.
    assert titles(page["items"]) == ["面向高级销售的课", "面向销售部的课", "全公司都能看的新课"]
    assert [item["for_me"] for item in page["items"]] == [True, True, False]
    card = page["items"][0]
    assert card["duration"] == 60.0 and card["author_name"] == "陈建国"
    assert card["poster_url"] and card["poster_url"].endswith("/poster.jpg")
    assert len(card["summary"]) <= 81 and card["my_watched_ratio"] == 0.0

    wang = await course_library(actor=await actor_of("wang"), category="排序")
    assert titles(wang.items) == ["全公司都能看的新课", "面向高级销售的课", "面向销售部的课"]
    assert not any(item.for_me for item in wang.items)


async def test_search_finds_titles_and_tags_ignoring_case(client: AppClient) -> None:
    workshop = await department_id("一车间")
    await make_course("叉车安全操作", category="搜索", tags=["安全"])
    await make_course("劳保用品怎么穿", category="搜索", tags=["PPE", "防护"])
    await make_course("交接班要点", category="搜索", departments=[workshop])
    await make_course("报销流程", category="搜索", tags=["财务"])
    zhang = await actor_of("zhang")

    async def found(query: str) -> list[str]:
        return titles((await course_library(actor=zhang, query=query, category="搜索")).items)

    assert await found("叉车") == ["叉车安全操作"]
    assert await found("ppe") == ["劳保用品怎么穿"]
    assert await found("防护") == ["劳保用品怎么穿"]
    assert sorted(await found("安全")) == ["叉车安全操作"]
    assert await found("一车间") == ["交接班要点"]  # its audience department's name tags it
    assert await found("不存在的词") == []
    by_tag = await course_library(actor=zhang, tag="财务", category="搜索")
    assert titles(by_tag.items) == ["报销流程"]

    await login(client, "zhang")
    response = await client.get("/api/v1/courses", params={"q": "PpE", "category": "搜索"})
    assert titles(response.json()["items"]) == ["劳保用品怎么穿"]


async def test_search_text_is_literal_wildcards_match_only_themselves(client: AppClient) -> None:
    workshop = await department_id("一车间")
    rows = await Position.insert(Position(name="QA_100%专员")).returning(Position.id)
    await make_course("交接班要点", category="通配符", departments=[workshop])
    await make_course("质检抽样", category="通配符", positions=[int(rows[0]["id"])])
    zhang = await actor_of("zhang")

    async def found(query: str) -> list[str]:
        return titles((await course_library(actor=zhang, query=query, category="通配符")).items)

    # `_` and `%` are LIKE wildcards: unescaped, they matched every department and position name.
    for wildcard in ("_", "%", "一_间", "一%间"):
        assert await found(wildcard) == (["质检抽样"] if wildcard in ("_", "%") else []), wildcard
    assert await found("qa_100%") == ["质检抽样"]  # and as text, they match themselves
    assert await found("!") == []  # the escape character is literal too

    await login(client, "zhang")
    response = await client.get("/api/v1/courses", params={"q": "_", "category": "通配符"})
    assert titles(response.json()["items"]) == ["质检抽样"]


async def test_categories_count_what_i_may_watch(client: AppClient) -> None:
    production = await department_id("生产部")
    for title in ("分类一", "分类二"):
        await make_course(title, category="类别甲")
    await make_course("分类三", category="类别乙")
    await make_course("生产部专属", category="类别乙", departments=[production], restricted=True)
    await make_course("草稿", category="类别丙", publish=False)

    zhang = dict(await course_categories(actor=await actor_of("zhang")))
    assert zhang["类别甲"] == 2 and zhang["类别乙"] == 1 and "类别丙" not in zhang
    hr = dict(await course_categories(actor=await actor_of("hr")))
    assert hr["类别乙"] == 2 and "类别丙" not in hr  # the library lists published courses only

    await login(client, "zhang")
    only = (await client.get("/api/v1/courses", params={"category": "类别甲"})).json()
    assert sorted(titles(only["items"])) == ["分类一", "分类二"]


async def test_restricted_courses_and_drafts_stay_out_of_sight(client: AppClient) -> None:
    production = await department_id("生产部")
    restricted = await make_course(
        "生产部内部课", category="可见性", departments=[production], restricted=True
    )
    draft = await make_course("还没发布的课", category="可见性", publish=False)
    await make_course("公开课", category="可见性")

    assert titles((await course_library(actor=await actor_of("zhang"), category="可见性")).items) == [
        "公开课"
    ]
    assert titles((await course_library(actor=await actor_of("wang"), query="生产部内部课")).items) == []
    # the trainer (一车间, inside 生产部) is in the audience; HR sees everything published
    for username in ("trainer", "hr"):
        seen = titles((await course_library(actor=await actor_of(username), category="可见性")).items)
        assert sorted(seen) == ["公开课", "生产部内部课"]

    await login(client, "zhang")
    assert (await client.get(f"/api/v1/courses/{restricted}")).status_code == 404
    assert (await client.get(f"/api/v1/courses/{draft}")).status_code == 404
    everything = (await client.get("/api/v1/courses", params={"q": "课"})).json()
    assert {"生产部内部课", "还没发布的课"}.isdisjoint(titles(everything["items"]))


async def test_the_library_pages_through_many_courses(client: AppClient) -> None:
    count = PAGE_SIZE + 3
    for number in range(count):
        await make_course(f"分页课程 {number:02d}", category="分页")
    await login(client, "zhang")
    first = (await client.get("/api/v1/courses", params={"category": "分页"})).json()
    second = (await client.get("/api/v1/courses", params={"category": "分页", "page": 2})).json()
    assert (first["total"], first["pages"], len(first["items"]), len(second["items"])) == (
        count,
        2,
        PAGE_SIZE,
        3,
    )
    every = titles(first["items"]) + titles(second["items"])
    assert sorted(every) == [f"分页课程 {n:02d}" for n in range(count)]
    assert every[0] == f"分页课程 {count - 1:02d}"  # newest first


async def test_my_progress_and_ratings_show_on_the_cards(client: AppClient) -> None:
    course_id = await make_course("看了一半的课", category="进度")
    await watched("zhang", course_id, seconds=30.0)
    await login(client, "zhang")
    assert (await client.put(f"/api/v1/courses/{course_id}/rating", json={"stars": 4})).status_code == 200
    card = (await client.get("/api/v1/courses", params={"category": "进度"})).json()["items"][0]
    assert card["my_watched_ratio"] == 0.5 and card["my_completed"] is False
    assert (card["rating_avg"], card["rating_count"]) == (4.0, 1)


async def test_related_courses_share_tags_or_viewers(client: AppClient) -> None:
    production = await department_id("生产部")
    forklift = await make_course("叉车入门", tags=["叉车", "仓储作业"])
    same_tag = await make_course("仓库安全", tags=["仓储作业"])
    co_viewed = await make_course("库存盘点", tags=["盘点"])
    await make_course("无关的课", tags=["年假"])
    await make_course("生产部内部的仓储课", tags=["仓储作业"], departments=[production], restricted=True)
    # two people with no watch history of their own (the demo's viewers have watched other courses)
    fresh = (
        await Employee.select(Employee.id)
        .where(Employee.id.not_in(WatchProgress.select(WatchProgress.employee)))
        .limit(2)
    )
    for person in fresh:
        await watched(person["id"], forklift)
        await watched(person["id"], co_viewed)

    related = await course_related(actor=await actor_of("zhang"), course_id=forklift)
    # two of two viewers watched 库存盘点 too (scores 2); 仓库安全 shares one tag (scores 1)
    assert [card.id for card in related] == [co_viewed, same_tag]
    as_trainer = await course_related(actor=await actor_of("trainer"), course_id=forklift)
    assert "生产部内部的仓储课" in titles(as_trainer)
    assert len(await course_related(actor=await actor_of("zhang"), course_id=forklift, limit=1)) == 1

    draft = await make_course("草稿课", tags=["仓储作业"], publish=False)
    with pytest.raises(NotFound):
        await course_related(actor=await actor_of("zhang"), course_id=draft)
