"""The trainer centre of a course on the demo organisation: tiles, audience, the SVG segment chart.

A course of `trainer` (陈建国) is put in place directly: a 62-second video (13 five-second buckets),
page views by three people of two departments, progress of three people, two ratings and a comment.
"""

from __future__ import annotations

from typing import Any

import pytest

from backend.courses.tables import (
    Course,
    CourseComment,
    CourseRating,
    CourseVersion,
    CourseView,
    WatchProgress,
)
from tests.api.test_course_media import course_create_direct, employee_of
from tests.ui.harness import Node, Page, _text, actor_named, rendered_page

pytestmark = pytest.mark.usefixtures("backend_name", "demo")

DURATION = 62.0


def _attr(node: Node, name: str) -> Any:
    return node.get("attributes", {}).get(name)


def _class_has(node: Node, name: str) -> bool:
    return name in str(_attr(node, "className") or "").split()


def _bars(page: Page) -> list[Node]:
    return page.all(lambda n: n.get("tagName") == "rect" and _class_has(n, "seg-bar"))


async def _course(*, watched: bool = True) -> int:
    course_id = await course_create_direct(title="叉车日常点检")
    rows = await CourseVersion.insert(
        CourseVersion(
            course=course_id, number=1, state="ready", video_key="v", poster_key="p", duration=DURATION
        )
    ).returning(CourseVersion.id)
    version_id = int(rows[0]["id"])
    await Course.update({Course.current_version_id: version_id}).where(Course.id == course_id)
    if not watched:
        return course_id
    zhang, wang, hr = [await employee_of(name) for name in ("zhang", "wang", "hr")]
    for employee in (zhang, zhang, wang, hr):  # zhang opened it twice
        await CourseView.insert(CourseView(course=course_id, employee=employee))
    progress = {
        zhang: ([[0, 62]], True),  # all of it
        wang: ([[0, 12]], False),  # left in the third bucket
        hr: ([[0, 4], [50, 62]], False),  # skipped to the end
    }
    for employee, (intervals, completed) in progress.items():
        await WatchProgress.insert(
            WatchProgress(
                course=course_id,
                version=version_id,
                employee=employee,
                intervals=intervals,
                watched_seconds=float(sum(end - start for start, end in intervals)),
                completed=completed,
            )
        )
    await CourseRating.insert(
        CourseRating(course=course_id, employee=zhang, stars=5),
        CourseRating(course=course_id, employee=wang, stars=4),
    )
    await CourseComment.insert(CourseComment(course=course_id, author=zhang, body="很实用"))
    return course_id


async def test_the_author_sees_tiles_audience_and_one_bar_per_five_seconds(settings: Any) -> None:
    course_id = await _course()
    async with rendered_page(
        f"/studio/courses/{course_id}/stats", settings=settings, actor=await actor_named("trainer")
    ) as page:
        assert "叉车日常点检" in page.text
        tiles = {_text(n) for n in page.all(lambda n: n.get("tagName") == "li" and _class_has(n, "stat"))}
        assert "4浏览次数" in tiles and "3浏览人数" in tiles  # zhang opened it twice
        assert "33%完课率3 人观看，1 人看完" in tiles  # one of three finished
        assert "4.5平均评分2 人评分" in tiles and "1评论" in tiles

        audience = page.one(lambda n: _attr(n, "aria-labelledby") == "stats-audience-title", "audience")
        assert (
            "华东大区" in _text(audience) and "研发部" in _text(audience) and "人力资源部" in _text(audience)
        )

        chart = page.one(lambda n: n.get("tagName") == "svg" and _class_has(n, "segment-chart"), "chart")
        assert _attr(chart, "role") == "img" and _attr(chart, "aria-labelledby")
        assert len(_bars(page)) == 13  # ceil(62 / 5)
        titles = [_text(n) for n in page.all(lambda n: n.get("tagName") == "title")]
        assert any("0:00–0:05：3 人观看" in title for title in titles)
        assert any("0:10–0:15：2 人观看，1 人在此离开" in title for title in titles)  # wang left at 0:12
        assert len(page.all(lambda n: n.get("tagName") == "polygon" and _class_has(n, "seg-drop"))) == 1
        skipped = page.all(lambda n: n.get("tagName") == "rect" and _class_has(n, "seg-skipped"))
        assert len(skipped) == 9  # hr jumped from 0:04 to 0:50: 0:05-0:50
        assert "离开最多的一段：0:10–0:15（1 人）" in page.text
        back = page.one(
            lambda n: n.get("tagName") == "a" and _attr(n, "aria-label") == "返回课程编辑", "back"
        )
        assert _attr(back, "href") == f"/studio/courses/{course_id}"


async def test_hr_sees_it_and_others_get_not_found(settings: Any) -> None:
    course_id = await _course()
    async with rendered_page(
        f"/studio/courses/{course_id}/stats", settings=settings, actor=await actor_named("hr")
    ) as page:
        assert len(_bars(page)) == 13
    for username in ("zhang", "manager"):
        async with rendered_page(
            f"/studio/courses/{course_id}/stats", settings=settings, actor=await actor_named(username)
        ) as page:
            assert "找不到" in page.text or "不存在" in page.text
            assert not _bars(page) and "浏览次数" not in page.text


async def test_an_unwatched_course_shows_the_empty_state(settings: Any) -> None:
    course_id = await _course(watched=False)
    async with rendered_page(
        f"/studio/courses/{course_id}/stats", settings=settings, actor=await actor_named("trainer")
    ) as page:
        assert "还没有人观看" in page.text and not _bars(page)
        assert "0浏览次数" in {
            _text(n) for n in page.all(lambda n: n.get("tagName") == "li" and _class_has(n, "stat"))
        }


async def test_english_labels(settings: Any) -> None:
    course_id = await _course()
    async with rendered_page(
        f"/studio/courses/{course_id}/stats",
        settings=settings,
        actor=await actor_named("trainer"),
        accept_language="en-US,en;q=0.9",
    ) as page:
        assert "Completion rate" in page.text and "Segments watched" in page.text
        assert len(_bars(page)) == 13
