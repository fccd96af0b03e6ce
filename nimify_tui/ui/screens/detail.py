"""A drill-down screen: tabs of read-only text (describe, YAML, history...), each loaded in a worker thread."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Static, TabbedContent, TabPane, TextArea

from nimify_tui.kube.errors import KubeError
from nimify_tui.text import literal
from nimify_tui.ui.widgets.key_footer import KeyFooter

if TYPE_CHECKING:
    from nimify_tui.ui.app import NimifyApp

Loader = Callable[[], str]


class DetailScreen(Screen[None]):
    """``tabs``: tab id -> (label, loader). ``R`` reloads the active tab."""

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="back"),
        Binding("R", "reload", "Reload", id="reload"),
    ]

    def __init__(self, title: str, tabs: dict[str, tuple[str, Loader]], initial: str | None = None) -> None:
        super().__init__()
        self.title_text = title
        self.tabs = tabs
        self.initial = initial or next(iter(tabs))

    @property
    def nimify(self) -> NimifyApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield Static(Text(self.title_text, style="bold"), id="detail-title")
        with TabbedContent(initial=self.initial):
            for tab_id, (label, _) in self.tabs.items():
                with TabPane(label, id=tab_id):
                    yield TextArea("loading…", read_only=True, id=f"text-{tab_id}", soft_wrap=False)
        yield KeyFooter()

    def on_mount(self) -> None:
        for tab_id in self.tabs:
            self.load(tab_id)
        self.query_one(f"#text-{self.initial}", TextArea).focus()

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        pane_id = event.pane.id or ""
        areas = self.query(f"#text-{pane_id}")
        if areas:
            areas.first().focus()

    def action_reload(self) -> None:
        active = self.query_one(TabbedContent).active
        if active:
            self.load(active)

    @work(thread=True, group="detail")
    def load(self, tab_id: str) -> None:
        _, loader = self.tabs[tab_id]
        try:
            text = loader()
        except KubeError as exc:
            text = f"Could not load: {exc.message}"
        except Exception as exc:  # a bug in one tab must not take the screen down
            text = f"Could not load: {type(exc).__name__}: {exc}"
        self.app.call_from_thread(self._show, tab_id, literal_block(text))

    def _show(self, tab_id: str, text: str) -> None:
        if self.is_mounted:
            self.query_one(f"#text-{tab_id}", TextArea).load_text(text)


def literal_block(text: str) -> str:
    """Each line made safe to show (control characters visible); newlines kept."""
    return "\n".join(literal(line) for line in text.split("\n"))
