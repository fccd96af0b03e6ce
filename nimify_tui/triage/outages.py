"""Outages as the checks saw them: since when some check fails, and the last outage that ended (for the header's
"last outage 14:02-14:04 (2m10s), recovered 94s ago" once every check passes again)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from nimify_tui.triage.checks import Finding


@dataclass(frozen=True, slots=True)
class Outage:
    """A span of time during which at least one check failed."""

    started_at: float
    ended_at: float

    @property
    def seconds(self) -> float:
        return self.ended_at - self.started_at


@dataclass
class OutageTracker:
    """Follows the findings: an outage starts at the first failing check and ends when no check fails and every
    check that failed during it passes again (one that cannot tell now, "unknown", does not end it)."""

    failing_since: float | None = None
    last_outage: Outage | None = None
    failed: set[str] = field(default_factory=set)  # the checks that failed during the outage going on

    def update(self, findings: Sequence[Finding], now: float) -> None:
        failing = {f.check for f in findings if f.state == "fail"}
        if failing:
            if self.failing_since is None:
                self.failing_since = now
            self.failed |= failing
            return
        passing = {f.check for f in findings if f.state == "pass"}
        if self.failing_since is not None and self.failed <= passing:
            self.last_outage = Outage(self.failing_since, now)
            self.failing_since = None
            self.failed = set()
