"""The trainer centre of one course: views, viewers, completion, rating, comments, the audience by
department and the segment chart. For the course's author and HR; anyone else sees the not-found page.
"""

from __future__ import annotations

from typing import Any

from reactpy import component, html

from backend.courses.analytics import CourseStats, course_stats
from backend.lib.errors import AppError, NotFound, PermissionDenied
from backend.lib.policy import actor_require
from pwa.components.admin_widgets import use_loaded
from pwa.components.segment_chart import SegmentChart
from pwa.components.shell import AppShell, PageHeader
from pwa.components.widgets import EmptyState, FormError, Loading, error_text
from pwa.context import UIContext, use_app

TILE_GRID = {
    "display": "grid",
    "gridTemplateColumns": "repeat(auto-fit, minmax(140px, 1fr))",
    "gap": "12px",
    "margin": "0 0 16px",
    "padding": 0,
    "listStyle": "none",
}


def _shell(ctx: UIContext, course_id: int, title: str, *children: Any) -> Any:
    return AppShell(
        ctx=ctx,
        active="courses/studio",
        title=title,
        children=html.div(
            PageHeader(
                title=title, back_href=f"/studio/courses/{course_id}", back_label=ctx.t("course_stats.back")
            ),
            *children,
        ),
    )


@component
def CourseStatsPage(*, course_id: int) -> Any:
    ctx = use_app()
    actor = actor_require(ctx.actor)
    data = use_loaded(lambda: course_stats(actor=actor, course_id=course_id), [actor.account_id, course_id])
    if data is None:
        return _shell(
            ctx, course_id, ctx.t("course_stats.title"), Loading(label=ctx.t("course_stats.loading"))
        )
    if isinstance(data, NotFound | PermissionDenied):
        # Someone else's course: whether it exists is not revealed.
        return _shell(
            ctx,
            course_id,
            ctx.t("course_stats.title"),
            EmptyState(
                icon="?",
                title=ctx.t("error.not_found"),
                text=ctx.t("course_stats.not_found_text"),
                action=html.a(
                    {"className": "btn btn-primary", "href": "/studio"}, ctx.t("course_stats.back_to_studio")
                ),
            ),
        )
    if isinstance(data, AppError):
        return _shell(ctx, course_id, ctx.t("course_stats.title"), FormError(message=error_text(ctx, data)))
    stats = data
    body: list[Any] = [_tiles(ctx, stats)]
    if not stats.unique_viewers and not stats.learners:
        body.append(
            EmptyState(
                icon="📊", title=ctx.t("course_stats.empty_title"), text=ctx.t("course_stats.empty_text")
            )
        )
    else:
        body += [_audience(ctx, stats), _segments(ctx, stats)]
    return _shell(ctx, course_id, ctx.t("course_stats.heading", title=stats.title), *body)


def _tile(key: str, value: str, label: str, detail: str = "") -> Any:
    return html.li(
        {"key": key, "className": "card stat", "style": {"margin": 0}, "aria-label": f"{label} {value}"},
        html.span({"className": "stat-value"}, value),
        html.span({"className": "stat-label"}, label),
        html.span({"className": "stat-label"}, detail) if detail else "",
    )


def _tiles(ctx: UIContext, stats: CourseStats) -> Any:
    rating = f"{stats.rating_avg:.1f}" if stats.rating_avg is not None else ctx.t("course_stats.rating_none")
    return html.section(
        {"aria-label": ctx.t("course_stats.tiles")},
        html.ul(
            {"className": "stat-tiles", "style": TILE_GRID},
            _tile("views", str(stats.views), ctx.t("course_stats.views")),
            _tile("viewers", str(stats.unique_viewers), ctx.t("course_stats.unique_viewers")),
            _tile(
                "completion",
                f"{stats.completion_rate * 100:.0f}%",
                ctx.t("course_stats.completion_rate"),
                ctx.t("course_stats.completion_detail", learners=stats.learners, completed=stats.completed),
            ),
            _tile(
                "rating",
                rating,
                ctx.t("course_stats.rating"),
                ctx.t("course_stats.rating_detail", count=stats.rating_count),
            ),
            _tile("comments", str(stats.comment_count), ctx.t("course_stats.comments")),
        ),
    )


def _audience_row(key: str, name: str, count: int, most: int, ctx: UIContext) -> Any:
    people = ctx.t("course_stats.audience_people", count=count)
    return html.li(
        {"key": key, "style": {"margin": "0 0 10px"}},
        html.div(
            {"style": {"display": "flex", "justifyContent": "space-between", "gap": "8px"}},
            html.span(name),
            html.span({"className": "muted"}, people),
        ),
        html.div(
            {
                "aria-hidden": "true",
                "style": {
                    "height": "8px",
                    "borderRadius": "4px",
                    "background": "var(--c-primary)",
                    "width": f"{max(2, round(count / most * 100))}%",
                },
            }
        ),
    )


def _audience(ctx: UIContext, stats: CourseStats) -> Any:
    title = ctx.t("course_stats.audience")
    if not stats.departments:
        return html.section(
            {"className": "card", "aria-label": title},
            html.h2(title),
            html.p({"className": "muted"}, ctx.t("course_stats.audience_empty")),
        )
    most = max([row.viewers for row in stats.departments] + [stats.other_department_viewers, 1])
    rows = [
        _audience_row(f"d{i}", row.name or "—", row.viewers, most, ctx)
        for i, row in enumerate(stats.departments)
    ]
    if stats.other_department_viewers:
        rows.append(
            _audience_row(
                "other", ctx.t("course_stats.audience_other"), stats.other_department_viewers, most, ctx
            )
        )
    return html.section(
        {"className": "card", "aria-labelledby": "stats-audience-title"},
        html.h2({"id": "stats-audience-title"}, title),
        html.ul(
            {"className": "stats-audience", "style": {"listStyle": "none", "padding": 0, "margin": 0}}, *rows
        ),
    )


def _segments(ctx: UIContext, stats: CourseStats) -> Any:
    title = ctx.t("course_stats.chart")
    if not stats.learners or not stats.segments:
        content: Any = EmptyState(
            icon="▶",
            title=ctx.t("course_stats.chart_empty_title"),
            text=ctx.t("course_stats.chart_empty_text"),
        )
    else:
        content = html.div(
            html.p({"className": "muted"}, ctx.t("course_stats.chart_hint", seconds=stats.bucket_seconds)),
            SegmentChart(
                ctx=ctx,
                segments=stats.segments,
                bucket_seconds=stats.bucket_seconds,
                duration=stats.duration,
                learners=stats.learners,
                completed=stats.completed,
            ),
        )
    return html.section(
        {"className": "card", "aria-labelledby": "stats-segments-title"},
        html.h2({"id": "stats-segments-title"}, title),
        content,
    )
