"""Benchmark: ingest 100,000 realistic log lines into the store and through the log viewer.

Prints lines/s (median of several runs) for:
  store     LogStore.append of the stream, in 64 KiB chunks as it arrives from the API server;
  widget    LogView.append_text of the same chunks in a headless app that keeps running between chunks (so it
            catches up and redraws as it would), then every row rendered once through LogLines.render_line;
the time to render a page not seen since, at 100,000 lines, and resident memory with the viewer full.

Usage: python bench/bench_log_ingest.py [--lines 100000] [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import random
import resource
import statistics
import time
import tracemalloc
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import NamedTuple

from textual.app import App, ComposeResult

from nimify_tui.kube.logtext import LogStore
from nimify_tui.ui.widgets.log_view import LogView

CHUNK_BYTES = 64 * 1024
TERMINAL_SIZE = (120, 40)

MODELS = ["resnet50", "bert-large", "llama-3-8b", "whisper-small", "yolov8"]
PATHS = ["/v1/predict", "/v1/models", "/health", "/ready", "/metrics"]


def realistic_lines(count: int, seed: int = 1) -> Iterator[str]:
    """Lines like those of a Triton / nimify-api pod, with kubectl --timestamps prefixes."""
    rng = random.Random(seed)
    start = datetime(2024, 5, 1, 10, 0, tzinfo=timezone.utc)
    for number in range(count):
        moment = start + timedelta(microseconds=number * 1_337)
        stamp = moment.strftime("%Y-%m-%dT%H:%M:%S.%f") + f"{rng.randrange(1000):03d}Z"
        model = rng.choice(MODELS)
        kind = rng.random()
        if kind < 0.45:
            path = rng.choice(PATHS)
            status = rng.choice([200, 200, 200, 200, 503, 429, 500])
            client = f"10.244.{rng.randrange(256)}.{rng.randrange(256)}:{rng.randrange(30000, 60000)}"
            took = f"{rng.uniform(1, 900):.1f}ms"
            line = f'INFO:     {client} - "POST {path} HTTP/1.1" {status} {took} model={model}'
        elif kind < 0.75:
            line = (
                f"I{moment:%m%d %H:%M:%S.%f} 1 infer_handler.cc:{rng.randrange(100, 999)}] "
                f"model {model}:1 batch={rng.choice([1, 2, 4, 8, 16])} queue_us={rng.randrange(50, 90000)} "
                f"compute_us={rng.randrange(800, 400000)}"
            )
        elif kind < 0.88:
            line = (
                f'{{"ts":"{moment.isoformat()}","level":"warning","logger":"nimify.api",'
                f'"msg":"slow inference","model":"{model}","latency_ms":{rng.uniform(500, 9000):.2f},'
                f'"gpu":{rng.randrange(8)}}}'
            )
        elif kind < 0.96:
            line = (
                f"\x1b[31mERROR\x1b[0m\t[{model}] CUDA error: out of memory (tried to allocate "
                f"{rng.randrange(1, 40)}.00 GiB; GPU {rng.randrange(8)} has 79.15 GiB total capacity)"
            )
        else:
            modules = ["server", "batcher", "client"]
            frames = " ".join(
                f'File "/opt/nimify/{rng.choice(modules)}.py", line {rng.randrange(900)}'
                for _ in range(rng.randrange(5, 30))
            )
            line = f"Traceback (most recent call last): {frames} RuntimeError: model {model} UNAVAILABLE"
        yield f"{stamp} {line}"


def stream_chunks(count: int) -> list[bytes]:
    """The log as the API server would stream it, cut into fixed-size chunks (mid-line, mid-character)."""
    blob = "".join(f"{line}\n" for line in realistic_lines(count)).encode()
    return [blob[offset : offset + CHUNK_BYTES] for offset in range(0, len(blob), CHUNK_BYTES)]


def bench_store(chunks: list[bytes], count: int) -> float:
    store = LogStore()
    started = time.perf_counter()
    for chunk in chunks:
        store.append(chunk)
    elapsed = time.perf_counter() - started
    assert len(store) == count, len(store)
    return elapsed


def store_footprint_mib(chunks: list[bytes]) -> float:
    """MiB of Python objects a store holds once the whole stream is in."""
    tracemalloc.start()
    store = LogStore()
    for chunk in chunks:
        store.append(chunk)
    held, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert len(store) > 0
    return held / 2**20


def resident_mib() -> tuple[float, float]:
    """Resident memory now and at its peak, in MiB."""
    with open("/proc/self/status") as status:
        fields = dict(line.split(":", 1) for line in status)
    current = int(fields["VmRSS"].split()[0]) / 1024
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return current, peak


class BenchApp(App[None]):
    def compose(self) -> ComposeResult:
        yield LogView("bench")


class WidgetRun(NamedTuple):
    ingest_seconds: float
    render_seconds: float
    page_seconds: float
    page_rows: int
    resident_mib: float


async def bench_widget(chunks: list[bytes], count: int) -> WidgetRun:
    """Time ingesting the chunks, rendering every row once, and rendering one page not seen since."""
    app = BenchApp()
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        view = app.query_one(LogView)
        lines = view.log_lines
        await pilot.pause()
        started = time.perf_counter()
        for chunk in chunks:
            view.append_text(chunk)
            await asyncio.sleep(0)
        while lines.status.lines < count:
            await asyncio.sleep(0.001)
        ingested = time.perf_counter() - started

        height = lines.scrollable_content_region.height
        started = time.perf_counter()
        for top in range(0, lines.virtual_size.height, height):
            lines.scroll_to(y=top, animate=False, immediate=True)
            for y in range(height):
                lines.render_line(y)
        rendered = time.perf_counter() - started

        lines.scroll_to(y=count // 2, animate=False, immediate=True)
        started = time.perf_counter()
        for y in range(height):
            lines.render_line(y)
        page = time.perf_counter() - started
        gc.collect()
        resident, _ = resident_mib()
    return WidgetRun(ingested, rendered, page, height, resident)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    arguments = parser.parse_args()
    count = arguments.lines
    chunks = stream_chunks(count)
    size_mib = sum(map(len, chunks)) / 2**20
    print(f"{count:,} lines, {size_mib:.1f} MiB in {len(chunks)} chunks of {CHUNK_BYTES // 1024} KiB")

    held = store_footprint_mib(chunks)
    store_times = [bench_store(chunks, count) for _ in range(arguments.runs)]
    store_seconds = statistics.median(store_times)
    print(f"store:   {count / store_seconds:>10,.0f} lines/s  (median {store_seconds:.3f} s)")

    widget_runs = []
    for _ in range(arguments.runs):
        gc.collect()
        widget_runs.append(asyncio.run(bench_widget(chunks, count)))
    ingest = statistics.median(run.ingest_seconds for run in widget_runs)
    render = statistics.median(run.render_seconds for run in widget_runs)
    page = statistics.median(run.page_seconds for run in widget_runs)
    page_rows = widget_runs[-1].page_rows
    resident = widget_runs[-1].resident_mib
    _, peak = resident_mib()
    total = ingest + render
    print(f"widget:  {count / total:>10,.0f} lines/s  (median ingest {ingest:.3f} s + render {render:.3f} s)")
    print(f"         ingest alone {count / ingest:,.0f} lines/s, render alone {count / render:,.0f} rows/s")
    print(f"a page of {page_rows} rows not seen since, at {count:,} lines: {page * 1000:.2f} ms (median)")

    print(f"resident memory, viewer holding {count:,} lines: {resident:.0f} MiB (peak {peak:.0f} MiB)")
    print(f"  of which the store's lines: {held:.0f} MiB (tracemalloc)")


if __name__ == "__main__":
    main()
