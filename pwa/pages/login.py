"""Sign-in. A plain HTML form posted to /auth/login: the session cookie must come from an HTTP response."""

from __future__ import annotations

from typing import Any

from reactpy import component, html

from pwa.components.widgets import FormError
from pwa.context import use_app

DEMO_PASSWORD = "learnloop-demo"  # noqa: S105 - published demo password
# (account, catalog-free display name) - the demo people of backend.demo.
DEMO_ACCOUNTS = (
    ("zhang", "张姐 · 销售部"),
    ("wang", "王工 · 研发部"),
    ("manager", "销售部经理"),
    ("trainer", "生产部内训师"),
    ("hr", "人力资源管理员"),
)


@component
def LoginPage(*, next_path: str = "/") -> Any:
    ctx = use_app()
    error = ctx.query("error")
    message = ""
    if error == "invalid":
        message = ctx.t("login.invalid")
    elif error:
        message = ctx.t("login.throttled") if "throttled" in error else ctx.t(f"error.{error}")
    next_value = ctx.query("next", next_path) or "/"
    demo = ctx.settings.server.demo
    return html.main(
        {"className": "app-root login", "id": "main"},
        html.div(
            {"className": "card login-card"},
            html.img(
                {
                    "src": "/static/icons/icon-192.png",
                    "alt": "",
                    "width": "64",
                    "height": "64",
                    "className": "login-logo",
                }
            ),
            html.h1(ctx.t("login.title")),
            html.p({"className": "muted"}, ctx.t("login.subtitle")),
            FormError(message=message or None),
            html.form(
                {"method": "post", "action": "/auth/login", "className": "login-form"},
                html.input({"type": "hidden", "name": "next", "value": next_value}),
                html.div(
                    {"className": "field"},
                    html.label({"htmlFor": "login-username"}, ctx.t("login.username")),
                    html.input(
                        {
                            "id": "login-username",
                            "name": "username",
                            "className": "input",
                            "autoComplete": "username",
                            "autoCapitalize": "none",
                            "required": True,
                            "maxLength": 64,
                            "value": ctx.query("username"),
                        }
                    ),
                ),
                html.div(
                    {"className": "field"},
                    html.label({"htmlFor": "login-password"}, ctx.t("login.password")),
                    html.input(
                        {
                            "id": "login-password",
                            "name": "password",
                            "type": "password",
                            "className": "input",
                            "autoComplete": "current-password",
                            "required": True,
                            "maxLength": 128,
                        }
                    ),
                ),
                html.button(
                    {"type": "submit", "className": "btn btn-primary btn-block"}, ctx.t("login.submit")
                ),
            ),
            _demo_accounts(ctx, next_value) if demo else "",
        ),
    )


def _demo_accounts(ctx: Any, next_value: str) -> Any:
    return html.section(
        {"className": "demo-accounts", "aria-label": ctx.t("login.demo_title")},
        html.h2(ctx.t("login.demo_title")),
        html.p({"className": "muted"}, ctx.t("login.demo_hint")),
        *[
            html.form(
                {"key": username, "method": "post", "action": "/auth/login"},
                html.input({"type": "hidden", "name": "username", "value": username}),
                html.input({"type": "hidden", "name": "password", "value": DEMO_PASSWORD}),
                html.input({"type": "hidden", "name": "next", "value": next_value}),
                html.button(
                    {
                        "type": "submit",
                        "className": "btn btn-block",
                        "aria-label": ctx.t("login.demo_sign_in_as", name=username),
                    },
                    html.strong(username),
                    html.span({"className": "muted"}, f" · {label}"),
                ),
            )
            for username, label in DEMO_ACCOUNTS
        ],
    )
