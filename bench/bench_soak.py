"""Benchmark: the app's memory over a long soak under steady pod updates and events.

The simulated cluster runs in its own process (``nimify-tui sim --pods N --event-rate E``), and so does the
patcher of ``bench_update_storm.py``, which merge-patches an annotation of the nimify-system pods at ``--rate``
a second for the whole soak (each patch a MODIFIED event on the app's pods watch). The app runs headless in a
fresh process at 160x45 with its tables filled; every ``--sample`` seconds it notes its resident memory
(``VmRSS``), the objects the garbage collector tracks, and its CPU time. Reported:

  rss at 5 min     the resident memory once the first five minutes are over (caches and tables are warm)
  rss end / max    at the end, and the highest sample after the first five minutes
  growth           (end - at 5 min) / at 5 min, and (max - at 5 min) / at 5 min (goal: under 10 %)
  objects          gc-tracked objects at 5 min and at the end
  cores            the app's CPU over the soak

Usage: python bench/bench_soak.py [--minutes 30] [--rate 100] [--pods 1000] [--event-rate 5] [--sample 10]
Run it niced in the background: it takes the whole soak.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench_big_namespace import LoopWatch, bench_app, checkout_environment, emit, memory_mb, stop_sim
from bench_big_namespace import run_child as run_script

WARM_S = 300.0  # memory is compared with its level after the first five minutes
GROWTH_GOAL = 0.10
SIZE = (160, 45)
WAIT_TIMEOUT_S = 120.0
STALL_CAP_S = 120.0
STORM = Path(__file__).with_name("bench_update_storm.py")


def start_sim(pods: int, event_rate: float, kubeconfig: Path) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "nimify_tui", "sim", "--pods", str(pods), "--event-rate", str(event_rate)]
    command += ["--kubeconfig-out", str(kubeconfig)]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=checkout_environment()
    )
    assert process.stdout is not None
    for line in process.stdout:
        if "kubeconfig" in line:
            return process
    raise RuntimeError(f"the simulator stopped before serving (exit {process.wait()})")


def app_child(kubeconfig: str, seconds: float, rate: float, sample_s: float, samples_file: str) -> None:
    """The soak; writes each sample to ``samples_file`` as it is taken (a soak cut short keeps what it measured),
    then its figures as one JSON line, and ends the process. It ends on the clock, whether or not the patchers
    kept their pace (a loaded machine)."""
    import asyncio

    from nimify_tui.ui.app import NimifyApp
    from nimify_tui.ui.screens.main import MainScreen
    from nimify_tui.ui.widgets.record_table import RecordTable

    result: dict[str, Any] = {"samples": []}

    def finish(problem: str = "") -> None:
        result["problem"] = problem
        emit(result)

    watch = LoopWatch(STALL_CAP_S, finish)

    def tables_filled(app: NimifyApp) -> bool:
        screen = app.screen
        return isinstance(screen, MainScreen) and all(
            screen.query_one(f"#{name}-table", RecordTable).row_count for name in ("pods", "events", "nodes")
        )

    async def run(app: NimifyApp) -> None:
        beating = asyncio.get_running_loop().create_task(watch.beat())
        async with app.run_test(size=SIZE):
            deadline = time.monotonic() + WAIT_TIMEOUT_S
            while not tables_filled(app):
                if time.monotonic() > deadline:
                    finish(f"the tables were not filled in {WAIT_TIMEOUT_S:.0f} s")
                await asyncio.sleep(0.1)
            shares = max(1, math.ceil(rate / 250))
            storm = [str(STORM), "--patcher", kubeconfig, "--rate", str(rate), "--seconds", str(seconds)]
            patchers = [
                subprocess.Popen(
                    [sys.executable, *storm, "--share", f"{share}/{shares}"],
                    stdout=subprocess.PIPE,
                    text=True,
                    env=checkout_environment(),
                )
                for share in range(shares)
            ]
            started, cpu = time.perf_counter(), time.process_time()
            watch.longest = 0.0
            with open(samples_file, "a") as out:
                while time.perf_counter() - started < seconds and any(p.poll() is None for p in patchers):
                    sample = {
                        "t": time.perf_counter() - started,
                        "rss_mb": memory_mb("VmRSS"),
                        "objects": len(gc.get_objects()),
                        "cores": (time.process_time() - cpu) / max(1e-9, time.perf_counter() - started),
                    }
                    result["samples"].append(sample)
                    out.write(json.dumps(sample) + "\n")
                    out.flush()
                    await asyncio.sleep(sample_s)
            result["stall_max_ms"] = watch.longest * 1000  # before the patchers are stopped and read (blocking)
            result["cores"] = (time.process_time() - cpu) / (time.perf_counter() - started)
            for patcher in patchers:
                if patcher.poll() is None:
                    patcher.terminate()
            tallies = []
            for patcher in patchers:
                out_text = patcher.communicate()[0].strip()
                tallies.append(json.loads(out_text.splitlines()[-1]) if out_text else {"sent": 0, "failed": 0})
            result["patches"] = sum(t["sent"] for t in tallies)
            result["patch_failures"] = sum(t["failed"] for t in tallies)
            beating.cancel()
            finish()

    with tempfile.TemporaryDirectory(prefix="nimify-bench-") as tmp:
        app = bench_app(kubeconfig, Path(tmp))
        asyncio.run(run(app))


def report(run: dict[str, Any], minutes: float) -> None:
    samples = run.get("samples") or []
    if run.get("problem"):
        print(f"  problem: {run['problem']}")
    warm = [s for s in samples if s["t"] >= WARM_S] or samples
    if not warm:
        print("  no samples")
        return
    at_warm, end = warm[0], warm[-1]
    peak = max(s["rss_mb"] for s in warm)
    growth_end = (end["rss_mb"] - at_warm["rss_mb"]) / at_warm["rss_mb"]
    growth_peak = (peak - at_warm["rss_mb"]) / at_warm["rss_mb"]
    print(f"soak of {minutes:g} min: {run.get('patches', 0)} patches ({run.get('patch_failures', 0)} refused)")
    print(f"  rss first sample / at {at_warm['t']:.0f} s / end / max after: ", end="")
    print(f"{samples[0]['rss_mb']:.1f} / {at_warm['rss_mb']:.1f} / {end['rss_mb']:.1f} / {peak:.1f} MB")
    print(f"  growth after the first 5 min: end {growth_end:+.1%}, max {growth_peak:+.1%}")
    print(f"  gc objects at {at_warm['t']:.0f} s / end: {at_warm['objects']} / {end['objects']}")
    cores, stall = run.get("cores", 0.0), run.get("stall_max_ms", 0.0)
    print(f"  app CPU over the soak: {cores:.3f} cores; longest stall {stall:.0f} ms")
    step = max(1, round(60 / max(1e-9, samples[1]["t"] - samples[0]["t"]))) if len(samples) > 1 else 1
    print("  rss each minute (MB):", " ".join(f"{s['rss_mb']:.0f}" for s in samples[::step]))
    met = max(growth_end, growth_peak) < GROWTH_GOAL
    print(f"  goal: growth under {GROWTH_GOAL:.0%} -> {'met' if met else 'MISSED'}")


def main() -> int:
    parser = argparse.ArgumentParser(description="the app's memory over a long soak of pod updates")
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--rate", type=float, default=100.0, help="pod updates per second (default: 100)")
    parser.add_argument("--pods", type=int, default=1000, help="extra pods in nimify-system (default: 1000)")
    parser.add_argument("--event-rate", type=float, default=5.0, help="simulator events per second (default: 5)")
    parser.add_argument("--sample", type=float, default=10.0, help="seconds between samples (default: 10)")
    parser.add_argument("--json", metavar="FILE", help="also write the samples there")
    parser.add_argument(
        "--samples", metavar="FILE", default="soak-samples.jsonl", help="each sample as it is taken (JSON lines)"
    )
    parser.add_argument("--app-child", metavar="KUBECONFIG", help=argparse.SUPPRESS)
    args = parser.parse_args()
    seconds = args.minutes * 60
    if args.app_child:
        app_child(args.app_child, seconds, args.rate, args.sample, args.samples)
        return 0
    with tempfile.TemporaryDirectory(prefix="nimify-bench-") as tmp:
        kubeconfig = Path(tmp) / "kubeconfig"
        sim = start_sim(args.pods, args.event_rate, kubeconfig)
        try:
            child = ["--app-child", str(kubeconfig), "--minutes", str(args.minutes), "--rate", str(args.rate)]
            child += ["--sample", str(args.sample), "--samples", str(Path(args.samples).resolve())]
            run = run_script(child, seconds + WAIT_TIMEOUT_S + STALL_CAP_S + 300, __file__)
        finally:
            stop_sim(sim)
    if args.json:
        Path(args.json).write_text(json.dumps(run))
    report(run, args.minutes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
