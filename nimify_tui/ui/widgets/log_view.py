"""A log viewer for streamed container logs: follow, wrap, timestamps, search with context, save.

`LogLines` draws the lines with the Line API (only the visible rows are rendered, from cached strips of plain
segments, so log text is never read as markup). `LogView` puts a title above it, a search input and a status
line below it, and is what the rest of the application uses. Neither knows where the text comes from.
"""

from __future__ import annotations

import asyncio
import re
import time
from bisect import bisect_left, bisect_right
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import accumulate
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from rich.cells import cell_len, chop_cells
from rich.segment import Segment
from rich.style import Style
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Input, Static

from nimify_tui.kube.logtext import (
    CONTEXT_SEPARATOR,
    DEFAULT_MAX_LINES,
    LogStore,
    SearchError,
    compile_search,
    context_rows,
    format_line,
    match_spans,
    save_path,
)
from nimify_tui.text import sanitize

if TYPE_CHECKING:
    from typing_extensions import Self

CONTEXT_RADIUS = 3
NOTE_SECONDS = 8.0
LOADING = "loading…"


@dataclass(frozen=True)
class LogStatus:
    """What the status line says."""

    lines: int
    follow: bool
    wrap: bool
    timestamps: bool
    context: bool
    query: str
    match_index: int | None
    """Index of the current match among `match_count` matching lines, or None."""
    match_count: int
    live: bool = True
    """A stream (follow and timestamps apply), or a fixed text (a describe, a YAML)."""
    column: int = 0
    """The first column shown, when scrolled sideways (lines not wrapped)."""

    def describe(self) -> str:
        """The status as one line of text."""
        parts = [f"{self.lines:,} lines"]
        if self.live:
            parts.append(f"follow {'on' if self.follow else 'off'}")
        if self.query:
            current = 0 if self.match_index is None else self.match_index + 1
            parts.append(f"match {current}/{self.match_count}")
        where = f", from column {self.column + 1}" if self.column else ""
        parts.append(f"wrap {'on' if self.wrap else 'off'}{where}")
        if self.live:
            parts.append(f"timestamps {'on' if self.timestamps else 'off'}")
        if self.context:
            parts.append(f"context ±{CONTEXT_RADIUS}")
        return " │ ".join(parts)


@dataclass(frozen=True)
class _LineStyles:
    """The Rich styles lines are drawn with, resolved once from CSS."""

    base: Style
    match: Style
    current_match: Style
    timestamp: Style
    separator: Style


class _WrapIndex:
    """Cumulative row counts of display items, for finding the item at a row when lines wrap."""

    def __init__(self) -> None:
        self._ends: list[int] = []
        self._base = 0

    @property
    def total(self) -> int:
        return (self._ends[-1] if self._ends else self._base) - self._base

    def reset(self, counts: Iterable[int]) -> None:
        self._ends = list(accumulate(counts))
        self._base = 0

    def extend(self, counts: Iterable[int]) -> None:
        running = accumulate(counts, initial=self._ends[-1] if self._ends else self._base)
        next(running)
        self._ends.extend(running)

    def drop_front(self, count: int) -> int:
        """Forget the first `count` items; return how many rows they had."""
        if count <= 0 or not self._ends:
            return 0
        count = min(count, len(self._ends))
        before = self._base
        self._base = self._ends[count - 1]
        del self._ends[:count]
        return self._base - before

    def locate(self, row: int) -> tuple[int, int]:
        """(item index, row within the item) of display row `row`."""
        target = self._base + row
        index = bisect_right(self._ends, target)
        start = self._ends[index - 1] if index else self._base
        return index, target - start

    def row_of(self, index: int) -> int:
        """The first display row of item `index`."""
        return (self._ends[index - 1] if index else self._base) - self._base


class LogLines(ScrollView, can_focus=True):
    """The scrolling body of the log viewer, drawn line by line from a `LogStore`."""

    INGEST_SLICE = 500  # lines taken in at once from a big append
    INGEST_BUDGET_S = 0.005  # then at most this long a turn of the event loop
    SYNC_S = 0.05  # new lines shown at most this often
    ROWS_CACHED = 128  # rows drawn kept for the next frames (at least two screens of them)

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "log-lines--match",
        "log-lines--current-match",
        "log-lines--timestamp",
        "log-lines--separator",
    }

    DEFAULT_CSS = """
    LogLines {
        height: 1fr;
        background: $surface;
        color: $foreground;
        overflow-x: auto;
        overflow-y: scroll;
        scrollbar-size-vertical: 1;
        & > .log-lines--match { background: $warning 50%; }
        & > .log-lines--current-match { background: $accent; color: $text; text-style: bold; }
        & > .log-lines--timestamp { color: $text-muted; }
        & > .log-lines--separator { color: $text-disabled; }
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("end,G", "follow", "Follow", show=False),
        Binding("s", "toggle_follow", "Follow on/off"),
        Binding("g", "scroll_home", "Top", show=False),
        Binding("w", "toggle_wrap", "Wrap"),
        Binding("t", "toggle_timestamps", "Timestamps"),
        Binding("n", "next_match", "Next match", show=False),
        Binding("N", "previous_match", "Previous match", show=False),
        Binding("c", "toggle_context", "Context"),
    ]

    class StatusChanged(Message):
        """The line count, follow, wrap, timestamps, context or search state changed."""

        def __init__(self, log_lines: LogLines, status: LogStatus) -> None:
            super().__init__()
            self.log_lines = log_lines
            self.status = status

        @property
        def control(self) -> LogLines:
            return self.log_lines

    def __init__(
        self,
        *,
        max_lines: int = DEFAULT_MAX_LINES,
        split_timestamps: bool = True,
        live: bool = True,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.store = LogStore(max_lines, split_timestamps=split_timestamps and live)
        self.live = live
        """False: a fixed text, read from the top (no following, no timestamps); `G`/`end` go to its end."""
        self.follow = live
        self.wrap = False
        self.timestamps = False
        self.context = False
        self._query = ""
        self._pattern: re.Pattern[str] | None = None
        self._matches: list[int] = []
        self._current: int | None = None
        self._synced_first = self.store.first_number
        self._synced_end = self.store.end_number
        self._items: Sequence[int | None] = range(0)
        self._context_index: dict[int, int] = {}
        self._wrap_index = _WrapIndex()
        self._wrap_width = 0
        self._max_text_width = 0
        self._max_timestamp_width = 0
        # a few screens of rows: a Strip carries a handful of caches of its own (and the strips cut from it), which
        # the cycle collector reads on every full collection (1,024 rows kept: 25-40 ms one while following a busy
        # log)
        self._row_cache: LRUCache[tuple[int, int], Strip] = LRUCache(self.ROWS_CACHED)
        self._row_cache_key = (0, 0)
        self._wrapped_cache: LRUCache[int, Sequence[Strip]] = LRUCache(self.ROWS_CACHED)
        self._sync_scheduled = False
        self._synced_at = 0.0  # time.monotonic() of the last _sync
        self._scrolling_itself = False
        self._last_status: LogStatus | None = None
        self._line_styles: _LineStyles | None = None
        self._backlog: deque[str | bytes] = deque()  # lines given but not yet taken in (see append_lines)
        self._ingesting = False

    # -- feeding ---------------------------------------------------------------------------------------------

    def append_text(self, chunk: str | bytes) -> None:
        """Add streamed text; lines show once complete."""
        self._take_backlog()
        if self.store.append(chunk):
            self._schedule_sync()

    def append_lines(self, lines: Iterable[str | bytes]) -> None:
        """Add complete lines (without line endings). A few are taken in at once; many (a container logging 50,000
        lines a second) are taken in ``INGEST_SLICE`` at a time, for at most ``INGEST_BUDGET_S`` of each turn of the
        event loop, so that keys and frames go between the slices: none is dropped, and their order is kept."""
        self._backlog.extend(lines)
        if not self._ingesting:
            self._ingest()

    def _ingest(self) -> None:
        self._ingesting = False
        started = time.perf_counter()
        added = 0
        backlog = self._backlog
        while backlog:
            count = min(len(backlog), self.INGEST_SLICE)
            added += self.store.append_lines([backlog.popleft() for _ in range(count)])
            if backlog and self.is_mounted and time.perf_counter() - started > self.INGEST_BUDGET_S:
                self._ingesting = True
                # the rest after a turn of the event loop: a message posted to this widget now would be handled
                # at once (its queue is not empty, so awaiting it does not yield), without keys or frames between
                asyncio.get_running_loop().call_soon(self.call_later, self._ingest)
                break
        if added:
            self._schedule_sync()

    def _take_backlog(self) -> None:
        """Every line still waiting, taken in now (before text that came after them)."""
        if self._backlog:
            lines = list(self._backlog)
            self._backlog.clear()
            if self.store.append_lines(lines):
                self._schedule_sync()

    def flush(self) -> None:
        """End of stream: show a last line that had no line ending."""
        self._take_backlog()
        if self.store.flush():
            self._schedule_sync()

    def clear(self) -> None:
        """Remove every line; search, follow, wrap and timestamps settings stay."""
        self._backlog.clear()
        self.store.clear()
        self._synced_first = self._synced_end = self.store.end_number
        self._matches = []
        self._current = None
        self._max_text_width = self._max_timestamp_width = 0
        self._relayout(keep_line=None)
        self._post_status()

    @property
    def status(self) -> LogStatus:
        """The current status."""
        return LogStatus(
            lines=self._synced_end - self._synced_first,
            follow=self.follow,
            wrap=self.wrap,
            timestamps=self.timestamps,
            context=self.context,
            query=self._query,
            match_index=self._current,
            match_count=len(self._matches),
            live=self.live,
            column=0 if self.wrap else round(self.scroll_x),
        )

    @property
    def matches(self) -> Sequence[int]:
        """Numbers of the lines that match the search, in order."""
        return self._matches

    @property
    def current_match_line(self) -> int | None:
        """The number of the line of the current match, if any."""
        return None if self._current is None else self._matches[self._current]

    def replace_text(self, lines: Sequence[str]) -> None:
        """Show `lines` in place of every line, at the same place (a reloaded describe stays where it was read)."""
        self._backlog.clear()
        top = self._top_line()
        offset = 0 if top is None else top - self._synced_first
        x = round(self.scroll_x)
        self.clear()
        self.append_lines(lines)
        if not self.is_mounted or self.follow:
            return
        self._sync()
        row = self._row_of_line(self._synced_first + offset, at_or_after=True)
        self._scroll_itself(x=x, y=row or 0)

    @property
    def text(self) -> str:
        """Every line kept, as shown without timestamps, one per line."""
        line = self.store.line
        return "\n".join(line(number).text for number in range(self.store.first_number, self.store.end_number))

    # -- search ----------------------------------------------------------------------------------------------

    def search(self, query: str, *, regex: bool = False, ignore_case: bool = True) -> None:
        """Search for `query` (a substring, or a regular expression when `regex`); empty clears the search.

        Goes to the first match at or below the top of the view (wrapping around). Raises `SearchError`.
        """
        self._sync()
        if not query:
            self._pattern = None
            self._query = ""
            self._matches = []
            self._current = None
            if self.context:
                self.context = False
                self._relayout(keep_line=self._top_line())
            self._forget_rendering()
            self.refresh()
            self._post_status()
            return
        pattern = compile_search(query, regex=regex, ignore_case=ignore_case)
        top_line = self._top_line()
        self._pattern = pattern
        self._query = query
        self._matches = self.store.find_lines(pattern, self._synced_first)
        self._current = None
        if self.context:
            self._relayout(keep_line=top_line)
        self._forget_rendering()
        if self._matches:
            start = 0 if top_line is None else bisect_left(self._matches, top_line)
            self._go_to_match(start if start < len(self._matches) else 0)
        self.refresh()
        self._post_status()

    def action_next_match(self) -> None:
        """Go to the next matching line, wrapping around."""
        self._step_match(1)

    def action_previous_match(self) -> None:
        """Go to the previous matching line, wrapping around."""
        self._step_match(-1)

    def _step_match(self, step: int) -> None:
        self._sync()
        if not self._matches:
            return
        if self._current is None:
            top_line = self._top_line() or 0
            start = bisect_left(self._matches, top_line)
            index = start if step > 0 else start - 1
        else:
            index = self._current + step
        self._go_to_match(index % len(self._matches))
        self._post_status()

    def _go_to_match(self, index: int) -> None:
        self._current = index
        number = self._matches[index]
        self._set_follow(False)
        self._forget_rendering()
        row = self._row_of_line(number)
        if row is None:
            return
        height = self._view_height()
        x: int | None = None
        if not self.wrap and self._pattern is not None:
            line = self.store.line(number)
            spans = match_spans(self._pattern, line.text)
            if spans:
                shown = format_line(line, self.timestamps)
                offset = len(shown) - len(line.text)
                left = cell_len(shown[: offset + spans[0][0]])
                right = cell_len(shown[: offset + spans[0][1]])
                width = self._view_width()
                if left < self.scroll_x or right > self.scroll_x + width:
                    x = max(0, left - width // 4)
        self._scroll_itself(x=x, y=max(0, row - height // 2))
        self.refresh()

    # -- toggles ---------------------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """A fixed text has nothing to follow and no timestamps: those keys are not offered."""
        return self.live or action not in ("toggle_follow", "toggle_timestamps")

    def action_follow(self) -> None:
        """Follow new lines from the end of the log (a fixed text: go to its end)."""
        self._sync()
        self._set_follow(True)
        self._scroll_itself(y=self.max_scroll_y)

    def action_toggle_follow(self) -> None:
        """Pause or resume following."""
        if self.follow:
            self._set_follow(False)
        else:
            self.action_follow()

    def action_toggle_wrap(self) -> None:
        """Wrap long lines, or scroll them sideways."""
        self._sync()
        self.wrap = not self.wrap
        self._relayout(keep_line=self._top_line())
        self._post_status()

    def action_toggle_timestamps(self) -> None:
        """Show or hide the timestamps in front of the lines."""
        self._sync()
        self.timestamps = not self.timestamps
        self._relayout(keep_line=self._top_line())
        self._post_status()

    def action_toggle_context(self) -> None:
        """Show only the matching lines, with a few lines around each, or every line."""
        self._sync()
        if not self.context and self._pattern is None:
            self.notify("Search first (/), then filter with context.", markup=False)
            return
        self.context = not self.context
        keep = self.current_match_line if self._current is not None else self._top_line()
        self._relayout(keep_line=keep)
        if self._current is not None and not self.follow:
            self._go_to_match(self._current)
        self._post_status()

    # -- saving ----------------------------------------------------------------------------------------------

    def save(self, folder: Path, title: str) -> tuple[Path, int]:
        """Write what the view shows (all lines, or the context view) to a new file in `folder`.

        Returns the file's path and how many lines were written.
        """
        self._take_backlog()
        self._sync()
        path = save_path(folder, title, datetime.now())
        rows = self._items if self.context else None
        written = self.store.save(path, timestamps=self.timestamps, rows=rows)
        return path, written

    # -- keeping up with the store ---------------------------------------------------------------------------

    def on_mount(self) -> None:
        self._sync()

    def _schedule_sync(self) -> None:
        """Show what the store took in: after this frame, or, when the last showing was less than ``SYNC_S`` ago,
        that long after it (a chatty container redrawn at most that often: a frame of new lines is about 8 ms)."""
        if not self._sync_scheduled and self.is_mounted:
            self._sync_scheduled = True
            wait = self._synced_at + self.SYNC_S - time.monotonic()
            if wait > 0:
                self.set_timer(wait, self._sync)
            else:
                self.call_after_refresh(self._sync)

    def _sync(self) -> None:
        """Bring the layout, the search results and the scroll position up to date with the store."""
        self._sync_scheduled = False
        self._synced_at = time.monotonic()
        store = self.store
        first, end = store.first_number, store.end_number
        if first == self._synced_first and end == self._synced_end:
            return
        dropped = min(first, self._synced_end) - self._synced_first
        new_start = max(self._synced_end, first)
        if dropped:
            cut = bisect_left(self._matches, first)
            del self._matches[:cut]
            if self._current is not None:
                self._current = max(0, self._current - cut) if self._matches else None
        self._measure(range(new_start, end))
        if self._pattern is not None:
            self._matches.extend(store.find_lines(self._pattern, new_start))
        self._synced_first, self._synced_end = first, end
        removed_rows = dropped
        if self.context:
            self._rebuild_items()
        else:
            self._items = range(first, end)
            if self.wrap:
                removed_rows = self._wrap_index.drop_front(dropped)
                self._wrap_index.extend(self._rows_between(new_start, end))
        self._update_virtual_size()
        if self.follow:
            self._scroll_itself(y=self.max_scroll_y)
        elif removed_rows and not self.context:
            self._scroll_itself(y=max(0, round(self.scroll_y) - removed_rows))
        self.refresh()
        self._post_status()

    def _measure(self, numbers: range) -> None:
        """Widen the widest text and timestamp seen to those of lines `numbers` (in passes over all of them: a
        batch can be thousands of lines)."""
        texts = self.store.texts(numbers.start, numbers.stop)
        if not texts:
            return
        if all(map(str.isascii, texts)):
            text_width = max(map(len, texts))
        else:
            text_width = max(len(text) if text.isascii() else cell_len(text) for text in texts)
        timestamp_width = max(map(len, self.store.timestamps(numbers.start, numbers.stop)))
        self._max_text_width = max(self._max_text_width, text_width)
        self._max_timestamp_width = max(self._max_timestamp_width, timestamp_width)

    # -- layout ----------------------------------------------------------------------------------------------

    def _view_width(self) -> int:
        return max(1, self.container_size.width - self.scrollbar_size_vertical)

    def _view_height(self) -> int:
        return max(1, self.container_size.height - self.scrollbar_size_horizontal)

    def _rebuild_items(self) -> None:
        if self.context:
            rows = context_rows(self._matches, CONTEXT_RADIUS, self._synced_first, self._synced_end)
            self._items = rows
            self._context_index = {number: index for index, number in enumerate(rows) if number is not None}
        else:
            self._items = range(self._synced_first, self._synced_end)
            self._context_index = {}
        if self.wrap:
            self._wrap_index.reset(self._rows_of(number) for number in self._items)

    def _relayout(self, keep_line: int | None) -> None:
        """Rebuild rows after a change of mode or width, keeping `keep_line` at the top unless following."""
        self._wrap_width = self._view_width()
        self._forget_rendering()
        self._rebuild_items()
        self._update_virtual_size()
        if self.follow:
            self._scroll_itself(y=self.max_scroll_y)
        elif keep_line is not None:
            row = self._row_of_line(keep_line, at_or_after=True)
            self._scroll_itself(y=row or 0)
        self.refresh()

    def _update_virtual_size(self) -> None:
        if self.wrap:
            rows = self._wrap_index.total
            width = self._wrap_width
        else:
            rows = len(self._items)
            width = self._max_text_width
            if self.timestamps and self._max_timestamp_width:
                width += self._max_timestamp_width + 1
        size = Size(width, rows)
        if size == self.virtual_size:
            return
        if size.width == self.virtual_size.width and self.styles.overflow_y == "scroll" and self.is_mounted:
            # only more (or fewer) lines: the vertical scrollbar is always there, so nothing moves on the screen and
            # the scrollbar is updated in place; assigning virtual_size would lay out the screen and draw all of it
            # again (about 30 ms), on every batch of a streaming log
            self.set_reactive(ScrollView.virtual_size, size)
            self._scroll_update(size)
            self.refresh()
            return
        self.virtual_size = size
        if self.follow and self.is_mounted:  # the layout may bring the horizontal scrollbar, over the last line
            self.call_after_refresh(self._keep_following)

    def _keep_following(self) -> None:
        if self.follow:
            self._scroll_itself(y=self.max_scroll_y)

    def _rows_between(self, start: int, end: int) -> list[int]:
        """The rows each line from `start` up to `end` wraps into: for plain ASCII lines (nearly all) in passes over
        all of them (a busy log brings thousands a frame), else line by line."""
        texts = self.store.texts(start, end)
        if not all(map(str.isascii, texts)):
            return [self._rows_of(number) for number in range(start, end)]
        lengths = [len(text) for text in texts]
        if self.timestamps:  # a timestamp shown takes its length and a space (timestamps are ASCII)
            stamps = self.store.timestamps(start, end)
            lengths = [
                length + len(stamp) + 1 if stamp else length for length, stamp in zip(lengths, stamps, strict=True)
            ]
        width = max(1, self._wrap_width)
        return [max(1, -(-length // width)) for length in lengths]

    def _rows_of(self, number: int | None) -> int:
        if number is None:
            return 1
        text = format_line(self.store.line(number), self.timestamps)
        width = max(1, self._wrap_width)
        if text.isascii():
            return max(1, -(-len(text) // width))
        if cell_len(text) <= width:
            return 1
        return max(1, len(chop_cells(text, width)))

    def _index_of_row(self, row: int) -> tuple[int, int] | None:
        if self.wrap:
            if row < 0 or row >= self._wrap_index.total:
                return None
            return self._wrap_index.locate(row)
        if row < 0 or row >= len(self._items):
            return None
        return row, 0

    def _row_of_line(self, number: int, at_or_after: bool = False) -> int | None:
        """The first row showing line `number` (or, with `at_or_after`, the next line shown)."""
        if self.context:
            index = self._context_index.get(number)
            if index is None and at_or_after:
                index = next(
                    (i for i, item in enumerate(self._items) if item is not None and item >= number),
                    None,
                )
        elif self._synced_first <= number < self._synced_end:
            index = number - self._synced_first
        else:
            index = 0 if at_or_after and number < self._synced_first else None
        if index is None:
            return None
        return self._wrap_index.row_of(index) if self.wrap else index

    def _top_line(self) -> int | None:
        """The number of the first line at or below the top of the view."""
        row = round(self.scroll_y)
        located = self._index_of_row(row)
        while located is not None:
            number = self._items[located[0]]
            if number is not None:
                return number
            row += 1
            located = self._index_of_row(row)
        return None

    # -- scrolling -------------------------------------------------------------------------------------------

    def _set_follow(self, follow: bool) -> None:
        follow = follow and self.live
        if follow != self.follow:
            self.follow = follow
            self._post_status()

    def _scroll_itself(self, *, x: int | None = None, y: int | None = None) -> None:
        """Scroll without the move counting as the user's (which would pause or resume following)."""
        self._scrolling_itself = True
        try:
            self.scroll_to(x, y, animate=False, immediate=True)
        finally:
            self._scrolling_itself = False

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if self._scrolling_itself:
            return
        if new_value < old_value and new_value < self.max_scroll_y:
            self._set_follow(False)
        elif new_value > old_value and new_value >= self.max_scroll_y:
            self._set_follow(True)

    def watch_scroll_x(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_x(old_value, new_value)
        if round(old_value) != round(new_value):
            self._post_status()

    def on_resize(self, event: events.Resize) -> None:
        rows = 2 * self._view_height()  # a tall terminal keeps two screens of rows drawn
        self._row_cache.grow(rows)
        self._wrapped_cache.grow(rows)
        self._sync()
        if self.wrap and self._view_width() != self._wrap_width:
            self._relayout(keep_line=self._top_line())
        elif self.follow:
            self._scroll_itself(y=self.max_scroll_y)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._line_styles = None
        self._forget_rendering()

    # -- rendering -------------------------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.container_size.width
        if (scroll_x, width) != self._row_cache_key:
            self._row_cache.clear()
            self._row_cache_key = (scroll_x, width)
        located = self._index_of_row(scroll_y + y)
        if located is None:
            return Strip.blank(width, self._styles().base)
        index, piece = located
        number = self._items[index]
        if number is None:
            styles = self._styles()
            return Strip([Segment(CONTEXT_SEPARATOR, styles.separator)]).crop_extend(0, width, styles.base)
        cached = self._row_cache.get((number, piece))
        if cached is not None:
            return cached
        if not self.store.first_number <= number < self.store.end_number:
            return Strip.blank(width, self._styles().base)
        strip = self._render_row(number, piece, scroll_x, width)
        self._row_cache.set((number, piece), strip)
        return strip

    def _render_row(self, number: int, piece: int, scroll_x: int, width: int) -> Strip:
        base = self._styles().base
        if self.wrap:
            pieces = self._wrapped_strips(number)
            return (pieces[piece] if piece < len(pieces) else Strip([])).crop_extend(0, width, base)
        segments, cells = self._line_segments(number)
        if scroll_x == 0 and cells <= width:
            if cells < width:
                segments.append(Segment(" " * (width - cells), base))
            return Strip(segments, width)
        return Strip(segments, cells).crop_extend(scroll_x, scroll_x + width, base)

    def _styles(self) -> _LineStyles:
        if self._line_styles is None:
            base = self.rich_style

            def component(name: str) -> Style:
                return base + self.get_component_rich_style(f"log-lines--{name}", partial=True)

            self._line_styles = _LineStyles(
                base=base,
                match=component("match"),
                current_match=component("current-match"),
                timestamp=component("timestamp"),
                separator=component("separator"),
            )
        return self._line_styles

    def _line_segments(self, number: int) -> tuple[list[Segment], int]:
        """The segments of a whole line as shown, and its width in cells."""
        styles = self._styles()
        base = styles.base
        timestamp, text = self.store.line(number)
        segments: list[Segment] = []
        cells = len(text) if text.isascii() else cell_len(text)
        if self.timestamps and timestamp:
            segments.append(Segment(f"{timestamp} ", styles.timestamp))
            cells += len(timestamp) + 1
        spans = self._spans_on(number, text)
        if spans:
            highlight = styles.current_match if number == self.current_match_line else styles.match
            position = 0
            for start, end in spans:
                if start > position:
                    segments.append(Segment(text[position:start], base))
                segments.append(Segment(text[start:end], highlight))
                position = end
            if position < len(text):
                segments.append(Segment(text[position:], base))
        elif text:
            segments.append(Segment(text, base))
        return segments, cells

    def _spans_on(self, number: int, text: str) -> list[tuple[int, int]]:
        if self._pattern is None:
            return []
        index = bisect_left(self._matches, number)
        if index == len(self._matches) or self._matches[index] != number:
            return []
        return match_spans(self._pattern, text)

    def _wrapped_strips(self, number: int) -> Sequence[Strip]:
        cached = self._wrapped_cache.get(number)
        if cached is not None:
            return cached
        strip = Strip(*self._line_segments(number))
        width = self._wrap_width
        length = strip.cell_length
        if length <= width:
            pieces: Sequence[Strip] = [strip]
        else:
            text = strip.text
            if text.isascii():
                cuts = [*range(width, length, width), length]
            else:
                cuts = list(accumulate(cell_len(part) for part in chop_cells(text, width)))
            pieces = strip.divide(cuts)
        self._wrapped_cache.set(number, pieces)
        return pieces

    def _forget_rendering(self) -> None:
        self._row_cache.clear()
        self._wrapped_cache.clear()

    def _post_status(self) -> None:
        status = self.status
        if status != self._last_status:
            self._last_status = status
            self.post_message(self.StatusChanged(self, status))


def literal_search_note(error: SearchError) -> str:
    """What the status line says when a search is not a regular expression and is searched for literally."""
    reason = str(error).removeprefix("bad regular expression: ")
    return f"not a regex ({reason}); matching literally"


class _SearchInput(Input):
    """The search prompt; escape closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel search", show=False)]

    class Cancelled(Message):
        """The user closed the search prompt without searching."""

    def action_cancel(self) -> None:
        self.post_message(self.Cancelled())


class LogView(Widget):
    """A log viewer: title, lines, search prompt and status line; with ``live=False``, a viewer of a fixed text
    (a describe, a YAML) with the same keys, read from the top.

    Keys: `end`/`G` follow (a fixed text: its end), `home`/`g` top, `s` follow on/off, `w` wrap (otherwise
    `left`/`right` scroll sideways), `t` timestamps, `/` search (a regular expression, case ignored; one that does
    not compile is searched for literally, with a note saying so), `n`/`N` next/previous match, `c` only matches
    with context, `ctrl+s` save.
    """

    DEFAULT_CSS = """
    LogView {
        height: 1fr;
        layout: vertical;
        & > #log-title { height: 1; background: $panel; color: $foreground; text-style: bold; padding: 0 1; }
        & > #log-search { display: none; }
        & > #log-status { height: 1; background: $panel; color: $foreground-muted; padding: 0 1; }
        &.-searching > #log-search { display: block; }
        &.-searching > #log-status { display: none; }
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "open_search", "Search"),
        Binding("ctrl+s", "save", "Save"),
    ]

    class Saved(Message):
        """The log was saved to a file."""

        def __init__(self, log_view: LogView, path: Path, line_count: int) -> None:
            super().__init__()
            self.log_view = log_view
            self.path = path
            self.line_count = line_count

        @property
        def control(self) -> LogView:
            return self.log_view

    def __init__(
        self,
        title: str = "",
        *,
        max_lines: int = DEFAULT_MAX_LINES,
        split_timestamps: bool = True,
        save_folder: Path | None = None,
        live: bool = True,
        show_title: bool = True,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.log_lines = LogLines(max_lines=max_lines, split_timestamps=split_timestamps, live=live, id="log-lines")
        self.save_folder = save_folder
        self.save_name = ""
        """What a saved file is named after (then the time); the title when empty."""
        self._title = title
        self._title_bar = Static(sanitize(title), markup=False, id="log-title")
        self._title_bar.display = show_title
        self._search_input = _SearchInput(
            placeholder="search (regex, case ignored; enter searches, empty clears, esc closes)",
            compact=True,
            id="log-search",
        )
        self._status_bar = Static("", markup=False, id="log-status")
        self._note = ""
        self._note_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield self._title_bar
        yield self.log_lines
        yield self._search_input
        yield self._status_bar

    def on_mount(self) -> None:
        self._show_status(self.log_lines.status)

    # -- public API ------------------------------------------------------------------------------------------

    def append_text(self, chunk: str | bytes) -> None:
        """Add streamed text (partial lines are joined with what follows)."""
        self.log_lines.append_text(chunk)

    def append_lines(self, lines: Iterable[str | bytes]) -> None:
        """Add complete lines (without line endings)."""
        self.log_lines.append_lines(lines)

    def flush(self) -> None:
        """End of stream: show a last line that had no line ending."""
        self.log_lines.flush()

    def clear(self) -> None:
        """Remove every line."""
        self.log_lines.clear()

    def set_text(self, text: str) -> None:
        """Show a fixed text in place of every line, keeping the place read (control characters shown)."""
        self.log_lines.replace_text(text.split("\n"))

    @property
    def text(self) -> str:
        """The lines kept, one per line."""
        return self.log_lines.text

    def set_title(self, title: str) -> None:
        """Set the title shown above the lines (shown literally, without escape sequences)."""
        self._title = title
        self._title_bar.update(sanitize(title))

    def focus(self, scroll_visible: bool = True) -> Self:
        """Focus the lines, where the keys work."""
        self.log_lines.focus(scroll_visible)
        return self

    # -- actions ---------------------------------------------------------------------------------------------

    def action_open_search(self) -> None:
        """Open the search prompt (in place of the status line)."""
        self.add_class("-searching")
        self._search_input.focus()

    def action_save(self) -> None:
        """Save what the view shows to a file, and say where."""
        folder = self.save_folder or Path.cwd()
        try:
            path, written = self.log_lines.save(folder, self.save_name or self._title or "logs")
        except OSError as error:
            self.notify(f"Could not save the log: {error}", severity="error", markup=False)
            return
        message = f"saved {written:,} lines to {path}"
        self.notify(message, title="Log saved", markup=False)
        self._set_note(message)
        self.post_message(self.Saved(self, path, written))

    @on(Input.Submitted, "#log-search")
    def _search_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        try:
            self.log_lines.search(event.value, regex=True)
        except SearchError as error:
            self.log_lines.search(event.value, regex=False)
            self._set_note(literal_search_note(error))
        self._close_search()

    @on(_SearchInput.Cancelled)
    def _search_cancelled(self, event: _SearchInput.Cancelled) -> None:
        event.stop()
        self._close_search()

    @on(LogLines.StatusChanged)
    def _status_changed(self, event: LogLines.StatusChanged) -> None:
        self._show_status(event.status)

    def _close_search(self) -> None:
        self.remove_class("-searching")
        self.log_lines.focus()

    def _set_note(self, note: str) -> None:
        self._note = sanitize(note)
        self._show_status(self.log_lines.status)
        if self._note_timer is not None:
            self._note_timer.stop()
        self._note_timer = self.set_timer(NOTE_SECONDS, self._clear_note)

    def _clear_note(self) -> None:
        self._note = ""
        self._show_status(self.log_lines.status)

    def _show_status(self, status: LogStatus) -> None:
        text = status.describe()
        if self._note:
            text = f"{text} │ {self._note}"
        self._status_bar.update(text, layout=False)
