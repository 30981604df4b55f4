"""Web Push API: the VAPID public key, and my browsers' subscriptions (subscribe / unsubscribe)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, post
from litestar.params import Body
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT

from backend.lib.http import ActorDep, app_settings, raw_header
from backend.lib.i18n import locale_from_accept_language
from backend.notifications.push_subscriptions import (
    PushSubscriptionIn,
    PushSubscriptionOut,
    PushUnsubscribeIn,
    VapidKeyOut,
    push_subscription_decode,
    push_subscription_delete,
    push_subscription_save,
    push_unsubscribe_decode,
    vapid_public_key,
)

# The body is checked by the service (a clear 422 per field), not by Litestar's generic 400.
SubscriptionBody = Annotated[
    dict[str, Any],
    Body(
        title="PushSubscription",
        description="The browser's PushSubscription.toJSON(): {endpoint, keys: {p256dh, auth}, expirationTime?}",
    ),
]
UnsubscribeBody = Annotated[dict[str, Any], Body(title="PushUnsubscribe", description="{endpoint}")]


class PushController(Controller):
    path = "/api/v1/push"
    tags = ("notifications",)

    @get(
        "/vapid-public-key",
        summary="The applicationServerKey browsers subscribe with",
    )
    async def vapid_key(self, request: Request[Any, Any, Any]) -> VapidKeyOut:
        return VapidKeyOut(key=vapid_public_key(app_settings(request)))

    @post(
        "/subscriptions",
        summary="Subscribe this browser to my pushes: 201 new, 200 when the same endpoint was updated",
        description=f"Body: {PushSubscriptionIn.__doc__}",
        status_code=HTTP_201_CREATED,
    )
    async def subscribe(
        self, actor: ActorDep, request: Request[Any, Any, Any], data: SubscriptionBody
    ) -> Response[PushSubscriptionOut]:
        saved = await push_subscription_save(
            actor=actor,
            subscription=push_subscription_decode(data),
            locale=locale_from_accept_language(raw_header(request.scope, b"accept-language"), default=""),
        )
        return Response(saved, status_code=HTTP_201_CREATED if saved.created else HTTP_200_OK)

    @delete(
        "/subscriptions",
        summary="Unsubscribe one of my browsers (another person's subscription stays)",
        description=f"Body: {PushUnsubscribeIn.__name__} {{endpoint}}",
        status_code=HTTP_204_NO_CONTENT,
    )
    async def unsubscribe(self, actor: ActorDep, data: UnsubscribeBody) -> None:
        await push_subscription_delete(actor=actor, endpoint=push_unsubscribe_decode(data).endpoint)
