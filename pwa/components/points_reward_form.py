"""The reward form (HR): name, description, cost, stock, a per-person limit and who may redeem it
(levels and departments; none chosen means everyone). Creates a reward or changes one."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from reactpy import component, event, html, use_state

from backend.lib.errors import AppError
from backend.lib.policy import Actor
from backend.points.catalogue import DESCRIPTION_MAX, NAME_MAX, redemptions_for_decision, reward_update
from backend.points.redemptions import TAKING_STATES, reward_create
from backend.points.rules import CAP_MAX
from backend.points.schemas import RewardOut
from pwa.components.admin_widgets import no_errors
from pwa.components.points_admin_widgets import (
    Checked,
    Fields,
    ScopeChoices,
    card_fieldset,
    use_form,
    whole_number,
)
from pwa.components.widgets import FormError
from pwa.context import UIContext, use_app

_UNKNOWN = object()
FIELDS = {
    "name": "name",
    "description": "description",
    "cost": "cost",
    "stock": "stock",
    "per_person_limit": "per_person_limit",
    "eligible_level_ids": "levels",
    "eligible_department_ids": "departments",
}


async def stock_total(*, actor: Actor | None, reward: RewardOut) -> int | None:
    """The reward's whole stock, which an update writes back (None: unlimited).

    RewardOut names the units left; until it names the whole stock too (asked of the lead in the
    session report), the whole is the units left plus the units taken by redemptions not rejected.
    Writing that back changes nothing, even where HR had lowered the stock below what was taken:
    either way the next redemption is refused.
    """
    whole = getattr(reward, "stock", _UNKNOWN)
    if whole is not _UNKNOWN:
        return cast(int | None, whole)
    if reward.stock_left is None:
        return None
    taken, page = 0, 1
    while True:
        found = await redemptions_for_decision(actor=actor, states=TAKING_STATES, page=page)
        taken += sum(1 for item in found.items if item.reward.id == reward.id)
        if page >= found.pages:
            return reward.stock_left + taken
        page += 1


def _ids(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.isdigit()]


def _initial(reward: RewardOut | None, stock: int | None) -> dict[str, str]:
    if reward is None:
        return {
            "name": "",
            "description": "",
            "cost": "",
            "stock": "",
            "per_person_limit": "",
            "levels": "",
            "departments": "",
        }
    return {
        "name": reward.name,
        "description": reward.description,
        "cost": str(reward.cost),
        "stock": "" if stock is None else str(stock),
        "per_person_limit": "" if reward.per_person_limit is None else str(reward.per_person_limit),
        "levels": ",".join(map(str, reward.eligible_level_ids)),
        "departments": ",".join(map(str, reward.eligible_department_ids)),
    }


@component
def RewardForm(
    *,
    reward: RewardOut | None,
    stock: int | None,
    choices: ScopeChoices,
    on_saved: Callable[[str], None],
    on_cancel: Callable[[], None],
) -> Any:
    ctx = use_app()
    form = use_form(lambda: _initial(reward, stock))
    errors, set_errors = use_state(no_errors)
    form_error, set_form_error = use_state("")
    busy, set_busy = use_state(False)
    prefix = f"reward-{reward.id}" if reward else "reward-new"

    async def save() -> str:
        values = form.latest.current
        checked = Checked(ctx, FIELDS)
        if not values["name"].strip():
            checked.errors["name"] = ctx.t("error.required")
        cost = checked.run(lambda: whole_number(values["cost"], "cost", 1, CAP_MAX))
        stock = checked.run(lambda: whole_number(values["stock"], "stock", 0, CAP_MAX, required=False))
        limit = checked.run(
            lambda: whole_number(values["per_person_limit"], "per_person_limit", 1, CAP_MAX, required=False)
        )
        if checked.errors:
            raise _Refused(checked.errors)
        terms: dict[str, Any] = {
            "name": values["name"],
            "cost": int(cost),
            "description": values["description"],
            "stock": stock,
            "eligible_level_ids": _ids(values["levels"]),
            "eligible_department_ids": _ids(values["departments"]),
            "per_person_limit": limit,
        }
        try:
            if reward is None:
                await reward_create(actor=ctx.actor, **terms)
                return ctx.t("pcatalogue.created", name=values["name"].strip())
            await reward_update(actor=ctx.actor, reward_id=reward.id, active=reward.active, **terms)
            return ctx.t("pcatalogue.updated", name=values["name"].strip())
        except AppError as exc:
            checked.add(exc)
            raise _Refused(checked.errors) from None

    @event(prevent_default=True)
    async def submit(_event: dict[str, Any]) -> None:
        set_busy(True)
        try:
            message = await save()
        except _Refused as refused:
            found = dict(refused.errors)
            set_form_error(found.pop("form", "") or ctx.t("padmin.fix_errors"))
            set_errors(found)
            set_busy(False)
            return
        on_saved(message)  # the page closes this form

    def toggle(key: str, item_id: int) -> Callable[[dict[str, Any]], None]:
        def handler(event_data: dict[str, Any]) -> None:
            chosen = set(_ids(form.latest.current[key]))
            chosen = chosen | {item_id} if event_data["target"].get("checked") else chosen - {item_id}
            form.change(key, ",".join(map(str, sorted(chosen))))

        return handler

    fields = Fields(prefix=prefix, values=form.values, errors=errors, on_change=form.change, busy=busy)
    title_id = f"{prefix}-title"
    return html.form(
        {"onSubmit": submit, "aria-labelledby": title_id, "noValidate": True},
        html.h2(
            {"id": title_id},
            ctx.t("pcatalogue.edit_title", name=reward.name) if reward else ctx.t("pcatalogue.new"),
        ),
        FormError(message=form_error or None),
        card_fieldset(
            ctx.t("pcatalogue.what"),
            fields.text("name", ctx.t("pcatalogue.name"), maxLength=NAME_MAX),
            fields.area("description", ctx.t("pcatalogue.description"), max_length=DESCRIPTION_MAX),
            fields.text("cost", ctx.t("pcatalogue.cost"), kind="number", min=1, max=CAP_MAX),
            fields.text(
                "stock",
                ctx.t("pcatalogue.stock"),
                kind="number",
                min=0,
                max=CAP_MAX,
                hint=ctx.t("pcatalogue.stock_hint"),
            ),
            fields.text(
                "per_person_limit",
                ctx.t("pcatalogue.limit"),
                kind="number",
                min=1,
                max=CAP_MAX,
                hint=ctx.t("pcatalogue.limit_hint"),
            ),
        ),
        card_fieldset(
            ctx.t("pcatalogue.who"),
            html.p({"className": "muted"}, ctx.t("pcatalogue.who_hint")),
            _chips(
                ctx,
                prefix,
                "levels",
                ctx.t("admin.level"),
                [(lv.id, lv.name, 0) for lv in choices.levels],
                fields,
                toggle,
            ),
            _chips(
                ctx,
                prefix,
                "departments",
                ctx.t("admin.department"),
                [(d.id, d.name, d.depth) for d in choices.departments],
                fields,
                toggle,
            ),
        ),
        html.div(
            {"className": "toolbar"},
            html.button(
                {"type": "submit", "className": "btn btn-primary", "disabled": busy},
                ctx.t("common.saving") if busy else ctx.t("pcatalogue.save"),
            ),
            html.button(
                {"type": "button", "className": "btn", "onClick": lambda _event: on_cancel()},
                ctx.t("common.cancel"),
            ),
        ),
    )


def _chips(
    ctx: UIContext,
    prefix: str,
    key: str,
    label: str,
    items: list[tuple[int, str, int]],
    fields: Fields,
    toggle: Callable[[str, int], Any],
) -> Any:
    """Checkbox chips (departments indented as a tree) with the field's error under them."""
    chosen = set(_ids(fields.values.get(key, "")))
    error = fields.errors.get(key, "")
    error_id = f"{prefix}-{key}-error"
    return html.div(
        {
            "role": "group",
            "aria-label": label,
            "className": "field",
            **({"aria-describedby": error_id} if error else {}),
        },
        html.span({"className": "field-label", "aria-hidden": "true"}, label),
        html.div(
            {"className": "toolbar"},
            *[
                html.label(
                    {
                        "key": str(item_id),
                        "className": "chip",
                        "htmlFor": f"{prefix}-{key}-{item_id}",
                        **({"style": {"marginLeft": f"{depth * 1.25}em"}} if depth else {}),
                    },
                    html.input(
                        {
                            "id": f"{prefix}-{key}-{item_id}",
                            "type": "checkbox",
                            "checked": item_id in chosen,
                            "onChange": toggle(key, item_id),
                            "disabled": fields.busy,
                        }
                    ),
                    name,
                )
                for item_id, name, depth in items
            ],
        ),
        html.div({"id": error_id, "className": "field-error"}, error) if error else "",
    )


class _Refused(Exception):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("refused")
        self.errors = errors
