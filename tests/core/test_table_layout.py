"""Fitting a table's columns to a pane by priority, sideways scrolling by whole columns, and the faulty-first order
of the Triton models."""

from __future__ import annotations

from nimify_tui.render.models import model_rows
from nimify_tui.render.pods import POD_COLUMNS
from nimify_tui.render.row import Column
from nimify_tui.render.table_layout import fit_columns, last_offset, natural_widths
from nimify_tui.triton.latency import ModelInterval
from nimify_tui.triton.poller import ModelState

PAD = 2
# the widest cells of a pods table of nimify-system: NAME .. GPU
POD_WIDTHS = [30, 5, 7, 8, 3, 11, 10, 4, 6, 6]


def names(columns: tuple[Column, ...], layout_shown: tuple[tuple[int, int], ...]) -> list[str]:
    return [columns[index].name for index, _ in layout_shown]


def test_a_roomy_pane_shows_every_column_whole() -> None:
    layout = fit_columns(POD_COLUMNS, POD_WIDTHS, 200, 0, PAD)
    assert names(POD_COLUMNS, layout.shown) == [c.name for c in POD_COLUMNS]
    assert [width for _, width in layout.shown] == POD_WIDTHS
    assert layout.hidden == 0 and layout.cut == 0


def test_ip_goes_first_then_the_lowest_priorities() -> None:
    full = sum(POD_WIDTHS) + PAD * len(POD_WIDTHS)
    layout = fit_columns(POD_COLUMNS, POD_WIDTHS, full - 1, 0, PAD)
    assert "IP" not in names(POD_COLUMNS, layout.shown) and layout.hidden == 1
    assert names(POD_COLUMNS, layout.shown)[-4:] == ["NODE", "CPU", "MEM", "GPU"]
    # the pods pane of a 160-column terminal: 92 cells
    layout = fit_columns(POD_COLUMNS, POD_WIDTHS, 92, 0, PAD)
    assert names(POD_COLUMNS, layout.shown) == ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "NODE", "CPU", "MEM"]
    assert dict(layout.shown)[6] == 10, "NODE is whole, never cpu-no"
    assert layout.hidden == 2


def test_a_narrow_pane_cuts_the_name_before_it_drops_ready_status_restarts_or_age() -> None:
    layout = fit_columns(POD_COLUMNS, POD_WIDTHS, 60, 0, PAD)
    assert names(POD_COLUMNS, layout.shown) == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    widths = dict(layout.shown)
    assert 16 <= widths[0] < 30 and [widths[i] for i in (1, 2, 3, 4)] == [5, 7, 8, 3]
    assert layout.width + PAD * len(layout.shown) <= 60


def test_values_that_tick_keep_their_column_width() -> None:
    header = [len(c.name) for c in POD_COLUMNS]
    short = natural_widths(POD_COLUMNS, [*header[:3], len("3 (9s ago)"), *header[4:]])
    longer = natural_widths(POD_COLUMNS, [*header[:3], len("3 (11s ago)"), *header[4:]])
    assert short[3] == longer[3] == len("10 (2m40s ago)")
    assert natural_widths(POD_COLUMNS, header)[3] == len("RESTARTS"), "no restarts: the column stays narrow"


def test_scrolling_moves_by_whole_columns_and_keeps_the_pinned_one() -> None:
    layout = fit_columns(POD_COLUMNS, POD_WIDTHS, 92, 1, PAD)
    shown = names(POD_COLUMNS, layout.shown)
    assert shown[:4] == ["NAME", "STATUS", "RESTARTS", "AGE"] and "IP" in shown
    assert layout.scrolled == 1
    end = last_offset(POD_COLUMNS, POD_WIDTHS, 92, PAD)
    layout = fit_columns(POD_COLUMNS, POD_WIDTHS, 92, end, PAD)
    assert names(POD_COLUMNS, layout.shown)[0] == "NAME" and names(POD_COLUMNS, layout.shown)[-1] == "GPU"
    assert layout.hidden == 0 and layout.cut == 0
    assert fit_columns(POD_COLUMNS, POD_WIDTHS, 92, end - 1, PAD).hidden > 0, "End is the first place it all fits"


def test_end_gives_a_long_last_column_all_the_room_there_is() -> None:
    columns = (Column("MODEL", pinned=True), Column("STATE"), Column("FAIL"), Column("REASON", cut_to=12))
    widths = [15, 11, 6, 120]
    end = last_offset(columns, widths, 62, PAD)
    layout = fit_columns(columns, widths, 62, end, PAD)
    assert names(columns, layout.shown) == ["MODEL", "REASON"] and dict(layout.shown)[3] == 62 - 17 - PAD


def model(name: str, state: str = "READY", failures: int = 0) -> ModelState:
    interval = ModelInterval(
        name, "1", 10.0, False, 100, failures, 10.0, 10.0, failures / 100, 1.0, 2500.0, 100.0, 100.0, 2000.0, 100.0,
        None, 0,
    )  # fmt: skip
    return ModelState(name, "1", state, "", interval, ("triton-server-0",))


def test_faulty_models_come_first() -> None:
    rows = model_rows([model("nimify-embedder"), model("nimify-model", failures=49), model("a-broken", "UNAVAILABLE")])
    assert [row.cells[0] for row in rows] == ["a-broken", "nimify-model", "nimify-embedder"]
