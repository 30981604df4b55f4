"""Likes and comments on a reflection, batched: at most one message per reflection per 30 minutes.

The first like or comment opens a batch (a notification); whatever comes within 30 minutes of its
start joins it (counts and names grow, and it shows as unread again). A batch remembers the likers
and comments it counted, so an event delivered twice, or a like taken back and given again, counts
once. Deliveries outside the app wait for the end of the batch, so they carry the final counts.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from piccolo.querystring import QueryString

from backend.lib.db import write_transaction
from backend.notifications.kinds import KIND_REFLECTION_PEER, message_key
from backend.notifications.render import params_decode
from backend.notifications.services import notify, utc_now
from backend.notifications.tables import Notification
from backend.org.tables import Employee
from backend.reflections.tables import Submission

BATCH_WINDOW = dt.timedelta(minutes=30)
NAMES_SHOWN = 3
LOCK_PEER = 0x4E50  # "NP": pg_advisory_xact_lock namespace, one key per author


async def _author_lock(author_id: int) -> None:
    """Serialise batch changes for one author until the transaction ends (PostgreSQL; SQLite's write
    transactions already run one at a time)."""
    engine = Notification._meta.db
    if engine.engine_type == "postgres":
        await engine.run_querystring(
            QueryString("SELECT pg_advisory_xact_lock({}, {})", LOCK_PEER, author_id)
        )


def _variant(likes: int, comments: int) -> str:
    if likes and comments:
        return "peer_mixed"
    if likes:
        return "peer_like_one" if likes == 1 else "peer_likes"
    return "peer_comment_one" if comments == 1 else "peer_comments"


def _params(previous: dict[str, Any], *, like: bool, item_id: int, name: str, title: str) -> dict[str, Any]:
    liker_ids = [int(i) for i in previous.get("liker_ids", [])]
    comment_ids = [int(i) for i in previous.get("comment_ids", [])]
    names = [str(n) for n in previous.get("names", [])]
    (liker_ids if like else comment_ids).append(item_id)
    if name and name not in names and len(names) < NAMES_SHOWN:
        names.append(name)
    return {
        "title": title,
        "liker_ids": liker_ids,
        "comment_ids": comment_ids,
        "names": names,
        "name": names[0] if names else "",
        "likes": len(liker_ids),
        "comments": len(comment_ids),
    }


async def _peer_add(*, submission_id: int, author_id: int, person_id: int, like: bool, item_id: int) -> None:
    if person_id == author_id:  # one's own comment on one's own reflection
        return
    training_title = Submission.assignment.training.title  # type: ignore[union-attr]
    facts = (
        await Submission.select(training_title.as_alias("title"))
        .where(Submission.id == submission_id)
        .first()
    )
    person = await Employee.select(Employee.name).where(Employee.id == person_id).first()
    if facts is None:  # deleted meanwhile
        return
    name, title = str(person["name"]) if person else "", str(facts["title"] or "")
    counted = "liker_ids" if like else "comment_ids"
    source = f"submission:{submission_id}"
    async with write_transaction(Notification):
        await _author_lock(author_id)
        batches = (
            await Notification.select(Notification.id, Notification.params, Notification.created_at)
            .where(
                (Notification.employee == author_id)
                & (Notification.kind == KIND_REFLECTION_PEER)
                & (Notification.source == source)
            )
            .order_by(Notification.id, ascending=False)
        )
        if any(item_id in params_decode(b["params"]).get(counted, []) for b in batches):
            return  # counted already: a repeated event, or a like given again
        now = utc_now()
        latest = batches[0] if batches else None
        if latest is not None and latest["created_at"] > now - BATCH_WINDOW:
            params = _params(
                params_decode(latest["params"]), like=like, item_id=item_id, name=name, title=title
            )
            await Notification.update(
                {
                    Notification.params: params,
                    Notification.message_key: message_key(_variant(params["likes"], params["comments"])),
                    Notification.updated_at: now,
                    Notification.read_at: None,
                }
            ).where(Notification.id == latest["id"])
            return
        params = _params({}, like=like, item_id=item_id, name=name, title=title)
        await notify(
            employee_ids=[author_id],
            kind=KIND_REFLECTION_PEER,
            key=message_key(_variant(params["likes"], params["comments"])),
            params=params,
            url=f"/reflections/{submission_id}",
            source=source,
            dedupe_key=f"reflection_peer:{submission_id}:{'like' if like else 'comment'}:{item_id}",
            not_before=now + BATCH_WINDOW,
        )


async def peer_on_liked(ctx: dict[str, Any], payload: dict[str, Any]) -> None:
    """ "reflection.liked" {submission_id, employee_id (who liked), author_id} → the author, batched."""
    await _peer_add(
        submission_id=int(payload["submission_id"]),
        author_id=int(payload["author_id"]),
        person_id=int(payload["employee_id"]),
        like=True,
        item_id=int(payload["employee_id"]),
    )


async def peer_on_commented(ctx: dict[str, Any], payload: dict[str, Any]) -> None:
    """ "reflection.commented" {submission_id, comment_id, employee_id, author_id} → the author, batched."""
    await _peer_add(
        submission_id=int(payload["submission_id"]),
        author_id=int(payload["author_id"]),
        person_id=int(payload["employee_id"]),
        like=False,
        item_id=int(payload["comment_id"]),
    )
