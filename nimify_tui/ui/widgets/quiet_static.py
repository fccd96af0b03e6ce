"""A Static that repaints only when what it shows changed, and lays the screen out only when its height changed.

The header, the health strip and the runbook pane are refreshed twice a second and their text changes often (a
probe's latency); a layout of the screen costs a full repaint of every pane, so it is asked for only when the
number of lines the text needs is not the number it had.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static


class QuietStatic(Static):
    _shown: Text | None = None
    _lines: int = -1

    def show_text(self, text: Text) -> None:
        if text != self._shown:
            self._shown = text
            lines = self._lines_needed(text)
            self.update(text, layout=lines < 0 or lines != self._lines)
            self._lines = lines

    def _lines_needed(self, text: Text) -> int:
        """How many lines ``text`` takes at the current width (-1 before the widget has a size)."""
        width = self.content_region.width
        if width <= 0:
            return -1
        if text.no_wrap:
            return text.plain.count("\n") + 1
        return len(text.wrap(self.app.console, width))

    def on_resize(self) -> None:
        self._lines = -1  # the next text is laid out at the new width
