"""Benchmark: 50,000 pods across the watched namespaces, the app beside ``kubectl get pods -A -o wide``.

The simulated cluster runs in its own process (``nimify-tui sim --pods N --namespaces`` the four namespaces the
app watches: load-gen deployments of 100 pods, in turn), so that the figures are the app's alone. Its start is
timed too (goal: under 30 s). Then:

  kubectl      ``kubectl get pods -A -o wide`` and ``kubectl get pods -n nimify-system -o wide`` on the same
               simulator, each a fresh process, wall time until it has printed the whole table; kubectl asks in
               pages of 500, and ``-A`` is timed in one request too (``--chunk-size=0``)
  app (all)    a fresh process opening the app headless with ``:ns all`` (every watched namespace): from the
               runtime's start until the pods table shows its first rows (the first page of a list), until it
               holds a row per pod (goal: 2 s) and the app's CPU time in it (every thread), resident memory then and
               at its peak (goal: 400 MB), the longest stall of the event loop in the seconds after
  app (one)    the same with the pods pane on nimify-system alone
  filter       in each app, the filter prompt (``/``) typed into: each value until the table shows exactly the
               pods it matches and the next frame is drawn (goal: 100 ms); the values narrow, widen and clear

Medians of ``--runs`` runs (kubectl's too). ``--profile FILE`` writes a cProfile of one app run (``:ns all``).

``--trace-stalls FILE`` writes where the longest stalls of the event loop in the seconds after the full table came
from (``stall_trace.py``), in the last run.

``--app-child KUBECONFIG --load-only`` is one app run (``:ns all``) that ends at the full table: a sampling
profiler around it (``py-spy record --gil -- python bench/bench_50k.py --app-child ... --load-only``) sees the load
alone, every thread.

Usage: python bench/bench_50k.py [--pods 50000] [--runs 3] [--modes all,one] [--profile FILE] [--trace-stalls FILE]
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench_big_namespace import LoopWatch, bench_app, checkout_environment, emit, memory_mb, stop_sim
from bench_big_namespace import run_child as run_script
from stall_trace import CollectionTimes, StallTracer

WATCHED = ("nimify-system", "triton-system", "monitoring", "ingress-nginx")  # the app's default namespaces
MAIN = "nimify-system"
TABLE_GOAL_S = 2.0
RSS_GOAL_MB = 400.0
FILTER_GOAL_MS = 100.0
SIM_GOAL_S = 30.0
SIZE = (160, 45)
WAIT_TIMEOUT_S = 120.0
STALL_CAP_S = 60.0
SETTLE_S = 5.0
FILTERS = ("load-gen-1", "load-gen-12", "load-gen-123", "load-gen-12", "nimify-api", "zzz-no-such-pod", "")


def start_sim(pods: int, kubeconfig: Path) -> tuple[subprocess.Popen[str], float]:
    """The simulator serving ``pods`` extra pods over the watched namespaces, and the seconds it took."""
    command = [sys.executable, "-m", "nimify_tui", "sim", "--pods", str(pods), "--namespaces", ",".join(WATCHED)]
    command += ["--kubeconfig-out", str(kubeconfig)]
    started = time.perf_counter()
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=checkout_environment()
    )
    watchdog = threading.Timer(WAIT_TIMEOUT_S, process.kill)
    watchdog.start()
    try:
        assert process.stdout is not None
        for line in process.stdout:
            if "kubeconfig" in line:
                took = time.perf_counter() - started
                threading.Thread(target=process.stdout.read, daemon=True).start()  # never a full pipe
                return process, took
        raise RuntimeError(f"the simulator stopped before serving (exit {process.wait()})")
    finally:
        watchdog.cancel()


def kubectl_seconds(kubeconfig: Path, *args: str) -> tuple[float, int]:
    """Wall time of one ``kubectl get pods ... -o wide`` to its last line, and the lines it printed."""
    started = time.perf_counter()
    done = subprocess.run(
        ["kubectl", "--kubeconfig", str(kubeconfig), "get", "pods", *args, "-o", "wide"],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    return time.perf_counter() - started, done.stdout.count("\n")


def app_child(
    kubeconfig: str, mode: str, profile: str | None, trace: str | None = None, load_only: bool = False
) -> None:
    """One run of the app; writes its figures as one JSON line and ends the process."""
    import asyncio
    import cProfile

    from textual.widgets import Input

    from nimify_tui.live.keys import PODS
    from nimify_tui.ui.app import NimifyApp
    from nimify_tui.ui.panes.pods import PodsPane
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
            if "table full" in marks:
                result["table_full_s"] = marks["table full"] - marks["runtime"]
            result["peak_rss_mb"] = memory_mb("VmHWM")
            result["problem"] = problem
            emit(result)

    watch = LoopWatch(STALL_CAP_S, finish)
    tracer = StallTracer(watch) if trace else None
    collections = CollectionTimes()

    def expected(app: NimifyApp, text: str) -> int:
        """The pods the filter ``text`` keeps (the values above match pod names only)."""
        pattern = re.compile(text, re.IGNORECASE) if text else None
        count = 0
        for pod in app.runtime.store.items(PODS):
            if mode == "one" and pod.namespace != MAIN:
                continue
            if pattern is None or pattern.search(pod.name):
                count += 1
        return count

    async def next_frame(app: NimifyApp) -> None:
        drawn = asyncio.Event()
        app.call_after_refresh(drawn.set)
        await asyncio.wait_for(drawn.wait(), 30)

    async def run(app: NimifyApp) -> None:
        beating = asyncio.get_running_loop().create_task(watch.beat())
        async with app.run_test(size=SIZE):
            store = app.runtime.store
            table = app.screen.query_one("#pods-table", RecordTable)
            deadline = time.monotonic() + WAIT_TIMEOUT_S
            namespaces = WATCHED if mode == "all" else (MAIN,)
            while True:
                if "first rows" not in marks and table.row_count:
                    marks["first rows"] = time.time()
                    result["first_rows_s"] = marks["first rows"] - marks["runtime"]
                    result["first_rows"] = table.row_count
                healths = [store.health().get(f"pods/{ns}") for ns in namespaces]
                if all(h is not None and h.state == "live" for h in healths):
                    total = expected(app, "")
                    if table.row_count >= total:
                        break
                if time.monotonic() > deadline:
                    finish(f"{table.row_count} rows after {WAIT_TIMEOUT_S:.0f} s")
                await asyncio.sleep(0.005)
            marks["table full"] = time.time()
            result["table_full_cpu_s"] = time.process_time() - marks["runtime cpu"]
            result["rows"] = table.row_count
            result["rss_full_mb"] = memory_mb("VmRSS")
            if load_only:  # a sampling profiler around this process sees the load alone
                beating.cancel()
                finish()
                return
            settle_cpu = time.process_time()
            if tracer is not None:
                tracer.start()
                collections.start()
            result["stall_after_full_ms"] = await watch.longest_stall_ms(SETTLE_S)
            result["settle_cpu_s"] = time.process_time() - settle_cpu
            if tracer is not None and trace:
                tracer.stop()
                Path(trace).write_text("\n".join([*tracer.report(), *collections.report()]) + "\n")
            result["rss_settled_mb"] = memory_mb("VmRSS")
            prompt = app.screen.query_one("#prompt", Input)
            app.screen.action_filter()  # what `/` does: the prompt opens in filter mode
            await next_frame(app)
            pane = app.screen.query_one(PodsPane)
            times: list[float] = []
            for text in FILTERS:
                want = expected(app, text)
                started = time.perf_counter()
                prompt.value = text  # as typed: Input.Changed reaches the screen's handler
                while not (pane.filter_text == text and table.row_count == want):
                    if time.perf_counter() - started > 30:
                        finish(f"filter {text!r}: {table.row_count} rows, not {want}")
                    await asyncio.sleep(0.001)
                await next_frame(app)
                times.append((time.perf_counter() - started) * 1000)
            result["filter_ms"] = times
            result["filter_max_ms"] = max(times)
            beating.cancel()
            finish()

    import gc

    gc.disable()  # as the launcher does (ui/launch.py): the main screen turns it on once the first data is in
    with tempfile.TemporaryDirectory(prefix="nimify-bench-") as tmp:
        app = bench_app(kubeconfig, Path(tmp))
        if mode == "all":
            app.namespace_shown = "all"
        start_runtime = app.runtime.start

        def timed_start() -> None:
            marks["runtime"] = time.time()
            marks["runtime cpu"] = time.process_time()
            start_runtime()

        app.runtime.start = timed_start  # type: ignore[method-assign]
        if profiler is not None:
            profiler.enable()
        asyncio.run(run(app))


FIGURES = (
    ("first_rows_s", "runtime start -> first pod rows shown (s)"),
    ("first_rows", "  rows then"),
    ("table_full_s", "runtime start -> pods table full (s)"),
    ("table_full_cpu_s", "  the app's CPU in that time, every thread (s)"),
    ("rows", "rows"),
    ("rss_before_mb", "RSS before the app (MB)"),
    ("rss_full_mb", "RSS with the table full (MB)"),
    ("rss_settled_mb", f"RSS {SETTLE_S:.0f} s later (MB)"),
    ("peak_rss_mb", "peak RSS, VmHWM (MB)"),
    ("stall_after_full_ms", f"longest UI stall in the {SETTLE_S:.0f} s after (ms)"),
    ("settle_cpu_s", f"  the app's CPU in those {SETTLE_S:.0f} s (s)"),
    ("filter_max_ms", "filter: slowest value to its rows drawn (ms)"),
)


def main() -> int:
    parser = argparse.ArgumentParser(description="50,000 pods: the app beside kubectl")
    parser.add_argument("--pods", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--modes", default="all,one", help="all (:ns all), one (nimify-system), or both")
    parser.add_argument("--profile", metavar="FILE", help="one run (:ns all) under cProfile")
    parser.add_argument(
        "--trace-stalls", metavar="FILE", help="where the UI's stalls after the full table came from (the last run)"
    )
    parser.add_argument("--app-child", metavar="KUBECONFIG", help=argparse.SUPPRESS)
    parser.add_argument("--load-only", action="store_true", help=argparse.SUPPRESS)  # the child ends at the full table
    parser.add_argument("--mode", default="all", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.app_child:
        app_child(args.app_child, args.mode, args.profile, args.trace_stalls, args.load_only)
        return 0
    with tempfile.TemporaryDirectory(prefix="nimify-bench-") as tmp:
        kubeconfig = Path(tmp) / "kubeconfig"
        sim, sim_s = start_sim(args.pods, kubeconfig)
        print(f"simulator with {args.pods} extra pods up in {sim_s:.1f} s (goal {SIM_GOAL_S:.0f} s)", flush=True)
        try:
            if args.profile:
                run_script(["--app-child", str(kubeconfig), "--mode", "all", "--profile", args.profile], 600, __file__)
                print(f"profile written to {args.profile}")
                return 0
            kubectl_runs = (
                ("-A", ["-A"]),
                ("-A --chunk-size=0", ["-A", "--chunk-size=0"]),  # one request, as before the simulator paged
                (f"-n {MAIN}", ["-n", MAIN]),
            )
            for label, options in kubectl_runs:
                runs = [kubectl_seconds(kubeconfig, *options) for _ in range(args.runs)]
                times = " ".join(f"{t:.2f}" for t, _ in runs)
                median = statistics.median(t for t, _ in runs)
                print(f"kubectl get pods {label} -o wide: {median:.2f} s ({times}), {runs[0][1]} lines", flush=True)
            for mode in args.modes.split(","):
                child = ["--app-child", str(kubeconfig), "--mode", mode]
                if args.trace_stalls:
                    child += ["--trace-stalls", args.trace_stalls]
                runs = [run_script(child, 600, __file__) for _ in range(args.runs)]
                print(f"app, {':ns all' if mode == 'all' else MAIN}: median, then each run")
                for key, label in FIGURES:
                    values = [run[key] for run in runs if key in run]
                    if values:
                        listed = " ".join(f"{v:.3f}" for v in values)
                        print(f"  {label:<46} {statistics.median(values):10.3f}   {listed}")
                for run in runs:
                    if "filter_ms" in run:
                        pairs = zip(FILTERS, run["filter_ms"], strict=True)
                        each = ", ".join(f"{text or '(cleared)'} {ms:.0f}" for text, ms in pairs)
                        print(f"  filter (ms): {each}")
                full = statistics.median(run.get("table_full_s", float("inf")) for run in runs)
                peak = statistics.median(run.get("peak_rss_mb", float("inf")) for run in runs)
                slowest = statistics.median(run.get("filter_max_ms", float("inf")) for run in runs)
                print(f"  goal: table full under {TABLE_GOAL_S:g} s -> {'met' if full < TABLE_GOAL_S else 'MISSED'}")
                print(f"  goal: peak RSS under {RSS_GOAL_MB:.0f} MB -> {'met' if peak < RSS_GOAL_MB else 'MISSED'}")
                met = "met" if slowest < FILTER_GOAL_MS else "MISSED"
                print(f"  goal: filter under {FILTER_GOAL_MS:.0f} ms -> {met}")
                sys.stdout.flush()
        finally:
            stop_sim(sim)
    return 0


if __name__ == "__main__":
    sys.exit(main())
