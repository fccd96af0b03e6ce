"""The tables as an operator sees them: columns fitted to the pane by priority and never cut mid-value, no scrollbars
(the pane's title says what is not shown), sideways scrolling by whole columns, a layout that holds still while
values tick and rows come, faulty models first, and `:ns` checked against the cluster."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from textual.app import App, ComposeResult

from nimify_tui.kube.records import PodRecord
from nimify_tui.live.keys import PODS
from nimify_tui.render.pods import POD_COLUMNS
from nimify_tui.render.row import Row
from nimify_tui.sim.server import SimThread
from nimify_tui.ui.app import NimifyApp
from nimify_tui.ui.widgets.record_table import RecordTable

from .conftest import drawn, until

SIZE = (160, 45)


@pytest.fixture(scope="module")
def exhausted_sim() -> Iterator[SimThread]:
    with SimThread(scenario="resource-exhaustion") as sim:
        yield sim


def table(app: NimifyApp, name: str) -> RecordTable:
    return app.screen.query_one(f"#{name}-table", RecordTable)


def words(line: str) -> list[str]:
    """The cells of a drawn line (cells are two spaces apart; a cell may hold single spaces)."""
    return [word for word in re.split(r"\s{2,}", line.strip()) if word]


def header(app: NimifyApp, name: str) -> list[str]:
    return words(drawn(table(app, name))[0])


def title(app: NimifyApp, name: str) -> str:
    return str(app.screen.query_one(f"#{name}-pane").border_title)


def notices(app: NimifyApp) -> list[str]:
    return [notice.message for notice in app._notifications]


async def test_columns_are_fitted_by_priority_and_never_cut_mid_value(
    exhausted_sim: SimThread, app_factory: Callable[..., NimifyApp]
) -> None:
    app = app_factory(exhausted_sim)
    async with app.run_test(size=SIZE) as pilot:
        pods = table(app, "pods")
        await until(pilot, lambda: any(pods.get_row_at(i)[6] != "<none>" for i in range(pods.row_count)), "pods")
        await until(pilot, lambda: table(app, "nodes").row_count and table(app, "models").row_count, "nodes, models")
        await pilot.pause()
        # IP goes first: NODE, CPU and MEM are shown whole
        shown = header(app, "pods")
        assert shown[:8] == ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "NODE", "CPU", "MEM"]
        assert "IP" not in shown
        lines = drawn(pods)
        for index in range(min(pods.row_count, len(lines) - 1)):
            node = pods.get_row_at(index)[6]
            assert f"  {node}  " in lines[index + 1], f"the node of row {index} is shown whole"
        hidden = 10 - len(shown)
        assert f"→{hidden} col" in title(app, "pods"), "the columns not shown are said to be to the right"
        # every title shown in the other tables is a whole one, never a cut 'D' of DETAIL or 'F' of FAIL
        node_columns = {"NODE / GPU", "STATUS", "CPU", "MEM", "GPU", "DETAIL"}
        assert set(header(app, "nodes")) <= node_columns and header(app, "nodes")[:2] == ["NODE / GPU", "STATUS"]
        models = header(app, "models")
        assert models[:2] == ["MODEL", "STATE"] and "FAIL" in models
        assert set(models) <= {"MODEL", "STATE", "REQ/S", "QUEUE ms", "COMPUTE ms", "FAIL", "AVG ms", "VER", "REASON"}


async def test_no_scrollbar_is_drawn_and_the_title_says_what_is_not_shown(
    exhausted_sim: SimThread, app_factory: Callable[..., NimifyApp]
) -> None:
    app = app_factory(exhausted_sim)
    async with app.run_test(size=SIZE) as pilot:
        pods, events = table(app, "pods"), table(app, "events")
        await until(pilot, lambda: pods.row_count > 20 and events.row_count > 20, "more rows than fit")
        await pilot.pause()
        for name, shown in (("pods", pods), ("events", events)):
            assert shown.scrollable_content_region == shown.content_region, f"{name}: no room kept for scrollbars"
            lines = drawn(shown)
            visible = len(lines) - 1
            assert shown.get_row_at(visible - 1)[0 if name == "pods" else 3] in lines[-1], "the last line is a row"
            assert not any(ch in line for line in lines for ch in "▁▂▃▄▅▆▇█▉▊▋▌▍▎▏"), f"{name}: no scrollbar thumb"
            below = shown.row_count - visible
            await until(pilot, lambda n=name, b=below: f"↓{b}" in title(app, n), f"{name}: ↓{below} in its title")
        await pilot.press("pagedown")
        await until(pilot, lambda: re.search(r"↑\d+ ↓\d+", title(app, "pods")), "rows above and below")


async def test_left_and_right_move_by_whole_columns_and_end_keeps_the_header(
    exhausted_sim: SimThread, app_factory: Callable[..., NimifyApp]
) -> None:
    app = app_factory(exhausted_sim)
    async with app.run_test(size=SIZE) as pilot:
        pods = table(app, "pods")
        await until(pilot, lambda: pods.row_count, "pods")
        await pilot.pause()
        await pilot.press("right")
        assert header(app, "pods")[:3] == ["NAME", "STATUS", "RESTARTS"], "READY scrolled off, NAME pinned"
        await until(pilot, lambda: "←1" in title(app, "pods"), "←1 in the title")
        await pilot.press("end")
        shown = header(app, "pods")
        assert shown[0] == "NAME" and shown[-1] == "GPU" and "IP" in shown
        assert all(line.strip() for line in drawn(pods)[: pods.row_count + 1]), "no blank header or row"
        await pilot.press("right")
        assert header(app, "pods") == shown, "End is as far as it goes"
        await pilot.press("left")
        assert header(app, "pods") != shown and header(app, "pods")[0] == "NAME"
        await pilot.press("home")
        assert header(app, "pods")[:2] == ["NAME", "READY"]
        await pilot.press("2", "end")  # events: MESSAGE with the room of the columns scrolled off
        events = header(app, "events")
        assert events and events[-1] == "MESSAGE" and len(events) < 5


class PodTable(App[None]):
    def compose(self) -> ComposeResult:
        yield RecordTable(POD_COLUMNS)


def pod_row(restarts: str, name: str = "nimify-api-6bfd64ff96-5s7q8") -> Row:
    return Row(f"ns/{name}", (name, "1/1", "Running", restarts, "12m", "10.0.0.1", "cpu-node-1", "5m", "90Mi", ""))


async def test_a_restarts_count_that_ticks_does_not_move_the_columns_after_it() -> None:
    app = PodTable()
    async with app.run_test(size=(120, 10)) as pilot:
        shown = app.query_one(RecordTable)
        placed = []
        for restarts in ("3 (9s ago)", "3 (11s ago)", "3 (2m5s ago)", "3 (2m40s ago)"):
            shown.show_rows([pod_row(restarts)])
            await pilot.pause()
            placed.append(drawn(shown)[1].index("12m"))
        assert len(set(placed)) == 1, f"AGE moved: {placed}"


async def test_a_pod_arriving_above_the_cursor_leaves_the_cursor_on_its_pod_and_line(
    sim_factory: Callable[..., SimThread], app_factory: Callable[..., NimifyApp]
) -> None:
    sim = sim_factory(scenario="healthy", pods=30)
    app = app_factory(sim)
    async with app.run_test(size=SIZE) as pilot:
        pods = table(app, "pods")
        await until(pilot, lambda: pods.row_count >= 30, "pods")
        await pilot.press("down", "down", "down", "down")
        key, line = pods.selected_key, pods.cursor_row - round(pods.scroll_y)
        assert line == 4
        body: dict[str, Any] = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "aaa-pending", "namespace": "nimify-system"},
            "spec": {
                "containers": [{"name": "c", "image": "busybox", "resources": {"requests": {"cpu": "900"}}}],
                "nodeSelector": {"no-such-label": "anywhere"},
            },
        }
        app.runtime.client.send_json("POST", "/api/v1/namespaces/nimify-system/pods", body)
        await until(pilot, lambda: pods.row_count and pods.row_at(0).key == "nimify-system/aaa-pending", "new pod")
        pending: PodRecord | None = app.runtime.store.get(PODS, ("nimify-system", "aaa-pending"))
        assert pending is not None and pending.status == "Pending"
        assert pods.selected_key == key, "the cursor stays on its pod"
        assert pods.cursor_row - round(pods.scroll_y) == line, "and on its line of the screen"
        await until(pilot, lambda: "↑1" in title(app, "pods"), "the new row said to be above")


async def test_faulty_models_are_listed_first(
    sim_factory: Callable[..., SimThread], app_factory: Callable[..., NimifyApp]
) -> None:
    app = app_factory(sim_factory(scenario="triton-down"))
    async with app.run_test(size=SIZE) as pilot:
        models = table(app, "models")
        await until(pilot, lambda: models.row_count >= 2 and models.row_at(0).style, "a faulty model")
        assert models.get_row_at(0)[0] == "nimify-model" and models.get_row_at(0)[1] == "UNAVAILABLE"
        assert drawn(models)[1].split()[0] == "nimify-model"


async def test_ns_says_when_a_namespace_does_not_exist_and_all_adds_a_namespace_column(
    exhausted_sim: SimThread, app_factory: Callable[..., NimifyApp]
) -> None:
    app = app_factory(exhausted_sim)
    async with app.run_test(size=SIZE) as pilot:
        pods = table(app, "pods")
        await until(pilot, lambda: pods.row_count, "pods")
        await pilot.press("colon", *"ns bogus", "enter")
        await until(pilot, lambda: any("No namespace 'bogus' in the cluster." in n for n in notices(app)), "notice")
        assert title(app, "pods").startswith("Pods · nimify-system · ") and pods.row_count > 0
        await pilot.press("colon", *"ns kube-system", "enter")
        await until(pilot, lambda: any("'kube-system' is not watched" in n for n in notices(app)), "not watched")
        assert title(app, "pods").startswith("Pods · nimify-system · ")
        await pilot.press("colon", *"ns all", "enter")
        await until(pilot, lambda: title(app, "pods").startswith("Pods · all namespaces"), "all namespaces")
        await pilot.pause()
        assert header(app, "pods")[:3] == ["NAMESPACE", "NAME", "READY"]
        cells = [pods.get_row_at(i) for i in range(pods.row_count)]
        assert {row[0] for row in cells} >= {"nimify-system", "triton-system"}
        assert not any("/" in row[1] for row in cells), "NAME is the name alone"
        assert header(app, "events")[0] == "NAMESPACE"
        await pilot.press("colon", *"ns nimify-system", "enter")
        await until(pilot, lambda: header(app, "pods")[0] == "NAME", "back to one namespace")


async def test_a_small_terminal_shows_the_pods_first_columns_whole(
    exhausted_sim: SimThread, app_factory: Callable[..., NimifyApp]
) -> None:
    app = app_factory(exhausted_sim)
    async with app.run_test(size=(80, 24)) as pilot:
        pods = table(app, "pods")
        await until(pilot, lambda: pods.row_count, "pods")
        await pilot.pause()
        assert header(app, "pods")[:5] == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
        first = drawn(pods)[1]
        assert pods.get_row_at(0)[2] in first and f" {pods.get_row_at(0)[4]} " in first
        assert re.search(r"↓\d+ →\d+ cols", title(app, "pods"))


async def test_a_model_failing_requests_is_listed_above_the_healthy_ones(
    sim_factory: Callable[..., SimThread], app_factory: Callable[..., NimifyApp]
) -> None:
    app = app_factory(sim_factory(scenario="latency-spike", speed=10.0))
    async with app.run_test(size=SIZE) as pilot:
        models = table(app, "models")
        await until(pilot, lambda: any(models.row_at(i).style == "yellow" for i in range(models.row_count)), "failing")
        assert models.row_at(0).style == "yellow" and models.get_row_at(0)[1] == "READY"
        assert models.get_row_at(0)[0] == "nimify-model"
