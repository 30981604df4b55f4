"""HR's channel settings over HTTP, and the "send a test message" of each group channel.

GET  /api/v1/notifications/channels               the organisation's channels, secrets masked (HR, auditors)
PUT  /api/v1/notifications/channels               save them (HR); a webhook outside the allowlist → 422
POST /api/v1/notifications/channels/{channel}/test  send a test message now with the saved settings (HR)
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
from backend.notifications.channel_transports import OUTCOME_SENT, ChannelMessage, channel_send
from backend.notifications.kinds import CHANNEL_EMAIL


class ChannelTestOut(Schema):
    channel: str
    ok: bool
    error: str  # what the robot or the mail server answered ("" when it worked)


async def channel_test(*, actor: Actor | None, channel: str, locale: str) -> ChannelTestOut:
    """HR sends a test message over one group channel with the saved settings (on or off)."""
    require_role(actor, ROLE_HR_ADMIN)
    if channel not in GROUP_CHANNELS:
        raise NotFound()
    settings = await channel_settings_stored()
    if channel == CHANNEL_EMAIL and not settings.email.to_address:
        return ChannelTestOut(
            channel=channel, ok=False, error=translate(locale, "channels.test.no_recipient")
        )
    message = ChannelMessage(
        title=translate(locale, "channels.test.title"), body=translate(locale, "channels.test.body")
    )
    outcome = await channel_send(channel, settings, message)
    return ChannelTestOut(channel=channel, ok=outcome.status == OUTCOME_SENT, error=outcome.error)


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
