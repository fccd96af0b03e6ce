"""The status update drafted from the live state, and the resolution message after verified recovery."""

from __future__ import annotations

from nimify_tui.incident.severity import SeverityInputs
from nimify_tui.incident.status_update import IncidentFacts, draft
from nimify_tui.incident.tracker import ActionDone, IncidentTracker, Observation, Verification

T0 = 1_700_000_000.0  # 22:13:20 UTC


def test_the_outage_update_states_what_since_when_severity_cause_action_and_next_update() -> None:
    facts = IncidentFacts(
        service="nimify-api",
        affected=("/health fails", "1 of 3 replicas ready"),
        severity="SEV-1",
        started_at=T0,
        cause="nimify-api is OOMKilled: its memory limit is too low",
    )
    assert draft(facts, T0 + 600) == (
        "[SEV-1] nimify-api: investigating\n"
        "Affected: nimify-api (/health fails; 1 of 3 replicas ready).\n"
        "Since: 22:13 UTC (10m), SEV-1.\n"
        "Suspected cause: nimify-api is OOMKilled: its memory limit is too low.\n"
        "Being done: investigating; no change made yet.\n"
        "Next update: 22:53 UTC."
    )


def test_after_verified_recovery_the_draft_is_the_resolution() -> None:
    tracker = IncidentTracker()
    down = SeverityInputs(health_failing=True)
    tracker.update(Observation(T0, T0, down, cause="OOMKilled"))
    action = ActionDone("set memory limit of nimify-api to 1Gi", T0 + 300)
    tracker.update(Observation(T0 + 310, T0, down, actions=[action]))
    facts = tracker.facts("nimify-api", ["/health fails"])
    assert "Being done: set memory limit of nimify-api to 1Gi at 22:18 UTC; verifying recovery." in draft(
        facts, T0 + 310
    )
    assert draft(facts, T0 + 310).startswith("[SEV-1] nimify-api: mitigating")
    verified = Verification(True, T0 + 400, T0 + 420)
    tracker.update(Observation(T0 + 420, None, SeverityInputs(), cause=None, actions=[action], verification=verified))
    text = draft(tracker.facts("nimify-api", []), T0 + 430)
    assert text == (
        "[RESOLVED] nimify-api: operational again\n"
        "Resolved: recovery verified at 22:20 UTC (health checks, monitoring and load test pass).\n"
        "Duration: 22:13 UTC to 22:20 UTC (7m), SEV-1 at worst.\n"
        "Cause: OOMKilled.\n"
        "Fix: set memory limit of nimify-api to 1Gi.\n"
        "Status page: Operational. A post-mortem follows."
    )
    assert tracker.attempts[T0 + 300].outcome == "verified"


def test_checks_passing_again_without_verification_is_said_as_such() -> None:
    facts = IncidentFacts(
        service="nimify-api",
        affected=(),
        severity=None,
        started_at=T0,
        ended_at=T0 + 300,
        cause="OOMKilled",
        last_action="set memory limit",
        last_action_at=T0 + 200,
        worst_severity="SEV-1",
    )
    lines = draft(facts, T0 + 400).split("\n")
    assert lines[0] == "[MONITORING] nimify-api: checks pass again; recovery not verified yet"
    assert lines[2] == "Outage: 22:13 UTC to 22:18 UTC (5m), SEV-1 at worst."
