"""The policy matrix over the employees API: scope is enforced in the services, outside it is 404."""

from __future__ import annotations

from typing import Any

import pytest

from backend.org.tables import Department, Employee
from tests.conftest import AppClient, app_client, login

pytestmark = pytest.mark.usefixtures("backend_name", "demo")


async def _employee_id(name: str) -> int:
    row = await Employee.select(Employee.id).where(Employee.name == name).first()
    assert row is not None
    return int(row["id"])


async def _department_id(name: str) -> int:
    row = await Department.select(Department.id).where(Department.name == name).first()
    assert row is not None
    return int(row["id"])


async def test_sales_manager_gets_404_for_an_rd_employee(client: AppClient) -> None:
    await login(client, "manager")
    wang = await _employee_id("王磊")
    response = await client.get(f"/api/v1/employees/{wang}")
    assert response.status_code == 404
    zhang = await _employee_id("张丽华")  # 华东大区 is inside 销售部
    assert (await client.get(f"/api/v1/employees/{zhang}")).json()["name"] == "张丽华"


async def test_manager_list_holds_only_their_subtree(client: AppClient) -> None:
    await login(client, "manager")
    sales_ids = {
        row["id"]
        for row in await Department.select(Department.id).where(
            Department.path.like(f"%/{await _department_id('销售部')}/%")
        )
    }
    names: list[str] = []
    page = 1
    while True:
        body = (await client.get("/api/v1/employees", params={"page": page})).json()
        names += [item["name"] for item in body["items"]]
        assert all(item["department"]["id"] in sales_ids for item in body["items"])
        if page >= body["pages"]:
            break
        page += 1
    assert "张丽华" in names and "王磊" not in names
    assert len(names) == body["total"]
    rd = await _department_id("研发部")
    assert (await client.get("/api/v1/employees", params={"department_id": rd})).status_code == 404


async def test_hr_and_auditor_see_everyone_and_filter(client: AppClient) -> None:
    await login(client, "hr")
    body = (await client.get("/api/v1/employees")).json()
    assert body["total"] == 60 and len(body["items"]) == 20 and body["pages"] == 3
    rd = await _department_id("研发部")
    in_rd = (await client.get("/api/v1/employees", params={"department_id": rd})).json()
    assert in_rd["total"] >= 1 and {i["department"]["name"] for i in in_rd["items"]} == {"研发部"}
    search = (await client.get("/api/v1/employees", params={"q": "王磊"})).json()
    assert [item["employee_no"] for item in search["items"]] == ["E0005"]
    by_number = (await client.get("/api/v1/employees", params={"q": "E0004"})).json()
    assert by_number["items"][0]["name"] == "张丽华"


async def test_plain_employee_cannot_list_people(client: AppClient) -> None:
    await login(client, "wang")
    assert (await client.get("/api/v1/employees")).status_code == 403
    own = await _employee_id("王磊")
    assert (await client.get(f"/api/v1/employees/{own}")).status_code == 200
    other = await _employee_id("张丽华")
    assert (await client.get(f"/api/v1/employees/{other}")).status_code == 404


async def test_anonymous_is_401(client: AppClient) -> None:
    assert (await client.get("/api/v1/employees")).status_code == 401
    assert (await client.get("/api/v1/me")).status_code == 401


async def test_deactivated_employee_is_signed_out_and_cannot_sign_in(
    client: AppClient, settings: Any
) -> None:
    from backend.accounts.selectors import actor_for_account
    from backend.accounts.tables import Account
    from backend.org.services import employee_set_status

    async with app_client(settings) as wang_client:
        await login(wang_client, "wang")
        hr_account = await Account.select(Account.id).where(Account.username == "hr").first()
        hr = await actor_for_account(hr_account["id"])
        await employee_set_status(actor=hr, employee_id=await _employee_id("王磊"), active=False)
        assert (await wang_client.get("/api/v1/me")).status_code == 401
        again = await wang_client.post(
            "/api/v1/auth/login", json={"username": "wang", "password": "learnloop-demo"}
        )
        assert again.status_code == 401


async def test_services_bound_their_own_input() -> None:
    """Pages call services directly (no API structs in between): the services refuse bad input."""
    from backend.accounts.selectors import actor_for_account
    from backend.accounts.tables import Account
    from backend.lib.errors import ValidationFailed
    from backend.org.services import department_create, employee_create

    hr_account = await Account.select(Account.id).where(Account.username == "hr").first()
    hr = await actor_for_account(hr_account["id"])
    department = await _department_id("研发部")
    cases = [
        ({"employee_no": "E 99", "name": "某人"}, "employee_no", "error.employee_no_format"),
        ({"employee_no": "E0999", "name": "名" * 101}, "name", "error.name_too_long"),
        (
            {"employee_no": "E0999", "name": "某人", "username": "有 空格", "password": "long-enough"},
            "username",
            "error.username_format",
        ),
        (
            {"employee_no": "E0999", "name": "某人", "username": "someone", "password": "short"},
            "password",
            "error.password_too_short",
        ),
    ]
    for fields, field, key in cases:
        with pytest.raises(ValidationFailed) as refused:
            await employee_create(actor=hr, department_id=department, **fields)
        assert (refused.value.field, refused.value.key) == (field, key)
    with pytest.raises(ValidationFailed):
        await department_create(actor=hr, name=" " * 3)
    assert not await Employee.exists().where(Employee.employee_no == "E0999")


async def test_a_managers_record_names_the_department_they_manage(client: AppClient) -> None:
    await login(client, "hr")
    manager = (await client.get(f"/api/v1/employees/{await _employee_id('李强')}")).json()
    assert "manager" in manager["roles"]
    assert manager["managed_department"] == {"id": await _department_id("销售部"), "name": "销售部"}
    plain = (await client.get(f"/api/v1/employees/{await _employee_id('王磊')}")).json()
    assert plain["managed_department"] is None


# e-mail addresses -------------------------------------------------------------------------------
async def _email_of(employee_id: int) -> str:
    row = await Employee.select(Employee.email).where(Employee.id == employee_id).first()
    assert row is not None
    return str(row["email"])


async def test_hr_adds_and_changes_an_employee_with_an_address(client: AppClient) -> None:
    await login(client, "hr")
    rd = await _department_id("研发部")
    new = {"employee_no": "E0100", "name": "赵新人", "department_id": rd, "email": " Zhao.Xin@Example.COM "}
    created = await client.post("/api/v1/employees", json=new)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["email"] == "Zhao.Xin@example.com"  # trimmed, the domain in lower case
    assert (await client.get(f"/api/v1/employees/{body['id']}")).json()["email"] == "Zhao.Xin@example.com"
    listed = (await client.get("/api/v1/employees", params={"q": "E0100"})).json()
    assert listed["items"][0]["email"] == "Zhao.Xin@example.com"

    change = {"name": "赵新人", "department_id": rd, "email": "zhao@learn.example.com"}
    changed = await client.put(f"/api/v1/employees/{body['id']}", json=change)
    assert changed.status_code == 200 and changed.json()["email"] == "zhao@learn.example.com"
    # an integration that does not know the field leaves the address alone; "" removes it
    renamed = await client.put(f"/api/v1/employees/{body['id']}", json={"name": "赵新", "department_id": rd})
    assert renamed.json()["email"] == "zhao@learn.example.com" and renamed.json()["name"] == "赵新"
    removed = await client.put(f"/api/v1/employees/{body['id']}", json={**change, "email": ""})
    assert removed.json()["email"] == ""


async def test_a_bad_address_is_a_422_in_the_readers_language_and_nothing_is_written(
    client: AppClient,
) -> None:
    await login(client, "hr")
    rd = await _department_id("研发部")
    new = {"employee_no": "E0101", "name": "钱多多", "department_id": rd, "email": "qian@example"}
    refused = await client.post("/api/v1/employees", json=new)
    assert refused.status_code == 422
    assert refused.json()["error"] == {
        "code": "email_invalid",
        "message": "请填写有效的邮箱地址，例如 zhang@example.com。",
        "field": "email",
        "detail": None,
    }
    english = await client.post("/api/v1/employees", json=new, headers={"Accept-Language": "en"})
    assert english.status_code == 422
    assert english.json()["error"]["message"] == "Enter a valid e-mail address, e.g. zhang@example.com."
    too_long = await client.post(
        "/api/v1/employees", json={**new, "email": "q" * 64 + "@" + "x" * 187 + ".cn"}
    )
    assert too_long.status_code == 422
    assert too_long.json()["error"]["message"] == "邮箱地址不能超过 254 个字符。"
    assert not await Employee.exists().where(Employee.employee_no == "E0101")

    wang = await _employee_id("王磊")
    before = await _email_of(wang)
    change = {"name": "王磊磊", "department_id": rd, "email": "wang lei@example.com"}
    assert (await client.put(f"/api/v1/employees/{wang}", json=change)).status_code == 422
    stored = await Employee.select(Employee.name, Employee.email).where(Employee.id == wang).first()
    assert stored == {"name": "王磊", "email": before}  # the name did not change either


async def test_a_person_sets_their_own_address(client: AppClient) -> None:
    await login(client, "zhang")
    zhang = await _employee_id("张丽华")
    saved = await client.put("/api/v1/me/email", json={"email": "  Zhang.LH@Example.com"})
    assert saved.status_code == 200 and saved.json() == {"email": "Zhang.LH@example.com"}
    assert (await client.get(f"/api/v1/employees/{zhang}")).json()["email"] == "Zhang.LH@example.com"
    bad = await client.put("/api/v1/me/email", json={"email": "zhang@@example.com"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "email"
    assert await _email_of(zhang) == "Zhang.LH@example.com"
    assert (await client.put("/api/v1/me/email", json={"email": ""})).json() == {"email": ""}
    assert await _email_of(zhang) == ""


async def test_nobody_but_hr_changes_another_persons_address(client: AppClient, settings: Any) -> None:
    from backend.org.services import roles_assign
    from tests.ui.harness import actor_named

    zhang, wang = await _employee_id("张丽华"), await _employee_id("王磊")
    zhang_before, wang_before = await _email_of(zhang), await _email_of(wang)
    rd, east = await _department_id("研发部"), await _department_id("华东大区")
    await roles_assign(actor=await actor_named("hr"), employee_id=wang, roles=["auditor"])

    await login(client, "zhang")  # a colleague
    change = {"name": "王磊", "department_id": rd, "email": "mine-now@example.com"}
    assert (await client.put(f"/api/v1/employees/{wang}", json=change)).status_code == 403
    async with app_client(settings) as manager:  # in his department subtree: he may read, not write
        await login(manager, "manager")
        assert (await manager.get(f"/api/v1/employees/{zhang}")).json()["email"] == zhang_before
        change = {"name": "张丽华", "department_id": east, "email": "boss-knows@example.com"}
        assert (await manager.put(f"/api/v1/employees/{zhang}", json=change)).status_code == 403
        new = {"employee_no": "E0102", "name": "孙某", "department_id": east}
        assert (await manager.post("/api/v1/employees", json=new)).status_code == 403
    async with app_client(settings) as auditor:  # reads everything, changes nothing
        await login(auditor, "wang")
        change = {"name": "张丽华", "department_id": east, "email": "audit@example.com"}
        assert (await auditor.put(f"/api/v1/employees/{zhang}", json=change)).status_code == 403
    async with app_client(settings) as anonymous:
        assert (await anonymous.put("/api/v1/me/email", json={"email": "x@example.com"})).status_code == 401
    assert (await _email_of(zhang), await _email_of(wang)) == (zhang_before, wang_before)
    assert not await Employee.exists().where(Employee.employee_no == "E0102")


async def test_demo_people_have_addresses_on_a_reserved_domain_but_the_workshop_floors() -> None:
    rows = await Employee.select(Employee.email, Employee.department.name.as_alias("department"))
    floors = [row for row in rows if row["department"] in ("生产部", "一车间", "二车间")]
    assert floors and {row["email"] for row in floors if row["email"]} <= {"trainer@demo.learnloop.example"}
    others = [row["email"] for row in rows if row not in floors]
    assert others and all(email.endswith("@demo.learnloop.example") for email in others)
    zhang = await Employee.select(Employee.email).where(Employee.employee_no == "E0004").first()
    assert zhang == {"email": "zhang@demo.learnloop.example"}
