"""The notification centre and the bell: unread marks and count, mark one or all read, deep links,
the empty state, pages, and English."""

from __future__ import annotations

from typing import Any

import pytest

from backend.notifications.kinds import KIND_HR_MESSAGE, KIND_POINTS_CREDITED, message_key
from backend.notifications.selectors import PAGE_SIZE
from backend.notifications.services import notify
from backend.notifications.tables import Notification
from tests.ui.harness import Node, Page, _text, actor_named, rendered_page

pytestmark = pytest.mark.usefixtures("notifications_clean")


def _attr(node: Node, name: str) -> Any:
    return node.get("attributes", {}).get(name)


def bell(page: Page) -> Node:
    return page.one(lambda n: n.get("tagName") == "a" and _attr(n, "href") == "/notifications", "bell")


def cells(page: Page) -> list[Node]:
    return page.all(lambda n: _attr(n, "role") == "listitem")


def unread_cells(page: Page) -> list[Node]:
    return [cell for cell in cells(page) if _attr(cell, "data-unread") == "true"]


async def credit(username: str, n: int, points: int = 5) -> int:
    actor = await actor_named(username)
    assert actor.employee_id is not None
    [created] = await notify(
        employee_ids=[actor.employee_id],
        kind=KIND_POINTS_CREDITED,
        key=message_key("points_credited"),
        params={"points": points, "activity": {"key": "points.kind.exam_passed", "text": "exam_passed"}},
        url="/points",
        dedupe_key=f"ui:{n}",
    )
    return created


async def test_the_bell_names_the_unread_count_on_every_page(settings: Any) -> None:
    zhang = await actor_named("zhang")
    async with rendered_page("/", settings=settings, actor=zhang) as page:
        assert _attr(bell(page), "aria-label") == "通知，没有未读"
        assert not page.all(lambda n: "nt-badge" in str(_attr(n, "className")))
    for n in range(3):
        await credit("zhang", n)
    async with rendered_page("/reflections", settings=settings, actor=zhang) as page:
        assert _attr(bell(page), "aria-label") == "通知，3 条未读"
        badge = page.one(lambda n: _attr(n, "className") == "nt-badge", "badge")
        assert _text(badge) == "3" and _attr(badge, "aria-hidden") == "true"
        assert "通知" in _text(bell(page))
    async with rendered_page("/", settings=settings, actor=zhang, accept_language="en") as page:
        assert _attr(bell(page), "aria-label") == "Notifications, 3 unread"


async def test_the_centre_lists_marks_and_links(settings: Any) -> None:
    first = await credit("zhang", 1, points=10)
    second = await credit("zhang", 2, points=20)
    zhang = await actor_named("zhang")
    async with rendered_page("/notifications", settings=settings, actor=zhang) as page:
        assert _attr(bell(page), "aria-current") == "page"
        assert [_attr(cell, "key") for cell in cells(page)] == [str(second), str(first)]
        assert len(unread_cells(page)) == 2 and "2 条未读" in page.text
        assert "获得 20 积分" in page.text and "通过考试" in page.text and "刚刚" in page.text
        links = page.links()
        assert links["未读：获得 20 积分"] == f"/api/v1/notifications/{second}/open"

        await page.click("将「获得 20 积分」标为已读")
        await page.settle()
        assert [_attr(cell, "key") for cell in unread_cells(page)] == [str(first)]
        assert "已标为已读" in page.text
        assert _attr(bell(page), "aria-label") == "通知，1 条未读"

        await page.click("全部标为已读")
        await page.settle()
        assert unread_cells(page) == [] and "全部已读" in page.text
        assert "已将 1 条通知标为已读" in page.text
        assert _attr(bell(page), "aria-label") == "通知，没有未读"
        assert page.button("全部标为已读")["attributes"]["disabled"] is True
    assert await Notification.count().where(Notification.read_at.is_null()) == 0


async def test_only_my_own_notifications_show(settings: Any) -> None:
    await credit("wang", 1)
    zhang = await actor_named("zhang")
    async with rendered_page("/notifications", settings=settings, actor=zhang) as page:
        assert cells(page) == []
        assert "还没有通知" in page.text  # the empty state
        assert page.button("全部标为已读")["attributes"]["disabled"] is True


async def test_older_notifications_are_on_later_pages(settings: Any) -> None:
    zhang = await actor_named("zhang")
    assert zhang.employee_id is not None
    for n in range(PAGE_SIZE + 2):
        await notify(
            employee_ids=[zhang.employee_id],
            kind=KIND_HR_MESSAGE,
            title=f"培训通知 {n}",
            body="请按时参加",
            dedupe_key=f"reminder:{n}",
        )
    async with rendered_page("/notifications", settings=settings, actor=zhang) as page:
        assert len(cells(page)) == PAGE_SIZE and "第 1 / 2 页" in page.text
        await page.click("下一页")
        await page.settle()
        assert [_text(cell).split("请按时参加")[0] for cell in cells(page)] == [
            "未读：培训通知 1",
            "未读：培训通知 0",
        ]
        # no link: an HR message without a page is plain text
        assert "未读：培训通知 1" not in page.links()


async def test_the_centre_in_english(settings: Any) -> None:
    await credit("zhang", 1, points=10)
    zhang = await actor_named("zhang")
    async with rendered_page("/notifications", settings=settings, actor=zhang, accept_language="en") as page:
        assert "You earned 10 points" in page.text and "Exam passed" in page.text
        assert "1 unread" in page.text and "just now" in page.text
        page.button("Mark all read")
        page.button("Mark “You earned 10 points” read")
