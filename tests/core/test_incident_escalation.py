"""Escalation on a simulated clock: the EM at 30 minutes of outage or after two failed attempts, the VP at 2 hours;
each prompt once, until acknowledged; the criteria only a person can judge, as a checklist."""

from __future__ import annotations

import pytest

from nimify_tui.incident.escalation import CRITERIA, Attempt, Checklist, EscalationPolicy, judge
from nimify_tui.incident.severity import SeverityInputs
from nimify_tui.incident.tracker import ActionDone, IncidentTracker, Observation, Verification

T0 = 1_700_000_000.0
DOWN = SeverityInputs(health_failing=True)
OOM = ("crash-loop", "nimify-api")


def seen(now: float, **kw: object) -> Observation:
    fields: dict[str, object] = {
        "failing_since": T0,
        "severity": DOWN,
        "cause": "OOMKilled",
        "diagnosed": (OOM,),
    }
    fields.update(kw)
    return Observation(now=now, **fields)  # type: ignore[arg-type]


def test_the_engineering_manager_is_prompted_at_30_minutes_of_outage_once() -> None:
    tracker = IncidentTracker()
    for minute in range(30):
        assert tracker.update(seen(T0 + minute * 60)).prompts == (), f"no prompt at {minute} min"
    prompts = tracker.update(seen(T0 + 30 * 60)).prompts
    assert [(p.id, p.who) for p in prompts] == [("em-duration", "Engineering Manager")]
    assert tracker.update(seen(T0 + 31 * 60)).prompts == (), "raised once"
    assert [p.id for p in tracker.escalations.open()] == ["em-duration"]
    assert tracker.escalations.acknowledge("em-duration") is not None
    assert tracker.escalations.open() == [] and tracker.escalations.acknowledge("em-duration") is None


def test_the_outage_clock_counts_from_the_earliest_proof() -> None:
    from nimify_tui.incident.clock import Sign

    tracker = IncidentTracker()
    early = [Sign(T0 - 10 * 60, T0 - 60, "BackOff on Pod nimify-api-1")]
    assert tracker.update(seen(T0 + 19 * 60, signs=early)).prompts == ()
    assert [p.id for p in tracker.update(seen(T0 + 20 * 60, signs=early)).prompts] == ["em-duration"]


def test_the_vp_is_prompted_at_two_hours() -> None:
    tracker = IncidentTracker()
    tracker.update(seen(T0))
    assert [p.id for p in tracker.update(seen(T0 + 7199)).prompts] == ["em-duration"]
    assert [(p.id, p.who) for p in tracker.update(seen(T0 + 7200)).prompts] == [("vp-duration", "VP Engineering")]


def test_two_failed_attempts_prompt_the_engineering_manager_before_30_minutes() -> None:
    tracker = IncidentTracker()
    tracker.update(seen(T0))
    first = ActionDone("rollout undo deployment nimify-api", T0 + 60, OOM)
    # the first attempt: its recovery verification failed
    changes = tracker.update(seen(T0 + 120, actions=[first], verification=Verification(False, T0 + 90, T0 + 110)))
    assert [(a.outcome, a.why) for a in changes.attempts] == [("failed", "recovery verification failed")]
    assert changes.prompts == ()
    # the second: its diagnosis did not clear within the deadline (10 min)
    second = ActionDone("restart deployment nimify-api", T0 + 180, OOM)
    failed_once = Verification(False, T0 + 90, T0 + 110)
    assert tracker.update(seen(T0 + 180 + 599, actions=[first, second], verification=failed_once)).prompts == ()
    changes = tracker.update(seen(T0 + 180 + 600, actions=[first, second], verification=failed_once))
    assert [a.why for a in changes.attempts] == ["diagnosis still there 10 min after"]
    assert [(p.id, p.why) for p in changes.prompts] == [("em-attempts", "2 failed resolution attempts")]


def test_an_attempt_whose_diagnosis_cleared_and_recovery_verified_is_not_failed() -> None:
    attempt = Attempt("undo", T0)
    assert judge(attempt, T0 + 30, cleared=True, verification=None, deadline_s=600).outcome == "cleared"
    assert judge(attempt, T0 + 900, cleared=False, verification=True, deadline_s=600).outcome == "verified"
    failed = judge(attempt, T0 + 600, cleared=False, verification=None, deadline_s=600)
    assert failed.outcome == "failed"
    assert judge(failed, T0 + 700, cleared=True, verification=True, deadline_s=600) is failed, "a verdict stays"


def test_actions_outside_the_outage_are_not_attempts() -> None:
    tracker = IncidentTracker(EscalationPolicy(attempt_deadline_s=60))
    tracker.update(seen(T0, actions=[ActionDone("scale", T0 - 100)]))
    assert tracker.attempts == {}


def test_the_checklist_ticks_and_says_whom_to_call() -> None:
    checklist = Checklist()
    assert checklist.toggle("security") is True
    assert checklist.toggle("data-loss") is True
    assert checklist.escalate_to() == ("Engineering Manager", "VP Engineering")
    assert checklist.toggle("security") is False
    assert checklist.escalate_to() == ("Engineering Manager",)
    with pytest.raises(KeyError):
        checklist.toggle("no-such-criterion")
    assert {c.who for c in CRITERIA} == {"Engineering Manager", "VP Engineering", "CEO/Legal"}


def test_a_status_update_reminder_every_30_minutes_since_the_last_update() -> None:
    tracker = IncidentTracker()
    assert tracker.update(seen(T0 + 29 * 60)).remind is False
    assert tracker.update(seen(T0 + 30 * 60)).remind is True
    assert tracker.update(seen(T0 + 31 * 60)).remind is False, "once per period"
    tracker.status_updated(T0 + 40 * 60)
    assert tracker.update(seen(T0 + 69 * 60)).remind is False
    assert tracker.update(seen(T0 + 70 * 60)).remind is True
    assert tracker.update(seen(T0 + 200 * 60, failing_since=None)).remind is False, "no reminder once it is over"


def test_an_attempt_clears_when_the_diagnosis_it_aimed_at_is_gone_even_if_another_remains() -> None:
    tracker = IncidentTracker(EscalationPolicy(attempt_deadline_s=60))
    action = ActionDone("set limits of nimify-api", T0 + 10, OOM)
    tracker.update(seen(T0 + 20, actions=[action]))
    assert tracker.attempts[T0 + 10].outcome == "pending"
    other = ("dependency", "database")
    tracker.update(seen(T0 + 30, actions=[action], diagnosed=(other,)))
    assert tracker.attempts[T0 + 10].outcome == "cleared"
    tracker.update(seen(T0 + 200, actions=[action], diagnosed=(other,)))
    assert tracker.attempts[T0 + 10].outcome == "cleared", "a cleared attempt waits for its verification"


def test_a_new_outage_has_its_own_escalations() -> None:
    tracker = IncidentTracker()
    assert [p.id for p in tracker.update(seen(T0 + 30 * 60)).prompts] == ["em-duration"]
    tracker.update(seen(T0 + 31 * 60, failing_since=None))
    assert tracker.update(seen(T0 + 40 * 60, failing_since=T0 + 40 * 60)).prompts == ()
    later = tracker.update(seen(T0 + 70 * 60, failing_since=T0 + 40 * 60)).prompts
    assert [p.id for p in later] == ["em-duration"], "30 minutes of the new outage"
