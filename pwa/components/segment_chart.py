"""The segment chart of the trainer centre, drawn by the server as inline SVG.

One bar per bucket (its height: how many watched it), a red triangle above a bucket where people
left (its size grows with how many), a dashed amber frame around a bucket people skipped. Colours
are the app's CSS variables, so light and dark themes keep their contrast; every bar carries a
<title> with its numbers, and the whole chart a title and a text summary for screen readers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from reactpy import html
from reactpy.core.vdom import Vdom

from backend.courses.analytics import Segment
from pwa.context import UIContext

HEIGHT = 200
LEFT, RIGHT, TOP, BOTTOM = 30, 8, 18, 26  # room for the y labels, drop-off marks, x labels
MIN_WIDTH = 360  # SVG units; the chart scales to the card's width
MIN_STEP = 8  # per bucket: a long video gets a wider chart, scrolled sideways on a phone
LABEL_SPACING = 44  # between x labels
# Fills as CSS variables: the same chart reads in light and dark mode.
VIEWER_FILL = "var(--c-primary)"
DROP_FILL = "var(--c-danger)"
SKIP_FILL = "var(--c-warning-soft)"
SKIP_STROKE = "var(--c-on-warning-soft)"
AXIS_FILL = "var(--c-text-muted)"
GRID_STROKE = "var(--c-divider)"

# ReactPy 2.0.0b13 lists SVG <text>, <title> and <desc> as elements without children, so
# svg_text("0:05") raises: these constructors allow their text.
svg_text, svg_title, svg_desc = Vdom("text"), Vdom("title"), Vdom("desc")


def clock(seconds: float) -> str:
    """Seconds as m:ss (or h:mm:ss)."""
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _span(segment: Segment) -> str:
    return f"{clock(segment.start)}–{clock(segment.end)}"


def segment_summary(
    ctx: UIContext, segments: Sequence[Segment], *, learners: int, completed: int
) -> list[str]:
    """Sentences saying what the chart shows: who played it, where most left, what was skipped most."""
    lines = [ctx.t("course_stats.summary_watchers", learners=learners, completed=completed)]
    left = max(segments, key=lambda s: s.drop_off, default=None)
    if left is not None and left.drop_off:
        lines.append(ctx.t("course_stats.summary_drop_off", range=_span(left), count=left.drop_off))
    else:
        lines.append(ctx.t("course_stats.summary_no_drop_off"))
    skipped = max(segments, key=lambda s: s.skipped, default=None)
    if skipped is not None and skipped.skipped:
        lines.append(ctx.t("course_stats.summary_skipped", range=_span(skipped), count=skipped.skipped))
    else:
        lines.append(ctx.t("course_stats.summary_no_skipped"))
    return lines


def _bucket(
    ctx: UIContext, index: int, segment: Segment, *, x: float, step: float, top: int, scale: float
) -> Any:
    plot_bottom = HEIGHT - BOTTOM
    bar_height = segment.viewers * scale
    parts: list[Any] = [
        svg_title(
            ctx.t(
                "course_stats.segment",
                start=clock(segment.start),
                end=clock(segment.end),
                viewers=segment.viewers,
                drop_off=segment.drop_off,
                skipped=segment.skipped,
            )
        )
    ]
    if segment.skipped:
        parts.append(
            html.svg.rect(
                {
                    "className": "seg-skipped",
                    "x": round(x + 0.5, 2),
                    "y": TOP + 0.5,
                    "width": round(step - 1, 2),
                    "height": plot_bottom - TOP - 1,
                    "style": {"fill": SKIP_FILL, "stroke": SKIP_STROKE, "strokeDasharray": "3 2"},
                }
            )
        )
    parts.append(
        html.svg.rect(
            {
                "className": "seg-bar",
                "x": round(x + step * 0.15, 2),
                "y": round(plot_bottom - bar_height, 2),
                "width": round(step * 0.7, 2),
                "height": round(bar_height, 2),
                "rx": 1.5,
                "style": {"fill": VIEWER_FILL},
            }
        )
    )
    if segment.drop_off:
        size = min(step * 0.45, 3.0 + segment.drop_off / top * 3.0)
        tip, middle = max(TOP, plot_bottom - bar_height - 3), x + step / 2
        corners = f"{middle - size:.2f},{tip - 2 * size:.2f} {middle + size:.2f},{tip - 2 * size:.2f} {middle:.2f},{tip:.2f}"
        parts.append(
            html.svg.polygon({"className": "seg-drop", "points": corners, "style": {"fill": DROP_FILL}})
        )
    return html.svg.g({"key": str(index), "className": "seg"}, *parts)


def _axes(segments: Sequence[Segment], *, width: float, step: float, top: int, scale: float) -> list[Any]:
    """Grid lines at the tallest bar and half of it, the time axis with m:ss labels."""
    plot_bottom = HEIGHT - BOTTOM
    label = {"fill": AXIS_FILL, "fontSize": "11px"}
    marks: list[Any] = []
    for value in sorted({top, (top + 1) // 2}):
        y = round(plot_bottom - value * scale, 2)
        marks.append(
            html.svg.line(
                {
                    "key": f"g{value}",
                    "x1": LEFT,
                    "x2": width - RIGHT,
                    "y1": y,
                    "y2": y,
                    "style": {"stroke": GRID_STROKE},
                }
            )
        )
        marks.append(
            svg_text(
                {"key": f"y{value}", "x": LEFT - 6, "y": y + 4, "textAnchor": "end", "style": label},
                str(value),
            )
        )
    marks.append(
        html.svg.line(
            {
                "key": "axis",
                "x1": LEFT,
                "x2": width - RIGHT,
                "y1": plot_bottom,
                "y2": plot_bottom,
                "style": {"stroke": AXIS_FILL},
            }
        )
    )
    every = max(1, math.ceil(LABEL_SPACING / step))
    for index in range(0, len(segments), every):
        x = LEFT + index * step
        marks.append(
            svg_text(
                {
                    "key": f"x{index}",
                    "x": round(x, 2),
                    "y": HEIGHT - 8,
                    "textAnchor": "middle",
                    "style": label,
                },
                clock(segments[index].start),
            )
        )
    return marks


def SegmentChart(
    *,
    ctx: UIContext,
    segments: Sequence[Segment],
    bucket_seconds: int,
    duration: float,
    learners: int,
    completed: int,
) -> Any:
    """The chart with its legend and its summary (a plain function: it keeps no state)."""
    count = max(1, len(segments))
    width = max(MIN_WIDTH, LEFT + RIGHT + count * MIN_STEP)
    step = (width - LEFT - RIGHT) / count
    plot_bottom = HEIGHT - BOTTOM
    top = max([segment.viewers for segment in segments] + [1])
    scale = (plot_bottom - TOP - 14) / top  # headroom for the drop-off marks over the tallest bar
    label = ctx.t("course_stats.chart_label", duration=clock(duration), seconds=bucket_seconds)
    summary = segment_summary(ctx, segments, learners=learners, completed=completed)
    chart = html.svg(
        {
            "className": "segment-chart",
            "role": "img",
            "aria-labelledby": "segment-chart-title segment-chart-desc",
            "viewBox": f"0 0 {width} {HEIGHT}",
            "width": "100%",
            "style": {
                "display": "block",
                "minWidth": f"{width if width > MIN_WIDTH else 0}px",
                "height": "auto",
            },
        },
        svg_title({"id": "segment-chart-title"}, label),
        svg_desc({"id": "segment-chart-desc"}, " ".join(summary)),
        html.svg.g({"key": "axes"}, *_axes(segments, width=width, step=step, top=top, scale=scale)),
        html.svg.g(
            {"key": "bars"},
            *[
                _bucket(ctx, index, segment, x=LEFT + index * step, step=step, top=top, scale=scale)
                for index, segment in enumerate(segments)
            ],
        ),
    )
    return html.figure(
        {"className": "segment-figure", "style": {"margin": 0}},
        html.div({"style": {"overflowX": "auto"}}, chart),
        _legend(ctx),
        html.figcaption(
            {"className": "segment-summary"},
            *[
                html.p({"key": str(i), "className": "muted", "style": {"margin": "4px 0"}}, line)
                for i, line in enumerate(summary)
            ],
        ),
    )


def _legend(ctx: UIContext) -> Any:
    def swatch(key: str, style: dict[str, str], text: str) -> Any:
        return html.li(
            {
                "key": key,
                "style": {
                    "display": "inline-flex",
                    "alignItems": "center",
                    "gap": "6px",
                    "marginRight": "16px",
                },
            },
            html.span(
                {
                    "aria-hidden": "true",
                    "style": {"display": "inline-block", "width": "12px", "height": "12px", **style},
                }
            ),
            text,
        )

    return html.ul(
        {"className": "segment-legend", "style": {"listStyle": "none", "padding": 0, "margin": "8px 0"}},
        swatch(
            "viewers",
            {"background": VIEWER_FILL, "borderRadius": "2px"},
            ctx.t("course_stats.legend_viewers"),
        ),
        swatch(
            "drop",
            {"background": DROP_FILL, "clipPath": "polygon(0 0, 100% 0, 50% 100%)"},
            ctx.t("course_stats.legend_drop_off"),
        ),
        swatch(
            "skipped",
            {"background": SKIP_FILL, "border": f"1px dashed {SKIP_STROKE}"},
            ctx.t("course_stats.legend_skipped"),
        ),
    )
