"""The featured wall (精选展示墙): reflections graded 优秀 and put forward, for the company or my department."""

from __future__ import annotations

from typing import Any, cast

from reactpy import component, html

from backend.lib.errors import AppError
from backend.lib.policy import actor_require
from backend.org.schemas import Page
from backend.reflections.schemas import ReflectionOut
from backend.reflections.selectors import Scope, featured_list
from pwa.components.admin_widgets import use_loaded
from pwa.components.reflection_widgets import (
    href_with,
    link_pager,
    query_choice,
    query_page,
    reflection_card,
    switch_links,
)
from pwa.components.shell import AppShell, PageHeader
from pwa.components.widgets import EmptyState, FormError, Loading, error_text
from pwa.context import UIContext, use_app

PATH = "/reflections/featured"
SCOPES = ("organisation", "department")


@component
def FeaturedPage() -> Any:
    ctx = use_app()
    actor = actor_require(ctx.actor)
    scope = query_choice(ctx, "scope", SCOPES, "organisation")
    page = query_page(ctx)
    wall = use_loaded(
        lambda: featured_list(actor=actor, scope=cast(Scope, scope), page=page),
        [actor.account_id, scope, page],
    )
    title = ctx.t("reflections_ui.wall_title")
    return AppShell(
        ctx=ctx,
        active="reflections",
        title=title,
        children=html.div(
            PageHeader(title=title, back_href="/reflections", back_label=ctx.t("reflections_ui.wall_back")),
            html.div(
                {"className": "rf-toolbar"},
                switch_links(
                    ctx,
                    label=ctx.t("reflections_ui.scope_label"),
                    options=[
                        (ctx.t(f"reflections_ui.scope_{value}"), href_with(PATH, scope=value), value == scope)
                        for value in SCOPES
                    ],
                ),
            ),
            _wall(ctx, wall, scope=scope),
        ),
    )


def _wall(ctx: UIContext, wall: Page[ReflectionOut] | AppError | None, *, scope: str) -> Any:
    if wall is None:
        return Loading(label=ctx.t("app.loading"))
    if isinstance(wall, AppError):
        return FormError(message=error_text(ctx, wall))
    if not wall.items:
        return EmptyState(
            icon="★",
            title=ctx.t("reflections_ui.wall_empty_title"),
            text=ctx.t("reflections_ui.wall_empty_text"),
            action=html.a(
                {"className": "btn btn-primary", "href": "/reflections"},
                ctx.t("reflections_ui.back_to_reflections"),
            ),
        )
    return html.section(
        {"aria-label": ctx.t("reflections_ui.wall_title")},
        html.p({"className": "muted rf-total"}, ctx.t("reflections_ui.feed_total", total=wall.total)),
        html.div({"className": "rf-cards rf-wall"}, *[reflection_card(ctx, item) for item in wall.items]),
        link_pager(
            ctx,
            page=wall.page,
            pages=wall.pages,
            total=wall.total,
            href_for=lambda target: href_with(PATH, scope=scope, page=target),
        ),
    )
