"""The launcher turns the cycle collector off for the start; the main screen turns it on again, after freezing
what the start made, once the tables' first data is in. A collector left off would let cyclic garbage grow for
the whole session."""

from __future__ import annotations

import gc
from collections.abc import Callable

from nimify_tui.sim.server import SimThread
from nimify_tui.ui.app import NimifyApp
from nimify_tui.ui.widgets.record_table import RecordTable

from .conftest import until


async def test_the_collector_runs_again_once_the_first_data_is_in(
    healthy_sim: SimThread, app_factory: Callable[..., NimifyApp]
) -> None:
    app = app_factory(healthy_sim)
    gc.disable()  # what run_tui does first
    try:
        async with app.run_test(size=(160, 45)) as pilot:
            models = app.screen.query_one("#models-table", RecordTable)
            await until(pilot, lambda: models.row_count, "the models table, the last to fill")
            await until(pilot, gc.isenabled, "the collector on again")
            assert gc.get_freeze_count() > 10_000, "what the start made is out of the collector's sight"
    finally:
        gc.enable()
        gc.unfreeze()
