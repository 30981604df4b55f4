"""Courses over the API: who creates, edits, publishes and sees them; the video lifecycle's states."""

from __future__ import annotations

from typing import Any

import pytest

from backend.courses.lifecycle import version_failed, version_ready, video_received
from backend.courses.tables import Course, CourseVersion, CourseView
from backend.events.tables import OutboxEvent
from backend.lib.db import write_transaction
from backend.org.tables import Department, Position
from tests.conftest import AppClient, app_client, login

pytestmark = pytest.mark.usefixtures("backend_name", "demo")

COURSE = {
    "title": "设备点检三步法",
    "summary": "一车间的老师傅讲怎样五分钟完成一次点检。",
    "category": "生产安全",
    "tags": ["点检", "设备", "点检"],
    "problem": "点检漏项多",
    "case_text": "二号线停机事故",
    "method": "看、听、摸三步",
}


async def _create(client: AppClient, **changes: Any) -> int:
    response = await client.post("/api/v1/courses", json={**COURSE, **changes})
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def _ready_video(course_id: int) -> int:
    """A video as the upload and transcode jobs leave it: received, then processed."""
    async with write_transaction(Course):
        version_id, _event = await video_received(course_id=course_id, source_key="uploads/x/source", size=10)
    await version_ready(
        version_id,
        video_key=f"courses/{course_id}/v1/video.mp4",
        poster_key=f"courses/{course_id}/v1/poster.jpg",
        duration=42.0,
        width=640,
        height=360,
        size=1000,
        remuxed=True,
    )
    return version_id


async def test_a_trainer_creates_a_draft_that_only_the_author_and_hr_see(
    client: AppClient, settings: Any
) -> None:
    await login(client, "trainer")
    course_id = await _create(client)
    course = (await client.get(f"/api/v1/courses/{course_id}")).json()
    assert course["status"] == "draft" and course["can_manage"] is True
    assert course["tags"] == ["点检", "设备"]  # duplicates dropped
    assert course["video_url"] is None and course["my_progress"] == {
        "watched_ratio": 0.0,
        "completed": False,
        "position": 0.0,
    }
    async with app_client(settings) as zhang:
        await login(zhang, "zhang")
        assert (await zhang.get(f"/api/v1/courses/{course_id}")).status_code == 404
        assert (await zhang.post("/api/v1/courses", json=COURSE)).status_code == 403
    async with app_client(settings) as hr:
        await login(hr, "hr")
        assert (await hr.get(f"/api/v1/courses/{course_id}")).json()["can_manage"] is True


async def test_bad_course_input_is_refused_with_the_reason(client: AppClient) -> None:
    await login(client, "trainer")
    before = await Course.count()
    cases = [
        ({"title": "   "}, "title"),
        ({"title": "长" * 121}, "title"),
        ({"tags": ["x" * 21]}, "tags"),
        ({"tags": [f"t{i}" for i in range(11)]}, "tags"),
        ({"audience_department_ids": [999_999]}, "audience_department_ids"),
        ({"restricted": True}, "restricted"),
    ]
    for changes, field in cases:
        response = await client.post("/api/v1/courses", json={**COURSE, **changes})
        assert response.status_code == 422, (changes, response.text)
        assert response.json()["error"]["field"] == field
    unknown = await client.post("/api/v1/courses", json={**COURSE, "owner": 1})
    assert unknown.status_code in (400, 422)
    assert await Course.count() == before  # nothing half-written


async def test_publishing_needs_a_video_and_then_everyone_sees_it(client: AppClient, settings: Any) -> None:
    await login(client, "trainer")
    course_id = await _create(client)
    refused = await client.post(f"/api/v1/courses/{course_id}/publish")
    assert refused.status_code == 422 and "视频" in refused.json()["error"]["message"]
    version_id = await _ready_video(course_id)
    assert (await client.get(f"/api/v1/courses/{course_id}")).json()["status"] == "draft"
    published = await client.post(f"/api/v1/courses/{course_id}/publish")
    assert published.json() == {"id": course_id, "status": "published"}
    assert await OutboxEvent.count().where(OutboxEvent.kind == "course.published") == 1
    async with app_client(settings) as zhang:
        await login(zhang, "zhang")
        course = (await zhang.get(f"/api/v1/courses/{course_id}")).json()
        assert course["status"] == "published" and course["can_manage"] is False
        assert course["video_url"] == f"/media/courses/{course_id}/versions/{version_id}/video.mp4"
        assert course["duration"] == 42.0
        assert (await zhang.patch(f"/api/v1/courses/{course_id}", json={"title": "x"})).status_code == 403
    await client.post(f"/api/v1/courses/{course_id}/unpublish")
    async with app_client(settings) as zhang:
        await login(zhang, "zhang")
        assert (await zhang.get(f"/api/v1/courses/{course_id}")).status_code == 404


async def test_publish_while_processing_publishes_when_the_video_is_ready(client: AppClient) -> None:
    await login(client, "trainer")
    course_id = await _create(client)
    async with write_transaction(Course):
        version_id, _event = await video_received(course_id=course_id, source_key="uploads/y/source", size=5)
    assert (await client.get(f"/api/v1/courses/{course_id}")).json()["status"] == "processing"
    assert (await client.post(f"/api/v1/courses/{course_id}/publish")).json()["status"] == "processing"
    events = await version_ready(
        version_id, video_key="v", poster_key="", duration=5.0, width=2, height=2, size=1, remuxed=False
    )
    assert len(events) == 1  # course.published
    course = (await client.get(f"/api/v1/courses/{course_id}")).json()
    assert course["status"] == "published" and course["poster_url"] is None
    # The job running twice changes nothing.
    assert (
        await version_ready(
            version_id, video_key="v", poster_key="", duration=5.0, width=2, height=2, size=1, remuxed=False
        )
        == []
    )


async def test_a_failed_video_shows_its_reason_and_a_replacement_keeps_the_course_playing(
    client: AppClient,
) -> None:
    await login(client, "trainer")
    course_id = await _create(client)
    async with write_transaction(Course):
        first, _event = await video_received(course_id=course_id, source_key="a", size=5)
    await version_failed(first, reason="transcode.unreadable")
    course = (await client.get(f"/api/v1/courses/{course_id}")).json()
    assert course["status"] == "failed" and course["failure_reason"] == "transcode.unreadable"
    version_id = await _ready_video(course_id)
    await client.post(f"/api/v1/courses/{course_id}/publish")
    async with write_transaction(Course):
        replacement, _event = await video_received(course_id=course_id, source_key="b", size=5)
    course = (await client.get(f"/api/v1/courses/{course_id}")).json()
    assert course["status"] == "published" and course["processing"] is True
    assert course["current_version_id"] == version_id  # the old video plays until the new one is ready
    await version_failed(replacement, reason="transcode.unreadable")
    course = (await client.get(f"/api/v1/courses/{course_id}")).json()
    assert course["status"] == "published" and course["current_version_id"] == version_id
    numbers = [
        r["number"]
        for r in await CourseVersion.select(CourseVersion.number)
        .where(CourseVersion.course == course_id)
        .order_by(CourseVersion.number)
    ]
    assert numbers == [1, 2, 3]


async def test_a_restricted_course_is_seen_by_its_audience_only(client: AppClient, settings: Any) -> None:
    sales = await Department.select(Department.id).where(Department.name == "销售部").first()
    assert sales is not None
    await login(client, "trainer")
    course_id = await _create(client, audience_department_ids=[sales["id"]], restricted=True)
    await _ready_video(course_id)
    await client.post(f"/api/v1/courses/{course_id}/publish")
    async with app_client(settings) as zhang:  # 华东大区, inside 销售部
        await login(zhang, "zhang")
        assert (await zhang.get(f"/api/v1/courses/{course_id}")).status_code == 200
    async with app_client(settings) as wang:  # 研发部
        await login(wang, "wang")
        assert (await wang.get(f"/api/v1/courses/{course_id}")).status_code == 404
    # Emptying the audience of a restricted course is refused; lifting the restriction is fine.
    emptied = await client.patch(f"/api/v1/courses/{course_id}", json={"audience_department_ids": []})
    assert emptied.status_code == 422
    engineer = await Position.select(Position.id).where(Position.name == "软件工程师").first()
    assert engineer is not None
    changed = await client.patch(
        f"/api/v1/courses/{course_id}",
        json={"audience_position_ids": [engineer["id"]], "title": "点检（更新）"},
    )
    assert changed.status_code == 200 and changed.json()["title"] == "点检（更新）"
    async with app_client(settings) as wang:  # now in the audience by position
        await login(wang, "wang")
        assert (await wang.get(f"/api/v1/courses/{course_id}")).status_code == 200


async def test_views_count_once_per_person_per_half_hour_and_delete_removes_everything(
    client: AppClient, settings: Any
) -> None:
    from backend.courses.services import course_view_record
    from tests.ui.harness import actor_named

    await login(client, "trainer")
    course_id = await _create(client)
    await _ready_video(course_id)
    zhang = await actor_named("zhang")
    with pytest.raises(Exception, match="not_found"):
        await course_view_record(actor=zhang, course_id=course_id)  # a draft is not watched
    await client.post(f"/api/v1/courses/{course_id}/publish")
    assert await course_view_record(actor=zhang, course_id=course_id) is True
    assert await course_view_record(actor=zhang, course_id=course_id) is False
    assert (await client.get(f"/api/v1/courses/{course_id}")).json()["view_count"] == 1
    async with app_client(settings) as zhang_client:
        await login(zhang_client, "zhang")
        assert (await zhang_client.delete(f"/api/v1/courses/{course_id}")).status_code == 403
    assert (await client.delete(f"/api/v1/courses/{course_id}")).status_code == 204
    assert not await Course.exists().where(Course.id == course_id)
    assert not await CourseView.exists().where(CourseView.course == course_id)
    assert (await client.get(f"/api/v1/courses/{course_id}")).status_code == 404


async def test_of_two_replacements_the_newest_upload_plays_whichever_finishes_first(
    client: AppClient,
) -> None:
    await login(client, "trainer")
    course_id = await _create(client)
    await _ready_video(course_id)
    await client.post(f"/api/v1/courses/{course_id}/publish")
    async with write_transaction(Course):
        second, _event = await video_received(course_id=course_id, source_key="b", size=5)
        third, _event = await video_received(course_id=course_id, source_key="c", size=5)
    media = {"poster_key": "", "duration": 9.0, "width": 2, "height": 2, "size": 1, "remuxed": False}
    await version_ready(third, video_key="v3", **media)  # the newest finishes first
    await version_ready(second, video_key="v2", **media)
    course = (await client.get(f"/api/v1/courses/{course_id}")).json()
    assert course["current_version_id"] == third
    states = {
        r["id"]: r["state"] for r in await CourseVersion.select().where(CourseVersion.course == course_id)
    }
    assert states[second] == "ready"  # kept in the history, watchable by whoever has its URL


async def test_a_failed_replacement_tells_the_trainer_why_and_the_next_upload_clears_it(
    client: AppClient,
) -> None:
    await login(client, "trainer")
    course_id = await _create(client)
    await _ready_video(course_id)
    await client.post(f"/api/v1/courses/{course_id}/publish")
    async with write_transaction(Course):
        broken, _event = await video_received(course_id=course_id, source_key="b", size=5)
    await version_failed(broken, reason="transcode.unreadable")
    course = (await client.get(f"/api/v1/courses/{course_id}")).json()
    assert course["status"] == "published" and course["failure_reason"] == "transcode.unreadable"
    async with write_transaction(Course):
        await video_received(course_id=course_id, source_key="c", size=5)
    assert (await client.get(f"/api/v1/courses/{course_id}")).json()["failure_reason"] == ""


async def test_auditors_read_published_courses_but_never_drafts(client: AppClient, settings: Any) -> None:
    from backend.accounts.tables import Account, AccountRole

    await login(client, "trainer")
    draft = await _create(client, title="草稿课")
    sales = await Department.select(Department.id).where(Department.name == "销售部").first()
    assert sales is not None
    restricted = await _create(
        client, title="销售部专属", restricted=True, audience_department_ids=[sales["id"]]
    )
    await _ready_video(restricted)
    await client.post(f"/api/v1/courses/{restricted}/publish")
    wang = await Account.select(Account.id).where(Account.username == "wang").first()
    assert wang is not None
    await AccountRole.insert(AccountRole(account=wang["id"], role="auditor"))
    async with app_client(settings) as auditor:
        await login(auditor, "wang")
        assert (await auditor.get(f"/api/v1/courses/{draft}")).status_code == 404
        assert (await auditor.get(f"/api/v1/courses/{restricted}")).status_code == 200
