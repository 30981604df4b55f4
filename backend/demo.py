"""Demo data: 示例集团 with departments, ~60 employees and the five demo accounts (password learnloop-demo).

Loaded only into an empty database; running it twice changes nothing.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random

from backend.accounts.passwords import password_hash
from backend.accounts.tables import Account, AccountRole
from backend.lib.db import write_transaction
from backend.lib.policy import ROLE_HR_ADMIN, ROLE_MANAGER, ROLE_TRAINER
from backend.org.services import level_ensure, position_ensure
from backend.org.tables import Department, Employee

DEMO_PASSWORD = "learnloop-demo"  # noqa: S105 - published demo password
ORGANISATION = "示例集团"
# department -> (sub-departments, positions)
DEPARTMENTS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "销售部": (("华东大区", "华南大区"), ("销售代表", "高级销售", "大客户经理")),
    "生产部": (("一车间", "二车间"), ("生产技术员", "班组长", "质检员")),
    "研发部": ((), ("软件工程师", "高级工程师", "测试工程师")),
    "客服部": ((), ("客服专员", "客服主管")),
    "人力资源部": ((), ("招聘专员", "培训专员", "薪酬专员")),
    "财务部": ((), ("会计", "出纳")),
}
LEVELS = (("P1 初级", 1), ("P2 中级", 2), ("P3 高级", 3), ("P4 资深", 4), ("M1 主管", 5), ("M2 经理", 6))
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN = (
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "磊",
    "洋",
    "艳",
    "勇",
    "军",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀英",
    "华",
    "平",
    "刚",
    "桂英",
    "志强",
    "晓燕",
    "建华",
    "海燕",
    "子涵",
    "雨轩",
)
# username, name, department, position, level, role, managed department
ACCOUNTS = (
    ("hr", "刘芳", "人力资源部", "培训专员", "M1 主管", ROLE_HR_ADMIN, None),
    ("trainer", "陈建国", "一车间", "班组长", "P4 资深", ROLE_TRAINER, None),
    ("manager", "李强", "销售部", "大客户经理", "M2 经理", ROLE_MANAGER, "销售部"),
    ("zhang", "张丽华", "华东大区", "高级销售", "P3 高级", None, None),
    ("wang", "王磊", "研发部", "软件工程师", "P2 中级", None, None),
)
EMPLOYEE_COUNT = 60
# Demo addresses on a reserved domain (RFC 2606: nothing can be delivered there). The workshop floors
# have no company mailbox, as in many plants: their e-mail reminders go to the mailing list instead.
EMAIL_DOMAIN = "demo.learnloop.example"
NO_MAILBOX = ("生产部", "一车间", "二车间")


async def _department(name: str, parent: dict[str, object] | None) -> dict[str, object]:
    department = Department(name=name, parent=parent["id"] if parent else None)
    await department.save()
    path = f"{parent['path'] if parent else '/'}{department.id}/"
    await Department.update({Department.path: path}).where(Department.id == department.id)
    return {"id": department.id, "path": path, "name": name}


async def demo_seed() -> bool:
    """Fill an empty database with the demo organisation. Returns False when data already exists."""
    if await Department.exists():
        return False
    rng = random.Random(20261122)
    async with write_transaction(Department):
        root = await _department(ORGANISATION, None)
        departments: dict[str, dict[str, object]] = {}
        positions: dict[str, list[int]] = {}
        for name, (children, position_names) in DEPARTMENTS.items():
            departments[name] = await _department(name, root)
            ids = [await position_ensure(name=p) for p in position_names]
            positions[name] = ids
            for child in children:
                departments[child] = await _department(child, departments[name])
                positions[child] = ids
        levels = {name: await level_ensure(name=name, rank=rank) for name, rank in LEVELS}
        position_ids = {
            p: await position_ensure(name=p) for _, (_, names) in DEPARTMENTS.items() for p in names
        }

        employees: list[Employee] = []
        number = 0
        for username, name, dept, position, level, _role, _managed in ACCOUNTS:
            number += 1
            employees.append(
                Employee(
                    employee_no=f"E{number:04d}",
                    name=name,
                    department=departments[dept]["id"],
                    position=position_ids[position],
                    level=levels[level],
                    hire_date=dt.date(2015 + number, 3, 1),
                    email=f"{username}@{EMAIL_DOMAIN}",
                )
            )
        used = {e.name for e in employees}
        while len(employees) < EMPLOYEE_COUNT:
            name = rng.choice(SURNAMES) + rng.choice(GIVEN)
            if name in used:
                continue
            used.add(name)
            number += 1
            dept = rng.choice(list(departments))
            employees.append(
                Employee(
                    employee_no=f"E{number:04d}",
                    name=name,
                    department=departments[dept]["id"],
                    position=rng.choice(positions[dept]),
                    level=levels[rng.choice(LEVELS[:4])[0]],
                    hire_date=dt.date(rng.randint(2008, 2025), rng.randint(1, 12), rng.randint(1, 28)),
                    email="" if dept in NO_MAILBOX else f"e{number:04d}@{EMAIL_DOMAIN}",
                )
            )
        for employee in employees:
            await employee.save()

        # Managers: the manager of 销售部 leads its people; others report to the first senior of their team.
        manager_employee = employees[2]
        sales_paths = str(departments["销售部"]["path"])
        for employee in employees[3:]:
            dept_path = next(str(d["path"]) for d in departments.values() if d["id"] == employee.department)
            if dept_path.startswith(sales_paths):
                await Employee.update({Employee.manager: manager_employee.id}).where(
                    Employee.id == employee.id
                )

        hashed = await asyncio.to_thread(password_hash, DEMO_PASSWORD)
        for index, (username, _name, _dept, _pos, _level, role, managed) in enumerate(ACCOUNTS):
            account = Account(username=username, password_hash=hashed, employee=employees[index].id)
            await account.save()
            if role:
                await AccountRole(
                    account=account.id,
                    role=role,
                    department=departments[managed]["id"] if managed else None,
                ).save()
    from backend.courses.demo import courses_demo_seed
    from backend.notifications.demo import notifications_demo_seed
    from backend.notifications.reminder_jobs import reminders_demo_seed
    from backend.points.demo import points_demo_seed
    from backend.reflections.demo import reflections_demo_seed

    async with write_transaction(Department):
        await courses_demo_seed(dt.datetime.now(dt.UTC))
    await reflections_demo_seed()
    # Points award the activity above (with the keys the worker's handlers use, so nothing twice),
    # then notifications tell people about it.
    await points_demo_seed()
    await notifications_demo_seed()
    await reminders_demo_seed()  # a scheduled HR reminder
    return True
