"""HR's channel settings over HTTP, and the "send a test message" of each group channel.

GET  /api/v1/notifications/channels               the organisation's channels, secrets masked (HR, auditors)
PUT  /api/v1/notifications/channels               save them (HR); a webhook outside the allowlist → 422
POST /api/v1/notifications/channels/{channel}/test  send a test message now with the saved settings (HR);
                                                   e-mail goes to HR's own address, else the mailing list
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post, put
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK

from backend.lib.errors import NotFound
from backend.lib.http import ActorDep, request_locale
from backend.lib.i18n import translate
from backend.lib.policy import ROLE_HR_ADMIN, Actor, require_role
from backend.lib.schema import Schema
from backend.notifications.channel_senders import GROUP_CHANNELS
from backend.notifications.channel_settings import (
    ChannelSettings,
    channel_settings_get,
    channel_settings_set,
    channel_settings_stored,
)
from backend.notifications.channel_transports import OUTCOME_SENT, ChannelMessage, channel_send, email_send
from backend.notifications.kinds import CHANNEL_EMAIL
from backend.org.tables import Employee


class ChannelTestOut(Schema):
    channel: str
    ok: bool
    error: str  # what the robot or the mail server answered ("" when it worked)
    recipient: str = ""  # e-mail: the address the test went to


async def _own_address(actor: Actor) -> str:
    if actor.employee_id is None:
        return ""
    row = await Employee.select(Employee.email).where(Employee.id == actor.employee_id).first()
    return str(row["email"]) if row else ""


async def channel_test(*, actor: Actor | None, channel: str, locale: str) -> ChannelTestOut:
    """HR sends a test message over one group channel with the saved settings (on or off). A test
    e-mail goes to HR's own address (as people's notifications do), else to the mailing list."""
    actor = require_role(actor, ROLE_HR_ADMIN)
    if channel not in GROUP_CHANNELS:
        raise NotFound()
    settings = await channel_settings_stored()
    message = ChannelMessage(
        title=translate(locale, "channels.test.title"), body=translate(locale, "channels.test.body")
    )
    if channel != CHANNEL_EMAIL:
        outcome = await channel_send(channel, settings, message)
        return ChannelTestOut(channel=channel, ok=outcome.status == OUTCOME_SENT, error=outcome.error)
    recipient = await _own_address(actor) or settings.email.to_address
    if not recipient:
        return ChannelTestOut(
            channel=channel, ok=False, error=translate(locale, "channels.test.no_recipient")
        )
    outcome = await email_send(settings.email, recipient, message)
    return ChannelTestOut(
        channel=channel, ok=outcome.status == OUTCOME_SENT, error=outcome.error, recipient=recipient
    )


class ChannelController(Controller):
    path = "/api/v1/notifications/channels"
    tags = ("notifications",)

    @get("", summary="The organisation's channels outside the app, secrets masked (HR, auditors)")
    async def channels(self, actor: ActorDep) -> ChannelSettings:
        return await channel_settings_get(actor=actor)

    @put("", summary="Save the organisation's channels (HR); a masked or empty secret keeps the stored one")
    async def channels_set(self, actor: ActorDep, data: JSONBody[ChannelSettings]) -> ChannelSettings:
        return await channel_settings_set(actor=actor, settings=data)

    @post(
        "/{channel:str}/test",
        status_code=HTTP_200_OK,
        summary="Send a test message over a group channel (HR)",
    )
    async def test(
        self, actor: ActorDep, request: Request[Any, Any, Any], channel: FromPath[str]
    ) -> ChannelTestOut:
        return await channel_test(actor=actor, channel=channel, locale=request_locale(request, actor))
