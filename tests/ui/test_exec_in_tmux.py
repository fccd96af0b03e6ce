"""`!` as a person uses it, in a real terminal (tmux): `nimify-tui demo`, the postgres pod picked in the pods pane,
`!` suspends the TUI and gives the terminal to a shell in the pod, psql answers `1 row`, ctrl+d ends the shell and
the TUI is back as it was."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ..waiting import wait_for
from .test_demo_in_tmux import Tmux, launch, simulators_under, tmux  # noqa: F401  (tmux: the fixture)

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


def test_a_shell_in_the_postgres_pod_from_the_demo_and_back(tmux: Tmux, tmp_path: Path) -> None:  # noqa: F811
    launch(tmux, tmp_path, "demo --scenario healthy")
    seen = [""]

    def shows(*texts: str) -> bool:
        seen[0] = tmux.screen()
        return all(text in seen[0] for text in texts)

    def wait_until_shown(*texts: str, what: str, timeout_s: float = 30) -> None:
        try:
            wait_for(lambda: shows(*texts), what, timeout_s=timeout_s)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\nthe screen:\n{seen[0]}") from None

    wait_until_shown("postgres-", "Runbook checks", what="the demo's pods", timeout_s=60)
    tmux.run("send-keys", "-t", "demo", "/")
    wait_until_shown("filter pods:", what="the filter's prompt")
    tmux.run("send-keys", "-t", "demo", "-l", "^postgres")
    tmux.run("send-keys", "-t", "demo", "Enter")
    wait_until_shown("Pods · nimify-system · 1 (/^postgres)", what="the pods pane showing postgres alone")
    tmux.run("send-keys", "-t", "demo", "!")
    wait_for(lambda: tmux.screen().splitlines()[:1] == ["#"], "the shell's prompt alone on the screen", timeout_s=30)
    assert "Runbook checks" not in tmux.screen(), "the TUI is suspended: the terminal is the shell's"
    tmux.run("send-keys", "-t", "demo", "-l", 'psql -h postgres -U nimify -c "SELECT 1;"')
    tmux.run("send-keys", "-t", "demo", "Enter")
    wait_until_shown("(1 row)", what="psql's answer")
    tmux.run("resize-window", "-t", "demo", "-x", "120", "-y", "40")  # SIGWINCH: the new size reaches the pod
    tmux.run("send-keys", "-t", "demo", "-l", "stty size")
    tmux.run("send-keys", "-t", "demo", "Enter")
    wait_until_shown("40 120", what="the shell told the terminal's new size")
    tmux.run("send-keys", "-t", "demo", "C-d")
    wait_until_shown("Runbook checks", "Shell in nimify-system/postgres-", what="the TUI back, the shell's end said")
    assert "exit 0" in seen[0]
    tmux.run("send-keys", "-t", "demo", "q")
    wait_for(lambda: "y quits" in tmux.screen(), "the question before quitting", timeout_s=30)
    tmux.run("send-keys", "-t", "demo", "y")
    wait_for(lambda: "EXITED 0" in tmux.screen(), "the demo to quit with status 0", timeout_s=30)
    assert simulators_under(tmp_path) == [], "no simulator is left running after the demo"
