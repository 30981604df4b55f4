"""Pieces the employee points pages share: point amounts, activity names, the target ring and the
category bars (SVG drawn by the server, each with a text alternative), ledger rows, state badges and
a labelled switch.

The ring and the bars use the app's CSS variables, so they keep their contrast in light and dark mode.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from reactpy import html
from reactpy.types import VdomDict

from backend.points.schemas import CategoryProgressOut, LedgerEntryOut, TargetProgressOut
from pwa.components.reflection_widgets import date_text
from pwa.components.segment_chart import svg_desc, svg_text, svg_title
from pwa.context import UIContext

RING_SIZE = 132
RING_RADIUS = 54
RING_STROKE = 14
BAR_WIDTH = 240
BAR_HEIGHT = 10
TRACK_FILL = "var(--c-divider)"
DONE_FILL = "var(--c-primary)"
EXPECTED_STROKE = "var(--c-on-warning-soft)"
CATEGORY_ORDER = ("course", "exam", "sharing", "mentoring", "workshop", "reflection", "other")


# --- words --------------------------------------------------------------------------------------


def points_text(ctx: UIContext, points: int) -> str:
    """ "120 分" / "120 pts"."""
    return ctx.t("points_ui.points", points=points)


def signed_points(points: int) -> str:
    """+5 / −30 (a real minus sign, read as "minus" by screen readers)."""
    return f"+{points}" if points > 0 else f"\u2212{-points}" if points < 0 else "0"


def _known(ctx: UIContext, key: str) -> str | None:
    text = ctx.t(key)
    return None if text == key else text


def category_label(ctx: UIContext, category: str) -> str:
    return _known(ctx, f"points.category.{category}") or category


def kind_label(ctx: UIContext, kind: str) -> str:
    """The activity's name; HR's own (custom) kinds show as 自定义活动."""
    return _known(ctx, f"points.kind.{kind}") or ctx.t("points.kind.custom")


def categories_in_order(items: Sequence[CategoryProgressOut]) -> list[CategoryProgressOut]:
    rank = {name: index for index, name in enumerate(CATEGORY_ORDER)}
    return sorted(items, key=lambda item: (rank.get(item.category, len(rank)), item.category))


# --- the target ring ----------------------------------------------------------------------------


def _arc_point(percent: float, radius: float) -> tuple[float, float]:
    """Where `percent` of the way round a circle (from 12 o'clock, clockwise) lies."""
    angle = 2 * math.pi * percent / 100 - math.pi / 2
    middle = RING_SIZE / 2
    return round(middle + radius * math.cos(angle), 2), round(middle + radius * math.sin(angle), 2)


def progress_summary(ctx: UIContext, progress: TargetProgressOut) -> str:
    """The ring's words: how far, how much is missing, and whether that is behind the year's pace."""
    parts = [
        ctx.t(
            "points_ui.ring_summary",
            earned=progress.earned,
            target=progress.target or 0,
            percent=progress.attainment_percent,
        )
    ]
    if progress.missing > 0:
        parts.append(ctx.t("points_ui.ring_missing", missing=progress.missing))
    else:
        parts.append(ctx.t("points_ui.ring_reached"))
    if progress.missing > 0:
        key = "points_ui.ring_behind" if progress.behind else "points_ui.ring_on_track"
        parts.append(ctx.t(key, expected=progress.expected_percent))
    return ctx.t("points_ui.sentence_join").join(parts)


def target_ring(ctx: UIContext, progress: TargetProgressOut) -> VdomDict:
    """A ring filled to the attainment, a tick where the year's pace says it should be, the percentage
    in the middle; its title and description say the same in words."""
    middle = RING_SIZE / 2
    circumference = 2 * math.pi * RING_RADIUS
    percent = max(0, min(100, progress.attainment_percent))
    done = circumference * percent / 100
    inner, outer = (
        _arc_point(progress.expected_percent, RING_RADIUS - RING_STROKE / 2 - 3),
        _arc_point(progress.expected_percent, RING_RADIUS + RING_STROKE / 2 + 3),
    )
    return html.svg(
        {
            "className": "pt-ring",
            "role": "img",
            "aria-labelledby": "pt-ring-title pt-ring-desc",
            "viewBox": f"0 0 {RING_SIZE} {RING_SIZE}",
            "width": RING_SIZE,
            "height": RING_SIZE,
        },
        svg_title({"id": "pt-ring-title"}, ctx.t("points_ui.ring_title", percent=percent)),
        svg_desc({"id": "pt-ring-desc"}, progress_summary(ctx, progress)),
        html.svg.circle(
            {
                "key": "track",
                "cx": middle,
                "cy": middle,
                "r": RING_RADIUS,
                "style": {"fill": "none", "stroke": TRACK_FILL, "strokeWidth": RING_STROKE},
            }
        ),
        html.svg.circle(
            {
                "key": "done",
                "className": "pt-ring-done",
                "cx": middle,
                "cy": middle,
                "r": RING_RADIUS,
                "transform": f"rotate(-90 {middle} {middle})",
                "style": {
                    "fill": "none",
                    "stroke": DONE_FILL,
                    "strokeWidth": RING_STROKE,
                    "strokeLinecap": "round" if 0 < percent < 100 else "butt",
                    "strokeDasharray": f"{done:.2f} {circumference:.2f}",
                },
            }
        )
        if percent > 0
        else "",
        html.svg.line(
            {
                "key": "expected",
                "className": "pt-ring-expected",
                "x1": inner[0],
                "y1": inner[1],
                "x2": outer[0],
                "y2": outer[1],
                "style": {"stroke": EXPECTED_STROKE, "strokeWidth": 3, "strokeLinecap": "round"},
            }
        )
        if progress.missing > 0 and 0 < progress.expected_percent < 100
        else "",
        svg_text(
            {
                "key": "percent",
                "x": middle,
                "y": middle + 2,
                "textAnchor": "middle",
                "style": {"fill": "var(--c-text)", "fontSize": "26px", "fontWeight": 700},
            },
            f"{percent}%",
        ),
        svg_text(
            {
                "key": "of",
                "x": middle,
                "y": middle + 22,
                "textAnchor": "middle",
                "style": {"fill": "var(--c-text-muted)", "fontSize": "12px"},
            },
            f"{progress.earned}/{progress.target or 0}",
        ),
    )


# --- category bars ------------------------------------------------------------------------------


def thin_bar(ratio: float, *, key: str) -> VdomDict:
    """A thin horizontal bar (decorative: the words next to it carry the numbers)."""
    width = round(BAR_WIDTH * max(0.0, min(1.0, ratio)), 2)
    return html.svg(
        {
            "key": key,
            "className": "pt-bar",
            "aria-hidden": "true",
            "focusable": "false",
            "viewBox": f"0 0 {BAR_WIDTH} {BAR_HEIGHT}",
            "preserveAspectRatio": "none",
            "width": "100%",
            "height": BAR_HEIGHT,
        },
        html.svg.rect(
            {
                "key": "track",
                "width": BAR_WIDTH,
                "height": BAR_HEIGHT,
                "rx": BAR_HEIGHT / 2,
                "style": {"fill": TRACK_FILL},
            }
        ),
        html.svg.rect(
            {
                "key": "done",
                "width": width,
                "height": BAR_HEIGHT,
                "rx": BAR_HEIGHT / 2,
                "style": {"fill": DONE_FILL},
            }
        )
        if width > 0
        else "",
    )


def category_bars(ctx: UIContext, categories: Sequence[CategoryProgressOut]) -> VdomDict:
    """Per category: earned of its share of the target and what is still missing; without a mix
    (no shares), what was earned in each category, the bar relative to the largest."""
    with_shares = any(item.needed > 0 for item in categories)
    shown = [item for item in categories_in_order(categories) if item.needed > 0 or item.earned > 0]
    largest = max([item.earned for item in shown] + [1])
    rows = []
    for item in shown:
        name = category_label(ctx, item.category)
        if with_shares and item.needed > 0:
            amount = ctx.t("points_ui.bar_of", earned=item.earned, needed=item.needed)
            status = (
                ctx.t("points_ui.bar_missing", missing=item.missing)
                if item.missing > 0
                else ctx.t("points_ui.bar_done")
            )
            ratio = item.earned / item.needed
        else:
            amount, status, ratio = points_text(ctx, item.earned), "", item.earned / largest
        rows.append(
            html.li(
                {"key": item.category, "className": "pt-bar-row"},
                html.div(
                    {"className": "pt-bar-head"},
                    html.span({"className": "pt-bar-name"}, name),
                    html.span({"className": "pt-bar-amount"}, amount),
                ),
                thin_bar(ratio, key="bar"),
                html.span(
                    {
                        "className": "pt-bar-status pt-bar-missing"
                        if item.missing > 0 and with_shares
                        else "pt-bar-status"
                    },
                    status,
                )
                if status
                else "",
            )
        )
    if not rows:
        return html.p({"className": "muted pt-bars-empty"}, ctx.t("points_ui.categories_empty"))
    return html.ul({"className": "pt-bars", "aria-label": ctx.t("points_ui.categories_label")}, *rows)


# --- ledger -------------------------------------------------------------------------------------


def entry_title(ctx: UIContext, entry: LedgerEntryOut) -> str:
    name = kind_label(ctx, entry.kind)
    if entry.reverses_id is not None and entry.category != "redemption":
        return ctx.t("points_ui.entry_reversal", kind=name)
    return name


def ledger_row(ctx: UIContext, entry: LedgerEntryOut) -> VdomDict:
    """One entry: what, when, which category, its note; the points signed and coloured (with words
    for screen readers, since colour alone says nothing)."""
    details = [category_label(ctx, entry.category), date_text(ctx, entry.occurred_at, with_time=False)]
    tone = "pt-amount-plus" if entry.points > 0 else "pt-amount-minus" if entry.points < 0 else "pt-amount"
    spoken = (
        ctx.t("points_ui.entry_gain", points=entry.points)
        if entry.points >= 0
        else ctx.t("points_ui.entry_loss", points=-entry.points)
    )
    return html.li(
        {"key": str(entry.id), "className": "list-cell pt-entry"},
        html.span(
            {"className": "list-cell-main"},
            html.span({"className": "list-cell-title"}, entry_title(ctx, entry)),
            html.span({"className": "list-cell-sub"}, " · ".join(details)),
            html.span({"className": "list-cell-sub pt-entry-note"}, entry.note) if entry.note else "",
        ),
        html.span(
            {"className": f"list-cell-extra pt-amount {tone}"},
            html.span({"aria-hidden": "true"}, signed_points(entry.points)),
            html.span({"className": "sr-only"}, spoken),
        ),
    )


# --- badges and switches ------------------------------------------------------------------------


def redemption_badge(ctx: UIContext, state: str) -> VdomDict:
    return html.span({"className": f"pt-state pt-state-{state}"}, ctx.t(f"points_ui.state_{state}"))


def switch_row(
    *,
    switch_id: str,
    label: str,
    hint: str,
    checked: bool,
    busy: bool,
    on_change: Callable[[dict[str, Any]], Any],
) -> VdomDict:
    """A native checkbox drawn as a switch, named by its label and described by its hint."""
    return html.div(
        {"className": "pt-switch"},
        html.label(
            {"className": "pt-switch-row", "htmlFor": switch_id},
            html.span({"className": "pt-switch-title"}, label),
            html.input(
                {
                    "id": switch_id,
                    "type": "checkbox",
                    "role": "switch",
                    "className": "pt-switch-input",
                    "checked": checked,
                    "aria-checked": "true" if checked else "false",
                    "aria-describedby": f"{switch_id}-hint",
                    "disabled": busy,
                    "onChange": on_change,
                }
            ),
        ),
        html.p({"id": f"{switch_id}-hint", "className": "field-hint"}, hint),
    )


def stat_block(*, value: str, label: str, key: str) -> VdomDict:
    return html.div(
        {"key": key, "className": "stat pt-stat"},
        html.span({"className": "stat-value"}, value),
        html.span({"className": "stat-label"}, label),
    )
