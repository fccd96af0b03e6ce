"""Line charts as inline SVG (no script, no external font): a value over the incident's time, with the first
failure and the verified recovery marked."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from html import escape

WIDTH, HEIGHT = 720, 200
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 24, 28


def line_chart(
    title: str,
    points: Sequence[tuple[datetime, float]],
    *,
    unit: str,
    marks: Sequence[tuple[datetime, str]] = (),
    threshold: float | None = None,
) -> str:
    """An ``<svg>`` element: ``points`` (time, value) as a polyline; ``marks`` as labelled vertical lines."""
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}">',
        f'<text x="{LEFT}" y="16" class="chart-title">{escape(title)}</text>',
    ]
    if not points:
        parts.append(f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle">not recorded</text></svg>')
        return "".join(parts)
    times = [p[0].timestamp() for p in points] + [m[0].timestamp() for m in marks]
    t0, t1 = min(times), max(times)
    if t1 - t0 < 1:
        t0, t1 = t0 - 30, t1 + 30
    values = [p[1] for p in points] + ([threshold] if threshold is not None else [])
    top = max(values) * 1.15 or 1.0
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(at: float) -> float:
        return LEFT + (at - t0) / (t1 - t0) * plot_w

    def y(value: float) -> float:
        return TOP + plot_h - value / top * plot_h

    parts.append(f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" class="chart-frame"/>')
    for fraction in (0.0, 0.5, 1.0):
        value = top * fraction
        parts.append(f'<text x="{LEFT - 4}" y="{y(value) + 4:.1f}" text-anchor="end">{value:.3g} {escape(unit)}</text>')
    for edge, anchor in ((t0, "start"), (t1, "end")):
        stamp = datetime.fromtimestamp(edge, points[0][0].tzinfo).strftime("%H:%M:%S")
        parts.append(f'<text x="{x(edge):.1f}" y="{HEIGHT - 8}" text-anchor="{anchor}">{stamp}</text>')
    if threshold is not None:
        parts.append(
            f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y(threshold):.1f}" y2="{y(threshold):.1f}" '
            'class="chart-threshold"/>'
        )
    for mark_at, label in marks:
        mx = x(mark_at.timestamp())
        parts.append(f'<line x1="{mx:.1f}" x2="{mx:.1f}" y1="{TOP}" y2="{TOP + plot_h}" class="chart-mark"/>')
        parts.append(f'<text x="{mx + 3:.1f}" y="{TOP + 12}" class="chart-mark-label">{escape(label)}</text>')
    coordinates = " ".join(f"{x(at.timestamp()):.1f},{y(value):.1f}" for at, value in points)
    parts.append(f'<polyline points="{coordinates}" class="chart-line"/>')
    for dot_at, dot_value in points[-1:]:
        parts.append(f'<circle cx="{x(dot_at.timestamp()):.1f}" cy="{y(dot_value):.1f}" r="3" class="chart-dot"/>')
    parts.append("</svg>")
    return "".join(parts)
