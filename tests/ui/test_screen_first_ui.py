"""The app tells the sources when it answers the user: from a key (or a pasted filter) until the frame is drawn."""

from __future__ import annotations

from collections.abc import Callable

from nimify_tui.live.screen_first import SCREEN_FIRST
from nimify_tui.sim.server import SimThread
from nimify_tui.ui.app import NimifyApp
from nimify_tui.ui.screens.main import MainScreen

from .conftest import until


async def test_a_key_is_answered_first_until_its_frame_is_drawn(
    healthy_sim: SimThread, app_factory: Callable[..., NimifyApp]
) -> None:
    app = app_factory(healthy_sim)
    async with app.run_test(size=(160, 45)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, MainScreen), "the main screen")
        drawn: list[bool] = []
        before = SCREEN_FIRST.answers
        await pilot.press("j")
        assert SCREEN_FIRST.answers == before + 1, "the key did not mark the screen answering"
        app.call_after_refresh(lambda: drawn.append(SCREEN_FIRST.is_answering))
        await until(pilot, lambda: drawn, "a frame after the key")
        assert drawn == [False], "still answering after the frame was drawn"
        assert not SCREEN_FIRST.is_answering

        screen = app.screen
        assert isinstance(screen, MainScreen)
        await pilot.press("slash")
        before = SCREEN_FIRST.answers
        screen.query_one("#prompt").value = "nimify"  # type: ignore[attr-defined]  # as pasted: no key
        await until(pilot, lambda: SCREEN_FIRST.answers > before, "the filter to mark the screen answering")
