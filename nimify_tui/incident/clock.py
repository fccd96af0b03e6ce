"""The outage clock: when the outage began, and whether it is over.

It starts at the first failure the checks saw (``Triage.failing_since``), or earlier when the cluster proves the
outage began before that: Warning events and container terminations that lead up to the first failure seen
without a gap longer than :data:`CHAIN_GAP_S` (a crash loop's restarts, a rollout's failed pulls). A proof once
seen is kept for the outage, even after the event expires from the cluster. The clock stops when every check
passes again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from nimify_tui.kube.records import EventRecord, PodRecord

CHAIN_GAP_S = 300.0  # two signs of trouble further apart than this are not one outage


@dataclass(frozen=True, slots=True)
class Sign:
    """A span of time during which the cluster showed trouble, and what showed it."""

    first: float
    last: float
    what: str


def event_signs(events: Iterable[EventRecord], namespace: str) -> list[Sign]:
    """Warning events of ``namespace``, each series a span from its first to its last occurrence."""
    signs = []
    for event in events:
        if event.type != "Warning" or (event.object_namespace or event.namespace) != namespace:
            continue
        first = event.first_seen if event.first_seen is not None else event.last_seen
        if first is None:
            continue
        last = event.last_seen if event.last_seen is not None else first
        signs.append(Sign(first, max(first, last), f"{event.reason} on {event.object_kind} {event.object_name}"))
    return signs


def restart_signs(pods: Iterable[PodRecord], namespace: str) -> list[Sign]:
    """Container terminations of pods of ``namespace`` that are not all ready now (a pod that recovered proves
    nothing about the outage going on)."""
    signs = []
    for pod in pods:
        if pod.namespace != namespace or (pod.total and pod.ready == pod.total):
            continue
        for container in (*pod.init_containers, *pod.containers):
            for ended in (container.terminated, container.last_termination):
                if ended is not None and ended.finished_at is not None and ended.reason != "Completed":
                    what = f"{container.name} of {pod.name} ended ({ended.reason or 'exit ' + str(ended.exit_code)})"
                    signs.append(Sign(ended.finished_at, ended.finished_at, what))
    return signs


def chain_start(seen_at: float, signs: Iterable[Sign], gap_s: float = CHAIN_GAP_S) -> Sign | None:
    """The earliest sign of the unbroken chain of signs that leads up to ``seen_at`` (None: none before it)."""
    start = seen_at
    earliest: Sign | None = None
    # by their ends, latest first: once one ends more than a gap before the chain's start, so do all the rest
    for sign in sorted(signs, key=lambda s: s.last, reverse=True):
        if sign.first >= start:
            continue
        if sign.last < start - gap_s:
            break
        start = sign.first
        earliest = sign
    return earliest


@dataclass(frozen=True, slots=True)
class ClockState:
    """The outage going on (``started_at`` set, ``ended_at`` None) or the last one that ended."""

    started_at: float | None = None
    ended_at: float | None = None
    why: str = ""  # what proves the start: "first failed check" or the earliest sign

    @property
    def running(self) -> bool:
        return self.started_at is not None and self.ended_at is None

    def seconds(self, now: float) -> float:
        if self.started_at is None:
            return 0.0
        return (self.ended_at if self.ended_at is not None else now) - self.started_at


class OutageClock:
    """Follows the triage's outage and the cluster's signs; ``state`` is what the header shows."""

    def __init__(self) -> None:
        self.state = ClockState()

    def update(self, failing_since: float | None, signs: Iterable[Sign], now: float) -> ClockState:
        state = self.state
        if failing_since is None:
            if state.running:
                self.state = ClockState(state.started_at, now, state.why)
            return self.state
        if not state.running:
            state = ClockState(failing_since, None, "first failed check")
        earliest = chain_start(failing_since, signs)
        if earliest is not None and state.started_at is not None and earliest.first < state.started_at:
            state = ClockState(earliest.first, None, earliest.what)
        self.state = state
        return state
