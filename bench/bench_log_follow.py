"""Benchmark: following one container that logs 50,000 lines a second, without dropping lines or freezing the UI.

The simulated cluster runs in its own process with ``--log-rate R``: its log-gen pod in nimify-system writes R
numbered lines a second (``seq=N``). A fresh process opens the app headless, opens the logs of that pod (the logs
screen, as ``l`` does: follow on) and keeps it open for ``--seconds``. Every line the log viewer is given is
counted, and its number checked: the lines received must be consecutive, so that

  received     lines the viewer got while following, and per second
  missing      numbers skipped between the first and the last line received (goal: 0)
  behind       how far the last line received is behind the last line written when the run ends (lines, and
               seconds at the rate), and how many lines the viewer was given but had not taken in yet
  stall        the longest time the app's event loop did not run (goal: under 100 ms)
  stall CPU    the most CPU time the app's main thread used between two beats of the loop (10 ms apart): the
               stall's share that the machine's load does not lengthen (another process taking the core does)
  key          meanwhile a key (``end``: follow) is pressed every 0.5 s: its p95 until the next frame is drawn
  cores        the app's CPU over the run

``--trace-stalls FILE`` writes where the longest stalls of the last run came from (``stall_trace.py``: the main
thread's stacks during each, and the threads that used the CPU meanwhile); ``--profile FILE`` a cProfile of the
app's thread over the last run.

Usage: python bench/bench_log_follow.py [--rate 50000] [--seconds 20] [--runs 3] [--trace-stalls FILE]
       [--profile FILE]
"""

from __future__ import annotations

import argparse
import itertools
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench_big_namespace import LoopWatch, bench_app, checkout_environment, emit, stop_sim
from bench_big_namespace import run_child as run_script
from stall_trace import CallTimes, CollectionTimes, CpuBeat, StallTracer

NAMESPACE = "nimify-system"
STALL_GOAL_MS = 100.0
SIZE = (160, 45)
WAIT_TIMEOUT_S = 60.0
STALL_CAP_S = 60.0
SEQ = re.compile(rb"seq=(\d+)")


def start_sim(rate: float, kubeconfig: Path) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "nimify_tui", "sim", "--log-rate", str(rate), "--kubeconfig-out", str(kubeconfig)]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=checkout_environment()
    )
    assert process.stdout is not None
    for line in process.stdout:
        if "kubeconfig" in line:
            threading.Thread(target=process.stdout.read, daemon=True).start()
            return process
    raise RuntimeError(f"the simulator stopped before serving (exit {process.wait()})")


def app_child(
    kubeconfig: str, seconds: float, rate: float, trace: str | None, profile: str | None, modes: tuple[bool, str]
) -> None:
    import asyncio
    import cProfile

    from textual import events

    from nimify_tui.kube.logs import LogRequest, stream_log_lines
    from nimify_tui.ui.app import NimifyApp
    from nimify_tui.ui.screens.logs import LogsScreen
    from nimify_tui.ui.widgets.log_view import LogView

    result: dict[str, Any] = {}
    received: list[int] = []  # the numbers of the lines given to the viewer, in order
    counted = {"lines": 0, "others": 0}

    def finish(problem: str = "") -> None:
        result["problem"] = problem
        emit(result)

    watch = LoopWatch(STALL_CAP_S, finish)
    cpu_beat = CpuBeat()
    tracer = StallTracer(watch) if trace else None
    calls, collections = CallTimes(), CollectionTimes()
    if trace:
        from textual.screen import Screen

        from nimify_tui.ui.screens.main import MainScreen
        from nimify_tui.ui.widgets.log_view import LogLines

        for owner, name in (
            (Screen, "_refresh_layout"),
            (Screen, "_compositor_refresh"),
            (LogsScreen, "_drain"),
            (LogLines, "_ingest"),
            (LogLines, "_sync"),
            (MainScreen, "refresh_panes"),
        ):
            calls.wrap(owner, name)
        collections.start()
    profiler = cProfile.Profile() if profile else None
    append_lines = LogView.append_lines

    def counting_append(view: LogView, lines: Any) -> None:
        """Notes the number of every line given to the viewer, in one pass over the batch (the counting runs on the
        app's event loop: a line at a time, it took a third of the loop's time at 50,000 lines/s)."""
        lines = list(lines)
        try:
            joined = b"\n".join(lines)
        except TypeError:  # a message of the logs screen's own ("--- ...") among the lines
            joined = b"\n".join(line if isinstance(line, bytes) else line.encode() for line in lines)
        numbers = SEQ.findall(joined)
        received.extend(map(int, numbers))
        counted["others"] += len(lines) - len(numbers)
        append_lines(view, lines)

    LogView.append_lines = counting_append  # type: ignore[method-assign,assignment]

    def last_written(app: NimifyApp, pod: str) -> int:
        """The number of the newest line, read from the API server (a tail of one line)."""
        request = LogRequest(NAMESPACE, pod, "log-gen", follow=False, tail_lines=1)
        for line in stream_log_lines(app.runtime.client, request):
            found = SEQ.search(line)
            if found:
                return int(found.group(1))
        return 0

    async def next_frame(app: NimifyApp) -> None:
        drawn = asyncio.Event()
        app.call_after_refresh(drawn.set)
        await asyncio.wait_for(drawn.wait(), 30)

    async def run(app: NimifyApp) -> None:
        from nimify_tui.live.keys import PODS

        beating = asyncio.get_running_loop().create_task(watch.beat())
        cpu_beating = asyncio.get_running_loop().create_task(cpu_beat.beat())
        async with app.run_test(size=SIZE):
            deadline = time.monotonic() + WAIT_TIMEOUT_S
            pod = ""
            while not pod:
                pod = next((p.name for p in app.runtime.store.items(PODS) if p.name.startswith("log-gen-")), "")
                if time.monotonic() > deadline:
                    finish("no log-gen pod listed")
                await asyncio.sleep(0.05)
            screen = LogsScreen(NAMESPACE, pod, ["log-gen"], "log-gen", previous=False)
            await app.push_screen(screen)
            wrap, search = modes
            lines_view = screen.query_one(LogView).log_lines
            if wrap:
                lines_view.action_toggle_wrap()
            if search:
                lines_view.search(search)
                lines_view.action_follow()  # a search stops following at its first match: follow again
            while not received:
                if time.monotonic() > deadline:
                    finish("no line received")
                await asyncio.sleep(0.01)
            cpu, started = time.process_time(), time.perf_counter()
            watch.longest = cpu_beat.longest_s = 0.0
            if tracer is not None:
                tracer.start()
                calls.reset()
                collections.reset()
            if profiler is not None:
                profiler.enable()
            first = len(received)
            keys: list[float] = []
            while time.perf_counter() - started < seconds:
                pressed = time.perf_counter()
                app.post_message(events.Key("end", None))
                await next_frame(app)
                keys.append((time.perf_counter() - pressed) * 1000)
                await asyncio.sleep(0.5)
            elapsed = time.perf_counter() - started
            result["cores"] = (time.process_time() - cpu) / elapsed
            result["stall_max_ms"] = watch.longest * 1000
            result["stall_cpu_max_ms"] = cpu_beat.longest_s * 1000
            result["others"] = counted["others"]
            if profiler is not None and profile:
                profiler.disable()
                profiler.dump_stats(profile)
            if tracer is not None and trace:
                tracer.stop()
                Path(trace).write_text("\n".join([*tracer.report(), *calls.report(), *collections.report()]) + "\n")
            newest = await asyncio.get_running_loop().run_in_executor(None, last_written, app, pod)
            numbers = list(received)
            result["received"] = len(numbers)
            result["received_per_s"] = (len(numbers) - first) / elapsed
            result["missing"] = (numbers[-1] - numbers[0] + 1) - len(numbers)
            result["out_of_order"] = sum(1 for a, b in itertools.pairwise(numbers) if b != a + 1)
            result["behind_lines"] = newest - numbers[-1]
            result["behind_s"] = (newest - numbers[-1]) / rate
            viewer = app.screen.query_one(LogView).log_lines
            result["viewer_lines"] = viewer.status.lines
            result["backlog_lines"] = len(numbers) + counted["others"] - viewer.store.end_number
            ordered = sorted(keys)
            result["key_p95_ms"] = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
            beating.cancel()
            cpu_beating.cancel()
            finish()

    with tempfile.TemporaryDirectory(prefix="nimify-bench-") as tmp:
        app = bench_app(kubeconfig, Path(tmp))
        asyncio.run(run(app))


FIGURES = (
    ("received", "lines received"),
    ("received_per_s", "lines received per second"),
    ("missing", "lines missing (numbers skipped)"),
    ("out_of_order", "breaks in the numbering"),
    ("behind_lines", "lines behind the newest at the end"),
    ("behind_s", "  ... in seconds of the rate"),
    ("backlog_lines", "  ... of them given to the viewer, not in yet"),
    ("stall_max_ms", "longest event-loop stall (ms)"),
    ("stall_cpu_max_ms", "most main-thread CPU between two beats (ms)"),
    ("key_p95_ms", "key -> next frame, p95 (ms)"),
    ("cores", "app CPU (cores)"),
)


def main() -> int:
    parser = argparse.ArgumentParser(description="following a container that logs 50,000 lines a second")
    parser.add_argument("--rate", type=float, default=50_000.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--wrap", action="store_true", help="follow with long lines wrapped")
    parser.add_argument("--search", metavar="TEXT", default="", help="follow with this search on (its matches kept)")
    parser.add_argument("--trace-stalls", metavar="FILE", help="where the last run's longest stalls came from")
    parser.add_argument("--profile", metavar="FILE", help="a cProfile of the app's thread over the last run")
    parser.add_argument("--app-child", metavar="KUBECONFIG", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.app_child:
        app_child(args.app_child, args.seconds, args.rate, args.trace_stalls, args.profile, (args.wrap, args.search))
        return 0
    with tempfile.TemporaryDirectory(prefix="nimify-bench-") as tmp:
        kubeconfig = Path(tmp) / "kubeconfig"
        sim = start_sim(args.rate, kubeconfig)
        try:
            child = ["--app-child", str(kubeconfig), "--seconds", str(args.seconds), "--rate", str(args.rate)]
            child += [*(["--wrap"] if args.wrap else []), *(["--search", args.search] if args.search else [])]
            runs = [run_script(child, args.seconds + 300, __file__) for _ in range(args.runs - 1)]
            for option, value in (("--trace-stalls", args.trace_stalls), ("--profile", args.profile)):
                if value:
                    child += [option, str(Path(value).resolve())]
            runs.append(run_script(child, args.seconds + 300, __file__))
        finally:
            stop_sim(sim)
    print(f"following {args.rate:g} lines/s for {args.seconds:g} s, {args.runs} runs: median, then each run")
    for key, label in FIGURES:
        values = [run[key] for run in runs if key in run]
        if values:
            listed = " ".join(f"{v:.3f}" for v in values)
            print(f"  {label:<40} {statistics.median(values):12.3f}   {listed}")
    complete = [run for run in runs if not run.get("problem")]
    missing = max((run["missing"] for run in complete), default=-1)
    stall = statistics.median(run["stall_max_ms"] for run in complete) if complete else float("inf")
    print(f"  goal: no line missing -> {'met' if missing == 0 else 'MISSED'}")
    print(f"  goal: stall under {STALL_GOAL_MS:.0f} ms -> {'met' if stall < STALL_GOAL_MS else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
