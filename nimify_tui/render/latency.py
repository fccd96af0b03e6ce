"""The latency graph's series: nimify-api p95 and Triton's queue and compute time over the last minutes."""

from __future__ import annotations

from nimify_tui.metrics.api_latency import LatencyHistory

WINDOW_S = 600.0  # the last ten minutes


def series(history: LatencyHistory, now: float, attr: str, scale: float) -> tuple[list[float], list[float]]:
    xs: list[float] = []
    ys: list[float] = []
    for point in history.points:
        value = getattr(point, attr)
        age = point.at - now
        if value is None or age < -WINDOW_S:
            continue
        xs.append(age / 60.0)
        ys.append(value * scale)
    return xs, ys
