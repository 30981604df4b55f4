"""Redemptions to decide (HR: everyone's; a manager: their department subtree's, never their own):
approve, or reject with a reason — each after confirming; and the ones already decided."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reactpy import component, html, use_state

from backend.lib.errors import AppError, NotFound, PermissionDenied
from backend.lib.policy import ROLE_AUDITOR, ROLE_HR_ADMIN, actor_require
from backend.org.schemas import Page
from backend.points.catalogue import redemptions_for_decision
from backend.points.redemptions import (
    STATE_APPROVED,
    STATE_FULFILLED,
    STATE_PENDING,
    STATE_REJECTED,
    redemption_decide,
)
from backend.points.schemas import RedemptionOut
from pwa.components.admin_widgets import NoPermission, use_loaded
from pwa.components.points_admin_widgets import local_time, points_frame
from pwa.components.widgets import (
    EmptyState,
    FormError,
    Loading,
    Pager,
    Toast,
    error_text,
    event_value,
    field_block,
)
from pwa.context import UIContext, use_app

ACTIVE = "points/approvals"
STATES = {
    "pending": (STATE_PENDING,),
    "decided": (STATE_APPROVED, STATE_REJECTED, STATE_FULFILLED),
}
NOTE_MAX = 500


@component
def ApprovalsPage() -> Any:
    ctx = use_app()
    actor = actor_require(ctx.actor)
    tab, set_tab = use_state("pending")
    page, set_page = use_state(1)
    decided, set_decided = use_state(0)
    message, set_message = use_state("")
    may_read = actor.has(ROLE_HR_ADMIN, ROLE_AUDITOR) or bool(actor.managed_paths)

    async def load() -> Page[RedemptionOut]:
        if not may_read:
            raise PermissionDenied()
        return await redemptions_for_decision(actor=actor, states=STATES[tab], page=page)

    result = use_loaded(load, [actor.account_id, tab, page, decided])
    title = ctx.t("nav.approvals")
    if not may_read or isinstance(result, PermissionDenied | NotFound):
        return points_frame(ctx, active=ACTIVE, title=title, children=[NoPermission()])

    def choose(value: str) -> Callable[[dict[str, Any]], None]:
        def handler(_event: dict[str, Any]) -> None:
            set_tab(value)
            set_page(1)
            set_message("")

        return handler

    def done(text: str) -> None:
        set_message(text)
        set_decided(lambda value: value + 1)

    tabs = html.div(
        {"className": "toolbar", "role": "tablist", "aria-label": ctx.t("papprove.tabs")},
        *[
            html.button(
                {
                    "key": value,
                    "id": f"approvals-tab-{value}",
                    "type": "button",
                    "role": "tab",
                    "className": "chip",
                    "aria-selected": "true" if value == tab else "false",
                    "aria-controls": "approvals-panel",
                    "onClick": choose(value),
                },
                ctx.t(f"papprove.tab_{value}"),
            )
            for value in STATES
        ],
    )
    panel = html.section(
        {"id": "approvals-panel", "role": "tabpanel", "aria-labelledby": f"approvals-tab-{tab}"},
        _results(ctx, tab, result, on_page=set_page, on_done=done),
    )
    return points_frame(
        ctx, active=ACTIVE, title=title, children=[tabs, Toast(message=message or None), panel]
    )


def _results(
    ctx: UIContext, tab: str, result: Page[RedemptionOut] | AppError | None, *, on_page: Any, on_done: Any
) -> Any:
    if result is None:
        return Loading(label=ctx.t("app.loading"))
    if isinstance(result, AppError):
        return FormError(message=error_text(ctx, result))
    if not result.items:
        return EmptyState(
            icon="✓" if tab == "pending" else "🎁",
            title=ctx.t(f"papprove.empty_{tab}"),
            text=ctx.t(f"papprove.empty_{tab}_text"),
        )
    return html.div(
        html.p({"className": "muted", "aria-live": "polite"}, ctx.t("papprove.total", total=result.total)),
        html.ul(
            {"className": "list", "aria-label": ctx.t(f"papprove.tab_{tab}")},
            *[RedemptionCell(key=str(item.id), item=item, on_done=on_done) for item in result.items],
        ),
        Pager(ctx=ctx, page=result.page, pages=result.pages, total=result.total, on_page=on_page)
        if result.pages > 1
        else "",
    )


def _details(ctx: UIContext, item: RedemptionOut) -> list[str]:
    lines = [
        " · ".join(
            part
            for part in (
                item.department.name if item.department else "",
                ctx.t("papprove.points", points=item.points),
                ctx.t("papprove.requested_at", time=local_time(ctx, item.created_at)),
            )
            if part
        )
    ]
    if item.decided_at is not None:
        who = item.decided_by.name if item.decided_by else ctx.t("papprove.someone")
        lines.append(ctx.t("papprove.decided_by", name=who, time=local_time(ctx, item.decided_at)))
    if item.fulfilled_at is not None:
        lines.append(ctx.t("papprove.fulfilled_at", time=local_time(ctx, item.fulfilled_at)))
    if item.note:
        lines.append(ctx.t("papprove.note_line", note=item.note))
    return lines


@component
def RedemptionCell(*, item: RedemptionOut, on_done: Callable[[str], None]) -> Any:
    """One redemption; a pending one I may decide has 批准 and 拒绝, each asking first."""
    ctx = use_app()
    asking, set_asking = use_state("")  # "", "approve" or "reject"
    note, set_note = use_state("")
    error, set_error = use_state("")
    busy, set_busy = use_state(False)
    title_id = f"redemption-{item.id}-title"
    names = {"name": item.employee.name, "reward": item.reward.name, "points": item.points}

    async def decide(_event: dict[str, Any]) -> None:
        approve = asking == "approve"
        if not approve and not note.strip():
            set_error(ctx.t("papprove.reason_required"))
            return
        set_busy(True)
        try:
            await redemption_decide(
                actor=ctx.actor, redemption_id=item.id, approve=approve, note=note.strip()
            )
        except AppError as exc:
            set_error(error_text(ctx, exc))
            set_busy(False)
            return
        on_done(ctx.t("papprove.approved" if approve else "papprove.rejected", **names))

    def ask(mode: str) -> Callable[[dict[str, Any]], None]:
        def handler(_event: dict[str, Any]) -> None:
            set_error("")
            set_note("")
            set_asking(mode)

        return handler

    actions: Any = ""
    if item.can_decide and not asking:
        actions = html.div(
            {"className": "toolbar"},
            html.button(
                {"type": "button", "className": "btn btn-primary", "onClick": ask("approve")},
                ctx.t("papprove.approve"),
            ),
            html.button(
                {"type": "button", "className": "btn btn-danger", "onClick": ask("reject")},
                ctx.t("papprove.reject"),
            ),
        )
    elif item.can_decide:
        approve = asking == "approve"
        field_id = f"redemption-{item.id}-note"
        question_id = f"redemption-{item.id}-question"
        actions = html.div(
            {"className": "card", "role": "group", "aria-labelledby": question_id},
            html.p(
                {"id": question_id, "role": "alert"},
                ctx.t("papprove.approve_question" if approve else "papprove.reject_question", **names),
            ),
            field_block(
                field_id=field_id,
                label=ctx.t("papprove.note" if approve else "papprove.reason"),
                hint="" if approve else ctx.t("papprove.reason_hint"),
                error=error,
                control=html.textarea(
                    {
                        "id": field_id,
                        "className": "input",
                        "rows": 2,
                        "maxLength": NOTE_MAX,
                        "value": note,
                        "disabled": busy,
                        "onChange": lambda event_data: set_note(event_value(event_data)),
                    }
                ),
            ),
            html.div(
                {"className": "toolbar"},
                html.button(
                    {
                        "type": "button",
                        "className": "btn btn-primary" if approve else "btn btn-danger",
                        "disabled": busy,
                        "onClick": decide,
                    },
                    ctx.t("common.saving")
                    if busy
                    else ctx.t("papprove.approve_confirm" if approve else "papprove.reject_confirm"),
                ),
                html.button(
                    {"type": "button", "className": "btn", "onClick": lambda _event: set_asking("")},
                    ctx.t("common.cancel"),
                ),
            ),
        )
    return html.li(
        {"className": "list-cell", "aria-labelledby": title_id},
        html.div(
            {"className": "list-cell-main"},
            html.h3({"id": title_id, "className": "list-cell-title"}, ctx.t("papprove.title_line", **names)),
            html.span({"className": "chip"}, ctx.t(f"papprove.state_{item.state}")),
            *[
                html.span({"key": str(i), "className": "list-cell-sub"}, line)
                for i, line in enumerate(_details(ctx, item))
            ],
            actions,
        ),
    )
