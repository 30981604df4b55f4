"""Layout and behaviour of the Courses tab and the course page.

Courses are made as trainers make them (tests/api/test_course_library.make_course), each test with
its own titles and categories, next to the demo's courses. The people come from the demo: `zhang`
(张丽华, 华东大区 under 销售部, 高级销售), `wang` (研发部), `trainer` (陈建国, the author), `hr`.
"""

from __future__ import annotations

from typing import Any

import pytest

from backend.courses.tables import Course, CourseAttachment, CourseComment, CourseRating
from backend.org.tables import Department
from tests.api.test_course_library import make_course, watched
from tests.ui.harness import Node, Page, _text, _walk, actor_named, rendered_page

pytestmark = pytest.mark.usefixtures("demo")

OUTLINE = {
    "problem": "叉车转弯时货物容易掉落",
    "case_text": "二号仓库上月的一次事故",
    "method": "先减速、再转弯、最后确认货叉高度",
}


def _attr(node: Node, name: str) -> Any:
    return node.get("attributes", {}).get(name)


def _class_has(node: Node, name: str) -> bool:
    return name in str(_attr(node, "className") or "").split()


def _card_titles(node: Node) -> list[str]:
    """The titles of the course cards inside `node`, in order."""
    return [_text(n) for n in _walk(node) if n.get("tagName") == "a" and _class_has(n, "cl-card-link")]


def _section(page: Page, heading_id: str) -> Node:
    return page.one(lambda n: _attr(n, "aria-labelledby") == heading_id, heading_id)


def _form_named(page: Page, label: str) -> Node:
    return page.one(lambda n: n.get("tagName") == "form" and _attr(n, "aria-label") == label, label)


def _alerts(page: Page) -> list[str]:
    return [_text(n) for n in page.all(lambda n: _attr(n, "role") == "alert")]


async def _outlined(title: str, **changes: Any) -> int:
    """A published course with the 问题 → 案例 → 方法 outline filled in."""
    return await make_course(
        title, problem=OUTLINE["problem"], case_text=OUTLINE["case_text"], method=OUTLINE["method"], **changes
    )


async def _sales() -> int:
    row = await Department.select(Department.id).where(Department.name == "销售部").first()
    assert row is not None
    return int(row["id"])


# the Courses tab -----------------------------------------------------------------
async def test_zhang_sees_courses_for_her_department_first(settings: Any) -> None:
    await make_course("大客户拜访礼仪", category="销售技巧", tags=["拜访"], departments=[await _sales()])
    open_course = await make_course("办公室消防常识", category="消防演练", tags=["消防"])
    await watched("zhang", open_course, seconds=15.0)
    async with rendered_page("/courses", settings=settings, actor=await actor_named("zhang")) as page:
        mine = _card_titles(_section(page, "cl-for-me-title"))
        assert "大客户拜访礼仪" in mine and "办公室消防常识" not in mine
        others = _card_titles(_section(page, "cl-all-title"))
        assert "办公室消防常识" in others and "大客户拜访礼仪" not in others
        poster = page.one(
            lambda n: n.get("tagName") == "img" and _attr(n, "alt") == "《办公室消防常识》的封面"
        )
        assert str(_attr(poster, "src")).endswith("/poster.jpg")
        assert "01:00" in page.text and "陈建国" in page.text and "暂无评分" in page.text
        bar = page.one(lambda n: _attr(n, "aria-label") == "《办公室消防常识》的学习进度", "my progress")
        assert (_attr(bar, "role"), _attr(bar, "aria-valuenow")) == ("progressbar", 25)
        chips = page.all(lambda n: n.get("tagName") == "button" and _class_has(n, "chip"))
        assert [_text(c) for c in chips][:1] == ["全部"] and _attr(chips[0], "aria-pressed") == "true"
        assert "/studio" not in page.links().values()  # zhang does not make courses

        await page.click("消防演练 1")
        assert _card_titles(page.model) == ["办公室消防常识"]
        assert _attr(page.button("消防演练 1"), "aria-pressed") == "true"

    async with rendered_page("/courses", settings=settings, actor=await actor_named("trainer")) as page:
        assert page.links()["课程工作室"] == "/studio"


async def test_searching_by_title_or_tag_and_finding_nothing(settings: Any) -> None:
    await make_course("叉车安全操作", tags=["仓储"])
    await make_course("报销流程", tags=["财务"])
    async with rendered_page("/courses", settings=settings, actor=await actor_named("zhang")) as page:
        await page.type("搜索课程", "仓储")
        await page.submit(_form_named(page, "搜索课程"))
        assert _card_titles(page.model) == ["叉车安全操作"]
        assert "“仓储”的搜索结果" in page.text
        assert "为你推荐" not in page.text

        await page.type("搜索课程", "没有这样的课")
        await page.submit(_form_named(page, "搜索课程"))
        assert "没有找到相关课程" in page.text and _card_titles(page.model) == []
        await page.click("清除搜索")
        assert {"叉车安全操作", "报销流程"} <= set(_card_titles(page.model))

    # a tag on a course page links to the search
    async with rendered_page(
        "/courses", settings=settings, actor=await actor_named("zhang"), query_string="q=财务"
    ) as page:
        assert _card_titles(page.model) == ["报销流程"]


async def test_an_empty_library_says_so(settings: Any) -> None:
    await Course.delete(force=True)
    await make_course("还没发布", publish=False)
    async with rendered_page("/courses", settings=settings, actor=await actor_named("zhang")) as page:
        assert "还没有发布的微课" in page.text
        assert _card_titles(page.model) == []


# the course page -----------------------------------------------------------------
async def test_the_course_page_shows_the_video_outline_and_counts_a_view(settings: Any) -> None:
    course_id = await _outlined("叉车转弯三要点", category="安全", tags=["叉车"])
    related = await make_course("叉车日常点检", tags=["叉车"])
    attachment = await CourseAttachment.insert(
        CourseAttachment(
            course=course_id,
            kind="pdf",
            filename="转弯检查卡.pdf",
            content_type="application/pdf",
            storage_key=f"courses/{course_id}/attachments/card",
            size=123_456,
        )
    ).returning(CourseAttachment.id)
    row = await Course.select(Course.current_version_id).where(Course.id == course_id).first()
    assert row is not None
    async with rendered_page(
        f"/courses/{course_id}", settings=settings, actor=await actor_named("zhang")
    ) as page:
        video = page.by_id("course-video")
        assert video["tagName"] == "video"
        attributes = video["attributes"]
        assert (
            attributes["src"] == f"/media/courses/{course_id}/versions/{row['current_version_id']}/video.mp4"
        )
        assert attributes["data-progress-url"] == f"/api/v1/courses/{course_id}/progress"
        assert attributes["data-version-id"] == str(row["current_version_id"])
        assert (attributes["data-duration"], attributes["data-position"]) == ("60.00", "0.00")
        assert attributes["data-viewer"] == str((await actor_named("zhang")).employee_id)
        assert attributes["controls"] is True and attributes["playsInline"] is True
        assert attributes["aria-label"] == "微课视频：叉车转弯三要点"
        save = page.one(lambda n: _attr(n, "data-offline-save") == str(course_id), "save for offline")
        assert _text(save) == "保存离线观看" and page.links()["离线课程"] == "/saved"
        assert _attr(save, "data-offline-label-saved") == "已保存，可离线观看"

        headings = [_text(n) for n in page.all(lambda n: n.get("tagName") == "h2")]
        assert headings[:3] == ["问题", "案例", "方法"]
        for text in OUTLINE.values():
            assert text in page.text
        assert page.links()["#叉车"] == "/courses?q=%E5%8F%89%E8%BD%A6"
        attachments = _text(_section(page, "cl-attachments-title"))
        assert "PDF" in attachments and "121 KB" in attachments
        assert (
            page.links()["转弯检查卡.pdf"] == f"/media/courses/{course_id}/attachments/{attachment[0]['id']}"
        )
        assert "1 次观看" in page.text
        assert "叉车日常点检" in _card_titles(_section(page, "cl-related-title"))
        assert page.links()["叉车日常点检"] == f"/courses/{related}"
    views = await Course.select(Course.view_count).where(Course.id == course_id).first()
    assert views == {"view_count": 1}


async def test_rating_with_the_star_buttons(settings: Any) -> None:
    course_id = await make_course("评分的课")
    zhang = await actor_named("zhang")
    async with rendered_page(f"/courses/{course_id}", settings=settings, actor=zhang) as page:
        assert "暂无评分" in page.text
        assert [_attr(page.button(f"{n} 星"), "aria-pressed") for n in range(1, 6)] == ["false"] * 5
        await page.click("4 星")
        assert _attr(page.button("4 星"), "aria-pressed") == "true"
        assert "4.0 分 · 1 人评分" in page.text
        await page.click("2 星")
        assert "2.0 分 · 1 人评分" in page.text
    rows = await CourseRating.select(CourseRating.stars).where(CourseRating.course == course_id)
    assert rows == [{"stars": 2}]
    async with rendered_page(f"/courses/{course_id}", settings=settings, actor=zhang) as page:
        assert _attr(page.button("2 星"), "aria-pressed") == "true"
        await page.click("撤销评分")
        assert "暂无评分" in page.text
    assert await CourseRating.count().where(CourseRating.course == course_id) == 0


async def test_commenting_and_deleting_with_a_confirmation(settings: Any) -> None:
    course_id = await make_course("评论的课")
    async with rendered_page(
        f"/courses/{course_id}", settings=settings, actor=await actor_named("zhang")
    ) as page:
        assert "还没有评论" in page.text
        form = _form_named(page, "发表评论")
        await page.submit(form)
        assert "此项必填" in _alerts(page)
        await page.type("写评论", "  学到了转弯要先减速  ")
        await page.submit(_form_named(page, "发表评论"))
        assert "学到了转弯要先减速" in page.text and "此项必填" not in _alerts(page)
        assert "评论 (1)" in _text(page.by_id("cl-comments-title"))
        assert await CourseComment.count().where(CourseComment.course == course_id) == 1

        await page.click("删除 张丽华 的评论")
        assert "确定删除这条评论？" in page.text
        await page.click("不删除 张丽华 的评论")
        assert await CourseComment.count().where(CourseComment.course == course_id) == 1
        await page.click("删除 张丽华 的评论")
        await page.click("确认删除 张丽华 的评论")
        assert "学到了转弯要先减速" not in page.text and "评论已删除" in page.text
    assert await CourseComment.count().where(CourseComment.course == course_id) == 0


async def test_others_cannot_delete_comments_but_hr_can(settings: Any) -> None:
    course_id = await make_course("别人评论的课")
    async with rendered_page(
        f"/courses/{course_id}", settings=settings, actor=await actor_named("zhang")
    ) as page:
        await page.type("写评论", "张丽华的想法")
        await page.submit(_form_named(page, "发表评论"))
    async with rendered_page(
        f"/courses/{course_id}", settings=settings, actor=await actor_named("wang")
    ) as page:
        assert "张丽华的想法" in page.text
        assert not page.all(lambda n: _attr(n, "aria-label") == "删除 张丽华 的评论")
    async with rendered_page(
        f"/courses/{course_id}", settings=settings, actor=await actor_named("hr")
    ) as page:
        await page.click("删除 张丽华 的评论")
        await page.click("确认删除 张丽华 的评论")
    assert await CourseComment.count().where(CourseComment.course == course_id) == 0


async def test_the_author_previews_a_draft_without_recording_progress(settings: Any) -> None:
    course_id = await make_course("还没发布的课", publish=False)
    async with rendered_page(
        f"/courses/{course_id}", settings=settings, actor=await actor_named("trainer")
    ) as page:
        assert "草稿：发布后同事才能看到这门课。" in page.text
        video = page.by_id("course-video")["attributes"]
        assert video["src"].endswith("/video.mp4") and "data-progress-url" not in video
    views = await Course.select(Course.view_count).where(Course.id == course_id).first()
    assert views == {"view_count": 0}


async def test_the_author_sees_why_a_course_does_not_play(settings: Any) -> None:
    course_id = await make_course("视频坏了的课", publish=False)
    await Course.update(
        {Course.status: "failed", Course.failure_reason: "", Course.current_version_id: None}
    ).where(Course.id == course_id)
    async with rendered_page(
        f"/courses/{course_id}", settings=settings, actor=await actor_named("trainer")
    ) as page:
        assert "视频处理失败：原因未知" in page.text
        assert "视频处理失败，暂时无法播放。" in page.text
        assert not page.all(lambda n: n.get("tagName") == "video")
        assert page.links()["去编辑"] == f"/studio/courses/{course_id}"
        assert "课程发布后才能评分。" in page.text
        assert not page.all(lambda n: _attr(n, "aria-label") == "发表评论")
    async with rendered_page(
        f"/courses/{course_id}", settings=settings, actor=await actor_named("zhang")
    ) as page:
        assert "这门课程不存在" in page.text
        assert not page.all(lambda n: n.get("tagName") == "video")


async def test_the_pages_in_english(settings: Any) -> None:
    course_id = await _outlined("Forklift turns", category="Safety drills")
    zhang = await actor_named("zhang")
    english = {"settings": settings, "actor": zhang, "accept_language": "en-US,en;q=0.9"}
    async with rendered_page("/courses", **english) as page:
        assert "Forklift turns" in _card_titles(page.model)
        assert page.by_label("Search courses")["tagName"] == "input"
        assert "Safety drills 1" in [_text(n) for n in page.all(lambda n: _class_has(n, "chip"))]
    async with rendered_page(f"/courses/{course_id}", **english) as page:
        for text in ("Problem", "Case", "Method", "Rate this course", "Not rated yet", "Save for offline"):
            assert text in page.text, text
        assert page.button("3 stars")["tagName"] == "button"


async def test_pages_of_an_impossible_course_id_show_not_found(settings: Any) -> None:
    trainer = await actor_named("trainer")
    for path in ("/courses/2147483648", "/studio/courses/99999999999", "/studio/courses/2147483648/stats"):
        async with rendered_page(path, settings=settings, actor=trainer) as page:
            assert "未找到该内容" in page.text, path
