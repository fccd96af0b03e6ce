"""``-n NS`` is the main namespace: the pods and events panes show it, nimify-api is probed and checked there, and
``:ns`` and ``N`` move the views (never the checks)."""

from __future__ import annotations

from collections.abc import Callable

from nimify_tui.live.keys import EVENTS, PROBES
from nimify_tui.sim.server import SimThread
from nimify_tui.ui.app import NimifyApp
from nimify_tui.ui.panes.events import EventsPane
from nimify_tui.ui.widgets.record_table import RecordTable

from .conftest import until

SIZE = (160, 45)


def keys(app: NimifyApp, selector: str) -> list[str]:
    table = app.screen.query_one(selector, RecordTable)
    return [table.row_at(i).key for i in range(table.row_count)]


def pane_title(app: NimifyApp, selector: str) -> str:
    return str(app.screen.query_one(selector).border_title)


async def test_the_main_namespace_is_the_one_shown_probed_and_checked(
    healthy_sim: SimThread, app_factory: Callable[..., NimifyApp]
) -> None:
    app = app_factory(healthy_sim, cli={"namespace": "triton-system"})
    async with app.run_test(size=SIZE) as pilot:
        pods = await until(pilot, lambda: keys(app, "#pods-table"), "pods")
        assert {key.split("/")[0] for key in pods} == {"triton-system"}
        assert all(key.split("/")[1].startswith("triton-server-") for key in pods)
        assert pane_title(app, "#pods-pane").startswith("Pods · triton-system · ")
        # the store has nimify-system's events; the pane shows none of them
        await until(pilot, lambda: any(e.namespace == "nimify-system" for e in app.runtime.store.items(EVENTS)), ".")
        events_pane = app.screen.query_one("#events-pane", EventsPane)
        await until(
            pilot, lambda: events_pane.drawn_versions == (app.runtime.store.version(EVENTS),), "the pane to draw them"
        )
        assert {key.split("/")[0] for key in keys(app, "#events-table")} <= {"triton-system"}
        assert pane_title(app, "#events-pane").startswith("Events · triton-system · ")
        # nimify-api is looked for in the main namespace: the probes go to its service there
        probes = await until(pilot, lambda: app.runtime.store.value(PROBES), "probes")
        api = {p.name: p.url for p in probes}
        assert "/api/v1/namespaces/triton-system/services/nimify-api:8000/proxy/health" in api["api /health"]
        # and so does the endpoints check: no nimify-api service there, Triton's is
        endpoints = await until(
            pilot, lambda: next((f for f in app.findings if f.check == "endpoints" and f.state != "unknown"), None), "."
        )
        assert endpoints.state == "pass"
        assert endpoints.evidence.startswith("ready endpoints: triton-server ")
        # :ns and N move the views, not the main namespace the checks use
        await pilot.press("colon", *"ns monitoring", "enter")
        shown = await until(pilot, lambda: keys(app, "#pods-table"), "monitoring pods")
        assert {key.split("/")[0] for key in shown} == {"monitoring"}
        assert {key.split("/")[0] for key in keys(app, "#events-table")} <= {"monitoring"}
        assert app.triage.main_namespace == "triton-system"


async def test_the_default_main_namespace_is_nimify_system(
    healthy_sim: SimThread, app_factory: Callable[..., NimifyApp]
) -> None:
    app = app_factory(healthy_sim)
    async with app.run_test(size=SIZE) as pilot:
        pods = await until(pilot, lambda: keys(app, "#pods-table"), "pods")
        assert {key.split("/")[0] for key in pods} == {"nimify-system"}
        probes = await until(pilot, lambda: app.runtime.store.value(PROBES), "probes")
        assert "/namespaces/nimify-system/services/nimify-api:8000/" in {p.name: p.url for p in probes}["api /health"]
