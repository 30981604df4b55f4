"""Course writes: create, edit, publish, unpublish, delete, and counting a view."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from typing import Any

from backend.courses.access import (
    STATUS_DRAFT,
    STATUS_PROCESSING,
    STATUS_PUBLISHED,
    VERSION_PROCESSING,
    course_create_check,
    course_manage_check,
    course_watch_check,
)
from backend.courses.facts import course_facts, json_ids, viewer_for
from backend.courses.lifecycle import EVENT_PUBLISHED
from backend.courses.tables import Course, CourseAttachment, CourseVersion, CourseView
from backend.courses.uploads import uploads_abort_for_course
from backend.events.outbox import outbox_add, outbox_kick
from backend.lib.db import write_transaction
from backend.lib.errors import ValidationFailed
from backend.lib.policy import Actor
from backend.org.tables import Department, Position

logger = logging.getLogger("learnloop.courses")

TITLE_MAX = 120
SUMMARY_MAX = 1_000
CATEGORY_MAX = 40
TAGS_MAX = 10
TAG_MAX = 20
SECTION_MAX = 3_000  # each of 问题 / 案例 / 方法
AUDIENCE_MAX = 100
# A person opening the same course again within this window is not another view.
VIEW_WINDOW = dt.timedelta(minutes=30)

_TEXT_LIMITS = {
    "title": TITLE_MAX,
    "summary": SUMMARY_MAX,
    "category": CATEGORY_MAX,
    "problem": SECTION_MAX,
    "case_text": SECTION_MAX,
    "method": SECTION_MAX,
}


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _text(field: str, value: str) -> str:
    value = (value or "").strip()
    if field == "title" and not value:
        raise ValidationFailed("error.required", field=field)
    if len(value) > _TEXT_LIMITS[field]:
        raise ValidationFailed("error.too_long", field=field, max=_TEXT_LIMITS[field])
    return value


def _tags(values: Iterable[str]) -> list[str]:
    tags: list[str] = []
    for raw in values:
        tag = (raw or "").strip().lstrip("#")
        if not tag or tag in tags:
            continue
        if len(tag) > TAG_MAX:
            raise ValidationFailed("course.tag_too_long", field="tags", max=TAG_MAX)
        tags.append(tag)
    if len(tags) > TAGS_MAX:
        raise ValidationFailed("course.too_many_tags", field="tags", max=TAGS_MAX)
    return tags


async def _existing_ids(table: Any, ids: Sequence[int], *, field: str) -> list[int]:
    unique = list(dict.fromkeys(int(i) for i in ids))
    if len(unique) > AUDIENCE_MAX:
        raise ValidationFailed("course.audience_too_large", field=field, max=AUDIENCE_MAX)
    if not unique:
        return []
    found = {row["id"] for row in await table.select(table.id).where(table.id.is_in(unique))}
    if len(found) != len(unique):
        raise ValidationFailed("course.audience_unknown", field=field)
    return unique


async def _values(fields: dict[str, Any]) -> dict[Any, Any]:
    """Validated column values for the fields given (create passes all, edit only the changed ones)."""
    values: dict[Any, Any] = {}
    for name, value in fields.items():
        if name in _TEXT_LIMITS:
            values[getattr(Course, name)] = _text(name, value)
        elif name == "tags":
            values[Course.tags] = _tags(value)
        elif name == "audience_department_ids":
            values[Course.audience_department_ids] = await _existing_ids(Department, value, field=name)
        elif name == "audience_position_ids":
            values[Course.audience_position_ids] = await _existing_ids(Position, value, field=name)
        elif name == "restricted":
            values[Course.restricted] = bool(value)
        else:
            raise ValidationFailed("error.invalid", field=name)
    return values


async def course_create(
    *,
    actor: Actor | None,
    title: str,
    summary: str = "",
    category: str = "",
    tags: Sequence[str] = (),
    audience_department_ids: Sequence[int] = (),
    audience_position_ids: Sequence[int] = (),
    restricted: bool = False,
    problem: str = "",
    case_text: str = "",
    method: str = "",
) -> int:
    """A new draft course by a trainer or HR; its video comes by upload."""
    actor = course_create_check(actor)
    values = await _values(
        {
            "title": title,
            "summary": summary,
            "category": category,
            "tags": tags,
            "audience_department_ids": audience_department_ids,
            "audience_position_ids": audience_position_ids,
            "restricted": restricted,
            "problem": problem,
            "case_text": case_text,
            "method": method,
        }
    )
    _audience_check(
        values[Course.restricted],
        values[Course.audience_department_ids],
        values[Course.audience_position_ids],
    )
    course = Course(author=actor.employee_id, status=STATUS_DRAFT)
    for column, value in values.items():
        setattr(course, column._meta.name, value)
    rows = await Course.insert(course).returning(Course.id)
    return int(rows[0]["id"])


async def course_update(*, actor: Actor | None, course_id: int, **fields: Any) -> None:
    """Change the given fields (the rest stay). Author or HR."""
    course_manage_check(await viewer_for(actor), await course_facts(course_id))
    values = await _values(fields)
    row = await Course.select().where(Course.id == course_id).first()
    assert row is not None
    _audience_check(
        bool(values.get(Course.restricted, row["restricted"])),
        values.get(Course.audience_department_ids, json_ids(row["audience_department_ids"])),
        values.get(Course.audience_position_ids, json_ids(row["audience_position_ids"])),
    )
    if not values:
        return
    values[Course.updated_at] = now()
    await Course.update(values).where(Course.id == course_id)


def _audience_check(restricted: bool, departments: Sequence[int], positions: Sequence[int]) -> None:
    """A course only its audience may see needs an audience."""
    if restricted and not departments and not positions:
        raise ValidationFailed("course.restricted_needs_audience", field="restricted")


async def course_publish(*, actor: Actor | None, course_id: int) -> str:
    """Publish now when a video is ready, or as soon as the one being processed is. Returns the status."""
    course_manage_check(await viewer_for(actor), await course_facts(course_id))
    events: list[int] = []
    async with write_transaction(Course):
        row = (
            await Course.select(Course.status, Course.current_version_id, Course.published_at)
            .where(Course.id == course_id)
            .first()
        )
        assert row is not None
        if row["status"] == STATUS_PUBLISHED:
            return STATUS_PUBLISHED
        if row["current_version_id"] is not None:
            await Course.update(
                {
                    Course.status: STATUS_PUBLISHED,
                    Course.publish_requested: False,
                    Course.published_at: row["published_at"] or now(),
                    Course.updated_at: now(),
                }
            ).where(Course.id == course_id)
            events.append(await outbox_add(EVENT_PUBLISHED, {"course_id": course_id}))
            status = STATUS_PUBLISHED
        elif await CourseVersion.exists().where(
            (CourseVersion.course == course_id) & (CourseVersion.state == VERSION_PROCESSING)
        ):
            await Course.update({Course.publish_requested: True, Course.updated_at: now()}).where(
                Course.id == course_id
            )
            status = STATUS_PROCESSING
        else:
            raise ValidationFailed("course.no_video", field="video")
    await outbox_kick(events)
    return status


async def course_unpublish(*, actor: Actor | None, course_id: int) -> None:
    """Take a course back to draft: people no longer find it (their history stays)."""
    course_manage_check(await viewer_for(actor), await course_facts(course_id))
    await Course.update(
        {Course.status: STATUS_DRAFT, Course.publish_requested: False, Course.updated_at: now()}
    ).where((Course.id == course_id) & (Course.status == STATUS_PUBLISHED))


async def course_delete(*, actor: Actor | None, course_id: int) -> None:
    """Delete a course with its versions, attachments, history and stored objects."""
    course_manage_check(await viewer_for(actor), await course_facts(course_id))
    versions = await CourseVersion.select(
        CourseVersion.source_key, CourseVersion.video_key, CourseVersion.poster_key
    ).where(CourseVersion.course == course_id)
    attachments = await CourseAttachment.select(CourseAttachment.storage_key).where(
        CourseAttachment.course == course_id
    )
    keys = [k for row in versions for k in row.values() if k]
    keys += [row["storage_key"] for row in attachments if row["storage_key"]]
    # Uploads still going on for this course: abort their stored parts (their rows go with the course).
    await uploads_abort_for_course(course_id=course_id)
    await Course.delete().where(Course.id == course_id)
    await _objects_remove(keys)


async def _objects_remove(keys: list[str]) -> None:
    """Best effort: a leftover object costs space, not correctness (its rows are gone)."""
    if not keys:
        return
    from backend.lib.runtime import runtime_get

    runtime = runtime_get()

    def remove() -> None:
        for key in keys:
            try:
                runtime.storage.remove_object(runtime.settings.storage.bucket, key)
            except Exception:
                logger.warning("could not remove object %s", key, exc_info=True)

    await asyncio.to_thread(remove)


async def _course_row_lock(course_id: int) -> None:
    if Course._meta.db.engine_type == "postgres":
        await Course.select(Course.id).where(Course.id == course_id).lock_rows()


async def course_view_record(*, actor: Actor | None, course_id: int) -> bool:
    """Count a view of a published course (once per person per 30 minutes). True when counted."""
    actor = course_watch_check(await viewer_for(actor), await course_facts(course_id))
    employee_id = actor.employee_id
    async with write_transaction(CourseView):
        # One counting at a time per course: two page opens at once must not both count (PostgreSQL;
        # SQLite's write transaction already serialises them).
        await _course_row_lock(course_id)
        recent = await CourseView.exists().where(
            (CourseView.course == course_id)
            & (CourseView.employee == employee_id)
            & (CourseView.viewed_at > now() - VIEW_WINDOW)
        )
        if recent:
            return False
        await CourseView.insert(CourseView(course=course_id, employee=employee_id))
        await Course.update({Course.view_count: Course.view_count + 1}).where(Course.id == course_id)
    return True
