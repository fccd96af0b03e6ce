"""The outage clock: from the first failure seen, or earlier when events or restarts chain up to it."""

from __future__ import annotations

from nimify_tui.incident.clock import ClockState, OutageClock, Sign, chain_start, event_signs, restart_signs
from nimify_tui.kube.records import EventRecord, PodRecord


def event(
    reason: str, first: float, last: float, kind: str = "Warning", namespace: str = "nimify-system"
) -> EventRecord:
    return EventRecord.from_raw(
        {
            "metadata": {"name": f"e-{reason}-{first}", "namespace": namespace},
            "involvedObject": {"kind": "Pod", "name": "nimify-api-1", "namespace": namespace},
            "type": kind,
            "reason": reason,
            "message": "m",
            "firstTimestamp": _rfc3339(first),
            "lastTimestamp": _rfc3339(last),
            "count": 3,
        }
    )


def _rfc3339(at: float) -> str:
    from datetime import datetime, timezone

    return datetime.fromtimestamp(at, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


T0 = 1_700_000_000.0


def test_signs_chained_without_a_long_gap_move_the_start_back() -> None:
    signs = [
        Sign(T0 - 500, T0 - 450, "BackOff"),
        Sign(T0 - 200, T0 - 10, "Unhealthy"),
        Sign(T0 - 3000, T0 - 2900, "old"),
    ]
    assert chain_start(T0, signs) == Sign(T0 - 500, T0 - 450, "BackOff")
    assert chain_start(T0, [Sign(T0 - 2000, T0 - 1000, "too early")]) is None, "a gap over 5 minutes breaks it"
    assert chain_start(T0, [Sign(T0 + 5, T0 + 9, "after")]) is None


def test_warning_events_of_the_namespace_are_signs_normal_ones_are_not() -> None:
    events = [
        event("BackOff", T0 - 600, T0 - 30),
        event("Pulled", T0 - 900, T0 - 900, kind="Normal"),
        event("BackOff", T0 - 800, T0 - 700, namespace="other"),
    ]
    signs = event_signs(events, "nimify-system")
    assert [(s.first, s.last) for s in signs] == [(T0 - 600, T0 - 30)]
    assert signs[0].what == "BackOff on Pod nimify-api-1"


def pod(ready: int, finished: float, reason: str = "OOMKilled") -> PodRecord:
    return PodRecord.from_raw(
        {
            "metadata": {"name": "nimify-api-1", "namespace": "nimify-system"},
            "spec": {"containers": [{"name": "api"}]},
            "status": {
                "phase": "Running",
                "containerStatuses": [
                    {
                        "name": "api",
                        "ready": ready == 1,
                        "restartCount": 4,
                        "state": {"running": {}} if ready else {"waiting": {"reason": "CrashLoopBackOff"}},
                        "lastState": {
                            "terminated": {"reason": reason, "exitCode": 137, "finishedAt": _rfc3339(finished)}
                        },
                    }
                ],
            },
        }
    )


def test_terminations_of_pods_not_ready_are_signs() -> None:
    assert [s.first for s in restart_signs([pod(0, T0 - 120)], "nimify-system")] == [T0 - 120]
    assert "OOMKilled" in restart_signs([pod(0, T0 - 120)], "nimify-system")[0].what
    assert restart_signs([pod(1, T0 - 120)], "nimify-system") == [], "a pod that is ready again proves nothing"
    assert restart_signs([pod(0, T0 - 120, reason="Completed")], "nimify-system") == []


def test_the_clock_keeps_its_earliest_proof_and_stops_when_all_passes() -> None:
    clock = OutageClock()
    assert clock.update(None, [], T0) == ClockState()
    state = clock.update(T0, [], T0)
    assert (state.started_at, state.why, state.running) == (T0, "first failed check", True)
    state = clock.update(T0, [Sign(T0 - 240, T0 - 60, "BackOff on Pod nimify-api-1")], T0 + 10)
    assert (state.started_at, state.why) == (T0 - 240, "BackOff on Pod nimify-api-1")
    state = clock.update(T0, [], T0 + 20)
    assert state.started_at == T0 - 240, "the proof holds after the event expired"
    assert state.seconds(T0 + 60) == 300
    state = clock.update(None, [], T0 + 100)
    assert (state.started_at, state.ended_at, state.running) == (T0 - 240, T0 + 100, False)
    assert state.seconds(T0 + 999) == 340, "a finished outage's length no longer moves"
    state = clock.update(T0 + 500, [], T0 + 500)
    assert (state.started_at, state.ended_at) == (T0 + 500, None), "a new outage has its own clock"
