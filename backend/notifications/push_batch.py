"""Sending a batch of Web Push deliveries: one claim, two reads, the POSTs in parallel, grouped endings.

A batch (up to `BATCH` deliveries, one arq job) is claimed with one conditional UPDATE (see
`delivery_claims`), then the notifications and the people's subscriptions are read with one statement
each, every browser's message is encrypted and POSTed through the worker's shared sender (64 in flight
across all batches), and the endings are written as they come: one write at a time, each taking every
ending that finished since the previous one (group commit), so the log trails the sends by one write.
If the worker dies mid-batch, the deliveries already recorded are not sent again and the rest come due
when their lease runs out. (A push accepted in the instant before the crash can go out twice; the
service worker shows it under the notification's tag, so the phone still shows one notification.)

Per delivery, as before: read in the app meanwhile or no browser left → skipped; 404/410 forget that
browser; 429 waits for its Retry-After, 5xx and network trouble back off; a retry goes only to the
browsers still waiting (kept in `target`); at most MAX_ATTEMPTS tries.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from backend.lib.i18n import locale_choose
from backend.notifications.delivery_claims import (
    MAX_ATTEMPTS,
    SENT_NOW,
    STATE_FAILED,
    STATE_PENDING,
    STATE_SENT,
    STATE_SKIPPED,
    Claimed,
    Ending,
    deliveries_claim,
    deliveries_finish,
    delivery_backoff,
    ending_after_error,
    utc_now,
)
from backend.notifications.kinds import (
    CHANNEL_WEB_PUSH,
    KIND_DUE_SOON,
    KIND_HR_MESSAGE,
    KIND_OVERDUE,
    KIND_REFLECTION_PEER,
)
from backend.notifications.push_sender import (
    OUTCOME_GONE,
    OUTCOME_RETRY,
    OUTCOME_SENT,
    URGENCY_HIGH,
    URGENCY_LOW,
    URGENCY_NORMAL,
    PushSender,
    PushTarget,
    push_payload,
)
from backend.notifications.render import notification_words, params_decode
from backend.notifications.tables import Notification, PushSubscription

logger = logging.getLogger("learnloop.push")

BATCH = 100  # deliveries per job
# A run holds its deliveries this long: longer than a batch job may take (JOB_TIMEOUT of push_jobs),
# so only a dead run's deliveries come due again.
LEASE = dt.timedelta(minutes=10)
READ_CHUNK = 500
# How long a push service keeps trying to reach an offline phone.
TTL_DEFAULT = 24 * 3600
TTL_BY_KIND = {KIND_DUE_SOON: 2 * 3600, KIND_OVERDUE: 12 * 3600, KIND_REFLECTION_PEER: 2 * 24 * 3600}
URGENCY_BY_KIND = {
    KIND_DUE_SOON: URGENCY_NORMAL,  # high once it is due within a day: see push_urgency
    KIND_OVERDUE: URGENCY_HIGH,
    KIND_HR_MESSAGE: URGENCY_HIGH,
    KIND_REFLECTION_PEER: URGENCY_LOW,  # likes and comments, batched
}
DUE_TODAY = dt.timedelta(hours=24)


def push_urgency(kind: str, params: Any, now: dt.datetime) -> str:
    """How hard the push service should try to wake the phone: high for what is due within a day
    (and overdue work and HR messages), low for the batched likes and comments, else normal."""
    if kind == KIND_DUE_SOON:
        due = params_decode(params).get("due")
        try:
            moment = dt.datetime.fromisoformat(str(due["at"])) if isinstance(due, dict) else None
        except ValueError:
            moment = None
        if moment is not None and moment.tzinfo is not None and moment - now <= DUE_TODAY:
            return URGENCY_HIGH
    return URGENCY_BY_KIND.get(kind, URGENCY_NORMAL)


def push_open_url(notification_id: int) -> str:
    """Opening the push marks the notification read and lands on its page."""
    return f"/api/v1/notifications/{notification_id}/open"


def push_topic(kind: str, source: str, notification_id: int) -> str:
    """A newer message about the same thing replaces an undelivered older one at the push service."""
    digest = hashlib.sha256(f"{kind}:{source or notification_id}".encode()).hexdigest()
    return digest[:32]


@dataclass(frozen=True)
class _Work:
    """One claimed delivery with what it needs: its notification and the browsers to reach."""

    claimed: Claimed
    notification: dict[str, Any]
    subscriptions: list[dict[str, Any]]


async def _notifications(ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    found: dict[int, dict[str, Any]] = {}
    wanted = sorted(set(ids))
    for start in range(0, len(wanted), READ_CHUNK):
        rows = await Notification.select(
            Notification.id,
            Notification.employee,
            Notification.kind,
            Notification.message_key,
            Notification.params,
            Notification.title,
            Notification.body,
            Notification.source,
            Notification.read_at,
            Notification.employee.locale.as_alias("locale"),
        ).where(Notification.id.is_in(wanted[start : start + READ_CHUNK]))
        found.update((int(row["id"]), row) for row in rows)
    return found


async def _subscriptions(employee_ids: Sequence[int], now: dt.datetime) -> dict[int, list[dict[str, Any]]]:
    """Each person's unexpired browsers, oldest first."""
    found: dict[int, list[dict[str, Any]]] = {}
    wanted = sorted(set(employee_ids))
    for start in range(0, len(wanted), READ_CHUNK):
        rows = (
            await PushSubscription.select(
                PushSubscription.id,
                PushSubscription.employee,
                PushSubscription.endpoint,
                PushSubscription.p256dh,
                PushSubscription.auth,
                PushSubscription.locale,
                PushSubscription.expires_at,
            )
            .where(PushSubscription.employee.is_in(wanted[start : start + READ_CHUNK]))
            .order_by(PushSubscription.id)
        )
        for row in rows:
            if row["expires_at"] is None or row["expires_at"] > now:
                found.setdefault(int(row["employee"]), []).append(row)
    return found


def _waiting(target: str) -> set[int] | None:
    """The browsers still waiting for this delivery after an earlier try (None: all of the person's)."""
    if not target:
        return None
    return {int(part) for part in target.split(",") if part.isdigit()}


def _nothing_to_do(claimed: Claimed, reason: str) -> Ending:
    if claimed.sent_at is not None:  # an earlier try reached a browser: that counts
        return Ending(claimed.id, claimed.attempts, STATE_SENT, sent_at=claimed.sent_at)
    return Ending(claimed.id, claimed.attempts, STATE_SKIPPED, last_error=reason)


class PushBatch:
    """One batch job's sending: `run` returns each claimed delivery's result (sent, skipped, failed,
    retry)."""

    def __init__(self, sender: PushSender | None, *, default_locale: str) -> None:
        self._sender = sender
        self._default_locale = default_locale
        self._endings: list[Ending] = []  # ended, not written yet
        self._gone: list[int] = []
        self._writer: asyncio.Task[None] | None = None
        self.results: dict[int, str] = {}

    async def run(self, delivery_ids: Sequence[int]) -> dict[int, str]:
        claimed = await deliveries_claim(delivery_ids, channels=[CHANNEL_WEB_PUSH], lease=LEASE)
        if not claimed:
            return {}
        open_claims = {item.id: item for item in claimed}
        tasks: list[asyncio.Task[Ending]] = []
        failure = ""
        try:
            tasks = [
                asyncio.create_task(self._deliver(work)) for work in await self._prepare(claimed, open_claims)
            ]
            for finished in asyncio.as_completed(tasks):
                self._end(await finished, open_claims)
                self._write_soon()
        except Exception as exc:  # the database, say: every open delivery retries later, bounded
            logger.exception("push batch of %d deliveries failed", len(claimed))
            failure = f"{type(exc).__name__}: {exc}"
        finally:
            # Sends that finished are recorded whatever happened; unfinished ones are stopped. After a
            # failure they retry with backoff; after a cancellation (the job's timeout) they keep their
            # lease and come due again when it runs out. Only a failing database loses the record of a
            # send (that delivery then goes out again after its lease): nothing is lost either way.
            for task in tasks:
                if task.done() and not task.cancelled() and task.exception() is None:
                    ending = task.result()
                    if ending.delivery_id in open_claims:
                        self._end(ending, open_claims)
                else:
                    task.cancel()
            if failure:
                for item in list(open_claims.values()):
                    self._end(ending_after_error(item, failure), open_claims)
            with contextlib.suppress(Exception):
                if self._writer is not None:
                    await self._writer
            with contextlib.suppress(Exception):
                await self._write()
        return self.results

    def _end(self, ending: Ending, open_claims: dict[int, Claimed]) -> None:
        open_claims.pop(ending.delivery_id, None)
        self._endings.append(ending)
        self.results[ending.delivery_id] = ending.result

    def _write_soon(self) -> None:
        """Write what ended, unless a writer is at work: it takes what piles up meanwhile, too."""
        if self._writer is not None:
            if not self._writer.done():
                return
            self._writer.result()  # a failed write fails the batch
        self._writer = asyncio.create_task(self._write_all())

    async def _write_all(self) -> None:
        while self._endings or self._gone:
            await self._write()

    async def _write(self) -> None:
        gone, self._gone = self._gone, []
        if gone:  # the browser unsubscribed or the push service forgot it: stop sending there
            await PushSubscription.delete().where(PushSubscription.id.is_in(sorted(set(gone))))
        endings, self._endings = self._endings, []
        if endings:
            await deliveries_finish(endings)

    async def _prepare(self, claimed: list[Claimed], open_claims: dict[int, Claimed]) -> list[_Work]:
        """Who gets what; deliveries with nothing to send end here."""
        notifications = await _notifications([item.notification_id or 0 for item in claimed])
        now = utc_now()
        people = [int(row["employee"]) for row in notifications.values() if row["read_at"] is None]
        browsers = await _subscriptions(people, now)
        work: list[_Work] = []
        for item in claimed:
            notification = notifications.get(item.notification_id or 0)
            if notification is None:
                self._end(_nothing_to_do(item, "the notification is gone"), open_claims)
                continue
            # Read in the app meanwhile (a message held by quiet hours, say): no need to wake the phone.
            if notification["read_at"] is not None:
                self._end(_nothing_to_do(item, "read in the app"), open_claims)
                continue
            waiting = _waiting(item.target)
            subscriptions = [
                row
                for row in browsers.get(int(notification["employee"]), [])
                if waiting is None or int(row["id"]) in waiting
            ]
            if not subscriptions:
                self._end(_nothing_to_do(item, "no subscription"), open_claims)
                continue
            work.append(_Work(item, notification, subscriptions))
        if work and self._sender is None:
            raise RuntimeError("no VAPID key (see the worker log)")
        return work

    @staticmethod
    def _payload(notification: dict[str, Any], locale: str) -> bytes:
        title, body = notification_words(
            locale,
            message_key=notification["message_key"],
            params=notification["params"],
            title=notification["title"],
            body=notification["body"],
        )
        return push_payload(title=title, body=body, url=push_open_url(int(notification["id"])))

    async def _deliver(self, work: _Work) -> Ending:
        """Send one delivery to each waiting browser of the person, and say how it ended."""
        try:
            return await self._deliver_to_browsers(work)
        except Exception as exc:  # a bug: logged, this delivery retries later, bounded
            logger.exception("push delivery %s failed", work.claimed.id)
            return ending_after_error(work.claimed, f"{type(exc).__name__}: {exc}")

    async def _deliver_to_browsers(self, work: _Work) -> Ending:
        assert self._sender is not None
        notification, claimed = work.notification, work.claimed
        kind = str(notification["kind"])
        payloads: dict[str, bytes] = {}
        urgency = push_urgency(kind, notification["params"], utc_now())
        sends = []
        for subscription in work.subscriptions:
            locale = locale_choose(
                notification["locale"] or subscription["locale"] or None, None, self._default_locale
            )
            if locale not in payloads:
                payloads[locale] = self._payload(notification, locale)
            sends.append(
                self._sender.send(
                    PushTarget(
                        endpoint=subscription["endpoint"],
                        p256dh=subscription["p256dh"],
                        auth=subscription["auth"],
                    ),
                    payloads[locale],
                    ttl=TTL_BY_KIND.get(kind, TTL_DEFAULT),
                    urgency=urgency,
                    topic=push_topic(kind, str(notification["source"]), int(notification["id"])),
                )
            )
        outcomes = await asyncio.gather(*sends)
        sent_any, retry, errors = False, [], []
        retry_after: float | None = None
        for subscription, outcome in zip(work.subscriptions, outcomes, strict=True):
            subscription_id = int(subscription["id"])
            if outcome.status == OUTCOME_SENT:
                sent_any = True
                continue
            errors.append(f"#{subscription_id} {outcome.status} {outcome.http_status or ''} {outcome.error}")
            if outcome.status == OUTCOME_GONE:
                self._gone.append(subscription_id)
            elif outcome.status == OUTCOME_RETRY:
                retry.append(subscription_id)
                if outcome.retry_after is not None:
                    retry_after = max(retry_after or 0.0, outcome.retry_after)
        sent_at = claimed.sent_at or (SENT_NOW if sent_any else None)
        error = "; ".join(errors)
        if retry and claimed.attempts < MAX_ATTEMPTS:
            return Ending(
                claimed.id,
                claimed.attempts,
                STATE_PENDING,
                target=",".join(str(i) for i in retry),
                last_error=error,
                sent_at=sent_at,
                retry_in=retry_after if retry_after is not None else delivery_backoff(claimed.attempts),
            )
        state = STATE_SENT if sent_at else STATE_FAILED
        return Ending(claimed.id, claimed.attempts, state, last_error=error, sent_at=sent_at)
