"""The runbook pane as an on-call engineer uses it: `0` (and Tab) focus it and the arrows scroll it, it takes the
rows its lines need and does not shrink back during an outage, `z` zooms a pane at 80x24, the footer puts the
focused pane's keys first, and a read-only session's hints name no key it cannot use."""

from __future__ import annotations

from collections.abc import Callable
from importlib.resources import files

from textual.app import App, ComposeResult
from textual.widgets import Static

from nimify_tui.sim.server import SimThread
from nimify_tui.triage.checks import Finding
from nimify_tui.ui.app import NimifyApp
from nimify_tui.ui.panes.health_strip import HealthStrip
from nimify_tui.ui.panes.pods import PodsPane
from nimify_tui.ui.panes.runbook import RunbookPane
from nimify_tui.ui.widgets.key_footer import KeyFooter

from .conftest import drawn, until


def failing(count: int) -> list[Finding]:
    return [Finding(f"c{i}", f"Check {i}", "fail", f"evidence {i}", "Scenario 1", f"fix {i}") for i in range(count)]


class RunbookOnly(App[None]):
    """The pane alone on a screen, shown what the test gives it (the app's triage would redraw it)."""

    CSS_PATH = str(files("nimify_tui.styles") / "app.tcss")

    def compose(self) -> ComposeResult:
        yield RunbookPane()
        yield Static("below", id="below")


async def test_the_arrows_scroll_what_does_not_fit_and_the_title_says_how_much_is_hidden() -> None:
    app = RunbookOnly()
    async with app.run_test(size=(160, 45)) as pilot:
        runbook = app.query_one(RunbookPane)
        runbook.show(failing(20))  # 40 lines: more than two fifths of 45 rows
        runbook.focus()
        await pilot.pause()
        rows = runbook.outer_size.height
        assert rows == (45 - 3) * 2 // 5, "two fifths of the screen below the header"
        assert runbook.border_subtitle.startswith(f"↓{40 - (rows - 2)} more")
        assert drawn(runbook)[1].strip("│ ").startswith("✖ Check 0")
        await pilot.press("down", "down")
        assert drawn(runbook)[1].strip("│ ").startswith("✖ Check 1"), "scrolled by two lines: the next check"
        assert runbook.border_subtitle.startswith("↑2 ")
        await pilot.press("end")
        assert drawn(runbook)[-2].strip("│ ").startswith("→ fix 19"), "the last line at the bottom"
        await pilot.press("home")
        assert drawn(runbook)[1].strip("│ ").startswith("✖ Check 0") and not runbook.border_subtitle.startswith("↑")


async def test_during_an_outage_the_pane_does_not_shrink_until_it_is_over() -> None:
    app = RunbookOnly()
    async with app.run_test(size=(160, 45)) as pilot:
        runbook = app.query_one(RunbookPane)
        runbook.show(failing(3))
        await pilot.pause()
        assert runbook.outer_size.height == 6 + 2, "the rows its six lines need"
        runbook.show(failing(1))
        await pilot.pause()
        assert runbook.outer_size.height == 8, "kept while checks still fail: the panes below do not jump"
        runbook.show([Finding("c0", "Check 0", "pass", "", "")])
        await pilot.pause()
        assert runbook.outer_size.height == 3 and runbook.has_class("-all-pass"), "over: one line, the border green"


async def test_0_and_shift_tab_focus_the_runbook_pane(
    healthy_sim: SimThread, app_factory: Callable[..., NimifyApp]
) -> None:
    app = app_factory(healthy_sim)
    async with app.run_test(size=(160, 45)) as pilot:
        runbook = app.screen.query_one(RunbookPane)
        await pilot.press("0")
        assert app.focused is runbook
        await pilot.press("1")
        assert app.focused is not runbook
        await pilot.press("shift+tab")
        assert app.focused is runbook, "the pane before the pods in the Tab order"


async def test_z_at_80x24_gives_the_pane_the_whole_screen_and_z_again_gives_it_back(
    sim_factory: Callable[..., SimThread], app_factory: Callable[..., NimifyApp]
) -> None:
    app = app_factory(sim_factory(scenario="crashloop-oom"))
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: str(app.screen.query_one(RunbookPane).content).startswith("▶ "), "the diagnosis")
        pods = app.screen.query_one(PodsPane)
        runbook, strip, body = (
            app.screen.query_one(RunbookPane),
            app.screen.query_one(HealthStrip),
            app.screen.query_one("#body"),
        )
        before = pods.size.height
        await pilot.press("z")
        # each step waits for its layout (a frame after the key): a pause alone raced it once under load
        await until(pilot, lambda: not runbook.display and not strip.display, "the runbook pane and strip hidden")
        await until(pilot, lambda: pods.size.height > before + 5, f"the pods pane taller than {before} + 5")
        await pilot.press("z")
        await until(pilot, lambda: runbook.display and strip.display, "the runbook pane and the health strip back")
        await until(pilot, lambda: pods.size.height < before + 5, "the pods pane back to its share")
        await pilot.press("0", "z")  # the runbook pane zoomed: the tables hidden
        await until(
            pilot, lambda: runbook.display and not body.display and runbook.size.height >= 24 - 4, "the runbook zoomed"
        )
        await pilot.press("escape")
        await until(pilot, lambda: body.display and runbook.outer_size.height <= 24 - 10, "back to its share")


async def test_a_read_only_session_says_why_a_remedy_key_does_nothing_and_the_hints_do_not_name_it(
    sim_factory: Callable[..., SimThread], app_factory: Callable[..., NimifyApp]
) -> None:
    app = app_factory(sim_factory(scenario="crashloop-oom"), cli={"readonly": True})
    async with app.run_test(size=(160, 45), notifications=True) as pilot:
        content = await until(
            pilot,
            lambda: "fix (not here: read-only)" in (text := str(app.screen.query_one(RunbookPane).content)) and text,
            "the fix named without its key",
        )
        assert "(m)" not in content and "(u)" not in content and "\n  f: " not in content
        footer = {key.key: key for key in app.screen.query_one(KeyFooter).keys}
        assert not footer["m"].enabled and not footer["s"].enabled, "dimmed"
        await pilot.press("m")
        await until(pilot, lambda: app._notifications, "a notice")
        (notice,) = [n.message for n in app._notifications]
        assert notice.startswith("m (Limits): not available: ") and "read-only" in notice


async def test_the_footer_puts_the_focused_panes_keys_first_and_hides_keys_while_the_prompt_is_open(
    healthy_sim: SimThread, app_factory: Callable[..., NimifyApp]
) -> None:
    app = app_factory(healthy_sim)
    async with app.run_test(size=(160, 45)) as pilot:
        footer = app.screen.query_one(KeyFooter)
        await pilot.press("3")  # nodes
        await until(pilot, lambda: footer.keys and footer.keys[0].key in ("d", "y", "C"), "the nodes' keys first")
        first = [key.key for key in footer.keys[:3]]
        assert set(first) == {"d", "y", "C"}, first
        await pilot.press("4")  # models
        await until(pilot, lambda: {"L", "U"} <= {key.key for key in footer.keys[:4]}, "the models' keys first")
        await pilot.press("colon")
        await until(pilot, lambda: all(key.pinned for key in footer.keys), "only help while typing")
        await pilot.press("escape")
        await until(pilot, lambda: len(footer.keys) > 3, "the keys back")


async def test_at_80x24_the_checks_take_the_rows_the_table_leaves_empty(
    sim_factory: Callable[..., SimThread], app_factory: Callable[..., NimifyApp]
) -> None:
    app = app_factory(sim_factory(scenario="crashloop-oom"))
    async with app.run_test(size=(80, 24)) as pilot:
        runbook = app.screen.query_one(RunbookPane)
        await until(pilot, lambda: str(runbook.content).startswith("▶ ") and runbook.border_subtitle, "hidden lines")
        pods = app.screen.query_one(PodsPane)
        table = app.screen.query_one("#pods-table")

        def settled() -> bool:
            empty = pods.size.height - (table.row_count + 1)  # the rows under the last pod
            return empty <= 1 and runbook.outer_size.height > 7

        await until(pilot, settled, "the runbook pane grown into the table's empty rows")
        assert drawn(runbook)[1].strip("│ ").startswith("▶ "), "the top diagnosis first"
