"""Who sees which reflections, likes and comments, grading and the featured wall, over the API."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from backend.events.tables import OutboxEvent
from backend.reflections.tables import Submission
from tests.conftest import AppClient, app_client, login

pytestmark = pytest.mark.usefixtures("backend_name", "demo")


async def _demo_submission(author: str) -> int:
    from backend.org.tables import Employee

    row = (
        await Submission.select(Submission.id)
        .where(Submission.employee.is_in(Employee.select(Employee.id).where(Employee.name == author)))
        .first()
    )
    assert row is not None
    return int(row["id"])


async def _waiting() -> dict[str, Any]:
    """The demo's 华东大区 reflection still waiting for a grade."""
    row = (
        await Submission.select(Submission.id, Submission.employee.name)
        .where((Submission.state == "submitted") & (Submission.department.name == "华东大区"))
        .first()
    )
    assert row is not None
    return dict(row)


async def test_department_feed_shows_my_colleagues_work(client: AppClient) -> None:
    await login(client, "zhang")
    feed = (await client.get("/api/v1/reflections?scope=department")).json()
    assert feed["total"] == 3  # submitted or graded; the one returned for revision is not shown
    assert {item["department"] for item in feed["items"]} == {"华东大区"}
    assert all(len(item["body"]) <= 281 for item in feed["items"])
    by_likes = (await client.get("/api/v1/reflections?scope=department&sort=likes")).json()["items"]
    assert [item["like_count"] for item in by_likes] == sorted(
        (i["like_count"] for i in by_likes), reverse=True
    )
    assert any(item["liked_by_me"] for item in feed["items"])  # zhang liked the excellent one


async def test_visibility_keeps_department_work_inside_the_department(client: AppClient) -> None:
    await login(client, "wang")
    organisation = (await client.get("/api/v1/reflections?scope=organisation")).json()
    assert {item["training"]["name"] for item in organisation["items"]} == {"代码评审实践"}
    east = (await _waiting())["id"]
    assert (await client.get(f"/api/v1/reflections/{east}")).status_code == 404
    assert (await client.post(f"/api/v1/reflections/{east}/like")).status_code == 404
    assert (await client.post(f"/api/v1/reflections/{east}/comments", json={"body": "hi"})).status_code == 404


async def test_a_returned_reflection_is_seen_by_its_author_and_graders_only(
    client: AppClient, settings: Any
) -> None:
    returned = await Submission.select(Submission.id).where(Submission.state == "returned").first()
    assert returned is not None
    await login(client, "zhang")
    assert (await client.get(f"/api/v1/reflections/{returned['id']}")).status_code == 404
    async with app_client(settings) as manager:
        await login(manager, "manager")
        shown = await manager.get(f"/api/v1/reflections/{returned['id']}")
        assert shown.status_code == 200 and shown.json()["grade"] == "revise"


async def test_likes_are_one_per_person_and_idempotent(client: AppClient) -> None:
    await login(client, "zhang")
    waiting = (await _waiting())["id"]
    before = (await client.get(f"/api/v1/reflections/{waiting}")).json()["like_count"]
    first = await client.post(f"/api/v1/reflections/{waiting}/like")
    again = await client.post(f"/api/v1/reflections/{waiting}/like")
    assert first.json() == again.json() == {"like_count": before + 1, "liked_by_me": True}
    assert (await client.get(f"/api/v1/reflections/{waiting}")).json()["liked_by_me"] is True
    removed = await client.delete(f"/api/v1/reflections/{waiting}/like")
    removed_again = await client.delete(f"/api/v1/reflections/{waiting}/like")
    assert removed.json() == removed_again.json() == {"like_count": before, "liked_by_me": False}
    likes = await OutboxEvent.count().where(OutboxEvent.kind == "reflection.liked")
    await client.post(f"/api/v1/reflections/{waiting}/like")
    assert await OutboxEvent.count().where(OutboxEvent.kind == "reflection.liked") == likes + 1


async def test_comments_are_bounded_and_removed_by_author_or_hr(client: AppClient, settings: Any) -> None:
    await login(client, "zhang")
    waiting = (await _waiting())["id"]
    empty = await client.post(f"/api/v1/reflections/{waiting}/comments", json={"body": "  "})
    assert empty.status_code == 422 and empty.json()["error"]["message"] == "此项必填"
    too_long = await client.post(f"/api/v1/reflections/{waiting}/comments", json={"body": "长" * 1001})
    assert too_long.status_code == 400
    mine = (await client.post(f"/api/v1/reflections/{waiting}/comments", json={"body": "学到了"})).json()[
        "id"
    ]
    other = (await client.post(f"/api/v1/reflections/{waiting}/comments", json={"body": "再补一句"})).json()[
        "id"
    ]
    detail = (await client.get(f"/api/v1/reflections/{waiting}")).json()
    assert [c["body"] for c in detail["comments"]][-2:] == ["学到了", "再补一句"]
    assert detail["comment_count"] == len(detail["comments"])
    async with app_client(settings) as manager:
        await login(manager, "manager")
        assert (await manager.delete(f"/api/v1/comments/{mine}")).status_code == 403
    async with app_client(settings) as hr:
        await login(hr, "hr")
        assert (await hr.delete(f"/api/v1/comments/{mine}")).status_code == 204
    assert (await client.delete(f"/api/v1/comments/{other}")).status_code == 204
    assert (await client.delete(f"/api/v1/comments/{other}")).status_code == 404
    after = (await client.get(f"/api/v1/reflections/{waiting}")).json()
    assert "学到了" not in [c["body"] for c in after["comments"]]
    assert after["comment_count"] == detail["comment_count"] - 2


async def test_grading_and_the_featured_wall(client: AppClient, settings: Any) -> None:
    waiting = (await _waiting())["id"]
    await login(client, "zhang")
    assert (
        await client.put(f"/api/v1/reflections/{waiting}/grade", json={"grade": "excellent"})
    ).status_code == 403
    queue = (await client.get("/api/v1/reflections/grading")).json()
    assert queue["total"] == 0
    async with app_client(settings) as manager:
        await login(manager, "manager")
        queue = (await manager.get("/api/v1/reflections/grading")).json()
        assert [item["id"] for item in queue["items"]] == [waiting]
        early = await manager.put(f"/api/v1/reflections/{waiting}/featured", json={"featured": True})
        assert early.status_code == 422 and early.json()["error"]["code"] == "feature_needs_excellent"
        graded = await manager.put(
            f"/api/v1/reflections/{waiting}/grade", json={"grade": "excellent", "feedback": "具体、可执行"}
        )
        assert graded.status_code == 204
        assert (
            await manager.put(f"/api/v1/reflections/{waiting}/featured", json={"featured": True})
        ).status_code == 204
    wall = (await client.get("/api/v1/reflections/featured?scope=department")).json()
    assert waiting in [item["id"] for item in wall["items"]]
    assert all(item["grade"] == "excellent" for item in wall["items"])
    shown = (await client.get(f"/api/v1/reflections/{waiting}")).json()
    assert (
        shown["grade"] == "excellent" and shown["feedback"] == "具体、可执行" and shown["can_grade"] is False
    )
    assert await OutboxEvent.count().where(OutboxEvent.kind == "submission.graded") >= 1


async def test_a_trainer_grades_their_own_trainings_only(client: AppClient, settings: Any) -> None:
    waiting = (await _waiting())["id"]
    await login(client, "trainer")  # the demo trainings were created by hr, not by trainer
    assert (
        await client.put(f"/api/v1/reflections/{waiting}/grade", json={"grade": "good"})
    ).status_code == 404
    async with app_client(settings) as hr:
        await login(hr, "hr")
        assert (
            await hr.put(f"/api/v1/reflections/{waiting}/grade", json={"grade": "good"})
        ).status_code == 204
        assert (
            await hr.put(f"/api/v1/reflections/{waiting}/grade", json={"grade": "perfect"})
        ).status_code == 400


async def test_training_creation_previews_and_validates_participants(
    client: AppClient, settings: Any
) -> None:
    await login(client, "zhang")
    denied = await client.post("/api/v1/trainings/participants/preview", json={"department_ids": [1]})
    assert denied.status_code == 403
    async with app_client(settings) as hr:
        await login(hr, "hr")
        departments = {d["name"]: d["id"] for d in (await hr.get("/api/v1/departments")).json()}
        preview = (
            await hr.post(
                "/api/v1/trainings/participants/preview", json={"department_ids": [departments["研发部"]]}
            )
        ).json()
        people = (await hr.get(f"/api/v1/employees?department_id={departments['研发部']}")).json()["total"]
        assert preview["count"] == people > 0 and len(preview["names"]) == min(people, 10)
        empty = await hr.post("/api/v1/trainings/participants/preview", json={})
        assert empty.status_code == 422 and empty.json()["error"]["code"] == "participants_empty"
        unknown = await hr.post("/api/v1/trainings/participants/preview", json={"employee_ids": [10**9]})
        assert unknown.status_code == 422
        created = await hr.post(
            "/api/v1/trainings",
            json={
                "title": "安全生产月",
                "kind": "course",
                "starts_on": dt.date.today().isoformat(),
                "participants": {"department_ids": [departments["研发部"]]},
            },
        )
        assert created.status_code == 201
        training_id = created.json()["id"]
        past = await hr.post(
            f"/api/v1/trainings/{training_id}/assignments",
            json={"prompt": "写心得", "due_at": "2020-01-01T00:00:00+08:00"},
        )
        assert past.status_code == 422 and past.json()["error"]["field"] == "due_at"
        due = (dt.datetime.now(dt.UTC) + dt.timedelta(days=3)).isoformat()
        ok = await hr.post(
            f"/api/v1/trainings/{training_id}/assignments",
            json={"prompt": "写心得", "due_at": due, "visibility": "organisation"},
        )
        assert ok.status_code == 201
    async with app_client(settings) as wang:
        await login(wang, "wang")
        trainings = [item["training"]["name"] for item in (await wang.get("/api/v1/assignments")).json()]
        assert "安全生产月" in trainings


async def test_a_refused_first_assignment_leaves_no_training(db: Any) -> None:
    from backend.lib.errors import ValidationFailed
    from backend.reflections.tables import Training
    from backend.reflections.trainings import AssignmentSpec, ParticipantFilter, training_create
    from tests.ui.harness import actor_named

    hr = await actor_named("hr")
    before = await Training.count()
    with pytest.raises(ValidationFailed) as refused:
        await training_create(
            actor=hr,
            title="新员工入职",
            kind="course",
            starts_on=dt.date.today(),
            ends_on=None,
            participants=ParticipantFilter(employee_ids=(hr.employee_id or 0,)),
            assignment=AssignmentSpec(prompt="写心得", due_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC)),
        )
    assert refused.value.field == "due_at"
    assert await Training.count() == before
