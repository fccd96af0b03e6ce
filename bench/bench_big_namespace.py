"""Benchmark: a namespace of 5,000 pods, from the first list to the rendered pods table, and its memory.

The simulated cluster runs in its own process (``nimify-tui sim --pods N``: the extra pods are load-gen
deployments in nimify-system, the namespace the pods pane shows), so that the figures are the app's alone.
Each run is a fresh process that opens the app headless and reports:

  listed       runtime start -> the nimify-system pods informer has listed (the store holds every pod)
  table full   runtime start -> the pods table holds a row for each of them (goal: under 1.5 s)
  RSS          resident memory of the process then, from /proc/self/status (goal: under 250 MB), its peak
  stall        the longest time the app's event loop did not run (a frozen UI) in the seconds after; a stall
               past ``--stall-cap`` seconds ends the run and is reported as such

Then, in a fresh process with nothing but a ``RecordTable`` in a headless app (so that the rest of the app
cannot get in the way), ``pod_rows`` makes the rows of the same pods (what the pods pane does whenever a pod
changed), and they are diffed: ``show_rows`` into the empty table, with 100 of the rows changed (a wider
RESTARTS cell), with those 100 changed back, and with nothing changed; each both as the call itself and until
the app is idle again (the table repaints the lines on screen when idle).

Medians of ``--runs`` runs. ``--profile FILE`` writes a cProfile of the app's thread for one run.

Usage: python bench/bench_big_namespace.py [--pods 5000] [--runs 3] [--stall-cap 30] [--profile FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nimify_tui.ui.app import NimifyApp

REPO = Path(__file__).resolve().parents[1]
NAMESPACE = "nimify-system"
CHANGED_ROWS = 100
DIFF_REPEATS = 5
TABLE_GOAL_S = 1.5
RSS_GOAL_MB = 250.0
SIZE = (160, 45)
WAIT_TIMEOUT_S = 120.0
SETTLE_S = 8.0  # after the table is full: the first metrics poll lands and every pane refreshes


def memory_mb(field: str) -> float:
    """A memory figure of this process from /proc/self/status (VmRSS, VmHWM), in MB (10^6 bytes)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024 / 1e6
    raise RuntimeError(f"{field} not in /proc/self/status")


BYTECODE_CACHE = Path(tempfile.gettempdir()) / "nimify-bench-bytecode"
_compiled: list[bool] = []


def checkout_environment() -> dict[str, str]:
    """The environment for child processes: this checkout's package first on the path, its modules compiled once
    into a bytecode cache (``PYTHONPYCACHEPREFIX``), as an installed package has them; without it, where
    ``PYTHONDONTWRITEBYTECODE`` is set, every child would compile each module it imports (0.3 s of a start)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(BYTECODE_CACHE)
    if not _compiled:
        command = [sys.executable, "-m", "compileall", "-q", str(REPO / "nimify_tui")]
        subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
        _compiled.append(True)
    return env


def start_sim(pods: int, kubeconfig: Path) -> subprocess.Popen[str]:
    """``nimify-tui sim`` in its own process; returns once it serves (it prints the kubeconfig line)."""
    options = ["--pods", str(pods), "--kubeconfig-out", str(kubeconfig)]
    command = [sys.executable, "-m", "nimify_tui", "sim", *options]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=checkout_environment()
    )
    watchdog = threading.Timer(WAIT_TIMEOUT_S, process.kill)  # a simulator that never comes up ends the wait
    watchdog.start()
    try:
        assert process.stdout is not None
        for line in process.stdout:
            if "kubeconfig" in line:
                return process
        raise RuntimeError(f"the simulator stopped before serving (exit {process.wait()})")
    finally:
        watchdog.cancel()


def stop_sim(process: subprocess.Popen[str]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def listed_pods(kubeconfig: str) -> list[dict[str, Any]]:
    from nimify_tui.kube.client import KubeClient

    client = KubeClient.from_kubeconfig(kubeconfig, "sim-admin")
    try:
        items: list[dict[str, Any]] = client.get_json(f"/api/v1/namespaces/{NAMESPACE}/pods")["items"]
        return items
    finally:
        client.close()


class LoopWatch:
    """Measures how long the event loop goes without running (a frozen UI), and rescues a run that froze.

    A task on the loop notes the time every ``BEAT_S``; the longest gap between two notes, less ``BEAT_S``, is
    the longest stall. A thread calls ``on_freeze`` when the loop has stalled for ``cap_s``.
    """

    BEAT_S = 0.01

    def __init__(self, cap_s: float, on_freeze: Callable[[str], None]) -> None:
        self.last_beat = time.perf_counter()
        self.longest = 0.0
        self._cap_s = cap_s
        self._on_freeze = on_freeze
        self._guard = threading.Thread(target=self._guard_loop, name="stall-guard", daemon=True)

    async def beat(self) -> None:
        import asyncio

        self.last_beat = time.perf_counter()
        self._guard.start()
        while True:
            await asyncio.sleep(self.BEAT_S)
            now = time.perf_counter()
            self.longest = max(self.longest, now - self.last_beat - self.BEAT_S)
            self.last_beat = now

    async def longest_stall_ms(self, seconds: float) -> float:
        """The longest stall in the next ``seconds``."""
        import asyncio

        self.longest = 0.0
        await asyncio.sleep(seconds)
        return self.longest * 1000

    def _guard_loop(self) -> None:
        while True:
            time.sleep(0.2)
            stalled = time.perf_counter() - self.last_beat
            if stalled > self._cap_s:
                self._on_freeze(f"the UI froze for over {self._cap_s:.0f} s")


def emit(result: dict[str, Any]) -> None:
    """Write the run's figures to the process's standard output (Textual holds ``sys.stdout`` while it runs)
    and end the process at once, from any thread: a frozen event loop would never run the app's teardown."""
    os.write(1, (json.dumps(result) + "\n").encode())
    os._exit(0)


def bench_app(kubeconfig: str, folder: Path) -> NimifyApp:
    """The app on the simulator as the admin, with default settings (an empty config file) and no journal."""
    from nimify_tui.config import load_settings
    from nimify_tui.kube.client import KubeClient
    from nimify_tui.ui.app import NimifyApp

    config = folder / "config.toml"
    config.write_text("")
    settings = load_settings({}, {}, config)
    client = KubeClient.from_kubeconfig(kubeconfig, "sim-admin")
    return NimifyApp(client, settings, policy=settings.context_policy("sim-admin"), record_journal=False)


def app_child(kubeconfig: str, expect: int, stall_cap_s: float, profile: str | None) -> None:
    """One run of the app; writes its figures as one JSON line and ends the process (see ``emit``)."""
    import asyncio
    import cProfile

    from nimify_tui.ui.widgets.record_table import RecordTable

    result: dict[str, Any] = {"rss_before_mb": memory_mb("VmRSS")}
    marks: dict[str, float] = {}
    profiler = cProfile.Profile() if profile else None
    finishing = threading.Lock()

    def finish(problem: str = "") -> None:
        with finishing:
            if profiler is not None and profile:
                profiler.disable()
                profiler.dump_stats(profile)
            for name, mark in (("listed_s", "listed"), ("table_full_s", "table full")):
                if mark in marks and "runtime" in marks:
                    result[name] = marks[mark] - marks["runtime"]
            result["peak_rss_mb"] = memory_mb("VmHWM")
            result["problem"] = problem
            emit(result)

    watch = LoopWatch(stall_cap_s, finish)

    async def run(app: NimifyApp) -> None:
        beating = asyncio.get_running_loop().create_task(watch.beat())
        async with app.run_test(size=SIZE):
            store = app.runtime.store
            table = app.screen.query_one("#pods-table", RecordTable)
            deadline = time.monotonic() + WAIT_TIMEOUT_S
            while table.row_count < expect:
                health = store.health().get(f"pods/{NAMESPACE}")
                if "listed" not in marks and health is not None and health.state == "live":
                    marks["listed"] = health.since  # set by the informer the moment its list was stored
                if time.monotonic() > deadline:
                    finish(f"{table.row_count} of {expect} rows after {WAIT_TIMEOUT_S:.0f} s")
                await asyncio.sleep(0.005)
            marks["table full"] = time.time()
            health = store.health().get(f"pods/{NAMESPACE}")
            marks.setdefault("listed", health.since if health is not None else marks["table full"])
            result["rss_full_mb"] = memory_mb("VmRSS")
            result["stall_after_full_ms"] = await watch.longest_stall_ms(SETTLE_S)
            result["rss_settled_mb"] = memory_mb("VmRSS")
            beating.cancel()
            finish()

    with tempfile.TemporaryDirectory(prefix="nimify-bench-") as tmp:
        app = bench_app(kubeconfig, Path(tmp))
        start_runtime = app.runtime.start

        def timed_start() -> None:
            marks["runtime"] = time.time()
            start_runtime()

        app.runtime.start = timed_start  # type: ignore[method-assign]
        if profiler is not None:
            profiler.enable()
        asyncio.run(run(app))


def diff_child(kubeconfig: str) -> None:
    """``show_rows`` on the rows of the listed pods, in a headless app holding only the table."""
    import asyncio

    from textual.app import App, ComposeResult
    from textual.pilot import Pilot

    from nimify_tui.kube.records import DECODERS
    from nimify_tui.render.pods import POD_COLUMNS, pod_rows
    from nimify_tui.render.row import Row
    from nimify_tui.ui.widgets.record_table import RecordTable

    decode = DECODERS["pods"]
    records = [decode(pod) for pod in listed_pods(kubeconfig)]
    row_times = []
    for _ in range(DIFF_REPEATS):  # what the pods pane does on each refresh that saw a pod change
        started = time.perf_counter()
        rows = pod_rows(records, time.time(), namespace=NAMESPACE)
        row_times.append((time.perf_counter() - started) * 1000)
    step = max(1, len(rows) // CHANGED_ROWS)
    picked = set(range(0, len(rows), step)[:CHANGED_ROWS])

    def with_restarts(text: str) -> list[Row]:
        return [
            replace(row, cells=(*row.cells[:3], text, *row.cells[4:])) if index in picked else row
            for index, row in enumerate(rows)
        ]

    class TableOnly(App[None]):
        def compose(self) -> ComposeResult:
            yield RecordTable(POD_COLUMNS, id="pods-table")

    async def timed(pilot: Pilot[None], table: RecordTable, shown: list[Row]) -> tuple[float, float]:
        """Milliseconds of the call, and until the app is idle again."""
        started = time.perf_counter()
        table.show_rows(shown)
        called = time.perf_counter()
        await pilot.pause()
        return (called - started) * 1000, (time.perf_counter() - started) * 1000

    async def run() -> dict[str, Any]:
        app = TableOnly()
        figures: dict[str, list[float]] = {}

        def note(name: str, values: tuple[float, float]) -> None:
            figures.setdefault(f"{name}_ms", []).append(values[0])
            figures.setdefault(f"{name}_idle_ms", []).append(values[1])

        async with app.run_test(size=SIZE) as pilot:
            table = app.query_one(RecordTable)
            await pilot.pause()
            note("fill", await timed(pilot, table, rows))
            for repeat in range(DIFF_REPEATS):
                changed = with_restarts(f"{repeat + 1} (10s ago)")
                note("diff_100", await timed(pilot, table, changed))
                note("diff_0", await timed(pilot, table, changed))
                note("back_100", await timed(pilot, table, rows))
            if table.row_count != len(rows):
                raise RuntimeError(f"the table shows {table.row_count} rows, not {len(rows)}")
        figures["pod_rows_ms"] = row_times
        return {name: statistics.median(values) for name, values in figures.items()} | {"rows": len(rows)}

    emit(asyncio.run(run()))


def run_child(arguments: list[str], timeout_s: float = 900, script: str = __file__) -> dict[str, Any]:
    """Run ``script`` with ``arguments`` in a fresh interpreter and return the figures it printed as JSON."""
    command = [sys.executable, script, *arguments]
    env = checkout_environment()
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s, check=False, env=env)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"the run failed (exit {done.returncode}): {done.stderr[-3000:]}")
    figures: dict[str, Any] = json.loads(lines[-1])
    if figures.get("problem"):
        print(f"  run problem: {figures['problem']}", flush=True)
    return figures


APP_FIGURES = (
    ("listed_s", "runtime start -> all pods listed (s)"),
    ("table_full_s", "runtime start -> pods table full (s)"),
    ("rss_before_mb", "RSS before the app (MB)"),
    ("rss_full_mb", "RSS with the table full (MB)"),
    ("stall_after_full_ms", f"longest UI stall in the {SETTLE_S:.0f} s after (ms)"),
    ("rss_settled_mb", f"RSS {SETTLE_S:.0f} s later (MB)"),
    ("peak_rss_mb", "peak RSS, VmHWM (MB)"),
)
DIFF_FIGURES = (
    ("pod_rows_ms", "pod_rows: the rows of every pod (ms)"),
    ("fill_ms", "show_rows into the empty table (ms)"),
    ("fill_idle_ms", "  ... until idle (ms)"),
    ("diff_100_ms", "show_rows, 100 rows changed (ms)"),
    ("diff_100_idle_ms", "  ... until idle (ms)"),
    ("back_100_ms", "show_rows, the 100 changed back (ms)"),
    ("back_100_idle_ms", "  ... until idle (ms)"),
    ("diff_0_ms", "show_rows, nothing changed (ms)"),
    ("diff_0_idle_ms", "  ... until idle (ms)"),
)


def print_figures(runs: list[dict[str, Any]], figures: tuple[tuple[str, str], ...]) -> None:
    for key, label in figures:
        values = [run[key] for run in runs if key in run]
        if values:
            listed = " ".join(f"{v:.3f}" for v in values)
            print(f"  {label:<46} {statistics.median(values):10.3f}   {listed}")
        else:
            print(f"  {label:<46}        n/a   (no run got this far)")


def main() -> int:
    parser = argparse.ArgumentParser(description="a 5,000-pod namespace: time to the full table, and memory")
    parser.add_argument("--pods", type=int, default=5000, help="extra pods in nimify-system (default: 5000)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--stall-cap", type=float, default=30.0, help="seconds of frozen UI ending a run")
    parser.add_argument("--profile", metavar="FILE", help="one run under cProfile (the app's thread)")
    parser.add_argument("--app-child", metavar="KUBECONFIG", help=argparse.SUPPRESS)
    parser.add_argument("--diff-child", metavar="KUBECONFIG", help=argparse.SUPPRESS)
    parser.add_argument("--expect", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.app_child:
        app_child(args.app_child, args.expect, args.stall_cap, args.profile)
        return 0
    if args.diff_child:
        diff_child(args.diff_child)
        return 0
    with tempfile.TemporaryDirectory(prefix="nimify-bench-") as tmp:
        kubeconfig = Path(tmp) / "kubeconfig"
        started = time.perf_counter()
        sim = start_sim(args.pods, kubeconfig)
        try:
            print(f"simulator with {args.pods} extra pods up in {time.perf_counter() - started:.1f} s")
            expect = len(listed_pods(str(kubeconfig)))
            print(f"{expect} pods in {NAMESPACE}", flush=True)
            app_run = ["--app-child", str(kubeconfig), "--expect", str(expect)]
            app_run += ["--stall-cap", str(args.stall_cap)]
            if args.profile:
                run_child([*app_run, "--profile", args.profile])
                print(f"profile written to {args.profile} (python -m pstats {args.profile})")
                return 0
            app_runs = [run_child(app_run) for _ in range(args.runs)]
            diff_runs = [run_child(["--diff-child", str(kubeconfig)]) for _ in range(args.runs)]
        finally:
            stop_sim(sim)
    print(f"the app, {args.runs} runs: median, then each run")
    print_figures(app_runs, APP_FIGURES)
    rows = diff_runs[0]["rows"]
    print(f"RecordTable alone, {rows} rows, {args.runs} runs of {DIFF_REPEATS} repeats: median of medians")
    print_figures(diff_runs, DIFF_FIGURES)
    table_s = [run["table_full_s"] for run in app_runs if "table_full_s" in run]
    frozen = [run for run in app_runs if run.get("problem")]
    table_met = not frozen and len(table_s) == len(app_runs) and statistics.median(table_s) < TABLE_GOAL_S
    rss = statistics.median(run.get("rss_settled_mb", run["peak_rss_mb"]) for run in app_runs)
    print(f"  goal: table full under {TABLE_GOAL_S} s, UI live -> {'met' if table_met else 'MISSED'}")
    print(f"  goal: RSS under {RSS_GOAL_MB:.0f} MB -> {'met' if rss < RSS_GOAL_MB else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
