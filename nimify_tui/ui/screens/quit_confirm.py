"""Quitting mid-incident asks first: one line, ``y`` quits, any other key stays. ``q`` on a sub-screen goes back
(as ``esc``) instead of asking."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import events
from textual.app import ComposeResult
from textual.screen import ModalScreen
from textual.widgets import Static

if TYPE_CHECKING:
    from textual.app import App

QUESTION = "Quit nimify-tui? y quits, any other key stays"


class QuitConfirm(ModalScreen[bool]):
    """The question, above the footer; answers True for ``y``."""

    DEFAULT_CSS = """
    QuitConfirm { align: center bottom; background: $background 30%; }
    QuitConfirm > Static {
        width: auto; height: 1; margin-bottom: 1; padding: 0 1; background: $warning; color: $text; text-style: bold;
    }
    """

    def compose(self) -> ComposeResult:
        yield Static(QUESTION, markup=False, id="quit-question")

    def on_key(self, event: events.Key) -> None:
        event.stop()
        event.prevent_default()
        self.dismiss(event.key == "y")

    def on_click(self, event: events.Click) -> None:
        event.stop()
        self.dismiss(False)


def ask_to_quit(app: App[int]) -> None:
    """Ask (once: a second ask while the question is shown is the "other key" that keeps the session)."""
    if isinstance(app.screen, QuitConfirm):
        return

    def answered(quit_now: bool | None) -> None:
        if quit_now:
            app.exit(0)

    app.push_screen(QuitConfirm(), answered)


async def back_or_ask(app: App[int], main_screen: type[object]) -> None:
    """``q``: on the main screen, ask whether to quit; on any other screen, do what its ``esc`` does."""
    screen = app.screen
    if isinstance(screen, main_screen):
        ask_to_quit(app)
        return
    bindings = screen.active_bindings
    back = bindings.get("escape") or next((b for b in bindings.values() if b.binding.id == "back"), None)
    if back is not None:
        await app.run_action(back.binding.action, back.node)
    elif len(app.screen_stack) > 2:  # the default screen, then the main screen
        app.pop_screen()
