"""The rule form: a new rule (activity, category, points, scope, caps, cooldown, dates), or a new
version of an existing rule (its activity and scope stay; the terms change from a date).

The form parses what was typed and shows each problem next to its field; the rule book service
then checks the real rules (ranges, dates, overlapping rules) and its message lands under the field
it names, or above the form.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from typing import Any

from reactpy import component, event, html, use_state

from backend.lib.errors import AppError
from backend.points.rulebook import RuleTerms, rule_create, rule_version_create
from backend.points.rules import (
    CAP_MAX,
    CATEGORIES,
    COOLDOWN_MAX_MINUTES,
    KINDS,
    PER_HOUR_KINDS,
    POINTS_MAX,
)
from backend.points.schemas import RuleOut
from pwa.components.admin_widgets import no_errors
from pwa.components.points_admin_widgets import (
    Checked,
    Fields,
    ScopeChoices,
    card_fieldset,
    category_label,
    department_choices,
    kind_label,
    optional_id,
    org_today,
    ref_options,
    typed_date,
    use_form,
    whole_number,
)
from pwa.components.widgets import FormError
from pwa.context import UIContext, use_app

CUSTOM = "custom"
NOTE_MAX = 200
CAPS = ("cap_day", "cap_month", "cap_year")
# service field -> form field (the kind is the custom code's field when a custom kind is typed)
TERM_FIELDS = {
    "category": "category",
    "points": "points",
    "cap_day": "cap_day",
    "cap_month": "cap_month",
    "cap_year": "cap_year",
    "cooldown_minutes": "cooldown_minutes",
    "effective_from": "effective_from",
    "effective_to": "effective_to",
    "note": "note",
}
SCOPE_FIELDS = {"department_id": "department", "position_id": "position", "level_id": "level"}


def _initial(ctx: UIContext, rule: RuleOut | None) -> dict[str, str]:
    today = org_today(ctx)
    if rule is None:
        return {
            "kind": "",
            "custom_kind": "",
            "category": "",
            "points": "",
            "department": "",
            "position": "",
            "level": "",
            **dict.fromkeys(CAPS, ""),
            "cooldown_minutes": "0",
            "effective_from": today.isoformat(),
            "effective_to": "",
            "note": "",
        }
    return {
        "category": rule.category,
        "points": str(rule.points),
        **{cap: "" if getattr(rule, cap) is None else str(getattr(rule, cap)) for cap in CAPS},
        "cooldown_minutes": str(rule.cooldown_minutes),
        "effective_from": max(today, rule.effective_from).isoformat(),
        "effective_to": rule.effective_to.isoformat() if rule.effective_to else "",
        "note": "",
    }


def _kind(values: dict[str, str]) -> tuple[str, str]:
    """(kind, the form field that holds it)."""
    if values.get("kind") == CUSTOM:
        return values.get("custom_kind", "").strip(), "custom_kind"
    return values.get("kind", ""), "kind"


def _cap(values: dict[str, str], cap: str) -> int | None:
    return whole_number(values[cap], cap, 1, CAP_MAX, required=False)


def _terms(checked: Checked, values: dict[str, str]) -> RuleTerms | None:
    points = checked.run(lambda: whole_number(values["points"], "points", 0, POINTS_MAX))
    caps = {cap: checked.run(functools.partial(_cap, values, cap)) for cap in CAPS}
    cooldown = checked.run(
        lambda: whole_number(
            values["cooldown_minutes"], "cooldown_minutes", 0, COOLDOWN_MAX_MINUTES, required=False
        )
    )
    starts = checked.run(lambda: typed_date(values["effective_from"], "effective_from"))
    ends = checked.run(lambda: typed_date(values["effective_to"], "effective_to"))
    if checked.errors:
        return None
    return RuleTerms(
        points=int(points),
        category=values["category"] or None,
        cap_day=caps["cap_day"],
        cap_month=caps["cap_month"],
        cap_year=caps["cap_year"],
        cooldown_minutes=cooldown or 0,
        effective_from=starts,
        effective_to=ends,
        note=values["note"],
    )


@component
def RuleForm(
    *,
    choices: ScopeChoices,
    rule: RuleOut | None,
    on_saved: Callable[[str], None],
    on_cancel: Callable[[], None],
) -> Any:
    """A new rule (`rule` None) or a new version of `rule`; `on_saved(message)` when it is written."""
    ctx = use_app()
    form = use_form(lambda: _initial(ctx, rule))
    errors, set_errors = use_state(no_errors)
    form_error, set_form_error = use_state("")
    busy, set_busy = use_state(False)
    prefix = f"rule-{rule.id}" if rule else "rule-new"

    async def save(values: dict[str, str]) -> str:
        """Writes the rule and answers the message to show; raises _Refused with the errors."""
        kind, kind_field = _kind(values)
        fields = {**TERM_FIELDS, **({} if rule else {"kind": kind_field, **SCOPE_FIELDS})}
        checked = Checked(ctx, fields)
        if rule is None and not kind:
            checked.errors[kind_field] = ctx.t("error.required")
        terms = _terms(checked, values)
        if checked.errors or terms is None:
            raise _Refused(checked.errors)
        try:
            if rule is None:
                await rule_create(
                    actor=ctx.actor,
                    kind=kind,
                    terms=terms,
                    department_id=optional_id(values["department"]),
                    position_id=optional_id(values["position"]),
                    level_id=optional_id(values["level"]),
                )
                return ctx.t("padmin.rules.created", kind=kind_label(ctx, kind))
            await rule_version_create(actor=ctx.actor, rule_id=rule.id, terms=terms)
            return ctx.t("padmin.rules.versioned", kind=kind_label(ctx, rule.kind), version=rule.version + 1)
        except AppError as exc:
            checked.add(exc)
            raise _Refused(checked.errors) from None

    @event(prevent_default=True)
    async def submit(_event: dict[str, Any]) -> None:
        set_busy(True)
        try:
            message = await save(form.latest.current)
        except _Refused as refused:
            found = dict(refused.errors)
            set_form_error(found.pop("form", "") or ctx.t("padmin.fix_errors"))
            set_errors(found)
            set_busy(False)
            return
        on_saved(message)  # the parent closes this form: no render of it follows

    fields = Fields(prefix=prefix, values=form.values, errors=errors, on_change=form.change, busy=busy)
    kind, _field = _kind(form.values)
    title = (
        ctx.t("padmin.rules.version_title", kind=kind_label(ctx, rule.kind), version=rule.version + 1)
        if rule
        else ctx.t("padmin.rules.new")
    )
    title_id = f"{prefix}-title"
    return html.form(
        {"onSubmit": submit, "aria-labelledby": title_id, "noValidate": True},
        html.h3({"id": title_id}, title),
        FormError(message=form_error or None),
        _what(ctx, fields, rule, kind),
        "" if rule else _scope(ctx, fields, choices),
        card_fieldset(
            ctx.t("padmin.rules.limits"),
            *[
                fields.text(cap, ctx.t(f"padmin.rules.{cap}"), kind="number", min=1, max=CAP_MAX)
                for cap in CAPS
            ],
            fields.text(
                "cooldown_minutes",
                ctx.t("padmin.rules.cooldown_minutes"),
                kind="number",
                min=0,
                hint=ctx.t("padmin.rules.cooldown_hint"),
            ),
        ),
        card_fieldset(
            ctx.t("padmin.rules.dates"),
            fields.text("effective_from", ctx.t("padmin.rules.effective_from"), kind="date"),
            fields.text(
                "effective_to",
                ctx.t("padmin.rules.effective_to"),
                kind="date",
                hint=ctx.t("padmin.rules.to_hint"),
            ),
            fields.area("note", ctx.t("padmin.rules.note"), max_length=NOTE_MAX, rows=2),
        ),
        html.div(
            {"className": "toolbar"},
            html.button(
                {"type": "submit", "className": "btn btn-primary", "disabled": busy},
                ctx.t("common.saving") if busy else ctx.t("padmin.rules.save"),
            ),
            html.button(
                {"type": "button", "className": "btn", "onClick": lambda _event: on_cancel()},
                ctx.t("common.cancel"),
            ),
        ),
    )


def _what(ctx: UIContext, fields: Fields, rule: RuleOut | None, kind: str) -> Any:
    per_hour = kind in PER_HOUR_KINDS or (rule is not None and rule.per_hour)
    categories = [
        ("", ctx.t("padmin.rules.category_default")),
        *[(c, category_label(ctx, c)) for c in CATEGORIES],
    ]
    kinds = [
        ("", ctx.t("padmin.rules.choose_kind")),
        *[(value, kind_label(ctx, value)) for value in KINDS],
        (CUSTOM, ctx.t("padmin.rules.custom")),
    ]
    return card_fieldset(
        ctx.t("padmin.rules.what"),
        "" if rule else fields.select("kind", ctx.t("padmin.rules.kind"), kinds),
        fields.text(
            "custom_kind",
            ctx.t("padmin.rules.custom_kind"),
            hint=ctx.t("padmin.rules.custom_hint"),
            maxLength=40,
            autoComplete="off",
        )
        if rule is None and fields.values.get("kind") == CUSTOM
        else "",
        fields.select("category", ctx.t("padmin.rules.category"), categories),
        fields.text(
            "points",
            ctx.t("padmin.rules.points_per_hour" if per_hour else "padmin.rules.points"),
            kind="number",
            min=0,
            max=POINTS_MAX,
            hint=ctx.t("padmin.rules.points_hint", max=POINTS_MAX),
        ),
    )


def _scope(ctx: UIContext, fields: Fields, choices: ScopeChoices) -> Any:
    return card_fieldset(
        ctx.t("padmin.rules.scope"),
        html.p({"className": "muted"}, ctx.t("padmin.rules.scope_hint")),
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
            "level", ctx.t("admin.level"), ref_options(ctx, choices.levels, everyone_key="padmin.all_levels")
        ),
    )


class _Refused(Exception):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("refused")
        self.errors = errors


def today_version_start(ctx: UIContext, rule: RuleOut) -> dt.date:
    """When a change made today takes effect: today, or the rule's own start if that is later."""
    return max(org_today(ctx), rule.effective_from)
