"""The Courses, Reflections and Points tabs until their features land: honest empty states."""

from __future__ import annotations

from typing import Any

from reactpy import component, html

from pwa.components.shell import AppShell, PageHeader
from pwa.components.widgets import EmptyState
from pwa.context import use_app

_ICONS = {"courses": "▶", "reflections": "✎", "points": "★"}


@component
def EmptyTabPage(*, tab: str) -> Any:
    ctx = use_app()
    return AppShell(
        ctx=ctx,
        active=tab,
        title=ctx.t(f"{tab}.title"),
        children=html.div(
            PageHeader(title=ctx.t(f"{tab}.title")),
            EmptyState(icon=_ICONS[tab], title=ctx.t(f"{tab}.empty_title"), text=ctx.t(f"{tab}.empty_text")),
        ),
    )


@component
def NotFoundPage() -> Any:
    ctx = use_app()
    return AppShell(
        ctx=ctx,
        active="",
        title=ctx.t("error.not_found"),
        children=EmptyState(
            icon="?",
            title=ctx.t("error.not_found"),
            text="",
            action=html.a({"className": "btn btn-primary", "href": "/"}, ctx.t("nav.home")),
        ),
    )
