"""A burst of 10,000 events reaches the events pane folded: one row per object, reason and message, with the count."""

from __future__ import annotations

import re
from collections.abc import Callable

from nimify_tui.sim.k8s import objects
from nimify_tui.sim.k8s.world import World
from nimify_tui.sim.server import SimThread
from nimify_tui.ui.app import NimifyApp
from nimify_tui.ui.widgets.record_table import RecordTable

from .conftest import until

BURST_PODS = 50
MESSAGES = (
    'Readiness probe failed: Get "http://{ip}:8000/ready": context deadline exceeded',
    "Liveness probe failed: HTTP probe failed with statuscode: 503",
)
PER_MESSAGE = 100  # 50 pods x 2 messages x 100 events = 10,000 events, folded into 100 rows


def plant_burst(world: World) -> list[str]:
    """10,000 distinct Event objects about load-gen pods of nimify-system, written at once; their pod names."""
    pods = [p for p in world.store.list("pods", "nimify-system") if p["metadata"]["name"].startswith("load-gen-")]
    chosen = pods[:BURST_PODS]
    now = world.now()
    for pod in chosen:
        ref = objects.object_ref(pod, "spec.containers{load-gen}")
        for index, template in enumerate(MESSAGES):
            message = template.format(ip=pod["status"].get("podIP", ""))
            for repeat in range(PER_MESSAGE):
                name = f"{pod['metadata']['name']}.burst{index}{repeat:03d}"
                event = objects.event(
                    name, ref, now, world.new_uid(), "Warning", "Unhealthy", message, "kubelet", pod["spec"]["nodeName"]
                )
                world.store.put("events", event)
    world.pulse.fire()
    return [pod["metadata"]["name"] for pod in chosen]


async def test_a_burst_of_10000_events_is_folded_into_one_row_per_object_reason_and_message(
    sim_factory: Callable[..., SimThread], app_factory: Callable[..., NimifyApp]
) -> None:
    sim = sim_factory(scenario="healthy", pods=BURST_PODS)
    app = app_factory(sim)
    async with app.run_test(size=(160, 45)) as pilot:
        table = app.screen.query_one("#events-table", RecordTable)
        await until(pilot, lambda: table.row_count > 0, "the first events")
        names = sim.call(plant_burst)

        def burst_rows() -> list[tuple[str, ...]]:
            rows = [table.get_row_at(i) for i in range(table.row_count)]
            return [cells for cells in rows if any(name in " ".join(cells) for name in names)]

        await until(pilot, lambda: len(burst_rows()) == BURST_PODS * len(MESSAGES), "one row per pod and message")

        def all_folded() -> bool:  # the rows appear as the first events come; their counts grow as the rest do
            return all(cells[-1].endswith(f"(x{PER_MESSAGE})") for cells in burst_rows())

        await until(pilot, all_folded, f"each row counting its {PER_MESSAGE} events", timeout_s=30)
        rows = burst_rows()
        assert len(rows) == BURST_PODS * len(MESSAGES), "and no more rows than that"
        for cells in rows:
            assert cells[2] == "Unhealthy"
        objects_and_messages = {(cells[3], re.sub(r"\(x\d+\)$", "", cells[-1])) for cells in rows}
        assert len(objects_and_messages) == len(rows), "no two rows say the same"
        assert {cells[3].removeprefix("pod/") for cells in rows} == set(names)
        title = str(app.screen.query_one("#events-pane").border_title)
        assert f"· {table.row_count}" in title
