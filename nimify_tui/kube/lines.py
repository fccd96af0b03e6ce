"""The lines of a streamed body, optionally cut at a length that holds while a line is still arriving.

A cut line keeps its beginning; the rest, up to the line's end, is counted as it arrives and dropped. The line
then ends with the log store's cut marker, which gives the full length. Line and marker fit in the cap together,
so the log store, which cuts at the same length, keeps the line and its marker as they are (unless its tab
expansion makes the line longer than the cap: then the store cuts it again).
"""

from __future__ import annotations

_UTF8_CONTINUATION_BYTES = bytes(range(0x80, 0xC0))
_MAX_UTF8_BYTES_PER_CHARACTER = 4


def count_characters(data: bytes) -> int:
    """How many characters the UTF-8 bytes ``data`` hold: the bytes that do not continue a character."""
    return len(data.translate(None, _UTF8_CONTINUATION_BYTES))


class LineSplitter:
    """Turns chunks of bytes into lines, without their ``\\n``.

    ``max_chars`` (None: no cap) bounds a line in characters. While a line arrives, at most
    ``4 * max_chars`` of its bytes are kept, enough for any line that is not cut.
    """

    def __init__(self, max_chars: int | None = None) -> None:
        if max_chars is not None and max_chars < 1:
            raise ValueError("max_chars must be positive")
        self.max_chars = max_chars
        self._kept_bytes = None if max_chars is None else _MAX_UTF8_BYTES_PER_CHARACTER * max_chars
        self._pending = bytearray()
        self._dropped_chars = 0

    def feed(self, chunk: bytes) -> list[bytes]:
        """The lines that ``chunk`` completes; its end waits for the rest of its line."""
        if b"\n" not in chunk:
            self._extend(chunk)
            return []
        first, *middle, last = chunk.split(b"\n")
        self._extend(first)
        lines = [self._take()]
        lines.extend(self._cut(line, 0) for line in middle)
        self._extend(last)
        return lines

    def finish(self) -> list[bytes]:
        """The end of the stream: the last line, if it had no ``\\n``."""
        if not self._pending and not self._dropped_chars:
            return []
        return [self._take()]

    def _extend(self, data: bytes) -> None:
        if self._kept_bytes is not None:
            room = max(0, self._kept_bytes - len(self._pending))
            if len(data) > room:
                self._dropped_chars += count_characters(data[room:])
                data = data[:room]
        self._pending += data

    def _take(self) -> bytes:
        line, dropped_chars = bytes(self._pending), self._dropped_chars
        self._pending.clear()
        self._dropped_chars = 0
        return self._cut(line, dropped_chars)

    def _cut(self, line: bytes, dropped_chars: int) -> bytes:
        """``line`` as emitted: as it is when it fits, else its beginning and the marker, within the cap."""
        cap = self.max_chars
        if cap is None or (not dropped_chars and len(line) <= cap):
            return line
        total_chars = count_characters(line) + dropped_chars
        if total_chars <= cap:
            return line
        from nimify_tui.kube.logtext import cut_marker  # only when a line is cut: every client imports this module

        marker = cut_marker(total_chars)
        beginning = line.decode("utf-8", errors="replace")[: max(0, cap - len(marker))]
        return (beginning + marker).encode()
