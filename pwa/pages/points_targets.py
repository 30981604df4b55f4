"""Annual targets (HR writes; auditors read): one per year and scope, with an optional mix of
categories (percent, summing to 100) edited next to a running total; deleting asks first."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from reactpy import component, event, html, use_state

from backend.lib.errors import AppError, PermissionDenied
from backend.lib.policy import ROLE_AUDITOR, ROLE_HR_ADMIN, actor_require
from backend.points.rules import CAP_MAX, CATEGORIES
from backend.points.schemas import TargetOut
from backend.points.targets import MIX_MAX, target_delete, target_list, target_set
from pwa.components.admin_widgets import NoPermission, no_errors, use_loaded
from pwa.components.points_admin_widgets import (
    FIELDSET_STYLE,
    LEGEND_STYLE,
    Checked,
    ConfirmStep,
    Fields,
    ScopeChoices,
    card_fieldset,
    category_label,
    department_choices,
    joined,
    optional_id,
    org_today,
    points_frame,
    ref_options,
    scope_choices,
    scope_text,
    use_form,
    whole_number,
)
from pwa.components.widgets import EmptyState, FormError, Loading, Toast, error_text, event_value
from pwa.context import UIContext, use_app

ACTIVE = "admin/points_admin"
BACK = "/admin/points"
FIELDS = {
    "total": "total",
    "mix": "mix",
    "department_id": "department",
    "position_id": "position",
    "level_id": "level",
    "scope": "department",
    "year": "form",
    **{category: category for category in CATEGORIES},
}
# earnings categories a mix can ask for (every category an earning can have)
MIX_CATEGORIES = CATEGORIES


@component
def TargetsPage() -> Any:
    ctx = use_app()
    actor = actor_require(ctx.actor)
    this_year = org_today(ctx).year
    year, set_year = use_state(this_year)
    editing, set_editing = use_state("")  # "", "new" or a target id
    written, set_written = use_state(0)
    message, set_message = use_state("")
    editable = actor.has(ROLE_HR_ADMIN)
    title = ctx.t("padmin.targets.title")
    targets = use_loaded(lambda: target_list(actor=actor, year=year), [actor.account_id, year, written])
    choices = use_loaded(lambda: scope_choices(actor), [actor.account_id])
    back = {"back_href": BACK, "back_label": ctx.t("padmin.back")}
    if not actor.has(ROLE_HR_ADMIN, ROLE_AUDITOR) or isinstance(targets, PermissionDenied):
        return points_frame(ctx, active=ACTIVE, title=title, children=[NoPermission()])

    def saved(text: str) -> None:
        set_editing("")
        set_message(text)
        set_written(lambda value: value + 1)

    def pick_year(event_data: dict[str, Any]) -> None:
        set_year(int(event_value(event_data)))
        set_editing("")

    year_picker = html.div(
        {"className": "field"},
        html.label({"htmlFor": "targets-year"}, ctx.t("padmin.year")),
        html.select(
            {"id": "targets-year", "className": "input", "value": str(year), "onChange": pick_year},
            *[
                html.option({"key": str(value), "value": str(value)}, str(value))
                for value in (this_year + 1, this_year, this_year - 1)
            ],
        ),
    )
    editor: Any = ""
    if editable and editing and isinstance(choices, ScopeChoices):
        target = None
        if editing != "new" and isinstance(targets, list):
            target = next((item for item in targets if str(item.id) == editing), None)
        editor = html.div(
            {"className": "card"},
            TargetForm(
                key=f"target-form-{year}-{editing}",
                year=year,
                target=target,
                choices=choices,
                on_saved=saved,
                on_cancel=lambda: set_editing(""),
            ),
        )
    add = (
        html.button(
            {"type": "button", "className": "btn btn-primary", "onClick": lambda _event: set_editing("new")},
            ctx.t("ptargets.new", year=year),
        )
        if editable and not editing
        else ""
    )
    return points_frame(
        ctx,
        active=ACTIVE,
        title=title,
        **back,
        children=[
            html.p({"className": "muted"}, ctx.t("ptargets.text")),
            year_picker,
            add,
            editor,
            Toast(message=message or None),
            _target_list(ctx, targets, year=year, editable=editable, on_edit=set_editing, on_saved=saved),
        ],
    )


def _target_list(
    ctx: UIContext,
    targets: list[TargetOut] | AppError | None,
    *,
    year: int,
    editable: bool,
    on_edit: Callable[[str], None],
    on_saved: Callable[[str], None],
) -> Any:
    if targets is None:
        return Loading(label=ctx.t("app.loading"))
    if isinstance(targets, AppError):
        return FormError(message=error_text(ctx, targets))
    if not targets:
        return EmptyState(
            icon="🎯", title=ctx.t("ptargets.empty", year=year), text=ctx.t("ptargets.empty_text")
        )
    return html.div(
        html.p({"className": "muted", "aria-live": "polite"}, ctx.t("ptargets.total", total=len(targets))),
        html.ul(
            {"className": "list", "aria-label": ctx.t("ptargets.list", year=year)},
            *[
                _target_cell(ctx, target, editable=editable, on_edit=on_edit, on_saved=on_saved)
                for target in targets
            ],
        ),
    )


def mix_text(ctx: UIContext, mix: dict[str, int]) -> str:
    if not mix:
        return ctx.t("ptargets.no_mix")
    return joined(ctx, [f"{category_label(ctx, category)} {percent}%" for category, percent in mix.items()])


def _target_cell(
    ctx: UIContext, target: TargetOut, *, editable: bool, on_edit: Any, on_saved: Callable[[str], None]
) -> Any:
    scope = scope_text(ctx, target.department, target.position, target.level)
    title_id = f"target-{target.id}-title"

    async def delete(_reason: str) -> None:
        await target_delete(actor=ctx.actor, target_id=target.id)
        on_saved(ctx.t("ptargets.deleted", scope=scope))

    actions = (
        html.div(
            {"className": "toolbar"},
            html.button(
                {
                    "type": "button",
                    "className": "btn",
                    "onClick": lambda _event: on_edit(str(target.id)),
                    "aria-label": ctx.t("ptargets.edit_label", scope=scope),
                },
                ctx.t("common.edit"),
            ),
            ConfirmStep(
                label=ctx.t("common.delete"),
                aria_label=ctx.t("ptargets.delete_label", scope=scope),
                question=ctx.t("ptargets.delete_question", scope=scope, year=target.year),
                confirm_label=ctx.t("ptargets.delete_confirm"),
                field_id=f"target-{target.id}-delete",
                on_confirm=delete,
            ),
        )
        if editable
        else ""
    )
    return html.li(
        {"key": str(target.id), "className": "list-cell", "aria-labelledby": title_id},
        html.div(
            {"className": "list-cell-main"},
            html.h3({"id": title_id, "className": "list-cell-title"}, scope),
            html.span({"className": "list-cell-sub"}, ctx.t("ptargets.points", total=target.total)),
            html.span({"className": "list-cell-sub"}, mix_text(ctx, target.mix)),
            actions,
        ),
    )


def _initial(target: TargetOut | None) -> dict[str, str]:
    if target is None:
        return {
            "department": "",
            "position": "",
            "level": "",
            "total": "",
            **dict.fromkeys(MIX_CATEGORIES, ""),
        }
    return {
        "department": str(target.department.id) if target.department else "",
        "position": str(target.position.id) if target.position else "",
        "level": str(target.level.id) if target.level else "",
        "total": str(target.total),
        **{
            category: str(target.mix[category]) if target.mix.get(category) else ""
            for category in MIX_CATEGORIES
        },
    }


def _share(values: dict[str, str], category: str) -> int | None:
    return whole_number(values[category], category, 0, MIX_MAX, required=False)


def _mix_sum(values: dict[str, str]) -> int | None:
    """The sum of the typed shares, or None while one is not a whole number."""
    try:
        return sum(int(values[category].strip() or 0) for category in MIX_CATEGORIES)
    except ValueError:
        return None


@component
def TargetForm(
    *,
    year: int,
    target: TargetOut | None,
    choices: ScopeChoices,
    on_saved: Callable[[str], None],
    on_cancel: Callable[[], None],
) -> Any:
    ctx = use_app()
    form = use_form(lambda: _initial(target))
    errors, set_errors = use_state(no_errors)
    form_error, set_form_error = use_state("")
    busy, set_busy = use_state(False)

    async def save() -> str:
        values = form.latest.current
        checked = Checked(ctx, FIELDS)
        total = checked.run(lambda: whole_number(values["total"], "total", 1, CAP_MAX))
        mix: dict[str, int] = {}
        for category in MIX_CATEGORIES:
            share = checked.run(functools.partial(_share, values, category))
            if share:
                mix[category] = share
        # The sum of the shares is the service's to judge (its message lands under the mix).
        if checked.errors:
            raise _Refused(checked.errors)
        try:
            await target_set(
                actor=ctx.actor,
                year=year,
                total=int(total),
                mix=mix,
                department_id=optional_id(values["department"]),
                position_id=optional_id(values["position"]),
                level_id=optional_id(values["level"]),
            )
        except AppError as exc:
            checked.add(exc)
            raise _Refused(checked.errors) from None
        return ctx.t("ptargets.saved", year=year, total=total)

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

    fields = Fields(prefix="target", values=form.values, errors=errors, on_change=form.change, busy=busy)
    typed = _mix_sum(form.values)
    mix_error = errors.get("mix", "")
    status = (
        ctx.t("ptargets.mix_status", sum=typed) if typed is not None else ctx.t("ptargets.mix_unreadable")
    )
    title = ctx.t("ptargets.edit_title" if target else "ptargets.new", year=year)
    return html.form(
        {"onSubmit": submit, "aria-labelledby": "target-form-title", "noValidate": True},
        html.h2({"id": "target-form-title"}, title),
        FormError(message=form_error or None),
        card_fieldset(
            ctx.t("padmin.rules.scope"),
            html.p({"className": "muted"}, ctx.t("ptargets.scope_hint")),
            fields.select(
                "department",
                ctx.t("admin.department"),
                department_choices(ctx, choices.departments, everyone_key="padmin.all_departments"),
            ),
            fields.select(
                "position",
                ctx.t("admin.position"),
                ref_options(ctx, choices.positions, everyone_key="padmin.all_positions"),
            ),
            fields.select(
                "level",
                ctx.t("admin.level"),
                ref_options(ctx, choices.levels, everyone_key="padmin.all_levels"),
            ),
            fields.text("total", ctx.t("ptargets.total_label"), kind="number", min=1, max=CAP_MAX),
        ),
        html.div(
            {"className": "card"},
            html.fieldset(
                {
                    "style": FIELDSET_STYLE,
                    "aria-describedby": "target-mix-status target-mix-error"
                    if mix_error
                    else "target-mix-status",
                },
                html.legend({"style": LEGEND_STYLE}, ctx.t("ptargets.mix")),
                html.p({"className": "muted"}, ctx.t("ptargets.mix_hint")),
                *[
                    fields.text(
                        category,
                        ctx.t("ptargets.share", category=category_label(ctx, category)),
                        kind="number",
                        min=0,
                        max=MIX_MAX,
                    )
                    for category in MIX_CATEGORIES
                ],
                html.p(
                    {
                        "id": "target-mix-status",
                        "role": "status",
                        "aria-live": "polite",
                        "className": "field-hint",
                    },
                    status,
                ),
                html.div({"id": "target-mix-error", "className": "field-error"}, mix_error)
                if mix_error
                else "",
            ),
        ),
        html.div(
            {"className": "toolbar"},
            html.button(
                {"type": "submit", "className": "btn btn-primary", "disabled": busy},
                ctx.t("common.saving") if busy else ctx.t("ptargets.save"),
            ),
            html.button(
                {"type": "button", "className": "btn", "onClick": lambda _event: on_cancel()},
                ctx.t("common.cancel"),
            ),
        ),
    )


class _Refused(Exception):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("refused")
        self.errors = errors
