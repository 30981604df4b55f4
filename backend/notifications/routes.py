"""Notifications API: my centre, unread count, mark read, preferences; HR's quiet hours."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post, put
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.response import Redirect
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT, HTTP_303_SEE_OTHER

from backend.lib.http import ActorDep, request_locale
from backend.notifications.schemas import (
    NotificationOut,
    NotificationSettingsIn,
    NotificationSettingsOut,
    PreferenceIn,
    PreferenceOut,
    ReadAllOut,
    UnreadOut,
)
from backend.notifications.selectors import (
    notification_settings_get,
    notifications_mine,
    preferences_mine,
    unread_count,
)
from backend.notifications.services import (
    notification_read,
    notifications_read_all,
    preference_set,
    quiet_hours_set,
)
from backend.org.schemas import Page

PageNo = Annotated[int, QueryParameter(ge=1, le=10_000)]
CENTRE_PATH = "/notifications"


class NotificationController(Controller):
    path = "/api/v1/notifications"
    tags = ("notifications",)

    @get("", summary="My notifications, newest first, in my language")
    async def mine(
        self, actor: ActorDep, request: Request[Any, Any, Any], page: PageNo = 1
    ) -> Page[NotificationOut]:
        return await notifications_mine(actor=actor, locale=request_locale(request, actor), page=page)

    @get("/unread-count", summary="How many of my notifications are unread (the bell's badge)")
    async def unread(self, actor: ActorDep) -> UnreadOut:
        return UnreadOut(unread=await unread_count(actor=actor))

    @post(
        "/{notification_id:int}/read",
        status_code=HTTP_204_NO_CONTENT,
        summary="Mark one of my notifications read (another person's: 404)",
    )
    async def read(self, actor: ActorDep, notification_id: FromPath[int]) -> None:
        await notification_read(actor=actor, notification_id=notification_id)

    @post("/read-all", status_code=HTTP_200_OK, summary="Mark all my notifications read")
    async def read_all(self, actor: ActorDep) -> ReadAllOut:
        return ReadAllOut(marked=await notifications_read_all(actor=actor))

    @get(
        "/{notification_id:int}/open",
        summary="Open a notification's link (a page of the app), marking it read",
        status_code=HTTP_303_SEE_OTHER,
    )
    async def open(self, actor: ActorDep, notification_id: FromPath[int]) -> Redirect:
        url = await notification_read(actor=actor, notification_id=notification_id)
        return Redirect(path=url or CENTRE_PATH, status_code=HTTP_303_SEE_OTHER)

    @get("/preferences", summary="My choices per kind and channel outside the app")
    async def preferences(self, actor: ActorDep) -> list[PreferenceOut]:
        return await preferences_mine(actor=actor)

    @put("/preferences", summary="Turn one kind on one outside channel on or off for myself")
    async def preference(self, actor: ActorDep, data: JSONBody[PreferenceIn]) -> list[PreferenceOut]:
        await preference_set(actor=actor, kind=data.kind, channel=data.channel, enabled=data.enabled)
        return await preferences_mine(actor=actor)

    @get("/settings", summary="The organisation's quiet hours and channels (HR, auditors)")
    async def settings(self, actor: ActorDep) -> NotificationSettingsOut:
        return await notification_settings_get(actor=actor)

    @put("/settings", summary="Set the organisation's quiet hours (HR)")
    async def settings_set(
        self, actor: ActorDep, data: JSONBody[NotificationSettingsIn]
    ) -> Response[NotificationSettingsOut]:
        await quiet_hours_set(actor=actor, start=data.quiet_start, end=data.quiet_end)
        return Response(await notification_settings_get(actor=actor))
