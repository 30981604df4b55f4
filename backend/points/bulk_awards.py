"""HR awards one activity to many people at once (a workshop's attendees, an exam's passers).

The same checks as a manual award (`awards.award_manual`): HR only, never to oneself (the whole request
is refused when the list holds the awarding person), manual kinds only, no future dates; each person's
source key is the one `award_manual` makes for the same form, so a double submit, or a later single
award of the same person, activity, day and note, awards once. The awards go through
`ledger_batch.ledger_award_batch`: one transaction, per-person statuses.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec

from backend.lib.errors import PermissionDenied, ValidationFailed
from backend.lib.policy import Actor
from backend.lib.schema import Schema
from backend.points.access import points_admin_check
from backend.points.awards import manual_kind_check, manual_source_key
from backend.points.facts import local_noon
from backend.points.ledger import STATUS_AWARDED, STATUS_NO_RULE, STATUS_PARTIAL
from backend.points.ledger_batch import BATCH_MAX, AwardRequest, ledger_award_batch
from backend.points.schemas import AwardOut, Id, Kind, Note


class AwardBulkIn(Schema):
    employee_ids: Annotated[list[Id], msgspec.Meta(min_length=1, max_length=BATCH_MAX)]
    kind: Kind
    occurred_on: dt.date
    note: Note = ""


class AwardBulkRowOut(AwardOut):
    employee_id: int


class AwardBulkOut(Schema):
    awarded: int  # people who earned points (awarded or partial)
    # One row per employee id, in the request's order (awarded | partial | duplicate | capped |
    # cooldown | zero | no_rule: no rule of the kind applies to that person).
    results: list[AwardBulkRowOut]


async def award_manual_bulk(
    *, actor: Actor | None, employee_ids: list[int], kind: str, occurred_on: dt.date, note: str = ""
) -> AwardBulkOut:
    """Award `kind` on `occurred_on` to each person (HR). 422 when no rule applies to anyone."""
    actor = points_admin_check(actor)
    if not 0 < len(employee_ids) <= BATCH_MAX:
        raise ValidationFailed("error.points_out_of_range", field="employee_ids", min=1, max=BATCH_MAX)
    if actor.employee_id is not None and actor.employee_id in employee_ids:
        raise PermissionDenied("error.points_self_award")
    kind = manual_kind_check(kind, occurred_on)
    keys = [
        manual_source_key(employee_id=employee_id, kind=kind, occurred_on=occurred_on, note=note, given=None)
        for employee_id in employee_ids
    ]
    moment = local_noon(occurred_on)
    results = await ledger_award_batch(
        [
            AwardRequest(
                employee_id=employee_id,
                kind=kind,
                source_key=key,
                occurred_at=moment,
                actor_id=actor.employee_id,
                note=note,
            )
            for employee_id, key in zip(employee_ids, keys, strict=True)
        ]
    )
    if all(result.status == STATUS_NO_RULE for result in results):
        raise ValidationFailed("error.points_no_rule", field="kind", kind=kind)
    return AwardBulkOut(
        awarded=sum(result.status in (STATUS_AWARDED, STATUS_PARTIAL) for result in results),
        results=[
            AwardBulkRowOut(
                status=result.status,
                entry_id=result.entry_id,
                points=result.points,
                source_key=key,
                employee_id=employee_id,
            )
            for employee_id, key, result in zip(employee_ids, keys, results, strict=True)
        ],
    )
