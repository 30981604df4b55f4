"""Sign-in, sign-out, the signed-in person and their settings."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Request, Response, get, post, put
from litestar.datastructures import Cookie
from litestar.params import JSONBody, URLEncodedBody
from litestar.response import Redirect
from litestar.status_codes import HTTP_204_NO_CONTENT, HTTP_303_SEE_OTHER

from backend.accounts.schemas import EmailIn, EmailOut, LoginIn, MeOut, PasswordChangeIn, PreferencesIn
from backend.accounts.services import SignIn, password_change, session_login, session_logout
from backend.lib.errors import AppError, NotAuthenticated
from backend.lib.http import (
    SESSION_COOKIE,
    ActorDep,
    app_settings,
    client_address,
    request_is_secure,
    request_locale,
)
from backend.lib.policy import Actor, actor_require
from backend.org.schemas import Ref
from backend.org.services import employee_email_update, employee_preferences_update


def session_cookie(request: Request[Any, Any, Any], token: str, max_age: int | None) -> Cookie:
    return Cookie(
        key=SESSION_COOKIE,
        value=token,
        httponly=True,
        samesite="lax",
        secure=request_is_secure(request),
        path="/",
        max_age=max_age,
    )


def _cookie_max_age(request: Request[Any, Any, Any]) -> int:
    return app_settings(request).auth.session_absolute_minutes * 60


async def _sign_in(request: Request[Any, Any, Any], username: str, password: str) -> SignIn:
    return await session_login(
        login=username,
        password=password,
        address=client_address(request),
        user_agent=request.headers.get("user-agent", ""),
        auth=app_settings(request).auth,
    )


def _me_out(actor: Actor, locale: str) -> MeOut:
    department = (
        Ref(id=actor.department_id, name=actor.department_name or "")
        if actor.department_id is not None
        else None
    )
    return MeOut(
        id=actor.employee_id,
        account_id=actor.account_id,
        username=actor.username,
        name=actor.name,
        employee_no=actor.employee_no,
        department=department,
        roles=sorted(actor.roles),
        locale=locale,
        locale_setting=actor.locale,
    )


class AuthController(Controller):
    path = "/api/v1"
    tags = ("accounts",)

    @post("/auth/login", status_code=200, summary="Sign in with account name or employee number")
    async def login(self, request: Request[Any, Any, Any], data: JSONBody[LoginIn]) -> Response[MeOut]:
        sign_in = await _sign_in(request, data.username, data.password)
        me = _me_out(sign_in.actor, request_locale(request, sign_in.actor))
        return Response(me, cookies=[session_cookie(request, sign_in.token, _cookie_max_age(request))])

    @post("/auth/logout", status_code=HTTP_204_NO_CONTENT, summary="Sign out (ends this session)")
    async def logout(self, request: Request[Any, Any, Any]) -> Response[None]:
        await session_logout(request.cookies.get(SESSION_COOKIE))
        return Response(None, status_code=HTTP_204_NO_CONTENT, cookies=[session_cookie(request, "", 0)])

    @get("/me", summary="The signed-in person")
    async def me(self, request: Request[Any, Any, Any], actor: ActorDep) -> MeOut:
        actor = actor_require(actor)
        return _me_out(actor, request_locale(request, actor))

    @put("/me/password", status_code=HTTP_204_NO_CONTENT, summary="Change my password")
    async def change_password(self, actor: ActorDep, data: JSONBody[PasswordChangeIn]) -> None:
        await password_change(
            actor=actor, current_password=data.current_password, new_password=data.new_password
        )

    @put(
        "/me/preferences", status_code=HTTP_204_NO_CONTENT, summary="Set my language ('' follows the browser)"
    )
    async def preferences(self, actor: ActorDep, data: JSONBody[PreferencesIn]) -> None:
        await employee_preferences_update(actor=actor, locale=data.locale)

    @put("/me/email", summary="Set my e-mail address for notifications ('' removes it)")
    async def email(self, actor: ActorDep, data: JSONBody[EmailIn]) -> EmailOut:
        return EmailOut(email=await employee_email_update(actor=actor, email=data.email))


class LoginForm(LoginIn):
    next: str = "/"


def _safe_next(target: str) -> str:
    """Only same-site relative paths: never redirect a user off-site after sign-in."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target[:500]


class FormAuthController(Controller):
    """The sign-in page posts a plain HTML form here: cookies must be set by an HTTP response."""

    path = "/auth"
    include_in_schema = False

    @post("/login", status_code=HTTP_303_SEE_OTHER)
    async def login(
        self,
        request: Request[Any, Any, Any],
        data: URLEncodedBody[LoginForm],
    ) -> Redirect:
        target = _safe_next(data.next)
        try:
            sign_in = await _sign_in(request, data.username, data.password)
        except NotAuthenticated:
            query = urlencode({"error": "invalid", "next": target, "username": data.username[:64]})
            return Redirect(f"/login?{query}", status_code=HTTP_303_SEE_OTHER)
        except AppError as exc:
            query = urlencode({"error": exc.key.removeprefix("error."), "next": target})
            return Redirect(f"/login?{query}", status_code=HTTP_303_SEE_OTHER)
        return Redirect(
            target,
            status_code=HTTP_303_SEE_OTHER,
            cookies=[session_cookie(request, sign_in.token, _cookie_max_age(request))],
        )

    @post("/logout", status_code=HTTP_303_SEE_OTHER)
    async def logout(self, request: Request[Any, Any, Any]) -> Redirect:
        await session_logout(request.cookies.get(SESSION_COOKIE))
        return Redirect("/login", status_code=HTTP_303_SEE_OTHER, cookies=[session_cookie(request, "", 0)])
