"""The points set-up panels of the admin page: the two presets (applied after confirming), the
appraisal exports and the appraisal weight."""

from __future__ import annotations

from typing import Any

from reactpy import component, event, html, use_state

from backend.lib.errors import AppError, ValidationFailed
from backend.points.exports import WEIGHT_MAX, PointSettingsOut, points_settings_get, points_settings_set
from backend.points.presets import PRESET_CREDIT, PRESETS, preset_apply
from pwa.components.admin_widgets import use_loaded
from pwa.components.points_admin_widgets import ConfirmStep, org_today
from pwa.components.widgets import FormError, Loading, Toast, error_text, event_value
from pwa.context import use_app

EXPORT_YEARS = 3


# presets ---------------------------------------------------------------------------------------
@component
def PresetPanel() -> Any:
    ctx = use_app()
    message, set_message = use_state("")
    year = org_today(ctx).year

    def applier(name: str) -> Any:
        async def apply(_reason: str) -> None:
            result = await preset_apply(actor=ctx.actor, name=name)
            set_message(
                ctx.t(
                    "padmin.presets.applied",
                    name=ctx.t(f"points.preset.{name}"),
                    created=result.rules_created,
                    changed=result.rules_changed,
                    unchanged=result.rules_unchanged,
                    targets=result.targets_set,
                )
            )

        return apply

    cards = []
    for name in PRESETS:
        label = ctx.t(f"points.preset.{name}")
        question = ctx.t("padmin.presets.question", name=label)
        if name == PRESET_CREDIT:
            question += ctx.t("padmin.presets.question_target", year=year)
        cards.append(
            html.article(
                {"key": name, "className": "card", "aria-labelledby": f"preset-{name}-title"},
                html.h3({"id": f"preset-{name}-title"}, label),
                html.p({"className": "muted"}, ctx.t(f"points.preset.{name}_hint")),
                ConfirmStep(
                    label=ctx.t("padmin.presets.apply", name=label),
                    question=question,
                    confirm_label=ctx.t("padmin.presets.confirm"),
                    field_id=f"preset-{name}",
                    danger=False,
                    on_confirm=applier(name),
                ),
            )
        )
    return html.div(
        html.h2(ctx.t("padmin.presets.title")),
        html.p({"className": "muted"}, ctx.t("padmin.presets.text")),
        html.div({"role": "status", "aria-live": "polite", "className": "card"}, message) if message else "",
        *cards,
    )


# appraisal ---------------------------------------------------------------------------------------
@component
def AppraisalPanel(*, editable: bool) -> Any:
    ctx = use_app()
    this_year = org_today(ctx).year
    year, set_year = use_state(str(this_year))
    written, set_written = use_state(0)
    message, set_message = use_state("")
    settings = use_loaded(lambda: points_settings_get(actor=ctx.actor), [written])

    def saved(text: str) -> None:
        set_message(text)
        set_written(lambda value: value + 1)

    years = [str(this_year - offset) for offset in range(EXPORT_YEARS)]
    exports = html.section(
        {"className": "card", "aria-labelledby": "exports-title"},
        html.h2({"id": "exports-title"}, ctx.t("padmin.exports.title")),
        html.p({"className": "muted"}, ctx.t("padmin.exports.text")),
        html.div(
            {"className": "field"},
            html.label({"htmlFor": "exports-year"}, ctx.t("padmin.year")),
            html.select(
                {
                    "id": "exports-year",
                    "className": "input",
                    "value": year,
                    "onChange": lambda e: set_year(event_value(e)),
                },
                *[html.option({"key": value, "value": value}, value) for value in years],
            ),
        ),
        html.div(
            {"className": "toolbar"},
            html.a(
                {
                    "className": "btn btn-primary",
                    "href": f"/api/v1/points/exports/appraisal.xlsx?year={year}",
                    "download": True,
                },
                ctx.t("padmin.exports.xlsx", year=year),
            ),
            html.a(
                {
                    "className": "btn",
                    "href": f"/api/v1/points/exports/appraisal.csv?year={year}",
                    "download": True,
                },
                ctx.t("padmin.exports.csv", year=year),
            ),
        ),
    )
    return html.div(
        exports,
        WeightForm(
            key=f"weight-{written}",
            settings=settings,
            editable=editable,
            on_saved=saved,
        ),
        Toast(message=message or None),
    )


@component
def WeightForm(*, settings: PointSettingsOut | AppError | None, editable: bool, on_saved: Any) -> Any:
    ctx = use_app()
    typed, set_typed = use_state(_nothing_typed)
    error, set_error = use_state("")
    if settings is None:
        return Loading(label=ctx.t("app.loading"))
    if isinstance(settings, AppError):
        return FormError(message=error_text(ctx, settings))
    shown = str(settings.appraisal_weight) if typed is None else typed
    preset = (
        ctx.t(f"points.preset.{settings.preset}") if settings.preset else ctx.t("padmin.weight.no_preset")
    )

    @event(prevent_default=True)
    async def submit(_event: dict[str, Any]) -> None:
        try:
            # Only that it is a whole number is checked here: the range is the service's to judge.
            if not shown.strip().lstrip("-").isdigit():
                raise ValidationFailed("error.points_out_of_range", min=0, max=WEIGHT_MAX)
            weight = int(shown.strip())
            await points_settings_set(actor=ctx.actor, appraisal_weight=weight)
        except AppError as exc:
            set_error(error_text(ctx, exc))
            return
        on_saved(ctx.t("padmin.weight.saved", weight=weight))  # the parent remounts this form

    hint = ctx.t("padmin.weight.hint", max=WEIGHT_MAX)
    described = "weight-hint weight-error" if error else "weight-hint"
    return html.form(
        {"className": "card", "onSubmit": submit, "aria-labelledby": "weight-title", "noValidate": True},
        html.h2({"id": "weight-title"}, ctx.t("padmin.weight.title")),
        html.p({"className": "muted"}, ctx.t("padmin.weight.preset", preset=preset)),
        html.div(
            {"className": "field"},
            html.label({"htmlFor": "weight"}, ctx.t("padmin.weight.label")),
            html.input(
                {
                    "id": "weight",
                    "type": "number",
                    "inputMode": "numeric",
                    "className": "input",
                    "min": 0,
                    "max": WEIGHT_MAX,
                    "value": shown,
                    "readOnly": not editable,
                    "aria-describedby": described,
                    **({"aria-invalid": "true"} if error else {}),
                    "onChange": lambda e: set_typed(event_value(e)),
                }
            ),
            html.div({"id": "weight-hint", "className": "field-hint"}, hint),
            html.div({"id": "weight-error", "className": "field-error"}, error) if error else "",
        ),
        html.button({"type": "submit", "className": "btn btn-primary btn-block"}, ctx.t("common.save"))
        if editable
        else "",
    )


def _nothing_typed() -> str | None:
    return None
