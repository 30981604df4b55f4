"""The notifications API on SQLite and PostgreSQL: only my own notifications, in my language; mark one
or all read; the unread count; opening a link; preferences; HR's quiet hours."""

from __future__ import annotations

import pytest

from backend.notifications.kinds import KIND_HR_MESSAGE, KIND_POINTS_CREDITED, message_key
from backend.notifications.selectors import PAGE_SIZE
from backend.notifications.services import notify
from tests.conftest import AppClient, login
from tests.ui.harness import actor_named

pytestmark = pytest.mark.usefixtures("backend_name", "notifications_clean")


async def employee_of(username: str) -> int:
    actor = await actor_named(username)
    assert actor.employee_id is not None
    return actor.employee_id


async def credit(username: str, entry_id: int, points: int = 5) -> int:
    created = await notify(
        employee_ids=[await employee_of(username)],
        kind=KIND_POINTS_CREDITED,
        key=message_key("points_credited"),
        params={"points": points, "activity": {"key": "points.kind.exam_passed", "text": "exam_passed"}},
        url="/points",
        dedupe_key=f"test:{entry_id}",
    )
    assert len(created) == 1
    return created[0]


async def test_i_see_only_mine_in_my_language(client: AppClient) -> None:
    mine = await credit("zhang", 1, points=10)
    await credit("wang", 2)
    await login(client, "zhang")
    listed = (await client.get("/api/v1/notifications")).json()
    assert (listed["total"], listed["page"], listed["pages"]) == (1, 1, 1)
    item = listed["items"][0]
    assert set(item) == {"id", "kind", "title", "body", "url", "created_at", "updated_at", "read", "read_at"}
    assert (item["id"], item["kind"], item["url"], item["read"]) == (
        mine,
        "points_credited",
        "/points",
        False,
    )
    assert (item["title"], item["body"]) == ("获得 10 积分", "通过考试")
    english = (await client.get("/api/v1/notifications", headers={"Accept-Language": "en"})).json()
    assert (english["items"][0]["title"], english["items"][0]["body"]) == (
        "You earned 10 points",
        "Exam passed",
    )
    assert (await client.get("/api/v1/notifications/unread-count")).json() == {"unread": 1}


async def test_another_persons_notification_is_not_found(client: AppClient) -> None:
    theirs = await credit("wang", 1)
    await login(client, "zhang")
    assert (await client.post(f"/api/v1/notifications/{theirs}/read")).status_code == 404
    assert (await client.get(f"/api/v1/notifications/{theirs}/open")).status_code == 404
    assert (await client.post("/api/v1/notifications/999999/read")).status_code == 404
    await login(client, "wang")
    assert (await client.get("/api/v1/notifications/unread-count")).json() == {"unread": 1}


async def test_mark_one_then_all_read(client: AppClient) -> None:
    first, second, third = [await credit("zhang", n) for n in (1, 2, 3)]
    await login(client, "zhang")
    assert (await client.post(f"/api/v1/notifications/{second}/read")).status_code == 204
    assert (await client.post(f"/api/v1/notifications/{second}/read")).status_code == 204  # again: fine
    assert (await client.get("/api/v1/notifications/unread-count")).json() == {"unread": 2}
    items = (await client.get("/api/v1/notifications")).json()["items"]
    assert [(item["id"], item["read"]) for item in items] == [(third, False), (second, True), (first, False)]
    assert items[1]["read_at"] is not None
    assert (await client.post("/api/v1/notifications/read-all")).json() == {"marked": 2}
    assert (await client.post("/api/v1/notifications/read-all")).json() == {"marked": 0}
    assert (await client.get("/api/v1/notifications/unread-count")).json() == {"unread": 0}


async def test_opening_marks_read_and_goes_to_the_page(client: AppClient) -> None:
    mine = await credit("zhang", 1)
    await login(client, "zhang")
    opened = await client.get(f"/api/v1/notifications/{mine}/open")
    assert opened.status_code == 303 and opened.headers["location"] == "/points"
    assert (await client.get("/api/v1/notifications/unread-count")).json() == {"unread": 0}


async def test_hr_messages_are_literal_and_pages_hold_twenty(client: AppClient) -> None:
    zhang = await employee_of("zhang")
    for n in range(PAGE_SIZE + 3):
        await notify(
            employee_ids=[zhang],
            kind=KIND_HR_MESSAGE,
            title=f"请提交心得 {n}",
            body="本周五前提交",
            dedupe_key=f"reminder:{n}",
        )
    await login(client, "zhang")
    first = (await client.get("/api/v1/notifications", headers={"Accept-Language": "en"})).json()
    assert (first["total"], first["pages"], len(first["items"])) == (PAGE_SIZE + 3, 2, PAGE_SIZE)
    assert (first["items"][0]["title"], first["items"][0]["body"]) == (
        f"请提交心得 {PAGE_SIZE + 2}",
        "本周五前提交",
    )
    second = (await client.get("/api/v1/notifications?page=2")).json()
    assert [item["title"] for item in second["items"]] == ["请提交心得 2", "请提交心得 1", "请提交心得 0"]
    assert (await client.get("/api/v1/notifications?page=0")).status_code == 400


async def test_signed_out_is_401(client: AppClient) -> None:
    assert (await client.get("/api/v1/notifications")).status_code == 401
    assert (await client.get("/api/v1/notifications/unread-count")).status_code == 401
    assert (await client.post("/api/v1/notifications/read-all")).status_code == 401


async def test_preferences_per_kind_and_channel(client: AppClient) -> None:
    await login(client, "zhang")
    listed = (await client.get("/api/v1/notifications/preferences")).json()
    assert all(item["enabled"] and not item["available"] for item in listed)
    assert {item["channel"] for item in listed} == {"web_push", "wecom", "dingtalk", "email"}
    changed = await client.put(
        "/api/v1/notifications/preferences",
        json={"kind": "reflection_peer", "channel": "web_push", "enabled": False},
    )
    assert changed.status_code == 200
    off = [(i["kind"], i["channel"]) for i in changed.json() if not i["enabled"]]
    assert off == [("reflection_peer", "web_push")]
    again = await client.put(
        "/api/v1/notifications/preferences",
        json={"kind": "reflection_peer", "channel": "web_push", "enabled": True},
    )
    assert all(item["enabled"] for item in again.json())
    for body, field in (
        ({"kind": "points_credited", "channel": "in_app", "enabled": False}, "channel"),
        ({"kind": "points_credited", "channel": "pigeon", "enabled": False}, "channel"),
        ({"kind": "gossip", "channel": "email", "enabled": False}, "kind"),
    ):
        refused = await client.put("/api/v1/notifications/preferences", json=body)
        assert refused.status_code == 422 and refused.json()["error"]["field"] == field
    unknown = await client.put(
        "/api/v1/notifications/preferences",
        json={"kind": "points_credited", "channel": "email", "enabled": False, "extra": 1},
    )
    assert unknown.status_code == 400


async def test_quiet_hours_are_hr_settings(client: AppClient) -> None:
    await login(client, "zhang")
    assert (await client.get("/api/v1/notifications/settings")).status_code == 403
    put = await client.put(
        "/api/v1/notifications/settings", json={"quiet_start": "23:00", "quiet_end": "07:00"}
    )
    assert put.status_code == 403
    await login(client, "hr")
    shown = (await client.get("/api/v1/notifications/settings")).json()
    assert shown == {
        "quiet_start": "22:00",
        "quiet_end": "07:30",
        "timezone": "Asia/Shanghai",
        "channels": [],
    }
    put = await client.put(
        "/api/v1/notifications/settings", json={"quiet_start": "23:00", "quiet_end": "7:00"}
    )
    assert put.status_code == 200 and (put.json()["quiet_start"], put.json()["quiet_end"]) == (
        "23:00",
        "07:00",
    )
    bad = await client.put(
        "/api/v1/notifications/settings", json={"quiet_start": "25:00", "quiet_end": "07:00"}
    )
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "quiet_start"
    assert "24 小时制" in bad.json()["error"]["message"]
