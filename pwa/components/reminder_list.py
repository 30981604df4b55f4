"""The list of sent and scheduled reminders with their delivery figures per channel, who got a sent
one, and cancelling a scheduled one (after a confirmation)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reactpy import component, html, use_state

from backend.lib.errors import AppError
from backend.notifications.reminders import ReminderOut, reminder_cancel
from backend.org.schemas import Page
from pwa.components.reminder_recipients import ReminderRecipients
from pwa.components.widgets import EmptyState, FormError, Loading, Pager, error_text
from pwa.context import UIContext, use_app
from pwa.pages.grading import local_time


def reminders_section(
    ctx: UIContext,
    listed: Page[ReminderOut] | AppError | None,
    *,
    on_page: Callable[[int], None],
    on_changed: Callable[[str], None],
) -> Any:
    if listed is None:
        return Loading(label=ctx.t("app.loading"))
    if isinstance(listed, AppError):
        return FormError(message=error_text(ctx, listed))
    if not listed.items:
        return EmptyState(
            icon="🔔", title=ctx.t("reminders.page.empty_title"), text=ctx.t("reminders.page.empty_text")
        )
    return html.section(
        {"aria-labelledby": "reminder-list-title"},
        html.h2({"id": "reminder-list-title"}, ctx.t("reminders.page.list")),
        html.div(
            {"className": "list"},
            *[ReminderCell(key=str(item.id), reminder=item, on_changed=on_changed) for item in listed.items],
        ),
        Pager(ctx=ctx, page=listed.page, pages=listed.pages, total=listed.total, on_page=on_page)
        if listed.pages > 1
        else "",
    )


def _stat_lines(ctx: UIContext, reminder: ReminderOut) -> list[Any]:
    if not reminder.stats:
        return [html.li({"key": "none"}, ctx.t("reminders.page.no_stats"))]
    lines = []
    for stat in reminder.stats:
        if stat.channel == "in_app":
            text = ctx.t("reminders.page.stat_in_app", sent=stat.sent, read=stat.read)
        else:
            channel = ctx.t(f"notifications.channel.{stat.channel}")
            text = ctx.t(
                "reminders.page.stat_skipped" if stat.skipped else "reminders.page.stat_channel",
                channel=channel,
                sent=stat.sent,
                failed=stat.failed,
                pending=stat.pending,
                skipped=stat.skipped,
            )
        lines.append(html.li({"key": stat.channel}, text))
    return lines


@component
def ReminderCell(*, reminder: ReminderOut, on_changed: Callable[[str], None]) -> Any:
    ctx = use_app()
    confirming, set_confirming = use_state(False)
    showing, set_showing = use_state(False)
    error, set_error = use_state("")

    async def cancel(_event: dict[str, Any]) -> None:
        try:
            await reminder_cancel(actor=ctx.actor, reminder_id=reminder.id)
        except AppError as exc:
            set_error(error_text(ctx, exc))
            set_confirming(False)
            return
        on_changed(ctx.t("reminders.page.cancelled_toast"))

    heading = f"reminder-{reminder.id}-title"
    sub = [
        ctx.t(f"reminders.state.{reminder.state}"),
        local_time(ctx, reminder.sent_at or reminder.send_at),
        ctx.t("reminders.page.recipients", count=reminder.recipients),
    ]
    if reminder.created_by is not None:
        sub.append(ctx.t("reminders.page.created_by", name=reminder.created_by.name))
    if not reminder.can_cancel:
        actions: Any = ""
    elif confirming:
        actions = html.div(
            {"role": "alert"},
            html.p(ctx.t("reminders.page.cancel_confirm")),
            html.button(
                {"type": "button", "className": "btn btn-danger", "onClick": cancel},
                ctx.t("reminders.page.cancel_yes"),
            ),
            html.button(
                {"type": "button", "className": "btn", "onClick": lambda _e: set_confirming(False)},
                ctx.t("reminders.page.keep"),
            ),
        )
    else:
        actions = html.button(
            {
                "type": "button",
                "className": "btn",
                "aria-label": ctx.t("reminders.page.cancel_label", title=reminder.title),
                "onClick": lambda _e: set_confirming(True),
            },
            ctx.t("reminders.page.cancel"),
        )
    people: Any = ""
    if reminder.state == "sent":
        listing = f"reminder-{reminder.id}-recipients"
        people = html.div(
            html.button(
                {
                    "type": "button",
                    "className": "btn",
                    "aria-expanded": "true" if showing else "false",
                    "aria-controls": listing,
                    "onClick": lambda _e: set_showing(not showing),
                },
                ctx.t("reminders.recipients.hide" if showing else "reminders.recipients.show"),
            ),
            html.div(
                {"id": listing},
                ReminderRecipients(reminder_id=reminder.id, title=reminder.title) if showing else "",
            ),
        )
    return html.article(
        {"className": "list-cell", "aria-labelledby": heading},
        html.div(
            {"className": "list-cell-main"},
            html.h3({"id": heading, "className": "list-cell-title"}, reminder.title),
            html.span({"className": "list-cell-sub"}, " · ".join(sub)),
            html.ul(
                {"className": "muted", "aria-label": ctx.t("reminders.page.stats_label")},
                *_stat_lines(ctx, reminder),
            ),
            people,
            FormError(message=error or None),
            actions,
        ),
    )
