"""The gate in front of ReactPy's websocket: Litestar's middleware does not run for /reactpy/*.

It refuses sockets from foreign origins, resolves the session cookie into an Actor and hands the
settings and the actor to the components through the ASGI scope.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from backend.accounts.services import session_resolve
from backend.lib.http import raw_header, session_token_from_cookie_header
from backend.settings import Settings

SCOPE_SETTINGS = "learnloop.settings"
SCOPE_ACTOR = "learnloop.actor"
SCOPE_TOKEN = "learnloop.session_token"  # noqa: S105 - a scope key, not a secret
REACTPY_PREFIX = "/reactpy/"

ASGIApp = Any


def origin_allowed(scope: dict[str, Any], settings: Settings) -> bool:
    """Same host as the request, or one of the configured origins. A missing Origin is refused."""
    origin = raw_header(scope, b"origin")
    if not origin:
        return False
    if origin in settings.server.allowed_origins:
        return True
    host = raw_header(scope, b"host")
    return bool(host) and urlsplit(origin).netloc == host


class UIGate:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "websocket" and scope["path"].startswith(REACTPY_PREFIX):
            if not origin_allowed(scope, self.settings):
                await receive()  # websocket.connect
                await send({"type": "websocket.close", "code": 4403})
                return
            token = session_token_from_cookie_header(raw_header(scope, b"cookie"))
            scope = dict(scope)
            scope[SCOPE_SETTINGS] = self.settings
            scope[SCOPE_TOKEN] = token
            scope[SCOPE_ACTOR] = await session_resolve(token, auth=self.settings.auth)
        await self.app(scope, receive, send)
