"""The trainer's studio: the course list, the create/edit form, publishing, attachments, deleting.

Demo: `trainer` (陈建国, 一车间) authored the published demo micro-courses; `hr` (刘芳) sees every
course; `zhang` (张丽华) is an employee without a studio.
"""

from __future__ import annotations

import io
from typing import Any

import pytest

from backend.courses.attachments import attachment_add
from backend.courses.selectors import courses_authored
from backend.courses.services import course_create
from backend.courses.tables import Course, CourseAttachment, CourseVersion
from backend.lib.i18n import translate
from backend.org.tables import Department
from tests.conftest import AppClient, login
from tests.ui.harness import Node, Page, _text, actor_named, rendered_page

pytestmark = pytest.mark.usefixtures("backend_name", "demo")


def _attr(node: Node, name: str) -> Any:
    return node.get("attributes", {}).get(name)


def _form(page: Page) -> Node:
    return page.one(lambda n: n.get("tagName") == "form", "form")


def _error_under(page: Page, field_id: str) -> str:
    found = page.all(lambda n: _attr(n, "id") == f"{field_id}-error")
    return _text(found[0]) if found else ""


def _alerts(page: Page) -> list[str]:
    return [_text(n) for n in page.all(lambda n: _attr(n, "role") == "alert")]


def _statuses(page: Page) -> list[str]:
    return [_text(n) for n in page.all(lambda n: _attr(n, "role") == "status")]


def _articles(page: Page) -> list[Node]:
    return page.all(lambda n: n.get("tagName") == "article")


def _links_in(node: Node) -> dict[str, str]:
    found: dict[str, str] = {}

    def walk(current: Any) -> None:
        if isinstance(current, dict):
            if current.get("tagName") == "a":
                found[_text(current).strip()] = current["attributes"]["href"]
            for child in current.get("children", []):
                walk(child)

    walk(node)
    return found


async def _course(title: str, *, actor_name: str = "trainer", **fields: Any) -> int:
    return await course_create(actor=await actor_named(actor_name), title=title, **fields)


async def _row(course_id: int) -> dict[str, Any]:
    row = await Course.select().where(Course.id == course_id).first()
    assert row is not None
    return dict(row)


# the list ----------------------------------------------------------------------
async def test_trainer_sees_their_courses_with_status_and_links(settings: Any) -> None:
    trainer = await actor_named("trainer")
    draft = await _course("叉车日常检查")
    failed = await _course("安全帽佩戴要点")
    await Course.update({Course.status: "failed", Course.failure_reason: "transcode.unreadable"}).where(
        Course.id == failed
    )
    mine = await courses_authored(actor=trainer)
    assert len(mine) >= 3
    async with rendered_page("/studio", settings=settings, actor=trainer) as page:
        assert page.one(lambda n: n.get("tagName") == "h1", "heading")["children"] == ["课程工作室"]
        assert page.links()["新建微课"] == "/studio/new"
        assert f"共 {len(mine)} 门微课" in page.text
        cards = _articles(page)
        titles = [course.title for course in mine]
        assert all(title in page.text for title in titles)
        by_title = {title: card for title in titles for card in cards if title in _text(card)}
        draft_card = by_title["叉车日常检查"]
        assert "草稿" in _text(draft_card)
        assert _links_in(draft_card) == {
            "编辑": f"/studio/courses/{draft}",
            "上传视频": f"/studio/courses/{draft}/upload",
            "数据": f"/studio/courses/{draft}/stats",
            "查看": f"/courses/{draft}",
        }
        failed_card = by_title["安全帽佩戴要点"]
        assert "处理失败" in _text(failed_card)
        assert translate("zh-CN", "transcode.unreadable") in _text(failed_card)
        published = [course for course in mine if course.status == "published"]
        assert published, "the demo's courses are published"
        assert "已发布" in _text(by_title[published[0].title])


async def test_hr_sees_every_authors_courses(settings: Any) -> None:
    await _course("消防器材使用")
    async with rendered_page("/studio", settings=settings, actor=await actor_named("hr")) as page:
        card = next(c for c in _articles(page) if "消防器材使用" in _text(c))
        assert "陈建国" in _text(card)  # HR is told whose course it is


async def test_an_empty_studio_invites_to_create_the_first_course(settings: Any) -> None:
    await Course.delete(force=True)
    async with rendered_page("/studio", settings=settings, actor=await actor_named("trainer")) as page:
        assert "还没有微课" in page.text
        assert page.all(lambda n: n.get("tagName") == "a" and _attr(n, "href") == "/studio/new")


async def test_zhang_has_no_studio(settings: Any) -> None:
    zhang = await actor_named("zhang")
    trainer_course = await _course("只给作者看的草稿")
    for path in ("/studio", "/studio/new", f"/studio/courses/{trainer_course}"):
        async with rendered_page(path, settings=settings, actor=zhang) as page:
            assert translate("zh-CN", "error.not_found") in page.text, path
            assert "新建微课" not in page.text and "只给作者看的草稿" not in page.text
    async with rendered_page("/me", settings=settings, actor=zhang) as page:
        assert "/studio" not in page.links().values()


async def test_the_studio_speaks_english(settings: Any) -> None:
    await _course("Forklift checks")
    trainer = await actor_named("trainer")
    async with rendered_page("/studio", settings=settings, actor=trainer, accept_language="en") as page:
        assert page.links()["New micro-course"] == "/studio/new"
        card = next(c for c in _articles(page) if "Forklift checks" in _text(c))
        assert "Draft" in _text(card) and "Upload video" in _links_in(card)


# creating and editing ------------------------------------------------------------
async def test_creating_needs_a_title_then_opens_the_new_course(settings: Any) -> None:
    trainer = await actor_named("trainer")
    before = await Course.count()
    async with rendered_page("/studio/new", settings=settings, actor=trainer) as page:
        await page.submit(_form(page))
        assert _error_under(page, "course-new-title") == translate("zh-CN", "error.required")
        assert "请按提示修改后再保存。" in _alerts(page)
        assert await Course.count() == before

        await page.type("标题", "设备润滑五定")
        await page.type("简介", "定点、定质、定量、定期、定人。")
        await page.type("技能标签", "润滑，设备、点检, 润滑")
        problem = "润滑不到位导致轴承磨损。"
        await page.type("问题", problem)
        assert f"{len(problem)}/3000 字" in page.text  # the counter follows the text
        assert _error_under(page, "course-new-title") == ""  # typing a title clears its message
        await page.fire(page.by_label("一车间"), "onChange", {"target": {"checked": True}})
        await page.fire(page.by_label("仅目标对象可见"), "onChange", {"target": {"checked": True}})
        await page.submit(_form(page))

        row = await Course.select().where(Course.title == "设备润滑五定").first()
        assert row is not None
        workshop = await Department.select(Department.id).where(Department.name == "一车间").first()
        assert workshop is not None
        course_id = row["id"]
        course = await _row(course_id)
        assert course["status"] == "draft" and course["restricted"] is True
        assert course["author"] == trainer.employee_id
        assert "润滑" in str(course["tags"]) and "点检" in str(course["tags"])
        assert str(workshop["id"]) in str(course["audience_department_ids"])
        # The page is now the course's edit page: its address, its video section, a toast.
        assert page.one(lambda n: n.get("tagName") == "h1", "heading")["children"] == ["编辑微课"]
        assert page.links()["录制或上传视频"] == f"/studio/courses/{course_id}/upload"
        scripts = page.all(lambda n: n.get("tagName") == "script")
        assert any(f"/studio/courses/{course_id}" in _text(s) for s in scripts)
        assert "微课已创建，接下来录制或上传视频" in _statuses(page)
        assert _attr(page.by_label("标题"), "value") == "设备润滑五定"


async def test_editing_saves_and_shows_the_services_refusals(settings: Any) -> None:
    course_id = await _course("旧标题")
    async with rendered_page(
        f"/studio/courses/{course_id}", settings=settings, actor=await actor_named("trainer")
    ) as page:
        assert "草稿" in page.text and "还没有视频。" in page.text
        await page.type("标题", "新标题")
        await page.type("方法", "先断电，再挂牌。")
        form = page.one(lambda n: n.get("tagName") == "form", "form")
        await page.submit(form)
        row = await _row(course_id)
        assert row["title"] == "新标题" and row["method"] == "先断电，再挂牌。"
        assert "已保存" in _statuses(page)
        # Only its audience may see it, but it has none: the service says so next to the audience.
        await page.fire(page.by_label("仅目标对象可见"), "onChange", {"target": {"checked": True}})
        await page.submit(page.one(lambda n: n.get("tagName") == "form", "form"))
        assert _error_under(page, f"course-{course_id}-audience") == translate(
            "zh-CN", "course.restricted_needs_audience"
        )
        assert (await _row(course_id))["restricted"] is False


async def test_hr_edits_a_trainers_course_but_wang_may_not(settings: Any) -> None:
    course_id = await _course("车间 5S")
    async with rendered_page(
        f"/studio/courses/{course_id}", settings=settings, actor=await actor_named("hr")
    ) as page:
        assert _attr(page.by_label("标题"), "value") == "车间 5S"
    async with rendered_page(
        f"/studio/courses/{course_id}", settings=settings, actor=await actor_named("wang")
    ) as page:
        assert "车间 5S" not in page.text


# publishing ----------------------------------------------------------------------
async def test_publishing_without_a_video_says_to_upload_first(settings: Any) -> None:
    course_id = await _course("还没有视频的课")
    async with rendered_page(
        f"/studio/courses/{course_id}", settings=settings, actor=await actor_named("trainer")
    ) as page:
        await page.click("发布")
        assert translate("zh-CN", "course.no_video") in _alerts(page)
        assert (await _row(course_id))["status"] == "draft"


async def test_publishing_while_the_video_is_processing_publishes_when_ready(settings: Any) -> None:
    course_id = await _course("处理中的课")
    await CourseVersion.insert(CourseVersion(course=course_id, number=1, state="processing"))
    await Course.update({Course.status: "processing"}).where(Course.id == course_id)
    async with rendered_page(
        f"/studio/courses/{course_id}", settings=settings, actor=await actor_named("trainer")
    ) as page:
        assert "处理中" in page.text and "正在处理视频…" in page.text
        assert "视频还在处理中：现在点“发布”，处理完成后会自动发布。" in page.text
        await page.click("发布")
        assert "视频处理完成后会自动发布" in _statuses(page)
        assert (await _row(course_id))["publish_requested"] is True


async def test_unpublishing_asks_first(settings: Any) -> None:
    trainer = await actor_named("trainer")
    published = next(c for c in await courses_authored(actor=trainer) if c.status == "published")
    async with rendered_page(f"/studio/courses/{published.id}", settings=settings, actor=trainer) as page:
        assert "已发布" in page.text and "视频时长" in page.text
        await page.click("取消发布")
        assert (await _row(published.id))["status"] == "published"  # only asked so far
        assert "取消发布后，同事将找不到这门课程。确定取消发布吗？" in _alerts(page)
        await page.click("确认取消发布")
        assert (await _row(published.id))["status"] == "draft"
        assert "已取消发布，课程回到草稿" in _statuses(page)


# attachments and deleting -----------------------------------------------------------
async def test_an_attachment_is_deleted_after_confirming(settings: Any, client: AppClient) -> None:
    trainer = await actor_named("trainer")
    course_id = await _course("带讲义的课")
    added = await attachment_add(
        actor=trainer, course_id=course_id, filename="讲义.pdf", stream=io.BytesIO(b"%PDF-1.4\n%%EOF\n")
    )
    async with rendered_page(f"/studio/courses/{course_id}", settings=settings, actor=trainer) as page:
        assert page.links()["讲义.pdf"] == added.url
        assert page.links()["添加附件"] == f"/studio/courses/{course_id}/upload#attachments"
        await page.click("删除")
        assert "删除附件“讲义.pdf”？" in _alerts(page)
        await page.click("取消")
        assert await CourseAttachment.count().where(CourseAttachment.course == course_id) == 1
        await page.click("删除")
        await page.click("确认删除")
        assert await CourseAttachment.count().where(CourseAttachment.course == course_id) == 0
        assert "附件已删除" in _statuses(page)
        for _ in range(50):  # the list reloads after the deletion; a busy machine takes longer
            if "还没有附件" in page.text:
                break
            await page.settle()
        assert "还没有附件" in page.text


async def test_deleting_a_course_asks_first(settings: Any, client: AppClient) -> None:
    course_id = await _course("要删除的课")
    async with rendered_page(
        f"/studio/courses/{course_id}", settings=settings, actor=await actor_named("trainer")
    ) as page:
        await page.click("删除微课")
        assert "确定删除《要删除的课》吗？此操作无法撤销。" in _alerts(page)
        assert await Course.count().where(Course.id == course_id) == 1
        await page.click("确认删除")
        assert await Course.count().where(Course.id == course_id) == 0
        assert "微课已删除" in page.text


# the upload page (plain HTML + upload.js) ------------------------------------------------
async def test_the_upload_page_offers_the_camera_and_a_file(client: AppClient) -> None:
    course_id = await _course("要上传视频的课")
    await login(client, "trainer")
    response = await client.get(f"/studio/courses/{course_id}/upload")
    assert response.status_code == 200, response.text
    assert "no-cache" in response.headers["cache-control"]
    html = response.text
    assert '<html lang="zh-CN">' in html and "要上传视频的课" in html
    assert 'accept="video/*" capture="environment"' in html and "录制视频" in html
    assert "从相册选择视频" in html
    assert 'role="progressbar"' in html and 'aria-valuenow="0"' in html
    assert ">取消上传</button>" in html and 'role="alert"' in html
    assert f'href="/studio/courses/{course_id}"' in html
    assert 'id="attachments"' in html and "/static/upload.js?v=" in html
    assert '"course_id": ' + str(course_id) in html or f'"course_id":{course_id}' in html
    assert "正在处理视频…" in html


async def test_the_upload_page_is_the_authors_only(client: AppClient) -> None:
    course_id = await _course("别人的课")
    signed_out = await client.get(f"/studio/courses/{course_id}/upload", follow_redirects=False)
    assert signed_out.status_code == 303 and signed_out.headers["location"].startswith("/login?next=")
    await login(client, "zhang")
    refused = await client.get(f"/studio/courses/{course_id}/upload")
    assert refused.status_code == 404 and "找不到这门微课" in refused.text
    assert (await client.get("/studio/courses/999999/upload")).status_code == 404


async def test_the_upload_page_speaks_english(client: AppClient) -> None:
    course_id = await _course("Lockout basics")
    await login(client, "trainer")
    html = (await client.get(f"/studio/courses/{course_id}/upload", headers={"Accept-Language": "en"})).text
    assert '<html lang="en">' in html and "Record a video" in html and "Cancel upload" in html


async def test_the_studio_addresses_still_open_the_app(client: AppClient) -> None:
    """The upload page lives under /studio: the studio's own screens must still get the page shell."""
    course_id = await _course("地址测试")
    await login(client, "trainer")
    for path in (
        "/studio",
        "/studio/new",
        f"/studio/courses/{course_id}",
        f"/studio/courses/{course_id}/stats",
    ):
        response = await client.get(path)
        assert response.status_code == 200, path
        assert response.headers["content-type"].startswith("text/html")
        assert "/static/app.css?v=" in response.text and "upload.js" not in response.text, path
