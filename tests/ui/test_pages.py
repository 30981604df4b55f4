"""Layout tests of the shell and the pages every user sees."""

from __future__ import annotations

from typing import Any

import pytest

from tests.ui.harness import _text, _walk, actor_named, rendered_page

pytestmark = pytest.mark.usefixtures("demo")


async def test_signed_out_visitors_see_the_sign_in_form(settings: Any) -> None:
    async with rendered_page("/courses", settings=settings, actor=None) as page:
        assert "登录学习圈" in page.text
        form = page.one(lambda n: n.get("tagName") == "form", "form")
        assert form["attributes"]["action"] == "/auth/login"
        assert page.by_label("账号或工号")["attributes"]["name"] == "username"
        assert page.by_label("密码")["attributes"]["type"] == "password"
        next_field = page.one(lambda n: n.get("attributes", {}).get("name") == "next", "next")
        assert (
            next_field["attributes"].get("defaultValue", next_field["attributes"].get("value")) == "/courses"
        )
        assert "演示账号" not in page.text  # demo accounts only in demo mode


async def test_demo_mode_lists_the_demo_accounts(settings: Any) -> None:
    import msgspec

    demo_settings = msgspec.structs.replace(
        settings, server=msgspec.structs.replace(settings.server, demo=True)
    )
    async with rendered_page("/login", settings=demo_settings, actor=None) as page:
        for username in ("hr", "trainer", "manager", "zhang", "wang"):
            assert page.button(f"以 {username} 的身份登录")


async def test_failed_sign_in_shows_the_reason(settings: Any) -> None:
    async with rendered_page(
        "/login", settings=settings, actor=None, query_string="error=invalid&username=zhang"
    ) as page:
        alert = page.one(lambda n: n.get("attributes", {}).get("role") == "alert", "alert")
        assert "账号或密码不正确" in str(alert)


async def test_home_in_chinese_with_tab_bar_and_todos(settings: Any) -> None:
    zhang = await actor_named("zhang")
    async with rendered_page("/", settings=settings, actor=zhang) as page:
        assert "你好，张丽华" in page.text
        assert "写心得：大客户关系维护" in page.text  # her reflection due in two days
        assert "暂时没有待办事项" not in page.text
        nav = page.one(lambda n: n.get("tagName") == "nav", "navigation")
        assert nav["attributes"]["aria-label"] == "主导航"
        tabs = nav["children"]
        # Each tab is just a link and its label; the icon is drawn by CSS from data-tab.
        assert [(tab["tagName"], tab["attributes"]["data-tab"]) for tab in tabs] == [
            ("a", "home"),
            ("a", "courses"),
            ("a", "reflections"),
            ("a", "points"),
            ("a", "notifications"),
            ("a", "me"),
        ]
        assert [[child["tagName"] for child in tab["children"]] for tab in tabs] == [["span"]] * 6
        assert [str(tab["children"][0]["children"][0]) for tab in tabs] == [
            "首页",
            "课程",
            "心得",
            "积分",
            "通知",
            "我的",
        ]
        current = [tab for tab in tabs if tab["attributes"].get("aria-current") == "page"]
        assert len(current) == 1 and current[0]["attributes"]["href"] == "/"
        assert not page.all(lambda n: n.get("tagName") in ("svg", "path"))  # no inline icons
        assert "/admin/employees" not in page.links().values()  # an employee has no admin links


async def test_the_shell_renders_one_navigation_for_all_screens(settings: Any) -> None:
    hr = await actor_named("hr")
    async with rendered_page("/", settings=settings, actor=hr) as page:
        nav = page.one(lambda n: n.get("tagName") == "nav", "navigation")
        hrefs = [child["attributes"]["href"] for child in nav["children"] if child.get("tagName") == "a"]
        assert hrefs == [
            "/",
            "/courses",
            "/reflections",
            "/points",
            "/notifications",
            "/me",
            "/admin/employees",
            "/admin/departments",
            "/studio",
            "/admin/trainings",
            "/reflections/grading",
            "/admin/archive",
            "/points/approvals",
            "/points/team",
            "/admin/points",
            "/admin/reminders",
            "/admin/notifications/settings",
        ]
        assert page.one(lambda n: "appnav-title" in n.get("attributes", {}).get("className", ""))[
            "children"
        ] == ["管理"]


async def test_home_in_english_from_accept_language(settings: Any) -> None:
    zhang = await actor_named("zhang")
    async with rendered_page("/", settings=settings, actor=zhang, accept_language="en-US,en;q=0.9") as page:
        assert "Hello, 张丽华" in page.text
        assert "Write a reflection: 大客户关系维护" in page.text and "days left" in page.text


async def test_manager_and_hr_see_admin_links(settings: Any) -> None:
    manager = await actor_named("manager")
    async with rendered_page("/", settings=settings, actor=manager) as page:
        links = page.links()
        assert links.get("员工管理") == "/admin/employees"
        assert "部门管理" not in links
    hr = await actor_named("hr")
    async with rendered_page("/", settings=settings, actor=hr) as page:
        assert page.links().get("部门管理") == "/admin/departments"


async def test_me_page_lists_admin_pages_for_those_who_have_them(settings: Any) -> None:
    def admin_section(page: Any) -> list[Any]:
        return page.all(lambda n: n.get("attributes", {}).get("aria-labelledby") == "admin-title")

    manager = await actor_named("manager")
    async with rendered_page("/me", settings=settings, actor=manager) as page:
        (section,) = admin_section(page)
        links = [n for n in _walk(section) if n.get("tagName") == "a"]
        assert [(_text(link["children"][0]), link["attributes"]["href"]) for link in links] == [
            ("员工管理", "/admin/employees"),
            ("批改", "/reflections/grading"),
            ("心得归档", "/admin/archive"),
            ("兑换审批", "/points/approvals"),
            ("团队积分", "/points/team"),
            ("提醒", "/admin/reminders"),
        ]
    wang = await actor_named("wang")
    async with rendered_page("/me", settings=settings, actor=wang) as page:
        assert admin_section(page) == []
        assert "员工管理" not in page.text


async def test_me_page_changes_language_at_once(settings: Any) -> None:
    wang = await actor_named("wang")
    async with rendered_page("/me", settings=settings, actor=wang) as page:
        assert "E0005" in page.text and "研发部" in page.text
        await page.fire(page.by_label("语言"), "onChange", {"target": {"value": "en"}})
        assert "Change password" in page.text
        assert "Language saved" in page.text
    from backend.org.tables import Employee

    stored = await Employee.select(Employee.locale).where(Employee.employee_no == "E0005").first()
    assert stored == {"locale": "en"}


async def test_me_page_sets_my_own_email_address(settings: Any) -> None:
    from backend.org.tables import Employee

    def email_form(page: Any) -> Any:
        return page.one(lambda n: n.get("attributes", {}).get("aria-labelledby") == "email-title", "form")

    async def stored() -> str:
        row = await Employee.select(Employee.email).where(Employee.employee_no == "E0005").first()
        return str(row["email"])

    wang = await actor_named("wang")
    async with rendered_page("/me", settings=settings, actor=wang) as page:
        field = page.by_label("邮箱地址")
        assert field["attributes"]["value"] == "wang@demo.learnloop.example"
        assert field["attributes"]["type"] == "email" and field["attributes"]["autoComplete"] == "email"
        await page.type("邮箱地址", "wang lei@example.com")
        await page.submit(email_form(page))
        assert page.by_id("me-email-error")["children"] == ["请填写有效的邮箱地址，例如 zhang@example.com。"]
        assert page.by_label("邮箱地址")["attributes"]["aria-invalid"] == "true"
        assert await stored() == "wang@demo.learnloop.example"  # nothing written
        await page.type("邮箱地址", " Wang.Lei@Example.COM")
        await page.submit(email_form(page))
        assert "邮箱已保存" in page.text
        assert not page.all(lambda n: n.get("attributes", {}).get("id") == "me-email-error")
        assert page.by_label("邮箱地址")["attributes"]["value"] == "Wang.Lei@example.com"
        assert await stored() == "Wang.Lei@example.com"
        await page.type("邮箱地址", "")
        await page.submit(email_form(page))
        assert "已删除邮箱，不再接收个人邮件" in page.text
        assert await stored() == ""
    async with rendered_page("/me", settings=settings, actor=wang, accept_language="en") as page:
        assert page.by_label("E-mail address")
        assert page.button("Save e-mail address")


async def test_me_page_password_change_validates(settings: Any) -> None:
    wang = await actor_named("wang")
    async with rendered_page("/me", settings=settings, actor=wang) as page:
        await page.type("当前密码", "learnloop-demo")
        await page.type("新密码", "short")
        await page.submit(
            page.one(lambda n: n.get("attributes", {}).get("aria-labelledby") == "password-title", "form")
        )
        assert "新密码至少需要 8 个字符" in page.text


async def test_unknown_path_is_a_friendly_not_found(settings: Any) -> None:
    zhang = await actor_named("zhang")
    async with rendered_page("/no/such/page", settings=settings, actor=zhang) as page:
        assert "未找到该内容" in page.text
        assert page.links().get("首页") == "/"


async def test_an_open_page_signs_out_when_the_session_ends(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pwa.app
    from backend.accounts.services import session_login, sessions_end_for_account

    monkeypatch.setattr(pwa.app, "SESSION_RECHECK_SECONDS", 0.05)
    signed_in = await session_login(
        login="wang", password="learnloop-demo", address="127.0.0.1", user_agent="test", auth=settings.auth
    )
    async with rendered_page(
        "/", settings=settings, actor=signed_in.actor, session_token=signed_in.token
    ) as page:
        assert "你好，王磊" in page.text
        await sessions_end_for_account(signed_in.actor.account_id)  # e.g. HR marked wang departed
        await page.settle(0.5)
        assert "登录学习圈" in page.text and "王磊" not in page.text


def test_the_app_renders_serially(settings: Any) -> None:
    """ReactPy 2.0.0b13's parallel renderer can deliver an older render after a newer one."""
    from reactpy.config import REACTPY_ASYNC_RENDERING

    from backend.app import create_app

    REACTPY_ASYNC_RENDERING.set_current(True)
    create_app(settings)
    assert REACTPY_ASYNC_RENDERING.current is False
