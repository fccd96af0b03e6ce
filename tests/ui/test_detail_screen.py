"""The drill-down screen's tabs load in worker threads: a text that comes back while the screen is being closed
(its views already gone, the screen not yet) is dropped, not an error that ends the app."""

from __future__ import annotations

import threading

from textual.app import App

from nimify_tui.ui.screens.detail import DetailScreen
from nimify_tui.ui.widgets.log_view import LogView


async def test_a_text_for_views_already_gone_is_dropped() -> None:
    release = threading.Event()

    def slow() -> str:
        release.wait(10)
        return "Name: nimify-api-0"

    screen = DetailScreen("pod nimify-api-0", {"describe": ("Describe", slow)})
    app: App[None] = App()
    async with app.run_test() as pilot:
        await app.push_screen(screen)
        await pilot.pause()
        assert isinstance(screen.view_of("describe"), LogView)
        await screen.remove_children()  # what closing takes down first
        assert screen.is_mounted
        screen._show("describe", "Name: nimify-api-0")  # raised NoMatches, which ended the app from the worker
        release.set()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.is_running and app.screen is screen
