"""Which columns of a table a pane of a given width shows, and how wide, as k9s does it: by column priority.

Pinned columns are always shown. Unscrolled, the others are taken by priority (then in their order) at the width
of their widest cell while they fit; the first that does not fit ends the layout (a column of priority 0 first
makes the columns that may be cut narrower), and the rest are hidden. A column that may be cut takes what is left
when its widest cell does not fit. Scrolling sideways moves by whole columns: ``offset`` of the columns that are
not pinned are off to the left, and the ones after them follow in their order, as far as they fit, so that every
hidden column comes into view as the table scrolls.

Widths are terminal cells of the cell text alone; every shown column also costs ``padding`` cells around it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from nimify_tui.render.row import Column


@dataclass(frozen=True, slots=True)
class Layout:
    """The columns shown, in their order, each ``(index, width)``; how many are scrolled off to the left and how
    many are not shown among the others (to the right: scrolling reveals them)."""

    shown: tuple[tuple[int, int], ...]
    scrolled: int
    hidden: int
    cut: int = 0  # shown columns (not pinned) narrower than their widest cell

    @property
    def width(self) -> int:
        """The cells of the shown columns' text (without padding)."""
        return sum(width for _, width in self.shown)


def natural_widths(columns: Sequence[Column], widest: Sequence[int]) -> list[int]:
    """Each column's width for its widest cell (``widest`` counts the title too), held at its stable width once
    a cell is wider than the title."""
    widths = []
    for column, width in zip(columns, widest, strict=True):
        if column.stable_width and width > len(column.name):
            width = max(width, column.stable_width)
        widths.append(width)
    return widths


def scrollable_count(columns: Sequence[Column]) -> int:
    return sum(1 for column in columns if not column.pinned)


def fit_columns(columns: Sequence[Column], widths: Sequence[int], space: int, offset: int, padding: int) -> Layout:
    """The layout of ``columns`` whose cells are ``widths`` wide in ``space`` cells, ``offset`` columns scrolled."""
    scrollable = [index for index, column in enumerate(columns) if not column.pinned]
    offset = max(0, min(offset, len(scrollable) - 1)) if scrollable else 0
    pinned = [index for index, column in enumerate(columns) if column.pinned]
    candidates = pinned + scrollable[offset:]
    if offset == 0:
        order = sorted(candidates, key=lambda index: (not columns[index].pinned, columns[index].priority, index))
    else:
        order = candidates
    chosen: dict[int, int] = {}
    room = space
    for index in order:
        column, width = columns[index], widths[index]
        if column.pinned:
            chosen[index] = max(0, min(width, room - padding))
            room -= chosen[index] + padding
            continue
        narrowest = min(width, column.cut_to) if column.cut_to else width
        if width + padding > room and narrowest + padding <= room:
            width = room - padding  # cut to what is left
        if width + padding > room and column.priority == 0 and offset == 0:
            room += _make_room(columns, widths, chosen, narrowest + padding - room)
            width = min(width, room - padding)
        if width + padding > room or width < narrowest:
            break
        chosen[index] = width
        room -= width + padding
    _widen(columns, widths, chosen, room)
    shown = tuple(sorted(chosen.items()))
    cut = sum(1 for index, width in shown if width < widths[index] and not columns[index].pinned)
    return Layout(shown, offset, len(candidates) - len(shown), cut)


def _make_room(columns: Sequence[Column], widths: Sequence[int], chosen: dict[int, int], needed: int) -> int:
    """Cut the chosen columns that may be cut (the last chosen first) by up to ``needed`` cells; the cells freed."""
    freed = 0
    for index in reversed(list(chosen)):
        column = columns[index]
        if not column.cut_to:
            continue
        spare = chosen[index] - min(widths[index], column.cut_to)
        take = max(0, min(spare, needed - freed))
        chosen[index] -= take
        freed += take
        if freed >= needed:
            break
    return freed


def _widen(columns: Sequence[Column], widths: Sequence[int], chosen: dict[int, int], room: int) -> None:
    """Give the cells left over back to the columns that were cut, by priority."""
    for index in sorted(chosen, key=lambda index: (columns[index].priority, index)):
        if room <= 0:
            return
        grow = min(room, widths[index] - chosen[index])
        if grow > 0:
            chosen[index] += grow
            room -= grow


def last_offset(columns: Sequence[Column], widths: Sequence[int], space: int, padding: int) -> int:
    """Where scrolling sideways ends (End): the smallest offset that shows every column after the scrolled ones
    whole, or else the last column alone, with all the room there is."""
    count = scrollable_count(columns)
    for offset in range(count):
        layout = fit_columns(columns, widths, space, offset, padding)
        if layout.hidden == 0 and layout.cut == 0:
            return offset
    return max(0, count - 1)
