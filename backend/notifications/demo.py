"""Demo notifications: the demo people open a centre with something in it.

Each published demo course announces itself to its audience (through the same handler and dedupe key
as a real publication, so a later event adds nothing), and `zhang` has HR's reminder about her
reflection. Running it again changes nothing.
"""

from __future__ import annotations

from backend.accounts.tables import Account
from backend.courses.tables import Course
from backend.notifications.handlers import notify_on_course_published
from backend.notifications.kinds import KIND_HR_MESSAGE
from backend.notifications.services import notify
from backend.notifications.tables import Notification

REMINDER_TITLE = "请按时提交「大客户关系维护」心得"
REMINDER_BODY = "心得两天后截止。结合你负责的一个大客户，写下培训后你准备改变的一个做法。"


async def notifications_demo_seed() -> int:
    """Returns how many notifications it created (0 the second time)."""
    created = 0
    for course in await Course.select(Course.id).where(Course.status == "published").order_by(Course.id):
        before = await _count()
        await notify_on_course_published({}, {"course_id": course["id"]})
        created += await _count() - before
    zhang = await Account.select(Account.employee).where(Account.username == "zhang").first()
    if zhang is not None and zhang["employee"] is not None:
        created += len(
            await notify(
                employee_ids=[int(zhang["employee"])],
                kind=KIND_HR_MESSAGE,
                title=REMINDER_TITLE,
                body=REMINDER_BODY,
                url="/reflections",
                source="reminder:demo",
                dedupe_key="reminder:demo",
            )
        )
    return created


async def _count() -> int:
    return int(await Notification.count())
