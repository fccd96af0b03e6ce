"""Pane.refresh_from: a pane redraws when its sources changed, and on the clock's forced refresh at most as often
as it says (the latency plot costs 50-100 ms to draw)."""

from __future__ import annotations

from textual.app import App, ComposeResult

from nimify_tui.live.keys import LATENCY
from nimify_tui.live.store import Store
from nimify_tui.metrics.api_latency import LatencyHistory
from nimify_tui.ui.panes.base import Pane
from nimify_tui.ui.panes.latency import LatencyPane


class CountingPane(Pane):
    SOURCES = (LATENCY,)
    CLOCK_REDRAW_S = LatencyPane.CLOCK_REDRAW_S

    def __init__(self) -> None:
        super().__init__("counting")
        self.drawn: list[float] = []

    def update_view(self, store: Store, now: float) -> None:
        self.drawn.append(now)


class OnePane(App[None]):
    def compose(self) -> ComposeResult:
        yield CountingPane()


async def test_forced_redraws_are_spaced_but_new_data_is_drawn_at_once() -> None:
    store = Store()
    async with OnePane().run_test() as pilot:
        pane = pilot.app.query_one(CountingPane)
        pane.refresh_from(store, 100.0, force=True)
        pane.refresh_from(store, 102.0, force=True)
        pane.refresh_from(store, 104.0)
        assert pane.drawn == [100.0], "nothing changed and the last redraw is recent"
        store.put(LATENCY, LatencyHistory())
        pane.refresh_from(store, 105.0)
        assert pane.drawn == [100.0, 105.0], "new data is drawn at once"
        pane.refresh_from(store, 114.0, force=True)
        pane.refresh_from(store, 115.0, force=True)
        assert pane.drawn == [100.0, 105.0, 115.0], "the clock alone redraws it every CLOCK_REDRAW_S"
