"""Home: a greeting and my to-dos."""

from __future__ import annotations

from typing import Any

from reactpy import component, html

from backend.accounts.selectors import me_get
from backend.lib.policy import actor_require, can_list_people
from pwa.components.shell import AppShell, PageHeader
from pwa.components.widgets import EmptyState
from pwa.context import use_app
from pwa.hooks import use_async_value


@component
def HomePage() -> Any:
    ctx = use_app()
    actor = actor_require(ctx.actor)
    me = use_async_value(lambda: me_get(actor=actor), [actor.account_id])
    name = str(me["name"]) if me else actor.username
    # Features add their to-dos here (assignments due, courses to finish) as they land.
    todos: list[Any] = []
    team = (
        html.a(
            {"className": "list-cell", "href": "/admin/employees"},
            html.div(
                {"className": "list-cell-main"},
                html.div({"className": "list-cell-title"}, ctx.t("home.team")),
                html.div({"className": "list-cell-sub"}, ctx.t("home.team_text")),
            ),
            html.span({"className": "list-cell-extra", "aria-hidden": "true"}, "›"),
        )
        if can_list_people(actor)
        else ""
    )
    return AppShell(
        ctx=ctx,
        active="home",
        title=ctx.t("nav.home"),
        children=html.div(
            PageHeader(title=ctx.t("home.greeting", name=name)),
            html.section(
                {"aria-labelledby": "todos-title"},
                html.h2({"id": "todos-title", "className": "section-title"}, ctx.t("home.todos")),
                html.div({"className": "list"}, *todos)
                if todos
                else EmptyState(
                    icon="✓",
                    title=ctx.t("home.todos_empty_title"),
                    text=ctx.t("home.todos_empty_text"),
                    action=html.a(
                        {"className": "btn btn-primary", "href": "/courses"}, ctx.t("home.browse_courses")
                    ),
                ),
            ),
            html.div({"className": "list"}, team) if team else "",
        ),
    )
