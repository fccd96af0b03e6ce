"""The flight recorder's frames, read back and played into a store: the store holds what it held then."""

from __future__ import annotations

import copy
import gzip
import tracemalloc
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from nimify_tui.journal.redact import Redactor
from nimify_tui.kube.client import ClusterIdentity
from nimify_tui.kube.errors import KubeError
from nimify_tui.kube.records import DECODERS, PodRecord
from nimify_tui.live.flight_recorder import FlightRecorder, Recording, read_recording
from nimify_tui.live.informer import object_key
from nimify_tui.live.json_diff import merge_apply, merge_diff
from nimify_tui.live.keys import PODS
from nimify_tui.live.playback import JournalMark, Playback, RecordedClient, journal_marks
from nimify_tui.live.store import Store

from ..conftest import real_k8s_object

POD = "01_pod_oomkilled_restarted__kuberay_issue4356.converted.json"


def a_pod(name: str) -> dict[str, Any]:
    pod = copy.deepcopy(real_k8s_object(POD))
    pod["metadata"]["name"] = name
    pod["metadata"]["namespace"] = "nimify-system"
    return pod


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def informed(recorder: FlightRecorder, store: Store, obj: dict[str, Any]) -> None:
    """What an informer does with an ADDED or MODIFIED object."""
    decode = recorder.decoders(DECODERS)["pods"]
    store.upsert(PODS, object_key(obj), decode(obj))


def test_a_merge_diff_applied_gives_the_new_object_back() -> None:
    old = a_pod("a")
    new = copy.deepcopy(old)
    new["metadata"]["annotations"] = {"seq": "7"}
    new["status"]["phase"] = "Failed"
    del new["spec"]["nodeName"]
    patch = merge_diff(old, new)
    assert set(patch) == {"metadata", "status", "spec"}
    assert patch["spec"] == {"nodeName": None}
    assert merge_apply(old, patch) == new
    assert merge_diff(new, new) == {}


def test_frames_played_back_give_the_store_of_each_moment(tmp_path: Path) -> None:
    store, clock = Store(), Clock()
    recorder = FlightRecorder(tmp_path / "flight.jsonl.gz", store, clock=clock)
    first, second = a_pod("api-1"), a_pod("api-2")
    informed(recorder, store, first)
    informed(recorder, store, second)
    assert recorder.tick() == 1
    clock.now += 1
    running = copy.deepcopy(first)
    running["status"]["phase"] = "Failed"
    informed(recorder, store, running)
    store.remove(PODS, object_key(second))
    assert recorder.tick() == 1
    clock.now += 1
    assert recorder.tick() == 0  # nothing moved: no frame
    recorder.close()

    recording = read_recording(tmp_path / "flight.jsonl.gz")
    assert [frame.at for frame in recording.frames] == [1000.0, 1001.0]
    assert set(recording.frames[0].put) == {"nimify-system/api-1", "nimify-system/api-2"}
    assert recording.frames[1].patch["nimify-system/api-1"]["status"] == {"phase": "Failed"}
    assert recording.frames[1].deleted == ("nimify-system/api-2",)

    replayed = Store()
    playback = Playback(recording, replayed, DECODERS)
    playback.seek(1000.5)
    phases = {p.name: p.phase for p in replayed.items(PODS)}
    assert phases == {"api-1": PodRecord.from_raw(first).phase, "api-2": PodRecord.from_raw(second).phase}
    playback.seek(1001)
    assert {p.name: p.phase for p in replayed.items(PODS)} == {"api-1": "Failed"}
    playback.seek(1000)  # back again: rebuilt from the first frame
    assert sorted(p.name for p in replayed.items(PODS)) == ["api-1", "api-2"]
    assert replayed.get(PODS, ("nimify-system", "api-1")) == PodRecord.from_raw(first)


def test_the_recorder_keeps_each_object_in_a_few_kilobytes(tmp_path: Path) -> None:
    """The recorder keeps the last state written of every object for as long as it lives (50,000 pods, thousands
    of events): compressed JSON, not the parsed object (about 17 KB for this pod; 6 KB as JSON)."""
    store = Store()
    recorder = FlightRecorder(tmp_path / "flight.jsonl.gz", store)
    pods = [a_pod(f"api-{number}") for number in range(200)]
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        for pod in pods:
            informed(recorder, store, pod)
        assert recorder.tick() == 1
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    recorder.close()
    kept_by = ("flight_recorder.py", "redact.py", "json_diff.py")  # what the recorder made and holds
    held = sum(
        stat.size_diff for stat in after.compare_to(before, "filename") if stat.traceback[0].filename.endswith(kept_by)
    )
    assert held / len(pods) < 4000, f"{held / len(pods):.0f} bytes a pod"


def test_registered_secrets_never_reach_the_file(tmp_path: Path) -> None:
    canary = "canary-token-5f1c2e9a"
    redactor = Redactor()
    redactor.register(canary)
    store = Store()
    recorder = FlightRecorder(tmp_path / "flight.jsonl.gz", store, redactor=redactor)
    pod = a_pod("api-1")
    pod["spec"]["containers"][0]["env"] = [{"name": "TOKEN", "value": canary}]
    informed(recorder, store, pod)
    recorder.close()
    text = gzip.decompress((tmp_path / "flight.jsonl.gz").read_bytes())
    assert b"api-1" in text
    assert canary.encode() not in text


def test_a_recording_cut_short_keeps_its_flushed_frames(tmp_path: Path) -> None:
    store, clock = Store(), Clock()
    path = tmp_path / "flight.jsonl.gz"
    recorder = FlightRecorder(path, store, clock=clock)
    for number in range(3):
        informed(recorder, store, a_pod(f"api-{number}"))
        recorder.tick()
        clock.now += 1
    size = path.stat().st_size  # written so far, without the stream's end: as if the process had been killed
    recorder.close()
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(path.read_bytes()[:size])
    assert len(read_recording(cut).frames) == 3


def test_journal_marks_jump_between_events() -> None:
    entries = [
        {"ts": "2026-01-01T00:00:00.000Z", "kind": "start"},
        {"ts": "2026-01-01T00:00:05.000Z", "kind": "finding", "check": "pods", "state": "fail", "previous": None},
        {"ts": "2026-01-01T00:00:06.000Z", "kind": "finding", "check": "tls", "state": "pass", "previous": "unknown"},
        {"ts": "2026-01-01T00:00:09.000Z", "kind": "note", "text": "restarting"},
        {"ts": "2026-01-01T00:00:07.000Z", "kind": "diagnosis", "event": "appeared", "runbook": "Scenario 1"},
    ]
    marks = journal_marks(entries)
    assert [mark.kind for mark in marks] == ["finding", "diagnosis", "note"]
    assert marks[1].text.startswith("diagnosis appeared: Scenario 1")
    assert marks[2].text == "restarting"
    started = marks[0].at - 5
    recording = Recording({"flight": 1, "started": started}, ())
    playback = Playback(recording, Store(), DECODERS, marks)
    assert playback.next_mark() == marks[0]
    playback.seek(marks[0].at)
    nxt = playback.next_mark()
    assert isinstance(nxt, JournalMark) and nxt.kind == "diagnosis"
    assert playback.previous_mark() is None
    playback.seek(playback.end)
    assert playback.previous_mark() == marks[1]


@pytest.mark.parametrize("kind", ["pods"])
def test_decoders_wrap_every_kind_given(kind: str, tmp_path: Path) -> None:
    recorder = FlightRecorder(tmp_path / "flight.jsonl.gz", Store())
    wrapped = recorder.decoders(DECODERS)
    assert set(wrapped) == set(DECODERS)
    assert isinstance(wrapped[kind](a_pod("x")), PodRecord)
    recorder.close()


def test_a_replay_client_answers_gets_of_recorded_objects_only(tmp_path: Path) -> None:
    store, clock = Store(), Clock()
    recorder = FlightRecorder(tmp_path / "flight.jsonl.gz", store, clock=clock)
    pod = a_pod("api-1")
    informed(recorder, store, pod)
    recorder.close()
    client = RecordedClient(ClusterIdentity("ctx", "cluster", "", "", "nimify-system"))
    client.playback = Playback(read_recording(tmp_path / "flight.jsonl.gz"), Store(), DECODERS)
    client.playback.seek(clock.now)
    assert client.get_json("/api/v1/namespaces/nimify-system/pods/api-1") == pod
    assert [p["metadata"]["name"] for p in client.get_json("/api/v1/namespaces/nimify-system/pods")["items"]] == [
        "api-1"
    ]
    with pytest.raises(KubeError) as missing:
        client.get_json("/api/v1/namespaces/nimify-system/pods/api-2")
    assert missing.value.status == 404
    with pytest.raises(KubeError, match="only the recorded objects"):
        client.get_json("/api/v1/namespaces/nimify-system/pods/api-1/log")
    with pytest.raises(KubeError, match="only the recorded objects"):
        client.request("DELETE", "/api/v1/namespaces/nimify-system/pods/api-1")
    assert client.sent_mutations == 0


def test_a_replay_client_reads_logs_from_the_last_snapshot_taken_by_then(tmp_path: Path) -> None:
    snapshots = tmp_path / "snapshots"
    for stamp, line in (("20260101-000010", b"at detection"), ("20260101-000050", b"after recovery")):
        folder = snapshots / stamp / "logs" / "nimify-system" / "api-1"
        folder.mkdir(parents=True)
        (folder / "api.previous.log").write_bytes(line + b"\n")
    client = RecordedClient(ClusterIdentity("ctx", "cluster", "", "", "nimify-system"), snapshots)
    detection = datetime(2026, 1, 1, 0, 0, 10, tzinfo=timezone.utc).timestamp()
    recording = Recording({"flight": 1, "started": detection - 5}, ())
    client.playback = Playback(recording, Store(), DECODERS)
    path = "/api/v1/namespaces/nimify-system/pods/api-1/log"
    query = {"container": "api", "previous": True}

    client.playback.position = detection - 5  # before any snapshot: the first one
    assert list(client.stream_lines(path, query)) == [b"at detection"]
    client.playback.position = detection + 60
    assert list(client.stream_lines(path, query)) == [b"after recovery"]
    with pytest.raises(KubeError, match="no snapshot"):
        client.stream_lines(path, {"container": "api"})  # the current container's logs were not snapshotted
