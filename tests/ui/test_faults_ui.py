"""The TUI on a simulator that injects faults: the API server gone (stale panes, the header says so, all recovers
without a restart) and slow (keys still answer before the slow request does)."""

from __future__ import annotations

from pathlib import Path

from nimify_tui.sim.faults import FaultPlan, parse_faults
from nimify_tui.sim.server import SimThread
from nimify_tui.ui.panes.base import Pane
from nimify_tui.ui.panes.header import StatusHeader
from nimify_tui.ui.panes.models import ModelsPane
from nimify_tui.ui.panes.pods import PodsPane
from nimify_tui.ui.screens.main import MainScreen
from nimify_tui.ui.screens.pod import PodScreen

from .conftest import controllers_loaded, drawn, make_app, until


def header_text(app: object) -> str:
    screen = app.screen  # type: ignore[attr-defined]
    return "".join(drawn(screen.query_one(StatusHeader)))


def live_panes(screen: MainScreen) -> list[Pane]:
    """The panes whose sources have all started and answer now."""
    store = screen.nimify.runtime.store
    return [
        pane
        for pane in screen.query(Pane)
        if pane.HEALTH
        and all(store.health_of(prefix) for prefix in pane.HEALTH)
        and all(h.state == "live" for prefix in pane.HEALTH for h in store.health_of(prefix))
        and not pane.stale
    ]


async def test_api_server_down_stales_every_pane_and_the_header_says_so_then_all_recovers(tmp_path: Path) -> None:
    with SimThread(scenario="healthy") as sim:
        app = make_app(sim, tmp_path)
        async with app.run_test(size=(160, 45)) as pilot:
            screen = await until(pilot, lambda: isinstance(app.screen, MainScreen) and app.screen, "the main screen")
            pods = screen.query_one(PodsPane)
            await until(pilot, lambda: pods.table.row_count > 0 and not pods.stale, "the pods")
            watched = {"pods-pane", "events-pane", "nodes-pane", "models-pane", "latency-pane"}
            await until(pilot, lambda: watched <= {p.id for p in live_panes(screen)}, "the panes to be live")
            before = live_panes(screen)
            rows = pods.table.row_count
            models = screen.query_one(ModelsPane)
            model_rows = models.table.row_count
            assert model_rows > 0

            sim.set_faults(parse_faults("api-down=10m"))
            await until(pilot, lambda: "API SERVER UNREACHABLE" in header_text(app), "the header to say so")
            for pane in before:
                await until(pilot, lambda pane=pane: pane.stale, f"{pane.id} to turn stale")
                note = str(pane.border_subtitle)
                assert note.startswith("STALE (") and "s old)" in note, (pane.id, note)
                assert "stale" in str(pane.border_title), (pane.id, pane.border_title)
            assert "refused" in str(pods.border_subtitle) or "broke" in str(pods.border_subtitle), pods.border_subtitle
            assert pods.table.row_count == rows, "the pods are kept while stale"
            assert models.table.row_count == model_rows, "so are Triton's models, asked through the API server"
            app.save_screenshot(filename="api-down.svg", path=str(tmp_path))

            sim.set_faults(FaultPlan())  # the API server listens again
            await until(pilot, lambda: sim.server.listening, "the API server to come back")
            await until(pilot, lambda: "UNREACHABLE" not in header_text(app), "the header to clear")
            for pane in before:
                await until(pilot, lambda pane=pane: not pane.stale, f"{pane.id} to be live again")
            assert pods.table.row_count == rows


async def test_triton_unreachable_keeps_the_models_stale_until_it_answers_again(tmp_path: Path) -> None:
    with SimThread(scenario="healthy") as sim:
        app = make_app(sim, tmp_path)
        async with app.run_test(size=(160, 45)) as pilot:
            screen = await until(pilot, lambda: isinstance(app.screen, MainScreen) and app.screen, "the main screen")
            models = screen.query_one(ModelsPane)
            await until(pilot, lambda: models.table.row_count > 0 and not models.stale, "the models")
            rows = models.table.row_count
            sim.set_faults(parse_faults("triton-flap=10m"))  # down for ten minutes, from now
            await until(pilot, lambda: models.stale, "the models to turn stale")
            note = str(models.border_subtitle)
            assert note.startswith("STALE (") and "error trying to reach service" in note, note
            assert "0 live" in str(models.border_title)
            assert models.table.row_count == rows, "the last models known are kept"
            assert "API SERVER UNREACHABLE" not in header_text(app), "the API server answers: Triton does not"
            sim.set_faults(FaultPlan())
            await until(pilot, lambda: not models.stale and "2 live" in str(models.border_title), "Triton again")
            assert models.table.row_count == rows


async def test_keys_answer_while_the_api_server_takes_seconds(tmp_path: Path) -> None:
    with SimThread(scenario="healthy") as sim:
        app = make_app(sim, tmp_path)
        async with app.run_test(size=(160, 45)) as pilot:
            screen = await until(pilot, lambda: isinstance(app.screen, MainScreen) and app.screen, "the main screen")
            pods = screen.query_one(PodsPane)
            await until(pilot, lambda: pods.table.row_count > 0, "the pods")
            await pilot.press("1")
            selected = pods.selected_pod()
            assert selected is not None
            namespace, name = selected
            path = f"/api/v1/namespaces/{namespace}/pods/{name}"
            log = sim.request_log
            sim.set_faults(parse_faults("api-latency=3s"))
            start = len(log)

            def answered() -> bool:
                return any(record.path == path and record.method == "GET" for record in log[start:])

            await pilot.press("d")  # asks the API server for the pod: 3 s
            assert isinstance(app.screen, PodScreen), "the describe screen opened at once"
            await pilot.press("escape")
            assert isinstance(app.screen, MainScreen), "and closed at once"
            await pilot.press("2")
            assert app.focused is not None and screen.query_one("#events-pane") in app.focused.ancestors_with_self
            assert not answered(), "all of that before the slow request came back"
            await until(pilot, answered, "the slow request to come back")


async def test_every_fault_at_once_while_keys_are_pressed_and_all_recovers(tmp_path: Path) -> None:
    chaos = (
        "api-latency=100ms,429=0.05:retry-after=1,500=0.05,watch-end=3s,watch-drop=0.05,watch-410=4s,"
        "triton-flap=3s,nimify-api-flap=4s,prom-slow=1s"
    )
    with SimThread(scenario="healthy", event_rate=5.0) as sim:
        app = make_app(sim, tmp_path)
        async with app.run_test(size=(120, 36)) as pilot:
            screen = await until(pilot, lambda: isinstance(app.screen, MainScreen) and app.screen, "the main screen")
            await until(pilot, lambda: len(live_panes(screen)) >= 5, "the panes to be live")
            before = {pane.id for pane in live_panes(screen)}
            log = sim.request_log
            start = len(log)
            sim.set_faults(parse_faults(chaos))
            faults = sim.server.faults

            def every_fault_hit() -> bool:
                statuses = {record.status for record in log[start:]}
                return {429, 500, 503} <= statuses and faults.compactions >= 2 and faults.silenced >= 1

            rounds = 0
            while not every_fault_hit():  # keys all along: each one's effect is checked at once
                assert rounds < 400, "the faults never all happened"
                pane = "1234"[rounds % 4]
                await pilot.press(pane)
                assert app.focused is not None and app.screen is screen
                await pilot.press("d")
                assert app.screen is not screen, "a describe opened"
                await pilot.press("escape")
                assert app.screen is screen, "and closed"
                rounds += 1
                await pilot.pause(0.1)
            sim.set_faults(FaultPlan())
            for pane_id in sorted(before):
                pane = screen.query_one(f"#{pane_id}", Pane)
                await until(pilot, lambda pane=pane: not pane.stale, f"{pane_id} live again", timeout_s=60)
            assert "UNREACHABLE" not in header_text(app)


async def test_an_action_whose_answer_times_out_says_outcome_unknown_not_failed(tmp_path: Path) -> None:
    """The change is sent, the answer does not come in time: the dialog and the toast say "?" and "outcome unknown"
    in warning style, not "✖" (the server may well have made it; the next refresh says)."""
    from textual.widgets import Static

    from nimify_tui.live.keys import PODS
    from nimify_tui.ui.screens.action import ActionScreen

    from .test_actions_ui import open_action, select_pod

    with SimThread(scenario="healthy") as sim:
        app = make_app(sim, tmp_path)
        async with app.run_test(size=(160, 45)) as pilot:
            store = app.runtime.store
            await controllers_loaded(pilot, app)
            await until(pilot, lambda: any(r.name.startswith("nimify-api-") for r in store.items(PODS)), "pods")
            await select_pod(pilot, app, "nimify-api-")
            screen: ActionScreen = await open_action(pilot, app, "m")
            memory = dict(screen._fields)["limits.memory"]
            memory.value = "3Gi" if memory.value != "3Gi" else "4Gi"  # type: ignore[attr-defined]
            await pilot.press("ctrl+r")
            await until(pilot, lambda: screen.state == "confirming", "the dry run", timeout_s=15)
            sim.set_faults(parse_faults("api-latency=3s"))
            app.runtime.client.read_timeout = 0.5  # the action's PATCH gives up before the answer comes
            await pilot.press("y")
            await until(pilot, lambda: screen.state == "done", "the action's end", timeout_s=15)
            status = str(screen.query_one("#action-status", Static).content)
            assert status.startswith("? outcome unknown"), status
            assert "✖" not in status
            # the toast is posted as the dialog ends (a turn of the event loop later, on a busy machine)
            toast = await until(pilot, lambda: list(app._notifications)[-1:], "the action's toast")
            assert toast[0].severity == "warning", toast
            sim.set_faults(FaultPlan())
