"""Me: profile, language, e-mail address for notifications, push notifications, password, sign out."""

from __future__ import annotations

from typing import Any

from reactpy import component, event, html, use_state

from backend.accounts.selectors import me_get
from backend.accounts.services import password_change
from backend.lib.errors import AppError
from backend.lib.i18n import locale_choose, translate
from backend.lib.policy import Actor, actor_require
from backend.notifications.kinds import CHANNEL_WEB_PUSH
from backend.notifications.push_subscriptions import push_subscription_count
from backend.notifications.selectors import organisation_settings
from backend.org.services import employee_email_update, employee_preferences_update
from pwa.components.shell import AppShell, PageHeader, admin_links
from pwa.components.widgets import (
    FormError,
    Loading,
    Toast,
    error_text,
    event_value,
    field_block,
    role_labels,
)
from pwa.context import use_app
from pwa.hooks import use_async_value
from pwa.routes import assets_version


@component
def MePage() -> Any:
    ctx = use_app()
    actor = actor_require(ctx.actor)
    me = use_async_value(lambda: me_get(actor=actor), [actor.account_id])
    toast, set_toast = use_state("")

    async def on_language(event_data: dict[str, Any]) -> None:
        locale = event_value(event_data)
        await employee_preferences_update(actor=actor, locale=locale)
        ctx.set_locale(locale)
        # Say it in the language just chosen ("" follows the browser, as the root will).
        shown = locale_choose(locale, None, ctx.locale) if locale else ctx.locale
        set_toast(translate(shown, "me.language_saved"))

    profile: Any = Loading(label=ctx.t("app.loading"))
    if me is not None:
        rows = [
            (ctx.t("me.employee_no"), me.get("employee_no") or "—"),
            (ctx.t("me.department"), me.get("department.name") or "—"),
            (ctx.t("me.roles"), role_labels(ctx, actor.roles)),
        ]
        profile = html.div(
            {"className": "list"},
            html.div(
                {"className": "list-cell"},
                html.span({"className": "avatar", "aria-hidden": "true"}, str(me["name"])[:1]),
                html.div(
                    {"className": "list-cell-main"},
                    html.div({"className": "list-cell-title"}, str(me["name"])),
                    html.div({"className": "list-cell-sub"}, actor.username),
                ),
            ),
            *[
                html.div(
                    {"key": label, "className": "list-cell"},
                    html.div({"className": "list-cell-main"}, label),
                    html.div({"className": "list-cell-extra"}, str(value)),
                )
                for label, value in rows
            ],
        )
    admin = admin_links(ctx)  # also in the side bar, but phones have no room for them in the tab bar
    return AppShell(
        ctx=ctx,
        active="me",
        title=ctx.t("me.title"),
        children=html.div(
            PageHeader(title=ctx.t("me.title")),
            html.section({"aria-label": ctx.t("me.profile")}, profile),
            html.section(
                {"aria-labelledby": "admin-title"},
                html.h2({"id": "admin-title", "className": "section-title"}, ctx.t("nav.admin")),
                html.div(
                    {"className": "list"},
                    *[
                        html.a(
                            {"key": key, "className": "list-cell", "href": href},
                            html.span({"className": "list-cell-main"}, ctx.t(f"nav.{key.split('/')[1]}")),
                            html.span({"className": "list-cell-extra", "aria-hidden": "true"}, "›"),
                        )
                        for key, href in admin
                    ],
                ),
            )
            if admin
            else "",
            html.section(
                {"className": "card", "aria-labelledby": "language-title"},
                html.h2({"id": "language-title"}, ctx.t("me.language")),
                field_block(
                    field_id="me-language",
                    label=ctx.t("me.language"),
                    control=html.select(
                        {
                            "id": "me-language",
                            "className": "input",
                            "value": actor.locale,
                            "onChange": on_language,
                        },
                        html.option({"value": ""}, ctx.t("me.language_auto")),
                        html.option({"value": "zh-CN"}, ctx.t("me.language_zh")),
                        html.option({"value": "en"}, ctx.t("me.language_en")),
                    ),
                ),
            ),
            EmailForm(key="email-form", current=str(me.get("email") or ""), on_saved=set_toast)
            if me is not None and actor.employee_id is not None
            else "",
            html.div(
                {"className": "list"},
                html.a(
                    {"className": "list-cell", "href": "/notifications/preferences"},
                    html.span(
                        {"className": "list-cell-main"},
                        html.span({"className": "list-cell-title"}, ctx.t("preferences.title")),
                        html.span({"className": "list-cell-sub"}, ctx.t("preferences.link_hint")),
                    ),
                    html.span({"className": "list-cell-extra", "aria-hidden": "true"}, "›"),
                ),
            ),
            PushSection(),
            PasswordForm(on_saved=lambda: set_toast(ctx.t("me.password_saved"))),
            html.form(
                {"method": "post", "action": "/auth/logout", "className": "card"},
                html.button({"type": "submit", "className": "btn btn-danger btn-block"}, ctx.t("me.logout")),
            ),
            Toast(message=toast),
        ),
    )


@component
def EmailForm(*, current: str, on_saved: Any) -> Any:
    """My address for e-mail notifications, checked by the service (the browser's check is off)."""
    ctx = use_app()
    value, set_value = use_state(current)
    error, set_error = use_state("")
    busy, set_busy = use_state(False)

    @event(prevent_default=True)
    async def submit(_event: dict[str, Any]) -> None:
        set_busy(True)
        try:
            stored = await employee_email_update(actor=ctx.actor, email=value)
        except AppError as exc:
            set_error(error_text(ctx, exc))
        else:
            set_error("")
            set_value(stored)
            on_saved(ctx.t("me.email_saved" if stored else "me.email_removed"))
        finally:
            set_busy(False)

    return html.form(
        {"className": "card", "onSubmit": submit, "aria-labelledby": "email-title", "noValidate": True},
        html.h2({"id": "email-title"}, ctx.t("me.email_title")),
        field_block(
            field_id="me-email",
            label=ctx.t("me.email"),
            hint=ctx.t("me.email_hint"),
            error=error,
            control=html.input(
                {
                    "id": "me-email",
                    "type": "email",
                    "className": "input",
                    "inputMode": "email",
                    "autoComplete": "email",
                    "autoCapitalize": "none",
                    "spellCheck": False,
                    "maxLength": 254,
                    "value": value,
                    "onChange": lambda e: set_value(event_value(e)),
                }
            ),
        ),
        html.button(
            {"type": "submit", "className": "btn btn-primary", "disabled": busy},
            ctx.t("common.saving") if busy else ctx.t("me.email_save"),
        ),
    )


@component
def PasswordForm(*, on_saved: Any) -> Any:
    ctx = use_app()
    current, set_current = use_state("")
    new, set_new = use_state("")
    error, set_error = use_state("")
    busy, set_busy = use_state(False)

    @event(prevent_default=True)
    async def submit(_event: dict[str, Any]) -> None:
        set_busy(True)
        try:
            await password_change(actor=ctx.actor, current_password=current, new_password=new)
        except AppError as exc:
            set_error(error_text(ctx, exc))
        else:
            set_error("")
            set_current("")
            set_new("")
            on_saved()
        finally:
            set_busy(False)

    return html.form(
        {"className": "card", "onSubmit": submit, "aria-labelledby": "password-title"},
        html.h2({"id": "password-title"}, ctx.t("me.password_title")),
        FormError(message=error or None),
        field_block(
            field_id="password-current",
            label=ctx.t("me.password_current"),
            control=html.input(
                {
                    "id": "password-current",
                    "type": "password",
                    "className": "input",
                    "autoComplete": "current-password",
                    "maxLength": 128,
                    "required": True,
                    "value": current,
                    "onChange": lambda e: set_current(e["target"]["value"]),
                }
            ),
        ),
        field_block(
            field_id="password-new",
            label=ctx.t("me.password_new"),
            hint=ctx.t("me.password_new_hint"),
            control=html.input(
                {
                    "id": "password-new",
                    "type": "password",
                    "className": "input",
                    "autoComplete": "new-password",
                    "minLength": 8,
                    "maxLength": 128,
                    "required": True,
                    "value": new,
                    "onChange": lambda e: set_new(e["target"]["value"]),
                }
            ),
        ),
        html.button(
            {"type": "submit", "className": "btn btn-primary", "disabled": busy},
            ctx.t("common.saving") if busy else ctx.t("me.password_save"),
        ),
    )


# Messages pwa/static/push.js shows in #push-status, by state.
PUSH_STATES = ("on", "off", "working", "denied", "unsupported", "failed")


async def _push_facts(actor: Actor) -> tuple[bool, int]:
    """Whether the organisation sends pushes, and on how many devices I receive them."""
    enabled = CHANNEL_WEB_PUSH in (await organisation_settings()).channels
    return enabled, await push_subscription_count(actor=actor)


@component
def PushSection() -> Any:
    """The push switch. pwa/static/push.js drives it in the browser: permission is asked only after
    a tap (a server round trip would lose the tap), and an iPhone outside the Home Screen app gets
    the explanation instead of a request. ReactPy leaves what the script changes alone."""
    ctx = use_app()
    actor = actor_require(ctx.actor)
    facts = use_async_value(lambda: _push_facts(actor), [actor.account_id])
    enabled, devices = facts if facts is not None else (True, 0)
    return html.section(
        {
            "id": "push-panel",
            "className": "card",
            "aria-labelledby": "push-title",
            **{
                f"data-msg-{state}": ctx.t(
                    f"push.state_{state}" if state in ("on", "off") else f"push.{state}"
                )
                for state in PUSH_STATES
            },
        },
        html.h2({"id": "push-title"}, ctx.t("push.title")),
        html.label(
            {"className": "rf-switch-row", "htmlFor": "push-toggle"},
            html.span({"className": "rf-switch-title"}, ctx.t("push.switch_label")),
            html.input(
                {
                    "id": "push-toggle",
                    "type": "checkbox",
                    "role": "switch",
                    "className": "rf-switch-input",
                    "aria-describedby": "push-status push-hint",
                    "disabled": True,  # until push.js knows what this browser can do
                }
            ),
        ),
        html.p({"id": "push-status", "className": "field-hint", "role": "status", "aria-live": "polite"}),
        html.p({"id": "push-hint", "className": "field-hint"}, ctx.t("push.hint")),
        html.p({"className": "field-hint"}, ctx.t("push.devices", count=devices)) if devices else "",
        "" if enabled else html.p({"className": "field-hint", "role": "note"}, ctx.t("push.org_disabled")),
        html.div(
            {"id": "push-ios", "role": "note", "aria-labelledby": "push-ios-title", "hidden": True},
            html.h3({"id": "push-ios-title"}, ctx.t("push.ios_title")),
            html.p(ctx.t("push.ios_text")),
            html.ol(
                {"className": "ios-steps"},
                *[html.li({"key": step}, ctx.t(f"push.ios_{step}")) for step in ("step1", "step2", "step3")],
            ),
        ),
        html.p({"className": "field-hint"}, ctx.t("push.china_note")),
        html.script({"key": "push-js", "src": f"/static/push.js?v={assets_version()}"}),
    )
