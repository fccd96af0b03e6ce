"""A drill-down screen: tabs of read-only text (describe, YAML, history...), each loaded in a worker thread and
read in the log view's viewer (search, wrap, sideways scroll, top and end), under one line of title and tabs."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import ContentSwitcher, Static, Tab, Tabs

from nimify_tui.kube.errors import KubeError
from nimify_tui.text import literal
from nimify_tui.ui.late_answer import dropped_once_closed
from nimify_tui.ui.widgets.key_footer import KeyFooter
from nimify_tui.ui.widgets.log_view import LOADING, LogView

if TYPE_CHECKING:
    from nimify_tui.ui.app import NimifyApp

Loader = Callable[[], str]


class TabLine(Tabs, can_focus=False):
    """The tabs on one row, next to the title: the text below keeps the focus (and its keys)."""

    DEFAULT_CSS = """
    TabLine { height: 1; width: 1fr; }
    TabLine Underline { display: none; }
    TabLine Tab { padding: 0 1; }
    TabLine Tab.-active { background: $accent 40%; text-style: bold; }
    """


class DetailScreen(Screen[None]):
    """``tabs``: tab id -> (label, loader). ``R`` reloads the active tab; ``[``/``]`` switch tabs. Each tab's text
    is a :class:`LogView` with the id ``text-<tab id>``."""

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="back"),
        Binding("R", "reload", "Reload", id="reload"),
        Binding("left_square_bracket", "step_tab(-1)", "Prev tab", id="previous-tab"),
        Binding("right_square_bracket", "step_tab(1)", "Next tab", id="next-tab"),
    ]
    DEFAULT_CSS = """
    DetailScreen #detail-head { height: 1; background: $panel; }
    DetailScreen #detail-views { height: 1fr; }
    DetailScreen LogLines { scrollbar-size-horizontal: 0; }  /* the status line says the column instead */
    DetailScreen #detail-title { width: auto; max-width: 60%; height: 1; padding: 0 1; text-wrap: nowrap;
        text-overflow: ellipsis; }
    """

    def __init__(self, title: str, tabs: dict[str, tuple[str, Loader]], initial: str | None = None) -> None:
        super().__init__()
        self.title_text = title
        self.tabs = tabs
        self.initial = initial if initial in tabs else next(iter(tabs))

    @property
    def nimify(self) -> NimifyApp:
        return self.app  # type: ignore[return-value]

    @property
    def active_tab(self) -> str:
        current = self.query_one("#detail-views", ContentSwitcher).current
        return current.removeprefix("text-") if current else self.initial

    def compose(self) -> ComposeResult:
        with Horizontal(id="detail-head"):
            yield Static(Text(self.title_text, style="bold"), id="detail-title")
            yield TabLine(*(Tab(label, id=tab_id) for tab_id, (label, _) in self.tabs.items()), active=self.initial)
        with ContentSwitcher(initial=f"text-{self.initial}", id="detail-views"):
            for tab_id in self.tabs:
                view = LogView(live=False, show_title=False, id=f"text-{tab_id}")
                view.save_name = f"{self.title_text} {self.tabs[tab_id][0]}"
                view.append_lines([LOADING])
                yield view
        yield KeyFooter()

    def on_mount(self) -> None:
        for tab_id in self.tabs:
            self.load(tab_id)
        self.view_of(self.initial).focus()

    def view_of(self, tab_id: str) -> LogView:
        return self.query_one(f"#text-{tab_id}", LogView)

    def show_tab(self, tab_id: str) -> None:
        """Show the tab ``tab_id`` and give its text the focus."""
        self.query_one(TabLine).active = tab_id
        self._switch(tab_id)

    def _switch(self, tab_id: str) -> None:
        if tab_id in self.tabs:
            self.query_one("#detail-views", ContentSwitcher).current = f"text-{tab_id}"
            self.view_of(tab_id).focus()

    @on(Tabs.TabActivated)
    def _tab_activated(self, event: Tabs.TabActivated) -> None:
        event.stop()
        if event.tab.id:
            self._switch(event.tab.id)

    def action_step_tab(self, step: int) -> None:
        ids = list(self.tabs)
        self.show_tab(ids[(ids.index(self.active_tab) + step) % len(ids)])

    def action_reload(self) -> None:
        self.load(self.active_tab)

    @work(thread=True, group="detail")
    def load(self, tab_id: str) -> None:
        _, loader = self.tabs[tab_id]
        try:
            text = loader()
        except KubeError as exc:
            text = f"Could not load: {exc.message}"
        except Exception as exc:  # a bug in one tab must not take the screen down
            text = f"Could not load: {type(exc).__name__}: {exc}"
        self.app.call_from_thread(self._show, tab_id, text)

    @dropped_once_closed  # closed while the text was on its way
    def _show(self, tab_id: str, text: str) -> None:
        self.view_of(tab_id).set_text(text)  # the view shows control characters and escapes literally


def literal_block(text: str) -> str:
    """Each line made safe to show (control characters visible); newlines kept."""
    return "\n".join(literal(line) for line in text.split("\n"))
