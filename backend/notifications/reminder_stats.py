"""What became of a reminder, per channel: sent, failed, waiting, not sent, and read in the app.

A person's delivery that went into a group message (the WeCom or DingTalk post, the mailing-list
e-mail) is `skipped` with `target = "group:<id>"`: it counts as that group message did. One skipped
for good (no e-mail address and no mailing list, the channel switched off) counts as not sent, not as
waiting: it will never go.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from piccolo.query.methods.select import Count

from backend.lib.schema import Schema
from backend.notifications.tables import Delivery, Notification

BUCKETS = {"sent": "sent", "failed": "failed", "skipped": "skipped"}  # any other state: waiting


class ChannelStatOut(Schema):
    channel: str  # in_app | web_push | wecom | dingtalk | email
    sent: int
    failed: int
    pending: int
    read: int  # in the app only
    skipped: int = 0  # will not be sent: no e-mail address and no mailing list, the channel off


async def group_deliveries(targets: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The group messages that people's skipped deliveries point to ("group:<id>"), by that target:
    their state and last error."""
    ids = sorted(
        {int(target[6:]) for target in targets if target.startswith("group:") and target[6:].isdigit()}
    )
    if not ids:
        return {}
    rows = await Delivery.select(Delivery.id, Delivery.state, Delivery.last_error).where(
        Delivery.id.is_in(ids)
    )
    return {f"group:{row['id']}": row for row in rows}


async def reminder_stats(reminder_ids: Sequence[int]) -> dict[int, list[ChannelStatOut]]:
    """Per reminder and channel: sent, failed, pending; the app's row counts notifications and reads."""
    sources = {f"reminder:{rid}": rid for rid in reminder_ids}
    if not sources:
        return {}
    counts: dict[tuple[int, str], dict[str, int]] = {}
    in_app = (
        await Notification.select(Notification.source, Count())
        .where(Notification.source.is_in(list(sources)))
        .group_by(Notification.source)
    )
    read = (
        await Notification.select(Notification.source, Count())
        .where(Notification.source.is_in(list(sources)) & Notification.read_at.is_not_null())
        .group_by(Notification.source)
    )
    for row in in_app:
        counts[(sources[row["source"]], "in_app")] = {"sent": int(row["count"])}
    for row in read:
        counts.setdefault((sources[row["source"]], "in_app"), {})["read"] = int(row["count"])
    of_reminders = Delivery.notification.source.is_in(list(sources))
    deliveries = (
        await Delivery.select(
            Delivery.notification.source.as_alias("source"), Delivery.channel, Delivery.state, Count()
        )
        .where(of_reminders)
        .group_by(Delivery.notification.source, Delivery.channel, Delivery.state)
    )
    for row in deliveries:
        bucket = counts.setdefault((sources[row["source"]], str(row["channel"])), {})
        state = BUCKETS.get(str(row["state"]), "pending")
        bucket[state] = bucket.get(state, 0) + int(row["count"])
    covered = (
        await Delivery.select(
            Delivery.notification.source.as_alias("source"), Delivery.channel, Delivery.target, Count()
        )
        .where(of_reminders & (Delivery.state == "skipped") & Delivery.target.like("group:%"))
        .group_by(Delivery.notification.source, Delivery.channel, Delivery.target)
    )
    groups = await group_deliveries(str(row["target"]) for row in covered)
    for row in covered:
        bucket = counts[(sources[row["source"]], str(row["channel"]))]
        group_state = str(groups.get(str(row["target"]), {}).get("state", ""))
        state = {"sent": "sent", "failed": "failed"}.get(group_state, "pending")
        bucket["skipped"] -= int(row["count"])
        bucket[state] = bucket.get(state, 0) + int(row["count"])
    stats: dict[int, list[ChannelStatOut]] = {}
    for (rid, channel), values in sorted(counts.items(), key=lambda item: (item[0][1] != "in_app", item[0])):
        stats.setdefault(rid, []).append(
            ChannelStatOut(
                channel=channel,
                sent=values.get("sent", 0),
                failed=values.get("failed", 0),
                pending=values.get("pending", 0),
                read=values.get("read", 0),
                skipped=values.get("skipped", 0),
            )
        )
    return stats
