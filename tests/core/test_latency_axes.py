"""The latency graph's axes and the model behind it: round values with the alert line on its own labelled row,
readable times, and the model that carries the traffic."""

from __future__ import annotations

import math
import re
from itertools import pairwise

import pytest

from nimify_tui.metrics.api_latency import LatencyHistory, LatencyPoint
from nimify_tui.render.latency import (
    MIN_ROWS_PER_TICK,
    WINDOW_S,
    model_behind_latency,
    series,
    time_axis,
    time_span,
    value_axis,
)
from nimify_tui.triton.latency import ModelInterval
from nimify_tui.triton.poller import ModelState, ServerState, TritonView


def row(value: float, top: float, rows: int) -> int:
    """The row plotext draws a value on (its own mapping, written out again here)."""
    return math.floor(round(0.5 + (rows - 1) * value / top, 8))


def is_round(value: float) -> bool:
    """A multiple of 1, 2 or 5 times a power of ten."""
    if value == 0:
        return True
    mantissa = value / 10 ** math.floor(math.log10(value))
    return any(math.isclose(mantissa, m * k) for m in (1, 2, 5) for k in range(1, 10))


@pytest.mark.parametrize("peak", [0.0, 120.0, 480.0, 551.0, 1184.5, 1430.0, 9_800.0, 64_000.0])
@pytest.mark.parametrize("rows", [2, 3, 5, 7, 9, 12, 20, 35])
def test_value_ticks_are_round_and_the_alert_has_its_own_row(peak: float, rows: int) -> None:
    axis = value_axis(peak, 500.0, rows)
    assert axis.low == 0 and axis.high >= max(peak, 500.0), "everything drawn fits under the top"
    assert 500.0 in axis.ticks and axis.labels[axis.ticks.index(500.0)] == "500"
    others = [t for t in axis.ticks if t != 500.0]
    assert 0.0 in others or row(500.0, axis.high, rows) == 0, "0 is labelled unless the alert line is down there"
    steps = {b - a for a, b in pairwise(others)}
    assert all(is_round(step) for step in steps), f"1-2-5 steps: {axis.ticks}"
    assert all(re.fullmatch(r"\d+", label) for label in axis.labels), f"no needless decimals: {axis.labels}"
    tick_rows = [row(t, axis.high, rows) for t in axis.ticks]
    assert len(set(tick_rows)) == len(tick_rows), f"one label per row: {axis.ticks} on {tick_rows}"
    alert_row = row(500.0, axis.high, rows)
    assert all(abs(r - alert_row) > 1 for t, r in zip(axis.ticks, tick_rows, strict=True) if t not in (0.0, 500.0))


def test_value_ticks_on_a_tall_plot() -> None:
    """The screen showed 1184.5 987.1 ...: now round steps, at least two rows apart (600 left out beside 500)."""
    axis = value_axis(1184.5, 500.0, 20)
    assert axis.labels == ("0", "200", "400", "500", "800", "1000", "1200", "1400")
    rows = [row(t, axis.high, 20) for t in axis.ticks]
    assert all(b - a >= MIN_ROWS_PER_TICK for a, b in pairwise(rows))


def test_a_top_of_seconds_labels_the_alert_line_at_the_bottom() -> None:
    axis = value_axis(9_800.0, 500.0, 9)
    assert axis.labels == ("500", "5000", "10000", "15000")


def test_with_no_data_the_alert_line_is_drawn_where_500_is() -> None:
    """The screen showed ticks 0.0 ... 550.0 and the line on the 550.0 row: 500 is now its own label."""
    for rows in (3, 5, 6, 9):
        axis = value_axis(0.0, 500.0, rows)
        assert "550.0" not in axis.labels
        assert axis.labels[axis.ticks.index(500.0)] == "500"


def test_small_values_keep_the_decimals_their_step_needs() -> None:
    axis = value_axis(0.9, 0.5, 12)
    assert axis.labels == ("0", "0.2", "0.4", "0.5", "0.8", "1.0")


@pytest.mark.parametrize(
    ("span", "columns", "expected"),
    [
        (600.0, 56, ("-10m", "-8m", "-6m", "-4m", "-2m", "now")),
        (300.0, 56, ("-5m", "-4m", "-3m", "-2m", "-1m", "now")),
        (600.0, 24, ("-10m", "-5m", "now")),
        (30.0, 56, ("-30s", "-25s", "-20s", "-15s", "-10s", "-5s", "now")),
        (90.0, 40, ("-90s", "-60s", "-30s", "now")),
        (20.4, 56, ("-20s", "-15s", "-10s", "-5s", "now")),
    ],
)
def test_time_ticks_read_as_ages(span: float, columns: int, expected: tuple[str, ...]) -> None:
    axis = time_axis(span, columns)
    assert axis.labels == expected
    assert (axis.low, axis.high) == (-span, 0.0)
    assert axis.ticks[-1] == 0.0 and all(-span <= t <= 0 for t in axis.ticks)
    assert len(axis.ticks) <= max(2, columns // 8), "labels of about four characters need room"


def point(at: float, p95: float | None = 0.1) -> LatencyPoint:
    return LatencyPoint(at, p95, 0.0, 10.0, 5.0, 2.0)


def test_series_and_span_are_in_seconds_ago_within_the_window() -> None:
    now = 10_000.0
    history = LatencyHistory()
    for at in (now - 900, now - 120, now - 60, now - 1):
        history = history.added(point(at))
    history = history.added(point(now, None))
    xs, ys = series(history, now, "api_p95_s", 1000.0)
    assert xs == [-120.0, -60.0, -1.0], "older than the window and missing values are left out"
    assert ys == [100.0, 100.0, 100.0]
    assert time_span(history, now) == WINDOW_S
    assert time_span(LatencyHistory((point(now - 120),)), now) == 120.0
    assert time_span(LatencyHistory((point(now - 2),)), now) == 30.0, "never less than half a minute"
    assert time_span(None, now) == 30.0


def model(name: str, state: str, rate: float | None, reason: str = "") -> ModelState:
    interval = None
    if rate is not None:
        interval = ModelInterval(
            name, "1", 2.0, False, int(rate * 2), 0, rate, rate, None,
            1.0, 30_000.0, 20_000.0, 1_000.0, 8_000.0, 1_000.0, None, 0,
        )  # fmt: skip
    return ModelState(name, "1", state, reason, interval, ("triton-0",))


def view(*models: ModelState) -> TritonView:
    return TritonView((ServerState("triton-0", True, True, ""),), models, 0.0)


def test_the_model_behind_the_graph_is_the_busiest_not_the_first() -> None:
    busy = view(model("nimify-embedder", "READY", 0.0), model("nimify-model", "READY", 475.1), model("x", "", None))
    assert model_behind_latency(busy) == "nimify-model"
    assert model_behind_latency(view(model("a", "READY", 3.0), model("b", "READY", 2.0))) == "a"


def test_with_no_traffic_the_model_that_cannot_serve_is_opened() -> None:
    down = view(
        model("nimify-embedder", "READY", 0.0),
        model("nimify-reranker", "UNAVAILABLE", None, "unloaded"),
        model("nimify-model", "UNAVAILABLE", None, "CUDA out of memory"),
    )
    assert model_behind_latency(down) == "nimify-model"
    assert model_behind_latency(view(model("nimify-embedder", "READY", 0.0))) is None
    assert model_behind_latency(None) is None
