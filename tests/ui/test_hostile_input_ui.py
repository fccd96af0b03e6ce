"""The screen when the cluster misbehaves: stale panes that recover, and text that tries to drive the terminal."""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from nimify_tui.config import load_settings
from nimify_tui.kube.client import KubeClient
from nimify_tui.live.keys import PODS
from nimify_tui.live.runtime import RuntimeOptions
from nimify_tui.sim.server import SimThread
from nimify_tui.ui.app import NimifyApp
from nimify_tui.ui.panes.pods import PodsPane
from nimify_tui.ui.screens.logs import LogsScreen
from nimify_tui.ui.widgets.log_view import LogView
from nimify_tui.ui.widgets.record_table import RecordTable

from ..faulty_proxy import FaultyProxy, faulty_proxy, write_proxy_kubeconfig
from .conftest import FAST, until

HOSTILE = "[bold red]pwned[/] [link=http://x]y[/link] \x1b[2J\x1b]0;title\x07 \x1b[31mred"


@pytest.fixture
def proxy(healthy_sim: SimThread) -> Iterator[FaultyProxy]:
    with faulty_proxy(healthy_sim.url) as running:
        yield running


def proxied_app(proxy: FaultyProxy, token: str, folder: Path) -> NimifyApp:
    path = write_proxy_kubeconfig(proxy, token, folder / "proxied")
    settings = load_settings({}, {}, None)
    options = RuntimeOptions(**{**FAST.__dict__})
    return NimifyApp(
        KubeClient.from_kubeconfig(str(path)),
        settings,
        policy=settings.context_policy("via-proxy"),
        runtime_options=options,
        record_journal=False,
    )


async def test_pods_pane_goes_stale_and_recovers(healthy_sim: SimThread, proxy: FaultyProxy, tmp_path: Path) -> None:
    app = proxied_app(proxy, healthy_sim.admin_token, tmp_path)
    async with app.run_test(size=(160, 45)) as pilot:
        pane = app.screen.query_one(PodsPane)
        await until(pilot, lambda: pane.table.row_count > 0, "pods")
        proxy.go_away()
        await until(pilot, lambda: pane.has_class("-stale"), "the pane marked stale")
        # the watch that broke may be the first reason shown; every reconnect after it is refused
        refused = rf"STALE \(\d+s old\): the API server at {re.escape(proxy.url)} refused the connection \(is it up\?\)"
        await until(pilot, lambda: re.fullmatch(refused, str(pane.border_subtitle)), "the refused reconnect shown")
        assert pane.has_class("-stale")
        assert pane.table.row_count > 0, "the last known pods stay on screen"
        proxy.come_back()
        await until(pilot, lambda: not pane.has_class("-stale"), "the pane fresh again", timeout_s=15)


def render_plain(app: NimifyApp) -> str:
    console = Console(width=200, record=True, file=io.StringIO(), force_terminal=True)
    console.print(app.screen._compositor.render_update(full=True))
    return console.export_text()


async def test_markup_and_escape_sequences_are_shown_literally(
    sim_factory: Callable[..., SimThread], app_factory: Callable[..., NimifyApp]
) -> None:
    sim = sim_factory(scenario="healthy")

    def plant(world: Any) -> str:
        pod = next(run for run in world.kubelet.runs.values() if run.name.startswith("nimify-api-"))
        obj = world.store.get("pods", pod.namespace, pod.name)
        world.record_event(obj, "Warning", "Hostile", HOSTILE, "test")
        pod.containers[0].log.write(world.now(), "before " + HOSTILE + " after")
        return str(pod.name)

    pod_name = sim.call(plant)
    app = app_factory(sim)
    async with app.run_test(size=(200, 45)) as pilot:
        events = app.screen.query_one("#events-table", RecordTable)
        await until(
            pilot,
            lambda: any(events.get_row_at(i)[2] == "Hostile" for i in range(events.row_count)),
            "the hostile event",
        )
        index = next(i for i in range(events.row_count) if events.get_row_at(i)[2] == "Hostile")
        message = events.get_row_at(index)[4]
        assert "[bold red]pwned[/]" in message and "[link=http://x]" in message, "markup shown as typed"
        assert "\x1b" not in message and "\x07" not in message, "no escape sequence reaches a cell"
        assert events.row_at(index).style == "yellow", "only our warning style, none taken from the text"
        # the events may come in before the pods (under load): the logs open for a pod the app knows
        await until(pilot, lambda: app.runtime.store.get(PODS, ("nimify-system", pod_name)), "the pod's record")
        app.open_logs("nimify-system", pod_name)
        await until(pilot, lambda: isinstance(app.screen, LogsScreen) and app.screen.query(LogView), "logs screen")
        view = app.screen.query_one(LogView)
        store = view.log_lines.store

        def hostile_line() -> str | None:
            for number in range(store.first_number, store.end_number):
                text = store.line(number).text
                if "pwned" in text:
                    return text
            return None

        line = await until(pilot, hostile_line, "the hostile log line")
        assert "[bold red]pwned[/]" in line and "\x1b" not in line and "\x07" not in line
        await pilot.press("slash", *"pwned", "enter")  # search brings the line on screen
        screen_text = await until(pilot, lambda: "pwned" in render_plain(app) and render_plain(app), "line on screen")
        assert "[bold red]pwned[/]" in screen_text and "[link=http://x]y[/link]" in screen_text
