"""Layout tests of the HR admin screens: employee list, employee record, departments."""

from __future__ import annotations

import re
from typing import Any

import pytest

from backend.accounts.tables import Account, AccountRole
from backend.org.tables import Department, Employee
from tests.ui.harness import Node, Page, actor_named, rendered_page

pytestmark = pytest.mark.usefixtures("demo")

WRITE_CONTROLS = ("input", "select", "textarea", "button", "form")


# small queries ---------------------------------------------------------------
def _attr(node: Node, name: str) -> Any:
    return node.get("attributes", {}).get(name)


def _form(page: Page, labelledby: str) -> Node:
    return page.one(
        lambda n: n.get("tagName") == "form" and _attr(n, "aria-labelledby") == labelledby, labelledby
    )


def _form_named(page: Page, label: str) -> Node:
    return page.one(lambda n: n.get("tagName") == "form" and _attr(n, "aria-label") == label, label)


def _option_texts(select: Node) -> list[str]:
    return [_text(option).strip() for option in select["children"]]


def _option_value(select: Node, text: str) -> str:
    for option in select["children"]:
        if _text(option).strip() == text:
            return str(option["attributes"]["value"])
    raise AssertionError(f"no option {text!r}")


async def _choose(page: Page, label: str, text: str) -> Page:
    select = page.by_label(label)
    return await page.fire(select, "onChange", {"target": {"value": _option_value(select, text)}})


async def _check(page: Page, label: str, checked: bool = True) -> Page:
    return await page.fire(page.by_label(label), "onChange", {"target": {"checked": checked}})


def _record_links(page: Page) -> list[str]:
    return [href for href in page.links().values() if re.fullmatch(r"/admin/employees/\d+", href)]


def _text(node: Any) -> str:
    if isinstance(node, str):
        return node
    return "".join(_text(child) for child in node.get("children", []))


def _error_under(page: Page, field_id: str) -> str:
    """The error message shown under a form field (field_block's `<id>-error`)."""
    return _text(page.by_id(f"{field_id}-error"))


async def _employee_id(employee_no: str) -> int:
    row = await Employee.select(Employee.id).where(Employee.employee_no == employee_no).first()
    assert row is not None, employee_no
    return int(row["id"])


async def _department_id(name: str) -> int:
    row = await Department.select(Department.id).where(Department.name == name).first()
    assert row is not None, name
    return int(row["id"])


# employee list -------------------------------------------------------------
async def test_hr_sees_everyone_and_pages_through(settings: Any) -> None:
    hr = await actor_named("hr")
    async with rendered_page("/admin/employees", settings=settings, actor=hr) as page:
        assert "共 60 人" in page.text
        assert len(_record_links(page)) == 20
        assert page.links()["新增员工"] == "/admin/employees/new"
        assert "E0001" in page.text and "E0021" not in page.text
        await page.click("下一页")
        assert "第 2 / 3 页" in page.text
        assert "E0021" in page.text and "E0001" not in page.text
        assert len(_record_links(page)) == 20


async def test_search_by_name_or_number_starts_at_page_one(settings: Any) -> None:
    hr = await actor_named("hr")
    wang_id = await _employee_id("E0005")
    async with rendered_page("/admin/employees", settings=settings, actor=hr) as page:
        await page.click("下一页")
        await page.type("搜索姓名或工号", "王磊")
        await page.submit(page.one(lambda n: _attr(n, "role") == "search", "search form"))
        assert "共 1 人" in page.text and "E0005" in page.text
        assert page.links()["王磊"] == f"/admin/employees/{wang_id}"
        await page.type("搜索姓名或工号", "E0004")
        await page.submit(page.one(lambda n: _attr(n, "role") == "search", "search form"))
        assert "张丽华" in page.text and "王磊" not in page.text
        await page.type("搜索姓名或工号", "没有这个人")
        await page.submit(page.one(lambda n: _attr(n, "role") == "search", "search form"))
        assert "没有符合条件的员工" in page.text


async def test_department_and_status_filters(settings: Any) -> None:
    hr = await actor_named("hr")
    async with rendered_page("/admin/employees", settings=settings, actor=hr) as page:
        await _choose(page, "部门", "研发部")
        assert "王磊" in page.text and "张丽华" not in page.text
        await _choose(page, "状态", "离职")
        assert "没有符合条件的员工" in page.text


async def test_sales_manager_sees_only_their_subtree(settings: Any) -> None:
    manager = await actor_named("manager")
    async with rendered_page("/admin/employees", settings=settings, actor=manager) as page:
        assert "张丽华" in page.text and "王磊" not in page.text
        assert "新增员工" not in page.links()
        offered = _option_texts(page.by_label("部门"))
        assert {"销售部", "华东大区", "华南大区"} <= set(offered)
        assert "研发部" not in offered and "示例集团" not in offered
        await page.type("搜索姓名或工号", "王磊")
        await page.submit(page.one(lambda n: _attr(n, "role") == "search", "search form"))
        assert "没有符合条件的员工" in page.text


async def test_manager_gets_not_found_outside_scope_without_the_name(settings: Any) -> None:
    manager = await actor_named("manager")
    wang_id = await _employee_id("E0005")
    async with rendered_page(f"/admin/employees/{wang_id}", settings=settings, actor=manager) as page:
        assert "未找到该内容" in page.text
        assert "王磊" not in str(page.model) and "E0005" not in str(page.model)


async def test_plain_employee_has_no_permission(settings: Any) -> None:
    wang = await actor_named("wang")
    for path in ("/admin/employees", "/admin/employees/new", "/admin/departments"):
        async with rendered_page(path, settings=settings, actor=wang) as page:
            assert "没有访问权限" in page.text, path
            assert not page.all(lambda n: n.get("tagName") in ("input", "select", "form")), path


# employee record -------------------------------------------------------------
async def test_hr_creates_an_employee_who_can_sign_in(settings: Any) -> None:
    from backend.accounts.services import session_login

    hr = await actor_named("hr")
    async with rendered_page("/admin/employees/new", settings=settings, actor=hr) as page:
        await page.type("工号", "E0100")
        await page.type("姓名", "赵新人")
        await _choose(page, "部门", "研发部")
        await _choose(page, "岗位", "软件工程师")
        await page.type("直属上级工号", "E0005")
        await page.type("入职日期", "2025-09-01")
        await _choose(page, "语言偏好", "English")
        await page.type("登录账号", "zhaoxr")
        await page.type("初始密码", "first-pass-123")
        await page.submit(_form(page, "employee-form-title"))
        assert "已创建员工 赵新人" in page.text
        new_id = await _employee_id("E0100")
        assert page.links()["查看员工档案"] == f"/admin/employees/{new_id}"
    stored = await Employee.select().where(Employee.id == new_id).first()
    assert stored is not None
    assert stored["name"] == "赵新人" and stored["department"] == await _department_id("研发部")
    assert stored["manager"] == await _employee_id("E0005") and str(stored["hire_date"]) == "2025-09-01"
    assert stored["locale"] == "en" and stored["status"] == "active"
    assert await Account.exists().where((Account.username == "zhaoxr") & (Account.employee == new_id))
    signed_in = await session_login(
        login="E0100", password="first-pass-123", address="127.0.0.1", user_agent="pytest", auth=settings.auth
    )
    assert signed_in.actor.employee_id == new_id


async def test_create_errors_show_under_their_fields(settings: Any) -> None:
    hr = await actor_named("hr")
    async with rendered_page("/admin/employees/new", settings=settings, actor=hr) as page:

        def form() -> Node:
            return _form(page, "employee-form-title")

        await page.type("工号", "E0005")
        await page.type("姓名", "重复的人")
        await page.submit(form())
        assert _error_under(page, "employee-department") == "请选择部门。"
        await _choose(page, "部门", "研发部")
        await page.submit(form())
        assert _error_under(page, "employee-employee-no") == "工号 E0005 已被使用。"
        assert page.by_label("工号")["attributes"]["aria-invalid"] == "true"
        await page.type("工号", "E 9")
        await page.submit(form())
        assert "工号只能包含字母" in _error_under(page, "employee-employee-no")
        await page.type("工号", "E0101")
        await page.type("直属上级工号", "E9999")
        await page.submit(form())
        assert _error_under(page, "employee-manager") == "找不到工号为 E9999 的员工。"
        await page.type("直属上级工号", "")
        await page.type("登录账号", "someone")
        await page.submit(form())
        assert _error_under(page, "employee-password") == "创建登录账号需要同时填写账号和初始密码。"
        assert "已创建员工" not in page.text
    assert await Employee.count().where(Employee.employee_no == "E0005") == 1
    assert not await Employee.exists().where(Employee.employee_no == "E0101")


async def test_hr_edits_a_name(settings: Any) -> None:
    hr = await actor_named("hr")
    wang_id = await _employee_id("E0005")
    async with rendered_page(f"/admin/employees/{wang_id}", settings=settings, actor=hr) as page:
        assert page.by_label("姓名")["attributes"]["value"] == "王磊"
        assert page.by_label("部门")["attributes"]["value"] == str(await _department_id("研发部"))
        await page.type("姓名", "王磊磊")
        await page.submit(_form(page, "employee-form-title"))
        assert "已保存" in page.text
        heading = page.one(lambda n: n.get("tagName") == "h1", "h1")
        assert heading["children"] == ["王磊磊"]
    stored = await Employee.select(Employee.name, Employee.department).where(Employee.id == wang_id).first()
    assert stored == {"name": "王磊磊", "department": await _department_id("研发部")}


async def test_hr_gives_a_new_employee_an_address_and_a_bad_one_shows_why(settings: Any) -> None:
    hr = await actor_named("hr")
    async with rendered_page("/admin/employees/new", settings=settings, actor=hr) as page:
        email = page.by_label("邮箱")
        assert _attr(email, "type") == "email" and _attr(email, "maxLength") == 254
        assert "通知邮件发到这个地址" in _text(page.by_id("employee-email-hint"))
        await page.type("工号", "E0103")
        await page.type("姓名", "周邮件")
        await _choose(page, "部门", "研发部")
        await page.type("邮箱", "zhou@example")
        await page.submit(_form(page, "employee-form-title"))
        assert _error_under(page, "employee-email") == "请填写有效的邮箱地址，例如 zhang@example.com。"
        assert _attr(page.by_label("邮箱"), "aria-invalid") == "true"
        assert not await Employee.exists().where(Employee.employee_no == "E0103")
        await page.type("邮箱", " Zhou@Example.COM ")
        await page.submit(_form(page, "employee-form-title"))
        assert "已创建员工 周邮件" in page.text
    stored = await Employee.select(Employee.email).where(Employee.employee_no == "E0103").first()
    assert stored == {"email": "Zhou@example.com"}


async def test_hr_changes_an_address_and_the_list_shows_it(settings: Any) -> None:
    hr = await actor_named("hr")
    wang_id = await _employee_id("E0005")
    async with rendered_page(f"/admin/employees/{wang_id}", settings=settings, actor=hr) as page:
        assert _attr(page.by_label("邮箱"), "value") == "wang@demo.learnloop.example"
        await page.type("邮箱", "wang.lei@rd.example.com")
        await page.submit(_form(page, "employee-form-title"))
        assert "已保存" in page.text
        assert _attr(page.by_label("邮箱"), "value") == "wang.lei@rd.example.com"
    assert await Employee.select(Employee.email).where(Employee.id == wang_id).first() == {
        "email": "wang.lei@rd.example.com"
    }
    async with rendered_page("/admin/employees", settings=settings, actor=hr) as page:
        await page.type("搜索姓名或工号", "E0005")
        await page.submit(page.one(lambda n: _attr(n, "role") == "search", "search form"))
        assert "wang.lei@rd.example.com" in page.text


async def test_deactivate_needs_confirmation_and_can_be_undone(settings: Any) -> None:
    hr = await actor_named("hr")
    zhang_id = await _employee_id("E0004")

    async def status() -> tuple[str, bool]:
        employee = await Employee.select(Employee.status).where(Employee.id == zhang_id).first()
        account = await Account.select(Account.is_active).where(Account.employee == zhang_id).first()
        assert employee is not None and account is not None
        return employee["status"], account["is_active"]

    async with rendered_page(f"/admin/employees/{zhang_id}", settings=settings, actor=hr) as page:
        await page.click("标记离职")
        assert await status() == ("active", True)
        assert "确定将 张丽华 标记为离职吗？" in page.text
        await page.click("取消")
        assert not page.all(lambda n: n.get("tagName") == "button" and "确认标记离职" in str(n))
        await page.click("标记离职")
        await page.click("确认标记离职")
        assert await status() == ("departed", False)
        assert "已将 张丽华 标记为离职" in page.text
        assert page.button("恢复在职")
        await page.click("撤销")
        assert await status() == ("active", True)
        assert "已恢复在职" in page.text
        assert page.button("标记离职")


async def test_hr_assigns_roles(settings: Any) -> None:
    hr = await actor_named("hr")
    wang_id = await _employee_id("E0005")
    account = await Account.select(Account.id).where(Account.employee == wang_id).first()
    assert account is not None

    async def roles() -> set[str]:
        rows = await AccountRole.select(AccountRole.role).where(AccountRole.account == account["id"])
        return {row["role"] for row in rows}

    async with rendered_page(f"/admin/employees/{wang_id}", settings=settings, actor=hr) as page:
        assert "登录账号：wang" in page.text
        await _check(page, "内训师")
        await page.submit(_form(page, "employee-roles-title"))
        assert "角色已保存" in page.text
        assert await roles() == {"trainer"}
        await _check(page, "部门经理")
        await page.submit(_form(page, "employee-roles-title"))
        assert _error_under(page, "employee-managed-department") == "部门经理角色需要指定其管理的部门。"
        assert await roles() == {"trainer"}
        await _choose(page, "管理的部门", "研发部")
        await page.submit(_form(page, "employee-roles-title"))
        assert await roles() == {"trainer", "manager"}
    manager_row = await AccountRole.select(AccountRole.department).where(
        (AccountRole.account == account["id"]) & (AccountRole.role == "manager")
    )
    assert manager_row == [{"department": await _department_id("研发部")}]


async def test_no_roles_section_without_an_account(settings: Any) -> None:
    hr = await actor_named("hr")
    async with rendered_page(
        f"/admin/employees/{await _employee_id('E0030')}", settings=settings, actor=hr
    ) as page:
        assert page.by_label("姓名")
        assert "角色与权限" not in page.text
        assert not page.all(lambda n: _attr(n, "type") == "checkbox")


async def test_managers_and_auditors_see_a_read_only_record(settings: Any) -> None:
    from backend.org.services import roles_assign

    zhang_id = await _employee_id("E0004")
    await roles_assign(
        actor=await actor_named("hr"), employee_id=await _employee_id("E0005"), roles=["auditor"]
    )
    for username in ("manager", "wang"):
        viewer = await actor_named(username)
        async with rendered_page(f"/admin/employees/{zhang_id}", settings=settings, actor=viewer) as page:
            assert "张丽华" in page.text and "E0004" in page.text and "华东大区" in page.text, username
            assert "zhang@demo.learnloop.example" in page.text, username
            assert not page.all(lambda n: n.get("tagName") in WRITE_CONTROLS), username
    auditor = await actor_named("wang")
    async with rendered_page("/admin/employees", settings=settings, actor=auditor) as page:
        assert "共 60 人" in page.text and "新增员工" not in page.links()
    async with rendered_page("/admin/employees/new", settings=settings, actor=auditor) as page:
        assert "没有访问权限" in page.text


async def test_list_in_english(settings: Any) -> None:
    hr = await actor_named("hr")
    async with rendered_page("/admin/employees", settings=settings, actor=hr, accept_language="en") as page:
        assert "60 people" in page.text and page.links()["Add employee"] == "/admin/employees/new"
        assert page.by_label("Search by name or employee no.")


# departments -----------------------------------------------------------------
async def test_hr_creates_renames_and_deletes_departments(settings: Any) -> None:
    hr = await actor_named("hr")
    rd_id = await _department_id("研发部")
    async with rendered_page("/admin/departments", settings=settings, actor=hr) as page:
        assert "销售部" in page.text and "隶属 销售部 · " in page.text
        await page.type("新部门名称", "AI 实验室")
        await _choose(page, "新部门的上级部门", "研发部")
        await page.submit(_form(page, "department-create-title"))
        assert "已创建部门 AI 实验室" in page.text and "隶属 研发部 · 直属在职 0 人" in page.text
        new_id = await _department_id("AI 实验室")
        assert (await Department.select(Department.parent).where(Department.id == new_id).first()) == {
            "parent": rd_id
        }

        await page.click("编辑 AI 实验室")
        await page.fire(
            page.by_id(f"department-{new_id}-name"), "onChange", {"target": {"value": "智能实验室"}}
        )
        await page.submit(_form_named(page, "编辑部门：AI 实验室"))
        assert "智能实验室" in page.text and "AI 实验室" not in page.text
        assert not await Department.exists().where(Department.name == "AI 实验室")

        await page.click("删除 销售部")
        await page.click("确认删除 销售部")
        assert "该部门下还有子部门或员工，不能删除。" in page.text
        assert await Department.exists().where(Department.name == "销售部")

        await page.click("删除 智能实验室")
        assert await Department.exists().where(Department.id == new_id)
        await page.click("确认删除 智能实验室")
        assert not await Department.exists().where(Department.id == new_id)
        assert "智能实验室" not in page.text.replace("已删除部门 智能实验室", "")


async def test_a_department_cannot_move_under_itself(settings: Any) -> None:
    hr = await actor_named("hr")
    sales_id = await _department_id("销售部")
    async with rendered_page("/admin/departments", settings=settings, actor=hr) as page:
        await page.click("编辑 销售部")
        offered = _option_texts(page.by_id(f"department-{sales_id}-parent"))
        assert "研发部" in offered and "销售部" not in offered and "华东大区" not in offered


async def test_auditor_sees_the_tree_read_only(settings: Any) -> None:
    from backend.org.services import roles_assign

    await roles_assign(
        actor=await actor_named("hr"), employee_id=await _employee_id("E0005"), roles=["auditor"]
    )
    auditor = await actor_named("wang")
    async with rendered_page("/admin/departments", settings=settings, actor=auditor) as page:
        assert "华东大区" in page.text and "隶属 销售部 · " in page.text
        assert not page.all(lambda n: n.get("tagName") in WRITE_CONTROLS)
    manager = await actor_named("manager")
    async with rendered_page("/admin/departments", settings=settings, actor=manager) as page:
        assert "没有访问权限" in page.text


async def test_roles_form_starts_from_the_managed_department(settings: Any) -> None:
    from backend.org.tables import Department, Employee

    hr = await actor_named("hr")
    li = await Employee.select(Employee.id).where(Employee.name == "李强").first()
    sales = await Department.select(Department.id).where(Department.name == "销售部").first()
    async with rendered_page(f"/admin/employees/{li['id']}", settings=settings, actor=hr) as page:
        select = page.by_id("employee-managed-department")
        attributes = select["attributes"]
        assert str(attributes.get("value", attributes.get("defaultValue"))) == str(sales["id"])
