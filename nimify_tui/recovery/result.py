"""What a recovery verification found: each check of the runbook's three steps, the load test's figures, the
outcome. Immutable snapshots: the verification publishes a new one after each check."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

CheckState = Literal["pending", "running", "pass", "fail", "not-run"]
Outcome = Literal["running", "verified", "failed", "incomplete"]

# the runbook's three steps, in order
HEALTH = "Health checks"
MONITORING = "Monitoring verification"
LOAD = "Load testing"
STEPS = (HEALTH, MONITORING, LOAD)

READ_ONLY_NOT_RUN = "not run: read-only"


@dataclass(frozen=True, slots=True)
class LoadFigures:
    """The load test's result: how many predicts, how many failed, and their latencies (milliseconds)."""

    requests: int
    concurrency: int
    errors: int
    p50_ms: float
    p95_ms: float
    max_ms: float
    buckets: tuple[tuple[float, int], ...]  # (upper bound in ms, count in that bucket); the last bound is inf
    first_error: str = ""

    def summary(self) -> str:
        latency = f"p50 {self.p50_ms:.0f} ms, p95 {self.p95_ms:.0f} ms, max {self.max_ms:.0f} ms"
        errors = f"{self.errors} error" + ("" if self.errors == 1 else "s")
        return f"{self.requests} predicts, {self.concurrency} at a time: {latency}; {errors}"


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One check of one step: what was asked, how it went, and how long it took."""

    step: str  # one of STEPS
    name: str  # "api /health"
    state: CheckState
    detail: str = ""  # what was seen ("HTTP 200", "2 of 2 targets up") or why it failed
    duration_ms: float = 0.0

    @property
    def finished(self) -> bool:
        return self.state in ("pass", "fail", "not-run")


@dataclass(frozen=True, slots=True)
class RecoveryResult:
    """One verification: when it started (and ended), what started it, the action it followed, every check."""

    outcome: Outcome
    started_at: float  # seconds since the epoch
    checks: tuple[CheckResult, ...]
    trigger: Literal["key", "auto"] = "key"
    after_action: str | None = None  # the summary of the last action done before it, if any
    action_at: float | None = None  # when that action was done
    finished_at: float | None = None
    load: LoadFigures | None = None

    def step_state(self, step: str) -> CheckState:
        """A step passes when each of its checks passed; it fails when one failed; "not-run" when none failed and
        one was not run."""
        states = [check.state for check in self.checks if check.step == step]
        if not states:
            return "pending"
        for state in ("fail", "running", "pending", "not-run"):
            if state in states:
                return state
        return "pass"

    def with_check(self, check: CheckResult) -> RecoveryResult:
        """This result with ``check`` in place of the check of the same step and name."""
        checks = tuple(check if (c.step, c.name) == (check.step, check.name) else c for c in self.checks)
        return replace(self, checks=checks)

    def finish(self, at: float, load: LoadFigures | None) -> RecoveryResult:
        """The outcome once every check ended: verified when every step passed; failed when one check failed;
        incomplete when none failed but some were not run (read-only)."""
        states = {check.state for check in self.checks}
        if "fail" in states or not self.checks:
            outcome: Outcome = "failed"
        elif "not-run" in states:
            outcome = "incomplete"
        else:
            outcome = "verified"
        return replace(self, outcome=outcome, finished_at=at, load=load)

    def headline(self) -> str:
        """One line: "recovery verified", "recovery not verified: 2 checks failed", ..."""
        if self.outcome == "running":
            done = sum(1 for check in self.checks if check.finished)
            return f"verifying recovery ({done}/{len(self.checks)})"
        if self.outcome == "verified":
            return "recovery verified"
        if self.outcome == "incomplete":
            return "recovery partly verified (POSTs not run: read-only)"
        failed = [check.name for check in self.checks if check.state == "fail"]
        return "recovery not verified: " + ", ".join(failed) + " failed"
