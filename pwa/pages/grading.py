"""Reflections I grade: waiting for a grade, graded, returned for revision; each opens the reflection."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from reactpy import component, html, use_state

from backend.lib.errors import AppError, PermissionDenied
from backend.lib.policy import ROLE_HR_ADMIN, ROLE_TRAINER, Actor, actor_require
from backend.org.schemas import Page
from backend.reflections.schemas import ReflectionOut
from backend.reflections.selectors import grading_queue
from pwa.components.admin_widgets import use_loaded
from pwa.components.shell import AppShell, PageHeader
from pwa.components.widgets import EmptyState, FormError, Loading, Pager, error_text
from pwa.context import UIContext, use_app

STATES = ("submitted", "graded", "returned")
EXCERPT_CHARS = 90


def may_grade(actor: Actor) -> bool:
    """Graders: HR, trainers (their trainings) and managers (their subtree)."""
    return actor.has(ROLE_HR_ADMIN, ROLE_TRAINER) or bool(actor.managed_paths)


def local_time(ctx: UIContext, value: dt.datetime | None) -> str:
    """A moment in the organisation's time zone, e.g. 2026-03-05 14:30."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(ZoneInfo(ctx.settings.i18n.timezone)).strftime("%Y-%m-%d %H:%M")


def _shell(ctx: UIContext, *children: Any) -> Any:
    title = ctx.t("nav.grading")
    return AppShell(
        ctx=ctx,
        active="reflections/grading",
        title=title,
        children=html.div(
            PageHeader(title=title, back_href="/reflections", back_label=ctx.t("radmin.grading.back")),
            *children,
        ),
    )


@component
def GradingPage() -> Any:
    ctx = use_app()
    actor = actor_require(ctx.actor)
    state, set_state = use_state("submitted")
    page, set_page = use_state(1)

    async def load() -> Page[ReflectionOut]:
        if not may_grade(actor):
            raise PermissionDenied()
        return await grading_queue(actor=actor, state=state, page=page)  # type: ignore[arg-type]

    result = use_loaded(load, [actor.account_id, state, page])
    if not may_grade(actor):
        return _shell(
            ctx,
            EmptyState(
                icon="📝",
                title=ctx.t("radmin.grading.not_grader_title"),
                text=ctx.t("radmin.grading.not_grader_text"),
                action=html.a(
                    {"className": "btn btn-primary", "href": "/reflections"}, ctx.t("nav.reflections")
                ),
            ),
        )

    def choose(value: str) -> Any:
        def handler(_event: dict[str, Any]) -> None:
            set_state(value)
            set_page(1)

        return handler

    tabs = html.div(
        {"className": "toolbar", "role": "tablist", "aria-label": ctx.t("radmin.grading.tabs")},
        *[
            html.button(
                {
                    "key": value,
                    "id": f"grading-tab-{value}",
                    "type": "button",
                    "role": "tab",
                    "className": "chip",
                    "aria-selected": "true" if value == state else "false",
                    "aria-controls": "grading-panel",
                    "onClick": choose(value),
                },
                ctx.t(f"radmin.grading.tab_{value}"),
            )
            for value in STATES
        ],
    )
    return _shell(
        ctx,
        tabs,
        html.section(
            {"id": "grading-panel", "role": "tabpanel", "aria-labelledby": f"grading-tab-{state}"},
            _results(ctx, state, result, on_page=set_page),
        ),
    )


def _results(
    ctx: UIContext, state: str, result: Page[ReflectionOut] | AppError | None, *, on_page: Any
) -> Any:
    if result is None:
        return Loading(label=ctx.t("app.loading"))
    if isinstance(result, AppError):
        return FormError(message=error_text(ctx, result))
    if not result.items:
        return EmptyState(
            icon="✓" if state == "submitted" else "📄",
            title=ctx.t(f"radmin.grading.empty_{state}"),
            text=ctx.t(f"radmin.grading.empty_{state}_text"),
        )
    return html.div(
        html.p(
            {"className": "muted", "aria-live": "polite"}, ctx.t("radmin.grading.total", total=result.total)
        ),
        html.div({"className": "list"}, *[_card(ctx, item) for item in result.items]),
        Pager(ctx=ctx, page=result.page, pages=result.pages, total=result.total, on_page=on_page)
        if result.pages > 1
        else "",
    )


def _excerpt(body: str) -> str:
    body = " ".join(body.split())
    return body if len(body) <= EXCERPT_CHARS else body[:EXCERPT_CHARS].rstrip("…") + "…"


def _card(ctx: UIContext, item: ReflectionOut) -> Any:
    extra = []
    if item.late:
        extra.append(html.span({"key": "late", "className": "chip"}, ctx.t("radmin.grading.late")))
    if item.grade:
        extra.append(
            html.span({"key": "grade", "className": "chip"}, ctx.t(f"reflections.grade_{item.grade}"))
        )
    return html.article(
        {"key": str(item.id), "className": "list-cell"},
        html.div(
            {"className": "list-cell-main"},
            html.a(
                {
                    "className": "list-cell-title",
                    "href": f"/reflections/{item.id}",
                    "aria-label": ctx.t(
                        "radmin.grading.open", author=item.author.name, training=item.training.name
                    ),
                },
                item.author.name,
            ),
            html.span(
                {"className": "list-cell-sub"},
                " · ".join(part for part in (item.department, item.training.name) if part),
            ),
            html.span({"className": "list-cell-sub"}, _excerpt(item.body)),
            html.span(
                {"className": "list-cell-sub"},
                ctx.t("radmin.grading.submitted_at", time=local_time(ctx, item.submitted_at)),
            ),
        ),
        html.div({"className": "list-cell-extra"}, *extra) if extra else "",
    )
