"""`c`: the status update drafted from the live state (the resolution message after verified recovery), edited in
place, copied to the clipboard with OSC 52 and journaled."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static, TextArea

from nimify_tui.incident.osc52 import tmux_note

if TYPE_CHECKING:
    from nimify_tui.ui.app import NimifyApp


class StatusUpdateScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("ctrl+s", "copy", "Copy & journal", id="status-copy"),
        Binding("ctrl+r", "redraft", "Draft again", id="status-redraft"),
        Binding("escape", "close", "Close", id="status-close"),
    ]
    DEFAULT_CSS = """
    StatusUpdateScreen { align: center middle; }
    StatusUpdateScreen > Vertical {
        width: 90%; max-width: 100; height: auto; max-height: 90%;
        border: round $accent; background: $panel; padding: 0 1;
    }
    StatusUpdateScreen #status-help, StatusUpdateScreen #status-said { height: auto; }
    """

    def __init__(self) -> None:
        super().__init__(id="status-update")

    @property
    def nimify(self) -> NimifyApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        desk = self.nimify.incident
        title = "Resolution message" if desk.resolved else "Status update"
        with Vertical() as box:
            box.border_title = f"{title} (edit it; the runbook asks for one every 30 min)"
            yield TextArea(desk.draft(), id="status-text", soft_wrap=True)
            note = tmux_note(os.environ)
            help_text = "ctrl+s copies it (OSC 52) and journals it  ctrl+r drafts it again  esc closes"
            yield Static(Text(help_text + (f"\n{note}" if note else ""), style="dim"), id="status-help")
            yield Static("", id="status-said")

    def on_mount(self) -> None:
        text_area = self.query_one(TextArea)
        text_area.styles.height = 10  # the app's stylesheet gives text areas the whole screen
        text_area.focus()

    @property
    def text(self) -> str:
        return self.query_one("#status-text", TextArea).text

    def action_copy(self) -> None:
        said = self.nimify.incident.copy(self.text.strip())
        self.query_one("#status-said", Static).update(Text(said))

    def action_redraft(self) -> None:
        self.query_one("#status-text", TextArea).text = self.nimify.incident.draft()

    def action_close(self) -> None:
        self.dismiss(None)
