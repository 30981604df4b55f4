"""HR reminders API: compose (now or scheduled), preview a target, list with statistics, who got one,
cancel."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec
from litestar import Controller, Response, get, post
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from backend.lib.http import ActorDep
from backend.lib.schema import Schema
from backend.notifications.reminder_recipients import ReminderRecipientOut, reminder_recipients
from backend.notifications.reminders import (
    ReminderCreatedOut,
    ReminderOut,
    ReminderPreviewOut,
    ReminderTarget,
    reminder_cancel,
    reminder_create,
    reminder_list,
    reminder_preview,
)
from backend.org.schemas import Page

PageNo = Annotated[int, QueryParameter(ge=1, le=10_000)]


class ReminderIn(Schema):
    title: str
    target: ReminderTarget = msgspec.field(default_factory=ReminderTarget)
    body: str = ""
    url: str = ""
    send_at: dt.datetime | None = None  # absent: now


class ReminderPreviewIn(Schema):
    target: ReminderTarget = msgspec.field(default_factory=ReminderTarget)


class ReminderController(Controller):
    path = "/api/v1/reminders"
    tags = ("notifications",)

    @post("", status_code=HTTP_201_CREATED, summary="Send a reminder to a target now, or schedule it")
    async def create(self, actor: ActorDep, data: JSONBody[ReminderIn]) -> Response[ReminderCreatedOut]:
        created = await reminder_create(
            actor=actor,
            target=data.target,
            title=data.title,
            body=data.body,
            url=data.url,
            send_at=data.send_at,
        )
        return Response(created, status_code=HTTP_201_CREATED)

    @post("/preview", status_code=200, summary="How many people a target reaches, and the first names")
    async def preview(self, actor: ActorDep, data: JSONBody[ReminderPreviewIn]) -> ReminderPreviewOut:
        return await reminder_preview(actor=actor, target=data.target)

    @get("", summary="Reminders with delivery statistics per channel (HR: all; a manager: theirs)")
    async def list_(self, actor: ActorDep, page: PageNo = 1) -> Page[ReminderOut]:
        return await reminder_list(actor=actor, page=page)

    @get(
        "/{reminder_id:int}/recipients",
        summary="Who got a reminder: read in the app or not, and each channel's outcome (unread first)",
    )
    async def recipients(
        self, actor: ActorDep, reminder_id: FromPath[int], page: PageNo = 1
    ) -> Page[ReminderRecipientOut]:
        return await reminder_recipients(actor=actor, reminder_id=reminder_id, page=page)

    @post(
        "/{reminder_id:int}/cancel",
        status_code=HTTP_204_NO_CONTENT,
        summary="Cancel a scheduled reminder (sent or cancelled already: 409)",
    )
    async def cancel(self, actor: ActorDep, reminder_id: FromPath[int]) -> None:
        await reminder_cancel(actor=actor, reminder_id=reminder_id)
