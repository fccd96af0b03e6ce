"""A long session's events do not pile up in the events table: it keeps the rows it shows, and a few more."""

from __future__ import annotations

from collections.abc import Callable

from nimify_tui.render.events import MAX_EVENT_ROWS
from nimify_tui.sim.k8s import objects
from nimify_tui.sim.k8s.world import World
from nimify_tui.sim.server import SimThread
from nimify_tui.ui.app import NimifyApp
from nimify_tui.ui.panes.events import KEPT_EVENT_ROWS
from nimify_tui.ui.widgets.record_table import RecordTable

from .conftest import until

WAVES = 4
PER_WAVE = 700  # distinct events (their own name and message): more than the pane's 500 rows


def plant_wave(world: World, wave: int) -> str:
    """``PER_WAVE`` new events about one pod, newer than any before; the message of the newest."""
    pod = world.store.list("pods", "nimify-system")[0]
    ref = objects.object_ref(pod, None)
    now = world.now() + 60 + wave  # newer than the cluster's own events meanwhile, each wave than the one before
    for number in range(PER_WAVE):
        message = f"wave {wave} event {number:04d}"
        name = f"{pod['metadata']['name']}.wave{wave}-{number:04d}"
        event = objects.event(name, ref, now, world.new_uid(), "Normal", "Pulled", message, "kubelet", None)
        world.store.put("events", event)
    world.pulse.fire()
    return f"wave {wave} event {PER_WAVE - 1:04d}"


def shows(table: RecordTable, message: str) -> bool:
    return any(message in table.get_row_at(index)[-1] for index in range(table.row_count))


async def test_the_events_table_keeps_no_row_of_every_event_it_once_showed(
    sim_factory: Callable[..., SimThread], app_factory: Callable[..., NimifyApp]
) -> None:
    sim = sim_factory(scenario="healthy")
    app = app_factory(sim)
    async with app.run_test(size=(160, 45)) as pilot:
        table = app.screen.query_one("#events-table", RecordTable)
        await until(pilot, lambda: table.row_count > 0, "the first events")
        for wave in range(WAVES):
            newest = sim.call(lambda world, wave=wave: plant_wave(world, wave))
            await until(pilot, lambda newest=newest: shows(table, newest), f"wave {wave} shown")
            assert table.row_count == MAX_EVENT_ROWS
        # WAVES x PER_WAVE rows were shown one time or another; the table holds those it shows and a few more
        assert len(table._prepared) <= KEPT_EVENT_ROWS + MAX_EVENT_ROWS < WAVES * PER_WAVE
