"""A table row as the panes draw it: a key, plain-text cells and one style for the whole row; and the columns a
table has, with what each may give up when the pane is too narrow for all of them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Row:
    """One row as it should look: its key, its cells, and a style for the whole row ("" for none)."""

    key: str
    cells: tuple[str, ...]
    style: str = ""


@dataclass(frozen=True, slots=True)
class Column:
    """A column of a table, and how it yields width when the pane is narrower than the whole table.

    ``priority``: lower is kept first; the columns of the lowest priority go first when they do not fit, those of
    priority 0 make the columns that may be cut (``cut_to``) narrower rather than go. ``cut_to``: 0 for a column
    shown whole or not at all (READY, RESTARTS, AGE: a value cut in the middle would lie); otherwise the
    narrowest it may be cut to, with an ellipsis. ``cut_middle``: cut in the middle (names, whose tails tell them
    apart) rather than at the end (messages). ``pinned``: always shown, never scrolled away sideways.
    ``stable_width``: the width it keeps once one of its cells outgrows its title, so that values that tick
    (``3 (9s ago)`` then ``3 (11s ago)``) do not move the columns after it.
    """

    name: str
    priority: int = 0
    cut_to: int = 0
    cut_middle: bool = False
    pinned: bool = False
    stable_width: int = 0


def columns_named(*names: str) -> tuple[Column, ...]:
    """Columns that all matter alike and are shown whole (a table without priorities)."""
    return tuple(Column(name) for name in names)
