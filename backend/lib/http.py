"""Cross-cutting HTTP pieces: the session cookie, the acting user, the user's language, error bodies."""

from __future__ import annotations

import logging
from typing import Any

from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException, ValidationException
from litestar.params import SkipValidation
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from backend.accounts.services import session_resolve
from backend.lib.errors import AppError, Throttled
from backend.lib.i18n import locale_choose, translate
from backend.lib.policy import Actor
from backend.lib.schema import Schema
from backend.settings import Settings

logger = logging.getLogger("learnloop")
SESSION_COOKIE = "learnloop_session"
_ACTOR_KEY = "learnloop_actor"
# Handlers declare `actor: ActorDep`; the app provides it from the session cookie.
ActorDep = NamedDependency[SkipValidation[Actor | None]]  # our own value: no re-validation per request


class ErrorBody(Schema):
    code: str
    message: str
    field: str | None = None
    detail: str | None = None


class ErrorOut(Schema):
    error: ErrorBody


def raw_header(scope: Any, name: bytes) -> str | None:
    """One request header straight from the ASGI scope (building Litestar's Headers costs more)."""
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def session_token_from_cookie_header(raw: str | None) -> str | None:
    """Our one cookie, without parsing the whole header through http.cookiejar (hot path)."""
    if not raw:
        return None
    for part in raw.split(";"):
        name, _, value = part.strip().partition("=")
        if name == SESSION_COOKIE:
            return value.strip('"') or None
    return None


def app_settings(connection: ASGIConnection[Any, Any, Any, Any]) -> Settings:
    settings: Settings = connection.app.state.settings
    return settings


def client_address(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    if app_settings(connection).server.trust_proxy:
        forwarded = connection.headers.get("x-forwarded-for", "")
        if forwarded:
            return forwarded.split(",")[0].strip()[:64]
    client = connection.client
    return client.host if client else "unknown"


def request_is_secure(connection: ASGIConnection[Any, Any, Any, Any]) -> bool:
    if connection.url.scheme == "https":
        return True
    return (
        app_settings(connection).server.trust_proxy and connection.headers.get("x-forwarded-proto") == "https"
    )


async def actor_from_connection(connection: ASGIConnection[Any, Any, Any, Any]) -> Actor | None:
    """The signed-in actor of this request (resolved once per request), or None."""
    cached = connection.scope.get("state", {}).get(_ACTOR_KEY, ...)
    if cached is not ...:
        return cached
    token = session_token_from_cookie_header(raw_header(connection.scope, b"cookie"))
    actor = await session_resolve(token, auth=app_settings(connection).auth)
    connection.scope.setdefault("state", {})[_ACTOR_KEY] = actor
    return actor


async def provide_actor(request: Request[Any, Any, Any]) -> Actor | None:
    return await actor_from_connection(request)


def request_locale(connection: ASGIConnection[Any, Any, Any, Any], actor: Actor | None = None) -> str:
    return locale_choose(
        actor.locale if actor else None,
        raw_header(connection.scope, b"accept-language"),
        app_settings(connection).i18n.default_locale,
    )


def _locale_of(request: Request[Any, Any, Any]) -> str:
    actor = request.scope.get("state", {}).get(_ACTOR_KEY)
    return request_locale(request, actor if isinstance(actor, Actor) else None)


def error_response(request: Request[Any, Any, Any], exc: Exception) -> Response[ErrorOut]:
    """Render any error as {"error": {"code", "message", ...}} in the user's language."""
    locale = _locale_of(request)
    headers: dict[str, str] = {}
    if isinstance(exc, AppError):
        status, code, field, detail = exc.status_code, exc.key, exc.field, None
        message = translate(locale, exc.key, **exc.params)
        if isinstance(exc, Throttled):
            headers["Retry-After"] = str(exc.retry_after)
    elif isinstance(exc, ValidationException):
        status, field = 400, None
        detail = _validation_detail(exc)
        code = "error.body_invalid"
        message = translate(locale, code, detail=detail)
    elif isinstance(exc, HTTPException) and exc.status_code == 400:
        status, field, detail, code = 400, None, str(exc.detail)[:300], "error.body_invalid"
        message = translate(locale, code, detail=detail)
    elif isinstance(exc, HTTPException):
        status, field, detail = exc.status_code, None, None
        code = {
            400: "error.bad_request",
            401: "error.not_authenticated",
            403: "error.forbidden",
            404: "error.not_found",
            405: "error.method_not_allowed",
            413: "error.too_large",
            429: "error.throttled",
        }.get(status, "error.bad_request" if status < 500 else "error.server")
        message = translate(locale, code)
        headers.update(exc.headers or {})
    else:
        logger.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        status, code, field, detail = HTTP_500_INTERNAL_SERVER_ERROR, "error.server", None, None
        message = translate(locale, code)
    body = ErrorOut(
        error=ErrorBody(code=code.removeprefix("error."), message=message, field=field, detail=detail)
    )
    return Response(body, status_code=status, headers=headers)


def _validation_detail(exc: ValidationException) -> str:
    extra = exc.extra
    if isinstance(extra, list) and extra:
        first = extra[0]
        if isinstance(first, dict):
            message = str(first.get("message", ""))
            key = first.get("key")
            return f"{message} ({key})" if key else message
    return str(exc.detail)[:300]
