"""A bounded store of container log lines, made safe for literal display.

Text is appended in chunks as it streams in; partial lines are joined across chunks and CRLF endings are
removed. Each complete line is sanitized once, on the way in:

* invalid UTF-8 is decoded with U+FFFD replacement characters;
* terminal escape sequences (CSI, OSC, DCS/SOS/PM/APC strings and other ESC sequences, in their 7-bit and
  8-bit forms) are removed, since they carry formatting, not log text;
* any other control character (C0 except tab, DEL, C1) is replaced by a visible symbol: C0 and DEL by their
  Unicode control pictures (ESC becomes "␛"), C1 by "�", so nothing disappears silently;
* tabs are expanded to spaces;
* a line longer than the cap is cut, and a marker saying so and giving its full length is appended.

A leading RFC 3339 timestamp, as ``kubectl logs --timestamps`` writes it, is split off so that a view can show
or hide it. Lines are numbered from the first line ever appended; the oldest lines are dropped beyond the cap.

A store may hold 200,000 lines of a container that logs 50,000 a second: it keeps them as two columns of texts (the
timestamps, the texts: :class:`TextColumn`), out of the cycle collector's sight, rather than an object a line, which
it would scan again and again; and it takes in a batch of plain lines (no control character, none too long: nearly
all) with a few passes over the whole batch.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

from nimify_tui.text import DEFAULT_TAB_SIZE, sanitize

DEFAULT_MAX_LINES = 200_000
DEFAULT_MAX_LINE_CHARS = 10_000
CONTEXT_SEPARATOR = "--"

_TIMESTAMP_PREFIX = re.compile(
    r"([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?(?:Z|[+-][0-9]{2}:[0-9]{2})) "
)
_UNSAFE_FILE_NAME_CHARACTER = re.compile(r"[^A-Za-z0-9._-]+")


class LogLine(NamedTuple):
    """One sanitized log line."""

    timestamp: str
    """The RFC 3339 timestamp split off the front of the line, or "" when there was none."""
    text: str
    """The line's text, safe to display literally."""


class SearchError(ValueError):
    """A search pattern that cannot be used."""


def cut_marker(total_chars: int) -> str:
    """The marker appended to a line that was cut, given how many characters it had."""
    return f" …[line cut: {total_chars:,} characters]"


def format_line(line: LogLine, timestamps: bool) -> str:
    """The line as shown: its text, after its timestamp when `timestamps` is true and it has one."""
    if timestamps and line.timestamp:
        return f"{line.timestamp} {line.text}"
    return line.text


def compile_search(query: str, *, regex: bool = False, ignore_case: bool = True) -> re.Pattern[str]:
    """Compile a search: a plain substring unless `regex` is true; raise `SearchError` if it is unusable."""
    if not query:
        raise SearchError("empty search")
    flags = re.IGNORECASE if ignore_case else 0
    try:
        return re.compile(query if regex else re.escape(query), flags)
    except re.error as error:
        raise SearchError(f"bad regular expression: {error}") from None


def match_spans(pattern: re.Pattern[str], text: str) -> list[tuple[int, int]]:
    """The (start, end) character positions of the non-empty matches of `pattern` in `text`."""
    return [match.span() for match in pattern.finditer(text) if match.end() > match.start()]


def context_rows(match_lines: Sequence[int], radius: int, first: int, end: int) -> list[int | None]:
    """Rows of a ``grep -C radius`` view: line numbers around each match, None between separate groups.

    `match_lines` is sorted; lines outside [first, end) do not exist and are left out.
    """
    rows: list[int | None] = []
    next_free = first
    for number in match_lines:
        start = max(number - radius, next_free)
        stop = min(number + radius + 1, end)
        if start >= stop:
            continue
        if rows and start > next_free:
            rows.append(None)
        rows.extend(range(start, stop))
        next_free = stop
    return rows


def save_path(folder: Path, title: str, when: datetime) -> Path:
    """A path in `folder` for saved logs, named after `title` and `when`, that does not exist yet."""
    label = _UNSAFE_FILE_NAME_CHARACTER.sub("_", title).strip("._-")[:80] or "logs"
    stem = f"{label}-{when:%Y%m%d-%H%M%S}"
    candidate = folder / f"{stem}.log"
    counter = 1
    while candidate.exists():
        candidate = folder / f"{stem}-{counter}.log"
        counter += 1
    return candidate


class TextColumn:
    """Texts in order, added at the end and dropped from the front, where the cycle collector does not look: in
    tuples of ``chunk`` texts (a tuple of texts is untracked once the collector has seen it), the newest in a short
    list. A list of 200,000 texts would be read whole by every full collection (about 3 ms a list on an idle
    machine, three times that on a busy one); 50 tuples are not read."""

    def __init__(self, chunk: int = 4096) -> None:
        if chunk < 1:
            raise ValueError("chunk must be positive")
        self.chunk = chunk
        self._chunks: list[tuple[str, ...]] = []
        self._tail: list[str] = []
        self._skip = 0  # texts dropped from the front of the first chunk (0 when there is none)
        self._length = 0

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, index: int) -> str:
        """The text at `index` (0 to len - 1)."""
        if not 0 <= index < self._length:
            raise IndexError(index)
        position = index + self._skip
        chunk, offset = divmod(position, self.chunk)
        if chunk < len(self._chunks):
            return self._chunks[chunk][offset]
        return self._tail[position - len(self._chunks) * self.chunk]

    def slice(self, start: int, end: int) -> list[str]:
        """The texts from `start` up to `end` (excluded), both within 0 to len."""
        start, end = max(0, start), min(self._length, end)
        if start >= end:
            return []
        size = self.chunk
        low, high = start + self._skip, end + self._skip
        whole = len(self._chunks) * size
        taken: list[str] = []
        for number in range(low // size, (min(high, whole) - 1) // size + 1) if low < whole else ():
            base = number * size
            taken.extend(self._chunks[number][max(0, low - base) : min(size, high - base)])
        if high > whole:
            taken.extend(self._tail[max(0, low - whole) : high - whole])
        return taken

    def extend(self, texts: Sequence[str]) -> None:
        tail = self._tail
        tail.extend(texts)
        self._length += len(texts)
        size = self.chunk
        if len(tail) >= size:
            whole = len(tail) - len(tail) % size
            self._chunks.extend(tuple(tail[start : start + size]) for start in range(0, whole, size))
            del tail[:whole]

    def drop_front(self, count: int) -> None:
        """Forget the first `count` texts."""
        count = min(max(0, count), self._length)
        self._length -= count
        self._skip += count
        dropped_chunks = min(len(self._chunks), self._skip // self.chunk)
        if dropped_chunks:
            del self._chunks[:dropped_chunks]
            self._skip -= dropped_chunks * self.chunk
        if not self._chunks and self._skip:
            del self._tail[: self._skip]
            self._skip = 0

    def clear(self) -> None:
        self._chunks.clear()
        self._tail.clear()
        self._skip = self._length = 0


class LogStore:
    """Log lines as they stream in, sanitized, at most `max_lines` of them (the oldest are dropped)."""

    def __init__(
        self,
        max_lines: int = DEFAULT_MAX_LINES,
        *,
        max_line_chars: int = DEFAULT_MAX_LINE_CHARS,
        tab_size: int = DEFAULT_TAB_SIZE,
        split_timestamps: bool = True,
    ) -> None:
        if max_lines < 1 or max_line_chars < 1:
            raise ValueError("max_lines and max_line_chars must be positive")
        self.max_lines = max_lines
        self.max_line_chars = max_line_chars
        self.tab_size = tab_size
        self.split_timestamps = split_timestamps
        self._timestamps = TextColumn()  # the lines' timestamps ("" for none) and texts, oldest first
        self._texts = TextColumn()
        self._first_number = 0
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._pending = ""
        self._pending_overflow = 0
        self._pending_ends_with_cr = False  # whether the pending line, dropped characters included, ends with \r

    @property
    def first_number(self) -> int:
        """The number of the oldest line kept (lines are numbered from 0 since the store began)."""
        return self._first_number

    @property
    def end_number(self) -> int:
        """The number the next complete line will get."""
        return self._first_number + len(self._texts)

    @property
    def has_partial_line(self) -> bool:
        """Whether text without a line ending is waiting for the rest of its line."""
        return bool(self._pending or self._pending_overflow)

    def __len__(self) -> int:
        return len(self._texts)

    def line(self, number: int) -> LogLine:
        """The line numbered `number`; IndexError if it was dropped or has not arrived."""
        index = number - self._first_number
        if index < 0 or index >= len(self._texts):
            raise IndexError(f"line {number} is not kept")
        return LogLine(self._timestamps[index], self._texts[index])

    def texts(self, start: int, end: int) -> list[str]:
        """The texts of the kept lines numbered from `start` up to `end` (excluded)."""
        return self._texts.slice(*self._indexes(start, end))

    def timestamps(self, start: int, end: int) -> list[str]:
        """The timestamps ("" for none) of the kept lines numbered from `start` up to `end` (excluded)."""
        return self._timestamps.slice(*self._indexes(start, end))

    def _indexes(self, start: int, end: int) -> tuple[int, int]:
        kept = len(self._texts)
        return min(kept, max(0, start - self._first_number)), min(kept, max(0, end - self._first_number))

    def append(self, chunk: str | bytes) -> int:
        """Add streamed text; return how many lines it completed. The end of a partial line waits for more."""
        if isinstance(chunk, bytes):
            text = self._decoder.decode(chunk)
        else:
            text = self._decoder.decode(b"", final=True) + chunk
            self._decoder.reset()
        if "\n" not in text:
            self._extend_pending(text)
            return 0
        pieces = text.split("\n")
        self._extend_pending(pieces[0])
        first = self._take_pending()
        self._extend_pending(pieces[-1])
        return self._add([first, *((piece, 0, False) for piece in pieces[1:-1])])

    def append_lines(self, lines: Iterable[str | bytes]) -> int:
        """Add complete lines (without their line endings); return how many were added."""
        batch = lines if isinstance(lines, list) else list(lines)
        return self._add_whole(_decoded(batch))

    def flush(self) -> int:
        """End the stream: turn a waiting partial line into a line. Return 1 if there was one, else 0."""
        self._extend_pending(self._decoder.decode(b"", final=True))
        self._decoder.reset()
        if not self.has_partial_line:
            return 0
        return self._add([self._take_pending()])

    def clear(self) -> None:
        """Forget every line, and any partial line; numbering continues."""
        self._first_number = self.end_number
        self._timestamps.clear()
        self._texts.clear()
        self._decoder.reset()
        self._pending = ""
        self._pending_overflow = 0
        self._pending_ends_with_cr = False

    def find_lines(self, pattern: re.Pattern[str], start: int | None = None) -> list[int]:
        """Numbers of the kept lines, from `start` on, whose text has a non-empty match of `pattern`."""
        begin = 0 if start is None else max(0, start - self._first_number)
        search = pattern.search
        first = self._first_number
        found: list[int] = []
        for index, text in enumerate(self._texts.slice(begin, len(self._texts)), begin):
            match = search(text)
            if match and (match.end() > match.start() or match_spans(pattern, text)):
                found.append(first + index)
        return found

    def save(self, path: Path, *, timestamps: bool, rows: Sequence[int | None] | None = None) -> int:
        """Write lines to a new file at `path`, as shown; return how many lines were written.

        `rows` picks line numbers (None writes a context separator); all kept lines when it is None.
        The file must not exist already.
        """
        if rows is None:
            count = len(self._texts)
            kept = zip(self._timestamps.slice(0, count), self._texts.slice(0, count), strict=True)
            texts = (format_line(LogLine(*line), timestamps) for line in kept)
        else:
            texts = (
                CONTEXT_SEPARATOR if number is None else format_line(self.line(number), timestamps) for number in rows
            )
        written = 0
        with path.open("x", encoding="utf-8", newline="\n") as output:
            for text in texts:
                output.write(text)
                output.write("\n")
                written += 1
        return written

    def _extend_pending(self, text: str) -> None:
        if text:
            self._pending_ends_with_cr = text.endswith("\r")
        room = 2 * self.max_line_chars - len(self._pending)
        if len(text) > room:
            self._pending_overflow += len(text) - room
            text = text[:room]
        self._pending += text

    def _take_pending(self) -> tuple[str, int, bool]:
        """The pending line, how many of its characters were dropped (not counting a \r ending among them, as
        a line that arrives whole does not count it), and whether any were (its kept end is then no line end)."""
        dropped = self._pending_overflow
        taken = (self._pending, dropped - 1 if dropped and self._pending_ends_with_cr else dropped, dropped > 0)
        self._pending = ""
        self._pending_overflow = 0
        self._pending_ends_with_cr = False
        return taken

    def _add(self, raw_lines: Iterable[tuple[str, int, bool]]) -> int:
        made = [self._make_line(raw, overflow, dropped) for raw, overflow, dropped in raw_lines]
        if not made:
            return 0
        timestamps, texts = zip(*made, strict=True)
        return self._keep(timestamps, texts)

    def _add_whole(self, raws: list[str]) -> int:
        """Add lines that arrived whole (none of their characters dropped on the way)."""
        if not raws:
            return 0
        if max(map(len, raws)) > self.max_line_chars or not "".join(raws).isprintable():
            return self._add((raw, 0, False) for raw in raws)  # something to cut, replace or expand: line by line
        # plain lines (sanitize would leave each as it is, no \r ending, none to cut), the common case
        if not self.split_timestamps:
            return self._keep([""] * len(raws), raws)
        found = list(map(_TIMESTAMP_PREFIX.match, raws))
        timestamps = [match.group(1) if match else "" for match in found]
        texts = [raw[match.end() :] if match else raw for raw, match in zip(raws, found, strict=True)]
        return self._keep(timestamps, texts)

    def _keep(self, timestamps: Sequence[str], texts: Sequence[str]) -> int:
        self._timestamps.extend(timestamps)
        self._texts.extend(texts)
        excess = len(self._texts) - self.max_lines
        if excess > 0:
            self._timestamps.drop_front(excess)
            self._texts.drop_front(excess)
            self._first_number += excess
        return len(texts)

    def _make_line(self, raw: str, overflow: int, dropped: bool) -> tuple[str, str]:
        if raw.endswith("\r") and not dropped:
            raw = raw[:-1]
        timestamp = ""
        if self.split_timestamps and raw[:1].isdigit():
            found = _TIMESTAMP_PREFIX.match(raw)
            if found:
                timestamp = found.group(1)
                raw = raw[found.end() :]
        cap = self.max_line_chars
        text = sanitize(raw[: 2 * cap], self.tab_size)
        if len(text) > cap or len(raw) > 2 * cap or overflow:
            text = text[:cap] + cut_marker(len(raw) + overflow)
        return timestamp, text


def _decoded(lines: list[str | bytes]) -> list[str]:
    """The lines as text (invalid UTF-8 replaced): a batch of bytes lines decoded at once."""
    try:
        joined = b"\n".join(lines)  # type: ignore[arg-type]  # TypeError when a line is text
    except TypeError:
        return [line.decode("utf-8", errors="replace") if isinstance(line, bytes) else line for line in lines]
    texts = joined.decode("utf-8", errors="replace").split("\n")
    if len(texts) == len(lines):
        return texts
    return [line.decode("utf-8", errors="replace") for line in lines]  # type: ignore[union-attr]  # a line held \n
