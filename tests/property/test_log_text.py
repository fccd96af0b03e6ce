"""The log store and the line splitter given binary and huge lines, in chunks cut anywhere; the log signatures
given any lines.

However a stream is cut into chunks, the same lines come out; every line kept is safe to show (no control
character) and bounded (the cap, then the cut marker).
"""

from __future__ import annotations

import itertools
import re

from hypothesis import assume, given
from hypothesis import strategies as st

from nimify_tui.kube.lines import LineSplitter, count_characters
from nimify_tui.kube.log_signatures import scan_log
from nimify_tui.kube.logtext import LogStore, TextColumn, cut_marker

CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")

pieces = st.one_of(
    st.binary(max_size=40),  # anything, invalid UTF-8 included
    st.text(max_size=30).map(str.encode),
    st.sampled_from(
        [b"\n", b"\r\n", b"\t", b"\x1b[31m", b"\x1b]0;title\x07", b"\x9b2J", "é".encode(), "\U0001f600".encode()]
    ),
    st.integers(min_value=1, max_value=300).map(lambda n: b"x" * n),  # long runs: beyond the small caps below
)
streams = st.lists(pieces, max_size=25).map(b"".join)


@st.composite
def chunked(draw: st.DrawFn) -> tuple[bytes, list[bytes]]:
    """A stream and the same stream cut at arbitrary byte positions (through characters too)."""
    data = draw(streams)
    cuts = sorted(draw(st.lists(st.integers(min_value=0, max_value=len(data)), max_size=8)))
    bounds = [0, *cuts, len(data)]
    return data, [data[start:end] for start, end in itertools.pairwise(bounds)]


def _lines(store: LogStore) -> list[tuple[str, str]]:
    return [tuple(store.line(number)) for number in range(store.first_number, store.end_number)]  # type: ignore[misc]


@given(chunked(), st.integers(min_value=1, max_value=120), st.integers(min_value=1, max_value=50))
def test_the_log_store_keeps_the_same_lines_however_the_stream_is_cut(
    stream: tuple[bytes, list[bytes]], cap: int, max_lines: int
) -> None:
    data, chunks = stream
    whole = LogStore(max_lines, max_line_chars=cap)
    whole.append(data)
    whole.flush()
    cut = LogStore(max_lines, max_line_chars=cap)
    for chunk in chunks:
        cut.append(chunk)
    cut.flush()
    assert _lines(cut) == _lines(whole)
    assert whole.end_number == data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)
    assert len(whole) == min(max_lines, whole.end_number)
    for timestamp, text in _lines(whole):
        assert not CONTROL.search(text) and not CONTROL.search(timestamp)
        assert len(text) <= cap + len(cut_marker(10 * len(data) + 10))


def test_a_huge_line_without_an_end_is_held_within_its_cap() -> None:
    store = LogStore(10, max_line_chars=1000)
    for _ in range(200):
        store.append(b"\x00" * 50_000)  # 10 MB of one binary line
    assert store.has_partial_line and len(store) == 0
    store.flush()
    (line,) = _lines(store)
    assert line[1].endswith(cut_marker(10_000_000)) and len(line[1]) <= 1000 + len(cut_marker(10_000_000))


@given(chunked(), st.one_of(st.none(), st.integers(min_value=1, max_value=100)))
def test_the_line_splitter_gives_the_same_lines_however_the_stream_is_cut(
    stream: tuple[bytes, list[bytes]], cap: int | None
) -> None:
    data, chunks = stream
    whole = LineSplitter(cap)
    expected = [*whole.feed(data), *whole.finish()]
    splitter = LineSplitter(cap)
    got: list[bytes] = []
    for chunk in chunks:
        got.extend(splitter.feed(chunk))
    got.extend(splitter.finish())
    assert got == expected
    assert len(got) == data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)
    if cap is not None:
        for line in got:
            assert count_characters(line) <= cap or b"[line cut: " in line
            assert count_characters(line) <= max(cap, len(cut_marker(10 * len(data) + 10)) + 4)


@given(st.lists(st.one_of(st.text(max_size=200), streams.map(lambda b: b.decode("utf-8", "replace"))), max_size=30))
def test_log_signatures_read_any_lines(lines: list[str]) -> None:
    for match in scan_log(lines):
        assert match.line is not None and not CONTROL.search(match.line)


def test_log_signatures_read_a_huge_line_at_once() -> None:
    lines = ["CUDA out of memory " + "x" * 2_000_000, "ok"]
    (match,) = scan_log(lines)
    assert len(match.line) < 10_000


stamped_streams = st.lists(
    st.one_of(
        pieces, st.sampled_from([b"2026-12-07T12:00:00.123456789Z ", b"2026-12-07T12:00:00Z", "\u00a0".encode()])
    ),
    max_size=25,
).map(b"".join)


@given(
    stamped_streams,
    st.integers(min_value=8, max_value=300),
    st.integers(min_value=1, max_value=50),
    st.integers(min_value=1, max_value=7),
    st.booleans(),
)
def test_whole_lines_given_in_batches_are_kept_as_the_stream_keeps_them(
    data: bytes, cap: int, max_lines: int, batch: int, as_text: bool
) -> None:
    """``append_lines`` (the logs screen's batches; plain lines take a quicker way in) keeps what ``append`` keeps
    of the same stream, timestamps split off the same way. (A line that ``append`` holds while waiting for its end
    is cut at twice the cap before its timestamp is read: such lines are left out.)"""
    lines = data.split(b"\n")
    if data.endswith(b"\n") or not data:
        lines.pop()
    assume(all(len(line.decode("utf-8", "replace")) <= 2 * cap for line in lines))
    streamed = LogStore(max_lines, max_line_chars=cap)
    streamed.append(data)
    streamed.flush()
    given_lines = LogStore(max_lines, max_line_chars=cap)
    for start in range(0, len(lines), batch):
        part = lines[start : start + batch]
        given_lines.append_lines([line.decode("utf-8", "replace") for line in part] if as_text else part)
    assert _lines(given_lines) == _lines(streamed)
    assert given_lines.end_number == streamed.end_number


column_steps = st.lists(
    st.one_of(
        st.tuples(st.just("extend"), st.integers(min_value=0, max_value=12)),
        st.tuples(st.just("drop"), st.integers(min_value=0, max_value=15)),
        st.tuples(st.just("clear"), st.just(0)),
    ),
    max_size=30,
)


@given(st.integers(min_value=1, max_value=5), column_steps)
def test_a_text_column_reads_as_the_list_it_stands_for(chunk: int, steps: list[tuple[str, int]]) -> None:
    """However texts are added, dropped from the front and cleared, a column reads (by index and by any slice) as
    a plain list given the same steps."""
    column = TextColumn(chunk)
    model: list[str] = []
    added = 0
    for step, count in steps:
        if step == "extend":
            texts = [f"t{added + n}" for n in range(count)]
            added += count
            column.extend(texts)
            model.extend(texts)
        elif step == "drop":
            column.drop_front(count)
            del model[:count]
        else:
            column.clear()
            model.clear()
        assert len(column) == len(model)
        assert [column[index] for index in range(len(model))] == model
        for start in range(len(model) + 1):
            for end in range(start, len(model) + 2):
                assert column.slice(start, end) == model[start:end]
