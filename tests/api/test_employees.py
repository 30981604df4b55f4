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
