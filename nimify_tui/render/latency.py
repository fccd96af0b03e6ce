"""The latency graph's series and axes: nimify-api p95 and Triton's queue and compute time over the last minutes.

Time is in seconds relative to now (negative: in the past). The axes are worked out here, not by the plotting
library: values on round 1-2-5 steps with the alert threshold always on its own labelled row, times as ``-5m``
... ``now`` (seconds when the history is short).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from nimify_tui.metrics.api_latency import LatencyHistory
from nimify_tui.triton.poller import TritonView

WINDOW_S = 600.0  # the last ten minutes
MIN_SPAN_S = 30.0  # the time axis never spans less, so a history of two points is not stretched over the width
MIN_ROWS_PER_TICK = 2  # value ticks are at least this many rows apart
MIN_COLUMNS_PER_TICK = 8  # time ticks ("-10m", "-30s", "now") at least this many columns apart
_TIME_STEPS_S = (5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0)


@dataclass(frozen=True, slots=True)
class Axis:
    """Where an axis starts and ends, and its ticks with their labels."""

    low: float
    high: float
    ticks: tuple[float, ...]
    labels: tuple[str, ...]


def series(history: LatencyHistory, now: float, attr: str, scale: float) -> tuple[list[float], list[float]]:
    """One curve: the points' ages in seconds (negative) and their values times ``scale``, over the window."""
    xs: list[float] = []
    ys: list[float] = []
    for point in history.points:
        value = getattr(point, attr)
        age = point.at - now
        if value is None or age < -WINDOW_S:
            continue
        xs.append(age)
        ys.append(value * scale)
    return xs, ys


def time_span(history: LatencyHistory | None, now: float) -> float:
    """How many seconds back the time axis goes: the history's age, between ``MIN_SPAN_S`` and the window."""
    oldest = history.points[0].at if history is not None and history.points else now
    return min(WINDOW_S, max(MIN_SPAN_S, now - oldest))


def _row(value: float, top: float, rows: int) -> int:
    """The canvas row (0 at the bottom) a value is drawn on, as the plot maps it: the nearest of ``rows``."""
    return math.floor(round(0.5 + (rows - 1) * value / top, 8))


def _steps(start: float) -> list[float]:
    """1-2-5 steps from the first one not smaller than ``start``, ascending (a few decades: enough for any fit)."""
    exponent = math.floor(math.log10(start)) if start > 0 else 0
    return [m * 10.0**e for e in range(exponent - 1, exponent + 4) for m in (1.0, 2.0, 5.0) if m * 10.0**e >= start]


def _number(value: float, step: float) -> str:
    if value == 0:
        return "0"
    decimals = max(0, -math.floor(math.log10(step))) if step < 1 else 0
    return f"{value:.{decimals}f}"


def value_axis(peak: float, threshold: float, rows: int) -> Axis:
    """The value axis from 0 to a round top above ``peak`` and ``threshold``, for a canvas of ``rows`` rows.

    Ticks are multiples of a 1-2-5 step, at least ``MIN_ROWS_PER_TICK`` rows apart. The threshold is a tick of its
    own: it lands on the row the plot draws its line on, and a round tick on that row or the next is left out (0
    only from that row itself: where the top is so high that the threshold is drawn at the bottom).
    """
    rows = max(rows, 2)
    highest = max(peak, threshold) * 1.05
    most_ticks = max(2, (rows - 1) // MIN_ROWS_PER_TICK + 1)
    for step in _steps(highest / (most_ticks - 1)):
        top = math.ceil(highest / step) * step
        if top / step <= most_ticks - 1:
            break
    count = round(top / step)
    threshold_row = _row(threshold, top, rows)
    ticks = [
        i * step
        for i in range(count + 1)
        if abs(_row(i * step, top, rows) - threshold_row) > (0 if i == 0 else 1)  # 0 may be its neighbour
    ]
    ticks.append(threshold)  # on 0's row (a top of many seconds), it is the bottom's label
    ticks.sort()
    return Axis(0.0, top, tuple(ticks), tuple(_number(t, step) for t in ticks))


def _age_label(seconds: float, step: float) -> str:
    if seconds == 0:
        return "now"
    if step >= 60:
        return f"-{seconds / 60:.0f}m"
    return f"-{seconds:.0f}s"


def time_axis(span_s: float, columns: int) -> Axis:
    """The time axis from ``-span_s`` to now over ``columns`` columns: ``-10m`` ... ``-2m now`` or, under two
    minutes or where minutes would be too few ticks, ``-90s`` ... ``now``."""
    most_ticks = max(2, columns // MIN_COLUMNS_PER_TICK)
    step = next((s for s in _TIME_STEPS_S if span_s / s <= most_ticks - 1), _TIME_STEPS_S[-1])
    count = math.floor(span_s / step + 1e-9)
    ages = [i * step for i in range(count, -1, -1)]
    return Axis(-span_s, 0.0, tuple(-age for age in ages), tuple(_age_label(age, step) for age in ages))


def model_behind_latency(view: TritonView | None) -> str | None:
    """The model the latency graph is about: the one that served the most requests over Triton's last poll
    interval; where none served any, the first one that should serve and cannot (not READY, not unloaded on
    purpose). None when there is neither."""
    if view is None:
        return None
    rated = [(m.interval.request_rate, m.name) for m in view.models if m.interval is not None]
    rate, name = max(rated, key=lambda pair: pair[0], default=(0.0, ""))
    if rate > 0:
        return name
    return next((m.name for m in view.models if m.state not in ("READY", "") and m.reason != "unloaded"), None)
