"""积分排行: this year's board of my department or of the whole organisation (`?board=&page=`, so a
view can be shared), my own standing, each department's target completion rate, and my choice to
show as 匿名 to colleagues.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reactpy import component, html, use_state

from backend.lib.errors import AppError, NotFound
from backend.lib.policy import actor_require
from backend.points.schemas import DepartmentRateOut, LeaderboardOut, LeaderRowOut
from backend.points.standings import (
    BOARD_DEPARTMENT,
    BOARD_ORGANISATION,
    department_rates,
    leaderboard,
    privacy_get,
    privacy_set,
)
from pwa.components.admin_widgets import use_loaded
from pwa.components.points_widgets import points_text, switch_row, thin_bar
from pwa.components.reflection_widgets import (
    href_with,
    link_pager,
    query_choice,
    query_page,
    section_heading,
    switch_links,
)
from pwa.components.shell import AppShell, PageHeader
from pwa.components.widgets import EmptyState, FormError, Loading, Toast, error_text
from pwa.context import UIContext, use_app

PATH = "/points/leaderboard"
BOARDS = (BOARD_DEPARTMENT, BOARD_ORGANISATION)


@component
def LeaderboardPage() -> Any:
    ctx = use_app()
    actor = actor_require(ctx.actor)
    board = query_choice(ctx, "board", BOARDS, BOARD_DEPARTMENT)
    page = query_page(ctx)
    version, set_version = use_state(0)
    toast, set_toast = use_state("")
    standings = use_loaded(
        lambda: leaderboard(actor=actor, board=board, page=page), [actor.account_id, board, page, version]
    )
    rates = use_loaded(lambda: department_rates(actor=actor), [actor.account_id])
    anonymous = use_loaded(lambda: privacy_get(actor=actor), [actor.account_id, version])
    title = ctx.t("points_ui.leaderboard_title")

    def privacy_changed(now_anonymous: bool) -> None:
        set_toast(ctx.t("points_ui.anonymous_saved_on" if now_anonymous else "points_ui.anonymous_saved_off"))
        set_version(version + 1)

    return AppShell(
        ctx=ctx,
        active="points",
        title=title,
        children=html.div(
            PageHeader(title=title, back_href="/points", back_label=ctx.t("points_ui.back")),
            html.div(
                {"className": "pt-tabs"},
                switch_links(
                    ctx,
                    label=ctx.t("points_ui.board_label"),
                    options=[
                        (ctx.t(f"points_ui.board_{value}"), href_with(PATH, board=value), value == board)
                        for value in BOARDS
                    ],
                ),
            ),
            html.section(
                {"aria-labelledby": "pt-board-title"},
                section_heading("pt-board-title", ctx.t(f"points_ui.board_{board}_title")),
                _board(ctx, standings, board=board),
            ),
            PrivacySwitch(
                key=f"privacy-{anonymous}",
                anonymous=anonymous,
                on_changed=privacy_changed,
            )
            if isinstance(anonymous, bool)
            else "",
            html.section(
                {"aria-labelledby": "pt-rates-title"},
                section_heading("pt-rates-title", ctx.t("points_ui.rates_title")),
                _rates(ctx, rates),
            ),
            Toast(message=toast or None),
        ),
    )


def _board(ctx: UIContext, standings: LeaderboardOut | AppError | None, *, board: str) -> Any:
    if standings is None:
        return Loading(label=ctx.t("app.loading"))
    if isinstance(standings, NotFound):
        return EmptyState(
            icon="★", title=ctx.t("points_ui.board_none_title"), text=ctx.t("points_ui.board_none_text")
        )
    if isinstance(standings, AppError):
        return FormError(message=error_text(ctx, standings))
    if standings.my_rank is None:
        mine = ctx.t("points_ui.my_rank_none")
    elif standings.my_total <= 0:
        mine = ctx.t("points_ui.my_rank_zero")
    else:
        mine = ctx.t("points_ui.my_rank", rank=standings.my_rank, people=standings.people)
    head = html.div(
        {"className": "card pt-my-standing", "role": "status"},
        html.span({"className": "pt-my-rank"}, mine),
        html.span(
            {"className": "muted"},
            ctx.t("points_ui.my_total", year=standings.year, total=points_text(ctx, standings.my_total)),
        ),
    )
    if not standings.entries:
        return html.div(
            head,
            EmptyState(
                icon="★", title=ctx.t("points_ui.board_empty_title"), text=ctx.t("points_ui.board_empty_text")
            ),
        )
    return html.div(
        head,
        html.ol(
            {"className": "list pt-board", "aria-label": ctx.t(f"points_ui.board_{board}_title")},
            *[_row(ctx, row, board=board) for row in standings.entries],
        ),
        link_pager(
            ctx,
            page=standings.page,
            pages=standings.pages,
            total=standings.people,
            href_for=lambda target: href_with(PATH, board=board, page=target),
        ),
    )


def _row(ctx: UIContext, row: LeaderRowOut, *, board: str) -> Any:
    name = ctx.t("points_ui.me_name", name=row.name) if row.me else row.name
    medal = f"pt-rank pt-rank-{row.rank}" if row.rank <= 3 else "pt-rank"
    return html.li(
        {
            "key": f"{row.rank}-{row.name}-{row.total}-{row.me}",
            "className": "list-cell pt-board-row pt-board-me" if row.me else "list-cell pt-board-row",
            **({"aria-current": "true"} if row.me else {}),
        },
        html.span(
            {"className": medal},
            html.span({"aria-hidden": "true"}, str(row.rank)),
            html.span({"className": "sr-only"}, ctx.t("points_ui.rank_value", rank=row.rank)),
        ),
        html.span(
            {"className": "list-cell-main"},
            html.span(
                {
                    "className": "list-cell-title pt-anonymous"
                    if row.anonymous and not row.me
                    else "list-cell-title"
                },
                name,
            ),
            # On my department's board everyone's department is mine: said once, in the heading.
            html.span({"className": "list-cell-sub"}, row.department)
            if row.department and board == BOARD_ORGANISATION
            else "",
        ),
        html.span({"className": "list-cell-extra pt-board-total"}, points_text(ctx, row.total)),
    )


@component
def PrivacySwitch(*, anonymous: bool, on_changed: Callable[[bool], None]) -> Any:
    ctx = use_app()
    busy, set_busy = use_state(False)
    error, set_error = use_state("")

    async def toggle(event: dict[str, Any]) -> None:
        if busy:
            return
        target = event.get("target")
        wanted = bool(target.get("checked", not anonymous)) if isinstance(target, dict) else not anonymous
        set_busy(True)
        try:
            await privacy_set(actor=ctx.actor, anonymous=wanted)
        except AppError as exc:
            set_error(error_text(ctx, exc))
            set_busy(False)
            return
        on_changed(wanted)

    return html.section(
        {"className": "card pt-privacy"},
        switch_row(
            switch_id="pt-anonymous",
            label=ctx.t("points_ui.anonymous_label"),
            hint=ctx.t("points_ui.anonymous_hint"),
            checked=anonymous,
            busy=busy,
            on_change=toggle,
        ),
        FormError(message=error or None),
    )


def _rates(ctx: UIContext, rates: list[DepartmentRateOut] | AppError | None) -> Any:
    if rates is None:
        return Loading(label=ctx.t("app.loading"))
    if isinstance(rates, AppError):
        return FormError(message=error_text(ctx, rates))
    shown = [rate for rate in rates if rate.with_target > 0]
    if not shown:
        return EmptyState(
            icon="◎", title=ctx.t("points_ui.rates_empty_title"), text=ctx.t("points_ui.rates_empty_text")
        )
    return html.ul(
        {"className": "list pt-rates", "aria-label": ctx.t("points_ui.rates_title")},
        *[
            html.li(
                {"key": str(rate.department.id), "className": "pt-rate"},
                html.div(
                    {"className": "pt-bar-head"},
                    html.span({"className": "pt-bar-name"}, rate.department.name),
                    html.span({"className": "pt-bar-amount"}, f"{rate.rate_percent}%"),
                ),
                thin_bar(rate.rate_percent / 100, key="bar"),
                html.span(
                    {"className": "list-cell-sub"},
                    ctx.t(
                        "points_ui.rate_text",
                        reached=rate.reached,
                        with_target=rate.with_target,
                        people=rate.people,
                    ),
                ),
            )
            for rate in shown
        ],
    )
