"""The app under the simulator's injected faults: keys while the API server takes seconds, and recovery after it
was down.

    python bench/bench_faults.py [--runs 3] [--latency 2] [--keys 20] [--down 5]

Each run starts a simulated cluster in this process and the app on it (headless, ``App.run_test`` at 160x45), then:

- key latency: with ``api-latency`` in force, ``j`` and ``k`` on the pods table, then ``d`` (a describe, whose own
  request takes the latency) and ``escape``: the time from the key until its effect shows (cursor moved, screen
  pushed or popped), goal under 100 ms at p95;
- recovery: the API server down (``api-down``) for ``--down`` seconds; the time from when it listens again until
  the header no longer says it is unreachable and every pane that was live before is live again, goal under 5 s.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nimify_tui.sim.faults import FaultPlan, parse_faults
from nimify_tui.sim.server import SimThread
from nimify_tui.ui.panes.base import Pane
from nimify_tui.ui.panes.pods import PodsPane
from nimify_tui.ui.screens.main import MainScreen
from nimify_tui.ui.screens.pod import PodScreen
from tests.ui.conftest import drawn, make_app, until


async def soon(pilot: object, condition: Callable[[], object], what: str, timeout_s: float = 5.0) -> None:
    """``until`` with a 5 ms step (``until``'s is 100 ms: too coarse for a key's latency)."""
    deadline = time.perf_counter() + timeout_s
    while not condition():
        if time.perf_counter() > deadline:
            raise AssertionError(f"no {what} after {timeout_s:g} s")
        await pilot.pause(0.005)  # type: ignore[attr-defined]


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


async def one_run(latency_s: float, keys: int, down_s: float) -> tuple[dict[str, list[float]], float]:
    with SimThread(scenario="healthy") as sim, tempfile.TemporaryDirectory() as folder:
        app = make_app(sim, Path(folder))
        async with app.run_test(size=(160, 45)) as pilot:
            await until(pilot, lambda: isinstance(app.screen, MainScreen), "the main screen")
            screen = app.screen
            assert isinstance(screen, MainScreen)
            pods = screen.query_one(PodsPane)
            await until(pilot, lambda: pods.table.row_count > 1 and not pods.stale, "the pods")
            await until(pilot, lambda: all(not p.stale for p in screen.query(Pane) if p.HEALTH), "every pane live", 30)
            await pilot.pause(1.0)
            await pilot.press("1")

            sim.set_faults(parse_faults(f"api-latency={latency_s:g}s"))
            latencies: dict[str, list[float]] = {"j/k": [], "d": [], "escape": []}
            for n in range(keys):
                before = pods.table.cursor_row
                started = time.perf_counter()
                await pilot.press("j" if n % 2 == 0 else "k")
                await soon(pilot, lambda: pods.table.cursor_row != before, "cursor move")  # noqa: B023
                latencies["j/k"].append(time.perf_counter() - started)
                started = time.perf_counter()
                await pilot.press("d")
                await soon(pilot, lambda: isinstance(app.screen, PodScreen), "describe")
                latencies["d"].append(time.perf_counter() - started)
                started = time.perf_counter()
                await pilot.press("escape")
                await soon(pilot, lambda: app.screen is screen, "way back")
                latencies["escape"].append(time.perf_counter() - started)
            sim.set_faults(FaultPlan())
            await until(pilot, lambda: all(not p.stale for p in screen.query(Pane) if p.HEALTH), "live", 30)

            live = [p for p in screen.query(Pane) if p.HEALTH and not p.stale]
            header = screen.query_one("StatusHeader")
            sim.set_faults(parse_faults(f"api-down={down_s:g}s"))
            await until(pilot, lambda: not sim.server.listening, "the API server to go", 10)
            await until(pilot, lambda: sim.server.listening, "the API server to come back", down_s + 10)
            back = time.perf_counter()

            def recovered() -> bool:
                said = "".join(drawn(header))
                return "UNREACHABLE" not in said and all(not p.stale for p in live)

            await until(pilot, recovered, "the recovery", 60)
            return latencies, time.perf_counter() - back


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--latency", type=float, default=2.0, help="api-latency in seconds")
    parser.add_argument("--keys", type=int, default=20, help="rounds of j/k, d, escape per run")
    parser.add_argument("--down", type=float, default=5.0, help="api-down in seconds")
    args = parser.parse_args()
    keys_all: list[float] = []
    recoveries: list[float] = []
    for run in range(args.runs):
        latencies, recovery = asyncio.run(one_run(args.latency, args.keys, args.down))
        recoveries.append(recovery)
        each = []
        for key, values in latencies.items():
            keys_all.extend(values)
            each.append(f"{key} {statistics.median(values) * 1000:.0f}/{p95(values) * 1000:.0f}")
        print(
            f"run {run + 1}: keys median/p95 ms: {', '.join(each)} (api-latency {args.latency:g} s); "
            f"recovery {recovery:.2f} s after the API server listened again",
            flush=True,
        )
    print(
        f"keys under api-latency {args.latency:g} s: median {statistics.median(keys_all) * 1000:.0f} ms, "
        f"p95 {p95(keys_all) * 1000:.0f} ms over {len(keys_all)} keys "
        f"({'met' if p95(keys_all) < 0.1 else 'NOT met'}: goal p95 under 100 ms)"
    )
    print(
        f"recovery after api-down {args.down:g} s: median {statistics.median(recoveries):.2f} s, "
        f"worst {max(recoveries):.2f} s ({'met' if max(recoveries) < 5 else 'NOT met'}: goal under 5 s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
