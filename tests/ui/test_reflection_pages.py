"""Layout and behaviour of the colleague-facing reflection pages on the demo data.

The demo: `zhang` (张丽华, 华东大区) has 大客户关系维护 due in two days and has not written it; four
colleagues of 华东大区 submitted (优秀 and featured, 良好, 需修改, one waiting); `wang` (研发部) has
代码评审实践 due in a week; `manager` (李强) grades 销售部.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from backend.reflections.tables import Assignment, ReflectionComment, ReflectionLike, Submission
from tests.ui.harness import Node, Page, _text, actor_named, rendered_page

pytestmark = pytest.mark.usefixtures("demo")


# small queries ---------------------------------------------------------------
def _attr(node: Node, name: str) -> Any:
    return node.get("attributes", {}).get(name)


def _class_has(node: Node, name: str) -> bool:
    return name in str(_attr(node, "className") or "").split()


def _like_button(page: Page) -> Node:
    return page.one(lambda n: n.get("tagName") == "button" and _class_has(n, "rf-like"), "like button")


def _cards(page: Page) -> list[Node]:
    return page.all(lambda n: n.get("tagName") == "article" and _class_has(n, "rf-card"))


def _card_authors(page: Page) -> list[str]:
    return [
        _text(link)
        for card in _cards(page)
        for link in _descendants(card)
        if link.get("tagName") == "a" and _class_has(link, "rf-card-link")
    ]


def _descendants(node: Node) -> list[Node]:
    out = []
    for child in node.get("children", []):
        if isinstance(child, dict):
            out.append(child)
            out.extend(_descendants(child))
    return out


def _form_named(page: Page, label: str) -> Node:
    return page.one(lambda n: n.get("tagName") == "form" and _attr(n, "aria-label") == label, label)


def _grading_form(page: Page) -> Node:
    return page.one(
        lambda n: n.get("tagName") == "form" and _attr(n, "aria-labelledby") == "rf-grading-title", "grading"
    )


def _alerts(page: Page) -> list[str]:
    return [_text(n) for n in page.all(lambda n: _attr(n, "role") == "alert")]


def _statuses(page: Page) -> list[str]:
    return [_text(n) for n in page.all(lambda n: _attr(n, "role") == "status")]


async def _submission(author: str) -> dict[str, Any]:
    row = (
        await Submission.select(Submission.id, Submission.state, Submission.like_count, Submission.employee)
        .where(Submission.employee.name == author)
        .first()
    )
    assert row is not None, author
    return dict(row)


async def _waiting() -> dict[str, Any]:
    """The 大客户关系维护 reflection nobody has graded yet."""
    row = (
        await Submission.select(Submission.id, Submission.employee.name.as_alias("author"))
        .where(
            (Submission.state == "submitted") & (Submission.assignment.training.title == "大客户关系维护")  # type: ignore[union-attr]
        )
        .first()
    )
    assert row is not None
    return dict(row)


async def _sales_assignment_id() -> int:
    row = await Assignment.select(Assignment.id).where(Assignment.training.title == "大客户关系维护").first()
    assert row is not None
    return int(row["id"])


# the Reflections tab -----------------------------------------------------------
async def test_zhang_sees_her_assignment_due_in_two_days_and_her_department_feed(settings: Any) -> None:
    zhang = await actor_named("zhang")
    assignment_id = await _sales_assignment_id()
    async with rendered_page("/reflections", settings=settings, actor=zhang) as page:
        mine = page.one(lambda n: _attr(n, "aria-labelledby") == "rf-mine-title", "my assignments")
        assert "我的作业" in _text(mine)
        cell = page.one(
            lambda n: n.get("tagName") == "a" and _attr(n, "href") == f"/write/{assignment_id}", "assignment"
        )
        text = _text(cell)
        assert "大客户关系维护" in text
        assert "结合你负责的一个大客户" in text  # the prompt's beginning
        assert "还剩 2 天" in text
        assert "待完成" in text
        # The due date in the organisation's time zone (Asia/Shanghai), e.g. "11月25日 00:39 截止".
        row = await Assignment.select(Assignment.due_at).where(Assignment.id == assignment_id).first()
        assert row is not None
        due = row["due_at"].astimezone(ZoneInfo("Asia/Shanghai"))
        assert f"{due.month}月{due.day}日 {due:%H:%M} 截止" in text

        feed = page.one(lambda n: _attr(n, "aria-labelledby") == "rf-feed-title", "feed")
        assert "同事的心得" in _text(feed)
        authors = _card_authors(page)
        assert sorted(authors) == sorted(["徐娜", "周娜", "朱艳"])  # the returned one (林刚) is not shown
        assert "华东大区" in _text(feed)
        assert "优秀" in _text(feed)  # the excellent one carries its badge
        assert "代码评审实践" not in _text(feed)  # another department's work is not in "本部门"
        # Each card says how many likes and comments it has, in words for screen readers.
        assert "4 个赞" in page.text and "1 条评论" in page.text
        # The scope and sort switches are links (shareable), the current ones marked.
        current = {
            _text(n)
            for n in page.all(lambda n: n.get("tagName") == "a" and _attr(n, "aria-current") == "page")
        }
        assert {"本部门", "最新", "心得"} <= current
        links = page.links()
        assert links["全公司"] == "/reflections?scope=organisation&sort=newest"
        assert links["最多赞"] == "/reflections?scope=department&sort=likes"
        assert any(href == "/reflections/featured" for href in links.values())
        assert "/reflections/grading" not in links.values()  # zhang grades nobody
        # The training's micro-courses sit beside the assignment, linking to the course pages.
        courses = page.one(lambda n: n.get("tagName") == "nav" and _attr(n, "aria-label") == "关联微课")
        course_links = [n for n in courses["children"] if isinstance(n, dict) and n.get("tagName") == "a"]
        assert [_text(n).lstrip("▶ ") for n in course_links] == [
            "大客户拜访前的十分钟准备",
            "客户投诉的三步回应",
        ]
        assert all(_attr(n, "href").startswith("/courses/") for n in course_links)


async def test_the_scope_and_sort_come_from_the_query_string(settings: Any) -> None:
    zhang = await actor_named("zhang")
    async with rendered_page(
        "/reflections", settings=settings, actor=zhang, query_string="scope=organisation&sort=likes"
    ) as page:
        authors = _card_authors(page)
        # The organisation scope adds 研发部's organisation-wide reflection; most liked first.
        assert "高建华" in authors
        assert authors[0] == "徐娜"
        assert authors[-1] == "高建华"
        current = {
            _text(n)
            for n in page.all(lambda n: n.get("tagName") == "a" and _attr(n, "aria-current") == "page")
        }
        assert {"全公司", "最多赞"} <= current
        assert "本部门" not in current


async def test_graders_get_the_grading_link_and_people_without_assignments_an_empty_state(
    settings: Any,
) -> None:
    for username in ("manager", "hr", "trainer"):
        actor = await actor_named(username)
        async with rendered_page("/reflections", settings=settings, actor=actor) as page:
            assert page.links().get("批阅心得给提交的心得评分和写评语›") == "/reflections/grading", username
    hr = await actor_named("hr")
    async with rendered_page("/reflections", settings=settings, actor=hr) as page:
        assert "还没有心得作业" in page.text
        assert "还没有同事分享的心得" in page.text  # 人力资源部 has nothing in its own feed


async def test_the_feed_in_english(settings: Any) -> None:
    zhang = await actor_named("zhang")
    async with rendered_page(
        "/reflections", settings=settings, actor=zhang, accept_language="en-US,en;q=0.9"
    ) as page:
        assert "My assignments" in page.text
        assert "2 days left" in page.text
        assert "To do" in page.text
        assert "Colleagues' reflections" in page.text
        assert "Excellent" in page.text
        assert "My department" in page.links()


# home to-dos -------------------------------------------------------------------
async def test_home_lists_what_is_due_linking_to_the_writer(settings: Any) -> None:
    zhang = await actor_named("zhang")
    assignment_id = await _sales_assignment_id()
    async with rendered_page("/", settings=settings, actor=zhang) as page:
        todos = page.one(lambda n: _attr(n, "aria-labelledby") == "todos-title", "to-dos")
        assert "写心得：大客户关系维护" in _text(todos)
        assert "还剩 2 天" in _text(todos)
        assert "暂时没有待办事项" not in page.text
        assert f"/write/{assignment_id}" in page.links().values()
    wang = await actor_named("wang")
    async with rendered_page("/", settings=settings, actor=wang) as page:
        assert "写心得：代码评审实践" in page.text
        assert "还剩 7 天" in page.text
    hr = await actor_named("hr")
    async with rendered_page("/", settings=settings, actor=hr) as page:
        assert "暂时没有待办事项" in page.text


async def test_a_submitted_assignment_leaves_the_home_page_and_links_to_the_reflection(settings: Any) -> None:
    from backend.reflections.services import submission_submit

    zhang = await actor_named("zhang")
    assignment_id = await _sales_assignment_id()
    result = await submission_submit(
        actor=zhang,
        assignment_id=assignment_id,
        body="培训让我学会先倾听客户的需求。" * 10,
        photo_ids=[],
        idempotency_key="ui-test-submit-0001",
    )
    async with rendered_page("/", settings=settings, actor=zhang) as page:
        assert "暂时没有待办事项" in page.text
    async with rendered_page("/reflections", settings=settings, actor=zhang) as page:
        cell = page.one(
            lambda n: (
                n.get("tagName") == "a"
                and _class_has(n, "rf-assignment")
                and _attr(n, "href") == f"/reflections/{result.submission_id}"
            ),
            "my submitted assignment",
        )
        assert "已提交" in _text(cell)
        assert "还剩" not in _text(cell)  # finished work shows its due date, not a countdown
        assert "张丽华" in _card_authors(page)  # and it is in the department feed


async def test_an_overdue_assignment_says_so(settings: Any) -> None:
    zhang = await actor_named("zhang")
    assignment_id = await _sales_assignment_id()
    await Assignment.update({Assignment.due_at: dt.datetime.now(dt.UTC) - dt.timedelta(days=3)}).where(
        Assignment.id == assignment_id
    )
    async with rendered_page("/", settings=settings, actor=zhang) as page:
        assert "已逾期 3 天" in page.text


# one reflection ----------------------------------------------------------------
async def test_the_full_text_keeps_newlines_and_shows_grade_and_feedback(settings: Any) -> None:
    zhang = await actor_named("zhang")
    excellent = await _submission("徐娜")
    await Submission.update({Submission.body: "第一段。\n\n第二段。"}).where(Submission.id == excellent["id"])
    async with rendered_page(f"/reflections/{excellent['id']}", settings=settings, actor=zhang) as page:
        assert "徐娜 的心得" in page.text
        body = page.one(lambda n: _class_has(n, "rf-body"), "body")
        assert _text(body) == "第一段。\n\n第二段。"
        grade = page.one(lambda n: _attr(n, "aria-labelledby") == "rf-grade-title", "grade")
        assert "优秀" in _text(grade)
        assert "先倾听再方案" in _text(grade)
        assert page.links()["‹"] == "/reflections"
        assert _attr(page.by_label("返回心得"), "href") == "/reflections"


async def test_photos_are_shown_sized_with_alt_text(settings: Any) -> None:
    from backend.reflections.tables import Photo

    zhang = await actor_named("zhang")
    waiting = await _waiting()
    author = await _submission(str(waiting["author"]))
    rows = await Photo.insert(
        Photo(owner=author["employee"], submission=waiting["id"], storage_key="x", width=4, height=3, size=1)
    ).returning(Photo.id)
    photo_id = rows[0]["id"]
    await Submission.update({Submission.photo_ids: [photo_id]}).where(Submission.id == waiting["id"])
    async with rendered_page(f"/reflections/{waiting['id']}", settings=settings, actor=zhang) as page:
        img = page.one(lambda n: n.get("tagName") == "img", "photo")
        assert _attr(img, "src") == f"/api/v1/photos/{photo_id}"
        assert _attr(img, "alt") == f"{waiting['author']} 的心得照片 1"
        assert _attr(img, "width") and _attr(img, "height")


async def test_likes_toggle_and_persist(settings: Any) -> None:
    zhang = await actor_named("zhang")
    waiting = await _waiting()
    before = (await _submission(str(waiting["author"])))["like_count"]
    path = f"/reflections/{waiting['id']}"
    async with rendered_page(path, settings=settings, actor=zhang) as page:
        like = _like_button(page)
        assert _attr(like, "aria-pressed") == "false"
        assert _text(like) == f"赞{before}"
        await page.fire(like, "onClick")
        like = _like_button(page)
        assert _attr(like, "aria-pressed") == "true"
        assert _text(like) == f"赞{before + 1}"
    async with rendered_page(path, settings=settings, actor=zhang) as page:  # a fresh visit
        like = _like_button(page)
        assert _attr(like, "aria-pressed") == "true"
        assert _text(like) == f"赞{before + 1}"
        await page.fire(like, "onClick")
        assert _attr(_like_button(page), "aria-pressed") == "false"
        assert _text(_like_button(page)) == f"赞{before}"
    assert not await ReflectionLike.exists().where(
        (ReflectionLike.submission == waiting["id"]) & (ReflectionLike.employee == zhang.employee_id)
    )


async def test_a_comment_is_added_and_deleted_by_its_author_after_confirming(settings: Any) -> None:
    zhang = await actor_named("zhang")
    waiting = await _waiting()
    async with rendered_page(f"/reflections/{waiting['id']}", settings=settings, actor=zhang) as page:
        assert "还没有评论，来说两句吧。" in page.text
        await page.type("写评论", "复盘清单很实用，我也试试")
        assert "12/1000" in page.text  # the live counter
        await page.submit(_form_named(page, "评论这篇心得"))
        assert "评论已发表" in _statuses(page)
        comment = page.one(lambda n: _class_has(n, "rf-comment"), "comment")
        assert "张丽华" in _text(comment) and "复盘清单很实用，我也试试" in _text(comment)
        assert _attr(page.by_label("写评论"), "value") == ""  # the form is ready for the next one
        await page.click("删除 张丽华 的评论")
        # Nothing is deleted before the confirmation; cancelling keeps it.
        assert await ReflectionComment.count().where(ReflectionComment.submission == waiting["id"]) == 1
        await page.click("取消删除 张丽华 的评论")
        await page.click("删除 张丽华 的评论")
        await page.click("确认删除 张丽华 的评论")
        assert "评论已删除" in _statuses(page)
        assert "还没有评论，来说两句吧。" in page.text
    assert await ReflectionComment.count().where(ReflectionComment.submission == waiting["id"]) == 0


async def test_an_empty_comment_is_refused_in_the_users_language(settings: Any) -> None:
    zhang = await actor_named("zhang")
    waiting = await _waiting()
    async with rendered_page(f"/reflections/{waiting['id']}", settings=settings, actor=zhang) as page:
        await page.submit(_form_named(page, "评论这篇心得"))
        assert "此项必填" in _alerts(page)
    async with rendered_page(
        f"/reflections/{waiting['id']}", settings=settings, actor=zhang, accept_language="en"
    ) as page:
        await page.submit(_form_named(page, "Comment on this reflection"))
        assert any(alert.strip() for alert in _alerts(page))
        assert "此项必填" not in _alerts(page)


async def test_others_comments_have_no_delete_button_for_zhang(settings: Any) -> None:
    zhang = await actor_named("zhang")
    good = await _submission("周娜")  # commented on by the manager
    async with rendered_page(f"/reflections/{good['id']}", settings=settings, actor=zhang) as page:
        assert "李强" in page.text
        assert not page.all(
            lambda n: n.get("tagName") == "button" and str(_attr(n, "aria-label") or "").startswith("删除")
        )


async def test_zhang_cannot_see_the_grading_form(settings: Any) -> None:
    zhang = await actor_named("zhang")
    waiting = await _waiting()
    async with rendered_page(f"/reflections/{waiting['id']}", settings=settings, actor=zhang) as page:
        assert not page.all(lambda n: _attr(n, "aria-labelledby") == "rf-grading-title")
        assert not page.all(lambda n: _attr(n, "type") == "radio")
        assert "提交评分" not in page.text
        assert "精选到展示墙" not in page.text


async def test_the_author_sees_counts_but_no_like_button(settings: Any) -> None:
    author = await actor_named("zhang")
    from backend.reflections.services import submission_submit

    result = await submission_submit(
        actor=author,
        assignment_id=await _sales_assignment_id(),
        body="我的心得：先倾听，再给方案。" * 10,
        photo_ids=[],
        idempotency_key="ui-test-own-0001",
    )
    async with rendered_page(f"/reflections/{result.submission_id}", settings=settings, actor=author) as page:
        assert not page.all(lambda n: n.get("tagName") == "button" and _class_has(n, "rf-like"))
        assert "0 个赞" in page.text


async def test_manager_grades_the_waiting_one_excellent_and_features_it(settings: Any) -> None:
    manager = await actor_named("manager")
    waiting = await _waiting()
    path = f"/reflections/{waiting['id']}"
    async with rendered_page(path, settings=settings, actor=manager) as page:
        form = _grading_form(page)
        assert "评分" in _text(form)
        labels = [_text(n) for n in page.all(lambda n: n.get("tagName") == "label" and _class_has(n, "chip"))]
        assert labels == ["优秀", "良好", "合格", "需修改"]
        assert "精选到展示墙" not in page.text  # only once graded 优秀
        await page.fire(page.by_label("优秀"), "onChange", {"target": {"checked": True}})
        assert _attr(page.by_label("优秀"), "checked") is True
        await page.type("评语", "复盘的方法讲得具体，值得推广。")
        await page.submit(_grading_form(page))
        assert "已评分：优秀" in _statuses(page)
        grade = page.one(lambda n: _attr(n, "aria-labelledby") == "rf-grade-title", "grade")
        assert "优秀" in _text(grade) and "复盘的方法讲得具体" in _text(grade)
        switch = page.by_label("精选到展示墙")
        assert _attr(switch, "role") == "switch"
        assert _attr(switch, "checked") is False
        await page.fire(switch, "onChange", {"target": {"checked": True}})
        assert "已精选到展示墙" in _statuses(page)
        assert _attr(page.by_label("精选到展示墙"), "checked") is True
    row = (
        await Submission.select(Submission.state, Submission.grade, Submission.featured)
        .where(Submission.id == waiting["id"])
        .first()
    )
    assert row == {"state": "graded", "grade": "excellent", "featured": True}
    # It is on the featured wall of 华东大区's people.
    zhang = await actor_named("zhang")
    async with rendered_page("/reflections/featured", settings=settings, actor=zhang) as page:
        assert "精选展示墙" in page.text
        assert str(waiting["author"]) in _card_authors(page)
        assert "徐娜" in _card_authors(page)
    async with rendered_page(
        "/reflections/featured", settings=settings, actor=zhang, query_string="scope=department"
    ) as page:
        assert str(waiting["author"]) in _card_authors(page)


async def test_revise_needs_a_new_due_date(settings: Any) -> None:
    manager = await actor_named("manager")
    waiting = await _waiting()
    path = f"/reflections/{waiting['id']}"
    async with rendered_page(path, settings=settings, actor=manager) as page:
        await page.submit(_grading_form(page))
        assert "请选择评分。" in _alerts(page)
        await page.fire(page.by_label("需修改"), "onChange", {"target": {"checked": True}})
        await page.type("评语", "请补充下周的具体行动。")
        await page.submit(_grading_form(page))
        assert "选择“需修改”时，请填写新的截止日期。" in _alerts(page)
        assert _attr(page.by_label("新的截止日期"), "aria-invalid") == "true"
        assert (await _submission(str(waiting["author"])))["state"] == "submitted"  # nothing happened
        due = (dt.datetime.now(ZoneInfo("Asia/Shanghai")) + dt.timedelta(days=4)).date()
        await page.type("新的截止日期", due.isoformat())
        await page.submit(_grading_form(page))
        assert "已评分：需修改" in _statuses(page)
        assert "退回修改" in page.text
        assert not page.all(lambda n: _attr(n, "aria-labelledby") == "rf-grading-title")
    row = (
        await Submission.select(Submission.state, Submission.due_at)
        .where(Submission.id == waiting["id"])
        .first()
    )
    assert row is not None and row["state"] == "returned"
    assert row["due_at"].astimezone(ZoneInfo("Asia/Shanghai")).date() == due


async def test_revise_without_feedback_is_refused_by_the_service_in_the_users_language(settings: Any) -> None:
    manager = await actor_named("manager")
    waiting = await _waiting()
    async with rendered_page(f"/reflections/{waiting['id']}", settings=settings, actor=manager) as page:
        await page.fire(page.by_label("需修改"), "onChange", {"target": {"checked": True}})
        due = (dt.datetime.now(ZoneInfo("Asia/Shanghai")) + dt.timedelta(days=4)).date()
        await page.type("新的截止日期", due.isoformat())
        await page.submit(_grading_form(page))
        assert "此项必填" in _alerts(page)
        assert _attr(page.by_label("评语"), "aria-invalid") == "true"


# visibility ------------------------------------------------------------------
async def test_wang_sees_no_department_reflections_of_another_department(settings: Any) -> None:
    wang = await actor_named("wang")
    waiting = await _waiting()
    for query in ("scope=department", "scope=organisation", "scope=organisation&sort=likes"):
        async with rendered_page("/reflections", settings=settings, actor=wang, query_string=query) as page:
            assert "大客户关系维护" not in page.text, query
            assert not {"徐娜", "周娜", "朱艳", "林刚"} & set(_card_authors(page)), query
    async with rendered_page(
        "/reflections", settings=settings, actor=wang, query_string="scope=organisation"
    ) as page:
        assert _card_authors(page) == ["高建华"]
    async with rendered_page(f"/reflections/{waiting['id']}", settings=settings, actor=wang) as page:
        assert "未找到该内容，或你无权查看。" in page.text
        assert "这篇心得不存在，或者你没有查看它的权限。" in page.text
        assert str(waiting["author"]) not in page.text
        assert "大客户关系维护" not in page.text
    async with rendered_page("/reflections/featured", settings=settings, actor=wang) as page:
        assert "展示墙上还没有心得" in page.text


async def test_a_returned_reflection_is_not_found_for_colleagues(settings: Any) -> None:
    zhang = await actor_named("zhang")
    returned = await _submission("林刚")
    async with rendered_page(f"/reflections/{returned['id']}", settings=settings, actor=zhang) as page:
        assert "这篇心得不存在，或者你没有查看它的权限。" in page.text
    async with rendered_page("/reflections/999999", settings=settings, actor=zhang) as page:
        assert "这篇心得不存在，或者你没有查看它的权限。" in page.text


async def _actor_for_employee(name: str) -> Any:
    """A demo colleague without a sign-in account, acting as themselves."""
    from backend.lib.policy import ROLE_EMPLOYEE, Actor
    from backend.org.tables import Employee

    row = await Employee.select(Employee.id, Employee.department).where(Employee.name == name).first()
    assert row is not None, name
    return Actor(
        account_id=0,
        username="",
        employee_id=int(row["id"]),
        department_id=int(row["department"]),
        roles=frozenset({ROLE_EMPLOYEE}),
    )


async def test_a_returned_reflection_is_back_on_its_authors_list_with_the_feedback(settings: Any) -> None:
    lin = await _actor_for_employee("林刚")
    assignment_id = await _sales_assignment_id()
    async with rendered_page("/reflections", settings=settings, actor=lin) as page:
        cell = page.one(
            lambda n: n.get("tagName") == "a" and _attr(n, "href") == f"/write/{assignment_id}", "assignment"
        )
        assert "退回修改" in _text(cell)
        assert "还剩 5 天" in _text(cell)  # the new due date the manager gave
        assert "评语：请补充你准备怎样把检查清单用到下一次投诉处理中。" in _text(cell)
    async with rendered_page("/", settings=settings, actor=lin) as page:
        assert "写心得：大客户关系维护" in page.text
    returned = await _submission("林刚")
    async with rendered_page(f"/reflections/{returned['id']}", settings=settings, actor=lin) as page:
        assert "退回修改" in page.text
        assert "需修改" in page.text and "请补充你准备怎样" in page.text
        assert not page.all(lambda n: _attr(n, "aria-label") == "评论这篇心得")  # not open for comments


async def test_hr_may_delete_anyones_comment(settings: Any) -> None:
    hr = await actor_named("hr")
    good = await _submission("周娜")
    async with rendered_page(f"/reflections/{good['id']}", settings=settings, actor=hr) as page:
        await page.click("删除 李强 的评论")
        await page.click("确认删除 李强 的评论")
        assert "评论已删除" in _statuses(page)
    assert await ReflectionComment.count().where(ReflectionComment.submission == good["id"]) == 0


async def test_the_feed_pages_through_links(settings: Any) -> None:
    from backend.org.tables import Employee

    zhang = await actor_named("zhang")
    rnd = await Assignment.select(Assignment.id).where(Assignment.training.title == "代码评审实践").first()
    assert rnd is not None
    taken = {row["employee"] for row in await Submission.select(Submission.employee)}
    people = [
        row
        for row in await Employee.select(Employee.id, Employee.department).order_by(Employee.id)
        if row["id"] not in taken and row["id"] != zhang.employee_id
    ][:22]
    assert len(people) == 22
    now = dt.datetime.now(dt.UTC)
    await Submission.insert(
        *[
            Submission(
                assignment=rnd["id"],
                employee=person["id"],
                department=person["department"],
                state="submitted",
                body=f"第 {index} 篇",
                version=1,
                submitted_at=now - dt.timedelta(minutes=index),
            )
            for index, person in enumerate(people)
        ]
    )
    query = "scope=organisation&sort=newest"
    async with rendered_page("/reflections", settings=settings, actor=zhang, query_string=query) as page:
        assert len(_cards(page)) == 20
        pager = page.one(lambda n: n.get("tagName") == "nav" and _attr(n, "aria-label") == "分页", "pager")
        assert "第 1 / 2 页" in _text(pager) and "共 26 条" in _text(pager)
        assert page.links()["下一页"] == "/reflections?scope=organisation&sort=newest&page=2"
        assert "上一页" not in page.links()  # nothing before the first page
    async with rendered_page(
        "/reflections", settings=settings, actor=zhang, query_string=query + "&page=2"
    ) as page:
        assert len(_cards(page)) == 6
        assert page.links()["上一页"] == "/reflections?scope=organisation&sort=newest&page=1"
        assert "下一页" not in page.links()
