"""Render the TUI on the simulated cluster to SVG: the main screen of every outage scenario, and drill-downs.

For each scenario the simulator is started and the app opened headless at ``--size``; once the panes show data
(pods listed, the probes, Triton and metrics sources heard from, a few latency points scraped) the screen is
saved as ``main-<scenario>.svg``, and again at the smallest supported terminal (80x24) as
``main-<scenario>-80x24.svg``. The crash-loop scenario also gives ``pod-describe.svg`` and ``logs-previous.svg``
(its first faulty pod, reached with the keys an operator would press). The simulator's seed is fixed, so pod
names and the layout repeat from run to run.

Usage: python scripts/make_screenshots.py [--out screenshots] [--scenario NAME ...] [--size 160x45]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from textual.pilot import Pilot

from nimify_tui.config import load_settings
from nimify_tui.kube.client import KubeClient
from nimify_tui.kube.faults import pod_fault
from nimify_tui.kube.records import PodRecord
from nimify_tui.live.keys import LATENCY, PODS
from nimify_tui.sim.k8s.kubeconfig import write_kubeconfig
from nimify_tui.sim.scenarios import SCENARIOS
from nimify_tui.sim.server import SimThread
from nimify_tui.ui.app import NimifyApp
from nimify_tui.ui.screens.logs import LogsScreen
from nimify_tui.ui.screens.main import MainScreen
from nimify_tui.ui.screens.pod import PodScreen
from nimify_tui.ui.widgets.log_view import LogView
from nimify_tui.ui.widgets.record_table import RecordTable

DRILL_SCENARIO = "crashloop-oom"  # its first faulty pod gives the describe and previous-logs shots
SMALL_SIZE = (80, 24)  # every scenario is shown once more at the smallest supported terminal
NAMESPACE = "nimify-system"
POLLED_SOURCES = ("probes", "triton", "metrics", "metrics-api")
LATENCY_POINTS = 3  # the first scrape gives no API p95 (it needs a delta), so wait for a few
POLL_INTERVAL_S = 1.0  # probes, Triton and metrics polled every second, so the panes fill sooner
WAIT_TIMEOUT_S = 60.0
POLL_S = 0.05
SETTLED_POLLS = 6  # the log line count unchanged over this many polls: the previous container's log is all in


@dataclass(frozen=True)
class Session:
    """One app opened on one scenario: which shots to take from it."""

    scenario: str
    size: tuple[int, int]
    main_name: str
    drill_down: bool = False


def parse_size(text: str) -> tuple[int, int]:
    """``160x45`` -> (160, 45)."""
    width, sep, height = text.lower().partition("x")
    if not sep or not width.isdigit() or not height.isdigit() or int(width) < 20 or int(height) < 10:
        raise argparse.ArgumentTypeError(f"invalid size {text!r}: expected WIDTHxHEIGHT, like 160x45")
    return int(width), int(height)


def plan_sessions(scenarios: list[str], size: tuple[int, int]) -> list[Session]:
    """Two sessions per scenario: at ``size``, and at 80x24 (one, when ``size`` is 80x24)."""
    sessions = []
    for name in scenarios:
        sessions.append(Session(name, size, f"main-{name}.svg", name == DRILL_SCENARIO))
        if size != SMALL_SIZE:
            sessions.append(Session(name, SMALL_SIZE, f"main-{name}-{SMALL_SIZE[0]}x{SMALL_SIZE[1]}.svg"))
    return sessions


async def wait_until(pilot: Pilot[int], condition: Callable[[], object], what: str) -> None:
    """Let the app run until ``condition()`` is true; fail naming ``what`` after ``WAIT_TIMEOUT_S``."""
    deadline = time.monotonic() + WAIT_TIMEOUT_S
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"still waiting for {what} after {WAIT_TIMEOUT_S:.0f}s")
        await pilot.pause(POLL_S)


def main_screen_filled(app: NimifyApp) -> bool:
    """Pods shown, every polled source heard from at least once, and a few latency points scraped."""
    screen = app.screen
    if not isinstance(screen, MainScreen) or screen.query_one("#pods-table", RecordTable).row_count == 0:
        return False
    store = app.runtime.store
    health = store.health()
    if any(name not in health or health[name].state == "syncing" for name in POLLED_SOURCES):
        return False
    history = store.value(LATENCY)
    return history is not None and len(history.points) >= LATENCY_POINTS


def first_faulty_pod(app: NimifyApp) -> str:
    """The first faulty pod of the namespace by name, as ``namespace/name`` (the pane lists faulty pods first,
    by name)."""
    now = time.time()
    pods: list[PodRecord] = app.runtime.store.items(PODS)
    faulty = sorted(p.name for p in pods if p.namespace == NAMESPACE and pod_fault(p, now) is not None)
    if not faulty:
        raise RuntimeError(f"no faulty pod in {NAMESPACE}: the {DRILL_SCENARIO} scenario shows no symptom")
    return f"{NAMESPACE}/{faulty[0]}"


async def select_pod(pilot: Pilot[int], app: NimifyApp, key: str) -> None:
    """Focus the pods pane (key 1) and put its cursor on the pod ``key``, as the arrow keys would."""
    await pilot.press("1")
    table = app.screen.query_one("#pods-table", RecordTable)
    table.move_cursor(row=table.get_row_index(key))
    await pilot.pause()
    if table.selected_key != key:
        raise RuntimeError(f"could not select {key} in the pods pane")


def describe_loaded(app: NimifyApp) -> bool:
    screen = app.screen
    if not isinstance(screen, PodScreen):
        return False
    return screen.query_one("#text-describe", LogView).text not in ("", "loading…")


def log_line_count(app: NimifyApp) -> int:
    screen = app.screen
    if not isinstance(screen, LogsScreen):
        return 0
    return screen.query_one(LogView).log_lines.status.lines


async def wait_for_log_lines(pilot: Pilot[int], app: NimifyApp) -> None:
    """Until lines are shown and no more arrived over the last few polls."""
    seen: list[int] = []

    def settled() -> bool:
        seen.append(log_line_count(app))
        recent = seen[-SETTLED_POLLS:]
        return recent[-1] > 0 and len(recent) == SETTLED_POLLS and len(set(recent)) == 1

    await wait_until(pilot, settled, "the previous container's log lines")


def save(app: NimifyApp, out: Path, name: str) -> Path:
    written = Path(app.save_screenshot(filename=name, path=str(out)))
    print(f"wrote {written}", flush=True)
    return written


async def take_shots(app: NimifyApp, session: Session, out: Path) -> list[Path]:
    written: list[Path] = []
    async with app.run_test(size=session.size) as pilot:
        await wait_until(pilot, lambda: main_screen_filled(app), f"the main screen of {session.scenario}")
        screen = app.screen
        assert isinstance(screen, MainScreen)
        screen.refresh_panes(force=True)  # every pane drawn from the same moment of the store
        await pilot.pause()
        written.append(save(app, out, session.main_name))
        if session.drill_down:
            pod = first_faulty_pod(app)
            await select_pod(pilot, app, pod)
            await pilot.press("d")
            await wait_until(pilot, lambda: describe_loaded(app), f"the describe of {pod}")
            await pilot.pause()
            written.append(save(app, out, "pod-describe.svg"))
            await pilot.press("escape", "p")
            await wait_for_log_lines(pilot, app)
            await pilot.pause()
            written.append(save(app, out, "logs-previous.svg"))
    return written


def run_session(session: Session, out: Path) -> list[Path]:
    with tempfile.TemporaryDirectory(prefix="nimify-shots-") as tmp:
        folder = Path(tmp)
        config = folder / "config.toml"
        config.write_text("")  # an empty config file: the user's own settings never change the pictures
        intervals = {f"refresh_{name}": POLL_INTERVAL_S for name in ("probes", "triton", "metrics")}
        settings = load_settings(intervals, {}, config)
        with SimThread(scenario=session.scenario) as sim:
            kubeconfig = write_kubeconfig(sim, folder / "kubeconfig")
            client = KubeClient.from_kubeconfig(str(kubeconfig), "sim-admin")
            policy = settings.context_policy("sim-admin")
            app = NimifyApp(client, settings, policy=policy, scenario=session.scenario, record_journal=False)
            return asyncio.run(take_shots(app, session, out))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="Render the TUI on the simulated cluster to SVG files.")
    parser.add_argument(
        "--out", type=Path, default=Path("screenshots"), help="folder for the SVGs (default: %(default)s)"
    )
    parser.add_argument(
        "--scenario",
        nargs="+",
        choices=list(SCENARIOS),
        metavar="NAME",
        help="scenarios to render (default: all of them)",
    )
    parser.add_argument(
        "--size", type=parse_size, default=(160, 45), help="terminal size, WIDTHxHEIGHT (default: 160x45)"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    for session in plan_sessions(args.scenario or list(SCENARIOS), args.size):
        started = time.monotonic()
        run_session(session, out)
        width, height = session.size
        print(f"{session.scenario} at {width}x{height}: {time.monotonic() - started:.1f}s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
