"""Benchmark: a burst of 10,000 events folded as the events pane folds them, and shown.

The events are made as the simulator makes them (``objects.event`` about load-gen pods: 50 pods x 2 messages x 100
events, each its own Event object, as ``tests/ui/test_scale_events.py`` plants them) and decoded with the app's own
decoder. Timed, median of ``--runs``:

  decode       the 10,000 records from their JSON (what the events informer does with a burst)
  fold         ``event_rows`` over them and the events already there: one row per object, reason and message
  show         the rows into the events pane's ``RecordTable`` in a headless app, the call and until idle

Usage: python bench/bench_event_burst.py [--events 10000] [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from typing import Any

PODS = 50
MESSAGES = 2


def burst(count: int) -> list[dict[str, Any]]:
    from nimify_tui.sim.k8s import objects

    per = max(1, count // (PODS * MESSAGES))
    events = []
    now = time.time()
    for pod_index in range(PODS):
        pod = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": f"load-gen-1-5d8f7c9b4-{pod_index:05d}", "namespace": "nimify-system", "uid": "u"},
        }
        ref = objects.object_ref(pod, "spec.containers{load-gen}")
        for message_index in range(MESSAGES):
            message = f"Readiness probe failed: HTTP probe failed with statuscode: {500 + message_index}"
            for repeat in range(per):
                name = f"{pod['metadata']['name']}.burst{message_index}{repeat:04d}"
                event = objects.event(name, ref, now - repeat, "uid", "Warning", "Unhealthy", message, "kubelet", "n")
                events.append(event)
    return events


def main() -> int:
    parser = argparse.ArgumentParser(description="a burst of 10,000 events, folded and shown")
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    import orjson
    from textual.app import App, ComposeResult

    from nimify_tui.kube.records import DECODERS
    from nimify_tui.render.events import EVENT_COLUMNS, event_rows
    from nimify_tui.ui.widgets.record_table import RecordTable

    raw = orjson.dumps(burst(args.events))
    decode = DECODERS["events"]
    figures: dict[str, list[float]] = {"decode": [], "fold": [], "show": [], "show_idle": []}
    rows: list[Any] = []
    for _ in range(args.runs):
        started = time.perf_counter()
        records = [decode(obj) for obj in orjson.loads(raw)]
        figures["decode"].append(time.perf_counter() - started)
        started = time.perf_counter()
        rows = event_rows(records, time.time(), namespace="nimify-system")
        figures["fold"].append(time.perf_counter() - started)

    class TableOnly(App[None]):
        def compose(self) -> ComposeResult:
            yield RecordTable(EVENT_COLUMNS)

    async def show() -> None:
        for _ in range(args.runs):
            app = TableOnly()
            async with app.run_test(size=(160, 45)) as pilot:
                table = app.query_one(RecordTable)
                started = time.perf_counter()
                table.show_rows(rows)
                called = time.perf_counter()
                await pilot.pause()
                figures["show"].append(called - started)
                figures["show_idle"].append(time.perf_counter() - started)

    asyncio.run(show())
    folded = sum(1 for row in rows if row.cells[-1].endswith(")"))
    print(f"{len(records)} events -> {len(rows)} rows ({folded} folded), median of {args.runs} runs (ms):")
    for name, values in figures.items():
        listed = " ".join(f"{v * 1000:.1f}" for v in values)
        print(f"  {name:<10} {statistics.median(values) * 1000:8.1f}   {listed}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
