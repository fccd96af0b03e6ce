"""The guarded dialog as an on-call engineer uses it: the cursor on the value that matters, the summary following
the edits, a box that fits its diff, and, while a rollout is followed, one status line with the panes above it."""

from __future__ import annotations

from collections.abc import Callable

from textual.containers import Vertical
from textual.widgets import Input, Label, Static

from nimify_tui.live.keys import PODS
from nimify_tui.sim.server import SimThread
from nimify_tui.ui.app import NimifyApp
from nimify_tui.ui.panes.pods import PodsPane
from nimify_tui.ui.screens.action import ActionScreen
from nimify_tui.ui.screens.main import MainScreen

from .conftest import controllers_loaded, until
from .test_actions_ui import open_action, select_pod

SIZE = (160, 45)


def summary(screen: ActionScreen) -> str:
    return str(screen.query_one("#action-permission", Label).content)


async def test_m_starts_on_the_memory_limit_and_the_summary_follows_the_edit(
    sim_factory: Callable[..., SimThread], app_factory: Callable[..., NimifyApp]
) -> None:
    sim = sim_factory(scenario="crashloop-oom", speed=20.0)
    app = app_factory(sim)
    async with app.run_test(size=SIZE) as pilot:
        store = app.runtime.store
        await controllers_loaded(pilot, app)
        await until(pilot, lambda: any(r.name.startswith("nimify-api-") for r in store.items(PODS)), "pods")
        await select_pod(pilot, app, "nimify-api-")
        screen = await open_action(pilot, app, "m")
        memory = dict(screen._fields)["limits.memory"]
        await until(pilot, lambda: app.focused is memory, "the cursor on limits.memory, not on the container")
        assert isinstance(memory, Input) and memory.cursor_position == len(memory.value)
        assert screen.query_one("#action-diff").display is False, "no empty diff box before the dry run"
        await pilot.press("backspace", "backspace", "backspace", *"3Gi")
        await until(pilot, lambda: "limits.memory 1Gi -> 3Gi" in summary(screen), "the summary following the edit")
        await pilot.press("backspace", "backspace", "backspace", *"lots")
        await until(pilot, lambda: "(limits.memory" in summary(screen), "what is wrong with the value, beside it")
        await pilot.press("backspace", "backspace", "backspace", "backspace", *"2Gi", "ctrl+r")
        await until(pilot, lambda: screen.state == "confirming", "the dry run", timeout_s=15)
        box = screen.query_one("#action-diff")
        lines = str(screen.query_one("#action-diff-text", Static).content).count("\n") + 1
        assert box.display and box.outer_size.height <= lines + 2, "the box fits its diff"
        await pilot.press("y")
        await until(pilot, lambda: screen.has_class("-following"), "the rollout followed", timeout_s=15)
        await pilot.pause()
        dialog = screen.query_one(Vertical)
        assert dialog.outer_size.height == 3, "one status line"
        assert "esc closes (the rollout goes on)" in str(screen.query_one("#action-status", Static).content)
        main = next(screen for screen in app.screen_stack if isinstance(screen, MainScreen))
        pods = main.query_one(PodsPane)
        assert pods.region.height > 10, "the panes stay on screen above it"
        await pilot.press("escape")
        assert not isinstance(app.screen, ActionScreen)
