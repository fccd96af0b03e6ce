"""The log line store: chunk joining, caps, sanitizing, timestamps, search, context and saving."""

from __future__ import annotations

import random
import re
import shutil
import subprocess
import tracemalloc
from datetime import datetime
from pathlib import Path

import pytest

from nimify_tui.kube.logtext import (
    CONTEXT_SEPARATOR,
    LogLine,
    LogStore,
    SearchError,
    compile_search,
    context_rows,
    cut_marker,
    format_line,
    match_spans,
    save_path,
)
from nimify_tui.text import sanitize

CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")


def texts(store: LogStore) -> list[str]:
    return [store.line(number).text for number in range(store.first_number, store.end_number)]


# -- chunks --------------------------------------------------------------------------------------------------


def test_partial_lines_are_joined_across_chunks() -> None:
    store = LogStore()
    assert store.append("I0102 03:04:05 model_lifecycle.cc:461] load") == 0
    assert store.has_partial_line
    assert store.append("ing: resnet50:1\nsecond") == 1
    assert store.append(" line\nthird\n") == 2
    assert texts(store) == [
        "I0102 03:04:05 model_lifecycle.cc:461] loading: resnet50:1",
        "second line",
        "third",
    ]
    assert not store.has_partial_line


def test_utf8_split_inside_a_character_is_joined() -> None:
    encoded = "température 42 °C ✓ 模型\n".encode()
    store = LogStore()
    for index in range(len(encoded)):
        store.append(encoded[index : index + 1])
    assert texts(store) == ["température 42 °C ✓ 模型"]


def test_crlf_endings_are_removed_even_when_split_between_chunks() -> None:
    store = LogStore()
    store.append(b"first\r")
    store.append(b"\nsecond\r\nthird\n")
    assert texts(store) == ["first", "second", "third"]


def test_bytes_then_str_chunks() -> None:
    store = LogStore()
    store.append(b"from bytes ")
    store.append("and str\n")
    assert texts(store) == ["from bytes and str"]


def test_flush_ends_the_last_line() -> None:
    store = LogStore()
    store.append("no newline at the end")
    assert len(store) == 0
    assert store.flush() == 1
    assert texts(store) == ["no newline at the end"]
    assert store.flush() == 0


def test_append_lines_takes_complete_lines() -> None:
    store = LogStore()
    assert store.append_lines(["one", b"two \xff", "three"]) == 3
    assert texts(store) == ["one", "two \ufffd", "three"]


# -- caps ----------------------------------------------------------------------------------------------------


def test_oldest_lines_are_dropped_beyond_the_cap() -> None:
    store = LogStore(max_lines=5)
    store.append("".join(f"line {number}\n" for number in range(12)))
    assert len(store) == 5
    assert store.first_number == 7
    assert store.end_number == 12
    assert store.line(7).text == "line 7"
    assert texts(store)[-1] == "line 11"
    with pytest.raises(IndexError):
        store.line(6)
    with pytest.raises(IndexError):
        store.line(12)


def test_default_cap_is_200000_lines() -> None:
    store = LogStore()
    store.append_lines(f"{number}" for number in range(200_005))
    assert len(store) == 200_000
    assert store.line(store.first_number).text == "5"


def test_clear_keeps_numbering() -> None:
    store = LogStore()
    store.append("a\nb\npartial")
    store.clear()
    assert len(store) == 0
    assert not store.has_partial_line
    store.append("c\n")
    assert store.first_number == 2
    assert store.line(2).text == "c"


def test_a_huge_line_is_cut_with_a_marker() -> None:
    store = LogStore()
    store.append("x" * 1_000_000 + "\nnext\n")
    text = store.line(0).text
    assert text == "x" * 10_000 + cut_marker(1_000_000)
    assert "1,000,000" in text
    assert store.line(1).text == "next"


def test_a_huge_line_streamed_without_newline_keeps_memory_bounded() -> None:
    store = LogStore(max_line_chars=1_000)
    chunk = "y" * 100_000
    tracemalloc.start()
    try:
        for _ in range(100):
            store.append(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    store.append("\n")
    assert peak < 2_000_000, f"{peak} bytes held for a 10 MB line"
    assert store.line(0).text == "y" * 1_000 + cut_marker(10_000_000)


def test_a_line_within_the_cap_is_kept_whole() -> None:
    store = LogStore(max_line_chars=20)
    store.append("\x1b[31m" * 4 + "0123456789" + "\x1b[0m\n")
    assert store.line(0).text == "0123456789"


# -- sanitizing ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("\x1b[31mERROR\x1b[0m model failed", "ERROR model failed"),
        ("\x1b[1;38;5;196mbold\x1b[m", "bold"),
        ("\x1b]0;pwned title\x07after", "after"),
        ("\x1b]8;;https://example.com\x1b\\link\x1b]8;;\x1b\\", "link"),
        ("before\x1b[2Jafter\x1b[H", "beforeafter"),
        ("\x1bPq#0;2;0;0;0\x1b\\sixel gone", "sixel gone"),
        ("\x1b(Bcharset \x1b7saved\x1b8", "charset saved"),
        ("eight-bit \x9b31mcsi\x9b0m", "eight-bit csi"),
        ("\x9d0;title\x9cosc8", "osc8"),
        ("unterminated \x1b]0;title", "unterminated "),
        ("bell\x07 nul\x00 del\x7f esc\x1b", "bell␇ nul␀ del␡ esc␛"),
        ("backspace\x08 cr\rform\x0c", "backspace␈ cr␍form␌"),
        ("c1 next-line\x85", "c1 next-line\ufffd"),
        ("a\tb", "a       b"),
        (
            "[bold red]x[/] [link=https://example.com]y[/link]",
            "[bold red]x[/] [link=https://example.com]y[/link]",
        ),
    ],
)
def test_sanitize(raw: str, shown: str) -> None:
    assert sanitize(raw) == shown


def test_binary_garbage_becomes_visible_text() -> None:
    rng = random.Random(7)
    blob = bytes(rng.randrange(256) for _ in range(200_000))
    store = LogStore()
    store.append(blob)
    store.flush()
    assert len(store) > 100
    for text in texts(store):
        assert CONTROL_CHARACTERS.search(text) is None
        assert "\t" not in text
    assert any("\ufffd" in text for text in texts(store))


# -- timestamps ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "timestamp", "text"),
    [
        (
            "2024-05-01T10:11:12.123456789Z I0501 server.cc:674] started",
            "2024-05-01T10:11:12.123456789Z",
            None,
        ),
        ("2024-05-01T10:11:12Z no fraction", "2024-05-01T10:11:12Z", "no fraction"),
        ("2024-05-01T10:11:12.5+02:00 with offset", "2024-05-01T10:11:12.5+02:00", "with offset"),
        ("2024-05-01 10:11:12 not kubectl's format", "", "2024-05-01 10:11:12 not kubectl's format"),
        ("2024-05-01T10:11:12.1Z", "", "2024-05-01T10:11:12.1Z"),
        ("404 not found", "", "404 not found"),
    ],
)
def test_timestamp_prefix_is_split(raw: str, timestamp: str, text: str | None) -> None:
    store = LogStore()
    store.append(raw + "\n")
    line = store.line(0)
    assert line.timestamp == timestamp
    assert line.text == (text if text is not None else raw.split(" ", 1)[1])
    assert format_line(line, timestamps=True) == raw
    assert format_line(line, timestamps=False) == line.text


def test_timestamps_are_not_split_when_asked_not_to() -> None:
    store = LogStore(split_timestamps=False)
    store.append("2024-05-01T10:11:12.5Z app line\n")
    assert store.line(0) == LogLine("", "2024-05-01T10:11:12.5Z app line")


def test_timestamp_escape_sequences_after_the_prefix_are_stripped() -> None:
    store = LogStore()
    store.append(b"2024-05-01T10:11:12.5Z \x1b[32mINFO\x1b[0m ready\r\n")
    assert store.line(0) == LogLine("2024-05-01T10:11:12.5Z", "INFO ready")


# -- search --------------------------------------------------------------------------------------------------


def make_store(lines: list[str]) -> LogStore:
    store = LogStore()
    store.append_lines(lines)
    return store


def test_plain_search_ignores_case_and_treats_symbols_literally() -> None:
    store = make_store(["CUDA error: out of memory", "cuda ok", "a.b", "axb", "nothing"])
    pattern = compile_search("cuda")
    assert store.find_lines(pattern) == [0, 1]
    assert match_spans(pattern, "CUDA cuda") == [(0, 4), (5, 9)]
    assert store.find_lines(compile_search("a.b")) == [2]


def test_case_sensitive_and_regex_search() -> None:
    store = make_store(["ERROR one", "error two", "warn 503", "ok 200"])
    assert store.find_lines(compile_search("ERROR", ignore_case=False)) == [0]
    assert store.find_lines(compile_search(r"\b5\d\d\b", regex=True)) == [2]
    assert match_spans(compile_search(r"\d+", regex=True), "a 12 b 345") == [(2, 4), (7, 10)]


def test_search_from_a_line_on() -> None:
    store = make_store([f"line {number % 3}" for number in range(9)])
    assert store.find_lines(compile_search("line 0"), start=4) == [6]


def test_empty_matches_do_not_count() -> None:
    store = make_store(["aaa", "bbb"])
    pattern = compile_search("a*", regex=True)
    assert store.find_lines(pattern) == [0]
    assert match_spans(pattern, "bbb") == []


@pytest.mark.parametrize("query", ["", "(unclosed", "[z-a]"])
def test_unusable_searches_raise(query: str) -> None:
    with pytest.raises(SearchError):
        compile_search(query, regex=True)


# -- context -------------------------------------------------------------------------------------------------


def test_context_rows_merge_and_separate_like_grep() -> None:
    assert context_rows([5], 2, 0, 20) == [3, 4, 5, 6, 7]
    assert context_rows([5, 7], 2, 0, 20) == [3, 4, 5, 6, 7, 8, 9]
    assert context_rows([1, 6], 2, 0, 20) == [0, 1, 2, 3, 4, 5, 6, 7, 8]
    assert context_rows([1, 10], 2, 0, 20) == [0, 1, 2, 3, None, 8, 9, 10, 11, 12]
    assert context_rows([19], 3, 10, 20) == [16, 17, 18, 19]
    assert context_rows([], 3, 0, 20) == []


@pytest.mark.skipif(shutil.which("grep") is None, reason="needs GNU grep")
def test_context_rows_agree_with_grep(tmp_path: Path) -> None:
    rng = random.Random(3)
    lines = [("MATCH " if rng.random() < 0.06 else "other ") + str(number) for number in range(2_000)]
    log = tmp_path / "pod.log"
    log.write_text("\n".join(lines) + "\n")
    output = subprocess.run(
        ["grep", "-n", "-C", "3", "MATCH", str(log)], capture_output=True, text=True, check=True
    ).stdout
    expected = [None if row == "--" else int(re.split(r"[:-]", row, maxsplit=1)[0]) - 1 for row in output.splitlines()]
    store = make_store(lines)
    assert context_rows(store.find_lines(compile_search("MATCH", ignore_case=False)), 3, 0, 2_000) == expected


# -- saving --------------------------------------------------------------------------------------------------


def test_save_writes_lines_as_shown(tmp_path: Path) -> None:
    store = LogStore()
    store.append("2024-05-01T10:11:12.5Z first\nplain second\n\x1b[31mthird\x1b[0m\n")
    with_timestamps = tmp_path / "with.log"
    assert store.save(with_timestamps, timestamps=True) == 3
    assert with_timestamps.read_text() == "2024-05-01T10:11:12.5Z first\nplain second\nthird\n"
    without = tmp_path / "without.log"
    store.save(without, timestamps=False)
    assert without.read_text() == "first\nplain second\nthird\n"


def test_save_context_rows_and_never_overwrites(tmp_path: Path) -> None:
    store = make_store([f"line {number}" for number in range(10)])
    path = tmp_path / "context.log"
    assert store.save(path, timestamps=False, rows=[0, 1, None, 8]) == 4
    assert path.read_text() == f"line 0\nline 1\n{CONTEXT_SEPARATOR}\nline 8\n"
    with pytest.raises(FileExistsError):
        store.save(path, timestamps=False)


def test_save_path_is_safe_and_unique(tmp_path: Path) -> None:
    when = datetime(2024, 5, 1, 10, 11, 12)
    first = save_path(tmp_path, "../../etc/nimify-api-7d9f [previous]", when)
    assert first.parent == tmp_path
    assert first.name == "etc_nimify-api-7d9f_previous-20240501-101112.log"
    first.write_text("")
    second = save_path(tmp_path, "../../etc/nimify-api-7d9f [previous]", when)
    assert second.name == "etc_nimify-api-7d9f_previous-20240501-101112-1.log"
    assert save_path(tmp_path, "\x1b[31m", when).name.startswith("31m-")
    assert save_path(tmp_path, "///", when).name == "logs-20240501-101112.log"
