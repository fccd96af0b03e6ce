"""The commands: ``nimify-tui`` (the TUI on a real cluster), ``demo``, ``sim``, ``scenarios``, ``triage`` and
``snapshot``.

Heavy modules (Textual, the Kubernetes client, the simulator) are imported only by the command that needs them, so
``--help`` and the headless commands start fast.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from nimify_tui import __version__

if TYPE_CHECKING:
    import asyncio

    from nimify_tui.config import Settings
    from nimify_tui.kube.client import KubeClient
    from nimify_tui.snapshot.triage_child import TriageChild

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
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"invalid rate {text!r}: must be a finite number, 0 or more")
    return value


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid seconds {text!r}: not a number") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"invalid seconds {text!r}: must be more than 0")
    return value


def _fault_plan(text: str) -> object:
    """``--faults``: read here, so that a bad plan is one line and exit status 2 like every bad option."""
    from nimify_tui.sim.faults import FaultSpecError, parse_faults

    try:
        return parse_faults(text)
    except FaultSpecError as exc:
        raise argparse.ArgumentTypeError(f"invalid fault plan {text!r}: {exc}") from None


def _add_cluster_options(parser: argparse.ArgumentParser, default: object = None) -> None:
    """Which cluster, namespace and services: the main command's options, also taken after a command that reads
    the cluster (``default=argparse.SUPPRESS`` there, so that a value given before the command survives)."""
    parser.add_argument(
        "--kubeconfig", default=default, metavar="FILE", help="kubeconfig file (default: $KUBECONFIG or ~/.kube/config)"
    )
    parser.add_argument(
        "--context", default=default, metavar="NAME", help="kubeconfig context to use (default: the current one)"
    )
    parser.add_argument(
        "-n", "--namespace", default=default, metavar="NS", help="main namespace (default: nimify-system)"
    )
    parser.add_argument(
        "--prometheus-url", default=default, metavar="URL", help="Prometheus to run PromQL against (optional)"
    )
    parser.add_argument(
        "--triton-url", default=default, metavar="URL", help="Triton HTTP URL (default: through the API server proxy)"
    )


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
    parser.add_argument(
        "--namespaces",
        default="nimify-system",
        metavar="NS,NS|all",
        help="namespaces the extra pods are spread over (default: %(default)s; all: every simulated one)",
    )
    parser.add_argument(
        "--log-rate",
        type=_non_negative_float,
        default=0.0,
        metavar="R",
        help="a log-gen pod in nimify-system writing R numbered log lines a second (default: 0, none)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="Live triage of Nimify Anything outages (Kubernetes + NVIDIA Triton) in the terminal.",
        epilog="Without a command, opens the TUI on the cluster of the current kubeconfig context.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    _add_cluster_options(parser)
    parser.add_argument("--readonly", action="store_true", help="remove every mutating action")
    parser.add_argument("--record", metavar="DIR", help="write the incident journal into DIR")
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
    # the demo's child: the demo's pid, so that even a demo that died before this process started is noticed
    sim.add_argument("--exit-with-parent", type=int, metavar="PID", help=argparse.SUPPRESS)
    sim.add_argument(
        "--speed",
        type=_non_negative_float,
        default=1.0,
        metavar="X",
        help="simulated seconds per real second",
    )
    sim.add_argument(
        "--faults",
        type=_fault_plan,
        default=None,
        metavar="SPEC",
        help="inject faults, e.g. api-latency=2s,429=0.1:retry-after=3,500=0.05,watch-end=30s,watch-drop=0.1,"
        "watch-410=60s,api-down=20s@40s,triton-flap=10s,nimify-api-flap=10s,prom-slow=3s; "
        "GET/POST <url>/sim/faults shows or replaces them while it runs",
    )

    sub.add_parser("scenarios", help="list the outage scenarios of the simulated cluster")
    sub.add_parser(
        "rules",
        help="print the runbook's alert rules as a Prometheus rules file (NimifyHighErrorRate corrected, "
        "with a comment saying why)",
    )

    triage = sub.add_parser(
        "triage",
        help="check the cluster read-only without the TUI and print the diagnosis (exit status 0 healthy, "
        "1 something wrong, 2 not checked)",
    )
    _add_cluster_options(triage, default=argparse.SUPPRESS)
    mode = triage.add_mutually_exclusive_group()
    mode.add_argument("--once", action="store_true", help="one report, then exit (the default)")
    mode.add_argument(
        "--watch", type=_positive_seconds, metavar="SECONDS", help="a new report every SECONDS until interrupted"
    )
    triage.add_argument("--json", action="store_true", help="print the report as JSON (one line per report)")
    triage.add_argument(
        "--timeout",
        type=_positive_seconds,
        default=15.0,
        metavar="SECONDS",
        help="how long to wait for every source's first answer (default: %(default)g)",
    )
    report = sub.add_parser(
        "report", help="write the post-mortem draft (postmortem.md, report.html) of a recorded session"
    )
    report.add_argument("session_dir", metavar="SESSION_DIR", help="the session's folder (its journal.jsonl)")
    report.add_argument("--out", metavar="DIR", help="where to write the two files (default: SESSION_DIR)")

    snapshot = sub.add_parser(
        "snapshot",
        help="write the runbook's documentation of the outage (state, describes, events, logs, Triton, metrics, "
        "triage) into a folder, read-only, without the TUI",
    )
    _add_cluster_options(snapshot, default=argparse.SUPPRESS)
    snapshot.add_argument(
        "--out",
        metavar="DIR",
        help="the folder to write (default: snapshots/<time>/ of the --record folder, else ./incident-<time>/)",
    )
    snapshot.add_argument(
        "--log-lines",
        type=_non_negative_int,
        default=5000,
        metavar="N",
        help="the last N lines of each container's logs (default: %(default)s)",
    )
    snapshot.add_argument(
        "--timeout",
        type=_positive_seconds,
        default=15.0,
        metavar="SECONDS",
        help="how long the triage may wait for every source's first answer (default: %(default)g)",
    )
    replay = sub.add_parser("replay", help="play a recorded session back through the TUI, with no cluster")
    replay.add_argument("session_dir", metavar="SESSION_DIR", help="the session's folder (its flight.jsonl.gz)")
    return parser


def _check_scenario(parser: argparse.ArgumentParser, name: str) -> None:
    from nimify_tui.sim.scenarios import SCENARIOS

    if name not in SCENARIOS:
        parser.error(f"argument --scenario: unknown scenario {name!r} (choose from {', '.join(SCENARIOS)})")


def _check_namespaces(parser: argparse.ArgumentParser, wanted: str) -> None:
    from nimify_tui.sim.k8s.layout import load_namespaces

    try:
        load_namespaces(wanted)
    except ValueError as exc:
        parser.error(f"argument --namespaces: {exc}")


def cmd_scenarios() -> int:
    from nimify_tui.sim.scenarios import scenario_lines

    for line in scenario_lines():
        print(line)
    return 0


def _watch_for_orphaning(
    parent: int, loop: asyncio.AbstractEventLoop, stop: asyncio.Event, every_s: float = 0.5
) -> None:
    """The demo's simulator ends with the demo, even one killed without a chance to stop it.

    Two signs that the demo is gone, either one enough: this process's parent is no longer ``parent`` (the demo
    gave its pid, so a demo gone before this process looked is noticed too), or the pipe the demo read our output
    from has lost its reader. A thread, not a task, so that a busy or stuck event loop cannot keep an orphan alive:
    the loop is asked to stop cleanly, and if it has not ended a few seconds later the process exits anyway.
    """
    import select
    import stat
    import threading
    import time

    out = sys.stdout.fileno()
    reader_gone = select.poll()
    to_pipe = stat.S_ISFIFO(os.fstat(out).st_mode)
    if to_pipe:
        reader_gone.register(out, select.POLLERR | select.POLLHUP)  # a pipe's writer sees POLLERR once unread

    def watch() -> None:
        while os.getppid() == parent and not reader_gone.poll(every_s * 1000):
            pass
        if to_pipe:  # nobody may read our output any more: writing there would fail with EPIPE
            os.dup2(os.open(os.devnull, os.O_WRONLY), out)
        loop.call_soon_threadsafe(stop.set)
        time.sleep(ORPHAN_GRACE_S)
        os._exit(0)

    threading.Thread(target=watch, name="orphan-watch", daemon=True).start()


def cmd_sim(args: argparse.Namespace) -> int:
    import asyncio
    import signal

    from nimify_tui.sim.k8s.kubeconfig import write_kubeconfig
    from nimify_tui.sim.server import start_sim

    async def serve() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        if args.exit_with_parent is not None:
            _watch_for_orphaning(args.exit_with_parent, loop, stop)
        sim = await start_sim(
            scenario=args.scenario,
            port=args.port,
            pods=args.pods,
            event_rate=args.event_rate,
            speed=args.speed,
            namespaces=args.namespaces,
            log_rate=args.log_rate,
            faults=args.faults,
        )
        out = Path(args.kubeconfig_out)
        write_kubeconfig(sim, out)
        triton = "/api/v1/namespaces/triton-system/services/triton-server:8000/proxy"
        api = "/api/v1/namespaces/nimify-system/services/nimify-api:8000/proxy"
        banner = (
            f"nimify-tui sim: scenario {args.scenario!r} serving on {sim.url}\n"
            f"  kubernetes API : {sim.url}\n"
            f"  kubeconfig     : {out.resolve()} (contexts sim-admin, sim-readonly)\n"
            f"  triton (proxy) : {sim.url}{triton}/v2/health/ready\n"
            f"  nimify-api     : {sim.url}{api}/health\n"
            f"  faults         : {sim.faults.plan.spec()} (GET/POST {sim.url}/sim/faults)\n"
            f"  try: kubectl --kubeconfig {out} get pods -n nimify-system"
        )
        sys.stdout.write(banner + "\n")  # one write: whoever reads the first line can stop reading at once
        sys.stdout.flush()
        await stop.wait()
        print("nimify-tui sim: stopping", flush=True)
        await sim.stop()

    try:
        asyncio.run(serve())
    except OSError as exc:
        print(f"{PROG} sim: cannot serve: {exc}", file=sys.stderr)
        return 1
    return 0


def _readonly_cluster(args: argparse.Namespace) -> tuple[Settings, KubeClient]:
    """The settings the cluster options give, and a read-only client of that cluster (the headless commands');
    a bad option or kubeconfig raises ConfigError or KubeConfigError."""
    from nimify_tui.config import load_settings
    from nimify_tui.kube.client import KubeClient

    given = {
        "kubeconfig": args.kubeconfig,
        "context": args.context,
        "namespace": args.namespace,
        "prometheus_url": args.prometheus_url,
        "triton_url": args.triton_url,
    }
    settings = load_settings(given, os.environ, None)
    kubeconfig = str(settings.kubeconfig) if settings.kubeconfig else None
    client = KubeClient.from_kubeconfig(kubeconfig, settings.context, namespace=settings.namespace, readonly=True)
    return settings, client


def cmd_triage(args: argparse.Namespace) -> int:
    import time

    from nimify_tui.config import ConfigError
    from nimify_tui.kube.client import KubeConfigError
    from nimify_tui.triage.headless import HeadlessTriage, NotChecked
    from nimify_tui.triage.report import EXIT_NOT_CHECKED, exit_status, json_report, summary_lines

    def fail(reason: str) -> int:
        print(f"{PROG} triage: {reason}", file=sys.stderr, flush=True)
        return EXIT_NOT_CHECKED

    try:
        settings, client = _readonly_cluster(args)
    except (ConfigError, KubeConfigError) as exc:
        return fail(str(exc))
    headless = HeadlessTriage(client, settings, timeout_s=args.timeout)
    context, keymap = client.identity.context, settings.keymap.keys

    def report() -> int:
        result = headless.check()
        if isinstance(result, NotChecked):
            return fail(result.reason)
        if args.json:
            print(json_report(result, context=context, keymap=keymap).decode(), flush=True)
        else:
            print("\n".join(summary_lines(result, context=context, keymap=keymap)), flush=True)
        return exit_status(result)

    interrupted = False
    try:
        headless.start()
        if not headless.wait_until_ready(args.timeout) and headless.not_checked() is None:
            waiting = ", ".join(headless.waiting_for())
            print(f"{PROG} triage: after {args.timeout:g} s, reporting without {waiting}", file=sys.stderr)
        status = report()
        while args.watch is not None:
            time.sleep(args.watch)
            if not args.json:
                print()
            status = report()
        return status
    except KeyboardInterrupt:
        interrupted = True
        return 130
    finally:
        # Ctrl-C ends the process at once (main): a stop would wait for the pollers, up to 7 s and longer while
        # the API server is slow to answer their requests
        if not interrupted:
            headless.stop()


def cmd_snapshot(args: argparse.Namespace) -> int:
    # a short-lived command that decodes whole lists of plain JSON (no reference cycles): the cyclic garbage
    # collector would only walk the millions of objects of a big namespace again and again (most of a second
    # at 5,000 pods, in this process and in its triage's)
    gc.disable()
    from nimify_tui.snapshot.triage_child import TriageChild

    # first, before anything else: the triage (the longest way to go) loads the kubeconfig and imports what it
    # needs in its own process, on the other core, while this one does the same for the snapshot
    child = TriageChild(lambda: _readonly_cluster(args), args.timeout)
    try:
        return _take_snapshot(args, child)
    finally:
        child.stop()


def _take_snapshot(args: argparse.Namespace, child: TriageChild) -> int:
    from nimify_tui.config import ConfigError
    from nimify_tui.kube.client import KubeConfigError
    from nimify_tui.kube.first_contact import refusal

    try:
        settings, client = _readonly_cluster(args)
        refused = refusal(client)  # credentials or certificate: one line, not a folder of errors
    except (ConfigError, KubeConfigError) as exc:
        refused = str(exc)
    if refused is not None:
        print(f"{PROG} snapshot: {refused}", file=sys.stderr, flush=True)
        return 2
    from nimify_tui.journal.credentials import connection_credentials
    from nimify_tui.journal.redact import Redactor
    from nimify_tui.snapshot.take import SnapshotOptions, default_folder, take_snapshot

    redactor = Redactor()
    for secret in connection_credentials(client):
        redactor.register(secret)
    options = SnapshotOptions(
        namespaces=settings.watched_namespaces,
        main_namespace=settings.namespace,
        log_lines=args.log_lines,
        index_post=not settings.context_policy(client.identity.context).readonly,
    )

    out = Path(args.out) if args.out else default_folder(Path(args.record) if args.record else None)
    try:
        snapshot = take_snapshot(client, out, options, redactor=redactor, triage=child.report)
    except KeyboardInterrupt:
        return 130
    except OSError as exc:
        print(f"{PROG} snapshot: cannot write {out}: {exc}", file=sys.stderr)
        return 2
    for error in snapshot.errors:
        print(f"{PROG} snapshot: {error}", file=sys.stderr)
    print(f"{snapshot.folder}: {len(snapshot.files)} files in {snapshot.took_s:.1f} s", flush=True)
    return 0


def cmd_tui(args: argparse.Namespace, *, demo: bool) -> int:
    from nimify_tui.ui.launch import run_tui

    return run_tui(args, demo=demo)


def _end_process(status: int) -> None:
    """End the process now: flushed, its exit functions run (temporary credential files removed), without the
    interpreter's teardown (freeing a 5,000-pod snapshot's objects one by one took 0.05-0.25 s)."""
    import atexit
    import contextlib

    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe or stream: nothing more can be said there
            stream.flush()
    atexit._run_exitfuncs()
    os._exit(status)


def _ended(status: int, argv: Sequence[str] | None) -> int:
    """``status``; when the command is the process's own (no ``argv``), its work is written and nothing is left to
    tear down: the process ends now (``_end_process``)."""
    if argv is None:
        _end_process(status)
    return status


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    command = args.command
    if command in ("demo", "sim"):
        _check_scenario(parser, args.scenario)
        _check_namespaces(parser, args.namespaces)
    if command == "scenarios":
        return cmd_scenarios()
    if command == "sim":
        return cmd_sim(args)
    if command == "rules":
        from nimify_tui.metrics.alerts import rules_file_text

        sys.stdout.write(rules_file_text())
        return 0
    if command == "triage":
        return _ended(cmd_triage(args), argv)  # its reports are written: pollers still asking do not hold the exit
    if command == "report":
        from nimify_tui.postmortem.writer import report_command

        return report_command(Path(args.session_dir), Path(args.out) if args.out else None, PROG)
    if command == "snapshot":
        return _ended(cmd_snapshot(args), argv)
    if command == "replay":
        from nimify_tui.ui.replay import run_replay

        return run_replay(Path(args.session_dir), PROG)
    if args.record is not None and os.path.exists(args.record) and not os.path.isdir(args.record):
        parser.error(f"argument --record: {args.record!r} exists and is not a folder")
    return _ended(cmd_tui(args, demo=command == "demo"), argv)  # the journal is closed: workers do not hold the exit


if __name__ == "__main__":
    sys.exit(main())
