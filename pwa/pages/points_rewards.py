"""兑换奖励: the reward catalogue (cost, stock, who may redeem, my limit), redeeming after a
confirmation dialog, and my redemptions with their states, paged through `?page=`.

A reward I cannot redeem says why next to its (disabled) button; when the server still refuses
(someone took the last one a moment ago), the dialog shows its message.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from reactpy import component, html, use_state

from backend.lib.errors import AppError, NotFound
from backend.lib.policy import actor_require
from backend.org.schemas import Page
from backend.points.catalogue import redemptions_mine, reward_list
from backend.points.redemptions import redemption_request
from backend.points.schemas import PointsMeOut, RedemptionOut, RewardOut
from backend.points.selectors import points_me
from pwa.components.admin_widgets import use_loaded
from pwa.components.points_widgets import points_text, redemption_badge, signed_points
from pwa.components.reflection_widgets import date_text, href_with, link_pager, query_page, section_heading
from pwa.components.shell import AppShell, PageHeader
from pwa.components.widgets import EmptyState, FormError, Loading, Toast, error_text
from pwa.context import UIContext, use_app

PATH = "/points/rewards"


def refusal(ctx: UIContext, reward: RewardOut, balance: int | None) -> str:
    """Why I cannot redeem this reward now ("" when I can), in the words the server would use."""
    if not reward.eligible:
        return ctx.t("points_ui.reason_not_eligible")
    if reward.stock_left is not None and reward.stock_left <= 0:
        return ctx.t("points_ui.reason_out_of_stock")
    if reward.per_person_limit is not None and reward.my_count >= reward.per_person_limit:
        return ctx.t("points_ui.reason_limit", limit=reward.per_person_limit)
    if balance is not None and balance < reward.cost:
        return ctx.t("points_ui.reason_balance", short=reward.cost - balance)
    return ""


@component
def RewardsPage() -> Any:
    ctx = use_app()
    actor = actor_require(ctx.actor)
    page = query_page(ctx)
    version, set_version = use_state(0)
    asking, set_asking = use_state(cast(RewardOut | None, None))  # the reward to confirm
    toast, set_toast = use_state("")
    # After the dialog closes, focus goes back to the button that opened it (id, and a serial so
    # each closing runs its script once).
    returning, set_returning = use_state((0, 0))
    me = use_loaded(lambda: points_me(actor=actor), [actor.account_id, version])
    rewards = use_loaded(lambda: reward_list(actor=actor), [actor.account_id, version])
    mine = use_loaded(lambda: redemptions_mine(actor=actor, page=page), [actor.account_id, page, version])
    title = ctx.t("points_ui.rewards_title")

    def close(reward_id: int) -> None:
        set_asking(None)
        set_returning((reward_id, returning[1] + 1))

    def done(reward_id: int, message: str) -> None:
        close(reward_id)
        set_toast(message)
        set_version(version + 1)

    if isinstance(me, NotFound):
        body: Any = EmptyState(
            icon="★", title=ctx.t("points_ui.no_record_title"), text=ctx.t("points_ui.no_record_text")
        )
    else:
        balance = me.balance if isinstance(me, PointsMeOut) else None
        body = html.div(
            _page_body(
                _balance(ctx, me),
                html.section(
                    {"aria-labelledby": "pt-catalogue-title"},
                    section_heading("pt-catalogue-title", ctx.t("points_ui.catalogue_title")),
                    _catalogue(ctx, rewards, balance, on_redeem=set_asking),
                ),
                html.section(
                    {"aria-labelledby": "pt-mine-title"},
                    section_heading("pt-mine-title", ctx.t("points_ui.mine_title")),
                    _mine(ctx, mine),
                ),
                modal=asking is not None,
            ),
            RedeemDialog(
                key=f"dialog-{asking.id}",
                reward=asking,
                balance=balance,
                on_done=done,
                on_cancel=close,
            )
            if asking is not None
            else "",
            html.script(
                {"key": f"focus-back-{returning[1]}"},
                f"document.getElementById('pt-redeem-{returning[0]}')?.focus()",
            )
            if returning[1] and asking is None
            else "",
            Toast(message=toast or None),
        )
    return AppShell(
        ctx=ctx,
        active="points",
        title=title,
        children=html.div(
            PageHeader(title=title, back_href="/points", back_label=ctx.t("points_ui.back")), body
        ),
    )


def _page_body(*children: Any, modal: bool) -> Any:
    """The page under an open dialog is inert: no tabbing or reading behind the dialog."""
    return html.div({"inert": modal}, *children)


def _balance(ctx: UIContext, me: PointsMeOut | AppError | None) -> Any:
    if me is None:
        return Loading(label=ctx.t("app.loading"))
    if isinstance(me, AppError):
        return FormError(message=error_text(ctx, me))
    return html.div(
        {"className": "card pt-balance pt-balance-row"},
        html.span({"className": "pt-balance-label"}, ctx.t("points_ui.balance")),
        html.span({"className": "pt-balance-value"}, points_text(ctx, me.balance)),
    )


def _catalogue(
    ctx: UIContext,
    rewards: list[RewardOut] | AppError | None,
    balance: int | None,
    *,
    on_redeem: Callable[[RewardOut], None],
) -> Any:
    if rewards is None:
        return Loading(label=ctx.t("app.loading"))
    if isinstance(rewards, AppError):
        return FormError(message=error_text(ctx, rewards))
    if not rewards:
        return EmptyState(
            icon="🎁",
            title=ctx.t("points_ui.catalogue_empty_title"),
            text=ctx.t("points_ui.catalogue_empty_text"),
        )
    return html.ul(
        {"className": "pt-rewards", "aria-label": ctx.t("points_ui.catalogue_title")},
        *[_reward_card(ctx, reward, balance, on_redeem=on_redeem) for reward in rewards],
    )


def _reward_card(
    ctx: UIContext, reward: RewardOut, balance: int | None, *, on_redeem: Callable[[RewardOut], None]
) -> Any:
    reason = refusal(ctx, reward, balance)
    facts = [
        ctx.t("points_ui.stock_unlimited")
        if reward.stock_left is None
        else ctx.t("points_ui.stock_left", count=reward.stock_left),
    ]
    if reward.per_person_limit is not None:
        facts.append(ctx.t("points_ui.limit", limit=reward.per_person_limit, count=reward.my_count))
    elif reward.my_count:
        facts.append(ctx.t("points_ui.redeemed_count", count=reward.my_count))
    reason_id = f"pt-reward-{reward.id}-reason"
    return html.li(
        {"key": str(reward.id), "className": "card pt-reward"},
        html.div(
            {"className": "pt-reward-head"},
            html.h3({"className": "pt-reward-name", "id": f"pt-reward-{reward.id}-name"}, reward.name),
            html.span({"className": "pt-cost"}, points_text(ctx, reward.cost)),
        ),
        html.p({"className": "pt-reward-description"}, reward.description) if reward.description else "",
        html.p({"className": "muted pt-reward-facts"}, " · ".join(facts)),
        html.p({"id": reason_id, "className": "pt-reason"}, reason) if reason else "",
        html.button(
            {
                "type": "button",
                "id": f"pt-redeem-{reward.id}",
                "className": "btn btn-primary btn-block pt-redeem",
                "disabled": bool(reason) or balance is None,
                "aria-label": ctx.t("points_ui.redeem_label", name=reward.name, cost=reward.cost),
                **({"aria-describedby": reason_id} if reason else {}),
                "onClick": lambda _event: on_redeem(reward),
            },
            ctx.t("points_ui.redeem"),
        ),
    )


@component
def RedeemDialog(
    *,
    reward: RewardOut,
    balance: int | None,
    on_done: Callable[[int, str], None],
    on_cancel: Callable[[int], None],
) -> Any:
    """Asks before holding the points; the server's refusal, if any, is shown here as an alert."""
    ctx = use_app()
    busy, set_busy = use_state(False)
    error, set_error = use_state("")

    async def confirm(_event: dict[str, Any]) -> None:
        if busy:
            return
        set_busy(True)
        try:
            await redemption_request(actor=ctx.actor, reward_id=reward.id)
        except AppError as exc:
            set_error(error_text(ctx, exc))
            set_busy(False)
            return
        on_done(reward.id, ctx.t("points_ui.redeemed", name=reward.name, cost=reward.cost))

    def key_down(event: dict[str, Any]) -> None:
        if event.get("key") == "Escape" and not busy:
            on_cancel(reward.id)

    after = None if balance is None else balance - reward.cost
    return html.div(
        {"className": "pt-sheet-backdrop"},
        html.div(
            {
                "className": "pt-sheet",
                "role": "dialog",
                "aria-modal": "true",
                "aria-labelledby": "pt-dialog-title",
                "aria-describedby": "pt-dialog-text",
                "onKeyDown": key_down,
            },
            html.h2({"id": "pt-dialog-title"}, ctx.t("points_ui.confirm_title", name=reward.name)),
            html.div(
                {"id": "pt-dialog-text"},
                html.p(ctx.t("points_ui.confirm_text", cost=reward.cost)),
                html.p({"className": "muted"}, ctx.t("points_ui.confirm_after", balance=after))
                if after is not None
                else "",
            ),
            FormError(message=error or None),
            html.div(
                {"className": "pt-sheet-actions"},
                html.button(
                    {
                        "id": "pt-dialog-confirm",
                        "type": "button",
                        "className": "btn btn-primary",
                        "disabled": busy or bool(error),
                        "onClick": confirm,
                    },
                    ctx.t("points_ui.confirming") if busy else ctx.t("points_ui.confirm"),
                ),
                html.button(
                    {
                        "id": "pt-dialog-cancel",
                        "type": "button",
                        "className": "btn",
                        "disabled": busy,
                        "onClick": lambda _e: on_cancel(reward.id),
                    },
                    ctx.t("common.close") if error else ctx.t("common.cancel"),
                ),
            ),
            # Focus moves into the dialog when it opens, and to 关闭 when a refusal disables 确认.
            html.script(
                {"key": "focus-close" if error else "focus-confirm"},
                f"document.getElementById('{'pt-dialog-cancel' if error else 'pt-dialog-confirm'}')?.focus()",
            ),
        ),
    )


def _mine(ctx: UIContext, mine: Page[RedemptionOut] | AppError | None) -> Any:
    if mine is None:
        return Loading(label=ctx.t("app.loading"))
    if isinstance(mine, AppError):
        return FormError(message=error_text(ctx, mine))
    if not mine.items:
        return EmptyState(
            icon="🎁", title=ctx.t("points_ui.mine_empty_title"), text=ctx.t("points_ui.mine_empty_text")
        )
    return html.div(
        html.ul(
            {"className": "list pt-redemptions", "aria-label": ctx.t("points_ui.mine_title")},
            *[_redemption_row(ctx, item) for item in mine.items],
        ),
        link_pager(
            ctx,
            page=mine.page,
            pages=mine.pages,
            total=mine.total,
            href_for=lambda target: href_with(PATH, page=target),
        ),
    )


def _redemption_row(ctx: UIContext, item: RedemptionOut) -> Any:
    lines = [ctx.t("points_ui.requested_at", date=date_text(ctx, item.created_at))]
    if item.decided_at is not None:
        who = item.decided_by.name if item.decided_by else ""
        key = "points_ui.decided_rejected" if item.state == "rejected" else "points_ui.decided_approved"
        lines.append(ctx.t(key, name=who, date=date_text(ctx, item.decided_at)))
    if item.fulfilled_at is not None:
        lines.append(ctx.t("points_ui.fulfilled_at", date=date_text(ctx, item.fulfilled_at)))
    returned = item.state == "rejected"
    return html.li(
        {"key": str(item.id), "className": "list-cell pt-redemption"},
        html.span(
            {"className": "list-cell-main"},
            html.span({"className": "list-cell-title"}, item.reward.name),
            *[
                html.span({"key": f"line-{index}", "className": "list-cell-sub"}, line)
                for index, line in enumerate(lines)
            ],
            html.span(
                {"className": "list-cell-sub pt-redemption-note"}, ctx.t("points_ui.note", note=item.note)
            )
            if item.note
            else "",
        ),
        html.span(
            {"className": "list-cell-extra pt-redemption-extra"},
            redemption_badge(ctx, item.state),
            html.span({"className": "pt-amount"}, ctx.t("points_ui.returned", points=item.points))
            if returned
            else html.span(
                {"className": "pt-amount pt-amount-minus"},
                html.span({"aria-hidden": "true"}, signed_points(-item.points)),
                html.span({"className": "sr-only"}, ctx.t("points_ui.entry_loss", points=item.points)),
            ),
        ),
    )
