"""The Reflections (心得) tab: my assignments, then colleagues' reflections (scope, sort, pages).

The feed's view lives in the query string (`?scope=department|organisation&sort=newest|likes&page=`)
so a view can be shared; switching it is a link.
"""

from __future__ import annotations

from typing import Any, cast

from reactpy import component, html

from backend.lib.errors import AppError, NotFound
from backend.lib.policy import ROLE_HR_ADMIN, ROLE_TRAINER, Actor, actor_require
from backend.org.schemas import Page
from backend.reflections.schemas import AssignmentOut, ReflectionOut
from backend.reflections.selectors import Scope, Sort, assignments_mine, reflection_feed
from pwa.components.admin_widgets import use_loaded
from pwa.components.reflection_widgets import (
    assignment_cell,
    href_with,
    link_pager,
    query_choice,
    query_page,
    reflection_card,
    section_heading,
    switch_links,
)
from pwa.components.shell import AppShell, PageHeader
from pwa.components.widgets import EmptyState, FormError, Loading, error_text
from pwa.context import UIContext, use_app

PATH = "/reflections"
SCOPES = ("department", "organisation")
SORTS = ("newest", "likes")


def grades_reflections(actor: Actor) -> bool:
    """HR, trainers and managers grade reflections (the grading queue is theirs)."""
    return actor.has(ROLE_HR_ADMIN, ROLE_TRAINER) or bool(actor.managed_paths)


async def _mine(actor: Actor) -> list[AssignmentOut]:
    try:
        return await assignments_mine(actor=actor)
    except NotFound:  # an account without an employee record has no assignments
        return []


@component
def ReflectionsPage() -> Any:
    ctx = use_app()
    actor = actor_require(ctx.actor)
    scope = query_choice(ctx, "scope", SCOPES, "department")
    sort = query_choice(ctx, "sort", SORTS, "newest")
    page = query_page(ctx)
    mine = use_loaded(lambda: _mine(actor), [actor.account_id])
    feed = use_loaded(
        lambda: reflection_feed(actor=actor, scope=cast(Scope, scope), sort=cast(Sort, sort), page=page),
        [actor.account_id, scope, sort, page],
    )
    title = ctx.t("reflections.title")
    return AppShell(
        ctx=ctx,
        active="reflections",
        title=title,
        children=html.div(
            PageHeader(title=title),
            html.section(
                {"aria-labelledby": "rf-mine-title"},
                section_heading("rf-mine-title", ctx.t("reflections_ui.mine_title")),
                _mine_list(ctx, mine),
            ),
            html.section(
                {"aria-labelledby": "rf-feed-title"},
                section_heading("rf-feed-title", ctx.t("reflections_ui.feed_title")),
                _links(ctx, actor),
                html.div(
                    {"className": "rf-toolbar"},
                    switch_links(
                        ctx,
                        label=ctx.t("reflections_ui.scope_label"),
                        options=[
                            (
                                ctx.t(f"reflections_ui.scope_{value}"),
                                href_with(PATH, scope=value, sort=sort),
                                value == scope,
                            )
                            for value in SCOPES
                        ],
                    ),
                    switch_links(
                        ctx,
                        label=ctx.t("reflections_ui.sort_label"),
                        options=[
                            (
                                ctx.t(f"reflections_ui.sort_{value}"),
                                href_with(PATH, scope=scope, sort=value),
                                value == sort,
                            )
                            for value in SORTS
                        ],
                    ),
                ),
                _feed(ctx, feed, scope=scope, sort=sort),
            ),
        ),
    )


def _mine_list(ctx: UIContext, mine: list[AssignmentOut] | AppError | None) -> Any:
    if mine is None:
        return Loading(label=ctx.t("app.loading"))
    if isinstance(mine, AppError):
        return FormError(message=error_text(ctx, mine))
    if not mine:
        return EmptyState(
            icon="✎",
            title=ctx.t("reflections_ui.mine_empty_title"),
            text=ctx.t("reflections_ui.mine_empty_text"),
        )
    return html.div({"className": "list"}, *[_assignment_with_courses(ctx, item) for item in mine])


def _assignment_with_courses(ctx: UIContext, item: AssignmentOut) -> Any:
    """The assignment, and below it the training's micro-courses to watch before writing."""
    if not item.courses:
        return assignment_cell(ctx, item)
    return html.div(
        {"key": f"assignment-block-{item.id}"},
        assignment_cell(ctx, item),
        html.nav(
            {"className": "toolbar rf-courses", "aria-label": ctx.t("training.courses")},
            html.span({"className": "muted"}, ctx.t("training.courses")),
            *[
                html.a(
                    {"key": str(course.id), "className": "chip", "href": f"/courses/{course.id}"},
                    "▶ ",
                    course.name,
                )
                for course in item.courses
            ],
        ),
    )


def _links(ctx: UIContext, actor: Actor) -> Any:
    cells = [("featured", "/reflections/featured")]
    if grades_reflections(actor):
        cells.append(("grading", "/reflections/grading"))
    return html.nav(
        {"className": "list", "aria-label": ctx.t("reflections_ui.feed_title")},
        *[
            html.a(
                {"key": key, "className": "list-cell", "href": href},
                html.span(
                    {"className": "list-cell-main"},
                    html.span({"className": "list-cell-title"}, ctx.t(f"reflections_ui.{key}_link")),
                    html.span({"className": "list-cell-sub"}, ctx.t(f"reflections_ui.{key}_link_text")),
                ),
                html.span({"className": "list-cell-extra", "aria-hidden": "true"}, "›"),
            )
            for key, href in cells
        ],
    )


def _feed(ctx: UIContext, feed: Page[ReflectionOut] | AppError | None, *, scope: str, sort: str) -> Any:
    if feed is None:
        return Loading(label=ctx.t("app.loading"))
    if isinstance(feed, AppError):
        return FormError(message=error_text(ctx, feed))
    if not feed.items:
        return EmptyState(
            icon="✉",
            title=ctx.t("reflections_ui.feed_empty_title"),
            text=ctx.t("reflections_ui.feed_empty_text"),
        )
    return html.div(
        html.p({"className": "muted rf-total"}, ctx.t("reflections_ui.feed_total", total=feed.total)),
        html.div({"className": "rf-cards"}, *[reflection_card(ctx, item) for item in feed.items]),
        link_pager(
            ctx,
            page=feed.page,
            pages=feed.pages,
            total=feed.total,
            href_for=lambda target: href_with(PATH, scope=scope, sort=sort, page=target),
        ),
    )
