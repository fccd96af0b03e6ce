"""Colours and words that mean one thing each: orange is the focus and only the focus, stale panes have a colour
and a word of their own, the cursor on a faulty row stays readable, an outage that ended is said as such (dim),
and the runbook pane's border turns from crimson once every check passes."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from rich.color import Color as RichColor
from rich.segment import Segment
from rich.text import Text
from textual.app import App, ComposeResult
from textual.color import Color
from textual.geometry import Region
from textual.widgets import Static

from nimify_tui.config import load_settings
from nimify_tui.kube.client import KubeClient
from nimify_tui.live.runtime import RuntimeOptions
from nimify_tui.sim.server import SimThread
from nimify_tui.triage.outages import Outage
from nimify_tui.ui.app import NimifyApp
from nimify_tui.ui.panes.header import HeaderInfo, StatusHeader, render_header
from nimify_tui.ui.panes.nodes import NodesPane
from nimify_tui.ui.panes.pods import PodsPane
from nimify_tui.ui.panes.runbook import RunbookPane
from nimify_tui.ui.screens.action import ActionScreen
from nimify_tui.ui.screens.main import MainScreen
from nimify_tui.ui.widgets.record_table import RecordTable

from ..faulty_proxy import FaultyProxy, faulty_proxy, write_proxy_kubeconfig
from .conftest import FAST, until

SIZE = (160, 45)
FAULTY_STATES = ("CrashLoopBackOff", "OOMKilled", "Error")


def border_colour(widget: object) -> Color:
    return widget.styles.border_top[1]  # type: ignore[attr-defined,no-any-return]


def title_of(widget: object) -> str:
    """The border title as read on screen (Textual keeps it as markup)."""
    return Text.from_markup(str(widget.border_title)).plain  # type: ignore[attr-defined]


def theme_colour(app: NimifyApp, name: str) -> Color:
    return Color.parse(app.get_css_variables()[name])


# --- stale is not focus ---------------------------------------------------------------------------------


@pytest.fixture
def proxy(healthy_sim: SimThread) -> Iterator[FaultyProxy]:
    with faulty_proxy(healthy_sim.url) as running:
        yield running


def proxied_app(proxy: FaultyProxy, token: str, folder: Path) -> NimifyApp:
    path = write_proxy_kubeconfig(proxy, token, folder / "proxied")
    settings = load_settings({}, {}, None)
    return NimifyApp(
        KubeClient.from_kubeconfig(str(path)),
        settings,
        policy=settings.context_policy("via-proxy"),
        runtime_options=RuntimeOptions(**{**FAST.__dict__}),
        record_journal=False,
    )


async def test_a_stale_pane_has_its_own_colour_and_says_stale(
    healthy_sim: SimThread, proxy: FaultyProxy, tmp_path: Path
) -> None:
    app = proxied_app(proxy, healthy_sim.admin_token, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        pods, nodes = app.screen.query_one(PodsPane), app.screen.query_one(NodesPane)
        await until(pilot, lambda: pods.table.row_count > 0 and nodes.table.row_count > 0, "pods and nodes")
        accent = theme_colour(app, "accent")
        await until(pilot, lambda: pods.has_class("-active") and border_colour(pods) == accent, "pods focused")
        assert pods.styles.border_top[0] == "round", "fresh and focused"
        assert border_colour(nodes) != accent, "fresh and not focused: not orange"
        proxy.go_away()
        await until(pilot, lambda: pods.has_class("-stale") and nodes.has_class("-stale"), "both panes stale")
        await pilot.press("3")
        assert nodes.has_class("-active") and not pods.has_class("-active")
        await until(pilot, lambda: border_colour(nodes) == accent, "the focus colour on the nodes pane")
        assert border_colour(nodes) == accent, "the focused pane keeps the focus colour while stale"
        assert nodes.styles.border_top[0] == "dashed", "and the dashes say stale"
        stale_colour = border_colour(pods)
        assert stale_colour != accent, "a stale pane without the focus does not look focused"
        assert stale_colour != theme_colour(app, "warning"), "nor warning-orange, the same as the accent here"
        assert pods.styles.border_top[0] == "dashed"
        await until(pilot, lambda: re.match(r"stale \d+s · Pods", title_of(pods)), "the word first in the title")
        proxy.come_back()
        await until(pilot, lambda: not pods.has_class("-stale"), "fresh again", timeout_s=15)
        await until(pilot, lambda: "stale" not in title_of(pods), "the word gone")
        assert border_colour(pods) != stale_colour and pods.styles.border_top[0] == "round"


# --- the cursor on a faulty row -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def crashloop_sim() -> Iterator[SimThread]:
    with SimThread(scenario="crashloop-oom") as sim:
        yield sim


def luminance(rgb: tuple[int, int, int]) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(v) for v in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    """WCAG's contrast ratio: 1 (none) to 21 (black on white)."""
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def shown_colours(app: NimifyApp, segment: Segment) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    """The text's and the background's colours as the terminal shows them (ANSI colours in the app's theme,
    reverse video applied)."""
    style = segment.style
    assert style is not None
    theme = app.ansi_theme

    def rgb(color: RichColor | None, default: tuple[int, int, int]) -> tuple[int, int, int]:
        return default if color is None else tuple(color.get_truecolor(theme))  # type: ignore[return-value]

    fg = rgb(style.color, tuple(theme.foreground_color))  # type: ignore[arg-type]
    bg = rgb(style.bgcolor, tuple(theme.background_color))  # type: ignore[arg-type]
    return (bg, fg) if style.reverse else (fg, bg)


def cursor_line(app: NimifyApp, table: RecordTable) -> Segment:
    strip = table.render_lines(Region(0, 1 + table.cursor_row - round(table.scroll_y), table.size.width, 1))[0]
    text = next(s for s in strip if s.text.strip())
    return text


async def test_the_cursor_on_a_faulty_row_reads_with_good_contrast(
    crashloop_sim: SimThread, app_factory: Callable[..., NimifyApp]
) -> None:
    app = app_factory(crashloop_sim)
    async with app.run_test(size=SIZE) as pilot:
        pods = app.screen.query_one(PodsPane)
        table = pods.table
        await until(
            pilot, lambda: table.row_count and any(s in table.get_row_at(0) for s in FAULTY_STATES), "a faulty pod"
        )
        table.focus()
        table.move_cursor(row=0)
        await pilot.pause()
        assert table.row_at(0).style, "the faulty row has a colour of its own"
        fg, bg = shown_colours(app, cursor_line(app, table))
        assert contrast(fg, bg) >= 4.5, f"focused cursor on a faulty row: {fg} on {bg}"
        await pilot.press("3")  # the table loses the focus: its cursor stays, dimmer
        await pilot.pause()
        fg, bg = shown_colours(app, cursor_line(app, table))
        assert contrast(fg, bg) >= 3.0, f"unfocused cursor on a faulty row: {fg} on {bg}"


# --- the header once the outage is over -----------------------------------------------------------------


def header_text(app: NimifyApp) -> Text:
    content = app.screen.query_one(StatusHeader).content
    assert isinstance(content, Text)
    return content


def style_at(text: Text, index: int) -> str:
    return " ".join(str(span.style) for span in text.spans if span.start <= index < span.end)


async def test_an_outage_that_ended_is_named_dim_with_its_span_not_red(
    sim_factory: Callable[..., SimThread], app_factory: Callable[..., NimifyApp]
) -> None:
    sim = sim_factory(scenario="database-down", speed=10.0)
    app = app_factory(sim)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: " failing since " in header_text(app).plain, "the outage in the header")
        failing = header_text(app)
        at = failing.plain.index(" failing since ")
        assert "red" in style_at(failing, at + 1)
        await until(pilot, lambda: "f: scale" in str(app.screen.query_one(RunbookPane).content), "the fix offered")
        await pilot.press("f")
        screen = await until(pilot, lambda: isinstance(app.screen, ActionScreen) and app.screen, "the dialog")
        await until(pilot, lambda: screen.state == "confirming", "the dry run", timeout_s=15)
        await pilot.press("y")
        await until(pilot, lambda: screen.state == "done", "the scale applied", timeout_s=15)
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)
        await until(pilot, lambda: app.header_info().last_outage is not None, "the outage over", timeout_s=40)
        await until(pilot, lambda: "last outage" in header_text(app).plain, "the header redrawn")
        text = header_text(app)
        match = re.search(
            r" last outage (\d\d:\d\d(?:-\d\d:\d\d)?) UTC \((\d+m?\d*s?)\), recovered (\d+s) ago ", text.plain
        )
        assert match, text.plain
        assert "failing" not in text.plain and "first failure" not in text.plain
        styles = style_at(text, match.start() + 1)
        assert "dim" in styles and "red" not in styles, styles
        assert app.header_info().overall != "DOWN"


def test_the_header_says_since_when_it_fails_then_the_last_outage_and_its_length() -> None:
    start = 1_767_880_930.0  # 2026-01-08T14:02:10Z
    base = HeaderInfo("ctx", "cluster", "ns", "DOWN", start, None, False, None)
    failing = render_header(HeaderInfo(**{**base.__dict__, "failing_since": start}), start + 94)
    assert " failing since 14:02 UTC (94s) " in failing.plain
    assert "red" in style_at(failing, failing.plain.index("failing"))
    over = HeaderInfo(**{**base.__dict__, "overall": "OK", "last_outage": Outage(start, start + 130)})
    text = render_header(over, start + 224)
    assert " last outage 14:02-14:04 UTC (2m10s), recovered 94s ago " in text.plain
    styles = style_at(text, text.plain.index("last outage"))
    assert "dim" in styles and "red" not in styles
    assert "first failure" not in text.plain, "the outage now, or the last one: not the session's first failure"
    short = render_header(HeaderInfo(**{**over.__dict__, "last_outage": Outage(start, start + 20)}), start + 30)
    assert " last outage 14:02 UTC (20s), recovered 10s ago " in short.plain


# --- the runbook pane's border --------------------------------------------------------------------------


class RunbookBorder(App[None]):
    """The app's stylesheet over a stand-in for the runbook pane (the pane itself sets -all-pass)."""

    CSS_PATH = NimifyApp.CSS_PATH

    def compose(self) -> ComposeResult:
        yield Static("✔ 20/20 runbook checks pass", id="runbook-pane", classes="pane")


async def test_the_runbook_border_is_not_crimson_when_all_checks_pass() -> None:
    app = RunbookBorder()
    async with app.run_test(size=(80, 10)) as pilot:
        pane = app.query_one("#runbook-pane")
        variables = app.get_css_variables()
        assert border_colour(pane) == Color.parse(variables["error-darken-1"]), "crimson while checks fail"
        pane.add_class("-all-pass")
        await pilot.pause()
        assert border_colour(pane) == Color.parse(variables["success-darken-1"])
