"""Home: a greeting and my to-dos."""

from __future__ import annotations

from typing import Any

from reactpy import component, html

from backend.accounts.selectors import me_get
from backend.lib.errors import AppError
from backend.lib.policy import Actor, actor_require, can_list_people
from backend.reflections.schemas import AssignmentOut
from backend.reflections.selectors import assignments_mine
from pwa.components.reflection_widgets import OPEN_STATES, assignment_cell
from pwa.components.shell import AppShell, PageHeader
from pwa.components.widgets import EmptyState, Loading
from pwa.context import use_app
from pwa.hooks import use_async_value


async def _assignments_due(actor: Actor) -> list[AssignmentOut]:
    """Reflections I still have to write (or revise), the soonest due first."""
    try:
        mine = await assignments_mine(actor=actor)
    except AppError:  # e.g. an account without an employee record
        return []
    return sorted((item for item in mine if item.state in OPEN_STATES), key=lambda item: item.due_at)


@component
def HomePage() -> Any:
    ctx = use_app()
    actor = actor_require(ctx.actor)
    me = use_async_value(lambda: me_get(actor=actor), [actor.account_id])
    name = str(me["name"]) if me else actor.username
    due = use_async_value(lambda: _assignments_due(actor), [actor.account_id])
    # Features add their to-dos here (assignments due, courses to finish) as they land.
    todos: list[Any] = [
        assignment_cell(ctx, item, title=ctx.t("reflections_ui.todo_write", training=item.training.name))
        for item in due or []
    ]
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
                Loading(label=ctx.t("app.loading"))
                if due is None
                else html.div({"className": "list"}, *todos)
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
