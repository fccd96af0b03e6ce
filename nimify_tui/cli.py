"""The commands: ``nimify-tui`` (the TUI on a real cluster), ``demo``, ``sim`` and ``scenarios``.

Heavy modules (Textual, the Kubernetes client, the simulator) are imported only by the command that needs them, so
``--help`` and the headless commands start fast.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from nimify_tui import __version__

if TYPE_CHECKING:
    import asyncio

PROG = "nimify-tui"
ORPHAN_GRACE_S = 5.0  # an orphaned simulator that has not stopped cleanly by then exits anyway


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad option or value is one line on stderr and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid port {text!r}: not a number") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"invalid port {value}: must be 0..65535 (0 picks a free one)")
    return value


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid count {text!r}: not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"invalid count {value}: must be 0 or more")
    return value


def _non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid rate {text!r}: not a number") from None
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"invalid rate {text!r}: must be 0 or more")
    return value


def _add_sim_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--scenario", default="healthy", metavar="NAME", help="outage scenario to start in (see `scenarios`)"
    )
    parser.add_argument(
        "--pods",
        type=_non_negative_int,
        default=0,
        metavar="N",
        help="spread N extra pods over extra deployments",
    )
    parser.add_argument(
        "--event-rate", type=_non_negative_float, default=0.0, metavar="R", help="extra events per second"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="Live triage of Nimify Anything outages (Kubernetes + NVIDIA Triton) in the terminal.",
        epilog="Without a command, opens the TUI on the cluster of the current kubeconfig context.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    parser.add_argument("--kubeconfig", metavar="FILE", help="kubeconfig file (default: $KUBECONFIG or ~/.kube/config)")
    parser.add_argument("--context", metavar="NAME", help="kubeconfig context to use (default: the current one)")
    parser.add_argument("-n", "--namespace", metavar="NS", help="main namespace (default: nimify-system)")
    parser.add_argument("--readonly", action="store_true", help="remove every mutating action")
    parser.add_argument("--record", metavar="DIR", help="write the incident journal into DIR")
    parser.add_argument("--prometheus-url", metavar="URL", help="Prometheus to run PromQL against (optional)")
    parser.add_argument("--triton-url", metavar="URL", help="Triton HTTP URL (default: through the API server proxy)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    demo = sub.add_parser("demo", help="start the simulated cluster (a child process) and open the TUI on it")
    _add_sim_options(demo)
    # SUPPRESS: given before the command (`nimify-tui --readonly demo`) the value must survive the subparser
    demo.add_argument("--readonly", action="store_true", default=argparse.SUPPRESS, help="remove every mutating action")
    demo.add_argument("--record", metavar="DIR", default=argparse.SUPPRESS, help="write the incident journal into DIR")

    sim = sub.add_parser("sim", help="serve the simulated cluster headless on 127.0.0.1 until SIGINT/SIGTERM")
    _add_sim_options(sim)
    sim.add_argument("--port", type=_port, default=0, metavar="PORT", help="port to listen on (0: a free one)")
    sim.add_argument(
        "--kubeconfig-out",
        metavar="FILE",
        default="nimify-sim.kubeconfig",
        help="where to write a kubeconfig for it (contexts sim-admin and sim-readonly; default: %(default)s)",
    )
    sim.add_argument("--exit-with-parent", action="store_true", help=argparse.SUPPRESS)  # the demo's child
    sim.add_argument(
        "--speed",
        type=_non_negative_float,
        default=1.0,
        metavar="X",
        help="simulated seconds per real second",
    )

    sub.add_parser("scenarios", help="list the outage scenarios of the simulated cluster")
    return parser


def _check_scenario(parser: argparse.ArgumentParser, name: str) -> None:
    from nimify_tui.sim.scenarios import SCENARIOS

    if name not in SCENARIOS:
        parser.error(f"argument --scenario: unknown scenario {name!r} (choose from {', '.join(SCENARIOS)})")


def cmd_scenarios() -> int:
    from nimify_tui.sim.scenarios import scenario_lines

    for line in scenario_lines():
        print(line)
    return 0


def _watch_for_orphaning(loop: asyncio.AbstractEventLoop, stop: asyncio.Event, every_s: float = 0.5) -> None:
    """The demo's simulator ends with the demo, even one killed without a chance to stop it.

    A thread, not a task, so that a busy or stuck event loop cannot keep an orphan alive: once the parent is gone
    the loop is asked to stop cleanly, and if it has not ended a few seconds later the process exits anyway.
    """
    import threading
    import time

    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(every_s)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # the parent read our output: writing there now fails with EPIPE
        loop.call_soon_threadsafe(stop.set)
        time.sleep(ORPHAN_GRACE_S)
        os._exit(0)

    threading.Thread(target=watch, name="orphan-watch", daemon=True).start()


def cmd_sim(args: argparse.Namespace) -> int:
    import asyncio
    import signal

    from nimify_tui.sim.kubeconfig import write_kubeconfig
    from nimify_tui.sim.server import start_sim

    async def serve() -> None:
        sim = await start_sim(
            scenario=args.scenario,
            port=args.port,
            pods=args.pods,
            event_rate=args.event_rate,
            speed=args.speed,
        )
        out = Path(args.kubeconfig_out)
        write_kubeconfig(sim, out)
        print(f"nimify-tui sim: scenario {args.scenario!r} serving on {sim.url}", flush=True)
        print(f"  kubernetes API : {sim.url}", flush=True)
        print(f"  kubeconfig     : {out.resolve()} (contexts sim-admin, sim-readonly)", flush=True)
        triton = "/api/v1/namespaces/triton-system/services/triton-server:8000/proxy"
        api = "/api/v1/namespaces/nimify-system/services/nimify-api:8000/proxy"
        print(f"  triton (proxy) : {sim.url}{triton}/v2/health/ready", flush=True)
        print(f"  nimify-api     : {sim.url}{api}/health", flush=True)
        print(f"  try: kubectl --kubeconfig {out} get pods -n nimify-system", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        if args.exit_with_parent:
            _watch_for_orphaning(loop, stop)
        await stop.wait()
        print("nimify-tui sim: stopping", flush=True)
        await sim.stop()

    try:
        asyncio.run(serve())
    except OSError as exc:
        print(f"{PROG} sim: cannot serve: {exc}", file=sys.stderr)
        return 1
    return 0


def cmd_tui(args: argparse.Namespace, *, demo: bool) -> int:
    from nimify_tui.ui.launch import run_tui

    return run_tui(args, demo=demo)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    command = args.command
    if command in ("demo", "sim"):
        _check_scenario(parser, args.scenario)
    if command == "scenarios":
        return cmd_scenarios()
    if command == "sim":
        return cmd_sim(args)
    if args.record is not None and os.path.exists(args.record) and not os.path.isdir(args.record):
        parser.error(f"argument --record: {args.record!r} exists and is not a folder")
    return cmd_tui(args, demo=command == "demo")


if __name__ == "__main__":
    sys.exit(main())
