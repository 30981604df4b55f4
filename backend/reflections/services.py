"""Reflection writes: trainings and assignments, drafts, submissions (exactly once), grading, photos."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import re
import uuid
from dataclasses import dataclass
from typing import Any

from backend.events.outbox import outbox_add, outbox_kick
from backend.lib.db import unique_violation, write_transaction
from backend.lib.errors import Conflict, NotFound, ValidationFailed
from backend.lib.policy import Actor, actor_require
from backend.lib.storage import storage_get, storage_put
from backend.reflections.access import (
    STATE_DRAFT,
    STATE_GRADED,
    STATE_RETURNED,
    STATE_SUBMITTED,
    employee_require,
    see_check,
)
from backend.reflections.facts import submission_facts
from backend.reflections.photos import photo_reencode
from backend.reflections.tables import (
    Assignment,
    Photo,
    Submission,
    SubmissionRequest,
    SubmissionVersion,
    TrainingParticipant,
)

BODY_MAX = 20_000
FEEDBACK_MAX = 5_000
PHOTOS_MAX = 9
GRADE_EXCELLENT = "excellent"
GRADE_REVISE = "revise"
GRADES = (GRADE_EXCELLENT, "good", "pass", GRADE_REVISE)
IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def text_bounded(value: str, *, field: str, max_length: int, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ValidationFailed("error.required", field=field)
    if len(value) > max_length:
        raise ValidationFailed("error.too_long", field=field, max=max_length)
    return value


# --- drafts and submissions ---------------------------------------------------------------------


async def _assignment_for_participant(employee_id: int, assignment_id: int) -> dict[str, Any]:
    """The assignment, if this person takes part in its training; 404 otherwise."""
    row = await Assignment.select().where(Assignment.id == assignment_id).first()
    if row is None or not await TrainingParticipant.exists().where(
        (TrainingParticipant.training == row["training"]) & (TrainingParticipant.employee == employee_id)
    ):
        raise NotFound()
    return dict(row)


async def _photos_check(employee_id: int, photo_ids: list[int], max_photos: int) -> list[int]:
    ids = list(dict.fromkeys(photo_ids))
    if len(ids) > max_photos:
        raise ValidationFailed("error.too_many_photos", field="photo_ids", max=max_photos)
    if ids:
        owned = await Photo.count().where(Photo.id.is_in(ids) & (Photo.owner == employee_id))
        if owned != len(ids):
            raise ValidationFailed("error.photo_unknown", field="photo_ids")
    return ids


async def draft_save(*, actor: Actor | None, assignment_id: int, body: str, photo_ids: list[int]) -> None:
    """Keep unfinished work on the server (the phone also keeps it offline)."""
    actor, employee_id = employee_require(actor)
    assignment = await _assignment_for_participant(employee_id, assignment_id)
    if len(body) > BODY_MAX:
        raise ValidationFailed("error.body_too_long", field="body", max=BODY_MAX)
    ids = await _photos_check(employee_id, photo_ids, assignment["max_photos"])
    current = (
        await Submission.select(Submission.id, Submission.state)
        .where((Submission.assignment == assignment_id) & (Submission.employee == employee_id))
        .first()
    )
    if current is None:
        try:
            await Submission.insert(
                Submission(
                    assignment=assignment_id,
                    employee=employee_id,
                    department=actor.department_id,
                    state=STATE_DRAFT,
                    body=body,
                    photo_ids=ids,
                    updated_at=now(),
                )
            )
            return
        except Exception as error:
            if not unique_violation(error):
                raise
            return await draft_save(actor=actor, assignment_id=assignment_id, body=body, photo_ids=photo_ids)
    if current["state"] in (STATE_SUBMITTED, STATE_GRADED):
        raise Conflict("error.already_submitted")
    await Submission.update(
        {Submission.body: body, Submission.photo_ids: ids, Submission.updated_at: now()}
    ).where((Submission.id == current["id"]) & Submission.state.is_in([STATE_DRAFT, STATE_RETURNED]))


@dataclass(frozen=True)
class SubmitResult:
    submission_id: int
    created: bool  # False: the same Idempotency-Key was seen before; nothing new was written


def _fingerprint(assignment_id: int, body: str, photo_ids: list[int]) -> str:
    content = json.dumps([assignment_id, body, photo_ids], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(content.encode()).hexdigest()


async def submission_submit(
    *, actor: Actor | None, assignment_id: int, body: str, photo_ids: list[int], idempotency_key: str
) -> SubmitResult:
    """Submit (or resubmit after 需修改) a reflection exactly once per Idempotency-Key.

    The same key with the same content answers the first submission; with other content it is
    refused. Submission row, archive version and outbox event are written in one transaction.
    """
    actor, employee_id = employee_require(actor)
    if not IDEMPOTENCY_KEY.match(idempotency_key or ""):
        raise ValidationFailed("error.idempotency_key_invalid", field="Idempotency-Key")
    assignment = await _assignment_for_participant(employee_id, assignment_id)
    fingerprint = _fingerprint(assignment_id, body, photo_ids)
    seen = await _request_seen(employee_id, idempotency_key, fingerprint)
    if seen is not None:
        return seen
    text = body.strip()
    if not text:
        raise ValidationFailed("error.body_empty", field="body")
    if len(body) > BODY_MAX:
        raise ValidationFailed("error.body_too_long", field="body", max=BODY_MAX)
    if len(text) < assignment["min_length"]:
        raise ValidationFailed(
            "error.body_too_short", field="body", min=assignment["min_length"], count=len(text)
        )
    ids = await _photos_check(employee_id, photo_ids, assignment["max_photos"])
    try:
        submission_id, event_id = await _submit_write(
            actor, employee_id, assignment, body, ids, idempotency_key, fingerprint
        )
    except Exception as error:
        if not (isinstance(error, Conflict) or unique_violation(error)):
            raise
        # A concurrent request with the same key (a double tap, a replay racing the original)
        # committed first: answer what it made.
        seen = await _request_seen(employee_id, idempotency_key, fingerprint)
        if seen is not None:
            return seen
        if isinstance(error, Conflict):
            raise
        raise Conflict("error.already_submitted") from error
    await outbox_kick([event_id])
    return SubmitResult(submission_id=submission_id, created=True)


async def _request_seen(employee_id: int, key: str, fingerprint: str) -> SubmitResult | None:
    seen = (
        await SubmissionRequest.select()
        .where((SubmissionRequest.employee == employee_id) & (SubmissionRequest.key == key))
        .first()
    )
    if seen is None:
        return None
    if seen["fingerprint"] != fingerprint:
        raise ValidationFailed("error.idempotency_key_reused", field="Idempotency-Key")
    return SubmitResult(submission_id=int(seen["submission"]), created=False)


async def _submit_write(
    actor: Actor,
    employee_id: int,
    assignment: dict[str, Any],
    body: str,
    photo_ids: list[int],
    key: str,
    fingerprint: str,
) -> tuple[int, int]:
    at = now()
    async with write_transaction(Submission):
        current = (
            await Submission.select()
            .where((Submission.assignment == assignment["id"]) & (Submission.employee == employee_id))
            .first()
        )
        if current is not None and current["state"] in (STATE_SUBMITTED, STATE_GRADED):
            raise Conflict("error.already_submitted")
        due = (current or {}).get("due_at") or assignment["due_at"]
        late = at > due
        values: dict[Any, Any] = {
            Submission.department: actor.department_id,
            Submission.state: STATE_SUBMITTED,
            Submission.body: body,
            Submission.photo_ids: photo_ids,
            Submission.submitted_at: at,
            Submission.late: late,
            Submission.grade: None,
            Submission.updated_at: at,
        }
        if current is None:
            rows = await Submission.insert(
                Submission(
                    assignment=assignment["id"],
                    employee=employee_id,
                    version=1,
                    **{column._meta.name: value for column, value in values.items()},
                )
            ).returning(Submission.id)
            submission_id, version = int(rows[0]["id"]), 1
        else:
            submission_id, version = int(current["id"]), int(current["version"]) + 1
            await Submission.update({**values, Submission.version: version}).where(
                Submission.id == submission_id
            )
        if photo_ids:
            await Photo.update({Photo.submission: submission_id}).where(Photo.id.is_in(photo_ids))
        version_rows = await SubmissionVersion.insert(
            SubmissionVersion(
                submission=submission_id,
                version=version,
                kind=STATE_SUBMITTED,
                body=body,
                photo_ids=photo_ids,
                submitted_at=at,
                late=late,
            )
        ).returning(SubmissionVersion.id)
        await SubmissionRequest.insert(
            SubmissionRequest(
                employee=employee_id, key=key, submission=submission_id, fingerprint=fingerprint
            )
        )
        event_id = await outbox_add(
            "submission.submitted",
            {
                "submission_id": submission_id,
                "version_id": int(version_rows[0]["id"]),
                "employee_id": employee_id,
                "assignment_id": int(assignment["id"]),
                "version": version,
                "late": late,
            },
        )
    return submission_id, event_id


# --- photos -------------------------------------------------------------------------------------


async def photo_upload(*, actor: Actor | None, data: bytes) -> int:
    """Re-encode (type sniffed from content, EXIF/GPS stripped) and store a photo; returns its id."""
    _actor, employee_id = employee_require(actor)
    photo = await asyncio.to_thread(photo_reencode, data)
    key = f"photos/{now():%Y/%m}/{uuid.uuid4().hex}.jpg"
    await storage_put(key, photo.jpeg, content_type="image/jpeg")
    rows = await Photo.insert(
        Photo(
            owner=employee_id, storage_key=key, width=photo.width, height=photo.height, size=len(photo.jpeg)
        )
    ).returning(Photo.id)
    return int(rows[0]["id"])


async def photo_read(*, actor: Actor | None, photo_id: int) -> bytes:
    """A photo's JPEG, for its owner or whoever may see the reflection that uses it (else 404)."""
    actor = actor_require(actor)
    row = await Photo.select().where(Photo.id == photo_id).first()
    if row is None:
        raise NotFound()
    if row["owner"] != actor.employee_id:
        if row["submission"] is None:
            raise NotFound()
        _submission, facts = await submission_facts(int(row["submission"]))
        see_check(actor, facts)
    return await storage_get(str(row["storage_key"]))
