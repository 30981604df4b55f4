"""The form that creates a training with its first reflection assignment, with a live participant preview.

Saving is one service call: training_create writes the training, its participants and the first
assignment in one transaction, so a refused assignment leaves nothing behind. The form checks the
same rules first only to show every problem next to its field at once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from reactpy import component, event, html, use_ref, use_state

from backend.lib.errors import AppError, ValidationFailed
from backend.reflections.access import VISIBILITIES
from backend.reflections.services import BODY_MAX, PHOTOS_MAX
from backend.reflections.training_selectors import (
    ParticipantChoicesOut,
    employee_ids_by_numbers,
    employee_numbers_parse,
)
from backend.reflections.trainings import (
    DESCRIPTION_MAX,
    PROMPT_MAX,
    TITLE_MAX,
    TRAINING_KINDS,
    AssignmentSpec,
    ParticipantFilter,
    participants_preview,
    training_create,
)
from pwa.components.admin_widgets import errors_by_field, no_errors, use_loaded
from pwa.components.widgets import FormError, error_text, event_value, field_block
from pwa.context import UIContext, use_app

NUMBERS_MAX_CHARS = 20_000
DEFAULT_DUE_TIME = "18:00"
# service field -> form field
FIELDS = {
    "title": "title",
    "kind": "kind",
    "starts_on": "starts_on",
    "ends_on": "ends_on",
    "description": "description",
    "participants": "participants",
    "employee_numbers": "numbers",
    "prompt": "prompt",
    "due_at": "due_date",
    "min_length": "min_length",
    "max_photos": "max_photos",
    "visibility": "visibility",
    "course_ids": "course_ids",
}
PICKS = ("department", "position", "level")
# A fieldset drawn as a card (app.css has no fieldset rules): no groove border, legend as a heading.
FIELDSET_STYLE = {"border": "0", "minWidth": "0", "margin": "0", "padding": "0"}
LEGEND_STYLE = {"padding": "0", "marginBottom": "12px", "fontWeight": "600", "fontSize": "1.0625rem"}


def _card_fieldset(attributes: dict[str, Any], legend: str, *children: Any) -> Any:
    """A fieldset drawn as a card: the card is a wrapper, so the legend sits inside its padding."""
    return html.div(
        {"className": "card"},
        html.fieldset(
            {**attributes, "style": FIELDSET_STYLE}, html.legend({"style": LEGEND_STYLE}, legend), *children
        ),
    )


def _today(ctx: UIContext) -> dt.date:
    return dt.datetime.now(ZoneInfo(ctx.settings.i18n.timezone)).date()


def _initial(ctx: UIContext) -> dict[str, str]:
    today = _today(ctx)
    return {
        "title": "",
        "kind": "course",
        "starts_on": today.isoformat(),
        "ends_on": "",
        "description": "",
        "numbers": "",
        "prompt": "",
        "due_date": (today + dt.timedelta(days=7)).isoformat(),
        "due_time": DEFAULT_DUE_TIME,
        "min_length": "100",
        "max_photos": "3",
        "visibility": "department",
    }


def _no_picks() -> dict[str, tuple[int, ...]]:
    return {key: () for key in (*PICKS, "course")}


def _date(value: str, field: str, *, required: bool) -> dt.date | None:
    value = value.strip()
    if not value:
        if required:
            raise ValidationFailed("error.required", field=field)
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed("radmin.form.date_invalid", field=field) from None


def _number(value: str, field: str, low: int, high: int) -> int:
    try:
        number = int(value.strip())
    except ValueError:
        raise ValidationFailed("error.out_of_range", field=field, min=low, max=high) from None
    if not low <= number <= high:
        raise ValidationFailed("error.out_of_range", field=field, min=low, max=high)
    return number


def _text(value: str, field: str, max_length: int, *, required: bool = True) -> str:
    value = value.strip()
    if required and not value:
        raise ValidationFailed("error.required", field=field)
    if len(value) > max_length:
        raise ValidationFailed("error.too_long", field=field, max=max_length)
    return value


def due_at_parse(date_text: str, time_text: str, timezone: str) -> dt.datetime:
    """The due moment typed as a date and a time of the organisation's time zone, as an aware datetime."""
    day = _date(date_text, "due_at", required=True)
    assert day is not None
    try:
        time = dt.time.fromisoformat(time_text.strip() or DEFAULT_DUE_TIME)
    except ValueError:
        raise ValidationFailed("radmin.form.time_invalid", field="due_at") from None
    return dt.datetime.combine(day, time.replace(tzinfo=None), tzinfo=ZoneInfo(timezone))


class _Checked:
    """Everything the form says, checked: collects one message per field."""

    def __init__(self, ctx: UIContext) -> None:
        self.ctx = ctx
        self.errors: dict[str, str] = {}

    def run(self, function: Callable[[], Any]) -> Any:
        try:
            return function()
        except AppError as exc:
            by_field, message = errors_by_field(self.ctx, exc, FIELDS)
            self.errors.update(by_field or {"form": message})
            return None


@component
def TrainingForm(*, choices: ParticipantChoicesOut, on_saved: Callable[[int, str], None]) -> Any:
    ctx = use_app()
    actor = ctx.actor
    values, set_values = use_state(lambda: _initial(ctx))
    picks, set_picks = use_state(_no_picks)
    # What the fields hold right now: a submit can arrive before the render that follows a change,
    # so saving reads these, not the `values` and `picks` of the render it was made in.
    latest_values = use_ref(values)
    latest_picks = use_ref(picks)
    errors, set_errors = use_state(no_errors)
    form_error, set_form_error = use_state("")
    busy, set_busy = use_state(False)

    def change(key: str) -> Callable[[dict[str, Any]], None]:
        def handler(event_data: dict[str, Any]) -> None:
            value = event_value(event_data)
            latest_values.current = {**latest_values.current, key: value}
            set_values(latest_values.current)

        return handler

    def toggle(kind: str, item_id: int) -> Callable[[dict[str, Any]], None]:
        def handler(event_data: dict[str, Any]) -> None:
            checked = bool(event_data["target"].get("checked"))

            chosen = set(latest_picks.current[kind])
            chosen = chosen | {item_id} if checked else chosen - {item_id}
            latest_picks.current = {**latest_picks.current, kind: tuple(sorted(chosen))}
            set_picks(latest_picks.current)

        return handler

    async def selection(values: dict[str, str], picks: dict[str, tuple[int, ...]]) -> ParticipantFilter:
        numbers = employee_numbers_parse(values["numbers"][:NUMBERS_MAX_CHARS])
        listed = await employee_ids_by_numbers(actor=actor, numbers=numbers)
        return ParticipantFilter(
            department_ids=picks["department"],
            position_ids=picks["position"],
            level_ids=picks["level"],
            employee_ids=tuple(listed),
        )

    async def preview() -> dict[str, Any]:
        if not any(picks[kind] for kind in PICKS) and not values["numbers"].strip():
            return {"count": None}
        return await participants_preview(actor=actor, selection=await selection(values, picks))

    preview_key = "|".join(
        [",".join(map(str, picks[kind])) for kind in PICKS] + [values["numbers"][:NUMBERS_MAX_CHARS]]
    )
    previewed = use_loaded(preview, [preview_key])

    async def save() -> tuple[int, str]:
        values, picks = latest_values.current, latest_picks.current
        checked = _Checked(ctx)
        title = checked.run(lambda: _text(values["title"], "title", TITLE_MAX))
        checked.run(lambda: _text(values["description"], "description", DESCRIPTION_MAX, required=False))
        if values["kind"] not in TRAINING_KINDS:
            checked.errors["kind"] = ctx.t("error.invalid")
        starts_on = checked.run(lambda: _date(values["starts_on"], "starts_on", required=True))
        ends_on = checked.run(lambda: _date(values["ends_on"], "ends_on", required=False))
        if starts_on and ends_on and ends_on < starts_on:
            checked.errors["ends_on"] = ctx.t("error.dates_order")
        if not any(picks[kind] for kind in PICKS) and not values["numbers"].strip():
            checked.errors["participants"] = ctx.t("error.participants_empty")
        checked.run(lambda: _text(values["prompt"], "prompt", PROMPT_MAX))
        due_at = checked.run(
            lambda: due_at_parse(values["due_date"], values["due_time"], ctx.settings.i18n.timezone)
        )
        if due_at is not None and due_at <= dt.datetime.now(dt.UTC):
            checked.errors["due_date"] = ctx.t("error.due_in_past")
        checked.run(lambda: _number(values["min_length"], "min_length", 0, BODY_MAX))
        checked.run(lambda: _number(values["max_photos"], "max_photos", 0, PHOTOS_MAX))
        if values["visibility"] not in VISIBILITIES:
            checked.errors["visibility"] = ctx.t("error.invalid")
        participants = None
        if "participants" not in checked.errors:
            try:
                participants = await selection(values, picks)
            except AppError as exc:
                by_field, message = errors_by_field(ctx, exc, FIELDS)
                checked.errors.update(by_field or {"form": message})
        if checked.errors:
            raise _Invalid(checked.errors)
        assert participants is not None and starts_on is not None and due_at is not None
        training_id = await training_create(
            actor=actor,
            title=title,
            kind=values["kind"],
            starts_on=starts_on,
            ends_on=ends_on,
            description=values["description"],
            participants=participants,
            course_ids=picks["course"],
            assignment=AssignmentSpec(
                prompt=values["prompt"],
                due_at=due_at,
                min_length=int(values["min_length"].strip()),
                max_photos=int(values["max_photos"].strip()),
                visibility=values["visibility"],
            ),
        )
        return training_id, title

    @event(prevent_default=True)
    async def submit(_event: dict[str, Any]) -> None:
        set_busy(True)
        try:
            training_id, title = await save()
        except _Invalid as invalid:
            found = dict(invalid.errors)
            set_form_error(found.pop("form", "") or ctx.t("radmin.form.fix_errors"))
            set_errors(found)
            set_busy(False)
            return
        except AppError as exc:
            by_field, message = errors_by_field(ctx, exc, FIELDS)
            set_errors(by_field)
            set_form_error(message or ctx.t("radmin.form.fix_errors"))
            set_busy(False)
            return
        # The page swaps this form for the outcome: no render of it may follow.
        on_saved(training_id, title)

    def input_field(
        key: str, *, kind: str = "text", max_length: int = 0, hint: str = "", **extra: Any
    ) -> Any:
        field_id = f"training-{key.replace('_', '-')}"
        return field_block(
            field_id=field_id,
            label=ctx.t(f"radmin.form.{key}"),
            hint=hint,
            error=errors.get(key, ""),
            control=html.input(
                {
                    "id": field_id,
                    "type": kind,
                    "className": "input",
                    **({"maxLength": max_length} if max_length else {}),
                    "value": values[key],
                    "onChange": change(key),
                    "disabled": busy,
                    **extra,
                }
            ),
        )

    def area_field(key: str, *, max_length: int, hint: str = "", rows: int = 3) -> Any:
        field_id = f"training-{key.replace('_', '-')}"
        return field_block(
            field_id=field_id,
            label=ctx.t(f"radmin.form.{key}"),
            hint=hint,
            error=errors.get(key, ""),
            control=html.textarea(
                {
                    "id": field_id,
                    "className": "input",
                    "rows": rows,
                    "maxLength": max_length,
                    "value": values[key],
                    "onChange": change(key),
                    "disabled": busy,
                }
            ),
        )

    def select_field(key: str, options: list[tuple[str, str]]) -> Any:
        field_id = f"training-{key.replace('_', '-')}"
        return field_block(
            field_id=field_id,
            label=ctx.t(f"radmin.form.{key}"),
            error=errors.get(key, ""),
            control=html.select(
                {
                    "id": field_id,
                    "className": "input",
                    "value": values[key],
                    "onChange": change(key),
                    "disabled": busy,
                },
                *[html.option({"key": value, "value": value}, label) for value, label in options],
            ),
        )

    def pick_group(kind: str, items: list[tuple[int, str, int]]) -> Any:
        """Checkbox chips; `items` are (id, name, depth) — departments are indented as a tree."""
        label = ctx.t("training.courses") if kind == "course" else ctx.t(f"radmin.form.by_{kind}")
        return html.div(
            {"role": "group", "aria-label": label, "className": "field"},
            html.span({"className": "field-label", "aria-hidden": "true"}, label),
            html.div(
                {"className": "toolbar" if kind != "department" else ""},
                *[
                    html.div(
                        {
                            "key": str(item_id),
                            **(
                                {"style": {"marginLeft": f"{depth * 1.25}em"}} if kind == "department" else {}
                            ),
                        },
                        html.label(
                            {"className": "chip", "htmlFor": f"training-{kind}-{item_id}"},
                            html.input(
                                {
                                    "id": f"training-{kind}-{item_id}",
                                    "type": "checkbox",
                                    "checked": item_id in picks[kind],
                                    "onChange": toggle(kind, item_id),
                                    "disabled": busy,
                                }
                            ),
                            name,
                        ),
                    )
                    for item_id, name, depth in items
                ],
            ),
        )

    participants_error = errors.get("participants", "")
    participants = _card_fieldset(
        {
            "aria-describedby": "training-participants-error training-preview"
            if participants_error
            else "training-preview",
        },
        ctx.t("radmin.form.participants"),
        html.p({"className": "muted"}, ctx.t("radmin.form.participants_hint")),
        pick_group("department", [(d.id, d.name, d.depth) for d in choices.departments]),
        pick_group("position", [(p.id, p.name, 0) for p in choices.positions]),
        pick_group("level", [(lv.id, lv.name, 0) for lv in choices.levels]),
        area_field("numbers", max_length=NUMBERS_MAX_CHARS, hint=ctx.t("radmin.form.numbers_hint"), rows=2),
        html.div({"id": "training-participants-error", "className": "field-error"}, participants_error)
        if participants_error
        else "",
        _preview(ctx, previewed),
    )
    return html.form(
        {
            "onSubmit": submit,
            "aria-labelledby": "training-form-title",
            "noValidate": True,
        },
        html.h2({"id": "training-form-title", "className": "sr-only"}, ctx.t("radmin.trainings.new")),
        FormError(message=form_error or None),
        _card_fieldset(
            {},
            ctx.t("radmin.form.training"),
            input_field("title", max_length=TITLE_MAX, required=True),
            select_field("kind", [(kind, ctx.t(f"radmin.kind_{kind}")) for kind in TRAINING_KINDS]),
            input_field("starts_on", kind="date", required=True),
            input_field("ends_on", kind="date", hint=ctx.t("radmin.form.ends_on_hint")),
            area_field("description", max_length=DESCRIPTION_MAX),
            html.p({"className": "muted"}, ctx.t("training.courses_hint")),
            pick_group("course", [(c.id, c.name, 0) for c in choices.courses])
            if choices.courses
            else html.p({"className": "muted"}, ctx.t("training.courses_none")),
            html.div(
                {"id": "training-course_ids-error", "className": "field-error"}, errors.get("course_ids", "")
            )
            if errors.get("course_ids")
            else "",
        ),
        participants,
        _card_fieldset(
            {},
            ctx.t("radmin.form.assignment"),
            area_field("prompt", max_length=PROMPT_MAX, hint=ctx.t("radmin.form.prompt_hint"), rows=4),
            input_field(
                "due_date", kind="date", hint=ctx.t("radmin.form.due_hint", zone=ctx.settings.i18n.timezone)
            ),
            input_field("due_time", kind="time"),
            input_field("min_length", kind="number", min=0, max=BODY_MAX, inputMode="numeric"),
            input_field("max_photos", kind="number", min=0, max=PHOTOS_MAX, inputMode="numeric"),
            select_field(
                "visibility", [(value, ctx.t(f"radmin.visibility_{value}")) for value in VISIBILITIES]
            ),
        ),
        html.button(
            {"type": "submit", "className": "btn btn-primary btn-block", "disabled": busy},
            ctx.t("common.saving") if busy else ctx.t("radmin.form.save"),
        ),
    )


class _Invalid(Exception):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("invalid")
        self.errors = errors


def _preview(ctx: UIContext, previewed: Any) -> Any:
    attributes = {
        "id": "training-preview",
        "className": "field-hint",
        "role": "status",
        "aria-live": "polite",
    }
    if previewed is None:
        return html.p(attributes, ctx.t("radmin.form.preview_loading"))
    if isinstance(previewed, AppError):
        return html.p(attributes, error_text(ctx, previewed))
    if previewed["count"] is None:
        return html.p(attributes, ctx.t("radmin.form.preview_none"))
    separator = "、" if ctx.locale == "zh-CN" else ", "
    names = separator.join(previewed["names"])
    key = (
        "radmin.form.preview_more" if previewed["count"] > len(previewed["names"]) else "radmin.form.preview"
    )
    return html.p(attributes, ctx.t(key, count=previewed["count"], names=names))
