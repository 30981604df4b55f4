"""The archive: every submitted and graded version as a PDF in object storage, searchable by HR.

Versions are rendered by the worker when their outbox event arrives; a download of one not rendered
yet renders it on the spot. Rendering is idempotent: the first stored PDF of a version is kept.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import zipfile
from dataclasses import dataclass
from typing import Any

from backend.lib.errors import NotFound, ValidationFailed
from backend.lib.i18n import translate
from backend.lib.policy import Actor, actor_require, department_path_visible
from backend.lib.runtime import runtime_get
from backend.lib.storage import storage_get, storage_put
from backend.org.schemas import Page, Ref
from backend.org.tables import Department
from backend.reflections.access import archive_scope_check
from backend.reflections.archive_pdf import ArchiveDocument, archive_pdf_render
from backend.reflections.schemas import ArchiveEntryOut
from backend.reflections.selectors import PAGE_SIZE, json_ids
from backend.reflections.tables import Photo, SubmissionVersion

ZIP_MAX_ENTRIES = 200


@dataclass(frozen=True)
class ArchiveFilter:
    """What HR looks for in the archive: a person, a department (with its subtree), a training,
    a date range in the organisation's time zone. Every part is optional."""

    employee_id: int | None = None
    department_id: int | None = None
    training_id: int | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None


_COLUMNS = (
    *SubmissionVersion.all_columns(),
    SubmissionVersion.submission.employee.as_alias("author_id"),
    SubmissionVersion.submission.employee.name.as_alias("author_name"),  # type: ignore[union-attr]
    SubmissionVersion.submission.employee.employee_no.as_alias("employee_no"),  # type: ignore[union-attr]
    SubmissionVersion.submission.department.name.as_alias("department_name"),  # type: ignore[union-attr]
    SubmissionVersion.submission.department.path.as_alias("department_path"),  # type: ignore[union-attr]
    SubmissionVersion.submission.assignment.prompt.as_alias("prompt"),  # type: ignore[union-attr]
    SubmissionVersion.submission.assignment.training.id.as_alias("training_id"),  # type: ignore[union-attr]
    SubmissionVersion.submission.assignment.training.title.as_alias("training_title"),  # type: ignore[union-attr]
    SubmissionVersion.graded_by.name.as_alias("grader_name"),
)


async def _version_row(version_id: int) -> dict[str, Any]:
    row = await SubmissionVersion.select(*_COLUMNS).where(SubmissionVersion.id == version_id).first()
    if row is None:
        raise NotFound()
    return dict(row)


def _grade_label(grade: str | None, locale: str) -> str | None:
    return translate(locale, f"reflections.grade_{grade}") if grade else None


async def _render(row: dict[str, Any]) -> bytes:
    settings = runtime_get().settings
    locale = settings.i18n.default_locale
    photo_ids = json_ids(row["photo_ids"])
    keys = {
        photo["id"]: photo["storage_key"]
        for photo in await Photo.select(Photo.id, Photo.storage_key).where(Photo.id.is_in(photo_ids or [0]))
    }
    photos = tuple([await storage_get(keys[photo_id]) for photo_id in photo_ids if photo_id in keys])
    document = ArchiveDocument(
        training_title=row["training_title"],
        assignment_prompt=row["prompt"],
        author_name=row["author_name"],
        employee_no=row["employee_no"],
        department_name=row["department_name"] or "",
        version=row["version"],
        kind=row["kind"],
        submitted_at=row["submitted_at"],
        late=row["late"],
        body=row["body"],
        photos=photos,
        grade_label=_grade_label(row["grade"], locale),
        feedback=row["feedback"] or None,
        grader_name=row["grader_name"],
        graded_at=row["graded_at"],
        timezone=settings.i18n.timezone,
        locale=locale,
    )
    return await asyncio.to_thread(archive_pdf_render, document)


async def archive_version_render(version_id: int) -> bytes:
    """The version's PDF, rendering and storing it first if that has not happened yet."""
    row = await _version_row(version_id)
    if row["archive_key"]:
        return await storage_get(row["archive_key"])
    pdf = await _render(row)
    key = f"archive/{row['submission']}/{row['id']}-v{row['version']}-{row['kind']}.pdf"
    await storage_put(key, pdf, content_type="application/pdf")
    await SubmissionVersion.update({SubmissionVersion.archive_key: key}).where(
        (SubmissionVersion.id == version_id) & (SubmissionVersion.archive_key == "")
    )
    return pdf


async def archive_on_event(ctx: dict[str, Any], payload: dict[str, Any]) -> None:
    """Outbox handler for submission.submitted / submission.graded."""
    await archive_version_render(int(payload["version_id"]))


def _may_read(actor: Actor, row: dict[str, Any]) -> bool:
    if actor.employee_id == row["author_id"]:
        return True
    return actor.sees_whole_organisation or department_path_visible(actor, row["department_path"] or "")


def archive_filename(row: dict[str, Any]) -> str:
    return f"{row['employee_no']}-{row['submission']}-v{row['version']}-{row['kind']}-{row['id']}.pdf"


async def archive_pdf_get(
    *, actor: Actor | None, submission_id: int, version_id: int | None = None
) -> tuple[str, bytes]:
    """(file name, PDF) of a submission's newest archived version, or of one version of it."""
    actor = actor_require(actor)
    condition: Any = SubmissionVersion.submission == submission_id
    if version_id is not None:
        condition = condition & (SubmissionVersion.id == version_id)
    newest = (
        await SubmissionVersion.select(SubmissionVersion.id)
        .where(condition)
        .order_by(SubmissionVersion.id, ascending=False)
        .first()
    )
    if newest is None:
        raise NotFound()
    row = await _version_row(int(newest["id"]))
    if not _may_read(actor, row):
        raise NotFound()
    return archive_filename(row), await archive_version_render(row["id"])


async def _search_condition(actor: Actor, filters: ArchiveFilter) -> Any:
    condition: Any = SubmissionVersion.id > 0
    if not actor.sees_whole_organisation:
        scope: Any = None
        for path in actor.managed_paths:
            part = SubmissionVersion.submission.department.path.like(f"{path}%")  # type: ignore[union-attr]
            scope = part if scope is None else scope | part
        condition = condition & scope
    if filters.employee_id is not None:
        condition = condition & (SubmissionVersion.submission.employee == filters.employee_id)
    if filters.department_id is not None:
        department = (
            await Department.select(Department.path).where(Department.id == filters.department_id).first()
        )
        if department is None:
            raise ValidationFailed("error.department_unknown", field="department_id")
        condition = condition & SubmissionVersion.submission.department.path.like(f"{department['path']}%")  # type: ignore[union-attr]
    if filters.training_id is not None:
        condition = condition & (SubmissionVersion.submission.assignment.training == filters.training_id)  # type: ignore[union-attr]
    tz = runtime_get().settings.i18n.timezone
    if filters.date_from is not None:
        condition = condition & (SubmissionVersion.created_at >= _day_start(filters.date_from, tz))
    if filters.date_to is not None:
        condition = condition & (
            SubmissionVersion.created_at < _day_start(filters.date_to + dt.timedelta(days=1), tz)
        )
    return condition


def _day_start(day: dt.date, tz: str) -> dt.datetime:
    from zoneinfo import ZoneInfo

    return dt.datetime.combine(day, dt.time(), tzinfo=ZoneInfo(tz)).astimezone(dt.UTC)


async def archive_search(
    *, actor: Actor | None, filters: ArchiveFilter = ArchiveFilter(), page: int = 1
) -> Page[ArchiveEntryOut]:
    """Archived versions by person, department (subtree), training and date, newest first."""
    actor = archive_scope_check(actor)
    condition = await _search_condition(actor, filters)
    rows = (
        await SubmissionVersion.select(*_COLUMNS)
        .where(condition)
        .order_by(SubmissionVersion.id, ascending=False)
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    )
    total = await SubmissionVersion.count().where(condition)
    return Page.of(
        items=[
            ArchiveEntryOut(
                id=row["id"],
                submission_id=row["submission"],
                version=row["version"],
                kind=row["kind"],
                author=Ref(id=row["author_id"], name=row["author_name"]),
                department=row["department_name"] or "",
                training=Ref(id=row["training_id"], name=row["training_title"]),
                submitted_at=row["submitted_at"],
                grade=row["grade"],
                created_at=row["created_at"],
            )
            for row in rows
        ],
        page=page,
        page_size=PAGE_SIZE,
        total=total,
    )


async def archive_zip(*, actor: Actor | None, filters: ArchiveFilter = ArchiveFilter()) -> bytes:
    """A ZIP of every PDF a filter finds (at most ZIP_MAX_ENTRIES: narrow the filter beyond that)."""
    actor = archive_scope_check(actor)
    condition = await _search_condition(actor, filters)
    total = await SubmissionVersion.count().where(condition)
    if total == 0:
        raise NotFound("error.archive_empty")
    if total > ZIP_MAX_ENTRIES:
        raise ValidationFailed("error.archive_too_many", field="filter", count=total, max=ZIP_MAX_ENTRIES)
    rows = await SubmissionVersion.select(*_COLUMNS).where(condition).order_by(SubmissionVersion.id)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for row in rows:
            archive.writestr(archive_filename(row), await archive_version_render(row["id"]))
    return buffer.getvalue()
