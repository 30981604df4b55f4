"""Manual awards (HR): choose a person, an activity outside the app, its date and a note; then that
person's recent ledger, where an entry can be reversed with a reason (after confirming)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reactpy import component, event, html, use_state

from backend.lib.errors import AppError
from backend.org.schemas import EmployeeOut, Page, Ref
from backend.org.selectors import employee_list
from backend.points.awards import award_manual, entry_reverse
from backend.points.ledger import STATUS_AWARDED, STATUS_PARTIAL
from backend.points.rules import CATEGORY_REDEMPTION, MANUAL_KINDS
from backend.points.schemas import LedgerEntryOut
from backend.points.selectors import ledger_page
from pwa.components.admin_widgets import no_errors, use_loaded
from pwa.components.points_admin_widgets import (
    Checked,
    ConfirmStep,
    Fields,
    card_fieldset,
    category_label,
    kind_label,
    local_time,
    org_today,
    typed_date,
    use_form,
)
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

NOTE_MAX = 500
PICKER_RESULTS = 8
SEARCH_MAX = 50
FIELDS = {"employee_id": "employee", "kind": "kind", "occurred_on": "occurred_on", "note": "note"}


def manual_kinds(custom_kinds: list[str]) -> list[str]:
    """What HR may award by hand: the built-in manual kinds, then the custom kinds of the rule book."""
    return sorted(MANUAL_KINDS) + sorted(set(custom_kinds) - MANUAL_KINDS)


def _no_person() -> Ref | None:
    return None


@component
def AwardForm(*, custom_kinds: list[str]) -> Any:
    ctx = use_app()
    person, set_person = use_state(_no_person)
    form = use_form(lambda: {"kind": "", "occurred_on": org_today(ctx).isoformat(), "note": ""})
    errors, set_errors = use_state(no_errors)
    form_error, set_form_error = use_state("")
    outcome, set_outcome = use_state("")
    busy, set_busy = use_state(False)
    written, set_written = use_state(0)  # bumps when an award lands, so the ledger below reloads

    def choose(chosen: Ref | None) -> None:
        set_person(chosen)
        set_outcome("")
        set_errors(lambda current: {key: text for key, text in current.items() if key != "employee"})

    async def save() -> str:
        values = form.latest.current
        checked = Checked(ctx, FIELDS)
        if person is None:
            checked.errors["employee"] = ctx.t("padmin.award.person_required")
        if not values["kind"]:
            checked.errors["kind"] = ctx.t("error.required")
        day = checked.run(lambda: typed_date(values["occurred_on"], "occurred_on", required=True))
        if checked.errors or person is None or day is None:
            raise _Refused(checked.errors)
        try:
            result = await award_manual(
                actor=ctx.actor,
                employee_id=person.id,
                kind=values["kind"],
                occurred_on=day,
                note=values["note"],
            )
        except AppError as exc:
            checked.add(exc)
            raise _Refused(checked.errors) from None
        kind = kind_label(ctx, values["kind"])
        if result.status in (STATUS_AWARDED, STATUS_PARTIAL):
            return ctx.t(f"padmin.award.{result.status}", name=person.name, points=result.points, kind=kind)
        return ctx.t(
            "padmin.award.not_awarded", name=person.name, reason=ctx.t(f"points.status.{result.status}")
        )

    @event(prevent_default=True)
    async def submit(_event: dict[str, Any]) -> None:
        set_busy(True)
        try:
            message = await save()
        except _Refused as refused:
            found = dict(refused.errors)
            set_form_error(found.pop("form", "") or ctx.t("padmin.fix_errors"))
            set_errors(found)
            set_outcome("")
            set_busy(False)
            return
        set_errors({})
        set_form_error("")
        set_outcome(message)
        form.change("note", "")
        set_written(lambda value: value + 1)
        set_busy(False)

    fields = Fields(prefix="award", values=form.values, errors=errors, on_change=form.change, busy=busy)
    kinds = [
        ("", ctx.t("padmin.rules.choose_kind")),
        *[(k, kind_label(ctx, k)) for k in manual_kinds(custom_kinds)],
    ]
    return html.div(
        html.form(
            {"onSubmit": submit, "aria-labelledby": "award-title", "noValidate": True},
            html.h2({"id": "award-title"}, ctx.t("padmin.award.title")),
            html.p({"className": "muted"}, ctx.t("padmin.award.text")),
            FormError(message=form_error or None),
            card_fieldset(
                ctx.t("padmin.award.what"),
                EmployeePicker(
                    field_id="award-employee",
                    label=ctx.t("padmin.award.person"),
                    chosen=person,
                    on_choose=choose,
                    error=errors.get("employee", ""),
                ),
                fields.select(
                    "kind", ctx.t("padmin.rules.kind"), kinds, hint=ctx.t("padmin.award.kind_hint")
                ),
                fields.text(
                    "occurred_on",
                    ctx.t("padmin.award.occurred_on"),
                    kind="date",
                    max=org_today(ctx).isoformat(),
                ),
                fields.area("note", ctx.t("padmin.award.note"), max_length=NOTE_MAX, rows=2),
            ),
            html.button(
                {"type": "submit", "className": "btn btn-primary btn-block", "disabled": busy},
                ctx.t("common.saving") if busy else ctx.t("padmin.award.save"),
            ),
        ),
        Toast(message=outcome or None),
        PersonLedger(key=f"ledger-{person.id}", employee=person, written=written) if person else "",
    )


@component
def PersonLedger(*, employee: Ref, written: int) -> Any:
    """The chosen person's recent entries, newest first; earning entries can be reversed."""
    ctx = use_app()
    page, set_page = use_state(1)
    reversed_count, set_reversed_count = use_state(0)
    message, set_message = use_state("")
    result = use_loaded(
        lambda: ledger_page(actor=ctx.actor, employee_id=employee.id, page=page),
        [employee.id, page, written, reversed_count],
    )

    def reverser(entry: LedgerEntryOut) -> Callable[[str], Any]:
        async def reverse(reason: str) -> None:
            outcome = await entry_reverse(actor=ctx.actor, entry_id=entry.id, reason=reason)
            set_message(ctx.t(f"padmin.ledger.{outcome.status}", kind=kind_label(ctx, entry.kind)))
            set_reversed_count(lambda value: value + 1)

        return reverse

    heading = ctx.t("padmin.ledger.title", name=employee.name)
    return html.section(
        {"className": "card", "aria-labelledby": "person-ledger-title"},
        html.h2({"id": "person-ledger-title"}, heading),
        Toast(message=message or None),
        _ledger_body(ctx, result, reverser, on_page=set_page),
    )


def _ledger_body(
    ctx: UIContext, result: Page[LedgerEntryOut] | AppError | None, reverser: Any, *, on_page: Any
) -> Any:
    if result is None:
        return Loading(label=ctx.t("app.loading"))
    if isinstance(result, AppError):
        return FormError(message=error_text(ctx, result))
    if not result.items:
        return EmptyState(
            icon="🪙", title=ctx.t("padmin.ledger.empty"), text=ctx.t("padmin.ledger.empty_text")
        )
    reversed_ids = {entry.reverses_id for entry in result.items if entry.reverses_id is not None}
    return html.div(
        html.ul(
            {"className": "list"},
            *[_entry(ctx, entry, reverser, reversed_ids) for entry in result.items],
        ),
        Pager(ctx=ctx, page=result.page, pages=result.pages, total=result.total, on_page=on_page)
        if result.pages > 1
        else "",
    )


def _entry(ctx: UIContext, entry: LedgerEntryOut, reverser: Any, reversed_ids: set[int]) -> Any:
    kind = kind_label(ctx, entry.kind)
    points = f"+{entry.points}" if entry.points > 0 else str(entry.points)
    reversible = (
        entry.points > 0
        and entry.reverses_id is None
        and entry.category != CATEGORY_REDEMPTION
        and entry.id not in reversed_ids
    )
    sub = [category_label(ctx, entry.category), local_time(ctx, entry.occurred_at)]
    if entry.reverses_id is not None:
        sub.append(ctx.t("padmin.ledger.reversal", id=entry.reverses_id))
    elif entry.id in reversed_ids:
        sub.append(ctx.t("padmin.ledger.was_reversed"))
    return html.li(
        {"key": str(entry.id), "className": "list-cell"},
        html.div(
            {"className": "list-cell-main"},
            html.span({"className": "list-cell-title"}, f"{kind} {points}"),
            html.span({"className": "list-cell-sub"}, " · ".join(sub)),
            html.span({"className": "list-cell-sub"}, entry.note) if entry.note else "",
            ConfirmStep(
                label=ctx.t("padmin.ledger.reverse"),
                aria_label=ctx.t("padmin.ledger.reverse_label", kind=kind, points=points, id=entry.id),
                question=ctx.t("padmin.ledger.reverse_question", kind=kind, points=points),
                confirm_label=ctx.t("padmin.ledger.reverse_confirm"),
                reason_label=ctx.t("padmin.ledger.reason"),
                reason_required=True,
                field_id=f"reverse-{entry.id}-reason",
                on_confirm=reverser(entry),
            )
            if reversible
            else "",
        ),
    )


# choosing a person --------------------------------------------------------------------------
@component
def EmployeePicker(
    *, field_id: str, label: str, chosen: Ref | None, on_choose: Callable[[Ref | None], None], error: str = ""
) -> Any:
    """Search people by name or 工号 and choose one (HR sees everyone, managers their subtree)."""
    ctx = use_app()
    typed, set_typed = use_state("")
    needle = typed.strip()[:SEARCH_MAX]

    async def search() -> Page[EmployeeOut] | None:
        if not needle:
            return None
        return await employee_list(actor=ctx.actor, q=needle, status="active", page_size=PICKER_RESULTS)

    found = use_loaded(search, [needle])
    if chosen is not None:
        return html.div(
            {"className": "field"},
            html.span({"className": "field-label"}, label),
            html.div(
                {"className": "toolbar"},
                html.strong({"id": f"{field_id}-chosen"}, chosen.name),
                html.button(
                    {
                        "type": "button",
                        "className": "btn",
                        "onClick": lambda _event: on_choose(None),
                        "aria-label": ctx.t("padmin.picker.change_label", name=chosen.name),
                    },
                    ctx.t("padmin.picker.change"),
                ),
            ),
        )
    search_box = field_block(
        field_id=field_id,
        label=label,
        hint=ctx.t("padmin.picker.hint"),
        error=error,
        control=html.input(
            {
                "id": field_id,
                "type": "search",
                "className": "input",
                "maxLength": SEARCH_MAX,
                "autoComplete": "off",
                "value": typed,
                "onChange": lambda event_data: set_typed(event_value(event_data)),
            }
        ),
    )
    return html.div(search_box, _picker_results(ctx, field_id, needle, found, on_choose))


def _picker_results(
    ctx: UIContext,
    field_id: str,
    needle: str,
    found: Page[EmployeeOut] | AppError | None,
    on_choose: Callable[[Ref | None], None],
) -> Any:
    status = {"id": f"{field_id}-results", "role": "status", "aria-live": "polite", "className": "field-hint"}
    if not needle:
        return html.div(status)
    if found is None:
        return html.div(status, Loading(label=ctx.t("app.loading")))
    if isinstance(found, AppError):
        return html.div(status, error_text(ctx, found))
    if not found.items:
        return html.div(status, ctx.t("padmin.picker.none", text=needle))

    def choose(employee: EmployeeOut) -> Callable[[dict[str, Any]], None]:
        return lambda _event: on_choose(Ref(id=employee.id, name=employee.name))

    return html.div(
        html.div(status, ctx.t("padmin.picker.found", total=found.total)),
        html.ul(
            {"className": "list", "aria-label": ctx.t("padmin.picker.results")},
            *[
                html.li(
                    {"key": str(employee.id), "className": "list-cell"},
                    html.button(
                        {
                            "type": "button",
                            "className": "btn btn-ghost btn-block",
                            "style": {"justifyContent": "flex-start", "textAlign": "start"},
                            "onClick": choose(employee),
                            "aria-label": ctx.t(
                                "padmin.picker.choose",
                                name=employee.name,
                                number=employee.employee_no,
                                department=employee.department.name,
                            ),
                        },
                        f"{employee.name} · {employee.employee_no} · {employee.department.name}",
                    ),
                )
                for employee in found.items
            ],
        ),
    )


class _Refused(Exception):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("refused")
        self.errors = errors
