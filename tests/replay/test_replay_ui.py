"""A crashloop-oom session recorded, fixed with f, y, and quit; then replayed with no cluster: the CrashLoopBackOff
rows at the start, Running at the end, the journal's events a key apart, and every cluster key disabled."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from textual.widgets import Static

from nimify_tui.config import load_settings
from nimify_tui.live.flight_recorder import FLIGHT_FILE_NAME
from nimify_tui.sim.server import SimThread
from nimify_tui.ui.app import NimifyApp
from nimify_tui.ui.panes.header import StatusHeader
from nimify_tui.ui.replay import ReplayApp, ReplayMainScreen, TimeBar, load_session
from nimify_tui.ui.screens.action import ActionScreen
from nimify_tui.ui.screens.logs import LogsScreen
from nimify_tui.ui.screens.pod import PodScreen
from nimify_tui.ui.widgets.log_view import LogView
from nimify_tui.ui.widgets.record_table import RecordTable

from ..ui.conftest import make_app, until

SIZE = (160, 45)
SPEED = 10.0  # simulated seconds per second


def api_statuses(app: NimifyApp) -> list[str]:
    """The STATUS column of nimify-api's rows in the pods table."""
    table = app.screen.query_one("#pods-table", RecordTable)
    rows = [list(table.get_row_at(i)) for i in range(table.row_count)]
    return [str(row[2]) for row in rows if str(row[0]).startswith("nimify-api-")]


def shown(app: NimifyApp, widget_type: type[Static]) -> str:
    return str(app.screen.query_one(widget_type).render())


async def jump(pilot: Any, replay: ReplayApp, key: str) -> None:
    """Press ``[`` or ``]`` and wait until the position moved (the key is answered)."""
    before = replay.playback.position
    await pilot.press(key)
    await until(pilot, lambda: replay.playback.position != before, f"{key} answered")


async def record_a_fixed_crashloop(sim: SimThread, folder: Path) -> Path:
    app = make_app(sim, folder, record=True)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: "CrashLoopBackOff" in api_statuses(app), "CrashLoopBackOff rows", timeout_s=30)
        await until(pilot, lambda: app.diagnoses and app.diagnoses[0].fix, "the diagnosis's fix")
        await pilot.press("f")
        dialog: Any = await until(pilot, lambda: isinstance(app.screen, ActionScreen) and app.screen, "the dialog")
        await until(pilot, lambda: dialog.state == "confirming", "the dry run", timeout_s=15)
        await pilot.press("y")
        await until(pilot, lambda: dialog.state == "done", "the fix applied", timeout_s=15)
        await until(pilot, lambda: not app.diagnoses, "the diagnosis cleared", timeout_s=40)
        await pilot.press("escape")
        await until(
            pilot,
            lambda: (statuses := api_statuses(app)) and set(statuses) == {"Running"},
            "nimify-api Running again",
            timeout_s=30,
        )
        session = app.session.folder
        assert session is not None
    return session


async def test_a_recorded_crashloop_replays_from_crashloopbackoff_to_running(
    sim_factory: Callable[..., SimThread], tmp_path: Path
) -> None:
    sim = sim_factory(scenario="crashloop-oom", speed=SPEED)
    folder = await record_a_fixed_crashloop(sim, tmp_path)

    flight = gzip.decompress((folder / FLIGHT_FILE_NAME).read_bytes())
    assert b"nimify-api" in flight
    kubeconfig = yaml.safe_load((tmp_path / "kubeconfig").read_text())
    tokens = [u["user"]["token"] for u in kubeconfig["users"] if u["user"].get("token")]
    assert tokens and not [t for t in tokens if t.encode() in flight], "no kubeconfig token in the recording"

    replay = ReplayApp(load_session(folder), load_settings({}, {}, None))
    async with replay.run_test(size=SIZE) as pilot:
        await pilot.press("space")  # paused at the start
        assert replay.paused
        await until(pilot, lambda: "CrashLoopBackOff" in api_statuses(replay), "CrashLoopBackOff rows at the start")
        assert isinstance(replay.screen, ReplayMainScreen)
        assert "REPLAY" in shown(replay, StatusHeader)
        await pilot.press("d")  # describe: the pod as recorded
        describe = await until(
            pilot,
            lambda: isinstance(replay.screen, PodScreen) and replay.screen.query_one("#text-describe", LogView),
            "the describe",
        )
        await until(pilot, lambda: "Containers:" in describe.text, "the describe's text")
        assert "CrashLoopBackOff" in describe.text and "OOMKilled" in describe.text
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(replay.screen, ReplayMainScreen), "back on the main screen")
        await pilot.press("p")  # the previous container's logs, from the session's snapshot
        logs = await until(
            pilot, lambda: isinstance(replay.screen, LogsScreen) and replay.screen.query_one(LogView), "the logs"
        )
        await until(pilot, lambda: "container limit 1024 MiB" in logs.text, "the previous container's last lines")
        assert "--- " not in logs.text, "no error line"
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(replay.screen, ReplayMainScreen), "back on the main screen")
        assert "❚❚" in shown(replay, TimeBar)
        await pilot.press("plus")
        assert replay.speed == 2.0 and "2x" in shown(replay, TimeBar)
        await pilot.press("minus", "minus")
        assert replay.speed == 0.5

        marks = replay.playback.marks
        assert any(m.kind == "action" for m in marks), "the fix is a journal event"
        following = next(m for m in marks if m.at > replay.playback.position)
        await jump(pilot, replay, "right_square_bracket")
        assert replay.playback.position == following.at, "] jumps to the next journal event"
        action = next(m for m in marks if m.kind == "action")
        # the first frame may come after the fix (frames are a second apart, the simulator is fast): either way
        key = "right_square_bracket" if replay.playback.position < action.at else "left_square_bracket"
        for _ in marks:
            if replay.playback.position == action.at:
                break
            await jump(pilot, replay, key)
        assert replay.playback.position == action.at, "[ and ] stop at each event: the fix's too"
        await jump(pilot, replay, "left_square_bracket")
        assert replay.playback.position < action.at, "[ goes back"

        await pilot.press("f")  # an action key: disabled, nothing opens
        await pilot.pause()
        assert not isinstance(replay.screen, ActionScreen)
        assert replay.screen.check_action("fix", ()) is None

        replay.seek(replay.playback.end)
        await until(
            pilot,
            lambda: (statuses := api_statuses(replay)) and set(statuses) == {"Running"},
            "Running at the end",
        )
        assert replay.runtime.client.sent_mutations == 0
