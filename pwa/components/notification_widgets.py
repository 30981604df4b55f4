"""The bell with its unread badge (a tab of the app's navigation) and one notification as a list cell.

The few styles they need are inline (the tab's icon too, through app.css's `--icon` mask), so they
travel with the component wherever the shell is drawn.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any
from zoneinfo import ZoneInfo

from reactpy import html, use_async_effect, use_state

from backend.notifications.schemas import NotificationOut
from backend.notifications.selectors import unread_count
from pwa.context import UIContext
from pwa.hooks import use_async_value

CENTRE_PATH = "/notifications"
# An open page refreshes its badge this often (and whenever its own page marks something read).
BELL_REFRESH_SECONDS = 60.0
BADGE_MAX = 99
# The tab's icon, drawn by app.css's `.appnav-item[data-tab]::before` from this custom property.
BELL_ICON = (
    "url(\"data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 24 24' fill='none' "
    "stroke='black' stroke-width='1.8' stroke-linejoin='round' stroke-linecap='round'%3E"
    "%3Cpath d='M6 16v-5a6 6 0 0 1 12 0v5l1.5 2h-15zM10 20.5a2 2 0 0 0 4 0'/%3E%3C/svg%3E\")"
)
# Beside the label (not over the icon): the same place on the phone's tab bar and the wide side bar.
BADGE_STYLE = {
    "display": "inline-block",
    "minWidth": "16px",
    "height": "16px",
    "marginLeft": "4px",
    "padding": "0 4px",
    "borderRadius": "8px",
    "background": "var(--c-danger)",
    "color": "var(--c-on-danger)",
    "fontSize": "10px",
    "fontWeight": "700",
    "lineHeight": "16px",
    "textAlign": "center",
    "verticalAlign": "1px",
    "boxSizing": "border-box",
}
UNREAD_DOT_STYLE = {
    "flexShrink": "0",
    "width": "10px",
    "height": "10px",
    "borderRadius": "50%",
    "background": "var(--c-link)",
}
READ_DOT_STYLE = {**UNREAD_DOT_STYLE, "background": "transparent"}


def bell_label(ctx: UIContext, count: int) -> str:
    return ctx.t("notifications.bell_label", count=count) if count else ctx.t("notifications.bell_none")


def badge_text(count: int) -> str:
    return f"{BADGE_MAX}+" if count > BADGE_MAX else str(count)


def use_unread_count(ctx: UIContext, *, version: int = 0) -> int:
    """A hook: my unread count, reloaded when `version` changes and every BELL_REFRESH_SECONDS."""
    actor = ctx.actor
    tick, set_tick = use_state(0)

    @use_async_effect(dependencies=[])
    async def _refresh_now_and_then() -> None:
        while True:
            await asyncio.sleep(BELL_REFRESH_SECONDS)
            set_tick(lambda value: value + 1)

    async def load() -> int:
        return await unread_count(actor=actor) if actor is not None else 0

    return use_async_value(load, [actor.account_id if actor else None, version, tick]) or 0


def bell_link(ctx: UIContext, *, count: int, active: bool) -> Any:
    """The navigation's tab to the centre; its accessible name says how many are unread."""
    return html.a(
        {
            "key": "notifications",
            "href": CENTRE_PATH,
            "className": "appnav-item",
            "data-tab": "notifications",
            "style": {"--icon": BELL_ICON},
            "aria-label": bell_label(ctx, count),
            **({"aria-current": "page"} if active else {}),
        },
        html.span(
            ctx.t("nav.notifications"),
            *(
                [
                    html.span(
                        {"className": "nt-badge", "aria-hidden": "true", "style": BADGE_STYLE},
                        badge_text(count),
                    )
                ]
                if count
                else []
            ),
        ),
    )


def when_text(ctx: UIContext, moment: dt.datetime, now: dt.datetime | None = None) -> str:
    """ "刚刚", "5 分钟前", "3 小时前", else the date and time in the organisation's time zone."""
    now = now or dt.datetime.now(dt.UTC)
    seconds = (now - moment).total_seconds()
    if seconds < 60:
        return ctx.t("notifications.just_now")
    if seconds < 3600:
        return ctx.t("notifications.minutes_ago", count=int(seconds // 60))
    if seconds < 86_400:
        return ctx.t("notifications.hours_ago", count=int(seconds // 3600))
    return moment.astimezone(ZoneInfo(ctx.settings.i18n.timezone)).strftime("%Y-%m-%d %H:%M")


def open_href(item: NotificationOut) -> str:
    """Opening goes through the API, which marks it read and redirects to the page it is about."""
    return f"/api/v1/notifications/{item.id}/open"


def notification_cell(
    ctx: UIContext, item: NotificationOut, *, on_read: Callable[[int], Awaitable[None]], busy: bool
) -> Any:
    unread = not item.read

    async def read(_event: Any) -> None:
        await on_read(item.id)

    title_attributes: dict[str, Any] = {"style": {"fontWeight": "600"}} if unread else {}
    # "未读：" inside the link, so a screen reader's list of links says which are new.
    marker = html.span({"className": "sr-only"}, ctx.t("notifications.unread_prefix")) if unread else ""
    title = (
        html.a({"href": open_href(item), **title_attributes}, marker, item.title)
        if item.url
        else html.span(title_attributes, marker, item.title)
    )
    return html.div(
        {
            "key": str(item.id),
            "className": "list-cell",
            "role": "listitem",
            "data-unread": "true" if unread else "false",
        },
        html.span({"style": UNREAD_DOT_STYLE if unread else READ_DOT_STYLE, "aria-hidden": "true"}),
        html.div(
            {"className": "list-cell-main"},
            html.span({"className": "list-cell-title"}, title),
            html.span({"className": "list-cell-sub"}, item.body) if item.body else "",
            html.span({"className": "list-cell-sub"}, when_text(ctx, item.updated_at)),
        ),
        html.div(
            {"className": "list-cell-extra"},
            html.button(
                {
                    "className": "btn btn-ghost",
                    "type": "button",
                    "disabled": busy,
                    "aria-label": ctx.t("notifications.mark_read_label", title=item.title),
                    "onClick": read,
                },
                ctx.t("notifications.mark_read"),
            ),
        )
        if unread
        else "",
    )
