"""Reminders for HR and managers: compose, pick a target, preview who gets it, send now or schedule
(after a confirmation), and the list of sent and scheduled reminders with their delivery figures."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from reactpy import component, html, use_ref, use_state

from backend.lib.errors import AppError, PermissionDenied, ValidationFailed
from backend.lib.policy import actor_require
from backend.notifications.reminders import (
    ReminderChoicesOut,
    ReminderTarget,
    reminder_choices,
    reminder_create,
    reminder_list,
    reminder_preview,
)
from pwa.components.admin_widgets import NoPermission, department_options, parse_id, use_loaded
from pwa.components.reminder_list import reminders_section
from pwa.components.shell import AppShell, PageHeader
from pwa.components.widgets import (
    FormError,
    Loading,
    Toast,
    error_text,
    event_value,
    field_block,
)
from pwa.context import UIContext, use_app
from pwa.pages.grading import local_time

EMPTY_FORM = {
    "title": "",
    "body": "",
    "url": "",
    "training": "",
    "not_submitted": "",
    "department": "",
    "position": "",
    "level": "",
    "when": "now",
    "send_at": "",
}


def _shell(ctx: UIContext, *children: Any) -> Any:
    title = ctx.t("reminders.page.title")
    return AppShell(
        ctx=ctx, active="admin/reminders", title=title, children=html.div(PageHeader(title=title), *children)
    )


@component
def RemindersPage() -> Any:
    ctx = use_app()
    actor = actor_require(ctx.actor)
    version, set_version = use_state(0)
    page, set_page = use_state(1)
    toast, set_toast = use_state("")
    choices = use_loaded(lambda: reminder_choices(actor=actor), [actor.account_id])
    listed = use_loaded(lambda: reminder_list(actor=actor, page=page), [actor.account_id, page, version])
    if isinstance(choices, PermissionDenied):
        return _shell(ctx, NoPermission())
    if choices is None:
        return _shell(ctx, Loading(label=ctx.t("app.loading")))
    if isinstance(choices, AppError):
        return _shell(ctx, FormError(message=error_text(ctx, choices)))

    def changed(message: str) -> None:
        set_toast(message)
        set_version(lambda value: value + 1)

    return _shell(
        ctx,
        html.p({"className": "muted"}, ctx.t("reminders.page.intro")),
        ReminderCompose(key=f"compose-{version}", choices=choices, on_done=changed),
        reminders_section(ctx, listed, on_page=set_page, on_changed=changed),
        Toast(message=toast or None),
    )


def _target(values: dict[str, str]) -> ReminderTarget:
    return ReminderTarget(
        training_id=parse_id(values["training"]),
        not_submitted=values["not_submitted"] == "on",
        department_id=parse_id(values["department"]),
        position_id=parse_id(values["position"]),
        level_id=parse_id(values["level"]),
    )


def _send_at(ctx: UIContext, values: dict[str, str]) -> dt.datetime | None:
    """The schedule field (organisation time) as a moment; None = now; an unreadable one raises."""
    if values["when"] != "later":
        return None
    try:
        local = dt.datetime.fromisoformat(values["send_at"])
    except ValueError:
        raise ValidationFailed("error.reminders_send_at_invalid", field="send_at") from None
    return local.replace(tzinfo=ZoneInfo(ctx.settings.i18n.timezone))


@component
def ReminderCompose(*, choices: ReminderChoicesOut, on_done: Callable[[str], None]) -> Any:
    ctx = use_app()
    values, set_values = use_state(dict(EMPTY_FORM))
    latest = use_ref(dict(EMPTY_FORM))
    preview, set_preview = use_state(_no_preview)
    confirming, set_confirming = use_state(False)
    error, set_error = use_state("")
    busy, set_busy = use_state(False)

    def change(key: str) -> Callable[[dict[str, Any]], None]:
        def handler(event_data: dict[str, Any]) -> None:
            target = event_data.get("target")
            if key == "not_submitted" and isinstance(target, dict):
                value = "on" if target.get("checked") else ""
            else:
                value = event_value(event_data)
            latest.current = {**latest.current, key: value}
            set_values(latest.current)
            set_confirming(False)

        return handler

    async def do_preview(_event: dict[str, Any]) -> None:
        try:
            result = await reminder_preview(actor=ctx.actor, target=_target(latest.current))
        except AppError as exc:
            set_preview(None)
            set_error(error_text(ctx, exc))
            return
        set_error("")
        set_preview({"count": result.count, "names": result.names})

    async def ask(_event: dict[str, Any]) -> None:
        await do_preview(_event)
        set_confirming(True)

    async def send(_event: dict[str, Any]) -> None:
        set_busy(True)
        try:
            current = latest.current
            send_at = _send_at(ctx, current)
            created = await reminder_create(
                actor=ctx.actor,
                target=_target(current),
                title=current["title"],
                body=current["body"],
                url=current["url"],
                send_at=send_at,
            )
        except AppError as exc:
            set_error(error_text(ctx, exc))
            set_confirming(False)
            set_busy(False)
            return
        if send_at is None:
            on_done(ctx.t("reminders.page.sent_toast", count=created.recipients))
        else:
            on_done(ctx.t("reminders.page.scheduled_toast", at=local_time(ctx, send_at)))

    def text_field(key: str, label_key: str, *, max_length: int, hint: str = "") -> Any:
        field_id = f"reminder-{key}"
        return field_block(
            field_id=field_id,
            label=ctx.t(label_key),
            hint=hint,
            control=html.input(
                {
                    "id": field_id,
                    "className": "input",
                    "maxLength": max_length,
                    "value": values[key],
                    "onChange": change(key),
                    "disabled": busy,
                }
            ),
        )

    def select(key: str, options: list[Any]) -> Any:
        field_id = f"reminder-{key}"
        return field_block(
            field_id=field_id,
            label=ctx.t(f"reminders.page.{key}"),
            control=html.select(
                {
                    "id": field_id,
                    "className": "input",
                    "value": values[key],
                    "onChange": change(key),
                    "disabled": busy,
                },
                html.option({"key": "any", "value": ""}, ctx.t("reminders.page.any")),
                *options,
            ),
        )

    def ref_options(items: list[Any]) -> list[Any]:
        return [html.option({"key": str(item.id), "value": str(item.id)}, item.name) for item in items]

    later = values["when"] == "later"
    target = html.fieldset(
        {"className": "card", "aria-describedby": "reminder-target-hint"},
        html.legend(ctx.t("reminders.page.target")),
        html.p(
            {"id": "reminder-target-hint", "className": "field-hint"}, ctx.t("reminders.page.target_hint")
        ),
        select("training", ref_options(choices.trainings)),
        html.label(
            {"className": "chip", "htmlFor": "reminder-not-submitted"},
            html.input(
                {
                    "id": "reminder-not-submitted",
                    "type": "checkbox",
                    "checked": values["not_submitted"] == "on",
                    "onChange": change("not_submitted"),
                    "disabled": busy,
                }
            ),
            ctx.t("reminders.page.not_submitted"),
        ),
        select("department", department_options(choices.departments)),
        select("position", ref_options(choices.positions)),
        select("level", ref_options(choices.levels)),
        html.button(
            {"type": "button", "className": "btn btn-block", "onClick": do_preview, "disabled": busy},
            ctx.t("reminders.page.preview"),
        ),
        _preview(ctx, preview),
    )
    when = html.fieldset(
        {"className": "card"},
        html.legend(ctx.t("reminders.page.when")),
        *[
            html.label(
                {"key": option, "className": "chip", "htmlFor": f"reminder-when-{option}"},
                html.input(
                    {
                        "id": f"reminder-when-{option}",
                        "type": "radio",
                        "name": "reminder-when",
                        "value": option,
                        "checked": values["when"] == option,
                        "onChange": change("when"),
                        "disabled": busy,
                    }
                ),
                ctx.t(f"reminders.page.{option}"),
            )
            for option in ("now", "later")
        ],
        field_block(
            field_id="reminder-send-at",
            label=ctx.t("reminders.page.send_at"),
            control=html.input(
                {
                    "id": "reminder-send-at",
                    "type": "datetime-local",
                    "className": "input",
                    "value": values["send_at"],
                    "onChange": change("send_at"),
                    "disabled": busy,
                }
            ),
        )
        if later
        else "",
    )
    count = preview["count"] if preview else 0
    if confirming and preview:
        question = (
            ctx.t("reminders.page.confirm_later", at=values["send_at"].replace("T", " "), count=count)
            if later
            else ctx.t("reminders.page.confirm_now", count=count)
        )
        actions: Any = html.div(
            {"className": "card", "role": "alertdialog", "aria-labelledby": "reminder-confirm-text"},
            html.p({"id": "reminder-confirm-text"}, question),
            html.button(
                {
                    "type": "button",
                    "className": "btn btn-primary btn-block",
                    "onClick": send,
                    "disabled": busy,
                },
                ctx.t("reminders.page.confirm"),
            ),
            html.button(
                {"type": "button", "className": "btn btn-block", "onClick": lambda _e: set_confirming(False)},
                ctx.t("common.cancel"),
            ),
        )
    else:
        actions = html.button(
            {"type": "button", "className": "btn btn-primary btn-block", "onClick": ask, "disabled": busy},
            ctx.t("reminders.page.schedule" if later else "reminders.page.send"),
        )
    return html.section(
        {"className": "card", "aria-labelledby": "reminder-compose-title"},
        html.h2({"id": "reminder-compose-title"}, ctx.t("reminders.page.compose")),
        FormError(message=error or None),
        text_field("title", "reminders.page.title_label", max_length=200),
        field_block(
            field_id="reminder-body",
            label=ctx.t("reminders.page.body_label"),
            control=html.textarea(
                {
                    "id": "reminder-body",
                    "className": "input",
                    "rows": 3,
                    "maxLength": 2000,
                    "value": values["body"],
                    "onChange": change("body"),
                    "disabled": busy,
                }
            ),
        ),
        text_field("url", "reminders.page.url_label", max_length=500, hint=ctx.t("reminders.page.url_hint")),
        target,
        when,
        actions,
    )


def _no_preview() -> dict[str, Any] | None:
    return None


def _preview(ctx: UIContext, preview: dict[str, Any] | None) -> Any:
    if not preview:
        return html.div({"id": "reminder-preview", "aria-live": "polite"})
    names = "、".join(preview["names"]) if ctx.locale == "zh-CN" else ", ".join(preview["names"])
    more = preview["count"] - len(preview["names"])
    return html.div(
        {"id": "reminder-preview", "aria-live": "polite"},
        html.p(html.strong(ctx.t("reminders.page.preview_count", count=preview["count"]))),
        html.p(
            {"className": "muted"},
            names,
            " ",
            ctx.t("reminders.page.preview_more", count=more) if more else "",
        ),
    )
