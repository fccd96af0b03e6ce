"""The latency pane as drawn: round values with the 500 ms alert line on its labelled row, times as ages up to
"now", the legend on a line of its own, and enter opening the model that carries the traffic."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from textual.app import App, ComposeResult

from nimify_tui.live.keys import LATENCY, TRITON
from nimify_tui.live.store import Store
from nimify_tui.metrics.api_latency import LatencyHistory
from nimify_tui.sim.server import SimThread
from nimify_tui.ui.app import NimifyApp
from nimify_tui.ui.panes.latency import LatencyPane, LatencyPlot
from nimify_tui.ui.screens.detail import DetailScreen
from nimify_tui.ui.screens.main import MainScreen

from .conftest import drawn, until

Y_LABEL = re.compile(r"^\s*([^\s┤├│]+)[┤├]")  # a value label at the left of the plot's axis line
X_LABELS = re.compile(r"(-\d+[ms]|now)")


def y_labels(lines: list[str]) -> dict[str, str]:
    """Each value label of the plot and the row it is on."""
    return {m.group(1): line for line in lines if (m := Y_LABEL.match(line))}


def x_labels(lines: list[str]) -> list[str]:
    """The time labels: the line under the axis' bottom edge."""
    bottom = next(i for i, line in enumerate(lines) if "└" in line)
    return X_LABELS.findall(lines[bottom + 1]) if bottom + 1 < len(lines) else []


def assert_readable_axes(lines: list[str]) -> None:
    labels = y_labels(lines)
    assert labels, f"value labels drawn:\n{chr(10).join(lines)}"
    assert all(re.fullmatch(r"\d+", label) for label in labels), f"round, without decimals: {list(labels)}"
    assert "500" in labels, "the alert threshold is labelled"
    alert_row = labels["500"]
    assert "├─" in alert_row and alert_row.count("─") > len(alert_row) // 2, f"the alert line on 500's row: {alert_row}"
    assert not any("─" * 4 in row for label, row in labels.items() if label != "500"), "and on no other row"
    ages = x_labels(lines)
    assert ages and ages[-1] == "now", f"times read as ages: {ages}"
    assert all(age == "now" or re.fullmatch(r"-\d+[ms]", age) for age in ages)


@pytest.fixture(scope="module")
def spike_sim() -> Iterator[SimThread]:
    with SimThread(scenario="latency-spike") as sim:
        yield sim


async def test_the_chart_in_a_latency_spike_reads_plainly_and_enter_opens_the_busy_model(
    spike_sim: SimThread, app_factory: Callable[..., NimifyApp]
) -> None:
    app = app_factory(spike_sim)
    async with app.run_test(size=(160, 45)) as pilot:
        await until(pilot, lambda: len(getattr(app.runtime.store.value(LATENCY), "points", ())) >= 2, "two points")
        view = await until(
            pilot,
            lambda: (
                (v := app.runtime.store.value(TRITON))
                and any(m.interval and m.interval.request_rate for m in v.models)
                and v
            ),
            "Triton's request rates",
        )
        assert view.models[0].name == "nimify-embedder", "the first row is not the model under load"
        pane = app.screen.query_one(LatencyPane)
        await pilot.press("5")
        assert app.focused is pane and pane.has_class("-active"), "the chart takes the focus"
        pane.refresh_from(app.runtime.store, app.clock(), force=True)
        await pilot.pause()
        plot = drawn(pane.query_one(LatencyPlot))
        assert_readable_axes(plot)
        assert not any("api p95" in line or "queue" in line for line in plot), "no legend over the plot"
        legend = drawn(pane.query_one("#latency-legend"))[0]
        assert re.search(r"━ api p95 \d+ +━ queue \d+ +━ compute \d+ +── alert 500", legend), legend
        await pilot.press("enter")
        screen = await until(pilot, lambda: isinstance(app.screen, DetailScreen) and app.screen, "the model's screen")
        assert screen.title_text == "Triton model nimify-model", "the model with the traffic, not the first row"
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)


async def test_the_chart_on_a_narrow_terminal(spike_sim: SimThread, app_factory: Callable[..., NimifyApp]) -> None:
    app = app_factory(spike_sim)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: len(getattr(app.runtime.store.value(LATENCY), "points", ())) >= 2, "two points")
        await pilot.press("5")
        pane = app.screen.query_one(LatencyPane)
        assert pane.display and pane.region.height > 8
        pane.refresh_from(app.runtime.store, app.clock(), force=True)
        await pilot.pause()
        assert_readable_axes(drawn(pane.query_one(LatencyPlot)))
        assert "── alert 500" in drawn(pane.query_one("#latency-legend"))[0], "the legend fits 80 columns"


class ChartOnly(App[None]):
    def compose(self) -> ComposeResult:
        yield LatencyPane()


@pytest.mark.parametrize("size", [(60, 12), (60, 9), (80, 20)])
async def test_with_no_data_the_alert_line_is_on_the_500_row_and_the_legend_says_so(size: tuple[int, int]) -> None:
    """The screen showed ticks 550.0 458.3 366.7 with the line on the 550.0 row."""
    store = Store()
    store.put(LATENCY, LatencyHistory())
    async with ChartOnly().run_test(size=size) as pilot:
        pane = pilot.app.query_one(LatencyPane)
        pane.refresh_from(store, 1000.0, force=True)
        await pilot.pause()
        plot = drawn(pane.query_one(LatencyPlot))
        labels = y_labels(plot)
        assert "500" in labels and "550.0" not in labels and "550" not in labels, list(labels)
        assert labels["500"].count("─") > len(labels["500"]) // 2, f"the line on 500's row:\n{chr(10).join(plot)}"
        assert drawn(pane.query_one("#latency-legend"))[0].strip().startswith("no data yet")
