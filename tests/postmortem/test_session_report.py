"""The recorded outage the end-to-end test (test_done_when.py) plays: crashloop-oom, a screenshot (S), fixed with f
and y, recovery verified, then q and y; the timeline read out of postmortem.md; and the check that the Chromium
console test would see an error."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Static

from nimify_tui.recovery.result import RecoveryResult
from nimify_tui.recovery.verifier import RECOVERY
from nimify_tui.sim.server import SimThread
from nimify_tui.ui.app import NimifyApp
from nimify_tui.ui.screens.action import ActionScreen
from nimify_tui.ui.screens.main import MainScreen
from nimify_tui.ui.screens.quit_confirm import QuitConfirm
from nimify_tui.ui.widgets.record_table import RecordTable

from ..ui.conftest import until
from .chromium import chromium_path, load

NO_CHROMIUM = "no chromium on PATH (Debian's 'chromium' package; .ci/run installs it)"


def status(screen: Any) -> str:
    return str(screen.query_one("#action-status", Static).content)


def api_statuses(app: NimifyApp) -> list[str]:
    """The STATUS column of nimify-api's rows in the pods table."""
    table = app.screen.query_one("#pods-table", RecordTable)
    rows = [list(table.get_row_at(i)) for i in range(table.row_count)]
    return [str(row[2]) for row in rows if str(row[0]).startswith("nimify-api-")]


async def record_fixed_outage(sim: SimThread, app: NimifyApp, *, snapshots: int = 0, running: bool = False) -> Path:
    """The crashloop fixed with f and y, recovery verified, then q and y. Before quitting, wait until ``snapshots``
    of the automatic snapshots (at detection, after recovery) are written and, with ``running``, until nimify-api's
    rows all say Running (the old revision's pods gone)."""
    async with app.run_test(size=(160, 45)) as pilot:
        await until(pilot, lambda: app.diagnoses and app.diagnoses[0].fix is not None, "the diagnosis and its fix")
        await pilot.press("S")
        await pilot.press("f")
        screen: Any = await until(pilot, lambda: isinstance(app.screen, ActionScreen) and app.screen, "the dialog")
        await until(pilot, lambda: screen.state == "confirming", "the dry run", timeout_s=15)
        await pilot.press("y")
        await until(pilot, lambda: screen.state == "done", "the real call", timeout_s=15)
        # the rollout followed to its end before esc: closing the dialog while it is followed is another test's
        await until(pilot, lambda: "successfully rolled out" in status(screen), "the rollout followed", timeout_s=30)
        await pilot.press("escape")
        await verified(pilot, app)
        await until(pilot, lambda: len(app.snapshots.taken) >= snapshots, f"{snapshots} snapshots", timeout_s=60)
        if running:
            await until(
                pilot,
                lambda: (statuses := api_statuses(app)) and set(statuses) == {"Running"},
                "nimify-api Running again",
                timeout_s=30,
            )
        await pilot.press("q")
        await until(pilot, lambda: isinstance(app.screen, QuitConfirm), "the question")
        await pilot.press("y")
        await until(pilot, lambda: not app.is_running, "y quits")
    assert app.session.folder is not None
    return app.session.folder


def finished_since(app: NimifyApp, started: float) -> RecoveryResult | None:
    result = app.runtime.store.value(RECOVERY)
    return result if result is not None and result.started_at > started and result.finished_at else None


async def verified(pilot: Any, app: NimifyApp, retries: int = 2) -> None:
    """The verification started by itself passes; failed, it is asked again with V (at most ``retries`` times), as
    a person would: its light load test also measures the CPU the tests share, and a loaded one fails it."""
    result = await until(pilot, lambda: finished_since(app, 0.0), "the verification started by itself", timeout_s=60)
    for _ in range(retries):
        if result.outcome == "verified":
            break
        await pilot.press("V")
        result = await until(
            pilot, lambda started=result.started_at: finished_since(app, started), "V's verification", timeout_s=60
        )
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, MainScreen), "back on the main screen")
    assert result.outcome == "verified", [(c.name, c.state, c.detail) for c in result.checks if c.state != "pass"]


def timeline(markdown: str) -> list[tuple[str, str, str]]:
    section = markdown.split("## Timeline (UTC)", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^- \*\*(\d\d:\d\d:\d\d)\*\* ([a-z -]+): (.*)$", section, flags=re.MULTILINE)


def test_the_console_check_would_catch_an_error(tmp_path: Path) -> None:
    """The console check sees a script error and a blocked external load (so a clean report's [] means it)."""
    binary = chromium_path()
    if binary is None:
        pytest.skip(NO_CHROMIUM)
    page = tmp_path / "bad.html"
    page.write_text(
        "<!DOCTYPE html><html><head><meta http-equiv='Content-Security-Policy' content=\"img-src data:\"></head>"
        "<body><img src='https://example.invalid/x.png'><script>undefined_function();</script></body></html>"
    )
    console = load(binary, page, tmp_path / "profile").console
    assert any("undefined_function" in line for line in console)
    assert any("example.invalid" in line for line in console)
