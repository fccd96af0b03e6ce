"""Snapshots in the TUI: crashloop-oom recorded, one taken by itself at detection (OOMKilled in the describes,
the previous containers' logs), one after `f`, `y` once the recovery is verified (the pods Running), and `P` at any
time; each journaled with its folder. Not recording, nothing is taken by itself and `P` writes ./incident-<time>."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from nimify_tui.journal.journal import JOURNAL_FILE_NAME, read_journal
from nimify_tui.sim.server import SimThread
from nimify_tui.ui.app import NimifyApp
from nimify_tui.ui.screens.action import ActionScreen
from tests.ui.conftest import until

SPEED = 10.0


def snapshot_entries(app: NimifyApp) -> list[dict[str, Any]]:
    folder = app.session.folder
    assert folder is not None
    return [e for e in read_journal(folder / JOURNAL_FILE_NAME) if e["kind"] == "snapshot"]


def entry(app: NimifyApp, trigger: str) -> dict[str, Any] | None:
    return next((e for e in snapshot_entries(app) if e["trigger"] == trigger), None)


def api_rows(state: str) -> list[str]:
    return [line for line in state.splitlines() if line.startswith("pod/nimify-api-")]


async def test_detection_recovery_and_key_snapshots_are_journaled_with_their_folders(
    sim_factory: Callable[..., SimThread], app_factory: Callable[..., NimifyApp]
) -> None:
    sim = sim_factory(scenario="crashloop-oom", speed=SPEED)
    app = app_factory(sim, record=True)
    async with app.run_test(size=(160, 45)) as pilot:
        detection = await until(pilot, lambda: entry(app, "detection"), "the detection snapshot", timeout_s=30)
        session = app.session.folder
        assert session is not None
        assert detection["folder"].startswith("snapshots/"), detection
        taken = session / detection["folder"]
        assert "OOMKilled" in (taken / "pods-describe.txt").read_text()
        rows = api_rows((taken / "state.txt").read_text())
        assert rows and all("CrashLoopBackOff" in row or "OOMKilled" in row or "Error" in row for row in rows), rows
        assert (taken / "manifest.json").is_file() and (taken / "triage.json").is_file()

        await until(pilot, lambda: app.diagnoses and app.diagnoses[0].fix is not None, "the diagnosis and its fix")
        await pilot.press("f")
        screen: Any = await until(pilot, lambda: isinstance(app.screen, ActionScreen) and app.screen, "the dialog")
        await until(pilot, lambda: screen.state == "confirming", "the dry run", timeout_s=15)
        await pilot.press("y")
        await until(pilot, lambda: screen.state == "done", "the real call", timeout_s=15)
        await pilot.press("escape")
        recovery = await until(pilot, lambda: entry(app, "recovery"), "the recovery snapshot", timeout_s=60)
        rows = api_rows((session / recovery["folder"] / "state.txt").read_text())
        assert rows and any("Running" in row for row in rows), rows

        await pilot.press("P")
        key = await until(pilot, lambda: entry(app, "key"), "the snapshot of P")
        assert key["files"] >= 8 and (session / key["folder"] / "manifest.json").is_file()
        journal = read_journal(session / JOURNAL_FILE_NAME)
        kinds = [e["kind"] for e in journal]
        seq = {e["trigger"]: e["seq"] for e in journal if e["kind"] == "snapshot"}
        action = next(e["seq"] for e in journal if e["kind"] == "action")
        assert seq["detection"] < action < seq["recovery"] < seq["key"], kinds
        assert len({detection["folder"], recovery["folder"], key["folder"]}) == 3


async def test_not_recording_only_the_key_takes_one_into_an_incident_folder(
    sim_factory: Callable[..., SimThread],
    app_factory: Callable[..., NimifyApp],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    sim = sim_factory(scenario="crashloop-oom", speed=SPEED)
    app = app_factory(sim, record=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.diagnoses, "the diagnosis", timeout_s=30)
        await until(pilot, lambda: app.snapshots.triggers.detected_at is not None, "the detection seen")
        # the tick that saw the detection would have started the worker in the same call
        assert not [w for w in app.workers if w.group == "snapshot"], "nothing taken by itself without a session"
        assert not list(tmp_path.glob("incident-*"))
        await pilot.press("P")
        await until(pilot, lambda: app.snapshots.taken, "the snapshot of P")
        folder = app.snapshots.taken[0].folder
        assert folder.parent.resolve() == tmp_path.resolve() and folder.name.startswith("incident-"), folder
        assert (tmp_path / folder / "state.txt").is_file()
