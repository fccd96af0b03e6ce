"""The store publishes immutable snapshots, and the triage runs off the reader's thread."""

from __future__ import annotations

import threading
import time

from nimify_tui.kube.records import PodRecord
from nimify_tui.live.keys import LATENCY, PODS, PROBES
from nimify_tui.live.store import Store
from nimify_tui.metrics.api_latency import HISTORY_POINTS, LatencyHistory, LatencyPoint
from nimify_tui.probes import ProbeResult
from nimify_tui.triage.checks import Finding, State
from nimify_tui.triage.source import TRIAGE, TriageSource

from ..waiting import wait_for


def point(at: float) -> LatencyPoint:
    return LatencyPoint(at=at, api_p95_s=0.1, api_error_ratio=0.0, api_rps=10.0, queue_ms=1.0, compute_ms=2.0)


def test_latency_history_keeps_the_newest_points_and_never_changes_once_published() -> None:
    history = LatencyHistory()
    for at in range(HISTORY_POINTS + 5):
        history = history.added(point(float(at)))
    assert len(history.points) == HISTORY_POINTS
    assert history.points[0].at == 5.0 and history.latest() == point(float(HISTORY_POINTS + 4))
    kept = history.points
    history.added(point(1e9))
    assert history.points is kept and len(history.points) == HISTORY_POINTS


def test_readers_iterate_the_latency_history_while_the_poller_appends() -> None:
    """One writer publishing a new history per point, four readers walking the published one: every snapshot a
    reader sees is whole and ordered (a shared deque raised 'deque mutated during iteration' here)."""
    store = Store()
    store.put(LATENCY, LatencyHistory())
    done = threading.Event()
    problems: list[str] = []
    walks = [0]

    def write() -> None:
        history = LatencyHistory()
        for at in range(4 * HISTORY_POINTS):
            history = history.added(point(float(at)))
            store.put(LATENCY, history)
            time.sleep(0)
        done.set()

    def read() -> None:
        while not done.is_set():
            history = store.value(LATENCY)
            assert history is not None
            try:
                seen = []
                for p in history.points:  # a slow reader, as the plot is: it lets the writer run in between
                    seen.append(p.at)
                    time.sleep(0)
                if seen != sorted(seen) or len(seen) > HISTORY_POINTS or len(seen) != len(history.points):
                    problems.append(f"a torn snapshot: {len(seen)} points")
            except RuntimeError as exc:
                problems.append(str(exc))
            walks[0] += 1

    readers = [threading.Thread(target=read) for _ in range(4)]
    writer = threading.Thread(target=write)
    for thread in (*readers, writer):
        thread.start()
    for thread in (writer, *readers):
        thread.join(timeout=60)
    assert done.is_set() and walks[0] > 0
    assert problems == []
    final = store.value(LATENCY)
    assert final is not None and final.points[-1].at == 4 * HISTORY_POINTS - 1


def probe(name: str, ok: bool) -> ProbeResult:
    return ProbeResult(name, ok, 200 if ok else 503, 3.0, "" if ok else "HTTP 503", time.time(), "http://x" + name)


def test_the_triage_runs_on_its_own_thread_when_the_store_changes_and_reports_changes_there() -> None:
    store = Store()
    store.put(PROBES, (probe("api /health", True), probe("api /ready", True)))
    changes: list[tuple[str, State, State | None, str]] = []

    def changed(finding: Finding, previous: State | None) -> None:
        changes.append((finding.check, finding.state, previous, threading.current_thread().name))

    triage = TriageSource(store, on_change=changed, every_s=60.0, min_gap_s=0.0)
    triage.start()  # one pass at once, on the caller's thread: the first frame has findings
    try:
        first = store.value(TRIAGE)
        assert first is not None
        assert {f.check: f.state for f in first.findings}["api-health"] == "pass"
        assert ("api-health", "pass", None, threading.current_thread().name) in changes
        changes.clear()
        store.put(PROBES, (probe("api /health", False), probe("api /ready", False)))
        after = wait_for(
            lambda: (t := store.value(TRIAGE)) is not None and t.overall == "DOWN" and t, "the triage to see it"
        )
        assert after.first_failure_at is not None
        assert ("api-health", "fail", "pass", "triage") in changes
    finally:
        triage.stop()


def test_the_triage_rereads_the_clock_without_a_change() -> None:
    """Some checks move with the clock alone: ``every_s`` reruns them with no change in the store."""
    store = Store()
    store.replace(PODS, None, {})
    ticks = [1000.0]
    triage = TriageSource(store, clock=lambda: ticks[0], every_s=0.05, min_gap_s=0.0)
    triage.start()
    try:
        ticks[0] = 2000.0
        wait_for(lambda: (t := store.value(TRIAGE)) is not None and t.checked_at == 2000.0, "a rerun on the clock")
    finally:
        triage.stop()


def test_pods_of_records_are_kept_by_namespace_and_name() -> None:
    store = Store()
    pod = PodRecord.from_raw({"metadata": {"name": "a", "namespace": "ns"}, "status": {"phase": "Running"}})
    store.upsert(PODS, ("ns", "a"), pod)
    assert store.get(PODS, ("ns", "a")) is pod
    store.replace(PODS, "ns", {})
    assert store.items(PODS) == [] and store.version(PODS) == 2
