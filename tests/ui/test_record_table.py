"""RecordTable and KeyFooter on their own, in a small app: what is drawn, the cursor, keys and clicks."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.strip import Strip

from nimify_tui.render.row import Row
from nimify_tui.ui.widgets.key_footer import KeyFooter
from nimify_tui.ui.widgets.record_table import RecordTable

from .conftest import drawn, until


def rows(count: int, *, prefix: str = "pod", restarts: str = "0") -> list[Row]:
    return [Row(f"ns/{prefix}-{i:04d}", (f"{prefix}-{i:04d}", "Running", restarts)) for i in range(count)]


class TableApp(App[None]):
    BINDINGS = [
        Binding("question_mark", "help_key", "Help"),
        Binding("b", "bell", "Bell"),
        Binding("t", "toggle_allowed", "Toggle"),
        Binding("x", "guarded", "Guarded"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.selected: list[str] = []
        self.pressed: list[str] = []
        self.allowed = True

    def compose(self) -> ComposeResult:
        yield RecordTable(("NAME", "STATUS", "RESTARTS"), id="table")
        yield KeyFooter()

    def on_record_table_row_selected(self, event: RecordTable.RowSelected) -> None:
        self.selected.append(event.key)

    def action_help_key(self) -> None:
        self.pressed.append("?")

    def action_guarded(self) -> None:
        self.pressed.append("x")

    def action_toggle_allowed(self) -> None:
        self.allowed = not self.allowed
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return None if action == "guarded" and not self.allowed else True


async def test_rows_are_drawn_with_aligned_columns_and_only_the_visible_ones() -> None:
    app = TableApp()
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one(RecordTable)
        table.show_rows(rows(5000))
        await pilot.pause()
        lines = drawn(table)
        assert lines[0].startswith(" NAME      STATUS   RESTARTS ")
        assert lines[1].startswith(" pod-0000  Running  0 ")
        assert table.row_count == 5000 and table.virtual_size.height == 5001
        assert "pod-0009" in lines[10] and not any("pod-0010" in line for line in lines)


async def test_cursor_stays_on_its_row_when_rows_move_or_change() -> None:
    app = TableApp()
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one(RecordTable)
        table.focus()
        table.show_rows(rows(50))
        await pilot.press("down", "down", "down")
        assert table.selected_key == "ns/pod-0003"
        shown = rows(50)
        faulty = Row("ns/crash", ("crash", "CrashLoopBackOff", "7 (1m ago)"), "bold red")
        table.show_rows([faulty, *shown])
        assert table.selected_key == "ns/pod-0003" and table.cursor_row == 4
        table.show_rows([faulty, *rows(50, restarts="1")])  # every row changes, its key stays
        assert table.selected_key == "ns/pod-0003"
        table.show_rows([faulty])  # the row went away: the cursor stays within the rows
        assert table.cursor_row == 0 and table.selected_key == "ns/crash"
        table.show_rows([])
        assert table.selected_key is None and table.row_count == 0


async def test_a_filter_narrowed_and_cleared_keeps_the_cursor_on_its_row() -> None:
    app = TableApp()
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one(RecordTable)
        everything = rows(3000)
        table.show_rows(everything)
        table.move_cursor(row=table.get_row_index("ns/pod-1234"))
        table.show_rows([row for row in everything if "12" in row.key])  # narrowed, the cursor's row among them
        assert table.selected_key == "ns/pod-1234" and table.get_row_index("ns/pod-1234") == table.cursor_row
        table.show_rows(everything)  # cleared: the rows prepared before come back
        assert table.selected_key == "ns/pod-1234" and table.cursor_row == 1234
        assert table.get_row_index("ns/pod-2999") == 2999
        table.show_rows([row for row in everything if "7" in row.key])  # narrowed without it
        assert table.selected_key != "ns/pod-1234" and "7" in str(table.selected_key)
        await pilot.pause()


async def test_a_wider_cell_widens_its_column() -> None:
    app = TableApp()
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one(RecordTable)
        table.show_rows(rows(3))
        await pilot.pause()
        before = drawn(table)[1]
        table.show_rows([Row("ns/pod-0000", ("pod-0000", "ImagePullBackOff", "0")), *rows(3)[1:]])
        await pilot.pause()
        lines = drawn(table)
        assert before.startswith(" pod-0000  Running  0 ")
        assert lines[0].startswith(" NAME      STATUS            RESTARTS ")
        assert lines[2].startswith(" pod-0001  Running           0 ")


async def test_a_row_changed_in_place_widens_and_narrows_its_columns() -> None:
    """Rows changed on their own lines are counted by their widths without looking at the others: the widest
    cell's row changing back narrows the column again, and a width that other rows still have keeps it."""
    app = TableApp()
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one(RecordTable)
        table.show_rows(rows(1000))
        wide = Row("ns/pod-0500", ("pod-0500", "CrashLoopBackOff", "12 (5s ago)"))
        table.show_rows([*rows(1000)[:500], wide, *rows(1000)[501:]])
        await pilot.pause()
        assert drawn(table)[0].startswith(" NAME      STATUS            RESTARTS     ")
        table.show_rows(rows(1000))  # back to Running: no row is as wide any more
        await pilot.pause()
        assert drawn(table)[0].startswith(" NAME      STATUS   RESTARTS ")
        narrow = Row("ns/pod-0002", ("pod-0002", "Ok", "0"))
        table.show_rows([*rows(1000)[:2], narrow, *rows(1000)[3:]])  # 999 rows still say Running
        await pilot.pause()
        assert drawn(table)[0].startswith(" NAME      STATUS   RESTARTS ")
        assert table.row_count == 1000 and table.get_row_index("ns/pod-0999") == 999


async def test_the_cursor_line_says_whether_the_table_has_the_focus() -> None:
    """The cursor's line is bold on the focus's colour while the table has the focus, and on the blurred colour
    when it lost it; the focus change draws that line again (the table is not restyled for it)."""

    def cursor_style(table: RecordTable) -> tuple[bool, object]:
        style = next(iter(table.render_line(1 + table.cursor_row))).style
        assert style is not None
        return bool(style.bold), style.bgcolor

    app = TableApp()
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one(RecordTable)
        table.show_rows(rows(20))
        table.focus()
        await pilot.press("down")
        focused = cursor_style(table)
        assert focused[0], "bold with the focus"
        table.blur()
        await pilot.pause()
        blurred = cursor_style(table)
        assert not blurred[0] and blurred[1] != focused[1]
        assert not cursor_style(table)[0] and table.cursor_row == 1
        table.focus()
        await pilot.pause()
        assert cursor_style(table) == focused


async def test_keys_move_the_cursor_and_keep_it_in_view() -> None:
    app = TableApp()
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one(RecordTable)
        table.focus()
        table.show_rows(rows(200))
        await pilot.press("pagedown")
        assert table.cursor_row > 5
        await pilot.press("G")
        await pilot.pause()
        assert table.cursor_row == 199
        assert any("pod-0199" in line for line in drawn(table)), "the last row is scrolled into view"
        await pilot.press("g")
        await pilot.pause()
        assert table.cursor_row == 0 and table.scroll_y == 0
        await pilot.press("j", "j", "k")
        assert table.cursor_row == 1
        await pilot.press("enter")
        assert app.selected == ["ns/pod-0001"]


async def test_click_moves_the_cursor_and_a_second_click_opens_the_row() -> None:
    app = TableApp()
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one(RecordTable)
        table.show_rows(rows(20))
        await pilot.click(RecordTable, offset=(3, 3))  # line 0 is the header: line 3 is the third row
        assert table.cursor_row == 2 and app.selected == []
        await pilot.click(RecordTable, offset=(3, 3))
        assert app.selected == ["ns/pod-0002"]
        await pilot.click(RecordTable, offset=(3, 0))  # the header selects nothing
        assert table.cursor_row == 2 and app.selected == ["ns/pod-0002"]


async def test_cells_are_shown_literally() -> None:
    app = TableApp()
    async with app.run_test(size=(80, 12)) as pilot:
        table = app.query_one(RecordTable)
        table.show_rows([Row("k", ("[bold red]x[/]", "a\x1b[31mb\x07c", "line\nbreak"))])
        await pilot.pause()
        line = drawn(table)[1]
        assert "[bold red]x[/]" in line and "ab␇c" in line and "line␊break" in line
        assert table.get_row_at(0) == ("[bold red]x[/]", "ab␇c", "line␊break")


async def test_footer_shows_the_keys_dims_refused_ones_and_clicks_press_them() -> None:
    app = TableApp()
    async with app.run_test(size=(80, 12)) as pilot:
        footer = app.query_one(KeyFooter)
        await pilot.pause()
        text = drawn(app.query_one(KeyFooter))[0]
        assert " b Bell " in text and " x Guarded " in text
        assert text.rstrip().endswith("? Help  ^p palette"), "help and the palette stay at the right"
        assert {key.key: key.enabled for key in footer.keys}["x"] is True
        await pilot.press("t")
        await pilot.pause()
        assert {key.key: key.enabled for key in footer.keys}["x"] is False, "a refused key is dimmed"
        column = text.index(" x Guarded ") + 2
        await pilot.click(KeyFooter, offset=(column, 0))
        assert app.pressed == [], "a dimmed key does nothing"
        await pilot.press("t")
        await pilot.pause()
        await pilot.click(KeyFooter, offset=(column, 0))
        await pilot.click(KeyFooter, offset=(text.index("? Help") + 1, 0))
        assert app.pressed == ["x", "?"]


async def test_footer_cuts_what_does_not_fit_but_keeps_help() -> None:
    app = TableApp()
    async with app.run_test(size=(30, 12)) as pilot:
        await pilot.pause()
        text = drawn(app.query_one(KeyFooter))[0]
        assert "…" in text and "? Help" in text


class CountingTable(RecordTable):
    """A RecordTable that counts the lines it draws (by line of the screen, the header being 0)."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.lines_drawn: list[int] = []

    def render_line(self, y: int) -> Strip:
        self.lines_drawn.append(y)
        return super().render_line(y)


class TwoTablesApp(App[None]):
    def compose(self) -> ComposeResult:
        yield CountingTable(("NAME", "STATUS", "RESTARTS"), id="first")
        yield CountingTable(("NAME", "STATUS", "RESTARTS"), id="second")


async def test_a_focus_move_between_tables_draws_their_cursor_lines_alone() -> None:
    app = TwoTablesApp()
    async with app.run_test(size=(60, 24)) as pilot:
        first, second = app.query_one("#first", CountingTable), app.query_one("#second", CountingTable)
        for table in (first, second):
            table.show_rows(rows(30))
            table.move_cursor(row=2)
        app.screen.set_focus(first)
        await pilot.pause()
        cursor_line = first.get_row_index("ns/pod-0002") + 1  # below the header
        first.lines_drawn.clear()
        second.lines_drawn.clear()
        app.screen.set_focus(second)  # as the pane keys move it (Widget.focus() repaints the widget itself)
        await until(pilot, lambda: first.lines_drawn and second.lines_drawn, "both tables drawn again")
        await pilot.pause()
        # the cursor's line changes its look in both; the other lines are as they were (Textual's own focus
        # handlers repaint every line of both: a third of a pane switch's frame in the app)
        assert set(first.lines_drawn) == {cursor_line} and set(second.lines_drawn) == {cursor_line}
        assert "pod-0002" in drawn(second)[cursor_line] and second.has_focus and not first.has_focus
