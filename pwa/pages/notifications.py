"""The notification centre: my notifications, newest first, unread ones marked; open one (which marks
it read and goes where it points), mark one or all read, page through older ones; a link to the
notification settings (what also reaches me outside the app)."""

from __future__ import annotations

from typing import Any

from reactpy import component, html, use_state

from backend.lib.errors import AppError
from backend.lib.policy import actor_require
from backend.notifications.schemas import NotificationOut
from backend.notifications.selectors import notifications_mine, unread_count
from backend.notifications.services import notification_read, notifications_read_all
from backend.org.schemas import Page
from pwa.components.admin_widgets import use_loaded
from pwa.components.notification_widgets import notification_cell
from pwa.components.shell import AppShell, PageHeader
from pwa.components.widgets import EmptyState, FormError, Loading, Pager, Toast, error_text
from pwa.context import UIContext, use_app


@component
def NotificationsPage() -> Any:
    ctx = use_app()
    actor = actor_require(ctx.actor)
    page, set_page = use_state(1)
    version, set_version = use_state(0)  # bumps after a change: the list, the count and the bell reload
    busy, set_busy = use_state(False)
    message, set_message = use_state("")
    failure, set_failure = use_state("")
    listing = use_loaded(
        lambda: notifications_mine(actor=actor, locale=ctx.locale, page=page),
        [actor.account_id, ctx.locale, page, version],
    )
    unread = use_loaded(lambda: unread_count(actor=actor), [actor.account_id, version])

    async def changed(run: Any) -> None:
        set_busy(True)
        set_failure("")
        try:
            set_message(await run())
        except AppError as exc:
            set_failure(error_text(ctx, exc))
        finally:
            set_busy(False)
            set_version(lambda value: value + 1)

    async def read_one(notification_id: int) -> None:
        async def run() -> str:
            await notification_read(actor=actor, notification_id=notification_id)
            return str(ctx.t("notifications.marked_one"))

        await changed(run)

    async def read_all(_event: Any) -> None:
        async def run() -> str:
            count = await notifications_read_all(actor=actor)
            return str(ctx.t("notifications.marked_all", count=count))

        await changed(run)

    unread_now = unread if isinstance(unread, int) else 0
    title = ctx.t("notifications.title")
    return AppShell(
        ctx=ctx,
        active="notifications",
        title=title,
        bell_version=version,
        children=html.div(
            PageHeader(
                title=title,
                actions=html.div(
                    {"className": "toolbar"},
                    html.span(
                        {"className": "muted", "aria-live": "polite"},
                        ctx.t("notifications.unread_total", count=unread_now)
                        if unread_now
                        else ctx.t("notifications.all_read"),
                    ),
                    html.button(
                        {
                            "className": "btn",
                            "type": "button",
                            "disabled": busy or not unread_now,
                            "onClick": read_all,
                        },
                        ctx.t("notifications.mark_all"),
                    ),
                    html.a(
                        {"className": "btn", "href": "/notifications/preferences"},
                        ctx.t("preferences.title"),
                    ),
                ),
            ),
            Toast(message=message),
            FormError(message=failure),
            _listing(ctx, listing, on_read=read_one, busy=busy, on_page=set_page),
        ),
    )


def _listing(
    ctx: UIContext,
    listing: Page[NotificationOut] | AppError | None,
    *,
    on_read: Any,
    busy: bool,
    on_page: Any,
) -> Any:
    if listing is None:
        return Loading(label=ctx.t("app.loading"))
    if isinstance(listing, AppError):
        return FormError(message=error_text(ctx, listing))
    if not listing.items and listing.page == 1:
        return EmptyState(
            icon="🔔", title=ctx.t("notifications.empty_title"), text=ctx.t("notifications.empty_text")
        )
    return html.div(
        html.div(
            {"className": "list", "role": "list", "aria-label": ctx.t("notifications.list_label")},
            *[notification_cell(ctx, item, on_read=on_read, busy=busy) for item in listing.items],
        ),
        Pager(ctx=ctx, page=listing.page, pages=listing.pages, total=listing.total, on_page=on_page)
        if listing.pages > 1 or listing.page > 1
        else "",
    )
