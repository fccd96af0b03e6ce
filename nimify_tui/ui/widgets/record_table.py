"""A keyed table on Textual's Line API: it takes the whole desired content each time and draws only what is seen.

DataTable measures every cell it holds through Rich (about 1 s for 5,000 pods) and repaints its cells when the
focus moves. Here every row is one line of plain text in one style, column widths are kept from cell lengths
worked out once per changed row, and only the lines on screen are drawn, so 5,000 rows cost what 40 do.
Cells are plain strings passed through ``literal``: text from the cluster is never read as markup and never
drives the terminal.

The columns are fitted to the width by priority (``nimify_tui.render.table_layout``): the table never scrolls by
characters and draws no scrollbar. Left and Right move by whole columns, the pinned ones (NAME) stay; what does not
fit, rows above and below and columns to the right, is said by ``overflow_note`` (the pane shows it in its title).
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from operator import attrgetter, is_, is_not
from typing import ClassVar, cast

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from nimify_tui.render.row import Column, Row
from nimify_tui.render.table_layout import Layout, fit_columns, last_offset, natural_widths
from nimify_tui.text import literal

CELL_PADDING = 1  # spaces on each side of a cell


@dataclass(frozen=True, slots=True)
class _Shown:
    """A row as drawn: the row it came from, its cells made safe, and their widths on screen."""

    row: Row
    cells: tuple[str, ...]
    widths: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class LateCells:
    """Cells worked out when a line is drawn, not when the rows are given: values that change for every row at
    once (the CPU and MEM of 50,000 pods at each metrics poll) cost the lines on screen, not every row.

    ``fill`` gives a row's cells for ``columns`` (column indexes, in that order) from its key; ``widths`` is the
    width each of those columns needs for its widest value. The rows' own cells in those columns are not shown.
    """

    columns: tuple[int, ...]
    fill: Callable[[str], tuple[str, ...]]
    widths: tuple[int, ...]


_ROW = attrgetter("row")
_KEY = attrgetter("key")
_SHOWN_KEY = attrgetter("row.key")
_WIDTHS = attrgetter("widths")


def _safe_cell(cell: str) -> tuple[str, int]:
    """The cell made safe, and its width on screen (printable ASCII, the common case, is taken as it is)."""
    if cell.isascii() and cell.isprintable():
        return cell, len(cell)
    safe = literal(cell)
    return safe, cell_len(safe)


def _cut(cell: str, cell_width: int, width: int, middle: bool) -> str:
    """A cell wider than its column, cut to ``width`` cells with an ellipsis (in the middle for names)."""
    if width <= 1:
        return "…"[:width]
    if middle and width >= 5:
        tail = (width - 1) // 2
        head = width - 1 - tail
        if cell.isascii():
            return cell[:head] + "…" + cell[len(cell) - tail :]
        return set_cell_size(cell, head) + "…" + _tail_cells(cell, tail)
    if cell.isascii():
        return cell[: width - 1] + "…"
    return set_cell_size(cell, width - 1) + "…"


def _tail_cells(text: str, width: int) -> str:
    taken = ""
    for character in reversed(text):
        if cell_len(taken) + cell_len(character) > width:
            break
        taken = character + taken
    return taken.rjust(width) if cell_len(taken) < width else taken


def overflow_text(above: int, below: int, scrolled: int, hidden: int) -> str:
    """``↑3 ↓12 ←1 →2 cols``: rows above and below the view, columns scrolled off to the left and not shown."""
    parts = []
    if above:
        parts.append(f"↑{above}")
    if below:
        parts.append(f"↓{below}")
    if scrolled:
        parts.append(f"←{scrolled}")
    if hidden:
        parts.append(f"→{hidden} col" + ("s" if hidden > 1 else ""))
    if scrolled and not hidden:
        parts[-1] += " col" + ("s" if scrolled > 1 else "")
    return " ".join(parts)


def _prepare(row: Row, columns: int) -> _Shown:
    cells = row.cells[:columns] + ("",) * (columns - len(row.cells))
    joined = "".join(cells)
    if joined.isascii() and joined.isprintable():  # the common case, each cell as it is: checked at once
        return _Shown(row, cells, tuple(map(len, cells)))
    safe = [_safe_cell(cell) for cell in cells]
    return _Shown(row, tuple(cell for cell, _ in safe), tuple(width for _, width in safe))


def _line_of(rows: list[_Shown], shown: _Shown | None) -> int | None:
    """The line of ``shown`` among ``rows`` (this very object), found at C speed; None when it is not there."""
    if shown is None:
        return None
    return next(itertools.compress(itertools.count(), map(is_, rows, itertools.repeat(shown))), None)


class RecordTable(ScrollView, can_focus=True):
    """Row-cursor table with keyed rows and a fixed header; ``show_rows`` replaces what is shown."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Select", show=False),
        Binding("up,k", "cursor_up", "Up", show=False),
        Binding("down,j", "cursor_down", "Down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("ctrl+home,g", "first_row", "Top", show=False),
        Binding("ctrl+end,G", "last_row", "Bottom", show=False),
        Binding("left", "column_left", "Column left", show=False),
        Binding("right", "column_right", "Column right", show=False),
        Binding("home", "first_column", "First column", show=False),
        Binding("end", "last_column", "Last column", show=False),
    ]

    # the cursor's line without and with the focus: two classes, not a :focus rule, so that a focus change needs no
    # restyle of the table (Textual restyles a widget whose focus changes: a few milliseconds each way)
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "record-table--header",
        "record-table--cursor",
        "record-table--cursor-focused",
    }
    KEPT_PREPARED = 120_000

    DEFAULT_CSS = """
    RecordTable {
        background: $surface;
        color: $foreground;
        width: 1fr;
        height: 1fr;
        overflow-x: hidden;
        scrollbar-size: 0 0;
        & > .record-table--header { text-style: bold; background: $panel; color: $foreground; }
        & > .record-table--cursor { background: $block-cursor-blurred-background; }
        & > .record-table--cursor-focused { background: $block-cursor-background; text-style: bold; }
    }
    """

    class RowSelected(Message):
        """Enter on a row, or a click on the row the cursor is on."""

        def __init__(self, table: RecordTable, key: str, index: int) -> None:
            super().__init__()
            self.table = table
            self.key = key
            self.index = index

        @property
        def control(self) -> RecordTable:
            return self.table

    class OverflowChanged(Message):
        """What the table cannot show changed (``overflow_note``: ``↓12 →3 cols``, "" when it shows everything)."""

        def __init__(self, table: RecordTable, note: str) -> None:
            super().__init__()
            self.table = table
            self.note = note

        @property
        def control(self) -> RecordTable:
            return self.table

    def __init__(self, columns: Sequence[str | Column], *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._columns: tuple[Column, ...] = ()
        self._header = _prepare(Row("", ()), 0)
        self._rows: list[_Shown] = []
        self._index: dict[str, int] | None = {}  # each row's line by key; None: made when first asked
        # rows prepared lately, shown or not: a filter that narrows 50,000 rows to 100 and is cleared again finds
        # the 50,000 prepared (kept up to KEPT_PREPARED rows, the newest of each key)
        self._prepared: dict[str, _Shown] = {}
        self._widths: list[int] = []
        self._widest: list[int] = []  # each column's widest cell among the rows shown (the header's at least)
        # the rows shown, counted by their cells' widths (None: not counted since the rows last came or went)
        self._width_kinds: Counter[tuple[int, ...]] | None = None
        self._given: Sequence[Row] | None = None  # the sequence last given to show_rows (its caller keeps it as is)
        self._late: LateCells | None = None
        self._row_styles: dict[str, Style] = {}
        self._base_style = Style()
        self._column_offset = 0  # columns that are not pinned scrolled off to the left
        self._layout_key: tuple[object, ...] = ()
        self._layout = Layout((), 0, 0)
        self.overflow_note = ""
        self.cursor_row = 0
        self._set_columns(columns)
        self._update_virtual_size()

    # --- columns -----------------------------------------------------------------------------------------
    @property
    def columns(self) -> tuple[Column, ...]:
        return self._columns

    def set_columns(self, columns: Sequence[str | Column]) -> None:
        """Show other columns (the rows given next must have their cells); the rows shown are dropped."""
        wanted = tuple(column if isinstance(column, Column) else Column(column) for column in columns)
        if wanted == self._columns:
            return
        self._set_columns(wanted)
        self._rows = []
        self._given = None
        self._index = {}
        self._width_kinds = None
        self._prepared = {}
        self._late = None
        self._column_offset = 0
        self._update_virtual_size()
        self.refresh()
        self._update_overflow()

    def _set_columns(self, columns: Sequence[str | Column]) -> None:
        self._columns = tuple(column if isinstance(column, Column) else Column(column) for column in columns)
        self._header = _prepare(Row("", tuple(column.name for column in self._columns)), len(self._columns))
        self._widest = list(self._header.widths)
        self._widths = natural_widths(self._columns, self._header.widths)

    def _natural_widths(self) -> list[int]:
        """The columns' widths for the rows shown and the late cells' widest values."""
        widest = self._widest
        if self._late is not None:
            widest = list(widest)
            for column, width in zip(self._late.columns, self._late.widths, strict=True):
                widest[column] = max(widest[column], width)
        return natural_widths(self._columns, widest)

    @property
    def has_late_cells(self) -> bool:
        """Whether some columns are filled when drawn (``set_columns`` drops them with the rows)."""
        return self._late is not None

    def set_late_cells(self, late: LateCells | None) -> None:
        """Fill ``late.columns`` of every row with ``late.fill`` when drawn (None: show the rows' own cells). The
        lines on screen are drawn again; nothing else is worked out again unless a column's width changed."""
        self._late = late
        widths = self._natural_widths()
        if widths != self._widths:
            self._widths = widths
            self._update_overflow()
        self.refresh()

    def current_layout(self) -> Layout:
        """The columns shown now and their widths (worked out again only when the widths, the size or the
        sideways scroll changed)."""
        space = self.scrollable_content_region.width
        key = (space, self._column_offset, tuple(self._widths), self._columns)
        if key != self._layout_key:
            self._layout_key = key
            self._layout = fit_columns(self._columns, self._widths, space, self._column_offset, 2 * CELL_PADDING)
        return self._layout

    # --- content ----------------------------------------------------------------------------------------
    @property
    def row_count(self) -> int:
        return len(self._rows)

    @property
    def selected_key(self) -> str | None:
        if not self._rows:
            return None
        return self._rows[min(self.cursor_row, len(self._rows) - 1)].row.key

    def get_row_at(self, index: int) -> tuple[str, ...]:
        """The cells of the row at ``index`` as shown (made safe, the late cells filled)."""
        return self._filled(self._rows[index]).cells

    def row_at(self, index: int) -> Row:
        """The row at ``index`` as it was given (cells not yet made safe, and its style)."""
        return self._rows[index].row

    def get_row_index(self, key: str) -> int:
        """Where the row with ``key`` is; KeyError when it is not shown."""
        if self._index is None:  # not made when the rows came: a cleared filter brings back 50,000 of them
            self._index = dict(zip(map(_SHOWN_KEY, self._rows), itertools.count()))
        return self._index[key]

    def show_rows(self, rows: Sequence[Row]) -> None:
        """Make the table show exactly ``rows``, in that order; the cursor stays on its row while it is shown, and
        that row stays on its line of the screen when rows come or go above it."""
        if rows is self._given or (len(rows) == len(self._rows) and all(map(is_, map(_ROW, self._rows), rows))):
            return  # the very rows shown (a refresh where nothing changed): nothing to do
        self._given = rows
        selected = self.selected_key
        cursor_line = self.cursor_row - round(self.scroll_y)
        if len(self._prepared) > max(self.KEPT_PREPARED, 2 * len(rows)):
            self._prepared = {shown.row.key: shown for shown in self._rows}
        previous = self._prepared
        # the rows prepared before, looked up at C speed (a cleared filter gives back 50,000 of them); those not
        # prepared yet, or given as other rows, are prepared
        found: list[_Shown | None] = list(map(previous.get, map(_KEY, rows)))
        columns = len(self._columns)
        if any(map(is_, found, itertools.repeat(None))):
            stale = [i for i, shown in enumerate(found) if shown is None or shown.row is not rows[i]]
        else:
            stale = list(itertools.compress(itertools.count(), map(is_not, map(_ROW, found), rows)))
        for index in stale:
            row = rows[index]
            before = found[index]
            if before is None or before.row != row:
                before = previous[row.key] = _prepare(row, columns)
            found[index] = before
        new_rows = cast(list[_Shown], found)
        if new_rows == self._rows:
            return
        changed_lines = self._changed_lines(new_rows)
        if changed_lines is None:  # rows came, went or moved: every row is looked at
            self._index = None
            self._width_kinds = None
            distinct = set(map(_WIDTHS, new_rows))  # a few hundred kinds of rows, whatever their number
        else:  # the same keys on the same lines (2 rows of 50,000 changed): those rows are looked at
            if self._width_kinds is None:  # counted once, at the first such change (a cleared filter need not)
                self._width_kinds = Counter(map(_WIDTHS, self._rows))
            kinds = self._width_kinds
            for line in changed_lines:
                old = self._rows[line].widths
                kinds[old] -= 1
                if not kinds[old]:
                    del kinds[old]
                kinds[new_rows[line].widths] += 1
            distinct = set(kinds)
        self._rows = new_rows
        self._widest = [max(column) for column in zip(self._header.widths, *distinct, strict=True)]
        widths = self._natural_widths()
        selected_line = None if selected is None else _line_of(new_rows, previous.get(selected))
        kept = selected_line is not None
        if selected_line is not None:
            self.cursor_row = selected_line
        self.cursor_row = max(0, min(self.cursor_row, len(new_rows) - 1))
        if widths != self._widths or changed_lines is None:
            self._widths = widths
            self._update_virtual_size()
            self.refresh()
        else:
            for line in changed_lines:
                self._refresh_row(line)
        if kept and changed_lines is None:
            top = max(0, min(self.cursor_row - cursor_line, len(new_rows) - self._rows_visible()))
            if top != round(self.scroll_y):
                self.scroll_to(y=top, animate=False, force=True, immediate=True)
        self._scroll_cursor_into_view()
        self._update_overflow()

    def _changed_lines(self, new_rows: list[_Shown]) -> list[int] | None:
        """The row indexes whose drawing changes, or None when the rows moved (everything is redrawn)."""
        if len(new_rows) != len(self._rows):
            return None
        changed = list(itertools.compress(itertools.count(), map(is_not, self._rows, new_rows)))
        if any(self._rows[index].row.key != new_rows[index].row.key for index in changed):
            return None
        return changed

    def _update_virtual_size(self) -> None:
        self.virtual_size = Size(0, len(self._rows) + 1)  # never wider than the table: columns scroll, not cells

    # --- what is not shown ---------------------------------------------------------------------------------
    def _update_overflow(self) -> None:
        """Work out ``overflow_note`` again; tell the pane when it changed."""
        if not self.is_mounted:
            return
        top = round(self.scroll_y)
        layout = self.current_layout()
        below = max(0, len(self._rows) - top - self._rows_visible())
        note = overflow_text(top, below, layout.scrolled, layout.hidden)
        if note != self.overflow_note:
            self.overflow_note = note
            self.post_message(self.OverflowChanged(self, note))

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if round(old_value) != round(new_value):
            self._update_overflow()

    def on_resize(self) -> None:
        self._scroll_cursor_into_view()
        self._update_overflow()

    # --- cursor ------------------------------------------------------------------------------------------
    def move_cursor(self, *, row: int, scroll: bool = True) -> None:
        """Put the cursor on ``row`` (clamped to the rows shown)."""
        old = self.cursor_row
        self.cursor_row = max(0, min(row, len(self._rows) - 1))
        if self.cursor_row != old:
            self._refresh_row(old)
            self._refresh_row(self.cursor_row)
        if scroll:
            self._scroll_cursor_into_view()

    def _rows_visible(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)

    def _scroll_cursor_into_view(self) -> None:
        top = round(self.scroll_y)
        visible = self._rows_visible()
        if self.cursor_row < top:
            self.scroll_to(y=self.cursor_row, animate=False, force=True, immediate=True)
        elif self.cursor_row >= top + visible:
            self.scroll_to(y=self.cursor_row - visible + 1, animate=False, force=True, immediate=True)

    def watch_has_focus(self, has_focus: bool) -> None:
        """The focus changes the cursor's line only: it is drawn again, without a restyle (see COMPONENT_CLASSES)."""
        self._refresh_row(self.cursor_row)

    # Textual's own handlers repaint the whole widget on focus and blur: every line of both tables at each pane
    # switch (a third of the frame). Only the cursor's line looks different here, and watch_has_focus draws it.
    def _on_focus(self, event: events.Focus) -> None:
        event.prevent_default()
        self.has_focus = True
        if self.parent is not None:
            self.parent.post_message(events.DescendantFocus(self))

    def _on_blur(self, event: events.Blur) -> None:
        event.prevent_default()
        self.has_focus = False
        if self.parent is not None:
            self.parent.post_message(events.DescendantBlur(self))

    def _refresh_row(self, index: int) -> None:
        top = round(self.scroll_y)
        if top <= index < top + self._rows_visible():
            self.refresh_line(index + 1)  # the header is virtual line 0

    def action_cursor_up(self) -> None:
        self.move_cursor(row=self.cursor_row - 1)

    def action_cursor_down(self) -> None:
        self.move_cursor(row=self.cursor_row + 1)

    def action_page_up(self) -> None:
        self.move_cursor(row=self.cursor_row - self._rows_visible())

    def action_page_down(self) -> None:
        self.move_cursor(row=self.cursor_row + self._rows_visible())

    def action_first_row(self) -> None:
        self.move_cursor(row=0)

    def action_last_row(self) -> None:
        self.move_cursor(row=len(self._rows) - 1)

    # --- sideways, by whole columns ----------------------------------------------------------------------------
    def scroll_columns_to(self, offset: int) -> None:
        """Scroll so that ``offset`` of the columns that are not pinned are off to the left (clamped: no further
        than where the last column is shown)."""
        space = self.scrollable_content_region.width
        offset = max(0, min(offset, last_offset(self._columns, self._widths, space, 2 * CELL_PADDING)))
        if offset != self._column_offset:
            self._column_offset = offset
            self.refresh()
            self._update_overflow()

    @property
    def column_offset(self) -> int:
        return self._column_offset

    def action_column_left(self) -> None:
        self.scroll_columns_to(self._column_offset - 1)

    def action_column_right(self) -> None:
        self.scroll_columns_to(self._column_offset + 1)

    def action_first_column(self) -> None:
        self.scroll_columns_to(0)

    def action_last_column(self) -> None:
        self.scroll_columns_to(len(self._columns))

    def action_select_cursor(self) -> None:
        key = self.selected_key
        if key is not None:
            self.post_message(self.RowSelected(self, key, self.cursor_row))

    async def _on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or offset.y < 1:  # the header is line 0; rows scroll under it
            return
        index = round(self.scroll_y) + offset.y - 1
        if index >= len(self._rows):
            return
        event.stop()
        if index == self.cursor_row:
            self.action_select_cursor()
        else:
            self.move_cursor(row=index)

    # --- drawing -----------------------------------------------------------------------------------------
    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._row_styles.clear()

    def _row_style(self, style: str) -> Style:
        parsed = self._row_styles.get(style)
        if parsed is None:
            parsed = self._row_styles[style] = Style.parse(style) if style else Style()
        return parsed

    def _filled(self, shown: _Shown) -> _Shown:
        """``shown`` with its late cells filled in (itself when there are none)."""
        late = self._late
        if late is None:
            return shown
        cells, widths = list(shown.cells), list(shown.widths)
        for column, value in zip(late.columns, late.fill(shown.row.key), strict=True):
            cells[column], widths[column] = _safe_cell(value)
        return _Shown(shown.row, tuple(cells), tuple(widths))

    def _line_text(self, shown: _Shown, layout: Layout) -> str:
        pad = " " * CELL_PADDING
        parts = []
        cells, widths, columns = shown.cells, shown.widths, self._columns
        for index, width in layout.shown:
            cell, cell_width = cells[index], widths[index]
            if cell_width > width:
                cell, cell_width = _cut(cell, cell_width, width, columns[index].cut_middle), width
            parts.append(pad + cell + " " * (width - cell_width) + pad)
        return "".join(parts)

    def render_lines(self, crop: Region) -> list[Strip]:
        self._base_style = self.rich_style  # worked out from the ancestors on each call: once per pass, not per line
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        scroll_y = self.scroll_offset.y
        base = self._base_style
        if y == 0:
            shown, style = self._header, base + self.get_component_rich_style("record-table--header")
        else:
            index = scroll_y + y - 1
            if index >= len(self._rows):
                return Strip.blank(width, base)
            shown = self._rows[index]
            style = base
            if index == self.cursor_row:
                style += self.get_component_rich_style(
                    "record-table--cursor-focused" if self.has_focus else "record-table--cursor"
                )
            if shown.row.style:
                style += self._row_style(shown.row.style)
        layout = self.current_layout()
        line_width = layout.width + 2 * CELL_PADDING * len(layout.shown)
        if y:
            shown = self._filled(shown)
        strip = Strip([Segment(self._line_text(shown, layout), style)], line_width)
        return strip.crop(0, width).extend_cell_length(width, style)
