"""Who got a reminder, under its cell in the reminders list: each recipient, read in the app or not,
and each channel's outcome; unread first, a page at a time."""

from __future__ import annotations

from typing import Any

from reactpy import component, html, use_state

from backend.lib.errors import AppError
from backend.notifications.reminder_recipients import ReminderRecipientOut, reminder_recipients
from backend.org.schemas import Page
from pwa.components.widgets import FormError, Loading, Pager, error_text
from pwa.context import UIContext, use_app
from pwa.hooks import use_async_value
from pwa.pages.grading import local_time


def _channel_line(ctx: UIContext, recipient: ReminderRecipientOut) -> str:
    parts = []
    for item in recipient.channels:
        state = ctx.t(f"reminders.recipients.state.{item.state}")
        if item.group:
            state = ctx.t("reminders.recipients.via_group", state=state)
        parts.append(
            ctx.t(
                "reminders.recipients.channel",
                channel=ctx.t(f"notifications.channel.{item.channel}"),
                state=state,
            )
        )
    return " · ".join(parts)


def _recipient(ctx: UIContext, recipient: ReminderRecipientOut) -> Any:
    read = (
        ctx.t("reminders.recipients.read", at=local_time(ctx, recipient.read_at))
        if recipient.read_at
        else ctx.t("reminders.recipients.unread")
    )
    return html.li(
        {"key": str(recipient.employee.id), "className": "list-cell"},
        html.div(
            {"className": "list-cell-main"},
            html.span({"className": "list-cell-title"}, recipient.employee.name),
            html.span({"className": "list-cell-sub"}, " · ".join(filter(None, [recipient.department, read]))),
            html.span({"className": "list-cell-sub muted"}, _channel_line(ctx, recipient)),
        ),
    )


@component
def ReminderRecipients(*, reminder_id: int, title: str) -> Any:
    ctx = use_app()
    page, set_page = use_state(1)

    async def load() -> Page[ReminderRecipientOut] | AppError:
        try:
            return await reminder_recipients(actor=ctx.actor, reminder_id=reminder_id, page=page)
        except AppError as exc:
            return exc

    listed = use_async_value(load, [reminder_id, page])
    if listed is None:
        return Loading(label=ctx.t("app.loading"))
    if isinstance(listed, AppError):
        return FormError(message=error_text(ctx, listed))
    if not listed.items:
        return html.p({"className": "muted"}, ctx.t("reminders.recipients.empty"))
    return html.div(
        html.ul(
            {"className": "list", "aria-label": ctx.t("reminders.recipients.label", title=title)},
            *[_recipient(ctx, item) for item in listed.items],
        ),
        Pager(ctx=ctx, page=listed.page, pages=listed.pages, total=listed.total, on_page=set_page)
        if listed.pages > 1
        else "",
    )
