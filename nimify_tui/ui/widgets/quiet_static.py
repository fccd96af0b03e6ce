"""A Static that repaints only when what it shows changed, and lays the screen out only when its height changed.

The header, the health strip and the runbook pane are refreshed twice a second and their text changes often (a
probe's latency); a layout of the screen costs a full repaint of every pane, so it is asked for only when the
number of lines the text needs is not the number it had.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static


class QuietStatic(Static):
    """Shows one ``Text`` of whole lines: each is cut at the edge with an ellipsis, never wrapped."""

    DEFAULT_CSS = "QuietStatic { text-wrap: nowrap; text-overflow: ellipsis; }"

    _shown: Text | None = None
    _lines: int = -1

    def show_text(self, text: Text) -> None:
        if text != self._shown:
            self._shown = text
            lines = text.plain.count("\n") + 1  # none is wrapped, so whatever the width
            self.update(text, layout=lines != self._lines)
            self._lines = lines
