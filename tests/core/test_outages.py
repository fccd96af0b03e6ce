"""Outages as the triage sees them: when the one going on began, and the last one that ended, from the checks run
over a store of probe results (what the header says once everything passes again)."""

from __future__ import annotations

import time

from nimify_tui.live.keys import PROBES
from nimify_tui.live.store import Store
from nimify_tui.probes import ProbeResult
from nimify_tui.triage.checks import Finding, run_checks
from nimify_tui.triage.outages import Outage, OutageTracker
from nimify_tui.triage.source import TRIAGE, TriageSource


def probes(healthy: bool) -> list[ProbeResult]:
    status = 200 if healthy else 503
    return [
        ProbeResult(name, healthy, status, 9.0, "" if healthy else "refused", time.time(), "http://x")
        for name in ("api /health", "api /ready")
    ]


def checks(store: Store, healthy: bool, now: float) -> list[Finding]:
    store.put(PROBES, probes(healthy))
    return run_checks(store, now)


def test_an_outage_runs_from_the_first_failing_check_until_every_check_passes() -> None:
    store = Store()
    tracker = OutageTracker()
    tracker.update(checks(store, True, 100.0), 100.0)
    assert (tracker.failing_since, tracker.last_outage) == (None, None)
    tracker.update(checks(store, False, 110.0), 110.0)
    tracker.update(checks(store, False, 150.0), 150.0)
    assert tracker.failing_since == 110.0, "the outage began at the first failure, not the latest"
    assert tracker.last_outage is None
    tracker.update(checks(store, True, 240.0), 240.0)
    assert tracker.failing_since is None
    assert tracker.last_outage == Outage(110.0, 240.0) and tracker.last_outage.seconds == 130.0
    tracker.update(checks(store, False, 300.0), 300.0)
    assert tracker.failing_since == 300.0 and tracker.last_outage == Outage(110.0, 240.0)
    tracker.update(checks(store, True, 305.0), 305.0)
    assert tracker.last_outage == Outage(300.0, 305.0), "the last outage is the latest one that ended"


def test_checks_that_cannot_tell_do_not_end_an_outage() -> None:
    store = Store()
    tracker = OutageTracker()
    tracker.update(checks(store, False, 10.0), 10.0)
    blind = run_checks(Store(), 20.0)  # no probe results: the probes' checks cannot tell, others pass
    assert {f.state for f in blind if f.check in ("api-health", "api-ready")} == {"unknown"}
    assert not any(f.state == "fail" for f in blind)
    tracker.update(blind, 20.0)
    assert tracker.failing_since == 10.0 and tracker.last_outage is None
    tracker.update(checks(store, True, 30.0), 30.0)
    assert tracker.last_outage == Outage(10.0, 30.0)


def test_the_triage_snapshot_carries_the_outage() -> None:
    store = Store()
    now = [1000.0]
    source = TriageSource(store, clock=lambda: now[0])
    store.put(PROBES, probes(False))
    failing = source.run_once()
    assert failing.failing_since == 1000.0 and failing.last_outage is None
    now[0] = 1130.0
    store.put(PROBES, probes(True))
    source.run_once()
    recovered = store.value(TRIAGE)
    assert recovered is not None
    assert recovered.failing_since is None
    assert recovered.last_outage == Outage(1000.0, 1130.0)
    assert recovered.first_failure_at == 1000.0, "the first failure stays for the post-mortem"
