"""Describe, YAML and logs as a k9s user reads them at 80x24: the log view's keys in every text, little frame, one
rule for `/`, a logs title that does not contradict the status line, saved logs named after the pod; `q` goes back
on a sub-screen and asks on the main screen."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from textual.pilot import Pilot
from textual.widgets import Static

from nimify_tui.live.keys import PODS
from nimify_tui.sim.server import SimThread
from nimify_tui.ui.app import NimifyApp
from nimify_tui.ui.screens.help import HelpScreen
from nimify_tui.ui.screens.logs import LogsScreen
from nimify_tui.ui.screens.main import MainScreen
from nimify_tui.ui.screens.pod import PodScreen
from nimify_tui.ui.screens.quit_confirm import QuitConfirm
from nimify_tui.ui.widgets.log_view import LOADING, LogView
from nimify_tui.ui.widgets.record_table import RecordTable

from .conftest import drawn, until

SMALL = (80, 24)


async def open_pod_tab(pilot: Pilot[Any], app: NimifyApp, key: str) -> LogView:
    """From the main screen, `1` then `key` (d or y) on the first pod; the tab's text once loaded."""
    await until(pilot, lambda: app.runtime.store.items(PODS) and app.screen.query("#pods-table"), "pods")
    await until(pilot, lambda: app.screen.query_one("#pods-table", RecordTable).selected_key, "a selected pod")
    await pilot.press("1", key)
    screen = await until(pilot, lambda: isinstance(app.screen, PodScreen) and app.screen, "the pod screen")
    view = screen.view_of(screen.active_tab)
    await until(pilot, lambda: view.text not in ("", LOADING), "the text")
    await until(pilot, lambda: view.log_lines.has_focus, "the focus on the text")
    return view


async def test_describe_at_80x24_has_three_rows_of_frame_and_the_log_views_keys(
    healthy_sim: SimThread, app_factory: Callable[..., NimifyApp]
) -> None:
    app = app_factory(healthy_sim)
    async with app.run_test(size=SMALL) as pilot:
        view = await open_pod_tab(pilot, app, "d")
        lines = view.log_lines
        assert lines.region.height >= SMALL[1] - 3, f"{SMALL[1] - lines.region.height} rows of frame"
        assert lines.max_scroll_y > 0, "the describe is longer than the screen"

        await pilot.press("G")
        await until(pilot, lambda: lines.scroll_y == lines.max_scroll_y, "G to the end")
        await pilot.press("g")
        await until(pilot, lambda: lines.scroll_y == 0, "g to the top")
        await pilot.press("end")
        await until(pilot, lambda: lines.scroll_y == lines.max_scroll_y, "end to the end")
        await pilot.press("home")
        await until(pilot, lambda: lines.scroll_y == 0, "home to the top")

        await pilot.press("slash", *"^events:", "enter")
        await until(pilot, lambda: lines.status.match_count == 1, "the search's one match")
        number = lines.current_match_line
        assert number is not None and lines.store.line(number).text == "Events:"
        assert lines.scroll_y > 0, "the match scrolled into view"
        assert "match 1/1" in str(view.query_one("#log-status", Static).render())
        assert "follow" not in str(view.query_one("#log-status", Static).render()), "a describe follows nothing"


async def test_yaml_long_lines_scroll_sideways_or_wrap(
    healthy_sim: SimThread, app_factory: Callable[..., NimifyApp]
) -> None:
    app = app_factory(healthy_sim)
    async with app.run_test(size=SMALL) as pilot:
        view = await open_pod_tab(pilot, app, "y")
        assert isinstance(app.screen, PodScreen) and app.screen.active_tab == "yaml"
        lines = view.log_lines
        width = lines.scrollable_content_region.width
        longest = max(len(line) for line in view.text.split("\n"))
        assert longest > width, "the pod's YAML has lines wider than 80 columns"
        rows_unwrapped = lines.virtual_size.height

        await pilot.press("right", "right", "right")
        await until(pilot, lambda: lines.scroll_x == 3, "right scrolls sideways")
        await until(pilot, lambda: "from column 4" in str(view.query_one("#log-status", Static).render()), "column")
        await pilot.press("left", "left", "left")
        await until(pilot, lambda: lines.scroll_x == 0, "left scrolls back")

        await pilot.press("w")
        await until(pilot, lambda: lines.wrap and lines.virtual_size.height > rows_unwrapped, "wrapped rows")
        assert lines.virtual_size.width <= width


async def test_a_search_that_is_no_regex_is_matched_literally_with_a_note(
    healthy_sim: SimThread, app_factory: Callable[..., NimifyApp]
) -> None:
    app = app_factory(healthy_sim)
    async with app.run_test(size=SMALL) as pilot:
        view = await open_pod_tab(pilot, app, "y")
        lines = view.log_lines
        await pilot.press("slash", *"image: (", "enter")  # "(" alone is no regex
        await until(pilot, lambda: lines.status.query == "image: (", "the search")
        status = str(view.query_one("#log-status", Static).render())
        assert "not a regex" in status and "matching literally" in status
        await pilot.press("slash", *"kind: p.d", "enter")  # a regex: "." is any character
        await until(pilot, lambda: lines.status.query == "kind: p.d", "the regex search")
        number = lines.current_match_line
        assert number is not None and lines.store.line(number).text == "kind: Pod"


async def test_tabs_switch_with_brackets_and_reload_keeps_the_place(
    healthy_sim: SimThread, app_factory: Callable[..., NimifyApp]
) -> None:
    app = app_factory(healthy_sim)
    async with app.run_test(size=SMALL) as pilot:
        view = await open_pod_tab(pilot, app, "d")
        screen = app.screen
        assert isinstance(screen, PodScreen)
        await pilot.press("right_square_bracket")
        await until(pilot, lambda: screen.active_tab == "yaml" and screen.view_of("yaml").log_lines.has_focus, "]")
        await pilot.press("left_square_bracket")
        await until(pilot, lambda: screen.active_tab == "describe" and view.log_lines.has_focus, "[")
        await pilot.press("pagedown")
        await until(pilot, lambda: view.log_lines.scroll_y > 0, "a page down")
        top = view.log_lines.scroll_y
        before = view.log_lines.store.end_number
        await pilot.press("R")
        await until(pilot, lambda: view.log_lines.store.end_number > before, "the reloaded text")
        await until(pilot, lambda: view.log_lines.scroll_y == top, "the same place after the reload")


async def test_logs_title_leaves_following_to_the_status_and_ctrl_s_names_the_file_after_pod_and_container(
    healthy_sim: SimThread, app_factory: Callable[..., NimifyApp], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    app = app_factory(healthy_sim)
    async with app.run_test(size=SMALL) as pilot:
        await until(pilot, lambda: app.runtime.store.items(PODS), "pods")
        await until(pilot, lambda: app.screen.query_one("#pods-table", RecordTable).selected_key, "a selected pod")
        await pilot.press("1", "l")
        screen = await until(pilot, lambda: isinstance(app.screen, LogsScreen) and app.screen, "the logs")
        view = screen.query_one(LogView)
        await until(pilot, lambda: view.log_lines.status.lines > 0, "log lines")
        title = str(view.query_one("#log-title", Static).render())
        status = str(view.query_one("#log-status", Static).render())
        assert "follow" not in title, title
        assert screen.request.pod in title and screen.request.container in title
        assert "follow on" in status
        await pilot.press("s")
        await until(pilot, lambda: "follow off" in str(view.query_one("#log-status", Static).render()), "paused")
        assert "follow" not in str(view.query_one("#log-title", Static).render())

        await pilot.press("ctrl+s")
        saved = await until(pilot, lambda: list(tmp_path.glob("*.log")), "the saved file")
        name = f"{screen.request.pod}_{screen.request.container}"
        assert re.fullmatch(re.escape(name) + r"-\d{8}-\d{6}\.log", saved[0].name), saved[0].name


async def test_q_goes_back_on_sub_screens_and_asks_on_the_main_screen(
    healthy_sim: SimThread, app_factory: Callable[..., NimifyApp]
) -> None:
    app = app_factory(healthy_sim)
    async with app.run_test(size=SMALL) as pilot:
        await open_pod_tab(pilot, app, "d")
        await pilot.press("q")
        await until(pilot, lambda: isinstance(app.screen, MainScreen), "q back from the pod")
        await pilot.press("l")
        await until(pilot, lambda: isinstance(app.screen, LogsScreen), "the logs")
        await pilot.press("q")
        await until(pilot, lambda: isinstance(app.screen, MainScreen), "q back from the logs")

        await pilot.press("q")
        await until(pilot, lambda: isinstance(app.screen, QuitConfirm), "the question")
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, MainScreen), "any other key stays")
        assert app.is_running

        await pilot.press("ctrl+c")
        await until(pilot, lambda: isinstance(app.screen, QuitConfirm), "ctrl+c asks too")
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, MainScreen), "escape stays")
        assert app.is_running

        await pilot.press("q")
        await until(pilot, lambda: isinstance(app.screen, QuitConfirm), "the question again")
        await pilot.press("y")
        await until(pilot, lambda: not app.is_running, "y quits")
        assert app.return_code == 0


async def test_help_lists_the_text_views_keys_and_the_rule_of_slash(
    healthy_sim: SimThread, app_factory: Callable[..., NimifyApp]
) -> None:
    app = app_factory(healthy_sim)
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        console = Console(width=160, record=True, file=io.StringIO())
        for static in app.screen.query(Static):
            console.print(static.content)
        shown = console.export_text()
        assert "Describe, YAML, other tabs" in shown
        keys = ("[  Prev tab", "]  Next tab", "R  Reload", "/  Search", "w  Wrap", "n  Next match", "q  Quit/back")
        for line in keys:
            assert re.search(r"\s+".join(map(re.escape, line.split())), shown), line
        assert "one that does not compile is matched literally" in shown


async def test_the_help_headings_fit_one_line_at_80x24(
    healthy_sim: SimThread, app_factory: Callable[..., NimifyApp]
) -> None:
    app = app_factory(healthy_sim)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.pause()
        sections = list(app.screen.query(".help-section"))
        assert len(sections) >= 8
        for section in sections:
            title = str(section.content).split("\n")[0]  # type: ignore[attr-defined]
            first = drawn(section)[0].strip()
            assert first == title, f"the heading is cut or wraps: {first!r} of {title!r}"
