"""/notifications/preferences: each person chooses which notifications also reach them outside the app.

One card per kind, one switch per outside channel the organisation enabled; a switch saves at once
(preference_set) and goes back with the reason when saving fails. The in-app centre is always on.
WeCom and DingTalk robots post to a group chat and carry only the group kinds (channel_senders), so
those kinds alone get a group switch, and the page says the message is the group's, not personal.
Whether this browser receives pushes only the browser knows: push_check.js reveals the hint then.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from reactpy import component, html, use_state

from backend.accounts.selectors import me_get
from backend.lib.errors import AppError
from backend.lib.policy import ROLE_HR_ADMIN, Actor, actor_require
from backend.notifications.kinds import (
    CHANNEL_DINGTALK,
    CHANNEL_EMAIL,
    CHANNEL_WEB_PUSH,
    CHANNEL_WECOM,
    GROUP_KINDS,
    KIND_REDEMPTION_REQUESTED,
    KINDS,
    OUTSIDE_CHANNELS,
)
from backend.notifications.selectors import preferences_mine
from backend.notifications.services import preference_set
from pwa.components.shell import AppShell, PageHeader
from pwa.components.widgets import FormError, Loading, Toast, error_text
from pwa.context import UIContext, use_app
from pwa.hooks import use_async_value
from pwa.routes import assets_version

logger = logging.getLogger("learnloop.ui")

PATH = "/notifications/preferences"
ROBOT_CHANNELS = (CHANNEL_WECOM, CHANNEL_DINGTALK)  # post to a group chat, never to one person


@dataclass(frozen=True)
class Choices:
    channels: tuple[str, ...]  # the outside channels the organisation enabled, in their usual order
    enabled: dict[tuple[str, str], bool]  # (kind, channel) → on, for those channels
    email: str  # my own address ("" = none: personal kinds are not mailed)


async def choices_mine(actor: Actor) -> Choices:
    preferences = await preferences_mine(actor=actor)
    me = await me_get(actor=actor)
    available = {item.channel for item in preferences if item.available}
    return Choices(
        channels=tuple(channel for channel in OUTSIDE_CHANNELS if channel in available),
        enabled={(item.kind, item.channel): item.enabled for item in preferences if item.available},
        email=str(me.get("email") or ""),
    )


def kinds_for(actor: Actor) -> list[str]:
    """Every kind, but redemption requests only for those who decide them (HR and managers)."""
    decides = actor.has(ROLE_HR_ADMIN) or bool(actor.managed_paths)
    return [kind for kind in KINDS if kind != KIND_REDEMPTION_REQUESTED or decides]


def channels_for(kind: str, channels: tuple[str, ...]) -> list[str]:
    """The channels that can carry `kind`: the robots only post the group kinds."""
    return [c for c in channels if c not in ROBOT_CHANNELS or kind in GROUP_KINDS]


@component
def NotificationPreferencesPage() -> Any:
    ctx = use_app()
    actor = actor_require(ctx.actor)
    title = ctx.t("preferences.title")
    if actor.employee_id is None:
        body: Any = html.p({"className": "card", "role": "note"}, ctx.t("preferences.no_employee"))
    else:
        body = ChoicesPanel()
    return AppShell(
        ctx=ctx,
        active="me",
        title=title,
        children=html.div(
            PageHeader(title=title, back_href="/me", back_label=ctx.t("preferences.back")),
            html.p({"className": "muted"}, ctx.t("preferences.intro")),
            body,
        ),
    )


@component
def ChoicesPanel() -> Any:
    ctx = use_app()
    actor = actor_require(ctx.actor)
    loaded = use_async_value(lambda: choices_mine(actor), [actor.account_id])
    toast, set_toast = use_state("")
    if loaded is None:
        return Loading(label=ctx.t("preferences.loading"))
    if not loaded.channels:
        return html.section(
            {"className": "card", "role": "note", "aria-label": ctx.t("preferences.none_title")},
            html.p(ctx.t("preferences.none_enabled")),
            html.a({"className": "btn", "href": "/notifications"}, ctx.t("preferences.open_centre")),
        )
    return html.div(
        _channels_card(ctx, loaded),
        *[
            _kind_card(ctx, kind, channels_for(kind, loaded.channels), loaded, on_saved=set_toast)
            for kind in kinds_for(actor)
        ],
        Toast(message=toast or None),
    )


def _channels_card(ctx: UIContext, loaded: Choices) -> Any:
    """What each enabled channel does for me, in one place, before the switches."""
    lines: list[Any] = []
    for channel in loaded.channels:
        name = html.strong(ctx.t(f"preferences.channel.{channel}"))
        if channel == CHANNEL_WEB_PUSH:
            lines.append(
                html.div(
                    {"key": channel},
                    html.p(name, " ", ctx.t("preferences.about.web_push")),
                    # Shown by push_check.js when this browser has no subscription; never asks here.
                    html.p(
                        {"id": "push-missing", "className": "field-hint", "role": "note", "hidden": True},
                        ctx.t("preferences.push_missing"),
                        " ",
                        html.a({"href": "/me"}, ctx.t("preferences.push_missing_link")),
                    ),
                    html.script({"key": "push-check", "src": f"/static/push_check.js?v={assets_version()}"}),
                )
            )
        elif channel == CHANNEL_EMAIL:
            text = (
                ctx.t("preferences.about.email_to", address=loaded.email)
                if loaded.email
                else ctx.t("preferences.about.email_none")
            )
            link = "" if loaded.email else html.a({"href": "/me"}, ctx.t("preferences.email_link"))
            lines.append(html.p({"key": channel}, name, " ", text, " ", link))
        else:
            lines.append(html.p({"key": channel}, name, " ", ctx.t("preferences.about.group")))
    if any(channel in ROBOT_CHANNELS for channel in loaded.channels):
        lines.append(html.p({"key": "group-off", "className": "field-hint"}, ctx.t("preferences.group_off")))
    return html.section(
        {"key": "channels", "className": "card", "aria-labelledby": "np-channels-title"},
        html.h2({"id": "np-channels-title"}, ctx.t("preferences.channels_title")),
        *lines,
    )


def _kind_card(ctx: UIContext, kind: str, channels: list[str], loaded: Choices, *, on_saved: Any) -> Any:
    title_id = f"np-kind-{kind}"
    return html.section(
        {"key": kind, "className": "card", "aria-labelledby": title_id},
        html.h2({"id": title_id}, ctx.t(f"notifications.kind.{kind}")),
        html.p({"className": "muted"}, ctx.t(f"preferences.kind.{kind}")),
        *[
            PreferenceSwitch(
                key=channel,
                kind=kind,
                channel=channel,
                initial=loaded.enabled.get((kind, channel), True),
                on_saved=on_saved,
            )
            for channel in channels
        ],
        "" if channels else html.p({"className": "field-hint"}, ctx.t("preferences.only_in_app")),
    )


@component
def PreferenceSwitch(*, kind: str, channel: str, initial: bool, on_saved: Any) -> Any:
    """One kind on one channel: saved on change; back to what it was, with the reason, if saving fails."""
    ctx = use_app()
    on, set_on = use_state(initial)
    busy, set_busy = use_state(False)
    failure, set_failure = use_state("")
    switch_id = f"np-{kind}-{channel}"
    words = {
        "kind": ctx.t(f"notifications.kind.{kind}"),
        "channel": ctx.t(f"preferences.channel.{channel}"),
    }

    async def toggle(_event: dict[str, Any]) -> None:
        if busy:
            return
        wanted = not on
        set_on(wanted)
        set_busy(True)
        set_failure("")
        try:
            await preference_set(actor=ctx.actor, kind=kind, channel=channel, enabled=wanted)
        except AppError as exc:
            set_on(not wanted)
            set_failure(ctx.t("preferences.failed_reason", reason=error_text(ctx, exc), **words))
        except Exception:  # the database or the network: say so and show what is still stored
            logger.warning("saving the preference %s/%s failed", kind, channel, exc_info=True)
            set_on(not wanted)
            set_failure(ctx.t("preferences.failed", **words))
        else:
            on_saved(ctx.t("preferences.saved_on" if wanted else "preferences.saved_off", **words))
        finally:
            set_busy(False)

    return html.div(
        html.label(
            {"className": "rf-switch-row", "htmlFor": switch_id},
            html.span({"id": f"{switch_id}-label", "className": "rf-switch-title"}, words["channel"]),
            html.input(
                {
                    "id": switch_id,
                    "type": "checkbox",
                    "role": "switch",
                    "className": "rf-switch-input",
                    "checked": on,
                    "aria-checked": "true" if on else "false",
                    # "点赞和评论 电子邮件": the card's title and the row's text, both visible
                    "aria-labelledby": f"np-kind-{kind} {switch_id}-label",
                    "aria-busy": "true" if busy else "false",
                    "onChange": toggle,
                }
            ),
        ),
        FormError(message=failure or None),
    )
