"""The log viewer, driven with Textual's Pilot in a tiny host app, and once in a real pseudo-terminal."""

from __future__ import annotations

import os
import re
import select
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from rich.segment import Segment
from rich.style import Style
from textual.app import App, ComposeResult
from textual.message import Message
from textual.widgets import Button, Input, Static

from nimify_tui.ui.widgets.log_view import LogLines, LogStatus, LogView

REPO = Path(__file__).resolve().parents[2]
SIZE = (80, 24)


class Host(App[None]):
    """A screen with nothing but a log view (and a button, to take the focus away)."""

    def __init__(self, preload: str = "", **view_options: Any) -> None:
        super().__init__()
        self.view = LogView("nimify-api-7d9f8b6c4-x2x9z", **view_options)
        self.view.append_text(preload)
        self.received: list[Message] = []

    def compose(self) -> ComposeResult:
        yield Button("elsewhere", compact=True)
        yield self.view

    def on_log_lines_status_changed(self, event: LogLines.StatusChanged) -> None:
        self.received.append(event)

    def on_log_view_saved(self, event: LogView.Saved) -> None:
        self.received.append(event)


async def until(pilot: Any, condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Let the app run until `condition` holds; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await pilot.pause()


def rows(lines: LogLines) -> list[str]:
    """The text of every visible row."""
    return [lines.render_line(y).text.rstrip() for y in range(lines.scrollable_content_region.height)]


def numbered(count: int, start: int = 0) -> str:
    return "".join(f"line {number}\n" for number in range(start, start + count))


async def started(pilot: Any, text: str, count: int) -> LogLines:
    view: LogView = pilot.app.query_one(LogView)
    view.focus()
    view.append_text(text)
    await until(pilot, lambda: view.log_lines.status.lines == count and view.log_lines.has_focus)
    return view.log_lines


def static_text(app: App[None], selector: str) -> str:
    return str(app.query_one(selector, Static).render())


# -- feeding -------------------------------------------------------------------------------------------------


async def test_lines_appended_before_mounting_are_shown_and_focus_goes_to_the_lines() -> None:
    app = Host(preload="early line\n")
    async with app.run_test(size=SIZE) as pilot:
        lines = app.view.log_lines
        await until(pilot, lambda: lines.status.lines == 1)
        assert rows(lines)[0] == "early line"
        assert not lines.has_focus
        app.view.focus()
        await until(pilot, lambda: lines.has_focus)


async def test_chunks_become_lines() -> None:
    app = Host()
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(LogView)
        view.append_text("first li")
        view.append_text(b"ne\r\nsecond\n")
        view.append_lines(["third", b"fourth \xff"])
        view.append_text("no newline yet")
        await until(pilot, lambda: view.log_lines.status.lines == 4)
        assert rows(view.log_lines)[:5] == ["first line", "second", "third", "fourth \ufffd", ""]
        view.flush()
        await until(pilot, lambda: view.log_lines.status.lines == 5)
        assert rows(view.log_lines)[4] == "no newline yet"


async def test_clear_empties_the_view() -> None:
    app = Host()
    async with app.run_test(size=SIZE) as pilot:
        lines = await started(pilot, numbered(50), 50)
        app.query_one(LogView).clear()
        await pilot.pause()
        assert lines.status.lines == 0
        assert set(rows(lines)) == {""}
        app.query_one(LogView).append_text("after clear\n")
        await until(pilot, lambda: lines.status.lines == 1)
        assert rows(lines)[0] == "after clear"


async def test_line_cap_drops_the_oldest_and_keeps_the_paused_view_still() -> None:
    app = Host(max_lines=100)
    async with app.run_test(size=SIZE) as pilot:
        lines = await started(pilot, numbered(100), 100)
        await pilot.press("home")
        await until(pilot, lambda: lines.scroll_y == 0)
        assert not lines.follow
        lines.scroll_to(y=30, animate=False)
        assert rows(lines)[0] == "line 30"
        app.query_one(LogView).append_text(numbered(20, start=100))
        await until(pilot, lambda: lines.store.first_number == 20 and lines.scroll_y == 10)
        assert lines.status.lines == 100
        assert rows(lines)[0] == "line 30"


async def test_more_lines_move_the_scrollbar_and_a_wider_line_brings_the_horizontal_one() -> None:
    """More lines of the same width change only the scroll range (the scrollbar is updated in place, the screen
    not laid out again); a line wider than the view still brings the horizontal scrollbar."""
    app = Host()
    async with app.run_test(size=SIZE) as pilot:
        lines = await started(pilot, numbered(50), 50)
        view = app.query_one(LogView)
        view.append_lines([f"line {number}" for number in range(50, 100)])
        await until(pilot, lambda: lines.status.lines == 100)
        await pilot.pause()
        scrollbar = lines.vertical_scrollbar
        assert lines.virtual_size.height == 100
        assert scrollbar.window_virtual_size == 100
        assert lines.follow and lines.scroll_y == lines.max_scroll_y > 0
        assert scrollbar.position == lines.scroll_y
        assert rows(lines)[-1] == "line 99"
        assert not lines.show_horizontal_scrollbar
        view.append_lines(["x" * 200])
        await until(pilot, lambda: lines.show_horizontal_scrollbar)
        await pilot.pause()
        assert rows(lines)[-1].startswith("xxxx")


# -- literal text --------------------------------------------------------------------------------------------


async def test_markup_looking_text_is_shown_literally() -> None:
    hostile = [
        "[bold red]x[/]",
        "[link=https://example.com]click[/link]",
        "[@click=app.quit]quit[/]",
        "[b]unclosed",
    ]
    app = Host()
    async with app.run_test(size=SIZE) as pilot:
        lines = await started(pilot, "".join(f"{line}\n" for line in hostile), len(hostile))
        assert rows(lines)[: len(hostile)] == hostile
        for y in range(len(hostile)):
            for segment in lines.render_line(y):
                style = segment.style
                assert style is None or (not style.link and not style.bold and not style.meta)
        app.query_one(LogView).set_title("[bold]pod[/bold] [link=https://example.com]x[/link]")
        await pilot.pause()
        assert static_text(app, "#log-title") == "[bold]pod[/bold] [link=https://example.com]x[/link]"


async def test_escape_sequences_are_not_in_rendered_rows() -> None:
    app = Host()
    async with app.run_test(size=SIZE) as pilot:
        text = "\x1b[31mred\x1b[0m\n\x1b]0;pwned\x07title gone\n\x1b[2Jclear gone\nbell\x07 \x9b2J\n"
        lines = await started(pilot, text, 4)
        assert rows(lines)[:4] == ["red", "title gone", "clear gone", "bell␇"]
        for y in range(4):
            assert not re.search(r"[\x00-\x1f\x7f-\x9f]", lines.render_line(y).text)


HOST_IN_A_TERMINAL = """
from textual.app import App
from nimify_tui.ui.widgets.log_view import LogLines, LogView

HOSTILE = (
    "visible-marker \\x1b[31mred\\x1b[0m\\n"
    "\\x1b]0;pwned-title\\x07after-title\\n"
    "\\x1b]8;;https://pwned.example\\x1b\\\\link-label\\x1b]8;;\\x1b\\\\\\n"
    "\\x1b[2Jafter-clear\\x1b[H\\x1bc\\n"
    "\\x9b2J\\x9d0;pwned-c1\\x9c bell\\x07\\n"
    "[bold red]x[/] [link=https://example.com]y[/link]\\n"
)


class Host(App):
    def compose(self):
        yield LogView("[b]title[/b] \\x1b]0;pwned-header\\x07")

    def on_mount(self):
        self.query_one(LogView).append_text(HOSTILE)

    def on_log_lines_status_changed(self, event: LogLines.StatusChanged):
        if event.status.lines == 6:
            self.call_after_refresh(self.call_after_refresh, self.exit)


Host().run()
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs a Linux pseudo-terminal")
def test_escape_sequences_never_reach_a_real_terminal(tmp_path: Path) -> None:
    import fcntl
    import struct
    import termios

    script = tmp_path / "host.py"
    script.write_text(HOST_IN_A_TERMINAL)
    controller, terminal = os.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    environment = {**os.environ, "TERM": "xterm-256color", "PYTHONPATH": str(REPO), "COLORTERM": "truecolor"}
    environment.pop("TEXTUAL", None)
    process = subprocess.Popen(
        [sys.executable, str(script)], stdin=terminal, stdout=terminal, stderr=terminal, env=environment
    )
    os.close(terminal)
    output = bytearray()
    deadline = time.monotonic() + 30
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([controller], [], [], 0.5)
            if ready:
                try:
                    data = os.read(controller, 65536)
                except OSError:
                    break
                if not data:
                    break
                output += data
            elif process.poll() is not None:
                break
        assert process.wait(timeout=10) == 0, output.decode(errors="replace")[-2000:]
    finally:
        if process.poll() is None:
            process.kill()
        os.close(controller)
    # Textual itself sets the pointer shape (operating system command 22); take those out, nothing else.
    shown = re.sub(r"\x1b\]22;[a-z-]*\x07", "", output.decode("utf-8", errors="replace"))
    expected = ["visible-marker", "red", "after-title", "link-label", "after-clear", "[b]title[/b]"]
    expected += ["[bold red]x[/]", "[link=https://example.com]y[/link]"]
    for text in expected:
        assert text in shown
    assert "pwned" not in shown
    assert "\x1b]" not in shown, "an operating system command (title, hyperlink) reached the terminal"
    assert "\x1b[2J" not in shown
    assert "\x1bc" not in shown
    assert "\x07" not in shown
    assert not re.search("[\x80-\x9f]", shown)


# -- follow --------------------------------------------------------------------------------------------------


async def test_follow_pauses_when_scrolled_up_and_resumes_with_keys() -> None:
    app = Host()
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(LogView)
        lines = await started(pilot, numbered(200), 200)
        assert lines.follow
        assert lines.scroll_y == lines.max_scroll_y > 0
        assert rows(lines)[-1] == "line 199"

        await pilot.press("up")
        await until(pilot, lambda: not lines.follow)
        paused_at = lines.scroll_y
        assert paused_at < lines.max_scroll_y
        view.append_text(numbered(50, start=200))
        await until(pilot, lambda: lines.status.lines == 250)
        assert lines.scroll_y == paused_at
        assert "follow off" in static_text(app, "#log-status")

        await pilot.press("G")
        await until(pilot, lambda: lines.follow)
        assert lines.scroll_y == lines.max_scroll_y
        assert rows(lines)[-1] == "line 249"

        await pilot.press("s")
        assert not lines.follow
        view.append_text(numbered(10, start=250))
        await until(pilot, lambda: lines.status.lines == 260)
        assert lines.scroll_y < lines.max_scroll_y
        await pilot.press("s")
        await until(pilot, lambda: lines.scroll_y == lines.max_scroll_y)
        assert lines.follow

        await pilot.press("pageup", "end")
        await until(pilot, lambda: lines.follow and lines.scroll_y == lines.max_scroll_y)
        view.append_text(numbered(5, start=260))
        await until(pilot, lambda: rows(lines)[-1] == "line 264")
        assert "follow on" in static_text(app, "#log-status")


# -- wrap and timestamps -------------------------------------------------------------------------------------


async def test_wrap_toggle() -> None:
    long_line = "".join(f"{number:04d}|" for number in range(40))
    app = Host()
    async with app.run_test(size=SIZE) as pilot:
        lines = await started(pilot, f"short\n{long_line}\nafter\n", 3)
        width = lines.scrollable_content_region.width
        assert lines.virtual_size.width == len(long_line)
        assert rows(lines)[:3] == ["short", long_line[: lines.container_size.width], "after"]

        await pilot.press("w")
        await pilot.pause()
        assert lines.wrap
        assert lines.virtual_size.height == 2 + -(-len(long_line) // width)
        shown = rows(lines)
        pieces = shown[1 : 1 + -(-len(long_line) // width)]
        assert "".join(pieces) == long_line
        assert all(len(piece) <= width for piece in pieces)
        assert shown[1 + len(pieces)] == "after"
        assert "wrap on" in static_text(app, "#log-status")

        await pilot.press("w")
        await pilot.pause()
        assert rows(lines)[:3] == ["short", long_line[: lines.container_size.width], "after"]


async def test_wrapped_lines_rewrap_when_the_terminal_is_resized() -> None:
    long_line = "".join(f"{number:04d}|" for number in range(40))
    app = Host()
    async with app.run_test(size=SIZE) as pilot:
        lines = await started(pilot, f"{long_line}\nlast\n", 2)
        await pilot.press("w")
        await pilot.resize_terminal(50, 20)
        await until(pilot, lambda: lines.scrollable_content_region.width == 49)
        await until(pilot, lambda: lines.virtual_size.height == 1 + -(-len(long_line) // 49))
        pieces = [piece for piece in rows(lines) if piece][:-1]
        assert "".join(pieces) == long_line
        assert max(map(len, pieces)) == 49
        assert rows(lines)[len(pieces)] == "last"


async def test_wrapped_view_keeps_following_while_the_oldest_lines_drop() -> None:
    app = Host(max_lines=50)
    async with app.run_test(size=SIZE) as pilot:
        lines = await started(pilot, numbered(10), 10)
        await pilot.press("w")
        width = lines.scrollable_content_region.width
        long_lines = "".join(f"{number:03d}" + "=" * (2 * width) + "end\n" for number in range(10, 210))
        app.view.append_text(long_lines)
        await until(pilot, lambda: lines.store.first_number == 160 and lines.status.lines == 50)
        assert lines.virtual_size.height == 50 * 3
        assert lines.scroll_y == lines.max_scroll_y
        assert rows(lines)[-1].endswith("=end")
        assert rows(lines)[-3].startswith("209=")
        await pilot.press("home")
        await until(pilot, lambda: lines.scroll_y == 0)
        assert rows(lines)[0].startswith("160=")


async def test_lines_streamed_into_a_wrapped_view_take_the_rows_a_relayout_gives_them() -> None:
    """Lines taken in while wrapped (counted a batch at a time) fill the rows that laying the view out again (line
    by line) gives them, timestamps shown or not: lengths around the width, where one cell more is one row more."""
    app = Host()
    async with app.run_test(size=SIZE) as pilot:
        lines = await started(pilot, numbered(3), 3)
        await pilot.press("w")
        width = lines.scrollable_content_region.width
        stamp = "2026-12-07T12:00:00.123456789Z"
        for timestamps in (False, True):
            if timestamps:
                await pilot.press("t")
            before = lines.status.lines
            batch = [f"{stamp} {'x' * (width - len(stamp) - 3 + extra)}".encode() for extra in range(5)]
            batch += [f"{stamp} {'y' * (width - 3 + extra)}".encode() for extra in range(5)]
            app.view.append_lines(batch)
            expected = before + len(batch)
            await until(pilot, lambda expected=expected: lines.status.lines == expected)
            streamed = lines.virtual_size.height
            await pilot.press("w", "w")  # wrap off and on: every line's rows counted again
            await pilot.pause()
            assert lines.virtual_size.height == streamed, f"timestamps {'on' if timestamps else 'off'}"


async def test_wrap_counts_wide_characters_by_cells() -> None:
    app = Host()
    async with app.run_test(size=SIZE) as pilot:
        wide = "模型" * 60
        lines = await started(pilot, f"{wide}\n", 1)
        await pilot.press("w")
        await pilot.pause()
        width = lines.scrollable_content_region.width
        pieces = [piece for piece in rows(lines) if piece]
        assert "".join(pieces) == wide
        assert len(pieces) == -(-240 // (width - width % 2))


async def test_timestamps_toggle() -> None:
    app = Host()
    async with app.run_test(size=SIZE) as pilot:
        text = "2024-05-01T10:11:12.123456789Z I0501 server.cc:674] started GRPCInferenceService\nplain\n"
        lines = await started(pilot, text, 2)
        assert rows(lines)[:2] == ["I0501 server.cc:674] started GRPCInferenceService", "plain"]
        await pilot.press("t")
        await pilot.pause()
        assert rows(lines)[:2] == [
            "2024-05-01T10:11:12.123456789Z I0501 server.cc:674] started GRPCInferenceService",
            "plain",
        ]
        assert "timestamps on" in static_text(app, "#log-status")
        await pilot.press("t")
        await pilot.pause()
        assert rows(lines)[0] == "I0501 server.cc:674] started GRPCInferenceService"


# -- search --------------------------------------------------------------------------------------------------


def oom_log(count: int = 300, every: int = 37) -> str:
    return "".join(
        f"{number} CUDA error: out of memory\n" if number % every == 0 else f"{number} infer ok\n"
        for number in range(count)
    )


def has_background(segment: Segment, style: Style) -> bool:
    return segment.style is not None and segment.style.bgcolor == style.bgcolor


async def search_for(pilot: Any, query: str) -> None:
    await pilot.press("slash")
    search = pilot.app.query_one("#log-search", Input)
    await until(pilot, lambda: search.has_focus)
    search.value = query
    await pilot.press("enter")


async def test_search_centres_and_highlights_matches_and_steps_with_n() -> None:
    app = Host()
    async with app.run_test(size=SIZE) as pilot:
        lines = await started(pilot, oom_log(), 300)
        await pilot.press("home")
        await until(pilot, lambda: lines.scroll_y == 0)
        await search_for(pilot, "OUT OF memory")
        await until(pilot, lambda: lines.status.query == "OUT OF memory")
        assert lines.matches == [0, 37, 74, 111, 148, 185, 222, 259, 296]
        assert lines.status.match_index == 0
        assert "match 1/9" in static_text(app, "#log-status")
        assert lines.has_focus

        await pilot.press("n", "n")
        assert lines.current_match_line == 74
        height = lines.scrollable_content_region.height
        centre = height // 2
        assert lines.scroll_y == 74 - centre
        assert rows(lines)[centre] == "74 CUDA error: out of memory"
        current = lines.get_component_rich_style("log-lines--current-match", partial=True)
        highlighted = [segment.text for segment in lines.render_line(centre) if has_background(segment, current)]
        assert highlighted == ["out of memory"]
        assert "match 3/9" in static_text(app, "#log-status")
        lines.scroll_to(y=30, animate=False)
        other = lines.get_component_rich_style("log-lines--match", partial=True)
        assert rows(lines)[7] == "37 CUDA error: out of memory"
        assert [segment.text for segment in lines.render_line(7) if has_background(segment, other)] == ["out of memory"]
        assert not any(has_background(segment, other) for segment in lines.render_line(8))

        await pilot.press("N", "N", "N")
        assert lines.current_match_line == 296
        assert "match 9/9" in static_text(app, "#log-status")
        assert not lines.follow


async def test_a_match_far_to_the_right_scrolls_into_view() -> None:
    app = Host()
    async with app.run_test(size=SIZE) as pilot:
        far = "." * 150 + "needle" + "." * 20
        lines = await started(pilot, f"first\n{far}\nlast\n", 3)
        await search_for(pilot, "needle")
        await until(pilot, lambda: lines.current_match_line == 1)
        assert 150 + 6 - lines.container_size.width < lines.scroll_x <= 150
        assert "needle" in lines.render_line(1).text


async def test_search_is_a_regex_and_a_bad_one_is_searched_literally() -> None:
    app = Host()
    async with app.run_test(size=SIZE) as pilot:
        lines = await started(pilot, "GET /health 200\nPOST /v1/predict 503\nPOST /v1/predict(200\n", 3)
        await search_for(pilot, r"\b5\d\d$")
        await until(pilot, lambda: lines.status.match_count == 1)
        assert lines.current_match_line == 1

        await search_for(pilot, "predict(")  # not a regex: the literal text, with a note saying so
        search = app.query_one("#log-search", Input)
        await until(pilot, lambda: lines.status.query == "predict(")
        assert "not a regex" in static_text(app, "#log-status")
        assert "matching literally" in static_text(app, "#log-status")
        assert lines.matches == [2]
        await until(pilot, lambda: lines.has_focus)
        assert not search.display

        await search_for(pilot, "")
        await until(pilot, lambda: lines.status.query == "")
        assert lines.matches == []


async def test_new_lines_are_searched_as_they_arrive() -> None:
    app = Host()
    async with app.run_test(size=SIZE) as pilot:
        lines = await started(pilot, oom_log(100), 100)
        await search_for(pilot, "out of memory")
        await until(pilot, lambda: lines.status.match_count == 3)
        app.query_one(LogView).append_text(oom_log(300)[len(oom_log(100)) :])
        await until(pilot, lambda: lines.status.lines == 300)
        assert lines.status.match_count == 9


async def test_context_view_shows_matches_with_three_lines_around() -> None:
    app = Host()
    async with app.run_test(size=SIZE) as pilot:
        lines = await started(pilot, oom_log(100, every=40), 100)
        await pilot.press("c")
        await pilot.pause()
        assert not lines.context
        await search_for(pilot, "out of memory")
        await until(pilot, lambda: lines.status.match_count == 3)
        await pilot.press("c")
        await pilot.pause()
        assert lines.context
        expected = [
            "0 CUDA error: out of memory",
            "1 infer ok",
            "2 infer ok",
            "3 infer ok",
            "--",
            "37 infer ok",
            "38 infer ok",
            "39 infer ok",
            "40 CUDA error: out of memory",
            "41 infer ok",
            "42 infer ok",
            "43 infer ok",
            "--",
            "77 infer ok",
            "78 infer ok",
            "79 infer ok",
            "80 CUDA error: out of memory",
            "81 infer ok",
            "82 infer ok",
            "83 infer ok",
        ]
        lines.scroll_to(y=0, animate=False)
        assert lines.virtual_size.height == len(expected)
        assert rows(lines)[: len(expected)] == expected
        assert "context ±3" in static_text(app, "#log-status")

        app.view.append_text("".join(f"{number} infer ok\n" for number in range(100, 119)))
        app.view.append_text("119 CUDA error: out of memory\n120 infer ok\n")
        await until(pilot, lambda: lines.status.lines == 121)
        assert lines.virtual_size.height == len(expected) + 6
        lines.scroll_to(y=lines.max_scroll_y, animate=False)
        assert rows(lines)[-6:] == [
            "--",
            "116 infer ok",
            "117 infer ok",
            "118 infer ok",
            "119 CUDA error: out of memory",
            "120 infer ok",
        ]

        await pilot.press("c")
        await pilot.pause()
        assert lines.virtual_size.height == 121


# -- saving --------------------------------------------------------------------------------------------------


async def test_save_writes_the_visible_buffer_and_says_where(tmp_path: Path) -> None:
    app = Host(save_folder=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        text = "2024-05-01T10:11:12.5Z \x1b[32mready\x1b[0m\n2024-05-01T10:11:13.5Z serving [bold]x[/]\n"
        await started(pilot, text, 2)
        await pilot.press("t", "ctrl+s")
        await until(pilot, lambda: any(isinstance(message, LogView.Saved) for message in app.received))
        saved = next(message for message in app.received if isinstance(message, LogView.Saved))
        assert saved.path.parent == tmp_path
        assert saved.path.name.startswith("nimify-api-7d9f8b6c4-x2x9z-")
        assert saved.line_count == 2
        assert saved.path.read_text() == ("2024-05-01T10:11:12.5Z ready\n2024-05-01T10:11:13.5Z serving [bold]x[/]\n")
        assert str(saved.path) in static_text(app, "#log-status")


async def test_save_in_context_view_writes_only_what_is_shown(tmp_path: Path) -> None:
    app = Host(save_folder=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, oom_log(30, every=20), 30)
        await search_for(pilot, "out of memory")
        await pilot.press("c", "ctrl+s")
        await until(pilot, lambda: any(isinstance(message, LogView.Saved) for message in app.received))
        saved = next(message for message in app.received if isinstance(message, LogView.Saved))
        written = saved.path.read_text().splitlines()
        assert written == [
            "0 CUDA error: out of memory",
            "1 infer ok",
            "2 infer ok",
            "3 infer ok",
            "--",
            "17 infer ok",
            "18 infer ok",
            "19 infer ok",
            "20 CUDA error: out of memory",
            "21 infer ok",
            "22 infer ok",
            "23 infer ok",
        ]


async def test_save_into_the_current_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    app = Host()
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, numbered(3), 3)
        await pilot.press("ctrl+s")
        await until(pilot, lambda: any(isinstance(message, LogView.Saved) for message in app.received))
    saved = list(tmp_path.glob("*.log"))
    assert len(saved) == 1
    assert saved[0].read_text() == numbered(3)


# -- status messages and scale -------------------------------------------------------------------------------


async def test_status_changes_are_posted() -> None:
    app = Host()
    async with app.run_test(size=SIZE) as pilot:
        lines = await started(pilot, numbered(30), 30)
        await pilot.press("w", "t")
        await until(pilot, lambda: lines.status.timestamps)
        statuses = [message.status for message in app.received if isinstance(message, LogLines.StatusChanged)]
        assert statuses[-1] == LogStatus(
            lines=30,
            follow=True,
            wrap=True,
            timestamps=True,
            context=False,
            query="",
            match_index=None,
            match_count=0,
        )
        assert any(status.lines == 30 and not status.wrap for status in statuses)


async def test_a_hundred_thousand_lines_scroll_to_the_right_rows() -> None:
    app = Host()
    async with app.run_test(size=SIZE) as pilot:
        lines = await started(pilot, numbered(100_000), 100_000)
        assert rows(lines)[-1] == "line 99999"
        await pilot.press("home")
        await until(pilot, lambda: lines.scroll_y == 0)
        assert rows(lines)[0] == "line 0"
        lines.scroll_to(y=54_321, animate=False)
        assert rows(lines)[0] == "line 54321"
        await pilot.press("pagedown")
        height = lines.scrollable_content_region.height
        await until(pilot, lambda: lines.scroll_y == 54_321 + height)
        assert rows(lines)[0] == f"line {54_321 + height}"
        await search_for(pilot, "line 77777")
        await until(pilot, lambda: lines.current_match_line == 77_777)
        assert rows(lines)[height // 2] == "line 77777"
