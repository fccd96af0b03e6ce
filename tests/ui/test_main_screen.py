"""The live triage screen against the simulated cluster: every pane, the keys, the drill-downs."""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator

import pytest
from rich.console import Console
from textual.widgets import Static

from nimify_tui.live.keys import PROBES, REPLICASETS
from nimify_tui.probes import ProbeResult
from nimify_tui.sim.server import SimThread
from nimify_tui.ui.app import NimifyApp
from nimify_tui.ui.panes.header import StatusHeader
from nimify_tui.ui.panes.health_strip import HealthStrip, render_strip
from nimify_tui.ui.panes.runbook import RunbookPane
from nimify_tui.ui.screens.detail import DetailScreen
from nimify_tui.ui.screens.help import HelpScreen
from nimify_tui.ui.screens.logs import LogsScreen
from nimify_tui.ui.screens.main import MainScreen
from nimify_tui.ui.screens.pod import PodScreen
from nimify_tui.ui.widgets.log_view import LogView
from nimify_tui.ui.widgets.record_table import RecordTable

from .conftest import drawn, until

SIZE = (160, 45)
OOM_LAST_LINE = (
    r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} WARNING nimify\.api: resident memory 1014 MiB, container limit 1024 MiB"
)


def rows(app: NimifyApp, selector: str) -> list[list[str]]:
    table = app.screen.query_one(selector, RecordTable)
    return [list(table.get_row_at(i)) for i in range(table.row_count)]


def text_of(app: NimifyApp, widget_type: type) -> str:
    widget = app.screen.query_one(widget_type)
    return str(widget.content) if hasattr(widget, "content") else str(widget.renderable)


def probe_states(app: NimifyApp) -> dict[str, str]:
    """The states of the two checks that say nimify-api is down, as the header last computed them."""
    return {f.check: f.state for f in app.findings if f.check in ("api-health", "api-ready")}


@pytest.fixture(scope="module")
def crashloop_sim() -> Iterator[SimThread]:
    with SimThread(scenario="crashloop-oom") as sim:
        yield sim


async def test_healthy_cluster_fills_every_pane(healthy_sim: SimThread, app_factory: Callable[..., NimifyApp]) -> None:
    app = app_factory(healthy_sim)
    async with app.run_test(size=SIZE) as pilot:
        assert isinstance(app.screen, MainScreen)
        pods = await until(pilot, lambda: rows(app, "#pods-table"), "pods")
        names = [row[0] for row in pods]
        assert any(name.startswith("nimify-api-") for name in names)
        assert all(row[2] == "Running" and row[1].split("/")[0] == row[1].split("/")[1] for row in pods)
        await until(pilot, lambda: rows(app, "#events-table"), "events")
        nodes = await until(pilot, lambda: [r for r in rows(app, "#nodes-table") if r[0].startswith(" └ GPU")], "GPUs")
        assert all(row[1] == "ok" for row in nodes)
        models = await until(
            pilot, lambda: {r[0]: r for r in rows(app, "#models-table") if r[1] == "READY"}, "ready models"
        )
        assert "nimify-model" in models
        await until(pilot, lambda: len(app.runtime.store.value(PROBES) or []) == 5, "probes")
        assert all(result.ok for result in app.runtime.store.value(PROBES))
        strip = text_of(app, HealthStrip)
        assert "api /health" in strip and "✖" not in strip
        await until(pilot, lambda: app.header_info().overall == "OK", "overall OK")
        assert "runbook checks pass" in text_of(app, RunbookPane)
        assert " OK " in text_of(app, StatusHeader)


async def test_crashloop_shows_faulty_pods_first_with_the_fix(
    crashloop_sim: SimThread, app_factory: Callable[..., NimifyApp]
) -> None:
    app = app_factory(crashloop_sim)
    async with app.run_test(size=SIZE) as pilot:
        faulty = await until(
            pilot,
            lambda: [r for r in rows(app, "#pods-table") if r[2] in ("CrashLoopBackOff", "OOMKilled")],
            "crash-looping pods",
        )
        table_rows = rows(app, "#pods-table")
        # faulty first: every crashing pod comes before every healthy one
        first_healthy = next(i for i, r in enumerate(table_rows) if r[2] == "Running" and r[1] == "1/1")
        assert all(table_rows.index(r) < first_healthy for r in faulty)
        assert all(r[0].startswith("nimify-api-") for r in faulty)
        assert any("ago)" in r[3] for r in faulty), "RESTARTS shows kubectl's '(Xs ago)'"
        runbook = await until(
            pilot, lambda: "Pods crash-looping" in text_of(app, RunbookPane) and text_of(app, RunbookPane), "finding"
        )
        assert "Scenario 1" in runbook and "memory limit" in runbook
        # the probes of nimify-api decide DOWN: until their first round the checks cannot know it is down
        await until(pilot, lambda: probe_states(app) and "unknown" not in probe_states(app).values(), "the probes")
        assert probe_states(app) == {"api-health": "fail", "api-ready": "fail"}
        assert app.header_info().overall == "DOWN"
        assert app.header_info().first_failure_at is not None
        warnings = await until(pilot, lambda: [r for r in rows(app, "#events-table") if r[1] == "Warning"], "warnings")
        assert any(r[2] == "BackOff" for r in warnings)


async def test_filter_namespace_and_toggles(crashloop_sim: SimThread, app_factory: Callable[..., NimifyApp]) -> None:
    app = app_factory(crashloop_sim)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: len(rows(app, "#pods-table")) > 3, "pods")
        active = lambda: [pane.id for pane in app.screen.query(".pane.-active")]  # noqa: E731
        await pilot.press("slash")
        assert active() == ["pods-pane"], "the pane the prompt filters stays marked while it is open"
        await pilot.press(*"worker", "enter")
        assert {r[0].split("-")[1] for r in rows(app, "#pods-table")} == {"worker"}
        await pilot.press("slash", "ctrl+a", "ctrl+k", *"!worker", "enter")
        names = [r[0] for r in rows(app, "#pods-table")]
        assert names and not any("worker" in n for n in names)
        await pilot.press("escape")
        assert any("worker" in r[0] for r in rows(app, "#pods-table"))
        await pilot.press("ctrl+z")
        assert all(r[2] != "Running" or r[1] != "1/1" for r in rows(app, "#pods-table"))
        await pilot.press("ctrl+z")
        await pilot.press("N")
        triton = await until(pilot, lambda: rows(app, "#pods-table"), "triton pods")
        assert all(r[0].startswith("triton-server-") for r in triton)
        await pilot.press("2", "w")
        assert all(r[1] == "Warning" for r in rows(app, "#events-table"))
        assert active() == ["events-pane"]
        await pilot.press("slash")
        assert active() == ["pods-pane"], "the filter brings the pods pane it filters"
        await pilot.press("escape")
        assert app.screen.focused is not None and app.screen.focused.id == "pods-table"


async def test_pod_drill_down_describe_yaml_and_previous_logs(
    crashloop_sim: SimThread, app_factory: Callable[..., NimifyApp]
) -> None:
    app = app_factory(crashloop_sim)
    async with app.run_test(size=SIZE) as pilot:
        await until(
            pilot,
            lambda: any(r[2] in ("CrashLoopBackOff", "OOMKilled") for r in rows(app, "#pods-table")),
            "crash-looping pod",
        )
        await until(pilot, lambda: rows(app, "#pods-table")[0][2] != "Running", "faulty pod first")
        await pilot.press("1", "enter")
        assert isinstance(app.screen, PodScreen)
        describe = app.screen.query_one("#text-describe", LogView)
        await until(pilot, lambda: "Containers:" in describe.text, "describe text")
        assert "OOMKilled" in describe.text and "137" in describe.text
        assert "memory: 1Gi" in describe.text, "limits shown"
        assert "Events:" in describe.text and "BackOff" in describe.text
        await pilot.press("y")
        assert isinstance(app.screen, PodScreen) and app.screen.active_tab == "yaml"
        yaml_area = app.screen.query_one("#text-yaml", LogView)
        await until(pilot, lambda: "apiVersion: v1" in yaml_area.text, "YAML")
        await pilot.press("p")
        assert isinstance(app.screen, LogsScreen)
        view = app.screen.query_one(LogView)
        store = view.log_lines.store
        # the killed container's last words: its memory just under the limit
        last_line = await until(
            pilot,
            lambda: store.end_number > store.first_number and store.line(store.end_number - 1).text,
            "the previous container's last log line",
        )
        assert re.fullmatch(OOM_LAST_LINE, last_line), last_line
        await pilot.press("escape", "escape")
        assert isinstance(app.screen, MainScreen)


async def test_logs_follow_current_container(healthy_sim: SimThread, app_factory: Callable[..., NimifyApp]) -> None:
    app = app_factory(healthy_sim)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: rows(app, "#pods-table"), "pods")
        await pilot.press("1", "l")
        assert isinstance(app.screen, LogsScreen)
        view = app.screen.query_one(LogView)
        await until(pilot, lambda: view.log_lines.store.end_number > 0, "log lines")
        await pilot.press("p")  # a healthy pod has no previous container: the API server's 400 is shown
        await until(
            pilot,
            lambda: any(
                "previous terminated container" in view.log_lines.store.line(n).text
                for n in range(view.log_lines.store.first_number, view.log_lines.store.end_number)
            ),
            "the 400 message",
        )


async def test_deployment_node_and_model_drill_downs(
    healthy_sim: SimThread, app_factory: Callable[..., NimifyApp]
) -> None:
    app = app_factory(healthy_sim)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: rows(app, "#pods-table") and app.runtime.store.items(REPLICASETS), "data")
        await pilot.press("colon", *"deploy nimify-api", "enter")
        assert isinstance(app.screen, DetailScreen)
        describe = app.screen.query_one("#text-describe", LogView)
        await until(pilot, lambda: "Rollout history:" in describe.text, "deployment describe")
        assert "REVISION" in describe.text and "CHANGE-CAUSE" in describe.text
        await pilot.press("escape")
        await until(pilot, lambda: rows(app, "#nodes-table"), "nodes")
        await pilot.press("3", "enter")
        node_text = app.screen.query_one("#text-describe", LogView)
        await until(pilot, lambda: "Conditions:" in node_text.text, "node describe")
        assert "nvidia.com/gpu" in node_text.text
        assert "Allocated resources:" in node_text.text and "  cpu " in node_text.text
        await pilot.press("escape")
        await until(pilot, lambda: any(r[0] == "nimify-model" for r in rows(app, "#models-table")), "models")
        table = app.screen.query_one("#models-table", RecordTable)
        index = next(i for i, r in enumerate(rows(app, "#models-table")) if r[0] == "nimify-model")
        await pilot.press("4")
        table.move_cursor(row=index)
        await pilot.press("enter")
        config = app.screen.query_one("#text-config", LogView)
        await until(pilot, lambda: '"name"' in config.text, "model config")
        assert "nimify-model" in config.text


async def test_help_lists_the_keys(healthy_sim: SimThread, app_factory: Callable[..., NimifyApp]) -> None:
    app = app_factory(healthy_sim)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        console = Console(width=120, record=True, file=io.StringIO())
        for static in app.screen.query(Static):
            console.print(static.content)
        shown = console.export_text()
        for word in ("Logs", "Prev logs", "Describe", "Filter", "Jump", "Warnings", "Quit"):
            assert word in shown


async def test_command_palette_offers_the_keys(healthy_sim: SimThread, app_factory: Callable[..., NimifyApp]) -> None:
    app = app_factory(healthy_sim)
    async with app.run_test(size=SIZE):
        titles = {command.title for command in app.get_system_commands(app.screen)}
        for title in ("Logs", "Prev logs", "Describe", "Filter", "Jump", "Warnings", "Faulty", "Note", "Help"):
            assert title in titles


async def test_small_terminal_keeps_one_pane_usable(
    crashloop_sim: SimThread, app_factory: Callable[..., NimifyApp]
) -> None:
    app = app_factory(crashloop_sim)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: rows(app, "#pods-table"), "pods")
        screen = app.screen
        assert screen.has_class("-narrow")
        assert screen.zoomed == "pods-pane"
        assert screen.query_one("#pods-pane").display and not screen.query_one("#nodes-pane").display
        await pilot.press("2")
        assert screen.zoomed == "events-pane"
        assert screen.query_one("#events-pane").display and not screen.query_one("#pods-pane").display


async def test_a_big_terminal_shows_at_least_25_pods(
    sim_factory: Callable[..., SimThread], app_factory: Callable[..., NimifyApp]
) -> None:
    sim = sim_factory(scenario="healthy", pods=60)
    app = app_factory(sim)
    async with app.run_test(size=(250, 120)) as pilot:
        await pilot.press("N", "N", "N", "N")  # nimify-system -> ... -> all namespaces
        table = app.screen.query_one("#pods-table", RecordTable)
        await until(pilot, lambda: table.row_count >= 60, "all pods listed")
        visible = table.scrollable_content_region.height - 1  # less the header row
        assert visible >= 25, f"only {visible} pod rows fit"


async def test_a_small_terminal_cuts_the_status_lines_rather_than_wrap_them(
    crashloop_sim: SimThread, app_factory: Callable[..., NimifyApp]
) -> None:
    app = app_factory(crashloop_sim, cli={"readonly": True})
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: "Pods crash-looping" in text_of(app, RunbookPane), "the crash loop's check")
        strip = app.screen.query_one(HealthStrip)
        (header,) = drawn(app.screen.query_one(StatusHeader))
        assert re.match(r" nimify-tui  [A-Z]+  READ-ONLY ", header) and header.endswith("…"), "read-only, never cut"
        await until(pilot, lambda: "✖ api /ready" in "".join(drawn(strip)), "the red probes")
        chips, errors = drawn(strip)
        assert "✖ api /health 503" in chips and "✖ api /ready 503" in chips
        assert "● 3 ok" in chips and "triton live" not in chips, "the green probes are counted when all do not fit"
        assert errors.strip().startswith("api /health: HTTP 503")
        # the pane's five lines: the diagnosis, its fix (named without a key: read-only), three lines of evidence
        diagnosis = await until(
            pilot,
            lambda: (
                (lines := [line.strip("│ ") for line in drawn(app.screen.query_one(RunbookPane))[1:-1]])
                and lines[0].startswith("▶ ")
                and lines[1].startswith("fix (not here: read-only): set-resources ")
                and lines
            ),
            "the diagnosis drawn first",
        )
        assert len(diagnosis) >= 5 and all(line.endswith("…") for line in diagnosis[:2]), "cut, not wrapped"
        # the triage runs on its own thread: the probes' checks follow the strip within a refresh or two
        checks = await until(
            pilot,
            lambda: (
                (lines := text_of(app, RunbookPane).split("\n"))
                and (lines := lines[next((i for i, line in enumerate(lines) if line.startswith("✖")), 0) :])
                and lines[0].startswith("✖ nimify-api /health: ")
                and lines
            ),
            "the probes' checks first after the diagnosis",
        )
        assert checks[1].startswith("   → ")
        assert checks[2].startswith("✖ nimify-api /ready: ")
        hints = [line for line in checks if line.startswith("   → ")]
        assert hints and not [line for line in hints if re.search(r"\((m|u|s|r|x|e|c|L|U)\)", line)], "no unusable key"
    async with app_factory(crashloop_sim).run_test(size=(160, 45)) as pilot:
        wide = pilot.app.screen.query_one(HealthStrip)
        await until(pilot, lambda: "prometheus" in "".join(drawn(wide)), "every probe named")


def test_the_probe_chips_give_way_to_the_width() -> None:
    def probe(name: str, status: int = 200) -> ProbeResult:
        error = "" if status == 200 else "refused"
        return ProbeResult(name, status == 200, status, 12.0, error, 0.0, "http://probe")

    names = ("api /health", "api /ready", "triton live", "triton ready", "prometheus")
    healthy = [probe(name) for name in names]
    assert render_strip(healthy, 160).plain == "  ".join(f"● {name} 12ms" for name in names)
    assert render_strip(healthy, 78).plain == "  ".join(f"● {name}" for name in names), "names before latencies"
    one_red = [probe(names[0], 0), *healthy[1:]]
    assert render_strip(one_red, 30).plain == "✖ api /health down  ● 4 ok\napi /health: refused"
