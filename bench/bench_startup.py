"""Benchmark: cold start of ``nimify-tui demo`` until every table of the main screen has rows.

Each run is a fresh Python process that does what ``nimify-tui demo`` does (the simulator started as a child
process, the app's modules imported meanwhile, the app on the kubeconfig the simulator writes) but opens the app
headless with ``run_test`` and notes the wall-clock time of each step, measured from just before the process
was spawned:

  imports      nimify_tui's CLI, the app module and the kubeconfig loader imported (the simulator starting)
  sim up       the simulated cluster serves its API and its kubeconfig is written
  runtime      the app is mounted and starts its informers and pollers
  first paint  the first frame of the main screen (Textual's Ready event)
  first list   the first pod list is in the store
  pods ... models  that table has rows
  populated    the pods, events, nodes and models tables all have rows (goal: under 1.5 s)

Also prints the import time of ``nimify_tui.cli`` and of ``nimify_tui.ui.app``, each in a fresh process, and
the wall time of ``python -m nimify_tui --version`` and of an interpreter doing nothing, for reference.
Medians of ``--runs`` runs, after one unmeasured start that warms the disk cache and fills a bytecode cache in
a temporary folder (``PYTHONPYCACHEPREFIX``), as an installed package has its modules compiled;
``--no-bytecode`` measures without it (every module of the checkout compiled at each start).

Usage: python bench/bench_startup.py [--runs 5] [--scenario healthy] [--no-bytecode] [--profile FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

from nimify_tui.live.keys import PODS

GOAL_S = 1.5
REPO = Path(__file__).resolve().parents[1]
TABLES = ("pods", "events", "nodes", "models")
STEPS = ("imports", "sim up", "runtime", "first paint", "first list", *TABLES, "populated")
WAIT_TIMEOUT_S = 30.0
SIZE = (160, 45)


def child(scenario: str) -> None:
    """One cold start; prints the wall-clock time of each step as JSON (after the app has closed)."""
    import asyncio
    import gc

    gc.disable()  # as run_tui does: the main screen enables it again once the first data is in
    from nimify_tui import cli  # noqa: F401  (imported as the console script does)
    from nimify_tui.sim.process import SimProcess

    folder = Path(tempfile.mkdtemp(prefix="nimify-bench-"))
    sim = SimProcess(folder, scenario=scenario).start()  # first, as the demo does: it starts while we import

    from nimify_tui.config import load_settings
    from nimify_tui.kube.client import KubeClient
    from nimify_tui.ui.app import NimifyApp
    from nimify_tui.ui.launch import preload_while_waiting
    from nimify_tui.ui.screens.main import MainScreen
    from nimify_tui.ui.widgets.record_table import RecordTable

    preload_while_waiting()
    stamps: dict[str, float] = {"imports": time.time()}

    class TimedApp(NimifyApp):
        def on_ready(self) -> None:
            stamps["first paint"] = time.time()

    def note_filled_tables(app: NimifyApp, now: float) -> None:
        screen = app.screen
        if isinstance(screen, MainScreen):
            for table in TABLES:
                if table not in stamps and screen.query_one(f"#{table}-table", RecordTable).row_count:
                    stamps[table] = now

    async def watch(app: NimifyApp) -> None:
        async with app.run_test(size=SIZE):
            store = app.runtime.store
            deadline = time.monotonic() + WAIT_TIMEOUT_S
            while True:
                now = time.time()
                if "first list" not in stamps and store.version(PODS) > 0:
                    stamps["first list"] = now
                note_filled_tables(app, now)
                if all(table in stamps for table in TABLES):
                    stamps["populated"] = now
                    break
                if time.monotonic() > deadline:
                    raise TimeoutError(f"tables still empty after {WAIT_TIMEOUT_S:.0f}s")
                await asyncio.sleep(0.002)

    try:
        kubeconfig = sim.wait_ready()
        stamps["sim up"] = time.time()
        config = folder / "config.toml"
        config.write_text("")
        settings = load_settings({}, {}, config)
        client = KubeClient.from_kubeconfig(str(kubeconfig), "sim-admin")
        policy = settings.context_policy("sim-admin")
        app = TimedApp(client, settings, policy=policy, scenario=scenario, record_journal=False)
        start_runtime = app.runtime.start

        def timed_start() -> None:
            stamps["runtime"] = time.time()
            start_runtime()

        app.runtime.start = timed_start  # type: ignore[method-assign]
        asyncio.run(watch(app))
    finally:
        sim.stop()
        shutil.rmtree(folder, ignore_errors=True)
    print(json.dumps(stamps), flush=True)


def child_environment(bytecode_cache: Path | None) -> dict[str, str]:
    """This checkout's package first on the path, and the bytecode cache (or none)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    if bytecode_cache is not None:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(bytecode_cache)
    else:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def one_start(scenario: str, env: Mapping[str, str]) -> dict[str, float]:
    started = time.time()
    done = subprocess.run(
        [sys.executable, __file__, "--child", "--scenario", scenario],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"the start failed (exit {done.returncode}): {done.stderr[-2000:]}")
    stamps: dict[str, float] = json.loads(lines[-1])
    return {step: stamps[step] - started for step in STEPS if step in stamps}


def wall_time(arguments: list[str], env: Mapping[str, str]) -> float:
    """Seconds a fresh interpreter takes to run with ``arguments``."""
    started = time.perf_counter()
    subprocess.run([sys.executable, *arguments], capture_output=True, check=True, timeout=60, env=env)
    return time.perf_counter() - started


def import_time(module: str, env: Mapping[str, str]) -> float:
    """Seconds ``import module`` takes in a fresh interpreter."""
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    command = [sys.executable, "-c", code]
    done = subprocess.run(command, capture_output=True, text=True, check=True, timeout=60, env=env)
    return float(done.stdout.strip())


def measure(args: argparse.Namespace, env: Mapping[str, str]) -> None:
    one_start(args.scenario, env)  # unmeasured: warms the disk cache and fills the bytecode cache
    runs = [one_start(args.scenario, env) for _ in range(args.runs)]
    print(f"demo start, scenario {args.scenario}, {args.runs} runs (seconds from spawning the process):")
    for step in STEPS:
        values = [run[step] for run in runs if step in run]
        median, least, listed = statistics.median(values), min(values), " ".join(f"{v:.3f}" for v in values)
        print(f"  {step:<12} median {median:6.3f}  min {least:6.3f}  runs {listed}")
    populated = statistics.median(run["populated"] for run in runs)
    verdict = "met" if populated < GOAL_S else "MISSED"
    print(f"  goal: populated under {GOAL_S} s -> {verdict} ({populated:.3f} s)")

    print("in a fresh interpreter (median seconds):")
    for module in ("nimify_tui.cli", "nimify_tui.ui.app"):
        seconds = statistics.median(import_time(module, env) for _ in range(args.runs))
        print(f"  import {module:<24} {seconds:.3f}")
    for label, arguments in (
        ("python -c pass", ["-c", "pass"]),
        ("nimify-tui --version", ["-m", "nimify_tui", "--version"]),
    ):
        seconds = statistics.median(wall_time(arguments, env) for _ in range(args.runs))
        print(f"  {label:<31} {seconds:.3f} (wall)")


def main() -> int:
    parser = argparse.ArgumentParser(description="cold start of the demo until every table has rows")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--scenario", default="healthy")
    parser.add_argument("--no-bytecode", action="store_true", help="compile the modules at each start")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--profile", metavar="FILE", help="run one start under cProfile, writing FILE")
    args = parser.parse_args()
    if args.child:
        child(args.scenario)
        return 0
    cache = None if args.no_bytecode else Path(tempfile.mkdtemp(prefix="nimify-bench-pyc-"))
    try:
        env = child_environment(cache)
        if args.profile:
            one_start(args.scenario, env)  # fills the bytecode cache
            child_run = [__file__, "--child", "--scenario", args.scenario]
            profiled = [sys.executable, "-m", "cProfile", "-o", args.profile, *child_run]
            subprocess.run(profiled, check=True, capture_output=True, env=env)
            print(f"profile written to {args.profile} (python -m pstats {args.profile})")
        else:
            measure(args, env)
    finally:
        if cache is not None:
            shutil.rmtree(cache, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
