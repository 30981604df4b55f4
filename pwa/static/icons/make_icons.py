"""Draw Learnloop's app icons as PNG files (standard library only) and the SVG favicon.

The logo is a white loop (a circular arrow) around a dot, on the theme colour #1677ff.
Shapes are signed distance functions, so every pixel gets an exact anti-aliased coverage.

    python pwa/static/icons/make_icons.py

writes the PNGs next to this file and favicon.svg one folder up. Output is deterministic.
"""

from __future__ import annotations

import math
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

BRAND = (0x16, 0x77, 0xFF)
WHITE = (0xFF, 0xFF, 0xFF)

# Logo geometry in logo units: everything fits in a circle of radius LOGO_EXTENT (0.9) around the origin.
# Angles are in degrees and grow clockwise on screen (y points down, as in PNG and SVG).
RING_RADIUS = 0.60
RING_WIDTH = 0.25
ARC_START = -30.0
ARC_SWEEP = 260.0
HEAD_HALF_WIDTH = 0.30  # arrowhead half width, measured along the radius at the arc's end
HEAD_LENGTH = 32.0  # the arrowhead's tip lies this many degrees beyond the arc's end
DOT_RADIUS = 0.19
LOGO_EXTENT = RING_RADIUS + HEAD_HALF_WIDTH  # no logo point lies farther from the centre

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class IconSpec:
    name: str
    size: int
    logo_scale: float  # logo unit in pixels, as a share of the icon size
    background: str  # "rounded" (transparent corners), "full" (full bleed) or "none"
    corner: float = 0.0  # corner radius as a share of the size, for "rounded"
    safe_radius: float = 0.5  # the logo must stay inside this share of the size from the centre


ICONS = (
    IconSpec("icon-192.png", 192, 0.34, "rounded", 0.22),
    IconSpec("icon-512.png", 512, 0.34, "rounded", 0.22),
    # Maskable: the launcher may crop to a circle of radius 0.4 * size; keep the logo well inside it.
    IconSpec("icon-maskable-512.png", 512, 0.30, "full", safe_radius=0.4),
    # iOS rounds the corners itself and shows transparency as black, so fill the whole square.
    IconSpec("apple-touch-icon-180.png", 180, 0.34, "full"),
    # Notification badge: Android uses only the alpha channel, so white on transparent.
    IconSpec("badge-96.png", 96, 0.48, "none"),
)


def _point_on_ring(angle_deg: float, radius: float) -> tuple[float, float]:
    a = math.radians(angle_deg)
    return radius * math.cos(a), radius * math.sin(a)


ARC_END = ARC_START + ARC_SWEEP
ARC_START_POINT = _point_on_ring(ARC_START, RING_RADIUS)
ARC_END_POINT = _point_on_ring(ARC_END, RING_RADIUS)
HEAD = (
    _point_on_ring(ARC_END, RING_RADIUS - HEAD_HALF_WIDTH),
    _point_on_ring(ARC_END, RING_RADIUS + HEAD_HALF_WIDTH),
    _point_on_ring(ARC_END + HEAD_LENGTH, RING_RADIUS),
)


def _arc_distance(x: float, y: float) -> float:
    """Distance to the ring's arc with round caps (negative inside)."""
    rel = (math.degrees(math.atan2(y, x)) - ARC_START) % 360.0
    if rel <= ARC_SWEEP:
        return abs(math.hypot(x, y) - RING_RADIUS) - RING_WIDTH / 2
    to_start = math.hypot(x - ARC_START_POINT[0], y - ARC_START_POINT[1])
    to_end = math.hypot(x - ARC_END_POINT[0], y - ARC_END_POINT[1])
    return min(to_start, to_end) - RING_WIDTH / 2


def _triangle_distance(x: float, y: float, tri: tuple[tuple[float, float], ...]) -> float:
    """Exact signed distance to a triangle (after Inigo Quilez's sdTriangle)."""
    (x0, y0), (x1, y1), (x2, y2) = tri
    edges = ((x0, y0, x1 - x0, y1 - y0), (x1, y1, x2 - x1, y2 - y1), (x2, y2, x0 - x2, y0 - y2))
    orientation = math.copysign(1.0, (x1 - x0) * (y0 - y2) - (y1 - y0) * (x0 - x2))
    best_sq = math.inf
    inside = True
    for ox, oy, ex, ey in edges:
        vx, vy = x - ox, y - oy
        t = min(max((vx * ex + vy * ey) / (ex * ex + ey * ey), 0.0), 1.0)
        dx, dy = vx - ex * t, vy - ey * t
        best_sq = min(best_sq, dx * dx + dy * dy)
        if orientation * (vx * ey - vy * ex) < 0:
            inside = False
    distance = math.sqrt(best_sq)
    return -distance if inside else distance


def logo_distance(x: float, y: float) -> float:
    """Signed distance to the whole logo in logo units (negative inside)."""
    return min(
        _arc_distance(x, y),
        _triangle_distance(x, y, HEAD),
        math.hypot(x, y) - DOT_RADIUS,
    )


def _rounded_square_distance(x: float, y: float, half: float, radius: float) -> float:
    qx = abs(x) - (half - radius)
    qy = abs(y) - (half - radius)
    outside = math.hypot(max(qx, 0.0), max(qy, 0.0))
    return outside + min(max(qx, qy), 0.0) - radius


def _coverage(distance_px: float) -> float:
    return min(max(0.5 - distance_px, 0.0), 1.0)


def render(spec: IconSpec) -> bytes:
    """RGBA rows, each prefixed with PNG filter type 0."""
    size = spec.size
    centre = size / 2
    unit = spec.logo_scale * size
    rows = bytearray()
    for j in range(size):
        rows.append(0)
        py = j + 0.5 - centre
        for i in range(size):
            px = i + 0.5 - centre
            fg = _coverage(logo_distance(px / unit, py / unit) * unit)
            if spec.background == "full":
                bg = 1.0
            elif spec.background == "rounded":
                bg = _coverage(_rounded_square_distance(px, py, centre, spec.corner * size))
            else:
                bg = 0.0
            alpha = fg + bg * (1.0 - fg)
            if alpha <= 0.0:
                rows += b"\0\0\0\0"
                continue
            under = bg * (1.0 - fg)
            rgb = (round((w * fg + b * under) / alpha) for w, b in zip(WHITE, BRAND, strict=True))
            rows += bytes((*rgb, round(alpha * 255)))
    return bytes(rows)


def png_bytes(width: int, height: int, filtered_rgba_rows: bytes) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8-bit RGBA, no interlace
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(filtered_rgba_rows, 9))
        + chunk(b"IEND", b"")
    )


def favicon_svg(size: int = 64) -> str:
    """The same logo as a small SVG, from the same geometry."""
    unit = 0.34 * size
    c = size / 2

    def pt(p: tuple[float, float]) -> str:
        return f"{c + p[0] * unit:.2f} {c + p[1] * unit:.2f}"

    r = RING_RADIUS * unit
    large_arc = 1 if ARC_SWEEP > 180 else 0
    head = " ".join(pt(p) for p in HEAD)
    shapes = (
        f'<rect width="{size}" height="{size}" rx="{0.22 * size:.2f}" fill="#1677ff"/>',
        f'<path d="M{pt(ARC_START_POINT)} A{r:.2f} {r:.2f} 0 {large_arc} 1 {pt(ARC_END_POINT)}" '
        f'fill="none" stroke="#fff" stroke-width="{RING_WIDTH * unit:.2f}" stroke-linecap="round"/>',
        f'<path d="M{head}Z" fill="#fff"/>',
        f'<circle cx="{c:.2f}" cy="{c:.2f}" r="{DOT_RADIUS * unit:.2f}" fill="#fff"/>',
    )
    body = "\n  ".join(shapes)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" '
        f'role="img" aria-label="Learnloop">\n  {body}\n</svg>\n'
    )


def main() -> None:
    for spec in ICONS:
        if LOGO_EXTENT * spec.logo_scale > spec.safe_radius:
            raise SystemExit(f"{spec.name}: the logo leaves its safe zone")
        (HERE / spec.name).write_bytes(png_bytes(spec.size, spec.size, render(spec)))
        print(f"wrote icons/{spec.name} ({spec.size}x{spec.size})")
    (HERE.parent / "favicon.svg").write_text(favicon_svg(), encoding="utf-8")
    print("wrote favicon.svg")


if __name__ == "__main__":
    main()
