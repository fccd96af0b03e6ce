"""A table pane whose border title ends with what its table cannot show: rows above and below, columns aside."""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult

from nimify_tui.render.row import Column
from nimify_tui.ui.panes.base import TablePane
from nimify_tui.ui.widgets.record_table import RecordTable

NOTE_SEPARATOR = " · "
TITLE_FRAME = 6  # the border's corners and the spaces around a title


class OverflowTitledPane(TablePane):
    """``Pods · nimify-system · 37 · ↓21 →2 cols``: the title the pane sets, then its table's overflow note."""

    TABLE_COLUMNS: Sequence[Column] = ()  # with their priorities (``COLUMNS`` is names only)

    def compose(self) -> ComposeResult:
        yield RecordTable(self.TABLE_COLUMNS, id=(self.id or "").replace("-pane", "-table"))

    def __init__(self, title: str, *, id: str | None = None) -> None:
        super().__init__(title, id=id)
        self._plain_title = title

    def set_title(self, title: str) -> None:
        """The title, then the table's overflow note; a title too long for both is cut, never the note."""
        self._plain_title = title
        note = self.table.overflow_note if self.is_mounted else ""
        if note:
            room = self.size.width - TITLE_FRAME - len(NOTE_SEPARATOR + note)
            if 0 < room < len(title):
                title = title[: room - 1] + "…"
            title += NOTE_SEPARATOR + note
        super().set_title(title)

    def on_record_table_overflow_changed(self, event: RecordTable.OverflowChanged) -> None:
        event.stop()
        self.set_title(self._plain_title)

    def on_resize(self) -> None:
        self.set_title(self._plain_title)
