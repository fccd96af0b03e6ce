"""Pods and events read for their records' fields alone (``kube/pruned_decode.py``): the same records as the whole
objects give, on every scenario's objects as the simulator serves them, and the shapes name every field the
decoders read."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from nimify_tui.kube import record_shapes
from nimify_tui.kube.pruned_decode import PrunedDecoder, pruned_decoder
from nimify_tui.kube.records import DECODERS
from nimify_tui.kube.shape import AnyValue, ListOf, MapOf, Obj, Shape
from nimify_tui.sim.scenarios import SCENARIOS
from nimify_tui.sim.server import SimThread

from ..conftest import real_k8s_object
from .test_live_sources import admin_client


def _decoder(kind: str) -> PrunedDecoder:
    decoder = pruned_decoder(kind)
    assert decoder is not None
    return decoder


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_every_scenario_s_pods_and_events_give_the_same_records_pruned(scenario: str, tmp_path: Path) -> None:
    with SimThread(scenario=scenario) as sim:
        client = admin_client(sim, tmp_path)
        for kind, path in (("pods", "/api/v1/pods"), ("events", "/api/v1/events")):
            data = client.request("GET", path)
            whole = orjson.loads(data)["items"]
            page = _decoder(kind).page(data)
            assert page is not None, f"{scenario}: the simulator's {kind} did not fit their shape"
            assert len(page["items"]) == len(whole) > 0
            decode = DECODERS[kind]
            assert [decode(obj) for obj in page["items"]] == [decode(obj) for obj in whole]
            for obj in whole:  # a watch event of each object, as the informer reads it
                event = _decoder(kind).event(orjson.dumps({"type": "MODIFIED", "object": obj}))
                assert event is not None and decode(event["object"]) == decode(obj)


def test_watch_events_other_than_changes_are_read_whole() -> None:
    decoder = _decoder("pods")
    pod = real_k8s_object("01_pod_oomkilled_restarted__kuberay_issue4356.converted.json")
    bookmark = {"type": "BOOKMARK", "object": {"kind": "Pod", "metadata": {"resourceVersion": "12"}}}
    gone = {"type": "ERROR", "object": {"kind": "Status", "status": "Failure", "code": 410, "reason": "Expired"}}
    for line in (bookmark, gone, {"type": "ADDED", "object": {**pod, "status": "Running"}}):
        assert decoder.event(orjson.dumps(line)) is None
    assert decoder.event(b"{not json") is None
    deleted = decoder.event(orjson.dumps({"type": "DELETED", "object": pod}))
    assert deleted is not None and deleted["object"]["metadata"]["name"] == pod["metadata"]["name"]
    assert "generateName" in pod["metadata"] and "generateName" not in deleted["object"]["metadata"]


class _ReadLog:
    """The paths of the keys a decoder looked up (list indexes written ``[]``)."""

    def __init__(self) -> None:
        self.paths: set[str] = set()

    def wrap(self, value: Any, path: str = "") -> Any:
        if isinstance(value, dict):
            return _LoggedDict(self, path, {key: self.wrap(item, f"{path}.{key}") for key, item in value.items()})
        if isinstance(value, list):
            return [self.wrap(item, f"{path}[]") for item in value]
        return value


class _LoggedDict(dict[str, Any]):
    def __init__(self, log: _ReadLog, path: str, items: dict[str, Any]) -> None:
        super().__init__(items)
        self._log, self._path = log, path

    def _note(self, key: object) -> None:
        self._log.paths.add(f"{self._path}.{key}")

    def get(self, key: str, default: Any = None) -> Any:
        self._note(key)
        return super().get(key, default)

    def __getitem__(self, key: str) -> Any:
        self._note(key)
        return super().__getitem__(key)

    def __contains__(self, key: object) -> bool:
        self._note(key)
        return super().__contains__(key)


def _shape_paths(shape: Shape, path: str = "") -> Iterator[str]:
    """Every path a shape names; below a mapping of any keys (labels, a state) or any value, everything."""
    yield path
    if isinstance(shape, Obj):
        if shape.others is not None:
            yield f"{path}.*"
        for key, field in shape.fields.items():
            yield from _shape_paths(field, f"{path}.{key}")
    elif isinstance(shape, ListOf):
        yield from _shape_paths(shape.item, f"{path}[]")
    elif isinstance(shape, (MapOf, AnyValue)):
        yield f"{path}.*"


def _named_by(path: str, named: set[str]) -> bool:
    if path in named:
        return True
    parent = path.rsplit(".", 1)[0]
    while parent:
        if f"{parent}.*" in named:
            return True
        parent = parent.rsplit(".", 1)[0] if "." in parent else ""
    return False


RICH_POD = {
    "metadata": {
        "name": "api-0",
        "namespace": "nimify-system",
        "deletionTimestamp": "2026-12-07T10:00:00Z",
        "annotations": {"kubectl.kubernetes.io/default-container": "api"},
        "ownerReferences": [{"kind": "ReplicaSet", "name": "api-1", "controller": True}],
    },
    "spec": {
        "nodeName": "gpu-node-1",
        "overhead": {"cpu": "250m"},
        "readinessGates": [{"conditionType": "example.com/lb"}],
        "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "data-api-0"}}],
        "initContainers": [
            {"name": "proxy", "image": "envoy", "restartPolicy": "Always"},
            {"name": "migrate", "image": "api:2"},
        ],
        "containers": [{"name": "api", "image": "api:2", "resources": {"limits": {"nvidia.com/gpu": "1"}}}],
    },
    "status": {
        "phase": "Running",
        "reason": "NodeLost",
        "nominatedNodeName": "gpu-node-2",
        "conditions": [
            {"type": "Initialized", "status": "False"},
            {"type": "PodScheduled", "status": "True", "reason": "SchedulingGated"},
        ],
        "initContainerStatuses": [
            {"name": "proxy", "started": True, "ready": True, "restartCount": 1, "state": {"running": {}}},
            {
                "name": "migrate",
                "restartCount": 2,
                "state": {"terminated": {"exitCode": 1, "reason": "Error", "finishedAt": "2026-12-07T09:00:00Z"}},
                "lastState": {"terminated": {"exitCode": 137, "reason": "OOMKilled"}},
            },
        ],
        "containerStatuses": [{"name": "api", "state": {"waiting": {"reason": "PodInitializing"}}}],
    },
}


@pytest.mark.parametrize("kind", sorted(record_shapes.PRUNED))
def test_the_shape_names_every_field_the_decoder_reads(kind: str) -> None:
    samples = {
        "pods": [
            RICH_POD,
            real_k8s_object("01_pod_oomkilled_restarted__kuberay_issue4356.converted.json"),
            real_k8s_object("01b_pod_crashloopbackoff__kubesphere_issue4920.converted.json"),
        ],
        "events": [real_k8s_object("04_event_corev1__k9s_ev.json")],
    }[kind]
    named = set(_shape_paths(record_shapes.PRUNED[kind]))
    for sample in samples:
        log = _ReadLog()
        DECODERS[kind](log.wrap(sample))
        assert log.paths, "nothing was read"
        unnamed = sorted(path for path in log.paths if not _named_by(path, named))
        assert unnamed == [], f"read by the {kind} decoder, not in its shape: {unnamed}"
