"""Escalation in the app, on the app's clock set forward (simulated time, no sleeping): the Engineering Manager
prompt at 30 minutes of outage and after two failed resolution attempts, shown in a banner below the header until
`a` acknowledges it, each step journaled; the other criteria ticked by hand on `E`, each tick journaled."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from nimify_tui.actions.registry import REMEDY_BY_ID, PlanExtras
from nimify_tui.journal.journal import read_journal
from nimify_tui.sim.server import SimThread
from nimify_tui.ui.app import NimifyApp
from nimify_tui.ui.widgets.escalation_banner import EscalationBanner

from .conftest import drawn, until

SIZE = (160, 45)
SPEED = 10.0


def journal(app: NimifyApp, kind: str) -> list[dict[str, Any]]:
    assert app.session.folder is not None
    return [e for e in read_journal(Path(app.session.folder) / "journal.jsonl") if e["kind"] == kind]


def banner(app: NimifyApp) -> str:
    widget = app.screen.query_one(EscalationBanner)
    return "\n".join(drawn(widget)) if widget.display and not widget.has_class("-empty") else ""


def header(app: NimifyApp) -> str:
    return drawn(app.screen.query_one("#header"))[0]


async def sev1_outage(pilot: Pilot[Any], app: NimifyApp) -> float:
    """Wait for the outage graded SEV-1 in the header; its clock's start."""
    tracker = app.incident.tracker
    await until(pilot, lambda: tracker.state.running and tracker.assessment.level == "SEV-1", "a SEV-1 outage")
    await until(pilot, lambda: " SEV-1 " in header(app), "SEV-1 in the header")
    assert tracker.state.started_at is not None
    return tracker.state.started_at


def graded_when_first_raised(app: NimifyApp) -> str | None:
    """The last severity journaled before the first escalation: an outage whose pods fail one by one may be graded
    SEV-2 before SEV-1."""
    assert app.session.folder is not None
    level = None
    for entry in read_journal(Path(app.session.folder) / "journal.jsonl"):
        if entry["kind"] == "severity":
            level = entry["level"]
        elif entry["kind"] == "escalation" and entry["event"] == "raised":
            return level
    return None


def set_clock(app: NimifyApp, at: float) -> None:
    app.clock = lambda: at
    app.incident.tick()


async def test_the_manager_is_prompted_at_30_minutes_of_outage_until_acknowledged(
    sim_factory: Callable[..., SimThread], app_factory: Callable[..., NimifyApp]
) -> None:
    sim = sim_factory(scenario="crashloop-oom", speed=SPEED)
    app = app_factory(sim, record=True)
    async with app.run_test(size=SIZE) as pilot:
        start = await sev1_outage(pilot, app)
        assert "failing since" in header(app)
        set_clock(app, start + 30 * 60 - 1)
        await pilot.pause()
        assert app.incident.tracker.escalations.open() == [] and "ESCALATE" not in banner(app)
        set_clock(app, start + 30 * 60)
        shown = await until(pilot, lambda: "ESCALATE" in banner(app) and banner(app), "the escalation banner")
        assert (
            "ESCALATE to Engineering Manager" in shown and "outage over 30 min" in shown and "a acknowledges" in shown
        )
        assert "(30m)" in header(app), "the outage clock in the header"
        assert any(n.title == "Escalation" for n in app._notifications), "a notice too, seen from any screen"
        raised = journal(app, "escalation")
        assert [(e["event"], e["prompt"], e["who"]) for e in raised] == [
            ("raised", "em-duration", "Engineering Manager")
        ]
        await pilot.press("a")
        await until(pilot, lambda: "ESCALATE" not in banner(app), "the banner gone once acknowledged")
        assert [e["event"] for e in journal(app, "escalation")] == ["raised", "acknowledged"]
        set_clock(app, start + 40 * 60)
        await pilot.pause()
        assert "ESCALATE" not in banner(app), "raised once"
        set_clock(app, start + 2 * 60 * 60)
        await until(pilot, lambda: "ESCALATE to VP Engineering" in banner(app), "the VP at 2 hours")
    assert [e["prompt"] for e in journal(app, "escalation")] == ["em-duration", "em-duration", "vp-duration"]
    assert graded_when_first_raised(app) == "SEV-1", "the severity in force when the manager was called"


async def restart_api(app: NimifyApp) -> None:
    """A resolution attempt that does not resolve an OOM: restart nimify-api (the guarded path, confirmed)."""
    client = app.runtime.client
    runner = app.action_runner()
    action = await asyncio.to_thread(REMEDY_BY_ID["restart"].plan, client, "nimify-system", "nimify-api", PlanExtras())
    await asyncio.to_thread(runner.run, action, lambda prepared: True)
    app.incident.tick()


async def test_two_failed_resolution_attempts_prompt_the_manager_before_30_minutes(
    sim_factory: Callable[..., SimThread], app_factory: Callable[..., NimifyApp]
) -> None:
    sim = sim_factory(scenario="crashloop-oom", speed=SPEED)
    app = app_factory(sim, record=True)
    async with app.run_test(size=SIZE) as pilot:
        start = await sev1_outage(pilot, app)
        await until(pilot, lambda: app.diagnoses and app.diagnoses[0].fix is not None, "the OOM diagnosis")
        set_clock(app, start + 60)
        await restart_api(app)
        tracker = app.incident.tracker
        (first,) = tracker.attempts.values()
        assert first.at == start + 60, "on the app's clock"
        set_clock(app, start + 60 + 10 * 60)
        assert [a.outcome for a in tracker.attempts.values()] == ["failed"]
        await pilot.pause()
        assert "ESCALATE" not in banner(app), "one failed attempt is not yet two"
        await restart_api(app)
        set_clock(app, start + 60 + 20 * 60)
        shown = await until(pilot, lambda: "ESCALATE" in banner(app) and banner(app), "the escalation banner")
        assert "2 failed resolution attempts" in shown
        assert [p.id for p in tracker.escalations.open()] == ["em-attempts"], "21 minutes: not the duration one"
    failed = journal(app, "resolution_attempt")
    assert [e["outcome"] for e in failed] == ["failed", "failed"]
    assert all(e["action"].startswith("Restart") or "restart" in e["action"].lower() for e in failed), failed


async def test_the_other_criteria_are_ticked_by_hand_and_each_tick_journaled(
    sim_factory: Callable[..., SimThread], app_factory: Callable[..., NimifyApp]
) -> None:
    sim = sim_factory(scenario="crashloop-oom", speed=SPEED)
    app = app_factory(sim, record=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("E")
        screen = await until(pilot, lambda: app.screen.id == "escalation-criteria" and app.screen, "the checklist")
        assert "Nothing ticked." in "\n".join(drawn(screen.query_one("#criteria-whom")))
        await pilot.press("space")  # the first: potential data loss
        await pilot.press("down", "down", "space")  # security
        whom = "\n".join(drawn(screen.query_one("#criteria-whom")))
        assert "Escalate to: Engineering Manager, VP Engineering" in whom
        await pilot.press("space")  # unticked again
        await pilot.press("escape")
        assert app.screen.id != "escalation-criteria"
    ticks = [(e["criterion"], e["ticked"]) for e in journal(app, "escalation_criterion")]
    assert ticks == [("data-loss", True), ("security", True), ("security", False)]


def test_the_header_shows_the_severity_and_the_clock_from_its_earliest_proof() -> None:
    from nimify_tui.triage.outages import Outage
    from nimify_tui.ui.panes.header import HeaderInfo, render_header

    at = 1_700_000_000.0  # 22:13:20 UTC
    info = HeaderInfo("ctx", "cl", "ns", "DOWN", at, None, True, None, failing_since=at)
    plain = render_header(info, at + 60).plain
    assert " SEV-" not in plain and " failing since 22:13 UTC (60s) " in plain
    graded = render_header(HeaderInfo(**{**info.__dict__, "severity": "SEV-1", "outage_started_at": at - 240}), at + 60)
    assert " DOWN  READ-ONLY  SEV-1  failing since 22:09 UTC (5m) " in graded.plain, "read-only first, then SEV"
    severity = next(span for span in graded.spans if graded.plain[span.start : span.end] == " SEV-1 ")
    assert "red" in str(severity.style)
    ended = HeaderInfo(**{**info.__dict__, "failing_since": None, "last_outage": Outage(at, at + 300)})
    ended = HeaderInfo(**{**ended.__dict__, "outage_started_at": at - 240})
    assert " last outage 22:09-22:18 UTC (9m), recovered 60s ago " in render_header(ended, at + 360).plain


def test_a_failed_predict_grades_the_outage_only_while_it_is_news() -> None:
    from nimify_tui.recovery.result import HEALTH, CheckResult, RecoveryResult
    from nimify_tui.recovery.verify import PREDICT_CHECK
    from nimify_tui.ui.incident_desk import predict_failed, verification_of

    at = 1_700_000_000.0
    failed = RecoveryResult("failed", at, (CheckResult(HEALTH, PREDICT_CHECK, "fail", "HTTP 503"),), finished_at=at + 2)
    assert predict_failed(failed, since=at - 10)
    assert not predict_failed(failed, since=at + 1), "a verification from before the outage says nothing of it"
    passed = RecoveryResult("verified", at, (CheckResult(HEALTH, PREDICT_CHECK, "pass"),), finished_at=at + 2)
    assert not predict_failed(passed, since=at - 10)
    assert verification_of(failed) is not None and verification_of(failed).passed is False  # type: ignore[union-attr]
    assert verification_of(RecoveryResult("incomplete", at, (), finished_at=at + 1)) is None, "read-only judges none"
    assert verification_of(RecoveryResult("running", at, ())) is None
