"""Following a chatty container: every line the simulator's log generator writes reaches the log viewer, in order."""

from __future__ import annotations

import re
from collections.abc import Callable

from nimify_tui.live.keys import PODS
from nimify_tui.sim.server import SimThread
from nimify_tui.ui.app import NimifyApp
from nimify_tui.ui.screens.logs import LogsScreen
from nimify_tui.ui.widgets.log_view import LogView

from .conftest import until

RATE = 2000.0  # lines a second
SEQ = re.compile(r"seq=(\d+)$")


async def test_following_2000_lines_a_second_drops_no_line(
    sim_factory: Callable[..., SimThread], app_factory: Callable[..., NimifyApp]
) -> None:
    sim = sim_factory(scenario="healthy", log_rate=RATE)
    app = app_factory(sim)
    async with app.run_test(size=(120, 30)) as pilot:
        pod = await until(
            pilot,
            lambda: next((p.name for p in app.runtime.store.items(PODS) if p.name.startswith("log-gen-")), ""),
            "the log-gen pod listed",
        )
        await app.push_screen(LogsScreen("nimify-system", pod, ["log-gen"], "log-gen", previous=False))
        view = app.screen.query_one(LogView)

        def numbers() -> list[int]:
            return [int(m.group(1)) for line in view.text.split("\n") if (m := SEQ.search(line))]

        # the history first (a tail of up to 10,000 lines), then 3 s more of following: well past one read's worth
        start = await until(pilot, lambda: (seen := numbers()) and seen[-1], "the first lines")
        await until(pilot, lambda: (seen := numbers()) and seen[-1] >= start + 3 * RATE, "3 s of lines followed")
        seen = numbers()
        assert seen == list(range(seen[0], seen[0] + len(seen))), "every number once, in order"
        written = sim.call(lambda world: world.kubelet.runs[("nimify-system", pod)].containers[0].log.written)
        assert seen[-1] <= written
        assert len(seen) >= 3 * RATE
