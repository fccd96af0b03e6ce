"""The latency graph: nimify-api p95 and Triton's queue and compute time over the last minutes, in milliseconds,
with the runbook's 0.5 s alert threshold drawn."""

from __future__ import annotations

from textual.app import ComposeResult
from textual_plotext import PlotextPlot

from nimify_tui.live.keys import LATENCY
from nimify_tui.live.store import Store
from nimify_tui.render.latency import WINDOW_S, series
from nimify_tui.triage.checks import LATENCY_THRESHOLD_S
from nimify_tui.ui.panes.base import Pane


class LatencyPane(Pane):
    SOURCES = (LATENCY,)
    HEALTH = ("metrics",)
    CLOCK_REDRAW_S = 10.0  # drawing the plot costs 50-100 ms; the curves move a sixth of a minute in 10 s

    def __init__(self) -> None:
        super().__init__("Latency (ms)", id="latency-pane")

    def compose(self) -> ComposeResult:
        yield PlotextPlot(id="latency-plot")

    def update_view(self, store: Store, now: float) -> None:
        history = store.value(LATENCY)
        plot = self.query_one(PlotextPlot)
        plt = plot.plt
        plt.clear_data()
        plt.clear_figure()
        threshold_ms = LATENCY_THRESHOLD_S * 1000
        plotted_max = threshold_ms
        if history is not None:
            for attr, scale, label, color in (
                ("api_p95_s", 1000.0, "api p95", "red"),
                ("queue_ms", 1.0, "triton queue", "orange"),
                ("compute_ms", 1.0, "triton compute", "cyan"),
            ):
                xs, ys = series(history, now, attr, scale)
                if xs:
                    plt.plot(xs, ys, label=label, color=color, marker="braille")
                    plotted_max = max(plotted_max, max(ys))
        plt.hline(threshold_ms, "red+")
        plt.xlabel("minutes ago")
        plt.ylim(0, plotted_max * 1.1)
        oldest = min((p.at for p in history.points), default=now) if history is not None else now
        plt.xlim(max(-WINDOW_S, oldest - now) / 60.0, 0)  # the minutes there are data for, up to ten
        latest = history.latest() if history is not None else None
        title = "Latency (ms) · alert at 500 ms"
        if latest is not None and latest.api_p95_s is not None:
            title += f" · p95 now {latest.api_p95_s * 1000:.0f} ms"
        if latest is not None and latest.api_error_ratio is not None:
            title += f" · 5xx {latest.api_error_ratio:.1%}"
        self.set_title(title)
        plot.refresh()
