"""The latency graph: nimify-api p95 and Triton's queue and compute time over the last minutes, in milliseconds,
with the runbook's 0.5 s alert threshold drawn, and a legend on a line of its own above it."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.events import Resize
from textual_plotext import PlotextPlot

from nimify_tui.live.keys import LATENCY, TRITON
from nimify_tui.live.store import Store
from nimify_tui.metrics.api_latency import LatencyHistory
from nimify_tui.render.latency import model_behind_latency, series, time_axis, time_span, value_axis
from nimify_tui.triage.checks import LATENCY_THRESHOLD_S
from nimify_tui.ui.panes.base import Pane
from nimify_tui.ui.widgets.quiet_static import QuietStatic

# each curve: the history's attribute, its scale to ms, its name, its colour in the plot and in the legend
# (plotext's "orange" is the terminal's yellow); queue and compute are Triton's, per request
CURVES = (
    ("api_p95_s", 1000.0, "api p95", "red", "red"),
    ("queue_ms", 1.0, "queue", "orange", "yellow"),
    ("compute_ms", 1.0, "compute", "cyan", "cyan"),
)
THRESHOLD_COLOR = ("red+", "bright_red")
PLOT_FRAME_ROWS = 3  # the plot's rows that are not canvas: the frame's top line, the time axis and its labels


def legend(history: LatencyHistory | None, threshold_ms: float) -> Text:
    """One line: each curve's colour, name and latest value, and the alert line; "no data yet" before any."""
    latest = history.latest() if history is not None else None
    text = Text(no_wrap=True)
    if latest is None:
        text.append("no data yet  ", style="bold")
    else:
        for attr, scale, name, _, style in CURVES:
            value = getattr(latest, attr)
            text.append("━ ", style=style)
            text.append(name)
            text.append(f" {value * scale:.0f}" if value is not None else " -", style="bold")
            text.append("  ")
    text.append("── ", style=THRESHOLD_COLOR[1])
    text.append(f"alert {threshold_ms:.0f}")
    return text


class LatencyPlot(PlotextPlot):
    """The plot itself (the pane draws on it)."""


class LatencyPane(Pane, can_focus=True):
    """Focusable: enter on the graph opens the model the traffic goes to."""

    SOURCES = (LATENCY,)
    HEALTH = ("metrics",)
    CLOCK_REDRAW_S = 10.0  # drawing the plot costs 50-100 ms; the curves move a sixth of a minute in 10 s

    DEFAULT_CSS = """
    LatencyPane > #latency-legend { height: 1; padding: 0 1; }
    LatencyPane > LatencyPlot { height: 1fr; }
    """

    def __init__(self) -> None:
        super().__init__("Latency (ms)", id="latency-pane")
        self._last: tuple[Store, float] | None = None

    def compose(self) -> ComposeResult:
        yield QuietStatic(id="latency-legend")
        yield LatencyPlot(id="latency-plot")

    def on_resize(self, event: Resize) -> None:
        """The axes' ticks are worked out for the plot's size: drawn again for the new one."""
        if self._last is not None:
            self.update_view(*self._last)

    def update_view(self, store: Store, now: float) -> None:
        self._last = (store, now)
        history = store.value(LATENCY)
        plot = self.query_one(LatencyPlot)
        plt = plot.plt
        plt.clear_data()
        plt.clear_figure()
        threshold_ms = LATENCY_THRESHOLD_S * 1000
        peak = 0.0
        if history is not None:
            for attr, scale, _, color, _ in CURVES:
                xs, ys = series(history, now, attr, scale)
                if xs:
                    plt.plot(xs, ys, color=color, marker="braille")
                    peak = max(peak, *ys)
        plt.hline(threshold_ms, THRESHOLD_COLOR[0])
        values = value_axis(peak, threshold_ms, plot.size.height - PLOT_FRAME_ROWS)
        plt.ylim(values.low, values.high)
        plt.yticks(list(values.ticks), list(values.labels))
        label_width = max(len(label) for label in values.labels) + 1  # the value labels and the axis line
        times = time_axis(time_span(history, now), plot.size.width - label_width)
        plt.xlim(times.low, times.high)
        plt.xticks(list(times.ticks), list(times.labels))
        self.query_one("#latency-legend", QuietStatic).show_text(legend(history, threshold_ms))
        latest = history.latest() if history is not None else None
        title = "Latency (ms)"  # the legend has the latest values
        if latest is not None and latest.api_error_ratio is not None:
            title += f" · 5xx {latest.api_error_ratio:.1%}"
        self.set_title(title)
        plot.refresh()

    def model_to_open(self, store: Store) -> str | None:
        """The model enter opens: the one the traffic goes to (or the one that cannot serve it)."""
        return model_behind_latency(store.value(TRITON))
