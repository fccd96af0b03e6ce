"""A DataTable that takes the whole desired content each time and applies only the difference.

Clearing and refilling a DataTable costs ~1.7 s for 10,000 rows; updating the cells that changed costs a tiny
fraction of that. Cells are always ``rich.text.Text`` built from plain strings, so text from the cluster is never
read as markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.text import Text
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey, RowKey

from nimify_tui.text import literal


@dataclass(frozen=True, slots=True)
class Row:
    """One row as it should look: its key, its cells, and a style for the whole row ("" for none)."""

    key: str
    cells: tuple[str, ...]
    style: str = ""


def styled_cells(row: Row) -> list[Text]:
    return [Text(literal(cell), style=row.style, no_wrap=True, end="") for cell in row.cells]


class RecordTable(DataTable[Text]):
    """Row-cursor table with keyed rows; ``show_rows`` diffs against what is shown."""

    def __init__(self, columns: Sequence[str], *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes, cursor_type="row", zebra_stripes=False)
        self._column_names = list(columns)
        self._shown: dict[str, Row] = {}
        self._order: list[str] = []
        self._position: dict[int, int] = {}
        for name in self._column_names:  # before any row can arrive
            self.add_column(name, key=name)

    @property
    def selected_key(self) -> str | None:
        if not self._order or self.cursor_row < 0 or self.row_count == 0:
            return None
        try:
            row_key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        except Exception:  # the cursor sits outside the rows while the table is empty
            return None
        return str(row_key.value) if row_key.value is not None else None

    def show_rows(self, rows: Sequence[Row]) -> None:
        """Make the table show exactly ``rows``, in that order, touching only what changed."""
        selected = self.selected_key
        wanted = {row.key: row for row in rows}
        for key in [k for k in self._shown if k not in wanted]:
            self.remove_row(key)
            del self._shown[key]
        columns = self._column_names
        for row in rows:
            before = self._shown.get(row.key)
            if before is None:
                self.add_row(*styled_cells(row), key=row.key)
            elif before != row:
                new_cells = styled_cells(row)
                for index, (old, cell) in enumerate(zip(before.cells, row.cells, strict=False)):
                    if old != cell or before.style != row.style:
                        column = columns[index]
                        # re-measuring a column costs a pass over all its cells: only when this cell outgrows it
                        grows = new_cells[index].cell_len > self.columns[ColumnKey(column)].content_width
                        self.update_cell(row.key, column, new_cells[index], update_width=grows)
            self._shown[row.key] = row
        order = [row.key for row in rows]
        if order != self._order:
            self._order = order
            self._reorder(order)
        if selected is not None and selected in wanted:
            self._select(selected)

    def _reorder(self, order: list[str]) -> None:
        first_column = self._column_names[0]
        position = {id(self.get_cell(key, first_column)): index for index, key in enumerate(order)}
        self.sort(first_column, key=lambda cell: position.get(id(cell), 0))

    def _select(self, key: str) -> None:
        try:
            index = self.get_row_index(RowKey(key))
        except Exception:  # the row went away between the diff and here
            return
        if index != self.cursor_row:
            self.move_cursor(row=index, animate=False, scroll=False)
