"""My team's progress toward the annual target, most behind first (managers: their department
subtree; HR and auditors: everyone, or one department), with a filter for the people behind."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reactpy import component, html, use_state

from backend.lib.errors import AppError, NotFound, PermissionDenied
from backend.lib.policy import actor_require
from backend.org.schemas import Page
from backend.org.selectors import department_list
from backend.points.schemas import TeamMemberOut
from backend.points.targets import team_progress
from pwa.components.admin_widgets import NoPermission, use_loaded
from pwa.components.points_admin_widgets import (
    category_label,
    department_choices,
    joined,
    optional_id,
    org_today,
    points_frame,
)
from pwa.components.widgets import EmptyState, FormError, Loading, Pager, error_text, event_value
from pwa.context import UIContext, use_app

ACTIVE = "points/team"
YEARS = 3
BEHIND_STYLE = {"backgroundColor": "var(--c-warning-soft)", "color": "var(--c-on-warning-soft)"}


@component
def TeamPage() -> Any:
    ctx = use_app()
    actor = actor_require(ctx.actor)
    this_year = org_today(ctx).year
    year, set_year = use_state(str(this_year))
    department, set_department = use_state("")
    behind_only, set_behind_only = use_state(False)
    page, set_page = use_state(1)
    may_read = actor.sees_whole_organisation or bool(actor.managed_paths)

    async def load() -> Page[TeamMemberOut]:
        if not may_read:
            raise PermissionDenied()
        return await team_progress(
            actor=actor,
            year=int(year),
            department_id=optional_id(department),
            behind_only=behind_only,
            page=page,
        )

    result = use_loaded(load, [actor.account_id, year, department, behind_only, page])
    departments = use_loaded(
        lambda: department_list(actor=actor) if actor.sees_whole_organisation else _nothing(),
        [actor.account_id],
    )
    title = ctx.t("nav.team")
    if not may_read or isinstance(result, PermissionDenied):
        return points_frame(ctx, active=ACTIVE, title=title, children=[NoPermission()])

    def pick(setter: Callable[[str], None]) -> Callable[[dict[str, Any]], None]:
        def handler(event_data: dict[str, Any]) -> None:
            setter(event_value(event_data))
            set_page(1)

        return handler

    def toggle(event_data: dict[str, Any]) -> None:
        set_behind_only(bool(event_data["target"].get("checked")))
        set_page(1)

    filters = html.div(
        {"className": "toolbar", "role": "group", "aria-label": ctx.t("pteam.filters")},
        html.label({"htmlFor": "team-year", "className": "sr-only"}, ctx.t("padmin.year")),
        html.select(
            {"id": "team-year", "className": "input", "value": year, "onChange": pick(set_year)},
            *[
                html.option({"key": str(value), "value": str(value)}, ctx.t("pteam.year", year=value))
                for value in range(this_year, this_year - YEARS, -1)
            ],
        ),
        _department_filter(ctx, departments, department, pick(set_department)),
        html.label(
            {"className": "chip", "htmlFor": "team-behind"},
            html.input(
                {
                    "id": "team-behind",
                    "type": "checkbox",
                    "role": "switch",
                    "checked": behind_only,
                    "aria-checked": "true" if behind_only else "false",
                    "onChange": toggle,
                }
            ),
            ctx.t("pteam.behind_only"),
        ),
    )
    return points_frame(
        ctx,
        active=ACTIVE,
        title=title,
        children=[filters, _results(ctx, result, behind_only=behind_only, on_page=set_page)],
    )


async def _nothing() -> None:
    return None


def _department_filter(ctx: UIContext, departments: Any, value: str, on_change: Any) -> Any:
    if not isinstance(departments, list):
        return ""
    return html.div(
        html.label({"htmlFor": "team-department", "className": "sr-only"}, ctx.t("admin.department")),
        html.select(
            {"id": "team-department", "className": "input", "value": value, "onChange": on_change},
            *[
                html.option({"key": key or "-", "value": key}, text)
                for key, text in department_choices(ctx, departments, everyone_key="padmin.all_departments")
            ],
        ),
    )


def _results(
    ctx: UIContext, result: Page[TeamMemberOut] | AppError | None, *, behind_only: bool, on_page: Any
) -> Any:
    if result is None:
        return Loading(label=ctx.t("app.loading"))
    if isinstance(result, NotFound):
        return EmptyState(icon="🔍", title=ctx.t("pteam.not_yours"), text=ctx.t("pteam.not_yours_text"))
    if isinstance(result, AppError):
        return FormError(message=error_text(ctx, result))
    if not result.items:
        key = "pteam.none_behind" if behind_only else "pteam.empty"
        return EmptyState(icon="👥", title=ctx.t(key), text=ctx.t(f"{key}_text"))
    return html.div(
        html.p({"className": "muted", "aria-live": "polite"}, ctx.t("pteam.total", total=result.total)),
        html.ul(
            {"className": "list", "aria-label": ctx.t("pteam.results")},
            *[_member(ctx, member) for member in result.items],
        ),
        Pager(ctx=ctx, page=result.page, pages=result.pages, total=result.total, on_page=on_page)
        if result.pages > 1
        else "",
    )


def _member(ctx: UIContext, member: TeamMemberOut) -> Any:
    title_id = f"member-{member.employee.id}-title"
    if member.target is None:
        summary = ctx.t("pteam.no_target", earned=member.earned)
        bar: Any = ""
    else:
        summary = ctx.t(
            "pteam.progress", earned=member.earned, target=member.target, percent=member.attainment_percent
        )
        bar = html.div(
            {
                "className": "cl-progress",
                "role": "progressbar",
                "aria-valuemin": 0,
                "aria-valuemax": 100,
                "aria-valuenow": member.attainment_percent,
                "aria-valuetext": summary,
                "aria-label": ctx.t("pteam.progress_label", name=member.employee.name),
            },
            html.div({"className": "cl-progress-fill", "style": {"width": f"{member.attainment_percent}%"}}),
        )
    categories = [
        ctx.t(
            "pteam.category",
            category=category_label(ctx, item.category),
            earned=item.earned,
            needed=item.needed,
        )
        for item in member.categories
        if item.needed
    ]
    chips = []
    if member.behind:
        chips.append(
            html.span({"key": "behind", "className": "chip", "style": BEHIND_STYLE}, ctx.t("pteam.behind"))
        )
    if member.target is not None and member.missing:
        chips.append(
            html.span({"key": "missing", "className": "chip"}, ctx.t("pteam.missing", missing=member.missing))
        )
    elif member.target is not None:
        chips.append(html.span({"key": "reached", "className": "chip"}, ctx.t("pteam.reached")))
    return html.li(
        {"key": str(member.employee.id), "className": "list-cell", "aria-labelledby": title_id},
        html.div(
            {"className": "list-cell-main"},
            html.h3({"id": title_id, "className": "list-cell-title"}, member.employee.name),
            html.span({"className": "list-cell-sub"}, member.department.name if member.department else ""),
            html.span({"className": "list-cell-sub"}, summary),
            bar,
            html.span({"className": "list-cell-sub"}, joined(ctx, categories)) if categories else "",
        ),
        html.div({"className": "list-cell-extra"}, *chips) if chips else "",
    )
