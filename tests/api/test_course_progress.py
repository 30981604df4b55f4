"""Honest progress over the API: distinct seconds count, skipping to the end completes nothing,
replays count once, bad intervals are refused, concurrent reports lose nothing.

A report credits at most 2.5 x (seconds since the previous report, or since the page was opened) + 10
new seconds. Tests let time pass by moving the person's WatchProgress.updated_at and
CourseView.viewed_at back (`_later`), or open the page "a while ago" (`_opened`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from typing import Any

import pytest

from backend.courses.progress import intervals_stored, progress_mine
from backend.courses.tables import CourseView, WatchProgress
from tests.api.test_course_media import course_with_video, department_id, employee_of, version_add_direct
from tests.conftest import AppClient, app_client, login
from tests.ui.harness import actor_named

pytestmark = pytest.mark.usefixtures("backend_name", "demo")

DURATION = 100.0


async def _report(client: AppClient, course_id: int, intervals: list[Any], position: Any = 0.0) -> Any:
    return await client.post(
        f"/api/v1/courses/{course_id}/progress", json={"intervals": intervals, "position": position}
    )


async def _mine(course_id: int, username: str = "zhang") -> dict[str, Any]:
    return dict(await progress_mine(actor=await actor_named(username), course_id=course_id))


async def _later(course_id: int, seconds: float, username: str = "zhang") -> None:
    """`seconds` pass for the person: their last report and their page opens move that far back."""
    employee, shift = await employee_of(username), dt.timedelta(seconds=seconds)
    for row in await WatchProgress.select(WatchProgress.id, WatchProgress.updated_at).where(
        (WatchProgress.course == course_id) & (WatchProgress.employee == employee)
    ):
        await WatchProgress.update({WatchProgress.updated_at: row["updated_at"] - shift}).where(
            WatchProgress.id == row["id"]
        )
    for row in await CourseView.select(CourseView.id, CourseView.viewed_at).where(
        (CourseView.course == course_id) & (CourseView.employee == employee)
    ):
        await CourseView.update({CourseView.viewed_at: row["viewed_at"] - shift}).where(
            CourseView.id == row["id"]
        )


async def _opened(
    client: AppClient, course_id: int, seconds_ago: float = 600, username: str = "zhang"
) -> None:
    """`username` (signed in on `client`) opened the plain course page `seconds_ago` (a counted view)."""
    assert (await client.get(f"/watch/{course_id}")).status_code == 200
    await _later(course_id, seconds_ago, username)


async def _stored(course_id: int, username: str = "zhang") -> list[tuple[float, float]]:
    row = (
        await WatchProgress.select(WatchProgress.intervals)
        .where((WatchProgress.course == course_id) & (WatchProgress.employee == await employee_of(username)))
        .first()
    )
    assert row is not None
    return intervals_stored(row["intervals"])


async def test_skipping_to_the_end_completes_nothing(client: AppClient) -> None:
    course_id, _version, _ = await course_with_video(duration=DURATION)
    await login(client, "zhang")
    first = await _report(client, course_id, [[0, 3]], 3)
    assert first.status_code == 200 and first.json() == {"watched_ratio": 0.03, "completed": False}
    at_the_end = await _report(client, course_id, [[97, 100.4]], 100)  # a frame past the end is tolerated
    assert at_the_end.json() == {"watched_ratio": 0.06, "completed": False}
    assert await _mine(course_id) == {"watched_ratio": 0.06, "completed": False, "position": 100.0}


async def test_one_report_of_the_whole_video_completes_nothing(client: AppClient) -> None:
    course_id, _version, _ = await course_with_video(duration=DURATION)
    await login(client, "zhang")  # she never opened the page: her first report credits 10 s at most
    skipped = await _report(client, course_id, [[0, 100]], 100)
    assert skipped.status_code == 200 and skipped.json() == {"watched_ratio": 0.1, "completed": False}
    assert await _stored(course_id) == [(0.0, 10.0)]  # the rest is dropped, not kept for later
    assert await _mine(course_id) == {"watched_ratio": 0.1, "completed": False, "position": 100.0}
    again = (await _report(client, course_id, [[0, 100]], 100)).json()  # at once: 10 s more, about
    assert 0.2 <= again["watched_ratio"] < 0.21 and again["completed"] is False

    other, _version, _ = await course_with_video(duration=DURATION)
    await _opened(client, other, seconds_ago=0)  # opening the page just now changes nothing
    assert (await _report(client, other, [[0, 100]], 100)).json()["watched_ratio"] < 0.11


async def test_watching_in_real_time_completes_at_ninety_percent(client: AppClient) -> None:
    course_id, _version, _ = await course_with_video(duration=DURATION)
    await login(client, "zhang")
    await _opened(client, course_id, seconds_ago=12)
    answers = []
    for end in range(10, 100, 10):  # a report every 10 s of the interval being played, growing
        answers.append((await _report(client, course_id, [[0, end]], end)).json())
        await _later(course_id, 10)
    assert [a["watched_ratio"] for a in answers] == [end / 100 for end in range(10, 100, 10)]
    assert [a["completed"] for a in answers] == [False] * 8 + [True]
    replay = (await _report(client, course_id, [[0, 90], [20, 40]], 40)).json()  # watched again
    assert replay == {"watched_ratio": 0.9, "completed": True}


async def test_new_seconds_are_credited_in_time_order_up_to_what_time_allows(client: AppClient) -> None:
    course_id, _version, _ = await course_with_video(duration=DURATION)
    await login(client, "zhang")
    await _report(client, course_id, [[0, 10]], 10)
    await _later(course_id, 4)  # room for 4 x 2.5 + 10 = 20 new seconds (and the test's milliseconds)
    answer = (await _report(client, course_id, [[50, 60], [5, 40], [70, 80]], 80)).json()
    assert 0.3 <= answer["watched_ratio"] < 0.301
    [(start, end)] = await _stored(course_id)  # 10-30 credited; 30-40, 50-60 and 70-80 dropped
    assert start == 0 and 30 <= end < 30.1
    assert (await _mine(course_id))["position"] == 80


async def test_what_was_played_offline_counts_when_it_arrives_hours_later(client: AppClient) -> None:
    course_id, _version, _ = await course_with_video(duration=DURATION)
    await login(client, "zhang")
    await _opened(client, course_id, seconds_ago=30)
    assert (await _report(client, course_id, [[0, 20]], 20)).json()["watched_ratio"] == 0.2
    await _later(course_id, 3 * 3600)  # the subway, then the network comes back
    caught_up = await _report(client, course_id, [[20, 60], [60, 95]], 95)
    assert caught_up.json() == {"watched_ratio": 0.95, "completed": True}


async def test_an_empty_report_keeps_nothing(client: AppClient, settings: Any) -> None:
    course_id, _version, _ = await course_with_video(duration=DURATION)
    await login(client, "zhang")
    nothing = await _report(client, course_id, [], 0)
    assert nothing.status_code == 200 and nothing.json() == {"watched_ratio": 0.0, "completed": False}
    assert await WatchProgress.count().where(WatchProgress.course == course_id) == 0
    await _report(client, course_id, [], 30)  # a seek before playing: kept for resuming, not a learner
    assert await _mine(course_id) == {"watched_ratio": 0.0, "completed": False, "position": 30.0}
    async with app_client(settings) as wang:
        await login(wang, "wang")
        await _report(wang, course_id, [[0, 10]], 10)
    async with app_client(settings) as author:
        await login(author, "trainer")
        stats = (await author.get(f"/api/v1/courses/{course_id}/stats")).json()
    assert stats["learners"] == 1 and stats["completed"] == 0
    assert stats["segments"][0]["viewers"] == 1 and stats["segments"][2]["skipped"] == 0


async def test_watching_ninety_percent_in_pieces_completes_once_and_for_good(client: AppClient) -> None:
    course_id, _version, _ = await course_with_video(duration=DURATION)
    await login(client, "zhang")
    answers = [
        (await _report(client, course_id, [[start, start + 10]], start + 10)).json()
        for start in (40, 0, 20, 10, 30, 60, 50, 70)  # out of order, as heartbeats after seeks arrive
    ]
    assert answers[-1] == {"watched_ratio": 0.8, "completed": False}
    done = await _report(client, course_id, [[80, 85], [85, 90]], 90)
    assert done.json() == {"watched_ratio": 0.9, "completed": True}
    row = await WatchProgress.select().where(WatchProgress.course == course_id).first()
    assert row is not None and row["completed_at"] is not None and row["watched_seconds"] == 90
    again = await _report(client, course_id, [[95, 100]], 100)
    assert again.json() == {"watched_ratio": 0.95, "completed": True}
    later = await WatchProgress.select().where(WatchProgress.course == course_id).first()
    assert later is not None and later["completed_at"] == row["completed_at"]
    # Completion is announced once (points and reminders hang on it), not on every later report.
    from backend.events.tables import OutboxEvent

    events = await OutboxEvent.select(OutboxEvent.payload).where(OutboxEvent.kind == "course.completed")
    payloads = [e["payload"] if isinstance(e["payload"], dict) else json.loads(e["payload"]) for e in events]
    assert [(p["course_id"], p["employee_id"]) for p in payloads] == [(course_id, row["employee"])]


async def test_replaying_the_same_part_does_not_raise_the_ratio(client: AppClient) -> None:
    course_id, _version, _ = await course_with_video(duration=DURATION)
    await login(client, "zhang")
    await _opened(client, course_id)
    first = (await _report(client, course_id, [[10, 40]], 40)).json()
    for _ in range(4):
        replay = (await _report(client, course_id, [[10, 40], [15, 25]], 40)).json()
        assert replay == first == {"watched_ratio": 0.3, "completed": False}


async def test_the_position_is_kept_for_resuming(client: AppClient) -> None:
    course_id, _version, _ = await course_with_video(duration=DURATION)
    await login(client, "zhang")
    assert await _mine(course_id) == {"watched_ratio": 0.0, "completed": False, "position": 0.0}
    await _opened(client, course_id)
    await _report(client, course_id, [[0, 42.5]], 42.5)
    await _report(client, course_id, [], 61.25)  # a seek, nothing played yet
    assert await _mine(course_id) == {"watched_ratio": 0.425, "completed": False, "position": 61.25}


@pytest.mark.parametrize(
    ("intervals", "position", "code"),
    [
        ([[0, 102]], 0, "progress.interval_out_of_range"),  # beyond the duration and its tolerance
        ([[-5, 3]], 0, "progress.interval_out_of_range"),
        ([[30, 20]], 0, "progress.interval_out_of_range"),
        ([[0, None]], 0, "progress.interval_invalid"),  # JSON.stringify(NaN) is null
        ([[0, 1, 2]], 0, "progress.interval_invalid"),
        ([[i, i + 0.5] for i in range(201)], 0, "progress.too_many_intervals"),
        ([[0, 1]], 150, "progress.position_invalid"),
        ([[0, 1]], None, "progress.position_invalid"),
    ],
)
async def test_bad_reports_are_refused_and_change_nothing(
    client: AppClient, intervals: list[Any], position: Any, code: str
) -> None:
    course_id, _version, _ = await course_with_video(duration=DURATION)
    await login(client, "zhang")
    await _report(client, course_id, [[0, 10]], 10)
    refused = await _report(client, course_id, intervals, position)
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["code"] == code and refused.json()["error"]["message"]
    assert await _mine(course_id) == {"watched_ratio": 0.1, "completed": False, "position": 10.0}


async def test_bodies_that_are_not_json_numbers_are_bad_requests(client: AppClient) -> None:
    course_id, _version, _ = await course_with_video(duration=DURATION)
    await login(client, "zhang")
    for body in ('{"intervals": [[0, NaN]], "position": 1}', '{"intervals": [["a", 2]], "position": 1}'):
        answer = await client.post(
            f"/api/v1/courses/{course_id}/progress",
            content=body,
            headers={"Content-Type": "application/json"},
        )
        assert answer.status_code == 400, body
    unknown = await client.post(
        f"/api/v1/courses/{course_id}/progress", json={"intervals": [], "position": 1, "percent": 100}
    )
    assert unknown.status_code == 400


async def test_only_people_who_may_watch_record_progress(client: AppClient, settings: Any) -> None:
    draft, _, _ = await course_with_video(status="draft", duration=DURATION)
    research = await department_id("研发部")
    restricted, _, _ = await course_with_video(
        restricted=True, audience_department_ids=(research,), duration=DURATION
    )
    public, _, _ = await course_with_video(duration=DURATION)
    assert (await _report(client, public, [[0, 5]], 5)).status_code == 401
    await login(client, "zhang")
    for course_id in (draft, restricted, 999_999):
        assert (await _report(client, course_id, [[0, 5]], 5)).status_code == 404, course_id
    async with app_client(settings) as author:
        await login(author, "trainer")  # the author sees the draft but nobody watches a draft
        assert (await _report(author, draft, [[0, 5]], 5)).status_code == 404
    with pytest.raises(Exception) as hidden:
        await _mine(draft)
    assert getattr(hidden.value, "status_code", None) == 404
    assert await WatchProgress.count().where(WatchProgress.course.is_in([draft, restricted, public])) == 0


async def test_a_course_without_a_ready_video_has_no_progress(client: AppClient) -> None:
    from tests.api.test_course_media import course_create_direct

    course_id = await course_create_direct()
    await login(client, "zhang")
    answer = await _report(client, course_id, [[0, 5]], 5)
    assert answer.status_code == 409 and answer.json()["error"]["code"] == "progress.no_video"
    assert await _mine(course_id) == {"watched_ratio": 0.0, "completed": False, "position": 0.0}


async def test_a_new_video_starts_afresh_and_the_old_history_stays(client: AppClient) -> None:
    course_id, old_version, _ = await course_with_video(duration=DURATION)
    await login(client, "zhang")
    await _opened(client, course_id)
    await _report(client, course_id, [[0, 95]], 95)
    new_version = await version_add_direct(course_id, video=b"\0" * 1000, duration=50.0)
    assert await _mine(course_id) == {"watched_ratio": 0.0, "completed": False, "position": 0.0}
    fresh = await _report(client, course_id, [[0, 10]], 10)
    assert fresh.json() == {"watched_ratio": 0.2, "completed": False}
    # A player still showing the old video may say so.
    old = await client.post(
        f"/api/v1/courses/{course_id}/progress",
        json={"intervals": [[95, 100]], "position": 100, "version_id": old_version},
    )
    assert old.json() == {"watched_ratio": 1.0, "completed": True}
    zhang = await employee_of("zhang")
    rows = await WatchProgress.select(WatchProgress.version, WatchProgress.completed).where(
        (WatchProgress.employee == zhang) & (WatchProgress.course == course_id)
    )
    assert {row["version"]: row["completed"] for row in rows} == {old_version: True, new_version: False}


async def test_concurrent_reports_of_one_person_lose_nothing(client: AppClient) -> None:
    course_id, _version, _ = await course_with_video(duration=DURATION)
    await login(client, "zhang")
    pieces = [[start, start + 4] for start in range(0, 96, 4)]  # 24 reports racing, first ones included
    answers = await asyncio.gather(*(_report(client, course_id, [piece], piece[1]) for piece in pieces))
    assert all(answer.status_code == 200 for answer in answers), [a.text for a in answers]
    mine = await _mine(course_id)
    assert mine["watched_ratio"] == 0.96 and mine["completed"] is True
    assert await WatchProgress.count().where(WatchProgress.course == course_id) == 1


async def test_the_author_sees_the_reports_in_the_course_stats(client: AppClient, settings: Any) -> None:
    course_id, _version, _ = await course_with_video(duration=DURATION)
    await login(client, "zhang")
    await _opened(client, course_id)
    await _report(client, course_id, [[0, 30], [80, 100]], 100)  # skipped 30-80
    assert (await client.get(f"/api/v1/courses/{course_id}/stats")).status_code == 403  # may see, not manage
    async with app_client(settings) as author:
        await login(author, "trainer")
        stats = (await author.get(f"/api/v1/courses/{course_id}/stats")).json()
    assert stats["learners"] == 1 and stats["completed"] == 0 and stats["completion_rate"] == 0
    assert stats["bucket_seconds"] == 5 and len(stats["segments"]) == 20
    assert [s["viewers"] for s in stats["segments"]] == [1] * 6 + [0] * 10 + [1] * 4
    assert [s["skipped"] for s in stats["segments"]] == [0] * 6 + [1] * 10 + [0] * 4
    assert sum(s["drop_off"] for s in stats["segments"]) == 0  # reached the end
