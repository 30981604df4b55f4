"""Demo reflections: 大客户关系维护 for 销售部 and 代码评审实践 for 研发部, with work already done.

`zhang` has her 大客户关系维护 reflection due in two days, `wang` his 研发部 one next week; several
colleagues have submitted, liked, commented; the manager graded them and featured one.
"""

from __future__ import annotations

import datetime as dt
import uuid

from backend.accounts.selectors import actor_for_account
from backend.accounts.tables import Account
from backend.courses.tables import Course
from backend.lib.policy import ROLE_EMPLOYEE, Actor
from backend.org.tables import Department, Employee
from backend.reflections.grading import submission_feature, submission_grade
from backend.reflections.peer import comment_add, reflection_like
from backend.reflections.services import submission_submit
from backend.reflections.trainings import ParticipantFilter, assignment_create, training_create

SALES_TEXTS = (
    "这次大客户关系维护培训让我最有收获的是“先倾听再方案”。以前拜访客户时我总是急着介绍产品，"
    "这次练习里我学会先用十分钟问清客户今年的重点和难处。下周拜访华东的老客户时，我准备先整理他们"
    "过去一年的订单变化，带着问题去听，再约一次回访，把他们提到的交付问题跟进到底。",
    "培训里老师讲的客户分级很实用：不是所有客户都要同样的频率拜访。我把自己负责的二十个客户按贡献"
    "和潜力重新分了三级，发现有两个潜力很大的客户半年没联系了。下周我会先给这两家打电话，约时间"
    "上门，同时把重点客户的关键联系人和决策链条画出来，避免只认识采购一个人。",
    "案例讨论让我意识到，客户投诉其实是加深关系的机会。上个月一家客户因为发货延迟很不满，我当时只是"
    "道歉。按培训里的方法，应该当天给出原因、补救方案和以后避免的措施，并在一周后回访确认。我准备把"
    "这个流程写成自己的检查清单，下次遇到问题就按清单做，也分享给组里的新同事。",
    "最大的体会是复盘。每次重要拜访后用五分钟记下客户说了什么、我答应了什么、下一步是什么。培训后"
    "我试了一周，发现答应客户的小事以前常常忘记，现在都能按时做到。客户也明显更愿意和我多聊几句。"
    "接下来我想把复盘记录和 CRM 对上，方便主管和同事了解客户情况。",
)
RND_TEXTS = (
    "代码评审实践课程让我改变了提评审意见的方式：先说明问题的影响，再给出建议，最后区分必须修改和"
    "可以讨论的部分。我们组本周试行了小批量提交，每个合并请求控制在四百行以内，评审速度明显变快。",
)
COMMENTS = ("写得很实在，分级的方法我也要试试。", "复盘清单能分享一下吗？", "投诉变机会这一点很受启发！")


def _key() -> str:
    return uuid.uuid4().hex


def _person(row: dict[str, object]) -> Actor:
    """An employee acting in the demo (most demo people have no sign-in account)."""
    return Actor(
        account_id=0,
        username="",
        employee_id=int(str(row["id"])),
        department_id=int(str(row["department"])),
        roles=frozenset({ROLE_EMPLOYEE}),
    )


async def _account_actor(username: str) -> Actor:
    account = await Account.select(Account.id).where(Account.username == username).first()
    assert account is not None
    actor = await actor_for_account(int(account["id"]))
    assert actor is not None
    return actor


async def _department_people(name: str, *, exclude: set[int]) -> list[dict[str, object]]:
    department = (
        await Department.select(Department.id, Department.path).where(Department.name == name).first()
    )
    assert department is not None
    rows = (
        await Employee.select(Employee.id, Employee.department)
        .where(Employee.department.path.like(f"{department['path']}%"))
        .order_by(Employee.id)
    )
    return [dict(row) for row in rows if row["id"] not in exclude]


def _linked(courses: dict[str, int], *titles: str) -> tuple[int, ...]:
    """The demo micro-courses a training links (those the courses demo created)."""
    return tuple(courses[title] for title in titles if title in courses)


async def reflections_demo_seed() -> None:
    hr = await _account_actor("hr")
    manager = await _account_actor("manager")
    zhang = await _account_actor("zhang")
    wang = await _account_actor("wang")
    now = dt.datetime.now(dt.UTC)
    today = now.date()
    sales = await Department.select(Department.id).where(Department.name == "销售部").first()
    rnd = await Department.select(Department.id).where(Department.name == "研发部").first()
    assert sales is not None and rnd is not None

    courses = {row["title"]: int(row["id"]) for row in await Course.select(Course.id, Course.title)}
    training = await training_create(
        actor=hr,
        title="大客户关系维护",
        kind="workshop",
        starts_on=today - dt.timedelta(days=3),
        ends_on=today - dt.timedelta(days=2),
        description="面向销售部的大客户关系维护工作坊：客户分级、倾听与跟进、投诉处理与复盘。",
        participants=ParticipantFilter(department_ids=(int(sales["id"]),)),
        course_ids=_linked(courses, "大客户拜访前的十分钟准备", "客户投诉的三步回应"),
    )
    assignment = await assignment_create(
        actor=hr,
        training_id=training,
        prompt="结合你负责的一个大客户，写下这次培训中最有用的三点，以及下周准备怎么做。",
        due_at=now + dt.timedelta(days=2),
        min_length=100,
        max_photos=3,
        visibility="department",
    )
    exclude = {zhang.employee_id or 0, manager.employee_id or 0}
    # Mostly zhang's own team (华东大区), so her department feed shows their work.
    east = await _department_people("华东大区", exclude=exclude)
    rest = [row for row in await _department_people("销售部", exclude=exclude) if row not in east]
    writers = (east + rest)[: len(SALES_TEXTS)]
    submissions = []
    for person, text in zip(writers, SALES_TEXTS, strict=False):
        result = await submission_submit(
            actor=_person(person), assignment_id=assignment, body=text, photo_ids=[], idempotency_key=_key()
        )
        submissions.append(result.submission_id)
    for index, submission_id in enumerate(submissions):
        for liker in writers:  # colleagues of the same department see (and like) each other's work
            if liker is not writers[index] and liker["department"] == writers[index]["department"]:
                await reflection_like(actor=_person(liker), submission_id=submission_id)
    if writers[0]["department"] == zhang.department_id:
        await reflection_like(actor=zhang, submission_id=submissions[0])
    for submission_id, text in zip(submissions, COMMENTS, strict=False):
        await comment_add(
            actor=zhang if submission_id == submissions[0] else manager,
            submission_id=submission_id,
            body=text,
        )
    await submission_grade(
        actor=manager,
        submission_id=submissions[0],
        grade="excellent",
        feedback="先倾听再方案，落到了具体客户和下周行动，值得大家参考。",
    )
    await submission_feature(actor=manager, submission_id=submissions[0], featured=True)
    await submission_grade(
        actor=manager, submission_id=submissions[1], grade="good", feedback="分级思路清楚。"
    )
    await submission_grade(
        actor=manager,
        submission_id=submissions[2],
        grade="revise",
        feedback="请补充你准备怎样把检查清单用到下一次投诉处理中。",
        revise_due_at=now + dt.timedelta(days=5),
    )

    rnd_training = await training_create(
        actor=hr,
        title="代码评审实践",
        kind="course",
        starts_on=today - dt.timedelta(days=1),
        ends_on=None,
        participants=ParticipantFilter(department_ids=(int(rnd["id"]),)),
        course_ids=_linked(courses, "如何写一份好的代码评审意见"),
    )
    rnd_assignment = await assignment_create(
        actor=hr,
        training_id=rnd_training,
        prompt="你在团队里准备如何改进代码评审？举一个最近的例子。",
        due_at=now + dt.timedelta(days=7),
        min_length=80,
        max_photos=2,
        visibility="organisation",
    )
    rnd_people = await _department_people("研发部", exclude={wang.employee_id or 0})
    for person, text in zip(rnd_people, RND_TEXTS, strict=False):
        await submission_submit(
            actor=_person(person),
            assignment_id=rnd_assignment,
            body=text,
            photo_ids=[],
            idempotency_key=_key(),
        )
