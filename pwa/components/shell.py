"""The app shell: one navigation, placed by CSS as a bottom tab bar on phones or a side bar on wide screens."""

from __future__ import annotations

from typing import Any

from reactpy import component, html

from backend.lib.policy import ROLE_AUDITOR, ROLE_HR_ADMIN, ROLE_TRAINER, can_list_people
from pwa.components.notification_widgets import bell_link, use_unread_count
from pwa.context import UIContext

# (tab key, href). Each tab's icon is drawn in app.css (`.appnav-item[data-tab=...]::before`), so a tab
# is only an <a> and its label <span>: ReactPy keeps state for every element of every open page.
TABS = (
    ("home", "/"),
    ("courses", "/courses"),
    ("reflections", "/reflections"),
    ("points", "/points"),
    ("me", "/me"),
)


def admin_links(ctx: UIContext) -> list[tuple[str, str]]:
    """(key, href) of the admin pages the signed-in person may open; the label is `nav.<key after />`."""
    actor = ctx.actor
    if actor is None:
        return []
    links = []
    if can_list_people(actor):
        links.append(("admin/employees", "/admin/employees"))
    if actor.sees_whole_organisation:
        links.append(("admin/departments", "/admin/departments"))
    if actor.has(ROLE_HR_ADMIN, ROLE_TRAINER):
        links.append(("courses/studio", "/studio"))
        links.append(("admin/trainings", "/admin/trainings"))
    if actor.has(ROLE_HR_ADMIN, ROLE_TRAINER) or actor.managed_paths:
        links.append(("reflections/grading", "/reflections/grading"))
    if actor.sees_whole_organisation or actor.managed_paths:
        links.append(("admin/archive", "/admin/archive"))
    if actor.has(ROLE_HR_ADMIN) or actor.managed_paths:
        links.append(("points/approvals", "/points/approvals"))
    if actor.sees_whole_organisation or actor.managed_paths:
        links.append(("points/team", "/points/team"))
    if actor.has(ROLE_HR_ADMIN, ROLE_AUDITOR):
        links.append(("admin/points_admin", "/admin/points"))
    if actor.has(ROLE_HR_ADMIN) or actor.managed_paths:
        links.append(("admin/reminders", "/admin/reminders"))
    if actor.has(ROLE_HR_ADMIN, ROLE_AUDITOR):
        links.append(("admin/notification_settings", "/admin/notifications/settings"))
    return links


def _nav_link(key: str, href: str, label: str, *, active: str, admin: bool = False) -> Any:
    return html.a(
        {
            "key": key,
            "href": href,
            "className": "appnav-item appnav-admin" if admin else "appnav-item",
            **({} if admin else {"data-tab": key}),
            **({"aria-current": "page"} if key == active else {}),
        },
        html.span(label),
    )


@component
def AppShell(*, ctx: UIContext, active: str, title: str, children: Any, bell_version: int = 0) -> Any:
    """Frame for signed-in pages. `active` is the tab (or admin page) to highlight; `bell_version`
    changes when a page marks notifications read, so the bell's badge reloads."""
    unread = use_unread_count(ctx, version=bell_version)
    links = [_nav_link(key, href, ctx.t(f"nav.{key}"), active=active) for key, href in TABS]
    # The bell sits before "me": its accessible name carries the unread count.
    links.insert(len(TABS) - 1, bell_link(ctx, count=unread, active=active == "notifications"))
    admin = admin_links(ctx)
    if admin:
        # Wide screens only (app.css): on phones the Me page and the home page link to these.
        links.append(html.div({"key": "admin-title", "className": "appnav-title"}, ctx.t("nav.admin")))
        links.extend(
            _nav_link(key, href, ctx.t(f"nav.{key.split('/')[1]}"), active=active, admin=True)
            for key, href in admin
        )
    return html.div(
        {"className": "app-root app-shell"},
        html.a({"className": "sr-only", "href": "#main"}, ctx.t("app.skip_to_content")),
        html.nav({"className": "appnav", "aria-label": ctx.t("nav.main")}, *links),
        html.main({"id": "main", "className": "page", "aria-label": title}, children),
    )


@component
def PageHeader(*, title: str, actions: Any = None, back_href: str | None = None, back_label: str = "") -> Any:
    return html.header(
        {"className": "page-header"},
        html.a({"className": "btn btn-ghost", "href": back_href, "aria-label": back_label}, "‹")
        if back_href
        else "",
        html.h1(title),
        html.div({"className": "page-header-actions"}, actions) if actions else "",
    )
