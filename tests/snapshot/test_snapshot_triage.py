"""The triage beside a snapshot (``TriageChild``): forked from a process without threads, in a thread otherwise;
its report is what ``triage --json`` prints, and a cluster that cannot be checked leaves the reason instead."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from nimify_tui.cli import _readonly_cluster, build_parser
from nimify_tui.sim.k8s.kubeconfig import write_kubeconfig
from nimify_tui.sim.server import SimThread
from nimify_tui.snapshot.triage_child import TriageChild
from tests.conftest import refused_kubeconfig
from tests.test_triage_command import assert_contract, command_env

# run in a fresh interpreter: one thread, so the triage is forked
FORKED = """
import json, os, sys, time
from nimify_tui.cli import _readonly_cluster, build_parser
from nimify_tui.snapshot.triage_child import TriageChild

def connect():
    return _readonly_cluster(build_parser().parse_args(["snapshot", "--kubeconfig", sys.argv[1]]))

stopped = TriageChild(connect, 15.0)  # forked first, each loads its own client
checked = TriageChild(connect, 15.0)
stopped.stop()  # while it checks
settings, client = connect()
until = time.monotonic() + 3
while time.monotonic() < until:  # the parent's requests while the child's run, each process on its own connections
    client.get_json("/api/v1/namespaces/nimify-system/pods")
report = json.loads(checked.report())
try:
    os.waitpid(-1, os.WNOHANG)
    children_left = True
except ChildProcessError:
    children_left = False
print(json.dumps({"report": report, "children_left": children_left}))
"""


def test_a_forked_triage_reports_and_a_stopped_one_is_gone(
    sim_factory: Callable[..., SimThread], tmp_path: Path
) -> None:
    sim = sim_factory(scenario="crashloop-oom")
    path = write_kubeconfig(sim, tmp_path / "kubeconfig")
    done = subprocess.run(
        [sys.executable, "-c", FORKED, str(path)],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
        env=command_env(tmp_path),
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("\n") == 1, f"the child printed nothing of its own: {done.stdout!r}"
    found = orjson.loads(done.stdout)
    assert_contract(found["report"], "sim-admin")
    assert found["report"]["state"] == "DOWN"
    assert found["children_left"] is False, "both children reaped: the stopped one killed, the other ended"


# the triage waits for the snapshot's files before its first request: held for as long as the test likes
HELD = """
import json, sys, time
from nimify_tui.cli import _readonly_cluster, build_parser
from nimify_tui.snapshot import triage_child

def connect():
    return _readonly_cluster(build_parser().parse_args(["snapshot", "--kubeconfig", sys.argv[1]]))

triage_child.HOLD_S = 60.0
child = triage_child.TriageChild(connect, 15.0)
time.sleep(1.5)  # long past the child's imports and client: unheld, it would have listed pods by now
print("held", flush=True)
sys.stdin.readline()  # the test has looked at the server's requests
print(json.dumps(json.loads(child.report())["state"]), flush=True)
"""


def test_the_triage_asks_the_cluster_once_released(sim_factory: Callable[..., SimThread], tmp_path: Path) -> None:
    sim = sim_factory(scenario="crashloop-oom")
    path = write_kubeconfig(sim, tmp_path / "kubeconfig")
    before = len(sim.request_log)
    with subprocess.Popen(
        [sys.executable, "-c", HELD, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=command_env(tmp_path),
    ) as process:
        assert process.stdin is not None and process.stdout is not None
        try:
            assert process.stdout.readline() == "held\n"
            assert [r.path for r in sim.request_log[before:]] == [], "no request before the release"
            process.stdin.write("go\n")
            process.stdin.flush()
            assert process.stdout.readline() == '"DOWN"\n', "released by report(): the triage ran"
        finally:
            process.kill()
    assert any(r.path == "/api/v1/namespaces/nimify-system/pods" for r in sim.request_log[before:])


def test_beside_a_thread_the_triage_runs_in_one(sim_factory: Callable[..., SimThread], tmp_path: Path) -> None:
    sim = sim_factory(scenario="crashloop-oom")  # this process has the simulator's thread: no fork
    path = write_kubeconfig(sim, tmp_path / "kubeconfig")
    child = TriageChild(
        lambda: _readonly_cluster(build_parser().parse_args(["snapshot", "--kubeconfig", str(path)])), 15.0
    )
    try:
        report: dict[str, Any] = orjson.loads(child.report())
    finally:
        child.stop()
    assert_contract(report, "sim-admin")
    assert report["state"] == "DOWN"


def test_a_cluster_that_cannot_be_checked_leaves_the_reason_and_no_triage_json(tmp_path: Path) -> None:
    path = refused_kubeconfig(tmp_path / "kubeconfig", "gone-cluster-token-0123")
    out = tmp_path / "snap"
    command = ["snapshot", "--kubeconfig", str(path), "--out", str(out), "--timeout", "2"]
    done = subprocess.run(
        [sys.executable, "-m", "nimify_tui", *command],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
        env=command_env(tmp_path),
    )
    assert done.returncode == 0, done.stderr
    manifest = orjson.loads((out / "manifest.json").read_bytes())
    triage = [error for error in manifest["errors"] if error.startswith("triage: ")]
    assert triage and "cannot list the pods of nimify-system" in triage[0], manifest["errors"]
    assert not (out / "triage.json").exists()
    assert "triage: cannot list the pods" in done.stderr
