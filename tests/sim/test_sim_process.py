"""The demo's simulated cluster as a child process: it serves, it stops with the demo, and it never outlives it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
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


def test_it_ends_when_the_demo_is_killed(tmp_path: Path) -> None:
    """A demo killed with SIGKILL cannot stop its child: the child notices it was orphaned and stops itself."""
    script = textwrap.dedent(
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
    demo = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert demo.stdout is not None
        child = int(demo.stdout.readline())
        assert alive(child)
        demo.send_signal(signal.SIGKILL)
        demo.wait()
        wait_for(lambda: not alive(child), "the orphaned simulator to stop", timeout_s=15)
        assert "cannot serve" not in (tmp_path / "sim.log").read_text(), "it stopped cleanly, not on a failed write"
    finally:
        if demo.poll() is None:
            demo.kill()
