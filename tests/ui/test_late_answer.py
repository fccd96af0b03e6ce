"""A worker's answer reaching a screen that was closed meanwhile is dropped (a NoMatches raised there would fail the
worker, and a failed worker ends the app); on a screen still showing its views, a view not found is raised."""

from __future__ import annotations

import asyncio

import pytest
from textual.app import App, ComposeResult
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.widgets import Static

from nimify_tui.ui.late_answer import dropped_once_closed


class Answering(Screen[None]):
    def __init__(self) -> None:
        super().__init__()
        self.shown: list[str] = []

    def compose(self) -> ComposeResult:
        yield Static("", id="status")

    @dropped_once_closed
    def show(self, text: str, view: str = "#status") -> None:
        self.query_one(view, Static).update(text)
        self.shown.append(text)


async def test_an_answer_is_shown_on_an_open_screen_and_dropped_on_a_closed_one() -> None:
    app: App[None] = App()
    async with app.run_test() as pilot:
        screen = Answering()
        await app.push_screen(screen)
        screen.show("first")
        assert screen.shown == ["first"]
        await screen.query("#status").remove()  # its views taken down before the screen, as Textual closes one
        screen.show("late")
        assert screen.shown == ["first"]
        app.pop_screen()
        await pilot.pause()
        assert not screen.is_attached
        screen.show("later still")  # detached: nothing happens, nothing is raised
        assert screen.shown == ["first"]


async def test_answers_arriving_while_textual_closes_the_screen_are_dropped() -> None:
    """Popped: Textual marks the screen as being removed, takes its views down, then detaches it; an answer at any
    of those moments is dropped without a raise."""
    app: App[None] = App()
    async with app.run_test():
        screen = Answering()
        await app.push_screen(screen)
        closing_down = app.pop_screen()
        phases = set()
        for tick in range(200):
            await asyncio.sleep(0)
            phases.add((screen.is_attached, bool(screen.children)))
            screen.show(f"tick {tick}")
            if not screen.is_attached:
                break
        await closing_down
        assert (True, False) in phases or (True, True) in phases, "answers came while the screen was closing"
        assert screen.shown == [] and not screen.is_attached


async def test_a_view_missing_on_an_open_screen_is_raised() -> None:
    app: App[None] = App()
    async with app.run_test():
        screen = Answering()
        await app.push_screen(screen)
        with pytest.raises(NoMatches):
            screen.show("text", view="#no-such-view")
