"""The reward catalogue for HR: approved redemptions to hand over (recorded after confirming), and
the rewards themselves — add, change, take out of the catalogue (after confirming) or put back."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from reactpy import component, html, use_state

from backend.lib.errors import AppError, PermissionDenied
from backend.lib.policy import ROLE_HR_ADMIN, actor_require
from backend.org.schemas import Page
from backend.points.catalogue import redemptions_for_decision, reward_list, reward_update
from backend.points.redemptions import STATE_APPROVED, redemption_fulfil
from backend.points.schemas import RedemptionOut, RewardOut
from pwa.components.admin_widgets import NoPermission, use_loaded
from pwa.components.points_admin_widgets import (
    ConfirmStep,
    ScopeChoices,
    joined,
    local_time,
    points_frame,
    scope_choices,
)
from pwa.components.points_reward_form import RewardForm, stock_total
from pwa.components.widgets import EmptyState, FormError, Loading, Pager, Toast, error_text
from pwa.context import UIContext, use_app

ACTIVE = "admin/points_admin"
BACK = "/admin/points"


@dataclass(frozen=True)
class _Stock:
    reward_id: int
    whole: int | None  # the reward's whole stock (None: unlimited)


@component
def CataloguePage() -> Any:
    ctx = use_app()
    actor = actor_require(ctx.actor)
    editing, set_editing = use_state("")  # "", "new" or a reward id
    written, set_written = use_state(0)
    message, set_message = use_state("")
    page, set_page = use_state(1)
    hr = actor.has(ROLE_HR_ADMIN)

    async def rewards_load() -> list[RewardOut]:
        if not hr:
            raise PermissionDenied()
        return await reward_list(actor=actor, include_inactive=True)

    async def waiting_load() -> Page[RedemptionOut]:
        if not hr:
            raise PermissionDenied()
        return await redemptions_for_decision(actor=actor, states=(STATE_APPROVED,), page=page)

    rewards = use_loaded(rewards_load, [actor.account_id, written])
    waiting = use_loaded(waiting_load, [actor.account_id, written, page])
    choices = use_loaded(lambda: scope_choices(actor), [actor.account_id])
    edited = (
        next((item for item in rewards if str(item.id) == editing), None)
        if isinstance(rewards, list)
        else None
    )

    async def stock_load() -> _Stock | None:
        if edited is None:
            return None
        return _Stock(reward_id=edited.id, whole=await stock_total(actor=actor, reward=edited))

    loaded = use_loaded(stock_load, [editing, edited is not None, written])
    # The answer for the reward being edited (a previous edit's may still be showing).
    stock = (
        loaded
        if isinstance(loaded, _Stock) and edited is not None and loaded.reward_id == edited.id
        else None
    )
    title = ctx.t("padmin.catalogue.title")
    if not hr or isinstance(rewards, PermissionDenied):
        return points_frame(ctx, active=ACTIVE, title=title, children=[NoPermission()])

    def saved(text: str) -> None:
        set_editing("")
        set_message(text)
        set_written(lambda value: value + 1)

    editor: Any = ""
    if editing == "new" or isinstance(stock, _Stock):
        editor = (
            html.div(
                {"className": "card"},
                RewardForm(
                    key=f"reward-form-{editing}",
                    reward=edited,
                    stock=stock.whole if isinstance(stock, _Stock) else None,
                    choices=choices,
                    on_saved=saved,
                    on_cancel=lambda: set_editing(""),
                ),
            )
            if isinstance(choices, ScopeChoices)
            else Loading(label=ctx.t("app.loading"))
        )
    elif editing:
        editor = Loading(label=ctx.t("app.loading"))
    add = (
        ""
        if editing
        else html.button(
            {"type": "button", "className": "btn btn-primary", "onClick": lambda _event: set_editing("new")},
            ctx.t("pcatalogue.new"),
        )
    )
    return points_frame(
        ctx,
        active=ACTIVE,
        title=title,
        back_href=BACK,
        back_label=ctx.t("padmin.back"),
        children=[
            Toast(message=message or None),
            html.section(
                {"aria-labelledby": "fulfil-title"},
                html.h2({"id": "fulfil-title"}, ctx.t("pcatalogue.fulfil_title")),
                _waiting(ctx, waiting, on_page=set_page, on_saved=saved),
            ),
            html.section(
                {"aria-labelledby": "rewards-title"},
                html.h2({"id": "rewards-title"}, ctx.t("pcatalogue.rewards_title")),
                add,
                editor,
                _rewards(ctx, rewards, choices, on_edit=set_editing, on_saved=saved),
            ),
        ],
    )


def _waiting(
    ctx: UIContext,
    waiting: Page[RedemptionOut] | AppError | None,
    *,
    on_page: Any,
    on_saved: Callable[[str], None],
) -> Any:
    if waiting is None:
        return Loading(label=ctx.t("app.loading"))
    if isinstance(waiting, AppError):
        return FormError(message=error_text(ctx, waiting))
    if not waiting.items:
        return EmptyState(
            icon="📦", title=ctx.t("pcatalogue.fulfil_empty"), text=ctx.t("pcatalogue.fulfil_empty_text")
        )
    return html.div(
        html.ul(
            {"className": "list", "aria-label": ctx.t("pcatalogue.fulfil_title")},
            *[_waiting_cell(ctx, item, on_saved) for item in waiting.items],
        ),
        Pager(ctx=ctx, page=waiting.page, pages=waiting.pages, total=waiting.total, on_page=on_page)
        if waiting.pages > 1
        else "",
    )


def _waiting_cell(ctx: UIContext, item: RedemptionOut, on_saved: Callable[[str], None]) -> Any:
    title_id = f"fulfil-{item.id}-title"
    names = {"name": item.employee.name, "reward": item.reward.name}

    async def fulfil(_reason: str) -> None:
        await redemption_fulfil(actor=ctx.actor, redemption_id=item.id)
        on_saved(ctx.t("pcatalogue.fulfilled", **names))

    approved = ctx.t(
        "pcatalogue.approved_by",
        name=item.decided_by.name if item.decided_by else "",
        time=local_time(ctx, item.decided_at),
    )
    return html.li(
        {"key": str(item.id), "className": "list-cell", "aria-labelledby": title_id},
        html.div(
            {"className": "list-cell-main"},
            html.h3(
                {"id": title_id, "className": "list-cell-title"},
                ctx.t("papprove.title_line", points=item.points, **names),
            ),
            html.span({"className": "list-cell-sub"}, item.department.name if item.department else ""),
            html.span({"className": "list-cell-sub"}, approved),
            ConfirmStep(
                label=ctx.t("pcatalogue.fulfil"),
                aria_label=ctx.t("pcatalogue.fulfil_label", **names),
                question=ctx.t("pcatalogue.fulfil_question", **names),
                confirm_label=ctx.t("pcatalogue.fulfil_confirm"),
                field_id=f"fulfil-{item.id}",
                danger=False,
                on_confirm=fulfil,
            )
            if item.can_fulfil
            else "",
        ),
    )


def _rewards(
    ctx: UIContext,
    rewards: list[RewardOut] | AppError | None,
    choices: Any,
    *,
    on_edit: Callable[[str], None],
    on_saved: Callable[[str], None],
) -> Any:
    if rewards is None:
        return Loading(label=ctx.t("app.loading"))
    if isinstance(rewards, AppError):
        return FormError(message=error_text(ctx, rewards))
    if not rewards:
        return EmptyState(icon="🎁", title=ctx.t("pcatalogue.empty"), text=ctx.t("pcatalogue.empty_text"))
    known = (
        choices
        if isinstance(choices, ScopeChoices)
        else ScopeChoices(departments=[], positions=[], levels=[])
    )
    return html.div(
        html.p({"className": "muted", "aria-live": "polite"}, ctx.t("pcatalogue.total", total=len(rewards))),
        html.ul(
            {"className": "list", "aria-label": ctx.t("pcatalogue.rewards_title")},
            *[_reward_cell(ctx, reward, known, on_edit, on_saved) for reward in rewards],
        ),
    )


def _who(ctx: UIContext, reward: RewardOut, choices: ScopeChoices) -> str:
    levels = {level.id: level.name for level in choices.levels}
    departments = {department.id: department.name for department in choices.departments}
    names = [levels.get(i, f"#{i}") for i in reward.eligible_level_ids] + [
        departments.get(i, f"#{i}") for i in reward.eligible_department_ids
    ]
    return ctx.t("pcatalogue.for", who=joined(ctx, names)) if names else ctx.t("pcatalogue.for_everyone")


def _reward_cell(
    ctx: UIContext,
    reward: RewardOut,
    choices: ScopeChoices,
    on_edit: Callable[[str], None],
    on_saved: Callable[[str], None],
) -> Any:
    title_id = f"reward-{reward.id}-title"

    async def set_active(active: bool) -> None:
        await reward_update(
            actor=ctx.actor,
            reward_id=reward.id,
            name=reward.name,
            cost=reward.cost,
            description=reward.description,
            stock=await stock_total(actor=ctx.actor, reward=reward),
            eligible_level_ids=reward.eligible_level_ids,
            eligible_department_ids=reward.eligible_department_ids,
            per_person_limit=reward.per_person_limit,
            active=active,
        )
        on_saved(ctx.t("pcatalogue.activated" if active else "pcatalogue.deactivated", name=reward.name))

    async def deactivate(_reason: str) -> None:
        await set_active(False)

    async def activate(_event: dict[str, Any]) -> None:
        await set_active(True)

    stock = (
        ctx.t("pcatalogue.unlimited")
        if reward.stock_left is None
        else ctx.t("pcatalogue.stock_left", count=reward.stock_left)
    )
    limit = (
        ctx.t("pcatalogue.limit_line", limit=reward.per_person_limit)
        if reward.per_person_limit is not None
        else ""
    )
    toggle = (
        ConfirmStep(
            label=ctx.t("pcatalogue.deactivate"),
            aria_label=ctx.t("pcatalogue.deactivate_label", name=reward.name),
            question=ctx.t("pcatalogue.deactivate_question", name=reward.name),
            confirm_label=ctx.t("pcatalogue.deactivate_confirm"),
            field_id=f"reward-{reward.id}-off",
            on_confirm=deactivate,
        )
        if reward.active
        else html.button(
            {
                "type": "button",
                "className": "btn",
                "onClick": activate,
                "aria-label": ctx.t("pcatalogue.activate_label", name=reward.name),
            },
            ctx.t("pcatalogue.activate"),
        )
    )
    return html.li(
        {"key": str(reward.id), "className": "list-cell", "aria-labelledby": title_id},
        html.div(
            {"className": "list-cell-main"},
            html.h3({"id": title_id, "className": "list-cell-title"}, reward.name),
            "" if reward.active else html.span({"className": "chip"}, ctx.t("pcatalogue.inactive")),
            html.span(
                {"className": "list-cell-sub"},
                " · ".join(
                    part for part in (ctx.t("pcatalogue.cost_line", cost=reward.cost), stock, limit) if part
                ),
            ),
            html.span({"className": "list-cell-sub"}, _who(ctx, reward, choices)),
            html.span({"className": "list-cell-sub"}, reward.description) if reward.description else "",
            html.div(
                {"className": "toolbar"},
                html.button(
                    {
                        "type": "button",
                        "className": "btn",
                        "onClick": lambda _event: on_edit(str(reward.id)),
                        "aria-label": ctx.t("pcatalogue.edit_label", name=reward.name),
                    },
                    ctx.t("common.edit"),
                ),
                toggle,
            ),
        ),
    )
