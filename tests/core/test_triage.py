"""The runbook's checks over a store filled with real objects (fixtures) and hand-made readings."""

from __future__ import annotations

import itertools
import time
from typing import Any

from nimify_tui.kube.records import EventRecord, NodeRecord, PodRecord
from nimify_tui.live.keys import EVENTS, LATENCY, NODES, PODS, PROBES, TRITON
from nimify_tui.live.store import Store
from nimify_tui.metrics.api_latency import LatencyHistory, LatencyPoint
from nimify_tui.probes import ProbeResult
from nimify_tui.triage.checks import FindingTracker, overall_state, run_checks
from nimify_tui.triton.poller import ModelState, ServerState, TritonView

from ..conftest import real_k8s_object


def by_check(store: Store, now: float | None = None) -> dict:
    return {f.check: f for f in run_checks(store, now or time.time())}


def probe(name: str, ok: bool, status: int = 200, error: str = "") -> ProbeResult:
    return ProbeResult(name, ok, status, 12.0, error, time.time(), "http://x")


def test_oomkilled_pod_from_a_real_capture_suggests_raising_the_memory_limit() -> None:
    raw = real_k8s_object("01_pod_oomkilled_restarted__kuberay_issue4356.converted.json")
    pod = PodRecord.from_raw(raw)
    store = Store()
    store.upsert(PODS, (pod.namespace, pod.name), pod)
    finished = pod.last_termination()
    assert finished is not None and finished[1].reason == "OOMKilled"
    now = (finished[1].finished_at or 0) + 30  # half a minute after the OOM kill
    finding = by_check(store, now)["pods-crashloop"]
    assert finding.state == "fail"
    assert pod.name in finding.evidence
    assert "memory limit" in finding.fix and "OOMKilled" in finding.fix
    assert finding.runbook == "Scenario 1: Pod Crash Loop"


def test_crashloopbackoff_capture_fails_and_points_at_previous_logs() -> None:
    pod = PodRecord.from_raw(real_k8s_object("01b_pod_crashloopbackoff__kubesphere_issue4920.converted.json"))
    store = Store()
    store.upsert(PODS, (pod.namespace, pod.name), pod)
    finding = by_check(store)["pods-crashloop"]
    assert finding.state == "fail" and "CrashLoopBackOff" in finding.evidence
    assert "previous container" in finding.fix


def test_pending_on_gpus_names_the_gpu_cause() -> None:
    pod = PodRecord.from_raw(
        {
            "metadata": {"name": "triton-server-x", "namespace": "triton-system", "uid": "1"},
            "spec": {"containers": [{"name": "triton", "image": "t"}]},
            "status": {"phase": "Pending"},
        }
    )
    event = EventRecord.from_raw(
        {
            "metadata": {"name": "triton-server-x.1", "namespace": "triton-system"},
            "involvedObject": {"kind": "Pod", "name": "triton-server-x", "namespace": "triton-system"},
            "reason": "FailedScheduling",
            "type": "Warning",
            "message": "0/4 nodes are available: 2 Insufficient nvidia.com/gpu, 2 node(s) didn't match selector.",
            "lastTimestamp": "2026-11-28T10:00:00Z",
            "count": 3,
        }
    )
    store = Store()
    store.upsert(PODS, ("triton-system", pod.name), pod)
    store.upsert(EVENTS, ("triton-system", "triton-server-x.1"), event)
    finding = by_check(store)["pods-pending"]
    assert finding.state == "fail"
    assert "Insufficient nvidia.com/gpu" in finding.evidence and "GPU" in finding.fix


def test_node_from_a_real_capture_passes() -> None:
    node = NodeRecord.from_raw(real_k8s_object("03_node_minikube__k9s_no.json"))
    store = Store()
    store.upsert(NODES, ("", node.name), node)
    assert by_check(store)["nodes"].state == "pass"


def test_unavailable_model_and_probes_make_the_service_down() -> None:
    store = Store()
    store.put(
        PROBES,
        [
            probe("api /health", True),
            probe("api /ready", False, 503, "model 'nimify-model' is UNAVAILABLE"),
            probe("triton live", True),
            probe("triton ready", False, 400),
            probe("prometheus", True),
        ],
    )
    store.put(
        TRITON,
        TritonView(
            (ServerState("triton-server-a", True, False, ""),),
            (ModelState("nimify-model", "1", "UNAVAILABLE", "CUDA out of memory", None, ("triton-server-a",)),),
            time.time(),
        ),
    )
    findings = by_check(store)
    assert findings["models"].state == "fail" and "CUDA out of memory" in findings["models"].evidence
    assert "reload the model" in findings["models"].fix
    assert findings["api-ready"].state == "fail" and findings["api-health"].state == "pass"
    assert overall_state(list(findings.values())) == "DOWN"


def test_latency_over_the_runbook_threshold_blames_the_queue_when_it_dominates() -> None:
    store = Store()
    history = LatencyHistory()
    history = history.added(LatencyPoint(time.time(), 0.72, 0.002, 210.0, 480.0, 14.0))
    store.put(LATENCY, history)
    finding = by_check(store)["latency"]
    assert finding.state == "fail" and "p95 720 ms" in finding.evidence
    assert "scale triton-server up" in finding.fix
    history = history.added(LatencyPoint(time.time(), 0.08, 0.0, 210.0, 3.0, 14.0))
    store.put(LATENCY, history)
    assert by_check(store)["latency"].state == "pass"


def test_tracker_reports_changes_once_and_remembers_the_first_failure() -> None:
    store = Store()
    tracker = FindingTracker.new()
    store.put(PROBES, [probe("api /health", True)])
    first = tracker.update(run_checks(store, 100.0), 100.0)
    assert any(f.check == "api-health" and previous is None for f, previous in first)
    assert tracker.first_failure_at is None
    assert tracker.update(run_checks(store, 101.0), 101.0) == []
    store.put(PROBES, [probe("api /health", False, 0, "refused")])
    changed = tracker.update(run_checks(store, 102.0), 102.0)
    assert [(f.check, f.state, previous) for f, previous in changed] == [("api-health", "fail", "pass")]
    assert tracker.first_failure_at == 102.0
    store.put(PROBES, [probe("api /health", True)])
    tracker.update(run_checks(store, 103.0), 103.0)
    assert tracker.first_failure_at == 102.0, "the first failure stays for the post-mortem"


def test_slow_checks_rest_four_times_their_length_before_the_next_run() -> None:
    """At 50,000 pods a run walks every pod; on a store that changes all the time the runs must not follow each
    other back to back (they held the interpreter from the screen)."""
    from nimify_tui.triage.source import RUN_SPACING, TriageSource

    store = Store()
    starts: list[float] = []

    class SlowChecks(TriageSource):
        def run_once(self) -> Any:
            starts.append(time.monotonic())
            time.sleep(0.1)  # a slow run (the checks themselves are not what is measured)
            return None

    source = SlowChecks(store, min_gap_s=0.01)
    assert source.spacing(0.001) == 0.01 and source.spacing(0.1) == 0.1 * RUN_SPACING
    source._thread.start()
    try:
        deadline = time.monotonic() + 30
        while len(starts) < 4 and time.monotonic() < deadline:
            store.put(LATENCY, LatencyHistory())  # a change all the time
            time.sleep(0.005)
    finally:
        source.stop()
    assert len(starts) >= 4
    gaps = [later - earlier for earlier, later in itertools.pairwise(starts[1:])]
    assert all(gap >= 0.1 * RUN_SPACING for gap in gaps), gaps


def test_while_a_pods_list_comes_in_the_checks_wait_for_it() -> None:
    """Each page of a 50,000-pod list changes the store: the checks do not run on each (a partial list, a quarter
    of a second of the interpreter each); they run once the list is in, or every ``LISTING_EVERY_S``."""
    from nimify_tui.live.store import SourceHealth
    from nimify_tui.triage.source import LISTING_EVERY_S, TriageSource

    store = Store()
    store.set_health("pods/nimify-system", SourceHealth("syncing"))
    store.set_health("pods/triton-system", SourceHealth("live", last_ok=1.0))
    starts: list[float] = []

    class CountedChecks(TriageSource):
        def run_once(self) -> Any:
            starts.append(time.monotonic())
            return None

    source = CountedChecks(store, min_gap_s=0.01, every_s=60.0)
    source._thread.start()
    try:
        begun = time.monotonic()
        while time.monotonic() - begun < 0.5:  # pages coming in: the store changes all the time
            store.put(LATENCY, LatencyHistory())
            time.sleep(0.005)
        assert starts == [], "no run on a list still coming in"
        listed = time.monotonic()
        store.set_health("pods/nimify-system", SourceHealth("live", last_ok=2.0))
        deadline = listed + 10
        while not starts and time.monotonic() < deadline:
            time.sleep(0.005)
    finally:
        source.stop()
    assert starts and starts[0] - listed < LISTING_EVERY_S / 2, "a run as soon as the list is in"
