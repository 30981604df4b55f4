"""Points administration (HR; auditors read): the rule book and its versions, manual awards and
reversals, the two presets, the appraisal weight and exports, and links to targets and rewards."""

from __future__ import annotations

from typing import Any

from reactpy import component, html, use_state

from backend.lib.errors import AppError
from backend.lib.policy import ROLE_AUDITOR, ROLE_HR_ADMIN, actor_require
from backend.points.rulebook import RuleTerms, rule_list, rule_version_create
from backend.points.rules import KINDS
from backend.points.schemas import RuleOut
from pwa.components.admin_widgets import NoPermission, use_loaded
from pwa.components.points_admin_widgets import (
    ConfirmStep,
    category_label,
    kind_label,
    points_frame,
    scope_choices,
    scope_text,
)
from pwa.components.points_award_form import AwardForm
from pwa.components.points_rule_form import RuleForm, today_version_start
from pwa.components.points_setup_panels import AppraisalPanel, PresetPanel
from pwa.components.widgets import EmptyState, FormError, Loading, Pager, Toast, error_text
from pwa.context import UIContext, use_app

ACTIVE = "admin/points_admin"
RULES_PAGE_SIZE = 20
TABS_HR = ("rules", "award", "presets", "appraisal")
TABS_AUDITOR = ("rules", "appraisal")


@component
def PointsAdminPage() -> Any:
    ctx = use_app()
    actor = actor_require(ctx.actor)
    editable = actor.has(ROLE_HR_ADMIN)
    tabs = TABS_HR if editable else TABS_AUDITOR
    asked = ctx.query("tab")
    tab, set_tab = use_state(asked if asked in tabs else "rules")
    title = ctx.t("padmin.title")
    if not actor.has(ROLE_HR_ADMIN, ROLE_AUDITOR):
        return points_frame(ctx, active=ACTIVE, title=title, children=[NoPermission()])
    links = html.nav(
        {"className": "toolbar", "aria-label": ctx.t("padmin.more")},
        html.a({"className": "btn", "href": "/admin/points/targets"}, ctx.t("padmin.targets.title")),
        html.a({"className": "btn", "href": "/admin/points/rewards"}, ctx.t("padmin.catalogue.title"))
        if editable
        else "",
    )
    tablist = html.div(
        {"className": "toolbar", "role": "tablist", "aria-label": ctx.t("padmin.tabs")},
        *[
            html.button(
                {
                    "key": value,
                    "id": f"padmin-tab-{value}",
                    "type": "button",
                    "role": "tab",
                    "className": "chip",
                    "aria-selected": "true" if value == tab else "false",
                    "aria-controls": "padmin-panel",
                    "onClick": lambda _event, value=value: set_tab(value),
                },
                ctx.t(f"padmin.tab_{value}"),
            )
            for value in tabs
        ],
    )
    panels = {
        "rules": lambda: RuleBook(editable=editable),
        "award": lambda: AwardPanel(),
        "presets": lambda: PresetPanel(),
        "appraisal": lambda: AppraisalPanel(editable=editable),
    }
    panel = html.section(
        {"id": "padmin-panel", "role": "tabpanel", "aria-labelledby": f"padmin-tab-{tab}"},
        panels[tab](),
    )
    return points_frame(ctx, active=ACTIVE, title=title, children=[links, tablist, panel])


# rule book ------------------------------------------------------------------------------------
@component
def RuleBook(*, editable: bool) -> Any:
    ctx = use_app()
    history, set_history = use_state(False)
    editing, set_editing = use_state("")  # "", "new", or the id of the rule getting a new version
    written, set_written = use_state(0)
    page, set_page = use_state(1)
    message, set_message = use_state("")
    rules = use_loaded(lambda: rule_list(actor=ctx.actor, history=history), [history, written])
    choices = use_loaded(lambda: scope_choices(ctx.actor), [editable])

    def saved(text: str) -> None:
        set_editing("")
        set_message(text)
        set_written(lambda value: value + 1)

    def toggle_history(_event: dict[str, Any]) -> None:
        set_history(not history)
        set_page(1)

    toolbar = html.div(
        {"className": "toolbar"},
        html.button(
            {
                "type": "button",
                "className": "chip",
                "aria-pressed": "true" if history else "false",
                "onClick": toggle_history,
            },
            ctx.t("padmin.rules.history"),
        ),
        html.button(
            {"type": "button", "className": "btn btn-primary", "onClick": lambda _event: set_editing("new")},
            ctx.t("padmin.rules.new"),
        )
        if editable and editing != "new"
        else "",
    )
    form: Any = ""
    if editable and editing and not isinstance(choices, AppError) and choices is not None:
        current = None
        if editing != "new" and isinstance(rules, list):
            current = next((rule for rule in rules if str(rule.id) == editing), None)
        if editing == "new" or current is not None:
            form = html.div(
                {"className": "card"},
                RuleForm(
                    key=f"rule-form-{editing}",
                    choices=choices,
                    rule=current,
                    on_saved=saved,
                    on_cancel=lambda: set_editing(""),
                ),
            )
    return html.div(
        html.h2({"className": "sr-only"}, ctx.t("padmin.rules.title")),
        toolbar,
        form if editing == "new" else "",
        Toast(message=message or None),
        _rule_list(
            ctx,
            rules,
            page=page,
            on_page=set_page,
            editable=editable,
            editing=editing,
            form=form,
            on_edit=set_editing,
            on_saved=saved,
        ),
    )


def _rule_list(
    ctx: UIContext,
    rules: list[RuleOut] | AppError | None,
    *,
    page: int,
    on_page: Any,
    editable: bool,
    editing: str,
    form: Any,
    on_edit: Any,
    on_saved: Any,
) -> Any:
    if rules is None:
        return Loading(label=ctx.t("app.loading"))
    if isinstance(rules, AppError):
        return FormError(message=error_text(ctx, rules))
    if not rules:
        return EmptyState(icon="📘", title=ctx.t("padmin.rules.empty"), text=ctx.t("padmin.rules.empty_text"))
    pages = max(1, -(-len(rules) // RULES_PAGE_SIZE))
    page = min(page, pages)
    shown = rules[(page - 1) * RULES_PAGE_SIZE : page * RULES_PAGE_SIZE]
    return html.div(
        html.p({"className": "muted", "aria-live": "polite"}, ctx.t("padmin.rules.total", total=len(rules))),
        html.ul(
            {"className": "list", "aria-label": ctx.t("padmin.rules.title")},
            *[
                _rule_cell(
                    ctx,
                    rule,
                    editable=editable,
                    on_edit=on_edit,
                    on_saved=on_saved,
                    form=form if editing == str(rule.id) else "",
                )
                for rule in shown
            ],
        ),
        Pager(ctx=ctx, page=page, pages=pages, total=len(rules), on_page=on_page) if pages > 1 else "",
    )


def _rule_lines(ctx: UIContext, rule: RuleOut) -> list[str]:
    unit = "padmin.rules.per_hour" if rule.per_hour else "padmin.rules.per_award"
    lines = [
        " · ".join((ctx.t(unit, points=rule.points), category_label(ctx, rule.category))),
        ctx.t("padmin.rules.for", scope=scope_text(ctx, rule.department, rule.position, rule.level)),
    ]
    caps = [
        ctx.t(f"padmin.rules.{cap}_short", value=getattr(rule, cap))
        for cap in ("cap_day", "cap_month", "cap_year")
        if getattr(rule, cap) is not None
    ]
    if caps:
        lines.append(ctx.t("padmin.rules.caps", caps=" · ".join(caps)))
    if rule.cooldown_minutes:
        lines.append(ctx.t("padmin.rules.cooldown", minutes=rule.cooldown_minutes))
    since = rule.effective_from.isoformat()
    lines.append(
        ctx.t("padmin.rules.between", start=since, end=rule.effective_to.isoformat())
        if rule.effective_to
        else ctx.t("padmin.rules.since", start=since)
    )
    if rule.note:
        lines.append(rule.note)
    return lines


def _rule_cell(
    ctx: UIContext, rule: RuleOut, *, editable: bool, on_edit: Any, on_saved: Any, form: Any
) -> Any:
    kind = kind_label(ctx, rule.kind)
    title_id = f"rule-{rule.id}-title"
    chips = [
        html.span({"key": "v", "className": "chip"}, ctx.t("padmin.rules.version", version=rule.version))
    ]
    if not rule.active:
        chips.append(html.span({"key": "off", "className": "chip"}, ctx.t("padmin.rules.inactive")))
    if not rule.current:
        chips.append(html.span({"key": "old", "className": "chip"}, ctx.t("padmin.rules.replaced")))
    if rule.kind not in KINDS:
        chips.append(html.span({"key": "custom", "className": "chip"}, ctx.t("padmin.rules.custom_chip")))
    scope = scope_text(ctx, rule.department, rule.position, rule.level)

    async def deactivate(reason: str) -> None:
        await rule_version_create(
            actor=ctx.actor,
            rule_id=rule.id,
            terms=RuleTerms(
                points=rule.points,
                category=rule.category,
                cap_day=rule.cap_day,
                cap_month=rule.cap_month,
                cap_year=rule.cap_year,
                cooldown_minutes=rule.cooldown_minutes,
                effective_from=today_version_start(ctx, rule),
                active=False,
                note=reason,
            ),
        )
        on_saved(ctx.t("padmin.rules.deactivated", kind=kind))

    actions: list[Any] = []
    if editable and rule.current and not form:
        actions.append(
            html.button(
                {
                    "key": "edit",
                    "type": "button",
                    "className": "btn",
                    "onClick": lambda _event: on_edit(str(rule.id)),
                    "aria-label": ctx.t("padmin.rules.change_label", kind=kind, scope=scope),
                },
                ctx.t("padmin.rules.change"),
            )
        )
        if rule.active:
            actions.append(
                ConfirmStep(
                    key="off",
                    label=ctx.t("padmin.rules.deactivate"),
                    aria_label=ctx.t("padmin.rules.deactivate_label", kind=kind, scope=scope),
                    question=ctx.t(
                        "padmin.rules.deactivate_question",
                        kind=kind,
                        scope=scope,
                        date=today_version_start(ctx, rule).isoformat(),
                    ),
                    confirm_label=ctx.t("padmin.rules.deactivate_confirm"),
                    reason_label=ctx.t("padmin.rules.deactivate_reason"),
                    field_id=f"rule-{rule.id}-off-reason",
                    on_confirm=deactivate,
                )
            )
    return html.li(
        {"key": str(rule.id), "className": "list-cell", "aria-labelledby": title_id},
        html.div(
            {"className": "list-cell-main"},
            html.h3({"id": title_id, "className": "list-cell-title"}, kind),
            html.div({"className": "toolbar"}, *chips),
            *[
                html.span({"key": str(i), "className": "list-cell-sub"}, line)
                for i, line in enumerate(_rule_lines(ctx, rule))
            ],
            html.div({"className": "toolbar"}, *actions) if actions else "",
            form,
        ),
    )


# awards -----------------------------------------------------------------------------------------
@component
def AwardPanel() -> Any:
    ctx = use_app()
    rules = use_loaded(lambda: rule_list(actor=ctx.actor), [])
    if rules is None:
        return Loading(label=ctx.t("app.loading"))
    custom = (
        [rule.kind for rule in rules if rule.active and rule.kind not in KINDS]
        if isinstance(rules, list)
        else []
    )
    return AwardForm(custom_kinds=custom)
