"""Claiming deliveries for a run and recording how they ended: the exactly-once core of the channel jobs.

A run claims pending, due deliveries with ONE conditional UPDATE that moves `not_before` a lease ahead
and counts the attempt. A duplicate or concurrent run finds nothing left to claim (on PostgreSQL the
second UPDATE waits for the first and then no longer matches; SQLite has one writer), and a finished
delivery is never claimed again. A run that dies leaves its lease to run out; then the sweep hands the
delivery to a worker again, so nothing is lost.

Endings are written grouped: every delivery that ended the same way (e.g. sent, nothing waiting, no
error) is finished by one UPDATE, so a batch of hundreds costs a few statements, not hundreds; in the
same transaction each ending is added to the attempts log (DeliveryAttempt), one INSERT for all.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from backend.lib.db import rows_insert, write_transaction
from backend.notifications.tables import Delivery, DeliveryAttempt

STATE_PENDING, STATE_SENT, STATE_FAILED, STATE_SKIPPED = "pending", "sent", "failed", "skipped"
MAX_ATTEMPTS = 6  # then a delivery ends: failed (or sent, when an earlier try reached a browser)
BACKOFF_FIRST = 60.0  # seconds after the first failed try; doubles per try: 1, 2, 4, 8, 16 minutes
BACKOFF_MAX = 3600.0
CLAIM_CHUNK = 500  # ids per statement
ERROR_MAX = 500  # characters of `last_error`
_ATTEMPT_COLUMNS = (
    ("delivery", "int"),
    ("attempt", "int"),
    ("outcome", "text"),
    ("detail", "text"),
    ("created_at", "timestamptz"),
)


class _SentNow:
    """Stands for "the moment the ending is written" in `Ending.sent_at`."""

    def __repr__(self) -> str:
        return "SENT_NOW"


SENT_NOW: Any = _SentNow()


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def delivery_backoff(attempts: int) -> float:
    """Seconds to wait after `attempts` failed tries: BACKOFF_FIRST, doubling, at most BACKOFF_MAX."""
    return min(BACKOFF_FIRST * 2 ** max(attempts - 1, 0), BACKOFF_MAX)


@dataclass(frozen=True)
class Claimed:
    """A delivery this run holds until its lease runs out."""

    id: int
    notification_id: int | None
    channel: str
    attempts: int  # including this one
    target: str
    sent_at: dt.datetime | None  # an earlier attempt reached some of the person's browsers


@dataclass(frozen=True)
class Ending:
    """How one claimed delivery ended this run. `state` pending = try again at now + `retry_in`."""

    delivery_id: int
    attempt: int  # the claim's attempt number: the ending is logged as that attempt
    state: str
    target: str = ""
    last_error: str = ""
    sent_at: Any = None  # None (never sent), a datetime (earlier), or SENT_NOW
    retry_in: float = 0.0  # seconds, for state pending

    @property
    def result(self) -> str:
        return "retry" if self.state == STATE_PENDING else self.state


def ending_after_error(claimed: Claimed, error: str, *, target: str | None = None) -> Ending:
    """A try that failed in a way a later one may not: again after the backoff (keeping `target`,
    by default who still waits), or, after MAX_ATTEMPTS, the end of it."""
    target = claimed.target if target is None else target
    if claimed.attempts < MAX_ATTEMPTS:
        return Ending(
            claimed.id,
            claimed.attempts,
            STATE_PENDING,
            target=target,
            last_error=error,
            sent_at=claimed.sent_at,
            retry_in=delivery_backoff(claimed.attempts),
        )
    state = STATE_SENT if claimed.sent_at is not None else STATE_FAILED
    return Ending(
        claimed.id, claimed.attempts, state, target=target, last_error=error, sent_at=claimed.sent_at
    )


async def deliveries_claim(
    delivery_ids: Iterable[int],
    *,
    channels: Sequence[str],
    lease: dt.timedelta,
    now: dt.datetime | None = None,
) -> list[Claimed]:
    """Claim the deliveries among `delivery_ids` that are pending and due on one of `channels`."""
    wanted = sorted(set(delivery_ids))
    now = now or utc_now()
    claimed: list[Claimed] = []
    for start in range(0, len(wanted), CLAIM_CHUNK):
        rows = (
            await Delivery.update(
                {
                    Delivery.not_before: now + lease,
                    Delivery.attempts: Delivery.attempts + 1,
                    Delivery.updated_at: now,
                }
            )
            .where(
                Delivery.id.is_in(wanted[start : start + CLAIM_CHUNK])
                & Delivery.channel.is_in(list(channels))
                & (Delivery.state == STATE_PENDING)
                & (Delivery.not_before <= now)
            )
            .returning(
                Delivery.id,
                Delivery.notification,
                Delivery.channel,
                Delivery.attempts,
                Delivery.target,
                Delivery.sent_at,
            )
        )
        claimed.extend(
            Claimed(
                id=int(row["id"]),
                notification_id=None if row["notification"] is None else int(row["notification"]),
                channel=str(row["channel"]),
                attempts=int(row["attempts"]),
                target=str(row["target"]),
                sent_at=row["sent_at"],
            )
            for row in rows
        )
    return sorted(claimed, key=lambda item: item.id)


async def deliveries_finish(endings: Iterable[Ending]) -> None:
    """Write how deliveries ended: one UPDATE per group of deliveries that ended alike, and each
    attempt into the attempts log."""
    now = utc_now()
    endings = list(endings)
    groups: dict[tuple[Any, ...], list[int]] = {}
    for ending in endings:
        sent_at = now if ending.sent_at is SENT_NOW else ending.sent_at
        not_before = now + dt.timedelta(seconds=ending.retry_in) if ending.state == STATE_PENDING else now
        values = (ending.state, ending.target, ending.last_error[:ERROR_MAX], sent_at, not_before)
        groups.setdefault(values, []).append(ending.delivery_id)
    if not groups:
        return
    attempts = [
        (ending.delivery_id, ending.attempt, ending.result, ending.last_error[:ERROR_MAX], now)
        for ending in endings
    ]
    async with write_transaction(Delivery):
        for start in range(0, len(attempts), CLAIM_CHUNK):
            await rows_insert(DeliveryAttempt, _ATTEMPT_COLUMNS, attempts[start : start + CLAIM_CHUNK])
        for (state, target, last_error, sent_at, not_before), ids in groups.items():
            for start in range(0, len(ids), CLAIM_CHUNK):
                await Delivery.update(
                    {
                        Delivery.state: state,
                        Delivery.target: target,
                        Delivery.last_error: last_error,
                        Delivery.sent_at: sent_at,
                        Delivery.not_before: not_before,
                        Delivery.updated_at: now,
                    }
                ).where(Delivery.id.is_in(ids[start : start + CLAIM_CHUNK]))
