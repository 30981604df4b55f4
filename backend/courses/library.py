"""The course library: published courses I may watch, mine first; search, categories, related courses.

Who may see a course and whether it is "for me" depend on its audience lists (JSON columns that
neither engine indexes portably). So a library call reads the light columns of the published
courses once, decides with the very rules of access.py, and loads the full cards of one page only,
with one query per kind of detail (versions, ratings, my progress), never one per course.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import Any

from piccolo.query.functions.aggregate import Count

from backend.courses.access import (
    STATUS_PUBLISHED,
    VERSION_READY,
    Viewer,
    can_see_course,
    course_see_check,
    in_audience,
)
from backend.courses.facts import course_facts, facts_from_row, json_ids, json_strings, viewer_for
from backend.courses.feedback import rating_summaries
from backend.courses.tables import Course, CourseVersion, WatchProgress
from backend.courses.urls import poster_url
from backend.lib.db import text_contains
from backend.lib.policy import Actor
from backend.lib.schema import Schema
from backend.org.schemas import Page
from backend.org.tables import Department, Position

PAGE_SIZE = 20
SUMMARY_LENGTH = 80
QUERY_MAX = 100
RELATED_MAX = 12
# Related courses: each shared tag (skill, audience department or position) scores 1; co-viewing
# scores up to this much, by the share of this course's viewers who also watched the other one.
CO_VIEWING_WEIGHT = 2.0
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


class CourseCard(Schema):
    """A course as the library, the related-courses strip and the home page list it."""

    id: int
    title: str
    summary: str
    category: str
    tags: list[str]
    duration: float  # seconds of the current video (0 when none is ready)
    poster_url: str | None
    author_name: str
    rating_avg: float | None
    rating_count: int
    view_count: int
    for_me: bool  # my department (or one above it) or my position is in its audience
    my_watched_ratio: float
    my_completed: bool


@dataclass(frozen=True)
class _Candidate:
    """The light columns of one published course I may see."""

    row: dict[str, Any]
    for_me: bool

    @property
    def id(self) -> int:
        return int(self.row["id"])

    @property
    def newest_first(self) -> tuple[float, int]:
        when = self.row["published_at"] or self.row["created_at"] or _EPOCH
        return (-when.timestamp(), -self.id)


_LIGHT_COLUMNS = (
    Course.id,
    Course.title,
    Course.category,
    Course.tags,
    Course.author,
    Course.status,
    Course.restricted,
    Course.audience_department_ids,
    Course.audience_position_ids,
    Course.published_at,
    Course.created_at,
)


async def _visible(viewer: Viewer, *, category: str = "") -> list[_Candidate]:
    """Published courses the viewer may see (optionally of one category), in no particular order."""
    condition: Any = Course.status == STATUS_PUBLISHED
    if category:
        condition = condition & (Course.category == category)
    rows = await Course.select(*_LIGHT_COLUMNS).where(condition)
    department_ids = {d for row in rows for d in json_ids(row["audience_department_ids"])}
    paths: dict[int, str] = {}
    if department_ids:
        paths = {
            d["id"]: d["path"]
            for d in await Department.select(Department.id, Department.path).where(
                Department.id.is_in(sorted(department_ids))
            )
        }
    out = []
    for row in rows:
        audience = tuple(paths[d] for d in json_ids(row["audience_department_ids"]) if d in paths)
        facts = facts_from_row(row, audience)
        if can_see_course(viewer, facts):
            out.append(
                _Candidate(
                    row=row, for_me=viewer.actor.employee_id is not None and in_audience(viewer, facts)
                )
            )
    return out


async def _name_matches(needle: str) -> tuple[set[int], set[int]]:
    """Ids of departments and positions whose names contain the search text (they tag courses too)."""
    departments = await Department.select(Department.id).where(text_contains(Department.name, needle))
    positions = await Position.select(Position.id).where(text_contains(Position.name, needle))
    return {row["id"] for row in departments}, {row["id"] for row in positions}


def _search_text(value: str) -> str:
    return " ".join((value or "").split())[:QUERY_MAX].casefold()


def _tagged(row: dict[str, Any], needle: str) -> bool:
    return any(needle in tag.casefold() for tag in json_strings(row["tags"]))


async def course_library(
    *, actor: Actor | None, query: str = "", category: str = "", tag: str = "", page: int = 1
) -> Page[CourseCard]:
    """Published courses I may watch: for my department and position first, then the newest.

    `query` finds courses by title or tag (a skill tag, or the name of an audience department or
    position) as a case-insensitive substring; `tag` keeps the courses carrying that skill tag
    (a tag chip's link); `category` keeps one category.
    """
    viewer = await viewer_for(actor)
    page = max(1, page)
    candidates = await _visible(viewer, category=(category or "").strip())
    needle = _search_text(query)
    if needle:
        departments, positions = await _name_matches(needle)
        candidates = [
            c
            for c in candidates
            if needle in str(c.row["title"]).casefold()
            or _tagged(c.row, needle)
            or departments.intersection(json_ids(c.row["audience_department_ids"]))
            or positions.intersection(json_ids(c.row["audience_position_ids"]))
        ]
    tag_wanted = _search_text(tag)
    if tag_wanted:
        candidates = [
            c for c in candidates if any(t.casefold() == tag_wanted for t in json_strings(c.row["tags"]))
        ]
    candidates.sort(key=lambda c: (not c.for_me, c.newest_first))
    chosen = candidates[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    return Page.of(items=await _cards(viewer, chosen), page=page, page_size=PAGE_SIZE, total=len(candidates))


async def course_categories(*, actor: Actor | None) -> list[tuple[str, int]]:
    """(category, number of courses I may watch in it), the fullest first, for browsing."""
    viewer = await viewer_for(actor)
    counts = Counter(str(c.row["category"]) for c in await _visible(viewer) if c.row["category"])
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def _tag_keys(row: dict[str, Any]) -> set[tuple[str, str]]:
    """A course's tags: skill tags plus audience departments and positions ("tags" of their own)."""
    keys = {("skill", tag.casefold()) for tag in json_strings(row["tags"])}
    keys |= {("department", str(d)) for d in json_ids(row["audience_department_ids"])}
    keys |= {("position", str(p)) for p in json_ids(row["audience_position_ids"])}
    return keys


async def _co_viewers(course_id: int) -> tuple[int, dict[int, int]]:
    """(how many people watched this course, {other course: how many of them watched it too})."""
    viewers = WatchProgress.select(WatchProgress.employee).where(WatchProgress.course == course_id)
    total_row = (
        await WatchProgress.select(Count(distinct=[WatchProgress.employee]))
        .where(WatchProgress.course == course_id)
        .first()
    )
    total = int((total_row or {}).get("count") or 0)
    if not total:
        return 0, {}
    rows = (
        await WatchProgress.select(WatchProgress.course, Count(distinct=[WatchProgress.employee]))
        .where(WatchProgress.employee.is_in(viewers) & (WatchProgress.course != course_id))
        .group_by(WatchProgress.course)
    )
    return total, {int(row["course"]): int(row["count"]) for row in rows}


async def course_related(*, actor: Actor | None, course_id: int, limit: int = 4) -> list[CourseCard]:
    """Courses like this one that I may watch: shared tags and co-viewing, the strongest first."""
    viewer = await viewer_for(actor)
    course_see_check(viewer, await course_facts(course_id))
    limit = max(0, min(limit, RELATED_MAX))
    this = await Course.select(*_LIGHT_COLUMNS).where(Course.id == course_id).first()
    if this is None or not limit:
        return []
    mine = _tag_keys(this)
    viewers, co_viewed = await _co_viewers(course_id)
    scored = []
    for candidate in await _visible(viewer):
        if candidate.id == course_id:
            continue
        score = float(len(mine & _tag_keys(candidate.row)))
        if viewers:
            score += CO_VIEWING_WEIGHT * co_viewed.get(candidate.id, 0) / viewers
        if score > 0:
            scored.append((-score, not candidate.for_me, candidate.newest_first, candidate))
    scored.sort(key=lambda item: item[:3])
    return await _cards(viewer, [item[3] for item in scored[:limit]])


def _summary(text: str) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= SUMMARY_LENGTH else text[:SUMMARY_LENGTH].rstrip() + "…"


async def _cards(viewer: Viewer, chosen: list[_Candidate]) -> list[CourseCard]:
    """Full cards for a page of courses: four queries whatever the page's size."""
    if not chosen:
        return []
    ids = [c.id for c in chosen]
    details = {
        row["id"]: row
        for row in await Course.select(
            Course.id,
            Course.summary,
            Course.current_version_id,
            Course.view_count,
            Course.author.name.as_alias("author_name"),
        ).where(Course.id.is_in(ids))
    }
    version_ids = sorted({v for row in details.values() if (v := row["current_version_id"]) is not None})
    versions: dict[int, dict[str, Any]] = {}
    progress: dict[int, dict[str, Any]] = {}
    if version_ids:
        versions = {
            row["id"]: row
            for row in await CourseVersion.select(
                CourseVersion.id, CourseVersion.duration, CourseVersion.poster_key
            ).where(CourseVersion.id.is_in(version_ids) & (CourseVersion.state == VERSION_READY))
        }
        if viewer.actor.employee_id is not None:
            progress = {
                row["version"]: row
                for row in await WatchProgress.select(
                    WatchProgress.version, WatchProgress.watched_seconds, WatchProgress.completed
                ).where(
                    (WatchProgress.employee == viewer.actor.employee_id)
                    & WatchProgress.version.is_in(version_ids)
                )
            }
    ratings = await rating_summaries(ids)
    cards = []
    for candidate in chosen:
        row, detail = candidate.row, details.get(candidate.id)
        if detail is None:  # deleted between the two reads
            continue
        version = versions.get(detail["current_version_id"])
        duration = float(version["duration"]) if version else 0.0
        watched = progress.get(version["id"]) if version else None
        ratio = 0.0
        if watched and duration > 0:
            ratio = round(min(1.0, float(watched["watched_seconds"]) / duration), 4)
        rating_avg, rating_count = ratings.get(candidate.id, (None, 0))
        cards.append(
            CourseCard(
                id=candidate.id,
                title=row["title"],
                summary=_summary(detail["summary"]),
                category=row["category"],
                tags=json_strings(row["tags"]),
                duration=duration,
                poster_url=poster_url(candidate.id, version["id"])
                if version and version["poster_key"]
                else None,
                author_name=detail["author_name"] or "",
                rating_avg=rating_avg,
                rating_count=rating_count,
                view_count=int(detail["view_count"] or 0),
                for_me=candidate.for_me,
                my_watched_ratio=ratio,
                my_completed=bool(watched and watched["completed"]),
            )
        )
    return cards
