"""/admin/notifications/settings: the organisation's notification channels and quiet hours (HR; auditors
read). A switch per channel, its labelled fields (saved secrets shown masked: sending them back keeps
them), the allowed webhook hosts, and a "send a test message" button per group channel with its result."""

from __future__ import annotations

from typing import Any

import msgspec
from reactpy import component, event, html, use_state

from backend.lib.errors import AppError
from backend.lib.policy import ROLE_AUDITOR, ROLE_HR_ADMIN, actor_require
from backend.notifications.channel_settings import ChannelSettings, channel_settings_get, channel_settings_set
from backend.notifications.channels import channel_test
from backend.notifications.schemas import NotificationSettingsOut
from backend.notifications.selectors import notification_settings_get
from backend.notifications.services import quiet_hours_set
from pwa.components.admin_widgets import NoPermission, use_loaded
from pwa.components.shell import AppShell, PageHeader
from pwa.components.widgets import FormError, Loading, Toast, error_text, event_value
from pwa.context import UIContext, use_app

ACTIVE = "admin/notification_settings"
# (channel, field, input type); "secret" fields are shown masked and kept when sent back unchanged.
FIELDS: dict[str, list[tuple[str, str]]] = {
    "web_push": [],
    "wecom": [("webhook_url", "url")],
    "dingtalk": [("webhook_url", "url"), ("secret", "password")],
    "email": [
        ("host", "text"),
        ("port", "number"),
        ("security", "select"),
        ("username", "text"),
        ("password", "password"),
        ("from_address", "email"),
        ("to_address", "email"),
    ],
}
SECURITIES = ("starttls", "ssl", "none")
TESTABLE = ("wecom", "dingtalk", "email")


def _form_of(settings: ChannelSettings) -> dict[str, Any]:
    """The settings as the form's flat values ("wecom.webhook_url": "…", "wecom.enabled": True)."""
    form: dict[str, Any] = {"allowed_hosts": "\n".join(settings.allowed_hosts)}
    for channel, fields in FIELDS.items():
        section = getattr(settings, channel)
        form[f"{channel}.enabled"] = section.enabled
        for name, _kind in fields:
            form[f"{channel}.{name}"] = str(getattr(section, name))
    return form


def _settings_of(form: dict[str, Any]) -> dict[str, Any]:
    document: dict[str, Any] = {
        "allowed_hosts": [line.strip() for line in str(form["allowed_hosts"]).splitlines() if line.strip()]
    }
    for channel, fields in FIELDS.items():
        section: dict[str, Any] = {"enabled": bool(form[f"{channel}.enabled"])}
        for name, _kind in fields:
            value = str(form[f"{channel}.{name}"]).strip()
            section[name] = (int(value) if value.isdigit() else 0) if name == "port" else value
        document[channel] = section
    return document


@component
def NotificationSettingsPage() -> Any:
    ctx = use_app()
    actor = actor_require(ctx.actor)
    title = ctx.t("channels.title")
    if not actor.has(ROLE_HR_ADMIN, ROLE_AUDITOR):
        body: Any = NoPermission()
    else:
        editable = actor.has(ROLE_HR_ADMIN)
        intro = (
            ctx.t("channels.intro")
            if editable
            else f"{ctx.t('channels.intro')} {ctx.t('channels.read_only')}"
        )
        body = html.div(
            {"key": "body"},
            html.p({"key": "intro", "className": "muted", "role": "note"}, intro),
            SettingsPanel(key="settings", editable=editable),
        )
    return AppShell(ctx=ctx, active=ACTIVE, title=title, children=html.div(PageHeader(title=title), body))


@component
def SettingsPanel(*, editable: bool) -> Any:
    """One load for both forms; a save reloads it and the saved form remounts with what is stored."""
    ctx = use_app()
    version, set_version = use_state(0)

    async def load() -> tuple[ChannelSettings, NotificationSettingsOut]:
        return await channel_settings_get(actor=ctx.actor), await notification_settings_get(actor=ctx.actor)

    loaded = use_loaded(load, [version])
    if loaded is None:
        return Loading(label=ctx.t("channels.loading"))
    if isinstance(loaded, AppError):
        return FormError(message=error_text(ctx, loaded))
    channels, quiet = loaded
    return html.div(
        ChannelsForm(
            key=f"form-{hash(msgspec.json.encode(channels))}",
            settings=channels,
            editable=editable,
            on_saved=set_version,
        ),
        QuietHoursForm(
            key=f"quiet-{quiet.quiet_start}-{quiet.quiet_end}",
            loaded=quiet,
            editable=editable,
            on_saved=set_version,
        ),
    )


@component
def ChannelsForm(*, settings: ChannelSettings, editable: bool, on_saved: Any) -> Any:
    ctx = use_app()
    form, set_form = use_state(lambda: _form_of(settings))
    error, set_error = use_state(_no_error)  # (field, message)
    message, set_message = use_state("")
    saving, set_saving = use_state(False)

    def change(name: str, value: Any) -> None:
        set_form(lambda current: {**current, name: value})

    @event(prevent_default=True)
    async def submit(_event: dict[str, Any]) -> None:
        set_saving(True)
        try:
            await channel_settings_set(
                actor=ctx.actor, settings=msgspec.convert(_settings_of(form), ChannelSettings)
            )
        except AppError as exc:
            set_error((exc.field or "", error_text(ctx, exc)))
            set_saving(False)
            return
        set_saving(False)
        set_error(None)
        set_message(ctx.t("channels.saved"))
        on_saved(lambda value: value + 1)

    field_error = error[0] if error else ""
    sections = [
        _channel_section(ctx, channel, form, change, editable=editable, field_error=field_error, error=error)
        for channel in FIELDS
    ]
    hosts = html.section(
        {"className": "card", "aria-labelledby": "ch-hosts-title"},
        html.h2({"id": "ch-hosts-title"}, ctx.t("channels.hosts_title")),
        html.p({"className": "muted", "id": "ch-hosts-hint"}, ctx.t("channels.hosts_hint")),
        html.div(
            {"className": "field"},
            html.label({"htmlFor": "ch-allowed_hosts"}, ctx.t("channels.hosts_label")),
            html.textarea(
                {
                    "id": "ch-allowed_hosts",
                    "className": "input",
                    "rows": 3,
                    "value": form["allowed_hosts"],
                    "readOnly": not editable,
                    "aria-describedby": "ch-hosts-hint",
                    "onChange": lambda e: change("allowed_hosts", event_value(e)),
                }
            ),
            _error_line("ch-allowed_hosts", error) if field_error.startswith("allowed_hosts") else "",
        ),
    )
    return html.form(
        {"onSubmit": submit, "noValidate": True, "aria-label": ctx.t("channels.title")},
        *sections,
        hosts,
        FormError(message=error[1] if error and not field_error else None),
        html.button(
            {
                "type": "submit",
                "className": "btn btn-primary btn-block",
                "disabled": saving,
                "aria-busy": saving,
            },
            ctx.t("channels.saving") if saving else ctx.t("channels.save"),
        )
        if editable
        else "",
        Toast(message=message or None),
    )


def _no_error() -> tuple[str, str] | None:
    return None


def _error_line(field_id: str, error: tuple[str, str] | None) -> Any:
    return html.div(
        {"id": f"{field_id}-error", "className": "field-error", "role": "alert"}, error[1] if error else ""
    )


def _channel_section(
    ctx: UIContext,
    channel: str,
    form: dict[str, Any],
    change: Any,
    *,
    editable: bool,
    field_error: str,
    error: tuple[str, str] | None,
) -> Any:
    on = bool(form[f"{channel}.enabled"])
    switch_id = f"ch-{channel}-enabled"
    controls = []
    for name, kind in FIELDS[channel]:
        field_id = f"ch-{channel}-{name}"
        invalid = field_error == f"{channel}.{name}"
        attributes: dict[str, Any] = {
            "id": field_id,
            "className": "input",
            "value": form[f"{channel}.{name}"],
            "disabled": not editable,
            "onChange": lambda e, key=f"{channel}.{name}": change(key, event_value(e)),
            **({"aria-invalid": "true", "aria-describedby": f"{field_id}-error"} if invalid else {}),
        }
        if kind == "select":
            control = html.select(
                attributes,
                *[
                    html.option({"key": value, "value": value}, ctx.t(f"channels.email.security_{value}"))
                    for value in SECURITIES
                ],
            )
        else:
            control = html.input({**attributes, "type": kind, "autoComplete": "off"})
        controls.append(
            html.div(
                {"key": name, "className": "field"},
                html.label({"htmlFor": field_id}, ctx.t(f"channels.{channel}.{name}")),
                control,
                _error_line(field_id, error) if invalid else "",
            )
        )
    has_secret = any(kind == "password" or name == "webhook_url" for name, kind in FIELDS[channel])
    return html.section(
        {"key": channel, "className": "card", "aria-labelledby": f"ch-{channel}-title"},
        html.h2({"id": f"ch-{channel}-title"}, ctx.t(f"channels.{channel}.title")),
        html.p({"className": "muted", "id": f"ch-{channel}-hint"}, ctx.t(f"channels.{channel}.hint"))
        if channel in ("web_push", "email")
        else "",
        html.label(
            {"className": "pt-switch-row", "htmlFor": switch_id},
            html.span(ctx.t("channels.enabled")),
            html.input(
                {
                    "id": switch_id,
                    "type": "checkbox",
                    "role": "switch",
                    "checked": on,
                    "aria-checked": "true" if on else "false",
                    "disabled": not editable,
                    "onChange": lambda _e: change(f"{channel}.enabled", not on),
                }
            ),
        ),
        *controls,
        html.p({"className": "field-hint"}, ctx.t("channels.secret_hint")) if has_secret else "",
        TestButton(channel=channel) if editable and channel in TESTABLE else "",
    )


@component
def TestButton(*, channel: str) -> Any:
    ctx = use_app()
    result, set_result = use_state("")
    busy, set_busy = use_state(False)

    async def send(_event: dict[str, Any]) -> None:
        set_busy(True)
        try:
            outcome = await channel_test(actor=ctx.actor, channel=channel, locale=ctx.locale)
            if not outcome.ok:
                set_result(ctx.t("channels.test_failed", error=outcome.error))
            elif outcome.recipient:
                set_result(ctx.t("channels.test_ok_to", address=outcome.recipient))
            else:
                set_result(ctx.t("channels.test_ok"))
        except AppError as exc:
            set_result(error_text(ctx, exc))
        set_busy(False)

    return html.div(
        {"className": "toolbar"},
        html.button(
            {
                "type": "button",
                "id": f"ch-{channel}-test",
                "className": "btn",
                "disabled": busy,
                "aria-busy": busy,
                "onClick": send,
            },
            ctx.t("channels.testing") if busy else ctx.t("channels.test_send"),
        ),
        html.span({"id": f"ch-{channel}-test-result", "role": "status", "aria-live": "polite"}, result),
    )


@component
def QuietHoursForm(*, loaded: NotificationSettingsOut, editable: bool, on_saved: Any) -> Any:
    ctx = use_app()
    start, set_start = use_state(loaded.quiet_start)
    end, set_end = use_state(loaded.quiet_end)
    error, set_error = use_state(_no_error)
    message, set_message = use_state("")

    @event(prevent_default=True)
    async def submit(_event: dict[str, Any]) -> None:
        try:
            await quiet_hours_set(actor=ctx.actor, start=start, end=end)
        except AppError as exc:
            set_error((exc.field or "", error_text(ctx, exc)))
            return
        set_error(None)
        set_message(ctx.t("channels.saved"))
        on_saved(lambda value: value + 1)

    def clock(field: str, label: str, value: str, setter: Any) -> Any:
        field_id = f"ch-{field}"
        invalid = bool(error and error[0] == field)
        return html.div(
            {"className": "field"},
            html.label({"htmlFor": field_id}, label),
            html.input(
                {
                    "id": field_id,
                    "type": "time",
                    "className": "input",
                    "value": value,
                    "disabled": not editable,
                    "onChange": lambda e: setter(event_value(e)),
                    **({"aria-invalid": "true", "aria-describedby": f"{field_id}-error"} if invalid else {}),
                }
            ),
            _error_line(field_id, error) if invalid else "",
        )

    return html.form(
        {"className": "card", "onSubmit": submit, "noValidate": True, "aria-labelledby": "ch-quiet-title"},
        html.h2({"id": "ch-quiet-title"}, ctx.t("channels.quiet_title")),
        html.p({"className": "muted"}, ctx.t("channels.quiet_hint", timezone=loaded.timezone)),
        clock("quiet_start", ctx.t("channels.quiet_start"), start, set_start),
        clock("quiet_end", ctx.t("channels.quiet_end"), end, set_end),
        html.button(
            {"type": "submit", "className": "btn btn-primary btn-block"}, ctx.t("channels.quiet_save")
        )
        if editable
        else "",
        Toast(message=message if message and not error else None),
    )
