"""A table row as the panes draw it: a key, plain-text cells and one style for the whole row."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Row:
    """One row as it should look: its key, its cells, and a style for the whole row ("" for none)."""

    key: str
    cells: tuple[str, ...]
    style: str = ""
