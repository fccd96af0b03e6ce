"""The demo's simulated cluster as a child process: it serves, it stops with the demo, and it never outlives it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from nimify_tui.kube.client import KubeClient
from nimify_tui.sim.process import SimProcess, SimStartError

from ..waiting import wait_for


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is not alive: it has exited and waits for its parent to read its status
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return True
    return "State:\tZ" not in status


def test_it_serves_a_kubeconfig_and_stops(tmp_path: Path) -> None:
    with SimProcess(tmp_path, scenario="crashloop-oom") as sim:
        kubeconfig = sim.wait_ready()
        pid = sim.pid
        assert pid is not None and alive(pid)
        client = KubeClient.from_kubeconfig(str(kubeconfig), "sim-admin")
        pods = client.get_json("/api/v1/namespaces/nimify-system/pods")["items"]
        statuses = {
            status.get("state", {}).get("waiting", {}).get("reason")
            for pod in pods
            for status in pod.get("status", {}).get("containerStatuses", [])
        }
        assert "CrashLoopBackOff" in statuses, "the scenario asked for is the one served"
    assert not alive(pid), "stopped when the demo ends"


def test_a_child_that_cannot_start_says_why(tmp_path: Path) -> None:
    sim = SimProcess(tmp_path, scenario="no-such-scenario").start()
    with pytest.raises(SimStartError, match=r"exited with status 2: .*unknown scenario 'no-such-scenario'"):
        sim.wait_ready()


def kill_the_demo_and_wait_for_its_child(script: str, serving: Callable[[], bool] = lambda: True) -> None:
    """Run ``script`` as the demo (it prints its simulator's pid), SIGKILL it once ``serving()``, and wait for the
    orphaned simulator to stop by itself."""
    demo = subprocess.Popen([sys.executable, "-c", textwrap.dedent(script)], stdout=subprocess.PIPE, text=True)
    try:
        assert demo.stdout is not None
        child = int(demo.stdout.readline())
        wait_for(lambda: alive(child) and serving(), "the simulator to serve")
        demo.send_signal(signal.SIGKILL)
        demo.wait()
        wait_for(lambda: not alive(child), "the orphaned simulator to stop", timeout_s=15)
    finally:
        if demo.poll() is None:
            demo.kill()


def test_it_ends_when_the_demo_is_killed(tmp_path: Path) -> None:
    """A demo killed with SIGKILL cannot stop its child: the child notices it was orphaned and stops itself."""
    kill_the_demo_and_wait_for_its_child(
        f"""
        import sys, time
        from pathlib import Path
        from nimify_tui.sim.process import SimProcess
        sim = SimProcess(Path({str(tmp_path)!r})).start()
        sim.wait_ready()
        print(sim.pid, flush=True)
        time.sleep(120)
        """
    )
    assert "cannot serve" not in (tmp_path / "sim.log").read_text(), "it stopped cleanly, not on a failed write"


def sim_command(tmp_path: Path) -> list[str]:
    """``nimify-tui sim`` as the demo starts it, less the demo's pid, which the caller appends."""
    kubeconfig = tmp_path / "kubeconfig"
    return [sys.executable, "-m", "nimify_tui", "sim", "--kubeconfig-out", str(kubeconfig), "--exit-with-parent"]


def test_it_ends_when_nobody_reads_its_output(tmp_path: Path) -> None:
    """The parent is still there but has closed the pipe it read the child's output from: the child stops cleanly."""
    with (tmp_path / "sim.log").open("w") as errors:
        command = [*sim_command(tmp_path), str(os.getpid())]
        sim = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors, text=True)
    try:
        assert sim.stdout is not None
        assert sim.stdout.readline().startswith("nimify-tui sim: scenario 'healthy' serving on http://127.0.0.1:")
        sim.stdout.close()
        assert sim.wait(timeout=15) == 0
        assert (tmp_path / "sim.log").read_text() == "", "no error on the way out"
    finally:
        if sim.poll() is None:
            sim.kill()


def test_it_ends_when_its_parent_dies_even_with_its_output_in_a_file(tmp_path: Path) -> None:
    """No pipe to lose its reader: the child sees that it was handed to another parent, and stops."""
    output = tmp_path / "sim.out"
    kill_the_demo_and_wait_for_its_child(
        f"""
        import os, subprocess, time
        with open({str(output)!r}, "w") as out:
            sim = subprocess.Popen({sim_command(tmp_path)!r} + [str(os.getpid())], stdout=out, stderr=subprocess.STDOUT)
        print(sim.pid, flush=True)
        time.sleep(120)
        """,
        serving=lambda: "serving on" in output.read_text(),
    )
    assert output.read_text().rstrip().endswith("nimify-tui sim: stopping"), "it stopped cleanly"


def test_it_ends_when_the_demo_was_gone_before_it_looked(tmp_path: Path) -> None:
    """The demo gives its pid: a child whose parent is already someone else stops at once, whenever it starts."""
    not_the_parent = str(os.getpid() + 1_000_000)
    with (tmp_path / "sim.out").open("w") as out:
        sim = subprocess.Popen([*sim_command(tmp_path), not_the_parent], stdout=out, stderr=subprocess.STDOUT)
    try:
        assert sim.wait(timeout=15) == 0
        assert (tmp_path / "sim.out").read_text().rstrip().endswith("nimify-tui sim: stopping")
    finally:
        if sim.poll() is None:
            sim.kill()
