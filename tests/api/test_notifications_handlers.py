"""Outbox events become notifications, on SQLite and PostgreSQL: the right people, the right words,
the same event twice notifies once, and likes and comments are batched per 30 minutes.

Events come from the real services (points, redemptions, grading, likes); the handlers are called the
way the worker calls them (ctx={}), each event delivered twice.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from backend.courses.tables import Course
from backend.events.tables import OutboxEvent
from backend.lib.i18n import translate
from backend.notifications.handlers import NOTIFICATION_HANDLERS
from backend.notifications.peer import BATCH_WINDOW
from backend.notifications.render import notification_words
from backend.notifications.tables import Notification
from backend.org.tables import EMPLOYEE_ACTIVE, Department, Employee
from backend.points.ledger import ledger_award
from backend.points.redemptions import redemption_decide, redemption_fulfil, redemption_request, reward_create
from backend.points.rulebook import RuleTerms, rule_create
from backend.reflections.grading import submission_grade
from backend.reflections.peer import comment_add, reflection_like, reflection_unlike
from backend.reflections.tables import Submission
from tests.ui.harness import actor_named

pytestmark = pytest.mark.usefixtures("backend_name", "notifications_clean")


async def last_event_id() -> int:
    row = await OutboxEvent.select(OutboxEvent.id).order_by(OutboxEvent.id, ascending=False).first()
    return int(row["id"]) if row else 0


async def deliver_since(event_id: int, *, times: int = 2) -> None:
    """Run the notification handlers for every event after `event_id`, each `times` times."""
    rows = await OutboxEvent.select().where(OutboxEvent.id > event_id).order_by(OutboxEvent.id)
    for row in rows:
        payload = json.loads(row["payload"]) if isinstance(row["payload"], str) else row["payload"]
        for _ in range(times):
            for handler in NOTIFICATION_HANDLERS.get(row["kind"], []):
                await handler({}, payload)


async def inbox(username: str, kind: str | None = None, locale: str = "zh-CN") -> list[dict[str, Any]]:
    """Someone's notifications (newest first) with their words in `locale`."""
    actor = await actor_named(username)
    query: Any = Notification.employee == actor.employee_id
    if kind is not None:
        query &= Notification.kind == kind
    rows = await Notification.select().where(query).order_by(Notification.id, ascending=False)
    for row in rows:
        row["words"] = notification_words(
            locale, message_key=row["message_key"], params=row["params"], title=row["title"], body=row["body"]
        )
    return list(rows)


async def recipients(kind: str) -> set[str]:
    rows = await Notification.select(Notification.employee.name.as_alias("name")).where(
        Notification.kind == kind
    )
    return {row["name"] for row in rows}


async def earn(username: str, points: int) -> None:
    actor = await actor_named(username)
    kind = f"bonus_{username}"
    await rule_create(
        actor=await actor_named("hr"),
        kind=kind,
        terms=RuleTerms(points=points, effective_from=dt.date(2000, 1, 1)),
    )
    assert actor.employee_id is not None
    await ledger_award(
        employee_id=actor.employee_id, kind=kind, source_key=f"{kind}:1", occurred_at=dt.datetime.now(dt.UTC)
    )


async def test_points_credited_tells_the_person_once() -> None:
    start = await last_event_id()
    await earn("zhang", 150)
    await deliver_since(start)
    [credited] = await inbox("zhang", "points_credited")
    assert credited["words"] == ("获得 150 积分", "bonus_zhang")  # a custom kind shows its own name
    assert credited["url"] == "/points" and credited["read_at"] is None
    assert await recipients("points_credited") == {"张丽华"}


async def test_a_redemption_tells_deciders_then_the_requester() -> None:
    await earn("zhang", 300)
    reward = await reward_create(actor=await actor_named("hr"), name="一天远程办公", cost=100)
    start = await last_event_id()
    approved = await redemption_request(actor=await actor_named("zhang"), reward_id=reward)
    await deliver_since(start)
    # HR and the manager of 销售部 (zhang's department is inside it); never zhang herself, nor wang
    assert await recipients("redemption_requested") == {"刘芳", "李强"}
    [asked] = await inbox("manager", "redemption_requested")
    assert asked["words"] == ("张丽华 申请兑换「一天远程办公」", "需要 100 积分，等待你审批")
    assert asked["url"] == "/points/approvals"

    start = await last_event_id()
    await redemption_decide(actor=await actor_named("manager"), redemption_id=approved, approve=True)
    await redemption_fulfil(actor=await actor_named("hr"), redemption_id=approved)
    rejected = await redemption_request(actor=await actor_named("zhang"), reward_id=reward)
    await redemption_decide(
        actor=await actor_named("hr"), redemption_id=rejected, approve=False, note="本月名额已满"
    )
    await deliver_since(start)
    words = [n["words"] for n in await inbox("zhang") if n["kind"].startswith("redemption")]
    assert words == [
        ("兑换申请未通过：一天远程办公", "原因：本月名额已满。100 积分已退回你的账户。"),
        ("奖励已发放：一天远程办公", "祝你使用愉快！"),
        ("兑换申请已批准：一天远程办公", "奖励发放后会再通知你。"),
    ]
    english = [n["words"][0] for n in await inbox("zhang", locale="en") if n["kind"] == "redemption_decided"]
    assert english == ["Redemption not approved: 一天远程办公", "Redemption approved: 一天远程办公"]
    assert len(await inbox("manager", "redemption_requested")) == 2


async def test_hr_asking_for_a_reward_is_not_told_to_decide_it() -> None:
    await earn("hr", 200)
    reward = await reward_create(actor=await actor_named("hr"), name="咖啡券", cost=10)
    start = await last_event_id()
    await redemption_request(actor=await actor_named("hr"), reward_id=reward)
    await deliver_since(start)
    assert await recipients("redemption_requested") == set()  # 人力资源部 has no manager; HR is the requester


async def waiting_submission() -> dict[str, Any]:
    """The demo's 华东大区 reflection still waiting for a grade (not zhang's)."""
    row = (
        await Submission.select(Submission.id, Submission.employee, Submission.assignment.training.title)  # type: ignore[union-attr]
        .where((Submission.state == "submitted") & (Submission.department.name == "华东大区"))
        .first()
    )
    assert row is not None
    return dict(row)


async def notifications_of(employee_id: int, kind: str) -> list[dict[str, Any]]:
    rows = (
        await Notification.select()
        .where((Notification.employee == employee_id) & (Notification.kind == kind))
        .order_by(Notification.id, ascending=False)
    )
    for row in rows:
        row["words"] = notification_words(
            "zh-CN",
            message_key=row["message_key"],
            params=row["params"],
            title=row["title"],
            body=row["body"],
        )
    return list(rows)


async def test_grading_tells_the_author_and_excellent_has_its_own_words() -> None:
    waiting = await waiting_submission()
    title = waiting["assignment.training.title"]
    start = await last_event_id()
    await submission_grade(actor=await actor_named("manager"), submission_id=waiting["id"], grade="good")
    await deliver_since(start)
    [graded] = await notifications_of(waiting["employee"], "submission_graded")
    assert graded["words"] == ("心得已评分：良好", f"「{title}」的评语可以查看了。")
    assert graded["url"] == f"/reflections/{waiting['id']}"

    start = await last_event_id()
    await submission_grade(actor=await actor_named("manager"), submission_id=waiting["id"], grade="excellent")
    await deliver_since(start)
    regraded = await notifications_of(waiting["employee"], "submission_graded")
    assert [n["words"][0] for n in regraded] == ["你的心得被评为优秀！", "心得已评分：良好"]


async def test_returned_for_revision_says_by_when() -> None:
    waiting = await waiting_submission()
    due = dt.datetime(2030, 5, 6, 1, 0, tzinfo=dt.UTC)  # 09:00 in Shanghai
    start = await last_event_id()
    await submission_grade(
        actor=await actor_named("manager"),
        submission_id=waiting["id"],
        grade="revise",
        feedback="请补充客户案例",
        revise_due_at=due,
    )
    await deliver_since(start)
    [returned] = await notifications_of(waiting["employee"], "submission_returned")
    assert returned["words"][0] == "心得需要修改"
    assert "请在 2030-05-06 09:00 前重新提交" in returned["words"][1]


async def test_likes_and_comments_are_batched_per_thirty_minutes() -> None:
    waiting = await waiting_submission()
    submission, author = waiting["id"], waiting["employee"]
    start = await last_event_id()
    for username in ("zhang", "manager", "hr"):
        await reflection_like(actor=await actor_named(username), submission_id=submission)
    await deliver_since(start)
    [batch] = await notifications_of(author, "reflection_peer")
    assert batch["words"][0] == "3 人赞了你的心得"
    assert batch["words"][1].endswith("：张丽华、李强、刘芳")
    assert batch["url"] == f"/reflections/{submission}"

    # taking a like back and giving it again counts once; a comment joins the same batch
    start = await last_event_id()
    await reflection_unlike(actor=await actor_named("zhang"), submission_id=submission)
    await reflection_like(actor=await actor_named("zhang"), submission_id=submission)
    await Notification.update({Notification.read_at: dt.datetime.now(dt.UTC)}).where(
        Notification.id == batch["id"]
    )
    await comment_add(actor=await actor_named("manager"), submission_id=submission, body="写得很实在")
    await deliver_since(start)
    [batch] = await notifications_of(author, "reflection_peer")
    assert batch["words"][0] == "你的心得收到 3 个赞和 1 条评论"
    assert batch["read_at"] is None  # it grew: unread again

    # 30 minutes after the batch started, the next comment starts a new message
    await Notification.update(
        {Notification.created_at: dt.datetime.now(dt.UTC) - BATCH_WINDOW - dt.timedelta(minutes=1)}
    ).where(Notification.id == batch["id"])
    start = await last_event_id()
    await comment_add(actor=await actor_named("hr"), submission_id=submission, body="学习了")
    await deliver_since(start)
    newest, older = await notifications_of(author, "reflection_peer")
    assert newest["words"] == ("刘芳 评论了你的心得", f"「{waiting['assignment.training.title']}」")
    assert older["id"] == batch["id"]


async def test_a_comment_by_the_author_tells_nobody() -> None:
    await NOTIFICATION_HANDLERS["reflection.commented"][0](
        {}, {"submission_id": 1, "comment_id": 1, "employee_id": 7, "author_id": 7}
    )
    assert await Notification.count() == 0


async def east_department() -> dict[str, Any]:
    row = await Department.select(Department.id, Department.path).where(Department.name == "华东大区").first()
    assert row is not None
    return dict(row)


async def test_a_published_course_tells_its_audience_once() -> None:
    east = await east_department()
    course = (
        await Course.select(Course.id, Course.title, Course.author)
        .where(Course.status == "published")
        .first()
    )
    assert course is not None
    await Course.update(
        {Course.audience_department_ids: [east["id"]], Course.audience_position_ids: []}
    ).where(Course.id == course["id"])
    handler = NOTIFICATION_HANDLERS["course.published"][0]
    for _ in range(2):
        await handler({}, {"course_id": course["id"]})
    audience = {
        row["id"]
        for row in await Employee.select(Employee.id).where(
            (Employee.department == east["id"]) & (Employee.status == EMPLOYEE_ACTIVE)
        )
    } - {course["author"]}
    told = await Notification.select(Notification.employee).where(Notification.kind == "course_new")
    assert sorted(row["employee"] for row in told) == sorted(audience)
    [zhangs] = await inbox("zhang", "course_new")
    assert zhangs["words"] == (
        f"新微课：{course['title']}",
        translate("zh-CN", "notifications.msg.course_new.body"),
    )
    assert zhangs["url"] == f"/courses/{course['id']}"


async def test_a_course_without_audience_or_not_published_tells_nobody() -> None:
    course = await Course.select(Course.id).where(Course.status == "published").first()
    assert course is not None
    await Course.update({Course.audience_department_ids: [], Course.audience_position_ids: []}).where(
        Course.id == course["id"]
    )
    await NOTIFICATION_HANDLERS["course.published"][0]({}, {"course_id": course["id"]})
    await NOTIFICATION_HANDLERS["course.published"][0]({}, {"course_id": 999_999})
    assert await Notification.count() == 0
