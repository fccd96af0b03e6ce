"""`:alerts` on the simulated cluster: the runbook's three rules with their states, and the rules file."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.pilot import Pilot

from nimify_tui.live.keys import ALERT_STATES
from nimify_tui.metrics.alerts import rules_file_text
from nimify_tui.sim.server import SimThread
from nimify_tui.ui.app import NimifyApp
from nimify_tui.ui.screens.detail import DetailScreen
from nimify_tui.ui.screens.main import MainScreen
from nimify_tui.ui.widgets.log_view import LogView

from .conftest import until


async def tab_text(pilot: Pilot[Any], app: NimifyApp, tab: str) -> str:
    area = app.screen.query_one(f"#text-{tab}", LogView)
    return str(await until(pilot, lambda: area.text != "loading…" and area.text, f"the {tab} tab"))


async def test_alerts_shows_each_rule_as_the_clusters_prometheus_holds_it(
    healthy_sim: SimThread, app_factory: Callable[..., NimifyApp]
) -> None:
    app = app_factory(healthy_sim)
    async with app.run_test(size=(160, 45)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, MainScreen), "the main screen")
        states = await until(pilot, lambda: app.runtime.store.value(ALERT_STATES), "the first evaluation")
        assert [state.name for state in states] == ["NimifyAPIDown", "NimifyHighErrorRate", "NimifyHighLatency"]
        await pilot.press("colon", *"alerts", "enter")
        await until(pilot, lambda: isinstance(app.screen, DetailScreen), "the alerts view")
        text = await tab_text(pilot, app, "states")
        assert "NimifyAPIDown: inactive\n" in text
        assert "  evaluated    by the cluster's Prometheus (its rules API)\n" in text
        assert (
            '  expr         sum(rate(http_requests_total{status=~"5.."}[5m])) / sum(rate(http_requests_total[5m]))'
            " > 0.01\n" in text
        )
        assert '  runbook      rate(http_requests_total{status=~"5.."}[5m]) / rate(' in text
        await pilot.press("right_square_bracket")
        assert await tab_text(pilot, app, "rules") == rules_file_text()
