"""The logs screen following a container that writes a 10 MB line: cut with its marker, the next lines intact."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nimify_tui.kube.logtext import DEFAULT_MAX_LINE_CHARS, cut_marker
from nimify_tui.live.keys import PODS
from nimify_tui.sim.server import SimThread
from nimify_tui.ui.app import NimifyApp
from nimify_tui.ui.screens.logs import LogsScreen
from nimify_tui.ui.widgets.log_view import LogView

from .conftest import until

LONG_LINE_CHARS = 10_000_000


def write_long_line(world: Any) -> tuple[str, str] | None:
    """Append a 10 MB line and three short ones to a ready nimify-api pod's log; its namespace and name."""
    for run in world.kubelet.runs.values():
        if run.name.startswith("nimify-api-") and run.ready:
            text = "x" * LONG_LINE_CHARS + "\nafter the long line\nsecond after\nlong line done"
            run.containers[0].log.write(world.now(), text)
            return str(run.namespace), str(run.name)
    return None


async def test_logs_screen_cuts_a_10_mb_line_and_keeps_the_lines_after_it(
    sim_factory: Callable[..., SimThread], app_factory: Callable[..., NimifyApp]
) -> None:
    sim = sim_factory(scenario="healthy")
    app = app_factory(sim)
    async with app.run_test(size=(160, 45)) as pilot:
        namespace, pod = await until(pilot, lambda: sim.call(write_long_line), "a ready nimify-api pod")
        # the app opens the logs of a pod it knows: wait for its pod list to have it
        await until(pilot, lambda: app.runtime.store.get(PODS, (namespace, pod)), "the pod in the app's store")
        app.open_logs(namespace, pod)
        await until(pilot, lambda: isinstance(app.screen, LogsScreen) and app.screen.query(LogView), "logs screen")
        store = app.screen.query_one(LogView).log_lines.store

        def shown() -> list[Any]:
            return [store.line(number) for number in range(store.first_number, store.end_number)]

        await until(pilot, lambda: any(line.text == "long line done" for line in shown()), "the last line written")
        lines = shown()
        index = next(index for index, line in enumerate(lines) if line.text.startswith("x"))
        prefix_chars = len(lines[index].timestamp) + 1  # the line as sent starts with its timestamp and a space
        marker = cut_marker(prefix_chars + LONG_LINE_CHARS)
        assert lines[index].text == "x" * (DEFAULT_MAX_LINE_CHARS - len(marker) - prefix_chars) + marker
        assert [line.text for line in lines[index + 1 : index + 4]] == [
            "after the long line",
            "second after",
            "long line done",
        ]
