"""What every pane shares: a titled border, a freshness note, and a refresh that is skipped when nothing changed."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical

from nimify_tui.kube.duration import human_duration
from nimify_tui.live.keys import RecordsKey, ValueKey
from nimify_tui.live.store import SourceHealth, Store
from nimify_tui.text import one_line
from nimify_tui.ui.widgets.record_table import RecordTable

_REQUEST_PREFIX = re.compile(r"^[A-Z]+ /\S*: ")


def freshness_note(healths: Sequence[SourceHealth], now: float) -> tuple[str, bool]:
    """The border's subtitle and whether the pane's data is stale (some source is not live)."""
    if not healths:
        return "", False
    stale = [h for h in healths if h.state == "stale"]
    if stale:  # the age of the oldest data shown, and why it is that old
        loaded = [h for h in stale if h.last_ok]
        worst = min(loaded, key=lambda h: h.last_ok or 0.0) if loaded else stale[0]
        ago = f"{now - worst.last_ok:.0f}s old" if worst.last_ok else "never loaded"
        reason = _REQUEST_PREFIX.sub("", worst.error or "")  # "GET /api/v1/...: " says little in a pane
        return f"STALE ({ago}): {one_line(reason, 90)}", True
    unavailable = [h for h in healths if h.state == "unavailable"]
    if unavailable:
        return f"n/a: {one_line(unavailable[0].error or 'not available', 70)}", False
    if any(h.state == "syncing" for h in healths):
        return "loading…", False
    return "", False


def stale_word(healths: Sequence[SourceHealth], now: float) -> str:
    """What the border title adds while the pane's data is stale: ``stale 12s`` (the age of its oldest data)."""
    stale = [h for h in healths if h.state == "stale"]
    if not stale:
        return ""
    loaded = [h.last_ok for h in stale if h.last_ok]
    return f"stale {human_duration(now - min(loaded))}" if loaded else "stale"


class Pane(Vertical, can_focus=False):
    """A bordered pane fed from the store. Subclasses name their sources and implement ``update_view``."""

    ALLOW_MAXIMIZE = True
    SOURCES: tuple[RecordsKey[Any] | ValueKey[Any], ...] = ()  # what it reads; a change in one redraws it
    HEALTH: tuple[str, ...] = ()  # source names (prefixes) whose freshness the pane shows
    # a forced refresh (ages move with the clock) redraws a pane whose data did not change at most this often
    CLOCK_REDRAW_S = 0.0

    def __init__(self, title: str, *, id: str | None = None) -> None:
        super().__init__(id=id, classes="pane")
        self.border_title = Text(title)
        self.drawn_versions: tuple[int, ...] = ()  # the versions of its sources it last drew
        self._drawn_at = float("-inf")
        self._note = ""
        self._title = title
        self._stale_word = ""
        self.stale = False

    def update_node_styles(self, animate: bool = True) -> None:
        """Restyle the pane alone when its classes change (``-active`` as the focus moves, ``-stale``): no rule
        reads them below the pane, and Textual would restyle its table with it (a few milliseconds a key)."""
        self.app.stylesheet.update_nodes((self,), animate=animate)

    def refresh_from(self, store: Store, now: float, *, force: bool = False) -> None:
        versions = tuple(store.version(key) for key in self.SOURCES)
        healths = [h for prefix in self.HEALTH for h in store.health_of(prefix)]
        note, stale = freshness_note(healths, now)
        if note != self._note:  # setting a border text repaints the pane: only when it changed
            self._note = note
            self.border_subtitle = Text(note)  # a Text is shown literally; a str would be read as markup
        self.set_class(stale, "-stale")
        self.stale = stale
        word = stale_word(healths, now) if stale else ""
        if word != self._stale_word:
            self._stale_word = word
            self._show_title()
        clock_due = force and now - self._drawn_at >= self.CLOCK_REDRAW_S
        if clock_due or versions != self.drawn_versions:
            self.drawn_versions = versions
            self._drawn_at = now
            self.update_view(store, now)

    def update_view(self, store: Store, now: float) -> None:
        raise NotImplementedError

    def set_title(self, title: str) -> None:
        """The border title, repainted only when it changed (it is recomputed on every refresh)."""
        if title != self._title:
            self._title = title
            self._show_title()

    def _show_title(self) -> None:
        """The title, after the stale word while the data is stale (first: a narrow pane cuts its title's end; the
        border's colour says it too)."""
        title = Text(self._title)
        if self._stale_word:
            title = Text.assemble((self._stale_word, "bold"), " · ", title)
        self.border_title = title


class TablePane(Pane):
    """A pane holding one ``RecordTable`` of ``COLUMNS``, with the id ``<name>-table`` for ``<name>-pane``."""

    COLUMNS: tuple[str, ...] = ()

    def compose(self) -> ComposeResult:
        yield RecordTable(self.COLUMNS, id=(self.id or "").replace("-pane", "-table"))

    @property
    def table(self) -> RecordTable:
        return self.query_one(RecordTable)
