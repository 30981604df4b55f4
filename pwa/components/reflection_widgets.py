"""Pieces the colleague-facing reflection pages share: dates in the organisation's time zone, due
texts, state and grade badges, assignment cells, reflection cards, scope switches and link pagers.

Lists page through links (`?scope=&sort=&page=`), so every view can be shared and bookmarked.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from reactpy import html
from reactpy.types import VdomDict

from backend.reflections.schemas import AssignmentOut, ReflectionOut
from pwa.context import UIContext

EXCERPT_PROMPT = 60
# Assignment states that still need the author's writing (the home page's to-dos).
OPEN_STATES = ("assigned", "draft", "returned")
FINISHED_STATES = ("submitted", "late", "graded")
GRADES = ("excellent", "good", "pass", "revise")
MAX_PAGE = 100_000


# --- time ---------------------------------------------------------------------------------------


def org_zone(ctx: UIContext) -> ZoneInfo:
    try:
        return ZoneInfo(ctx.settings.i18n.timezone)
    except (KeyError, ValueError):  # pragma: no cover - settings validate the zone
        return ZoneInfo("Asia/Shanghai")


def local_time(ctx: UIContext, when: dt.datetime) -> dt.datetime:
    """A stored (UTC) time in the organisation's time zone."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.astimezone(org_zone(ctx))


def local_now(ctx: UIContext) -> dt.datetime:
    return dt.datetime.now(org_zone(ctx))


def date_text(ctx: UIContext, when: dt.datetime, *, with_time: bool = True) -> str:
    """ "5月3日 18:00" / "May 3, 18:00" (with the year when it is not this year)."""
    local = local_time(ctx, when)
    months = ctx.t("reflections_ui.month_names").split(",")
    month = months[local.month - 1] if len(months) == 12 else str(local.month)
    if local.year == local_now(ctx).year:
        text = ctx.t("reflections_ui.date", month=month, day=local.day)
    else:
        text = ctx.t("reflections_ui.date_year", month=month, day=local.day, year=local.year)
    if with_time:
        text = ctx.t("reflections_ui.date_time", date=text, time=f"{local:%H:%M}")
    return text


def due_relative(ctx: UIContext, due_at: dt.datetime) -> tuple[str, bool]:
    """("还剩 2 天", False) / ("已逾期 3 天", True): counted in calendar days of the organisation."""
    now = local_now(ctx)
    due = local_time(ctx, due_at)
    days = (due.date() - now.date()).days
    if due < now:
        over = -days
        if over <= 0:
            return ctx.t("reflections_ui.due_passed"), True
        if over == 1:
            return ctx.t("reflections_ui.overdue_one"), True
        return ctx.t("reflections_ui.overdue_days", days=over), True
    if days == 0:
        return ctx.t("reflections_ui.due_today"), False
    if days == 1:
        return ctx.t("reflections_ui.due_tomorrow"), False
    return ctx.t("reflections_ui.due_days", days=days), False


# --- query string -------------------------------------------------------------------------------


def query_choice(ctx: UIContext, name: str, allowed: Sequence[str], default: str) -> str:
    value = ctx.query(name, default)
    return value if value in allowed else default


def query_page(ctx: UIContext) -> int:
    value = ctx.query("page", "1")
    return min(int(value), MAX_PAGE) if value.isdigit() and int(value) >= 1 else 1


def href_with(path: str, **params: str | int) -> str:
    return f"{path}?{urlencode({key: str(value) for key, value in params.items()})}"


# --- badges -------------------------------------------------------------------------------------


def state_badge(ctx: UIContext, state: str) -> VdomDict:
    return html.span({"className": f"rf-state rf-state-{state}"}, ctx.t(f"reflections_ui.state_{state}"))


def grade_label(ctx: UIContext, grade: str) -> str:
    return ctx.t(f"reflections.grade_{grade}")


def grade_badge(ctx: UIContext, grade: str | None) -> VdomDict | str:
    if not grade or grade not in GRADES:
        return ""
    return html.span({"className": f"rf-grade rf-grade-{grade}"}, grade_label(ctx, grade))


# --- my assignments -----------------------------------------------------------------------------


def _short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit].rstrip() + "…"


def assignment_href(assignment: AssignmentOut) -> str:
    """Unfinished work opens the writer; submitted or graded work opens the reflection."""
    if assignment.state in FINISHED_STATES and assignment.submission_id is not None:
        return f"/reflections/{assignment.submission_id}"
    return f"/write/{assignment.id}"


def assignment_cell(ctx: UIContext, assignment: AssignmentOut, *, title: str | None = None) -> VdomDict:
    """One assignment as a list cell: training, prompt, due (relative while open), state badge."""
    due_date = ctx.t("reflections_ui.due_at", date=date_text(ctx, assignment.due_at))
    when: list[VdomDict | str] = [due_date]
    overdue = False
    if assignment.state in OPEN_STATES:
        relative, overdue = due_relative(ctx, assignment.due_at)
        when = [
            html.span({"className": "rf-due rf-due-over" if overdue else "rf-due"}, relative),
            " · ",
            due_date,
        ]
    extra: list[VdomDict | str] = [state_badge(ctx, assignment.state)]
    if assignment.state == "graded":
        extra.insert(0, grade_badge(ctx, assignment.grade))
    return html.a(
        {
            "key": f"assignment-{assignment.id}",
            "className": "list-cell rf-assignment",
            "href": assignment_href(assignment),
        },
        html.span(
            {"className": "list-cell-main"},
            html.span({"className": "list-cell-title"}, title or assignment.training.name),
            html.span(
                {"className": "list-cell-sub rf-prompt-line"}, _short(assignment.prompt, EXCERPT_PROMPT)
            ),
            html.span({"className": "list-cell-sub"}, *when),
            html.span(
                {"className": "list-cell-sub rf-feedback-line"},
                ctx.t("reflections_ui.mine_returned_hint", feedback=_short(assignment.feedback, 80)),
            )
            if assignment.state == "returned" and assignment.feedback
            else "",
        ),
        html.span(
            {"className": "list-cell-extra rf-assignment-extra"},
            *extra,
            html.span({"aria-hidden": "true"}, "›"),
        ),
    )


# --- reflection cards ---------------------------------------------------------------------------


def stats(ctx: UIContext, likes: int, comments: int) -> VdomDict:
    return html.span(
        {"className": "rf-stats"},
        html.span(
            {"className": "rf-stat rf-stat-likes"},
            html.span({"aria-hidden": "true"}, str(likes)),
            html.span({"className": "sr-only"}, ctx.t("reflections_ui.likes_count", count=likes)),
        ),
        html.span(
            {"className": "rf-stat rf-stat-comments"},
            html.span({"aria-hidden": "true"}, str(comments)),
            html.span({"className": "sr-only"}, ctx.t("reflections_ui.comments_count", count=comments)),
        ),
    )


def reflection_card(ctx: UIContext, item: ReflectionOut) -> VdomDict:
    """A colleague's reflection in a feed: who, where, which training, an excerpt, likes, comments."""
    where = " · ".join(
        part
        for part in (item.department, date_text(ctx, item.submitted_at) if item.submitted_at else "")
        if part
    )
    badges: list[VdomDict | str] = [grade_badge(ctx, item.grade) if item.grade == "excellent" else ""]
    if item.featured:
        badges.append(
            html.span({"className": "rf-badge rf-badge-featured"}, ctx.t("reflections_ui.featured_badge"))
        )
    if item.late:
        badges.append(html.span({"className": "rf-badge"}, ctx.t("reflections_ui.late_badge")))
    return html.article(
        {"key": f"reflection-{item.id}", "className": "rf-card"},
        html.div(
            {"className": "rf-card-head"},
            html.span({"className": "avatar", "aria-hidden": "true"}, item.author.name[:1]),
            html.div(
                {"className": "rf-card-who"},
                html.a(
                    {
                        "className": "rf-card-link",
                        "href": f"/reflections/{item.id}",
                        "aria-label": ctx.t(
                            "reflections_ui.card_open", name=item.author.name, training=item.training.name
                        ),
                    },
                    item.author.name,
                ),
                html.span({"className": "rf-card-where"}, where),
            ),
            html.span({"className": "rf-card-badges"}, *badges),
        ),
        html.p({"className": "rf-card-training"}, item.training.name),
        html.p({"className": "rf-card-excerpt"}, item.body),
        html.div({"className": "rf-card-foot"}, stats(ctx, item.like_count, item.comment_count)),
    )


# --- switches and pagers ------------------------------------------------------------------------


def switch_links(ctx: UIContext, *, label: str, options: Sequence[tuple[str, str, bool]]) -> VdomDict:
    """A row of chips linking to the other views ((text, href, current)); the current one is marked."""
    return html.nav(
        {"className": "rf-switch", "aria-label": label},
        *[
            html.a(
                {
                    "key": href,
                    "className": "chip",
                    "href": href,
                    **({"aria-current": "page"} if current else {}),
                },
                text,
            )
            for text, href, current in options
        ],
    )


def link_pager(
    ctx: UIContext, *, page: int, pages: int, total: int, href_for: Callable[[int], str]
) -> VdomDict | str:
    """Previous / next as links (shareable); nothing when everything fits on one page."""
    if pages <= 1 and page <= 1:
        return ""

    def step(target: int, text: str, enabled: bool) -> VdomDict:
        if enabled:
            return html.a(
                {"className": "btn", "href": href_for(target), "rel": "prev" if target < page else "next"},
                text,
            )
        return html.span({"className": "btn", "aria-disabled": "true"}, text)

    return html.nav(
        {"className": "pager", "aria-label": ctx.t("reflections_ui.pager_label")},
        step(page - 1, ctx.t("common.previous"), page > 1),
        html.span(
            {"className": "muted"},
            ctx.t("common.page_of", page=page, pages=pages),
            " · ",
            ctx.t("common.total", total=total),
        ),
        step(page + 1, ctx.t("common.next"), page < pages),
    )


def section_heading(element_id: str, text: str, extra: VdomDict | str = "") -> VdomDict:
    return html.div(
        {"className": "rf-section-head"},
        html.h2({"id": element_id, "className": "rf-section-title"}, text),
        extra,
    )


def alert_field(*, field_id: str, label: str, control: VdomDict, hint: str = "", error: str = "") -> VdomDict:
    """A labelled control like widgets.field_block, whose error is announced (role=alert) when it appears."""
    described = " ".join(
        part for part in (f"{field_id}-hint" if hint else "", f"{field_id}-error" if error else "") if part
    )
    attributes = control.setdefault("attributes", {})
    if described:
        attributes["aria-describedby"] = described
    if error:
        attributes["aria-invalid"] = "true"
    return html.div(
        {"className": "field"},
        html.label({"htmlFor": field_id}, label),
        control,
        html.div({"id": f"{field_id}-hint", "className": "field-hint"}, hint) if hint else "",
        html.div({"id": f"{field_id}-error", "className": "field-error", "role": "alert"}, error)
        if error
        else "",
    )
