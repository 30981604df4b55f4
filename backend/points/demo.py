"""Demo points: the 学分制 preset (its target for the M1/M2 levels), reflections that earn points, the
points the demo activity earned, manual awards for a spread of people, and a reward catalogue with one
pending and one approved redemption.

Runs after the organisation, courses and reflections demos. The demo activity is awarded by the very
handlers the outbox events call (`backend.points.awards`), with the same source keys: when the worker
later delivers those events, nothing is awarded twice. Running it again changes nothing.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from typing import Any

from backend.accounts.selectors import actor_for_account
from backend.accounts.tables import Account
from backend.courses.tables import Course, WatchProgress
from backend.lib.policy import Actor
from backend.org.tables import EMPLOYEE_ACTIVE, Employee, JobLevel
from backend.points.awards import (
    GRADE_EXCELLENT,
    manual_source_key,
    points_on_course_completed,
    points_on_course_published,
    points_on_submission_graded,
    points_on_submission_submitted,
)
from backend.points.facts import local_noon, org_today, utc_now
from backend.points.ledger_batch import BATCH_MAX, AwardRequest, ledger_award_batch
from backend.points.presets import PRESET_CREDIT, preset_apply
from backend.points.redemptions import redemption_decide, redemption_request, reward_create
from backend.points.rulebook import RuleTerms, rule_create
from backend.points.rules import (
    CATEGORY_COURSE,
    KIND_EXAM_PASSED,
    KIND_MENTORING,
    KIND_REFLECTION_EXCELLENT,
    KIND_REFLECTION_SUBMITTED,
    KIND_SHARING_SESSION,
    KIND_WORKSHOP_ATTENDED,
)
from backend.points.tables import PointRule, PointSettings, PointTarget, Redemption, Reward
from backend.points.targets import target_set
from backend.reflections.tables import SubmissionVersion

DEMO_SEED = 20261122
# The annual target of everyone who is not a middle manager: 60 points, mostly courses.
STAFF_TARGET_TOTAL = 60
STAFF_TARGET_MIX = (("course", 50), ("exam", 30), ("sharing", 10), ("mentoring", 10))
# Reflections earn points under 学分制 too, so writing one moves the demo's numbers.
REFLECTION_RULES = ((KIND_REFLECTION_SUBMITTED, 2), (KIND_REFLECTION_EXCELLENT, 5))
MANUAL_KINDS = (KIND_WORKSHOP_ATTENDED, KIND_EXAM_PASSED, KIND_SHARING_SESSION, KIND_MENTORING)
MANUAL_WEIGHTS = (5, 4, 2, 1)
MANUAL_NOTES = {
    KIND_WORKSHOP_ATTENDED: "参加线下工作坊",
    KIND_EXAM_PASSED: "岗位技能考试通过",
    KIND_SHARING_SESSION: "部门内部授课分享",
    KIND_MENTORING: "带教新员工",
}
# The demo accounts' own activity outside the app (username -> kinds awarded), so their pages show
# something believable: zhang keeps enough to redeem a 咖啡券 in the journey, the manager is under way
# to his M2 target, trainer can ask for a remote day, wang has spent some on coffee.
ACCOUNT_AWARDS: dict[str, tuple[str, ...]] = {
    "zhang": (KIND_EXAM_PASSED, KIND_WORKSHOP_ATTENDED, KIND_SHARING_SESSION),
    "manager": (
        KIND_WORKSHOP_ATTENDED,
        KIND_WORKSHOP_ATTENDED,
        KIND_WORKSHOP_ATTENDED,
        KIND_WORKSHOP_ATTENDED,
        KIND_EXAM_PASSED,
        KIND_EXAM_PASSED,
        KIND_SHARING_SESSION,
    ),
    "trainer": (
        KIND_SHARING_SESSION,
        KIND_SHARING_SESSION,
        KIND_SHARING_SESSION,
        KIND_MENTORING,
        KIND_MENTORING,
        KIND_EXAM_PASSED,
    ),
    "wang": (KIND_EXAM_PASSED, KIND_EXAM_PASSED, KIND_WORKSHOP_ATTENDED, KIND_WORKSHOP_ATTENDED),
}
AWARDING_ACCOUNT = "hr"  # HR awards by hand (never to herself)


@dataclass(frozen=True)
class DemoReward:
    name: str
    cost: int
    description: str
    stock: int | None = None
    per_person_limit: int | None = None
    senior_only: bool = False  # P3 and above


DEMO_REWARDS = (
    DemoReward("一天远程办公", 60, "在家或就近办公一天，需提前一周与主管确认日期。", per_person_limit=4),
    DemoReward(
        "弹性工作一周", 120, "一周内自行安排上下班时间，核心时段 10:00–16:00 在岗。", per_person_limit=2
    ),
    DemoReward("优先选择项目", 150, "下一轮项目分配时，优先选择想参与的项目。", stock=5, per_person_limit=1),
    DemoReward("导师资格", 200, "获得新员工导师资格，带教计入带教积分。", stock=10, senior_only=True),
    DemoReward("咖啡券", 10, "公司咖啡吧任意饮品一杯。"),
)
SENIOR_LEVEL_RANK = 3  # P3 高级 and above may become mentors
# (account, reward, approved): trainer waits for HR's decision; wang's coffee was approved.
DEMO_REDEMPTIONS = (("trainer", "一天远程办公", False), ("wang", "咖啡券", True))
APPROVAL_NOTE = "已批准，请到前台领取。"


async def _account_actor(username: str) -> Actor:
    account = await Account.select(Account.id).where(Account.username == username).first()
    assert account is not None, username
    actor = await actor_for_account(int(account["id"]))
    assert actor is not None, username
    return actor


async def _preset_apply(hr: Actor) -> None:
    """学分制, with its target for the middle-manager levels (M1 主管, M2 经理), once."""
    if await PointSettings.exists().where(PointSettings.preset == PRESET_CREDIT):
        return
    await preset_apply(actor=hr, name=PRESET_CREDIT)


async def _staff_target(hr: Actor, year: int) -> None:
    """Everyone else has a smaller annual target (the preset's is for middle managers), so every demo
    person sees their progress; the more specific M1/M2 target still wins for managers."""
    unscoped = (
        (PointTarget.year == year)
        & PointTarget.department.is_null()
        & PointTarget.position.is_null()
        & PointTarget.level.is_null()
    )
    if not await PointTarget.exists().where(unscoped):
        await target_set(actor=hr, year=year, total=STAFF_TARGET_TOTAL, mix=dict(STAFF_TARGET_MIX))


async def _reflection_rules(hr: Actor, year: int) -> None:
    for kind, points in REFLECTION_RULES:
        current = await PointRule.exists().where(
            (PointRule.kind == kind)
            & PointRule.department.is_null()
            & PointRule.position.is_null()
            & PointRule.level.is_null()
            & PointRule.replaced_by.is_null()
        )
        if not current:
            await rule_create(
                actor=hr,
                kind=kind,
                terms=RuleTerms(points=points, category=CATEGORY_COURSE, effective_from=dt.date(year, 1, 1)),
            )


async def _activity_awards() -> None:
    """What the outbox events of the demo activity award, through the same handlers and keys."""
    ctx: dict[str, Any] = {}
    versions = (
        await SubmissionVersion.select(
            SubmissionVersion.id,
            SubmissionVersion.kind,
            SubmissionVersion.grade,
            SubmissionVersion.submission,
            SubmissionVersion.submission.employee.as_alias("employee_id"),
            SubmissionVersion.submission.assignment.as_alias("assignment_id"),
        )
        .where(SubmissionVersion.kind.is_in(["submitted", "graded"]))
        .order_by(SubmissionVersion.id)
    )
    for version in versions:
        if version["kind"] == "submitted":
            await points_on_submission_submitted(
                ctx,
                {
                    "employee_id": version["employee_id"],
                    "assignment_id": version["assignment_id"],
                    "version_id": version["id"],
                },
            )
        elif version["grade"] == GRADE_EXCELLENT:
            await points_on_submission_graded(
                ctx,
                {
                    "submission_id": version["submission"],
                    "version_id": version["id"],
                    "grade": GRADE_EXCELLENT,
                },
            )
    for course in await Course.select(Course.id).where(Course.published_at.is_not_null()).order_by(Course.id):
        await points_on_course_published(ctx, {"course_id": course["id"]})
    now = utc_now()
    completions = (
        await WatchProgress.select(
            WatchProgress.course, WatchProgress.employee, WatchProgress.version, WatchProgress.completed_at
        )
        .where(WatchProgress.completed == True)  # noqa: E712 - a SQL expression
        .order_by(WatchProgress.id)
    )
    for row in completions:
        completed_at = min(row["completed_at"] or now, now)  # demo histories may run a little ahead
        await points_on_course_completed(
            ctx,
            {
                "course_id": row["course"],
                "employee_id": row["employee"],
                "version_id": row["version"],
                "completed_at": completed_at.isoformat(),
            },
        )


def _day(rng: random.Random, today: dt.date) -> dt.date:
    """A day of this year up to today."""
    return today - dt.timedelta(days=rng.randint(0, (today - dt.date(today.year, 1, 1)).days))


async def _manual_awards(hr: Actor, today: dt.date) -> None:
    """Workshops, exams, sharing and mentoring recorded by HR for the demo accounts and a spread of
    colleagues (HR's own source keys, so a rerun is a duplicate, not a second award)."""
    rng = random.Random(DEMO_SEED)
    accounts = {
        row["username"]: int(row["employee"])
        for row in await Account.select(Account.username, Account.employee).where(
            Account.username.is_in(list(ACCOUNT_AWARDS))
        )
    }
    plans: dict[int, list[str]] = {accounts[name]: list(kinds) for name, kinds in ACCOUNT_AWARDS.items()}
    people = (
        await Employee.select(Employee.id).where(Employee.status == EMPLOYEE_ACTIVE).order_by(Employee.id)
    )
    for person in people:
        employee_id = int(person["id"])
        if employee_id != hr.employee_id and employee_id not in plans:
            plans[employee_id] = rng.choices(MANUAL_KINDS, weights=MANUAL_WEIGHTS, k=rng.randint(0, 5))
    requests = []
    for employee_id, kinds in plans.items():
        for number, kind in enumerate(kinds, start=1):
            day = _day(rng, today)
            key = manual_source_key(
                employee_id=employee_id,
                kind=kind,
                occurred_on=day,
                note=MANUAL_NOTES[kind],
                given=f"demo:{kind}:{employee_id}:{number}",
            )
            requests.append(
                AwardRequest(
                    employee_id=employee_id,
                    kind=kind,
                    source_key=key,
                    occurred_at=local_noon(day),
                    actor_id=hr.employee_id,
                    note=MANUAL_NOTES[kind],
                )
            )
    # In batches, as HR's bulk entry does: the same awards as one by one, in a fraction of the time.
    for start in range(0, len(requests), BATCH_MAX):
        await ledger_award_batch(requests[start : start + BATCH_MAX])


async def _rewards(hr: Actor) -> dict[str, int]:
    """The catalogue, by name (rewards that exist already are left as they are)."""
    existing = {row["name"]: int(row["id"]) for row in await Reward.select(Reward.id, Reward.name)}
    senior = [
        int(row["id"]) for row in await JobLevel.select(JobLevel.id).where(JobLevel.rank >= SENIOR_LEVEL_RANK)
    ]
    for reward in DEMO_REWARDS:
        if reward.name not in existing:
            existing[reward.name] = await reward_create(
                actor=hr,
                name=reward.name,
                cost=reward.cost,
                description=reward.description,
                stock=reward.stock,
                per_person_limit=reward.per_person_limit,
                eligible_level_ids=senior if reward.senior_only else [],
            )
    return existing


async def _redemptions(hr: Actor, rewards: dict[str, int]) -> None:
    for username, reward_name, approved in DEMO_REDEMPTIONS:
        person = await _account_actor(username)
        reward_id = rewards[reward_name]
        if await Redemption.exists().where(
            (Redemption.employee == person.employee_id) & (Redemption.reward == reward_id)
        ):
            continue
        redemption_id = await redemption_request(actor=person, reward_id=reward_id)
        if approved:
            await redemption_decide(actor=hr, redemption_id=redemption_id, approve=True, note=APPROVAL_NOTE)


async def points_demo_seed() -> None:
    """Add the demo's points to the demo organisation (after the courses and reflections demos)."""
    hr = await _account_actor(AWARDING_ACCOUNT)
    today = org_today()
    await _preset_apply(hr)
    await _staff_target(hr, today.year)
    await _reflection_rules(hr, today.year)
    await _activity_awards()
    await _manual_awards(hr, today)
    await _redemptions(hr, await _rewards(hr))
