"""Layout tests of the reflection admin pages: grading queue, trainings (list and form), the archive."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from backend.org.tables import Department, Employee
from backend.reflections.selectors import assignments_mine
from backend.reflections.tables import Submission, SubmissionVersion, Training, TrainingParticipant
from tests.ui.harness import Node, Page, actor_named, rendered_page

pytestmark = pytest.mark.usefixtures("demo")

SALES_TRAINING = "大客户关系维护"
RND_TRAINING = "代码评审实践"


# small queries ---------------------------------------------------------------
def _attr(node: Node, name: str) -> Any:
    return node.get("attributes", {}).get(name)


def _text(node: Any) -> str:
    if isinstance(node, str):
        return node
    return "".join(_text(child) for child in node.get("children", []))


def _option_value(select: Node, text: str) -> str:
    for option in select["children"]:
        if _text(option).strip() == text:
            return str(option["attributes"]["value"])
    raise AssertionError(f"no option {text!r}")


def _option_texts(select: Node) -> list[str]:
    return [_text(option).strip() for option in select["children"]]


async def _choose(page: Page, label: str, text: str) -> Page:
    select = page.by_label(label)
    return await page.fire(select, "onChange", {"target": {"value": _option_value(select, text)}})


async def _check(page: Page, label: str, checked: bool = True) -> Page:
    return await page.fire(page.by_label(label), "onChange", {"target": {"checked": checked}})


def _error_under(page: Page, field_id: str) -> str:
    found = page.all(lambda n: _attr(n, "id") == f"{field_id}-error")
    return _text(found[0]) if found else ""


def _status(page: Page, element_id: str) -> str:
    node = page.by_id(element_id)
    assert _attr(node, "role") == "status"
    return _text(node)


def _training_form(page: Page) -> Node:
    return page.one(
        lambda n: n.get("tagName") == "form" and _attr(n, "aria-labelledby") == "training-form-title", "form"
    )


def _search_form(page: Page) -> Node:
    return page.one(lambda n: n.get("tagName") == "form" and _attr(n, "role") == "search", "search form")


def _reflection_links(page: Page) -> list[str]:
    return [
        str(_attr(n, "href"))
        for n in page.all(lambda n: n.get("tagName") == "a")
        if re.fullmatch(r"/reflections/\d+", str(_attr(n, "href")))
    ]


def _pdf_links(page: Page) -> list[str]:
    return [
        str(_attr(n, "href"))
        for n in page.all(lambda n: n.get("tagName") == "a")
        if ".pdf?" in str(_attr(n, "href"))
    ]


async def _department_id(name: str) -> int:
    row = await Department.select(Department.id, Department.path).where(Department.name == name).first()
    assert row is not None, name
    return int(row["id"])


async def _active_in(name: str) -> int:
    row = await Department.select(Department.path).where(Department.name == name).first()
    assert row is not None
    return await Employee.count().where(
        Employee.department.path.like(f"{row['path']}%") & (Employee.status == "active")
    )


async def _submissions(training: str, state: str) -> list[dict[str, Any]]:
    return list(
        await Submission.select(Submission.id, Submission.employee.name.as_alias("author")).where(
            (Submission.assignment.training.title == training) & (Submission.state == state)  # type: ignore[union-attr]
        )
    )


# admin links --------------------------------------------------------------------
async def test_admin_links_follow_the_roles(settings: Any) -> None:
    hr = await actor_named("hr")
    async with rendered_page("/me", settings=settings, actor=hr) as page:
        links = page.links()
        assert links["培训"] == "/admin/trainings"
        assert links["批改"] == "/reflections/grading"
        assert links["心得归档"] == "/admin/archive"
    trainer = await actor_named("trainer")
    async with rendered_page("/me", settings=settings, actor=trainer) as page:
        links = page.links()
        assert links["培训"] == "/admin/trainings" and links["批改"] == "/reflections/grading"
        assert "心得归档" not in links and "员工管理" not in links
    manager = await actor_named("manager")
    async with rendered_page("/me", settings=settings, actor=manager) as page:
        links = page.links()
        assert links["批改"] == "/reflections/grading" and links["心得归档"] == "/admin/archive"
        assert "培训" not in links
    zhang = await actor_named("zhang")
    async with rendered_page("/me", settings=settings, actor=zhang) as page:
        assert not {"培训", "批改", "心得归档"} & set(page.links())


# grading queue -------------------------------------------------------------------
async def test_hr_grading_queue_has_three_tabs(settings: Any) -> None:
    hr = await actor_named("hr")
    waiting = await _submissions(SALES_TRAINING, "submitted") + await _submissions(RND_TRAINING, "submitted")
    graded = await _submissions(SALES_TRAINING, "graded")
    returned = await _submissions(SALES_TRAINING, "returned")
    assert len(waiting) == 2 and len(graded) == 2 and len(returned) == 1
    async with rendered_page("/reflections/grading", settings=settings, actor=hr) as page:
        tab = page.one(lambda n: _attr(n, "role") == "tab" and _attr(n, "aria-selected") == "true", "tab")
        assert _text(tab) == "待批改"
        assert "共 2 篇" in page.text
        assert sorted(_reflection_links(page)) == sorted(f"/reflections/{row['id']}" for row in waiting)
        for row in waiting:
            assert row["author"] in page.text
        assert SALES_TRAINING in page.text and RND_TRAINING in page.text and "提交于" in page.text
        await page.click("已评分")
        assert sorted(_reflection_links(page)) == sorted(f"/reflections/{row['id']}" for row in graded)
        assert "优秀" in page.text and "良好" in page.text
        await page.click("已退回")
        assert _reflection_links(page) == [f"/reflections/{returned[0]['id']}"]
        assert "需修改" in page.text


async def test_manager_queue_holds_the_waiting_east_china_reflection_only(settings: Any) -> None:
    manager = await actor_named("manager")
    (waiting,) = await _submissions(SALES_TRAINING, "submitted")
    (rnd,) = await _submissions(RND_TRAINING, "submitted")
    async with rendered_page("/reflections/grading", settings=settings, actor=manager) as page:
        assert _reflection_links(page) == [f"/reflections/{waiting['id']}"]
        assert waiting["author"] in page.text and "华东大区" in page.text
        assert rnd["author"] not in page.text and RND_TRAINING not in page.text


async def test_an_employee_is_told_they_do_not_grade(settings: Any) -> None:
    zhang = await actor_named("zhang")
    async with rendered_page("/reflections/grading", settings=settings, actor=zhang) as page:
        assert "你不负责批改心得" in page.text
        assert _reflection_links(page) == []
        assert not page.all(lambda n: _attr(n, "role") == "tab")


async def test_a_trainer_without_trainings_has_an_empty_queue(settings: Any) -> None:
    trainer = await actor_named("trainer")
    async with rendered_page("/reflections/grading", settings=settings, actor=trainer) as page:
        assert "没有待批改的心得" in page.text
        assert _reflection_links(page) == []


async def test_grading_queue_in_english(settings: Any) -> None:
    hr = await actor_named("hr")
    async with rendered_page(
        "/reflections/grading", settings=settings, actor=hr, accept_language="en-US,en;q=0.9"
    ) as page:
        assert "To grade" in page.text and "2 reflections" in page.text
        await page.click("Returned")
        assert "Needs revision" in page.text


# trainings list -----------------------------------------------------------------
async def test_hr_lists_every_training_with_progress(settings: Any) -> None:
    hr = await actor_named("hr")
    sales = await Training.select(Training.id).where(Training.title == SALES_TRAINING).first()
    assert sales is not None
    people = await TrainingParticipant.count().where(TrainingParticipant.training == sales["id"])
    async with rendered_page("/admin/trainings", settings=settings, actor=hr) as page:
        assert page.links()["新建培训"] == "/admin/trainings/new"
        assert "共 2 个培训" in page.text
        assert SALES_TRAINING in page.text and RND_TRAINING in page.text
        assert "工作坊" in page.text and "课程" in page.text
        assert f"{people} 人参加" in page.text
        assert f"已交 4/{people}" in page.text  # graded, good, returned and waiting: handed in once


async def test_a_trainer_sees_only_their_own_trainings(settings: Any) -> None:
    trainer = await actor_named("trainer")
    async with rendered_page("/admin/trainings", settings=settings, actor=trainer) as page:
        assert "还没有培训" in page.text
        assert SALES_TRAINING not in page.text


async def test_employees_may_not_manage_trainings(settings: Any) -> None:
    zhang = await actor_named("zhang")
    for path in ("/admin/trainings", "/admin/trainings/new"):
        async with rendered_page(path, settings=settings, actor=zhang) as page:
            assert "没有访问权限" in page.text
            assert not page.all(lambda n: n.get("tagName") in ("form", "input"))


# training form ------------------------------------------------------------------
async def test_preview_counts_the_sales_department_before_saving(settings: Any) -> None:
    hr = await actor_named("hr")
    expected = await _active_in("销售部")
    trainings = await Training.count()
    async with rendered_page("/admin/trainings/new", settings=settings, actor=hr) as page:
        assert "选择部门、岗位、职级或填写工号后" in _status(page, "training-preview")
        await _check(page, "销售部")
        preview = _status(page, "training-preview")
        assert preview.startswith(f"将有 {expected} 人参加：")
        assert "张丽华" in preview or "等" in preview
        # A list of 工号 adds people; an unknown one is named.
        await page.type("按名单（工号）", "E0005")
        assert _status(page, "training-preview").startswith(f"将有 {expected + 1} 人参加")
        await page.type("按名单（工号）", "E0005, X9999")
        assert "X9999" in _status(page, "training-preview")
        await _check(page, "销售部", checked=False)
        await page.type("按名单（工号）", "")
        assert "选择部门" in _status(page, "training-preview")
    assert await Training.count() == trainings  # nothing is saved by previewing


async def _fill_rnd_training(page: Page, title: str) -> None:
    await page.type("培训名称", title)
    await _choose(page, "培训类型", "工作坊")
    await _check(page, "研发部")
    await page.type("作业要求", "写下本次培训中最有用的一点，以及你准备怎样用到下一次评审中。")
    await page.type("最少字数", "50")
    await page.type("最多照片数（0–9）", "2")
    await _choose(page, "谁能看到", "全公司")


async def test_creating_a_training_assigns_it_to_rnd(settings: Any) -> None:
    hr = await actor_named("hr")
    wang = await actor_named("wang")
    before = {item.id for item in await assignments_mine(actor=wang)}
    expected = await _active_in("研发部")
    async with rendered_page("/admin/trainings/new", settings=settings, actor=hr) as page:
        await _fill_rnd_training(page, "单元测试入门")
        await _check(page, "如何写一份好的代码评审意见")  # a micro-course to watch first
        assert _status(page, "training-preview").startswith(f"将有 {expected} 人参加")
        await page.submit(_training_form(page))
        assert "已创建培训“单元测试入门”" in page.text
        assert page.links()["查看培训列表"] == "/admin/trainings"
    mine = [item for item in await assignments_mine(actor=wang) if item.id not in before]
    assert len(mine) == 1
    (assignment,) = mine
    assert assignment.training.name == "单元测试入门"
    assert assignment.min_length == 50 and assignment.max_photos == 2
    assert assignment.visibility == "organisation" and assignment.state == "assigned"
    assert [course.name for course in assignment.courses] == ["如何写一份好的代码评审意见"]
    # Due at 18:00 Shanghai time, a week from today (the form's default).
    local = assignment.due_at.astimezone(dt.timezone(dt.timedelta(hours=8)))
    assert (local.hour, local.minute) == (18, 0)
    async with rendered_page("/admin/trainings", settings=settings, actor=hr) as page:
        assert "单元测试入门" in page.text and f"{expected} 人参加" in page.text
        assert f"已交 0/{expected}" in page.text


async def test_a_past_due_date_is_refused_and_creates_nothing(settings: Any) -> None:
    hr = await actor_named("hr")
    trainings = await Training.count()
    yesterday = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=8) - dt.timedelta(days=1)).date()
    async with rendered_page("/admin/trainings/new", settings=settings, actor=hr) as page:
        await _fill_rnd_training(page, "过期的作业")
        await page.type("截止日期", yesterday.isoformat())
        await page.submit(_training_form(page))
        assert _error_under(page, "training-due-date") == "截止时间必须在将来"
        assert _attr(page.by_id("training-due-date"), "aria-invalid") == "true"
        alert = page.one(lambda n: _attr(n, "role") == "alert", "alert")
        assert "请看标出的地方" in _text(alert)
        assert "已创建培训" not in page.text
    assert await Training.count() == trainings


async def test_missing_fields_are_explained_next_to_them(settings: Any) -> None:
    hr = await actor_named("hr")
    trainings = await Training.count()
    async with rendered_page("/admin/trainings/new", settings=settings, actor=hr) as page:
        await page.type("最多照片数（0–9）", "12")
        await page.submit(_training_form(page))
        assert _error_under(page, "training-title") == "此项必填"
        assert _error_under(page, "training-prompt") == "此项必填"
        assert _error_under(page, "training-max-photos") == "请输入 0 到 9 之间的数"
        assert "请选择参训人员" in _text(page.by_id("training-participants-error"))
        await _check(page, "研发部")
        await page.type("按名单（工号）", "NOPE1")
        await page.type("培训名称", "名单有误")
        await page.type("作业要求", "写一写")
        await page.type("最多照片数（0–9）", "3")
        await page.submit(_training_form(page))
        assert "NOPE1" in _error_under(page, "training-numbers")
        assert _error_under(page, "training-title") == ""
    assert await Training.count() == trainings


async def test_english_form_labels(settings: Any) -> None:
    hr = await actor_named("hr")
    async with rendered_page(
        "/admin/trainings/new", settings=settings, actor=hr, accept_language="en"
    ) as page:
        await _check(page, "研发部")
        assert "people will take part" in _status(page, "training-preview")
        assert _option_texts(page.by_label("Who can see it")) == [
            "Graders only",
            "Own department",
            "Whole organisation",
        ]


# archive ------------------------------------------------------------------------
async def test_hr_searches_the_archive_by_training(settings: Any, client: Any) -> None:
    hr = await actor_named("hr")
    training = await Training.select(Training.id).where(Training.title == SALES_TRAINING).first()
    assert training is not None
    versions = await SubmissionVersion.select(SubmissionVersion.id, SubmissionVersion.submission).where(
        SubmissionVersion.submission.assignment.training == training["id"]  # type: ignore[union-attr]
    )
    assert len(versions) == 7  # four submitted, three graded
    async with rendered_page("/admin/archive", settings=settings, actor=hr) as page:
        assert "共 8 份归档" in page.text
        await _choose(page, "培训", SALES_TRAINING)
        await page.submit(_search_form(page))
        assert "共 7 份归档" in page.text
        assert RND_TRAINING not in _text(page.one(lambda n: _attr(n, "aria-label") == "归档结果", "results"))
        hrefs = sorted(_pdf_links(page))
        assert hrefs == sorted(
            f"/api/v1/submissions/{row['submission']}/archive.pdf?version_id={row['id']}" for row in versions
        )
        assert "评分稿" in page.text and "优秀" in page.text
        zip_link = page.links()["下载全部（ZIP）"]
        assert urlsplit(zip_link).path == "/api/v1/archive.zip"
        assert parse_qs(urlsplit(zip_link).query) == {"training_id": [str(training["id"])]}
        (first_pdf,) = [
            n for n in page.all(lambda n: n.get("tagName") == "a") if _attr(n, "href") == hrefs[0]
        ]
        assert str(_attr(first_pdf, "aria-label")).startswith("下载 PDF：")
    # The links work for HR: the ZIP holds the seven PDFs.
    from tests.conftest import login

    await login(client, "hr")
    response = await client.get(zip_link)
    assert response.status_code == 200 and response.content[:2] == b"PK"


async def test_archive_search_by_person(settings: Any, client: Any) -> None:
    hr = await actor_named("hr")
    (excellent,) = [
        row
        for row in await _submissions(SALES_TRAINING, "graded")
        if await Submission.exists().where((Submission.id == row["id"]) & (Submission.grade == "excellent"))
    ]
    async with rendered_page("/admin/archive", settings=settings, actor=hr) as page:
        await page.type("人员（工号或姓名）", excellent["author"])
        await page.submit(_search_form(page))
        assert "共 2 份归档" in page.text  # submitted, then graded
        await page.type("人员（工号或姓名）", "E0004")  # zhang has not submitted yet
        await page.submit(_search_form(page))
        assert "没有符合条件的归档" in page.text
        await page.type("人员（工号或姓名）", "没有这个人")
        await page.submit(_search_form(page))
        assert "找不到“没有这个人”" in _error_under(page, "archive-person")
        await page.click("清除筛选")
        assert "共 8 份归档" in page.text


async def test_archive_date_filters(settings: Any, client: Any) -> None:
    hr = await actor_named("hr")
    tomorrow = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=8) + dt.timedelta(days=1)).date()
    async with rendered_page("/admin/archive", settings=settings, actor=hr) as page:
        await page.type("起始日期", tomorrow.isoformat())
        await page.submit(_search_form(page))
        assert "没有符合条件的归档" in page.text and "下载全部（ZIP）" not in page.links()
        await page.type("截止日期", (tomorrow - dt.timedelta(days=3)).isoformat())
        await page.submit(_search_form(page))
        assert _error_under(page, "archive-date-to") == "结束日期不能早于开始日期"


async def test_managers_see_their_subtree_only(settings: Any, client: Any) -> None:
    manager = await actor_named("manager")
    async with rendered_page("/admin/archive", settings=settings, actor=manager) as page:
        assert "共 7 份归档" in page.text
        assert RND_TRAINING not in page.text
        assert "研发部" not in _option_texts(page.by_label("部门"))
        assert _option_texts(page.by_label("培训")) == ["全部培训", SALES_TRAINING]
        await _choose(page, "部门", "华南大区")
        await page.submit(_search_form(page))
        assert "没有符合条件的归档" in page.text


async def test_employees_have_no_archive(settings: Any, client: Any) -> None:
    zhang = await actor_named("zhang")
    async with rendered_page("/admin/archive", settings=settings, actor=zhang) as page:
        assert "没有访问权限" in page.text
        assert _pdf_links(page) == []
