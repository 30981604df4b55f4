"""Submitting reflections over the API: exactly once, bounded input, late marking, revision."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import uuid
from typing import Any

import pytest
from PIL import Image

from backend.events.tables import OutboxEvent
from backend.reflections.tables import Assignment, Submission, SubmissionVersion
from tests.conftest import AppClient, app_client, login

pytestmark = pytest.mark.usefixtures("backend_name", "demo")

TEXT = "这次培训让我学会先倾听客户的真实需求，再给出方案。" * 6  # > 100 characters


async def _assignment_id(client: AppClient, training: str = "大客户关系维护") -> int:
    mine = (await client.get("/api/v1/assignments")).json()
    return next(item["id"] for item in mine if item["training"]["name"] == training)


def _key() -> str:
    return uuid.uuid4().hex


async def _submit(
    client: AppClient, assignment_id: int, body: str, key: str, photos: list[int] | None = None
) -> Any:
    return await client.post(
        f"/api/v1/assignments/{assignment_id}/submissions",
        json={"body": body, "photo_ids": photos or []},
        headers={"Idempotency-Key": key},
    )


def _jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(buffer, "JPEG")
    return buffer.getvalue()


async def test_my_assignments_show_state_and_due_date(client: AppClient) -> None:
    await login(client, "zhang")
    mine = (await client.get("/api/v1/assignments")).json()
    assert [item["training"]["name"] for item in mine] == ["大客户关系维护"]
    item = mine[0]
    assert item["state"] == "assigned" and item["min_length"] == 100
    due = dt.datetime.fromisoformat(item["due_at"])
    assert dt.timedelta(days=1) < due - dt.datetime.now(dt.UTC) <= dt.timedelta(days=2)


async def test_the_same_key_answers_the_same_submission(client: AppClient) -> None:
    await login(client, "zhang")
    assignment_id = await _assignment_id(client)
    key = _key()
    first = await _submit(client, assignment_id, TEXT, key)
    assert first.status_code == 201, first.text
    again = await _submit(client, assignment_id, TEXT, key)
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    other_body = await _submit(client, assignment_id, TEXT + "改了", key)
    assert other_body.status_code == 422 and other_body.json()["error"]["code"] == "idempotency_key_reused"
    other_key = await _submit(client, assignment_id, TEXT, _key())
    assert other_key.status_code == 409 and other_key.json()["error"]["message"] == "你已经提交过这篇心得了"
    assert await Submission.count().where(Submission.assignment == assignment_id) == 5  # 4 colleagues + zhang
    assert await SubmissionVersion.count().where(SubmissionVersion.submission == first.json()["id"]) == 1
    events = await OutboxEvent.select(OutboxEvent.payload).where(OutboxEvent.kind == "submission.submitted")
    assert (
        sum(
            f'"submission_id": {first.json()["id"]},' in str(row["payload"])
            or f'"submission_id":{first.json()["id"]},' in str(row["payload"])
            for row in events
        )
        == 1
    )


async def test_concurrent_double_taps_make_one_submission(client: AppClient) -> None:
    await login(client, "zhang")
    assignment_id = await _assignment_id(client)
    key = _key()
    responses = await asyncio.gather(*(_submit(client, assignment_id, TEXT, key) for _ in range(5)))
    assert sorted(r.status_code for r in responses) == [200, 200, 200, 200, 201]
    assert len({r.json()["id"] for r in responses}) == 1
    mine = await Submission.select(Submission.version).where(
        (Submission.assignment == assignment_id)
        & (Submission.state == "submitted")
        & (Submission.id == responses[0].json()["id"])
    )
    assert mine == [{"version": 1}]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ("   ", 422, "body_empty"),
        ("太短了", 422, "body_too_short"),
        ("长" * 20_001, 422, "body_too_long"),
        ("长" * 25_001, 400, "body_invalid"),
    ],
)
async def test_bad_bodies_are_refused_and_nothing_is_written(
    client: AppClient, body: str, status: int, code: str
) -> None:
    await login(client, "zhang")
    assignment_id = await _assignment_id(client)
    response = await _submit(client, assignment_id, body, _key())
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    assert not await Submission.exists().where(
        (Submission.assignment == assignment_id)
        & (Submission.state == "submitted")
        & (Submission.body == body)
    )


async def test_too_short_says_how_many_are_missing(client: AppClient) -> None:
    await login(client, "zhang")
    response = await _submit(client, await _assignment_id(client), "一二三四五", _key())
    assert response.json()["error"]["message"] == "还差一点：至少需要 100 字，现在 5 字"


async def test_a_missing_or_malformed_key_is_refused(client: AppClient) -> None:
    await login(client, "zhang")
    assignment_id = await _assignment_id(client)
    missing = await client.post(f"/api/v1/assignments/{assignment_id}/submissions", json={"body": TEXT})
    assert missing.status_code == 400
    bad = await _submit(client, assignment_id, TEXT, "short!")
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "Idempotency-Key"


async def test_someone_outside_the_training_gets_404(client: AppClient) -> None:
    await login(client, "zhang")
    assignment_id = await _assignment_id(client)
    await client.post("/api/v1/auth/logout")
    await login(client, "wang")
    assert (await _submit(client, assignment_id, TEXT, _key())).status_code == 404
    assert (await client.get(f"/api/v1/assignments/{assignment_id}")).status_code == 404
    assert (
        await client.put(f"/api/v1/assignments/{assignment_id}/draft", json={"body": "x"})
    ).status_code == 404


async def test_after_the_due_date_it_is_accepted_and_marked_late(client: AppClient) -> None:
    await login(client, "zhang")
    assignment_id = await _assignment_id(client)
    await Assignment.update({Assignment.due_at: dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)}).where(
        Assignment.id == assignment_id
    )
    response = await _submit(client, assignment_id, TEXT, _key())
    assert response.status_code == 201 and response.json()["late"] is True
    mine = (await client.get(f"/api/v1/assignments/{assignment_id}")).json()
    assert mine["state"] == "late"


async def test_drafts_are_kept_and_closed_after_submitting(client: AppClient) -> None:
    await login(client, "zhang")
    assignment_id = await _assignment_id(client)
    saved = await client.put(f"/api/v1/assignments/{assignment_id}/draft", json={"body": "地铁上写了一半"})
    assert saved.status_code == 204
    mine = (await client.get(f"/api/v1/assignments/{assignment_id}")).json()
    assert mine["state"] == "draft" and mine["body"] == "地铁上写了一半"
    assert (await _submit(client, assignment_id, TEXT, _key())).status_code == 201
    late_draft = await client.put(f"/api/v1/assignments/{assignment_id}/draft", json={"body": "再改"})
    assert late_draft.status_code == 409


async def test_photos_are_bounded_owned_and_images(client: AppClient, settings: Any) -> None:
    await login(client, "zhang")
    assignment_id = await _assignment_id(client)
    not_image = await client.post(
        "/api/v1/photos", files={"file": ("notes.jpg", b"%PDF-1.4 not a photo", "image/jpeg")}
    )
    assert not_image.status_code == 422 and not_image.json()["error"]["code"] == "photo_not_image"
    ids = []
    for _ in range(4):
        uploaded = await client.post("/api/v1/photos", files={"file": ("n.jpg", _jpeg(), "image/jpeg")})
        assert uploaded.status_code == 201, uploaded.text
        ids.append(uploaded.json()["id"])
    too_many = await _submit(client, assignment_id, TEXT, _key(), ids)  # the assignment allows 3
    assert too_many.status_code == 422 and too_many.json()["error"]["code"] == "too_many_photos"
    async with app_client(settings) as wang:
        await login(wang, "wang")
        assert (await wang.get(f"/api/v1/photos/{ids[0]}")).status_code == 404  # not his, not shared
        theirs = await wang.post("/api/v1/photos", files={"file": ("n.jpg", _jpeg(), "image/jpeg")})
    foreign = await _submit(client, assignment_id, TEXT, _key(), [ids[0], theirs.json()["id"]])
    assert foreign.status_code == 422 and foreign.json()["error"]["code"] == "photo_unknown"
    ok = await _submit(client, assignment_id, TEXT, _key(), ids[:2])
    assert ok.status_code == 201
    photo = await client.get(f"/api/v1/photos/{ids[0]}")
    assert photo.status_code == 200 and photo.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(photo.content)).size == (64, 48)


async def test_returned_for_revision_can_be_resubmitted_as_version_two(
    client: AppClient, settings: Any
) -> None:
    await login(client, "zhang")
    assignment_id = await _assignment_id(client)
    submission_id = (await _submit(client, assignment_id, TEXT, _key())).json()["id"]
    async with app_client(settings) as manager:
        await login(manager, "manager")
        no_date = await manager.put(
            f"/api/v1/reflections/{submission_id}/grade", json={"grade": "revise", "feedback": "补充例子"}
        )
        assert no_date.status_code == 422 and no_date.json()["error"]["field"] == "revise_due_at"
        due = (dt.datetime.now(dt.UTC) + dt.timedelta(days=3)).isoformat()
        returned = await manager.put(
            f"/api/v1/reflections/{submission_id}/grade",
            json={"grade": "revise", "feedback": "补充例子", "revise_due_at": due},
        )
        assert returned.status_code == 204
    mine = (await client.get(f"/api/v1/assignments/{assignment_id}")).json()
    assert mine["state"] == "returned" and mine["feedback"] == "补充例子"
    revised = await _submit(client, assignment_id, TEXT + "补充：下周拜访时使用清单。", _key())
    assert revised.status_code == 201 and revised.json()["version"] == 2 and revised.json()["late"] is False
    kinds = (
        await SubmissionVersion.select(SubmissionVersion.version, SubmissionVersion.kind)
        .where(SubmissionVersion.submission == submission_id)
        .order_by(SubmissionVersion.id)
    )
    assert kinds == [
        {"version": 1, "kind": "submitted"},
        {"version": 1, "kind": "graded"},
        {"version": 2, "kind": "submitted"},
    ]
