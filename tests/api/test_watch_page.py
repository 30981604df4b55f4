"""The plain course pages: /watch/{id} (the player that works offline once saved) and /saved."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from backend.courses.clips import clip_generate
from backend.courses.tables import Course, CourseVersion, CourseView, WatchProgress
from backend.courses.urls import version_poster_key, version_video_key
from backend.lib.storage import storage_put
from backend.org.tables import Department, Employee
from tests.conftest import AppClient, app_client, login

pytestmark = pytest.mark.usefixtures("backend_name", "demo")


class _Elements(HTMLParser):
    """Every element's attributes, and the text of <script type="application/json"> blocks by id."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.json: dict[str, Any] = {}
        self._json_id: str | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        self.elements.append((tag, attributes))
        if tag == "script" and attributes.get("type") == "application/json":
            self._json_id = attributes.get("id")

    def handle_data(self, data: str) -> None:
        if self._json_id:
            self.json[self._json_id] = json.loads(data)
            self._json_id = None

    def one(self, tag: str, attribute: str) -> dict[str, str]:
        found = [attrs for name, attrs in self.elements if name == tag and attribute in attrs]
        assert len(found) == 1, f"expected one <{tag} {attribute}>, found {len(found)}"
        return found[0]


async def _employee_id(name: str) -> int:
    row = await Employee.select(Employee.id).where(Employee.name == name).first()
    assert row is not None
    return int(row["id"])


async def _course(
    tmp_path: Path,
    *,
    title: str = "叉车安全起步",
    status: str = "published",
    restricted: bool = False,
    audience_department_ids: list[int] | None = None,
    problem: str = "起步前不看后方，险些撞到行人。",
    case_text: str = "上月仓库门口的一次险情。",
    method: str = "一看、二鸣笛、三缓行。",
) -> dict[str, Any]:
    """A course by 陈建国 (trainer) with a ready video (a real clip in the embedded S3) and its poster."""
    author = await _employee_id("陈建国")
    rows = await Course.insert(
        Course(
            title=title,
            summary="三分钟讲清叉车起步的三个动作。",
            category="生产安全",
            tags=["叉车", "安全"],
            audience_department_ids=audience_department_ids or [],
            restricted=restricted,
            problem=problem,
            case_text=case_text,
            method=method,
            status=status,
            author=author,
        )
    ).returning(Course.id)
    course_id = int(rows[0]["id"])
    clip = clip_generate(tmp_path / f"clip-{course_id}.mp4", seconds=2, width=160, height=90, faststart=True)
    video = clip.read_bytes()
    await storage_put(version_video_key(course_id, 1), video, content_type="video/mp4")
    await storage_put(version_poster_key(course_id, 1), b"\xff\xd8\xff\xe0poster", content_type="image/jpeg")
    versions = await CourseVersion.insert(
        CourseVersion(
            course=course_id,
            number=1,
            state="ready",
            video_key=version_video_key(course_id, 1),
            poster_key=version_poster_key(course_id, 1),
            duration=2.0,
            width=160,
            height=90,
            size=len(video),
        )
    ).returning(CourseVersion.id)
    version_id = int(versions[0]["id"])
    await Course.update({Course.current_version_id: version_id}).where(Course.id == course_id)
    return {"id": course_id, "version_id": version_id, "title": title}


async def test_zhang_watches_a_published_course_where_she_stopped(client: AppClient, tmp_path: Path) -> None:
    course = await _course(tmp_path)
    zhang = await _employee_id("张丽华")
    await WatchProgress.insert(
        WatchProgress(
            course=course["id"],
            version=course["version_id"],
            employee=zhang,
            intervals=[[0.0, 1.0]],
            watched_seconds=1.0,
            position=1.25,
        )
    )
    await login(client, "zhang")
    response = await client.get(f"/watch/{course['id']}")
    assert response.status_code == 200
    assert "private" in response.headers["cache-control"]
    page = _Elements(response.text)

    video = page.one("video", "data-progress-url")
    base = f"/media/courses/{course['id']}/versions/{course['version_id']}"
    assert video["src"] == f"{base}/video.mp4"
    assert video["poster"] == f"{base}/poster.jpg"
    assert video["data-progress-url"] == f"/api/v1/courses/{course['id']}/progress"
    assert float(video["data-position"]) == 1.25  # the player resumes here
    assert video["data-viewer"] == str(zhang)
    assert "playsinline" in video and "controls" in video

    # The micro-lesson template, in its order, with a way back to the full course page.
    text = response.text
    assert text.index("问题") < text.index("起步前不看后方") < text.index("案例") < text.index("上月仓库门口")
    assert text.index("方法") < text.index("一看、二鸣笛、三缓行。")
    assert any(tag == "a" and attrs.get("href") == f"/courses/{course['id']}" for tag, attrs in page.elements)

    # "Save for offline": labels for each state are on the button; the page says what to keep.
    button = page.one("button", "data-offline-save")
    assert button["data-offline-save"] == str(course["id"])
    assert button["data-offline-label-saved"] == "已保存，可离线观看"
    assert "{percent}" in button["data-offline-label-saving"]
    assert "存储空间不足" in button["data-offline-label-quota"]
    data = page.json["watch-data"]
    assert data["video_url"] == video["src"] and data["poster_url"] == video["poster"]
    assert data["title"] == "叉车安全起步"

    # Video and poster are really there to save: the worker streams them from storage.
    assert (await client.get(video["src"])).status_code in (200, 302)


async def test_the_page_follows_her_language(client: AppClient, tmp_path: Path) -> None:
    course = await _course(tmp_path)
    await login(client, "zhang")
    english = await client.get(f"/watch/{course['id']}", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert english.status_code == 200
    assert '<html lang="en">' in english.text
    for words in ("Problem", "Case", "Method", "Save for offline", "Saved for offline"):
        assert words in english.text
    assert _Elements(english.text).one("button", "data-offline-save")["data-offline-label-saved"] == (
        "Saved, plays offline"
    )


async def test_what_she_may_not_see_is_not_found(client: AppClient, settings: Any, tmp_path: Path) -> None:
    rd = await Department.select(Department.id).where(Department.name == "研发部").first()
    assert rd is not None
    restricted = await _course(
        tmp_path, title="研发内部课", restricted=True, audience_department_ids=[rd["id"]]
    )
    draft = await _course(tmp_path, title="还没发布的课", status="draft")
    await login(client, "zhang")
    for course_id in (restricted["id"], draft["id"], 999_999, 0, 2**31, 10**20):
        response = await client.get(f"/watch/{course_id}")
        assert response.status_code == 404
        assert "找不到这门课程" in response.text
        assert "研发内部课" not in response.text and "还没发布的课" not in response.text
        assert "data-progress-url" not in response.text
    async with app_client(settings) as wang:
        await login(wang, "wang")  # 研发部: the audience
        assert (await wang.get(f"/watch/{restricted['id']}")).status_code == 200


async def test_the_author_previews_a_draft_without_reporting_progress(
    client: AppClient, tmp_path: Path
) -> None:
    draft = await _course(tmp_path, status="draft", problem="", case_text="", method="")
    await login(client, "trainer")
    response = await client.get(f"/watch/{draft['id']}")
    assert response.status_code == 200
    assert "<video" in response.text and "data-progress-url" not in response.text
    assert "讲师还没有填写问题、案例和方法" in response.text
    assert await CourseView.count().where(CourseView.course == draft["id"]) == 0  # a preview is no view


async def test_opening_the_page_counts_a_view_and_progress_is_measured_from_it(
    client: AppClient, tmp_path: Path
) -> None:
    course = await _course(tmp_path)
    await CourseVersion.update({CourseVersion.duration: 100.0}).where(
        CourseVersion.id == course["version_id"]
    )
    zhang = await _employee_id("张丽华")
    mine = (CourseView.course == course["id"]) & (CourseView.employee == zhang)
    await login(client, "zhang")
    for _ in range(2):  # reopened at once: one view (once per person per half hour)
        assert (await client.get(f"/watch/{course['id']}")).status_code == 200
    views = await CourseView.select(CourseView.id, CourseView.viewed_at).where(mine)
    assert len(views) == 1
    assert await Course.select(Course.view_count).where(Course.id == course["id"]).first() == {
        "view_count": 1
    }
    # A minute later her player reports the minute she watched: all of it counts, as the page was
    # opened a minute ago (without the view, a first report is credited 10 seconds at most).
    await CourseView.update({CourseView.viewed_at: views[0]["viewed_at"] - timedelta(seconds=60)}).where(mine)
    answer = await client.post(
        f"/api/v1/courses/{course['id']}/progress", json={"intervals": [[0, 60]], "position": 60}
    )
    assert answer.json() == {"watched_ratio": 0.6, "completed": False}


async def test_titles_are_escaped(client: AppClient, tmp_path: Path) -> None:
    course = await _course(tmp_path, title='<img src=x onerror="alert(1)">安全课')
    await login(client, "zhang")
    response = await client.get(f"/watch/{course['id']}")
    assert '<img src=x onerror="alert(1)">' not in response.text
    assert _Elements(response.text).json["watch-data"]["title"] == '<img src=x onerror="alert(1)">安全课'


async def test_signed_out_she_is_sent_to_sign_in(client: AppClient, tmp_path: Path) -> None:
    course = await _course(tmp_path)
    response = await client.get(f"/watch/{course['id']}", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/login?next=/watch/{course['id']}"


async def test_saved_courses_page_renders_in_her_language(client: AppClient) -> None:
    # Nothing personal on it (the list lives on the phone), so it renders signed out too: it is precached.
    chinese = await client.get("/saved")
    assert chinese.status_code == 200
    assert "<h1" in chinese.text and "离线课程" in chinese.text
    page = _Elements(chinese.text)
    assert page.one("ul", "aria-label")["id"] == "saved-list"
    assert any(
        tag == "script" and attrs.get("src", "").startswith("/static/offline_courses.js")
        for tag, attrs in page.elements
    )
    assert page.json["saved-data"]["messages"]["remove"] == "删除"
    assert "还没有离线课程" in chinese.text  # the empty state, shown when nothing is saved
    await login(client, "zhang")
    english = await client.get("/saved", headers={"Accept-Language": "en"})
    assert "Saved for offline" in english.text and "No saved courses yet" in english.text


async def test_the_service_worker_keeps_saved_courses(client: AppClient) -> None:
    worker = await client.get("/sw.js")
    assert worker.status_code == 200
    assert "importScripts(`/static/offline_courses.js?v=${VERSION}`)" in worker.text
    # Saved courses survive app updates: their cache is never swept when a new version activates.
    assert re.search(r"CURRENT_CACHES = \[[^\]]*COURSES_CACHE", worker.text)
    for precached in ("/static/player.js", "/static/offline_courses.js", "/static/watch.css"):
        assert f'"{precached}"' in worker.text
    shared = await client.get("/static/offline_courses.js")
    assert shared.status_code == 200 and '"learnloop-courses"' in shared.text
    player = await client.get("/static/player.js")
    assert player.status_code == 200 and "data-progress-url" in player.text
