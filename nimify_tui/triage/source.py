"""The triage as a source: the runbook's checks run off the UI thread, their result published in the store.

A thread waits for the store to change (or for ``every_s``: some checks move with the clock alone, "restarted 30 s
ago"), runs every check, publishes one immutable :class:`Triage` under ``TRIAGE`` and reports each finding whose
state changed to ``on_change`` (the session journals it, with an fsync, on this thread). The UI only reads.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from nimify_tui.live.keys import ValueKey
from nimify_tui.live.store import Store
from nimify_tui.triage.checks import (
    DEFAULT_MAIN_NAMESPACE,
    Finding,
    FindingTracker,
    Overall,
    State,
    overall_state,
    run_checks,
)
from nimify_tui.triage.diagnose import diagnose
from nimify_tui.triage.diagnosis import Diagnosis
from nimify_tui.triage.outages import Outage, OutageTracker

FindingChanged = Callable[[Finding, "State | None"], None]
DiagnosisChanged = Callable[[Diagnosis, bool], None]  # a diagnosis, and whether it appeared (False: it cleared)


@dataclass(frozen=True, slots=True)
class Triage:
    """The checks' answer at one moment."""

    findings: tuple[Finding, ...]
    diagnoses: tuple[Diagnosis, ...]  # most likely root cause first
    overall: Overall
    first_failure_at: float | None  # when a check first failed in this session; kept for the post-mortem
    checked_at: float
    failing_since: float | None = None  # when the outage going on now began (some check fails since)
    last_outage: Outage | None = None  # the last outage that ended (every check passed again)


TRIAGE: ValueKey[Triage] = ValueKey("triage")


def diagnosis_changes(
    before: Mapping[tuple[str, str], Diagnosis], now: Sequence[Diagnosis]
) -> list[tuple[Diagnosis, bool]]:
    """The diagnoses (one per scenario and component) that appeared since ``before``, then those that cleared (as
    last seen)."""
    keys = {(d.scenario, d.component) for d in now}
    appeared = [(d, True) for d in now if (d.scenario, d.component) not in before]
    cleared = [(d, False) for key, d in before.items() if key not in keys]
    return appeared + cleared


RUN_SPACING = 5.0  # a slow run is followed by four times its length of rest
LISTING_EVERY_S = 5.0  # while a pods list is coming in, the checks run this often at most (not on each page)


class TriageSource:
    """Runs the checks whenever the store changed, at most every ``min_gap_s``, and at least every ``every_s``."""

    def __init__(
        self,
        store: Store,
        *,
        main_namespace: str = DEFAULT_MAIN_NAMESPACE,
        on_change: FindingChanged | None = None,
        on_diagnosis: DiagnosisChanged | None = None,
        clock: Callable[[], float] = time.time,
        every_s: float = 2.0,
        min_gap_s: float = 0.2,
    ) -> None:
        self.store = store
        self.main_namespace = main_namespace
        self.on_change = on_change
        self.on_diagnosis = on_diagnosis
        self._diagnosed: dict[tuple[str, str], Diagnosis] = {}  # the diagnoses of the last run
        self.clock = clock
        self.every_s = every_s
        self.min_gap_s = min_gap_s
        self.tracker = FindingTracker.new()
        self.outages = OutageTracker()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="triage", daemon=True)

    def start(self) -> None:
        """One pass now (the first frame shows findings, not "loading"), then the thread."""
        self.run_once()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2.0)

    def run_once(self) -> Triage:
        """Run every check, publish the result and report the changes."""
        now = self.clock()
        findings = tuple(run_checks(self.store, now, main_namespace=self.main_namespace))
        diagnoses = diagnose(self.store, findings, now, main_namespace=self.main_namespace)
        changed = self.tracker.update(findings, now)
        self.outages.update(findings, now)
        overall = overall_state(findings)
        if diagnoses and overall in ("OK", "UNKNOWN"):
            overall = "DEGRADED"  # a cause found where no check fails (a rollout stuck on a missing image)
        triage = Triage(
            findings,
            diagnoses,
            overall,
            self.tracker.first_failure_at,
            now,
            self.outages.failing_since,
            self.outages.last_outage,
        )
        self.store.put(TRIAGE, triage)
        if self.on_change is not None:
            for finding, previous in changed:
                self.on_change(finding, previous)
        changes = diagnosis_changes(self._diagnosed, diagnoses)
        self._diagnosed = {(d.scenario, d.component): d for d in diagnoses}
        if self.on_diagnosis is not None:
            for diagnosis, appeared in changes:
                self.on_diagnosis(diagnosis, appeared)
        return triage

    def spacing(self, cost_s: float) -> float:
        """The least time from one run's start to the next's, after a run that took ``cost_s``: ``min_gap_s``, or
        enough for the checks to take at most a fifth of the time when they are slow (at 50,000 pods a run walks
        every pod: run back to back on a busy store, they held the interpreter from the screen)."""
        return max(self.min_gap_s, cost_s * RUN_SPACING)

    def _pods_listing(self) -> bool:
        """Whether a pods list is still coming in (a source whose first list is not in yet)."""
        return not all(health.loaded for health in self.store.health_of("pods"))

    def _run(self) -> None:
        seen = self.store.changes
        last_run = time.monotonic()
        cost = 0.0
        while not self._stop.is_set():
            changes = self.store.wait_for_change(seen, min(self.every_s, 0.5))
            since_last = time.monotonic() - last_run
            due = since_last >= self.every_s
            if changes == seen and not due:
                continue
            if since_last < LISTING_EVERY_S and self._pods_listing():
                # each page of a list that is coming in changes the store: the checks would run on a partial
                # list (and at 50,000 pods take the interpreter from the list for a quarter of a second each)
                if self._stop.wait(min(self.min_gap_s, LISTING_EVERY_S - since_last)):
                    return
                continue
            gap = self.spacing(cost) - (time.monotonic() - last_run)
            if gap > 0 and self._stop.wait(gap):
                return
            started_at = self.store.changes
            last_run = time.monotonic()
            self.run_once()
            cost = time.monotonic() - last_run
            seen = started_at + 1  # our own publication is one change; any other since then reruns the checks
