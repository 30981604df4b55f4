"""The Points tab (我的积分): balance, this year's total and ranks, progress toward the annual target
per category (what is still missing), and my ledger, newest first, paged through `?page=`.

An account without an employee record (a bare admin account) has no points: it gets an empty state.
"""

from __future__ import annotations

from typing import Any

from reactpy import component, html

from backend.lib.errors import AppError, NotFound
from backend.lib.policy import actor_require
from backend.org.schemas import Page
from backend.points.schemas import LedgerEntryOut, PointsMeOut, TargetProgressOut
from backend.points.selectors import ledger_page, points_me
from backend.points.targets import target_progress
from pwa.components.admin_widgets import use_loaded
from pwa.components.points_widgets import (
    category_bars,
    ledger_row,
    points_text,
    progress_summary,
    stat_block,
    target_ring,
)
from pwa.components.reflection_widgets import href_with, link_pager, query_page, section_heading
from pwa.components.shell import AppShell, PageHeader
from pwa.components.widgets import EmptyState, FormError, Loading, error_text
from pwa.context import UIContext, use_app

PATH = "/points"


@component
def PointsPage() -> Any:
    ctx = use_app()
    actor = actor_require(ctx.actor)
    page = query_page(ctx)
    me = use_loaded(lambda: points_me(actor=actor), [actor.account_id])
    progress = use_loaded(lambda: target_progress(actor=actor), [actor.account_id])
    ledger = use_loaded(lambda: ledger_page(actor=actor, page=page), [actor.account_id, page])
    title = ctx.t("points.title")
    if isinstance(me, NotFound):
        body: Any = EmptyState(
            icon="★", title=ctx.t("points_ui.no_record_title"), text=ctx.t("points_ui.no_record_text")
        )
    else:
        body = html.div(
            _summary(ctx, me),
            _links(ctx),
            html.section(
                {"aria-labelledby": "pt-target-title"},
                section_heading("pt-target-title", ctx.t("points_ui.target_title")),
                _target(ctx, progress, me),
            ),
            html.section(
                {"aria-labelledby": "pt-ledger-title"},
                section_heading("pt-ledger-title", ctx.t("points_ui.ledger_title")),
                _ledger(ctx, ledger),
            ),
        )
    return AppShell(ctx=ctx, active="points", title=title, children=html.div(PageHeader(title=title), body))


def _summary(ctx: UIContext, me: PointsMeOut | AppError | None) -> Any:
    if me is None:
        return Loading(label=ctx.t("app.loading"))
    if isinstance(me, AppError):
        return FormError(message=error_text(ctx, me))
    not_ranked = ctx.t("points_ui.rank_none")
    ranked = me.year_total > 0  # with nothing earned yet, "No. 1" among the many at 0 says nothing
    ranks = [
        (
            "rank-department",
            ctx.t("points_ui.rank_value", rank=me.rank_in_department)
            if ranked and me.rank_in_department
            else not_ranked,
            ctx.t("points_ui.rank_department"),
        ),
        (
            "rank-organisation",
            ctx.t("points_ui.rank_value", rank=me.rank_in_organisation)
            if ranked and me.rank_in_organisation
            else not_ranked,
            ctx.t("points_ui.rank_organisation"),
        ),
    ]
    return html.section(
        {"className": "card pt-summary", "aria-label": ctx.t("points_ui.summary_label")},
        html.div(
            {"className": "pt-balance"},
            html.span({"className": "pt-balance-label"}, ctx.t("points_ui.balance")),
            html.span({"className": "pt-balance-value"}, points_text(ctx, me.balance)),
        ),
        html.div(
            {"className": "pt-stats"},
            stat_block(
                key="year",
                value=points_text(ctx, me.year_total),
                label=ctx.t("points_ui.year_total", year=me.year),
            ),
            *[stat_block(key=key, value=value, label=label) for key, value, label in ranks],
        ),
        html.p({"className": "muted pt-anonymous-note"}, ctx.t("points_ui.anonymous_on"))
        if me.anonymous
        else "",
    )


def _links(ctx: UIContext) -> Any:
    cells = (
        ("rewards", "/points/rewards"),
        ("leaderboard", "/points/leaderboard"),
    )
    return html.nav(
        {"className": "list pt-links", "aria-label": ctx.t("points_ui.links_label")},
        *[
            html.a(
                {"key": key, "className": "list-cell", "href": href},
                html.span(
                    {"className": "list-cell-main"},
                    html.span({"className": "list-cell-title"}, ctx.t(f"points_ui.{key}_link")),
                    html.span({"className": "list-cell-sub"}, ctx.t(f"points_ui.{key}_link_text")),
                ),
                html.span({"className": "list-cell-extra", "aria-hidden": "true"}, "›"),
            )
            for key, href in cells
        ],
    )


def _target(
    ctx: UIContext, progress: TargetProgressOut | AppError | None, me: PointsMeOut | AppError | None
) -> Any:
    if progress is None:
        return Loading(label=ctx.t("app.loading"))
    if isinstance(progress, AppError):
        return FormError(message=error_text(ctx, progress))
    if progress.target is None:
        return html.div(
            {"className": "card pt-target pt-target-none"},
            html.p({"className": "pt-target-headline"}, ctx.t("points_ui.no_target", year=progress.year)),
            html.p({"className": "muted"}, ctx.t("points_ui.no_target_text")),
            category_bars(ctx, progress.categories),
        )
    headline = (
        ctx.t("points_ui.target_reached", target=progress.target)
        if progress.missing <= 0
        else ctx.t("points_ui.target_missing", missing=progress.missing, target=progress.target)
    )
    return html.div(
        {"className": "card pt-target"},
        html.div(
            {"className": "pt-target-top"},
            target_ring(ctx, progress),
            html.div(
                {"className": "pt-target-words"},
                html.p({"className": "pt-target-headline"}, headline),
                html.p(
                    {"className": "pt-pace pt-pace-behind" if progress.behind else "pt-pace"},
                    ctx.t(
                        "points_ui.pace_behind" if progress.behind else "points_ui.pace_ok",
                        expected=progress.expected_percent,
                    ),
                )
                if progress.missing > 0
                else "",
                html.p({"className": "sr-only"}, progress_summary(ctx, progress)),
            ),
        ),
        html.h3({"className": "pt-subtitle"}, ctx.t("points_ui.categories_title")),
        category_bars(ctx, progress.categories),
        html.p({"className": "muted pt-target-note"}, ctx.t("points_ui.target_note"))
        if any(item.needed > 0 for item in progress.categories)
        else "",
    )


def _ledger(ctx: UIContext, ledger: Page[LedgerEntryOut] | AppError | None) -> Any:
    if ledger is None:
        return Loading(label=ctx.t("app.loading"))
    if isinstance(ledger, AppError):
        return FormError(message=error_text(ctx, ledger))
    if not ledger.items:
        if ledger.page > 1:
            return EmptyState(
                icon="★",
                title=ctx.t("points_ui.page_empty_title"),
                text="",
                action=html.a({"className": "btn", "href": PATH}, ctx.t("points_ui.first_page")),
            )
        return EmptyState(icon="★", title=ctx.t("points.empty_title"), text=ctx.t("points.empty_text"))
    return html.div(
        html.ul(
            {"className": "list pt-ledger", "aria-label": ctx.t("points_ui.ledger_title")},
            *[ledger_row(ctx, entry) for entry in ledger.items],
        ),
        link_pager(
            ctx,
            page=ledger.page,
            pages=ledger.pages,
            total=ledger.total,
            href_for=lambda target: href_with(PATH, page=target),
        ),
    )
