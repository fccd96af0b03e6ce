"""`d`, `y`, `l` on the selected row of every pane of the main screen: a node's describe and YAML, an event's object
(a pod's describe, YAML and logs; another kind's describe and YAML), a Triton model's stats and config; what cannot
be done is said in a notice that fits an 80-column screen whole."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets._toast import Toast

from nimify_tui.live.keys import EVENTS, NODES, TRITON
from nimify_tui.sim.server import SimThread
from nimify_tui.ui.app import NimifyApp
from nimify_tui.ui.screens.detail import DetailScreen
from nimify_tui.ui.screens.logs import LogsScreen
from nimify_tui.ui.screens.main import MainScreen
from nimify_tui.ui.screens.pod import PodScreen
from nimify_tui.ui.widgets.log_view import LOADING, LogView
from nimify_tui.ui.widgets.record_table import RecordTable

from .conftest import drawn, until

SMALL = (80, 24)
NS = "nimify-system"


@pytest.fixture(scope="module")
def crashloop_sim() -> Iterator[SimThread]:
    with SimThread(scenario="crashloop-oom") as sim:
        yield sim


def row_keys(records: RecordTable) -> list[str]:
    return [records.row_at(index).key for index in range(records.row_count)]


async def select(pilot: Pilot[Any], app: NimifyApp, pane_key: str, table: str, key: str) -> None:
    """Focus a pane (its number key) and put its cursor on the row ``key`` (or the first whose key starts with
    ``key/``), as the arrows would."""
    await pilot.press(pane_key)
    records = app.screen.query_one(f"#{table}", RecordTable)
    found = await until(
        pilot,
        lambda: next((k for k in row_keys(records) if k == key or k.startswith(f"{key}/")), None),
        f"{key} in {table}",
    )
    records.move_cursor(row=records.get_row_index(found))
    await until(pilot, lambda: records.selected_key == found and records.has_focus, f"{key} selected")


async def opened_tab(pilot: Pilot[Any], app: NimifyApp, key: str) -> tuple[DetailScreen, str]:
    """Press ``key`` on the main screen; the detail screen it opens and its active tab's text once loaded."""
    await pilot.press(key)
    screen = await until(pilot, lambda: isinstance(app.screen, DetailScreen) and app.screen, f"{key}'s screen")
    view = screen.query_one(f"#text-{screen.active_tab}", LogView)
    text = await until(pilot, lambda: view.text not in ("", LOADING) and view.text, "its text")
    return screen, str(text)


async def back(pilot: Pilot[Any], app: NimifyApp) -> None:
    await pilot.press("escape")
    await until(pilot, lambda: isinstance(app.screen, MainScreen), "the main screen")


async def notice_shown_whole(pilot: Pilot[Any], app: NimifyApp, words: str) -> None:
    """A notice containing ``words`` is on screen, every word of it drawn inside the screen."""
    toast = await until(
        pilot,
        lambda: next((t for t in app.screen.query(Toast) if words in str(t.render())), None),
        f"a notice with {words!r}",
    )
    message = str(toast.render())
    assert toast.region.right <= SMALL[0]
    shown = " ".join(" ".join(drawn(toast)).replace("▌", " ").split())
    assert " ".join(message.split()) in shown, f"{message!r} is cut: {shown!r}"
    assert isinstance(app.screen, MainScreen)


async def test_d_y_l_on_a_node(crashloop_sim: SimThread, app_factory: Callable[..., NimifyApp]) -> None:
    app = app_factory(crashloop_sim)
    async with app.run_test(size=SMALL, notifications=True) as pilot:
        await until(pilot, lambda: app.runtime.store.items(NODES), "nodes")
        await select(pilot, app, "3", "nodes-table", "node/gpu-node-1")
        screen, text = await opened_tab(pilot, app, "d")
        assert screen.title_text == "Node gpu-node-1" and screen.active_tab == "describe"
        assert "Conditions:" in text
        await back(pilot, app)
        screen, text = await opened_tab(pilot, app, "y")
        assert screen.active_tab == "yaml"
        assert "kind: Node" in text and "name: gpu-node-1" in text
        await back(pilot, app)
        await pilot.press("l")
        await notice_shown_whole(pilot, app, "Nodes have no logs")


async def test_d_y_l_on_an_event_of_a_pod(crashloop_sim: SimThread, app_factory: Callable[..., NimifyApp]) -> None:
    app = app_factory(crashloop_sim)
    async with app.run_test(size=SMALL, notifications=True) as pilot:
        events = await until(
            pilot, lambda: [e for e in app.runtime.store.items(EVENTS) if e.object_kind == "Pod"], "pod events"
        )
        event = events[0]
        key = f"{event.namespace}/{event.name}"
        await select(pilot, app, "2", "events-table", key)
        await pilot.press("d")
        screen = await until(pilot, lambda: isinstance(app.screen, PodScreen) and app.screen, "the event's pod")
        assert (screen.namespace, screen.pod_name) == (event.object_namespace, event.object_name)
        assert screen.active_tab == "describe"
        await back(pilot, app)
        await pilot.press("y")
        screen = await until(pilot, lambda: isinstance(app.screen, PodScreen) and app.screen, "the event's pod")
        assert screen.active_tab == "yaml" and screen.pod_name == event.object_name
        await back(pilot, app)
        await pilot.press("l")
        logs = await until(pilot, lambda: isinstance(app.screen, LogsScreen) and app.screen, "the pod's logs")
        assert logs.request.pod == event.object_name and not logs.request.previous
        await back(pilot, app)
        await pilot.press("p")
        logs = await until(pilot, lambda: isinstance(app.screen, LogsScreen) and app.screen, "the previous logs")
        assert logs.request.pod == event.object_name and logs.request.previous


async def test_d_y_l_on_an_event_of_another_kind(healthy_sim: SimThread, app_factory: Callable[..., NimifyApp]) -> None:
    app = app_factory(healthy_sim)
    async with app.run_test(size=SMALL, notifications=True) as pilot:
        events = await until(
            pilot, lambda: [e for e in app.runtime.store.items(EVENTS) if e.object_kind == "Ingress"], "an event"
        )
        event = events[0]
        await select(pilot, app, "2", "events-table", f"{event.namespace}/{event.name}")
        screen, text = await opened_tab(pilot, app, "d")
        assert screen.title_text == f"Ingress {event.object_namespace}/{event.object_name}"
        assert f"Name:                 {event.object_name}" in text
        assert "Events:" in text and event.reason in text
        await back(pilot, app)
        screen, text = await opened_tab(pilot, app, "y")
        assert screen.active_tab == "yaml" and "kind: Ingress" in text
        await back(pilot, app)
        await pilot.press("l")
        await notice_shown_whole(pilot, app, "Ingress objects have no logs")


async def test_d_y_l_on_a_model(healthy_sim: SimThread, app_factory: Callable[..., NimifyApp]) -> None:
    app = app_factory(healthy_sim)
    async with app.run_test(size=SMALL, notifications=True) as pilot:
        view = await until(pilot, lambda: app.runtime.store.value(TRITON), "Triton's models")
        model = next(m.name for m in view.models if m.name == "nimify-model")
        await select(pilot, app, "4", "models-table", model)
        screen, text = await opened_tab(pilot, app, "d")
        assert screen.title_text == f"Triton model {model}" and screen.active_tab == "stats"
        assert text.startswith(f"{model} version")
        await back(pilot, app)
        screen, text = await opened_tab(pilot, app, "y")
        assert screen.active_tab == "config" and f'"name": "{model}"' in text
        await back(pilot, app)
        await pilot.press("l")
        await notice_shown_whole(pilot, app, "Models have no logs")


async def test_on_the_latency_pane_the_notice_says_where_they_work(
    healthy_sim: SimThread, app_factory: Callable[..., NimifyApp]
) -> None:
    app = app_factory(healthy_sim)
    async with app.run_test(size=SMALL, notifications=True) as pilot:
        await until(pilot, lambda: app.runtime.store.items(NODES), "the panes")
        await pilot.press("5", "d")
        await notice_shown_whole(pilot, app, "d, y, l work on a row of panes 1-4")
