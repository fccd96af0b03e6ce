"""The store's single values and freshness in the flight recording: written as JSON diffs, read back as the same
immutable snapshots; and the first frame holds the state at the start of the session."""

from __future__ import annotations

import gzip
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from nimify_tui.actions.exec_steps import StepResult, Verdict
from nimify_tui.kube.client import KubeClient
from nimify_tui.kube.exec import ExecResult, ExecTarget
from nimify_tui.kube.records import DECODERS
from nimify_tui.live.flight_recorder import HEALTH, VALUES, FlightRecorder, read_recording
from nimify_tui.live.keys import LATENCY, PODS, PROBES, ValueKey
from nimify_tui.live.playback import Playback
from nimify_tui.live.recorded_values import (
    RecordedValue,
    from_json,
    to_json,
    value_apply,
    value_diff,
)
from nimify_tui.live.runtime import Runtime, RuntimeOptions
from nimify_tui.live.store import SourceHealth, Store
from nimify_tui.metrics.api_latency import LatencyHistory, LatencyPoint
from nimify_tui.probes import ProbeResult
from nimify_tui.recovery.result import CheckResult, LoadFigures, RecoveryResult
from nimify_tui.session import recorded_values
from nimify_tui.sim.k8s.kubeconfig import write_kubeconfig
from nimify_tui.sim.server import SimThread

from ..waiting import wait_for

FAST = RuntimeOptions(probe_interval=0.5, triton_interval=0.5, scrape_interval=0.5, metrics_api_interval=1.0)
RECORDED = recorded_values()


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def a_probe(latency_ms: float, at: float, error: str = "") -> ProbeResult:
    return ProbeResult("api /health", not error, 200 if not error else 503, latency_ms, error, at, "http://x/health")


def test_a_value_written_as_json_reads_back_equal() -> None:
    recovery = RecoveryResult(
        "verified",
        1000.0,
        (CheckResult("Health checks", "api /health", "pass", "HTTP 200", 3.5),),
        trigger="auto",
        load=LoadFigures(20, 4, 0, 12.0, 30.5, 41.0, ((10.0, 3), (math.inf, 17))),
    )
    data = orjson.loads(orjson.dumps(to_json(recovery)))
    assert data["load"]["buckets"][-1] == ["inf", 17]  # JSON has no infinity
    assert from_json(data, RecoveryResult) == recovery
    usage_key = tuple[str, str]
    usage = {("nimify-system", "api-1"): LatencyPoint(1.0, None, 0.5, 2.0, None, 3.0)}
    data = orjson.loads(orjson.dumps(to_json(usage)))
    assert list(data) == ['["nimify-system","api-1"]']
    assert from_json(data, dict[usage_key, LatencyPoint]) == usage


def test_the_session_records_the_recovery_and_the_in_pod_steps_too() -> None:
    steps = {
        "step-disk": StepResult(
            "step-disk",
            ExecTarget("nimify-system", "nimify-api-1", None),
            ExecResult(("df", "-h"), "Filesystem  Size  Used\n/dev/sdb  50G  49G\n", "", 0, duration_s=0.2),
            Verdict("fail", "the model cache is 98% full"),
            1000.0,
            command=("df", "-h"),
        )
    }
    by_name = {v.name: v for v in recorded_values()}
    assert {"recovery", "in-pod-steps", "probes", "latency"} <= set(by_name)
    data = orjson.loads(orjson.dumps(to_json(steps)))
    assert from_json(data, by_name["in-pod-steps"].type) == steps


def test_a_sliding_series_is_written_as_the_points_that_came() -> None:
    points = [to_json(LatencyPoint(float(i), 0.1, 0.0, 5.0, 1.0, 2.0)) for i in range(600)]
    newer = [*points[1:], to_json(LatencyPoint(600.0, 0.2, 0.0, 5.0, 1.0, 2.0))]
    diff = value_diff({"points": points}, {"points": newer})
    assert diff == {"{": {"points": {"[": [1, [newer[-1]]]}}}
    assert value_apply({"points": points}, diff) == {"points": newer}
    probes = [to_json(a_probe(3.0, 1.0)), to_json(a_probe(4.0, 1.0))]
    changed = [probes[0], to_json(a_probe(9.0, 2.0, "HTTP 503"))]
    one = value_diff(probes, changed)
    assert set(one["#"]) == {"1"}, "only the probe that changed"
    assert value_apply(probes, one) == changed
    assert value_diff(changed, changed) is None
    with_none = value_diff({"a": 1}, {"a": 1, "b": None})
    assert value_apply({"a": 1}, with_none) == {"a": 1, "b": None}, "a member set to None is kept, not removed"


def test_values_and_freshness_play_back_at_each_moment(tmp_path: Path) -> None:
    store, clock = Store(), Clock()
    path = tmp_path / "flight.jsonl.gz"
    recorder = FlightRecorder(path, store, clock=clock, values=RECORDED)
    history = LatencyHistory()
    for second in range(3):
        history = history.added(LatencyPoint(clock.now, 0.1 * (second + 1), 0.0, 5.0, None, None))
        store.put(LATENCY, history)
        store.put(PROBES, (a_probe(3.0 + second, clock.now, "HTTP 503" if second == 1 else ""),))
        if second == 1:
            store.mark_stale("pods/nimify-system", "GET /api/v1/pods: connection refused")
        recorder.tick()
        clock.now += 1
    recorder.close()

    recording = read_recording(path)
    value_frames = [f for f in recording.frames if f.kind == VALUES]
    assert set(value_frames[0].put) == {"latency", "probes"}
    assert set(value_frames[1].patch) == {"latency", "probes"}, "later values as diffs"
    assert [f.at for f in recording.frames if f.kind == HEALTH] == [1001.0]

    replayed = Store()
    playback = Playback(recording, replayed, DECODERS, values=RECORDED)
    playback.seek(1001.5)
    probes = replayed.value(PROBES)
    assert probes is not None and probes[0].error == "HTTP 503" and probes[0].latency_ms == 4.0
    latency = replayed.value(LATENCY)
    assert latency is not None and [p.api_p95_s for p in latency.points] == [0.1, 0.2]
    stale = replayed.health_of("pods")
    assert [(h.state, h.error) for h in stale] == [("stale", "GET /api/v1/pods: connection refused")]
    playback.seek(playback.end)
    assert replayed.value(LATENCY) == history
    playback.seek(1000)  # back again: rebuilt from the first frame
    latency = replayed.value(LATENCY)
    assert latency is not None and len(latency.points) == 1


def test_a_registered_secret_in_a_value_never_reaches_the_file(tmp_path: Path) -> None:
    store = Store()
    recorder = FlightRecorder(tmp_path / "flight.jsonl.gz", store, values=RECORDED)
    recorder.redactor.register("canary-value-77c1")
    store.put(PROBES, (a_probe(3.0, 1.0, "HTTP 401: token canary-value-77c1 refused"),))
    store.mark_stale("pods/nimify-system", "Bearer canary-value-77c1 rejected")
    recorder.close()
    text = gzip.decompress((tmp_path / "flight.jsonl.gz").read_bytes())
    assert b"HTTP 401" in text and b"rejected" in text
    assert b"canary-value-77c1" not in text


def test_a_value_of_another_shape_is_left_out_of_a_replay(tmp_path: Path) -> None:
    store, clock = Store(), Clock()
    other: ValueKey[Any] = ValueKey("probes")
    recorder = FlightRecorder(tmp_path / "flight.jsonl.gz", store, clock=clock, values=(RecordedValue(other, Any),))
    store.put(other, {"not": "probes"})
    recorder.close()
    replayed = Store()
    playback = Playback(read_recording(tmp_path / "flight.jsonl.gz"), replayed, DECODERS, values=RECORDED)
    playback.seek(playback.end)
    assert replayed.value(PROBES) is None


def test_a_live_session_replays_every_value_the_panes_read(
    sim_factory: Callable[..., SimThread], tmp_path: Path
) -> None:
    """The real sources on the crashloop: every value they put, and the first lists, come back from the file."""
    sim = sim_factory(scenario="crashloop-oom", speed=10.0)
    write_kubeconfig(sim, tmp_path / "kubeconfig")
    runtime = Runtime(KubeClient.from_kubeconfig(str(tmp_path / "kubeconfig"), "sim-admin"), FAST)
    path = tmp_path / "flight.jsonl.gz"
    recorder = FlightRecorder(path, runtime.store, values=RECORDED)
    runtime.options.decoders = recorder.decoders(DECODERS)
    started = time.time()
    recorder.start()
    runtime.start()
    store = runtime.store
    first_pods = wait_for(lambda: store.items(PODS), "the first pods")
    wanted = ("probes", "triton", "latency", "podmetrics", "nodemetrics", "alert-states", "log-signatures")
    by_name = {v.name: v for v in RECORDED}
    wait_for(
        lambda: (
            all(store.value(by_name[name].key) is not None for name in wanted) and len(store.value(LATENCY).points) >= 2
        ),  # type: ignore[union-attr]
        "a value from each source",
        timeout_s=30,
    )
    runtime.stop()
    live = {v.name: store.value(v.key) for v in RECORDED}
    recorder.close()  # its last frame: the store as the sources left it

    recording = read_recording(path)
    first = recording.frames[0]
    assert started <= first.at <= started + 5
    assert {"pods", "events", "nodes", VALUES} <= {f.kind for f in recording.frames if f.at == first.at}
    replayed = Store()
    playback = Playback(recording, replayed, DECODERS, values=RECORDED)
    playback.seek(playback.recording.started)
    names = {p.name for p in replayed.items(PODS)}
    assert {p.name for p in first_pods} <= names, "the first frame holds the first list"
    playback.seek(playback.end)
    for name in wanted:
        assert replayed.value(by_name[name].key) == live[name], name
    assert replayed.health_of("pods") and all(h.state == "live" for h in replayed.health_of("pods"))


def test_the_first_frame_comes_with_the_first_change_not_a_second_later(tmp_path: Path) -> None:
    store = Store()
    recorder = FlightRecorder(tmp_path / "flight.jsonl.gz", store, values=RECORDED, interval_s=1.0)
    recorder.start()
    store.set_health("probes", SourceHealth("live", last_ok=time.time()))
    changed = time.time()
    store.put(PROBES, (a_probe(3.0, changed),))
    wait_for(lambda: recorder.frames, "the first frame")
    written = time.time()
    recorder.close()
    frames = read_recording(tmp_path / "flight.jsonl.gz").frames
    assert frames[0].kind == VALUES and changed - 0.5 <= frames[0].at <= written
    assert written - changed < recorder.interval_s, "every source loaded: written without waiting for the interval"
