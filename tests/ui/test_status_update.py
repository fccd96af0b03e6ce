"""`c`: the status update drafted from the live state, edited, copied with OSC 52 and journaled; the reminder every
30 minutes (on the app's clock set forward); and the OSC 52 bytes the app writes on a real pty, byte for byte."""

from __future__ import annotations

import base64
import os
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import TextArea

from nimify_tui.incident.osc52 import osc52
from nimify_tui.journal.journal import read_journal
from nimify_tui.sim.server import SimThread
from nimify_tui.ui.app import NimifyApp
from nimify_tui.ui.screens.main import MainScreen

from .conftest import drawn, until
from .test_escalation import banner, sev1_outage

SIZE = (160, 45)
SPEED = 10.0
WAIT_S = 30.0


def status_updates(folder: Path) -> list[dict[str, Any]]:
    return [e for e in read_journal(folder / "journal.jsonl") if e["kind"] == "status_update"]


def hhmm(at: float) -> str:
    return datetime.fromtimestamp(at, timezone.utc).strftime("%H:%M UTC")


async def test_c_drafts_the_update_the_person_edits_and_ctrl_s_copies_and_journals_it(
    sim_factory: Callable[..., SimThread], app_factory: Callable[..., NimifyApp]
) -> None:
    sim = sim_factory(scenario="crashloop-oom", speed=SPEED)
    app = app_factory(sim, record=True)
    async with app.run_test(size=SIZE) as pilot:
        start = await sev1_outage(pilot, app)
        await until(pilot, lambda: app.diagnoses and app.diagnoses[0].fix is not None, "the OOM diagnosis")
        now = start + 12 * 60
        app.clock = lambda: now
        palette = {command.title for command in app.get_system_commands(app.screen)}
        assert {"Status update", "Escalation", "Acknowledge"} <= palette, "in the command palette too"
        await pilot.press("c")
        screen = await until(pilot, lambda: app.screen.id == "status-update" and app.screen, "the status update")
        area = screen.query_one("#status-text", TextArea)
        draft = area.text
        lines = draft.split("\n")
        assert lines[0] == "[SEV-1] nimify-api: investigating"
        assert "/health fails" in lines[1]
        assert lines[2] == f"Since: {hhmm(start)} (12m), SEV-1."
        assert lines[3] == f"Suspected cause: {app.incident.tracker.cause}."
        assert app.diagnoses[0].cause == app.incident.tracker.cause, "the top diagnosis"
        assert lines[4] == "Being done: investigating; no change made yet."
        assert lines[5] == f"Next update: {hhmm(now + 30 * 60)}."
        assert "ctrl+s copies it (OSC 52)" in "\n".join(drawn(screen.query_one("#status-help")))
        area.move_cursor(area.document.end)
        await pilot.press("enter", *"Bridge open")
        edited = draft + "\nBridge open"
        assert area.text == edited
        await pilot.press("ctrl+s")
        assert app.clipboard == edited
        said = "\n".join(drawn(screen.query_one("#status-said")))
        assert "Copied to the clipboard (OSC 52) and journaled." in said
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)
    assert app.session.folder is not None
    (entry,) = status_updates(Path(app.session.folder))
    assert (entry["event"], entry["text"], entry["copied"], entry["resolution"]) == ("copied", edited, True, False)


async def test_a_reminder_every_30_minutes_since_the_last_update(
    sim_factory: Callable[..., SimThread], app_factory: Callable[..., NimifyApp]
) -> None:
    sim = sim_factory(scenario="crashloop-oom", speed=SPEED)
    app = app_factory(sim, record=True)
    async with app.run_test(size=(80, 24)) as pilot:
        start = await sev1_outage(pilot, app)
        app.clock = lambda: start + 29 * 60
        app.incident.tick()
        await pilot.pause()
        assert "STATUS UPDATE DUE" not in banner(app)
        app.clock = lambda: start + 30 * 60
        app.incident.tick()
        await until(pilot, lambda: "STATUS UPDATE DUE" in banner(app), "the reminder in the banner")
        assert "c drafts it" in banner(app)
        await pilot.press("c")
        await until(pilot, lambda: app.screen.id == "status-update", "the status update")
        await pilot.press("ctrl+s", "escape")
        await until(pilot, lambda: "STATUS UPDATE DUE" not in banner(app), "the reminder gone once copied")
        app.clock = lambda: start + 59 * 60
        app.incident.tick()
        await pilot.pause()
        assert "STATUS UPDATE DUE" not in banner(app), "30 minutes counted from the update"
        app.clock = lambda: start + 60 * 60
        app.incident.tick()
        await until(pilot, lambda: "STATUS UPDATE DUE" in banner(app), "the next reminder")
    assert app.session.folder is not None
    events = [e["event"] for e in status_updates(Path(app.session.folder))]
    assert events == ["reminder", "copied", "reminder"]


def test_ctrl_s_writes_osc52_of_the_journaled_text_byte_for_byte_on_a_pty() -> None:
    pytest.importorskip("pyte")
    from .test_pty_keys import load_bench

    bench = load_bench()
    with bench.app_on_pty("crashloop-oom", 160, 45) as app:
        term = app.terminal
        raw = bytearray()
        parser = term.stream

        class Tee:
            """Every byte the app wrote, kept, then parsed as before."""

            def feed(self, data: bytes) -> None:
                raw.extend(data)
                parser.feed(data)

        term.stream = Tee()

        def wait(condition: Callable[[], object], what: str) -> None:
            if not condition() and term.pump(lambda: bool(condition()), WAIT_S) is None:
                raise AssertionError(f"still waiting for {what}; the screen:\n" + "\n".join(term.lines()))

        wait(lambda: term.find(" SEV-1 "), "SEV-1 in the header")
        os.write(term.master, b"c")
        wait(lambda: term.find("ctrl+s copies it"), "the status update")
        os.write(term.master, b"\x13")  # ctrl+s
        wait(lambda: term.find("Copied to the clipboard"), "the copy")
        start = raw.find(b"\x1b]52;c;")
        assert start != -1, "an OSC 52 sequence"
        end = raw.index(b"\x07", start)
        sequence = bytes(raw[start : end + 1])
        (journal,) = Path(app.folder.name).rglob("journal.jsonl")
        (entry,) = [e for e in read_journal(journal) if e["kind"] == "status_update"]
        text: str = entry["text"]
        assert text.startswith("[SEV-1] nimify-api: ")
        assert sequence == b"\x1b]52;c;" + base64.b64encode(text.encode("utf-8")) + b"\x07"
        assert sequence == osc52(text).encode("ascii")
        assert raw.count(b"\x1b]52;") == 1, "one copy, one sequence"
        os.write(term.master, b"\x1b")
        wait(lambda: not term.find("ctrl+s copies it"), "the status update closed")
        bench.quit_app(app, WAIT_S)
        assert app.process.wait(10) == 0


async def test_after_the_fix_and_verified_recovery_the_draft_is_the_resolution(
    sim_factory: Callable[..., SimThread], app_factory: Callable[..., NimifyApp]
) -> None:
    from nimify_tui.recovery.verifier import RECOVERY

    from .test_fix_key import open_fix

    sim = sim_factory(scenario="crashloop-oom", speed=SPEED)
    app = app_factory(sim, record=True)
    async with app.run_test(size=SIZE) as pilot:
        await sev1_outage(pilot, app)
        await until(pilot, lambda: app.diagnoses and app.diagnoses[0].fix is not None, "the OOM diagnosis")
        cause = app.diagnoses[0].cause
        screen = await open_fix(pilot, app)
        await pilot.press("y")
        await until(pilot, lambda: screen.state == "done", "the fix applied", timeout_s=15)
        await pilot.press("escape")
        tracker = app.incident.tracker
        await until(pilot, lambda: tracker.attempts, "the fix counted as an attempt")
        (attempt,) = tracker.attempts.values()
        result = await until(
            pilot,
            lambda: (
                (result := app.runtime.store.value(RECOVERY)) is not None
                and result.outcome not in ("running",)
                and result
            ),
            "the recovery verification's outcome",
            timeout_s=60,
        )
        assert result.outcome == "verified", [(c.name, c.state, c.detail) for c in result.checks]
        await until(pilot, lambda: app.incident.resolved, "the outage over and verified", timeout_s=60)
        assert tracker.attempts[attempt.at].outcome == "verified"
        assert tracker.assessment.level is None and " SEV-" not in drawn(app.screen.query_one("#header"))[0]
        await pilot.press("c")
        shown = await until(pilot, lambda: app.screen.id == "status-update" and app.screen, "the status update")
        text = shown.query_one("#status-text", TextArea).text
        lines = text.split("\n")
        assert lines[0] == "[RESOLVED] nimify-api: operational again"
        assert lines[1].startswith("Resolved: recovery verified at ")
        assert lines[2].startswith("Duration: ") and lines[2].endswith(", SEV-1 at worst.")
        assert lines[3] == f"Cause: {cause}."
        assert lines[4] == f"Fix: {attempt.action}." and "memory" in attempt.action.lower()
        assert lines[5] == "Status page: Operational. A post-mortem follows."
        await pilot.press("ctrl+s")
    assert app.session.folder is not None
    (entry,) = [e for e in status_updates(Path(app.session.folder)) if e["event"] == "copied"]
    assert entry["resolution"] is True and entry["text"] == text
