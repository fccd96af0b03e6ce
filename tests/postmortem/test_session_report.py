"""End to end: crashloop-oom recorded, a screenshot (S), fixed with f and y, recovery verified, then q and y. The
session folder then holds postmortem.md (detection, the action and verified recovery in order, with times) and
report.html, which a real headless Chromium loads with no console message and whose screenshot shows the timeline."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Static

from nimify_tui.postmortem.html import TIMELINE_COLOURS
from nimify_tui.recovery.verifier import RECOVERY
from nimify_tui.sim.server import SimThread
from nimify_tui.ui.app import NimifyApp
from nimify_tui.ui.screens.action import ActionScreen
from nimify_tui.ui.screens.quit_confirm import QuitConfirm

from ..ui.conftest import until
from .chromium import chromium_path, load, png_colours, screenshot

NO_CHROMIUM = "no chromium on PATH (Debian's 'chromium' package; .ci/run installs it)"


def status(screen: Any) -> str:
    return str(screen.query_one("#action-status", Static).content)


async def record_fixed_outage(sim: SimThread, app: NimifyApp) -> Path:
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
        await until(
            pilot,
            lambda: (r := app.runtime.store.value(RECOVERY)) is not None and r.outcome == "verified",
            "the verification started by itself, passed",
            timeout_s=60,
        )
        await pilot.press("q")
        await until(pilot, lambda: isinstance(app.screen, QuitConfirm), "the question")
        await pilot.press("y")
        await until(pilot, lambda: not app.is_running, "y quits")
    assert app.session.folder is not None
    return app.session.folder


def timeline(markdown: str) -> list[tuple[str, str, str]]:
    section = markdown.split("## Timeline (UTC)", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^- \*\*(\d\d:\d\d:\d\d)\*\* ([a-z -]+): (.*)$", section, flags=re.MULTILINE)


@pytest.fixture
def session(sim_factory: Callable[..., SimThread], tmp_path: Path) -> Callable[[], Any]:
    from ..ui.conftest import make_app

    async def run() -> Path:
        sim = sim_factory(scenario="crashloop-oom", speed=10.0)
        return await record_fixed_outage(sim, make_app(sim, tmp_path, record=True))

    return run


async def test_quitting_after_the_outage_writes_the_postmortem(session: Callable[[], Any]) -> None:
    folder: Path = await session()
    markdown = (folder / "postmortem.md").read_text()
    rows = timeline(markdown)
    kinds = [kind for _, kind, _ in rows]
    detection, mitigation, recovery = (kinds.index(k) for k in ("detection", "mitigation", "recovery"))
    assert detection < mitigation < recovery, kinds
    assert "set-resources Deployment nimify-system/nimify-api" in rows[mitigation][2]
    assert "verified" in rows[recovery][2]
    assert kinds[0] in ("first failure", "detection"), kinds
    times = [t for t, _, _ in rows]
    assert times == sorted(times)
    assert "kubectl -n nimify-system set resources deployment/nimify-api --containers=nimify-api" in markdown
    assert "limits=memory=2Gi" in markdown and "result: ok" in markdown
    root = markdown.split("## Root cause", 1)[1]
    assert "CrashLoopBackOff" in root.split("## Contributing factors", 1)[0]
    if "snapshots/" in markdown:  # the detection snapshot's diagnosis is the root cause
        assert root.lstrip().startswith("**Cause:**") and "OOMKilled" in root
    assert re.search(r"- Time to resolve: \d", markdown)
    assert "Latency p95: peak" in markdown  # the series the TUI saw, kept in latency-series.json
    assert (folder / "latency-series.json").is_file()
    html = (folder / "report.html").read_text()
    assert "data:image/svg+xml;base64," in html  # the S screenshot, embedded
    embedded = [base64.b64decode(data).decode() for data in re.findall(r"base64,([A-Za-z0-9+/=]+)", html)]
    tokens = re.findall(r"token: (\S+)", (folder.parent / "kubeconfig").read_text())
    assert tokens
    for text in (markdown, html, *embedded, (folder / "latency-series.json").read_text()):
        assert not any(token in text for token in tokens)


async def test_the_report_loads_in_chromium_without_console_messages_and_shows_the_timeline(
    session: Callable[[], Any], tmp_path: Path
) -> None:
    binary = chromium_path()
    if binary is None:
        pytest.skip(NO_CHROMIUM)
    folder: Path = await session()
    page = folder / "report.html"
    loaded = load(binary, page, tmp_path / "profile")
    assert loaded.console == []
    assert '<table class="timeline">' in loaded.dom or 'class="timeline"' in loaded.dom
    png = screenshot(binary, page, tmp_path / "profile", tmp_path / "report.png", (1100, 2000))
    colours = png_colours(png)
    for kind in ("failure", "detection", "action", "recovery"):  # each timeline row's colour strip, drawn
        value = TIMELINE_COLOURS[kind].lstrip("#")
        assert tuple(int(value[i : i + 2], 16) for i in (0, 2, 4)) in colours, kind


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
