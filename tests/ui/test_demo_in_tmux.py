"""`nimify-tui demo` as an operator starts it: in a real terminal (tmux), then quit with `q` and `y`.

The demo starts its simulated cluster as a child process; this checks the whole path: the screen fills with the
scenario's symptoms, `q` asks and `y` quits with status 0, and no simulator is left running.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from nimify_tui.sim.k8s.kubeconfig import write_kubeconfig
from nimify_tui.sim.server import SimThread

from ..waiting import wait_for

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


class Tmux:
    def __init__(self) -> None:
        self.socket = f"nimify-test-{uuid.uuid4().hex[:8]}"

    def run(self, *args: str) -> str:
        done = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True, check=True)
        return done.stdout

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", "demo")


@pytest.fixture
def tmux() -> Iterator[Tmux]:
    session = Tmux()
    yield session
    subprocess.run(["tmux", "-L", session.socket, "kill-server"], capture_output=True, check=False)


def simulators_under(folder: Path) -> list[str]:
    """Command lines of running simulator processes whose files are in ``folder``."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            command = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            state = (proc / "status").read_text()
        except OSError:
            continue
        if "nimify_tui sim" in command and str(folder) in command and "State:\tZ" not in state:
            found.append(command)
    return found


def launch(tmux: Tmux, tmp_path: Path, arguments: str) -> None:
    """``nimify-tui ARGUMENTS`` in a 160x45 tmux window named demo, from this checkout; its temporary files (the
    demo's kubeconfig and simulator log) and its journal go under ``tmp_path``; ``EXITED <status>`` is shown when
    it ends."""
    env = {
        "TMPDIR": str(tmp_path),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "TERM": "xterm-256color",
        "PYTHONPATH": os.pathsep.join(
            filter(None, [str(Path(__file__).resolve().parents[2]), os.environ.get("PYTHONPATH")])
        ),
    }
    # COLUMNS and LINES (set in this process by Textual's test harness) would override the terminal's size
    exports = " ".join(f"{name}={value!r}" for name, value in env.items())
    command = f"env -u COLUMNS -u LINES {exports} {sys.executable} -m nimify_tui {arguments}; echo EXITED $?; sleep 600"
    tmux.run("new-session", "-d", "-s", "demo", "-x", "160", "-y", "45", command)


def test_demo_fills_the_screen_and_quits_cleanly(tmux: Tmux, tmp_path: Path) -> None:
    launch(tmux, tmp_path, "demo --scenario crashloop-oom")
    wanted = ("scenario crashloop-oom", "CrashLoopBackOff", "f: set-resources", "nimify-model", "READY")
    seen = [""]

    def screen_shows_all() -> bool:
        seen[0] = tmux.screen()
        return all(text in seen[0] for text in wanted)

    try:
        wait_for(screen_shows_all, "the crash loop, its diagnosis's fix and the models", timeout_s=60)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\nthe screen:\n{seen[0]}") from None
    assert simulators_under(tmp_path), "the simulator runs as a child process while the demo is open"
    tmux.run("send-keys", "-t", "demo", "q")
    wait_for(lambda: "y quits" in tmux.screen(), "the question before quitting", timeout_s=30)
    tmux.run("send-keys", "-t", "demo", "y")
    wait_for(lambda: "EXITED 0" in tmux.screen(), "the demo to quit with status 0", timeout_s=30)
    assert simulators_under(tmp_path) == [], "no simulator is left running after the demo"


def test_quit_does_not_wait_for_an_api_server_that_answers_late(
    tmux: Tmux, tmp_path: Path, sim_factory: Callable[..., SimThread]
) -> None:
    """Quitting while the API server answers a minute late: the detection's snapshot still asking it does not
    hold the exit (it held it for minutes, the screen already gone); the journal is closed first."""
    sim = sim_factory(scenario="healthy")
    kubeconfig = write_kubeconfig(sim, tmp_path / "kubeconfig")
    state = tmp_path / "state"
    launch(tmux, tmp_path, f"--kubeconfig {kubeconfig}")
    wait_for(lambda: "runbook checks pass" in tmux.screen(), "the healthy cluster on screen", timeout_s=60)
    with httpx.Client(base_url=sim.url, verify=False, timeout=10) as http:
        assert http.post("/sim/faults", content="api-latency=60s").status_code == 200
    wait_for(lambda: list(state.glob("nimify-tui/sessions/*/snapshots/*")), "the outage's snapshot", timeout_s=60)
    tmux.run("send-keys", "-t", "demo", "q")
    wait_for(lambda: "y quits" in tmux.screen(), "the question before quitting", timeout_s=30)
    tmux.run("send-keys", "-t", "demo", "y")
    wait_for(lambda: "EXITED 0" in tmux.screen(), "the app to quit with status 0", timeout_s=20)
    (journal,) = state.glob("nimify-tui/sessions/*/journal.jsonl")
    assert '"kind":"session_end","reason":"quit"' in journal.read_text().splitlines()[-1]
