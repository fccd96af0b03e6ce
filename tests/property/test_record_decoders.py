"""Record decoders on malformed objects: a decoder never raises, gives fields of their declared types, and marks
what it could not read (a value it could not read is either marked, or made no difference to the record).

The objects are real captures (and small hand-written ones for the kinds without a capture), broken by hypothesis:
any part replaced by any JSON value (deep nesting included) or removed, and each field the decoder reads given a
value of the wrong type.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import orjson
import pytest
from hypothesis import given, reject
from hypothesis import strategies as st

from nimify_tui.kube import record_shapes
from nimify_tui.kube.client import KubeClient
from nimify_tui.kube.pruned_decode import pruned_decoder
from nimify_tui.kube.records import DECODERS, ObjectRecord, PodRecord, readable_object
from nimify_tui.kube.shape import AnyValue, Enum, ListOf, MapOf, Obj, Scalar, Shape, well_typed
from nimify_tui.live.informer import KINDS as KINDS_WATCHED
from nimify_tui.live.informer import Informer
from nimify_tui.live.store import Store
from nimify_tui.render.describe import describe_pod

from ..conftest import real_k8s_object
from .strategies import junk, path_text, paths_of, removed, replaced

SERVICE = {
    "metadata": {"name": "nimify-api", "namespace": "nimify-system", "labels": {"app": "nimify-api"}},
    "spec": {
        "type": "NodePort",
        "clusterIP": "10.0.0.7",
        "ports": [{"port": 8000, "nodePort": 30080, "protocol": "TCP", "targetPort": "http"}],
        "selector": {"app": "nimify-api"},
    },
    "status": {"loadBalancer": {"ingress": [{"ip": "192.0.2.1"}]}},
}
NETWORK_POLICY = {
    "metadata": {"name": "deny", "namespace": "nimify-system"},
    "spec": {
        "podSelector": {"matchLabels": {"app": "nimify-api"}, "matchExpressions": [{"key": "a", "operator": "In"}]},
        "policyTypes": ["Ingress"],
        "ingress": [{"from": [{"podSelector": {}}]}],
    },
}
PDB = {
    "metadata": {"name": "api", "namespace": "nimify-system"},
    "spec": {"selector": {"matchLabels": {"app": "nimify-api"}}, "minAvailable": 1},
    "status": {"disruptionsAllowed": 0},
}
QUOTA = {
    "metadata": {"name": "gpu", "namespace": "nimify-system"},
    "spec": {"hard": {"requests.nvidia.com/gpu": "4"}},
    "status": {"hard": {"requests.nvidia.com/gpu": "4"}, "used": {"requests.nvidia.com/gpu": "2"}},
}


def _samples() -> dict[str, list[dict[str, Any]]]:
    pvc_list = real_k8s_object("09_pvc_filesystemresizepending__ceph-csi_docs.converted.json")["items"]
    return {
        "pods": [
            real_k8s_object("01_pod_oomkilled_restarted__kuberay_issue4356.converted.json"),
            real_k8s_object("01b_pod_crashloopbackoff__kubesphere_issue4920.converted.json"),
        ],
        "nodes": [real_k8s_object("03_node_minikube__k9s_no.json")],
        "events": [real_k8s_object("04_event_corev1__k9s_ev.json")],
        "deployments": [real_k8s_object("05_deployment_healthy__k9s_dp.json")],
        "replicasets": [real_k8s_object("06_replicaset_revision__k9s_rs.json")],
        "pvcs": [real_k8s_object("09_pvc_bound__k9s_pvc.json"), *pvc_list],
        "endpoints": [real_k8s_object("10_endpoints__k9s_ep.json")],
        "ingresses": [real_k8s_object("10_ingress__k9s_ing.json")],
        "services": [SERVICE],
        "networkpolicies": [NETWORK_POLICY],
        "poddisruptionbudgets": [PDB],
        "resourcequotas": [QUOTA],
    }


SAMPLES = _samples()
KINDS = sorted(SAMPLES)


def _record_class(kind: str) -> type[ObjectRecord]:
    decoder: Any = DECODERS[kind]
    record_class: type[ObjectRecord] = decoder.__self__
    return record_class


def _without_notes(record: ObjectRecord) -> ObjectRecord:
    return dataclasses.replace(record, unreadable=())


def test_every_watched_kind_has_a_sample_and_a_shape() -> None:
    assert set(SAMPLES) == set(DECODERS) == set(record_shapes.SHAPES)
    for kind in KINDS:
        assert _record_class(kind).SHAPE is record_shapes.SHAPES[kind]


@pytest.mark.parametrize("kind", KINDS)
def test_the_well_formed_samples_are_read_whole(kind: str) -> None:
    for sample in SAMPLES[kind]:
        record = DECODERS[kind](sample)
        assert record.unreadable == (), record.unreadable
        assert record.name and well_typed(record)


@st.composite
def broken_anywhere(draw: st.DrawFn) -> tuple[str, Any]:
    """A sample of some kind with one part (the whole object included) replaced by junk, or removed."""
    kind = draw(st.sampled_from(KINDS))
    sample = draw(st.sampled_from(SAMPLES[kind]))
    path = draw(st.sampled_from(paths_of(sample)))
    if path and draw(st.booleans()):
        return kind, removed(sample, path)
    return kind, replaced(sample, path, draw(junk))


@given(broken_anywhere())
def test_a_decoder_never_raises_and_its_fields_have_their_types(case: tuple[str, Any]) -> None:
    kind, raw = case
    record = DECODERS[kind](raw)
    assert well_typed(record), record
    assert all(isinstance(note, str) for note in record.unreadable)
    readable, unreadable = readable_object(raw, _record_class(kind))
    assert isinstance(readable, dict) and unreadable == record.unreadable


def _wrong_values(shape: Shape) -> st.SearchStrategy[Any]:
    """Truthy JSON values that do not fit ``shape`` (an unknown enumeration value is text: it fits)."""
    texts, numbers = st.text(min_size=1, max_size=10), st.integers(min_value=1) | st.floats(min_value=0.5)
    lists = st.lists(st.integers(), min_size=1, max_size=2)
    mappings = st.dictionaries(st.text(max_size=3), st.integers(), min_size=1, max_size=2)
    if isinstance(shape, Scalar):
        candidates = st.one_of(texts, numbers, st.just(True), lists, mappings)
        return candidates.filter(lambda value: not shape.fits(value))
    if isinstance(shape, Enum):
        return st.one_of(numbers, lists, mappings)
    if isinstance(shape, ListOf):
        return st.one_of(texts, numbers, mappings)
    return st.one_of(texts, numbers, lists)


def _shaped_places(value: Any, shape: Shape, path: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], Shape]]:
    """Where a decoder reads: each field of the shape inside the parts of ``value`` that exist (a field may be
    absent from its mapping: it is then added), with its expected shape."""
    places: list[tuple[tuple[Any, ...], Shape]] = []
    if isinstance(shape, Obj) and isinstance(value, dict):
        for key, field_shape in shape.fields.items():
            places.append(((*path, key), field_shape))
            if key in value:
                places.extend(_shaped_places(value[key], field_shape, (*path, key)))
    elif isinstance(shape, ListOf) and isinstance(value, list):
        for index, item in enumerate(value):
            places.append(((*path, index), shape.item))
            places.extend(_shaped_places(item, shape.item, (*path, index)))
    elif isinstance(shape, MapOf) and isinstance(value, dict):
        for key, item in value.items():
            places.append(((*path, key), shape.value))
            places.extend(_shaped_places(item, shape.value, (*path, key)))
    return [(where, what) for where, what in places if not isinstance(what, AnyValue)]


def _set(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    parent = path[:-1]
    node = value
    for part in parent:
        node = node[part]
    if isinstance(node, dict) and path[-1] not in node:
        return replaced(value, parent, {**node, path[-1]: new})
    return replaced(value, path, new)


@st.composite
def mistyped_field(draw: st.DrawFn) -> tuple[str, Any, Any, tuple[Any, ...]]:
    """A sample with one field the decoder reads given a truthy value of the wrong type; the same sample with
    that field removed; and the field's path."""
    kind = draw(st.sampled_from(KINDS))
    sample = draw(st.sampled_from(SAMPLES[kind]))
    path, shape = draw(st.sampled_from(_shaped_places(sample, record_shapes.SHAPES[kind])))
    broken = _set(sample, path, draw(_wrong_values(shape)))
    return kind, broken, removed(broken, path), path


@given(mistyped_field())
def test_a_value_that_cannot_be_read_is_marked_or_makes_no_difference(
    case: tuple[str, Any, Any, tuple[Any, ...]],
) -> None:
    kind, broken, without, path = case
    record = DECODERS[kind](broken)
    assert well_typed(record)
    where = path_text(path)
    if not any(note.startswith(where) for note in record.unreadable):
        assert _without_notes(record) == _without_notes(DECODERS[kind](without)), (where, record.unreadable)


@pytest.mark.parametrize(
    ("change", "note"),
    [
        ({"status": {"phase": "Exploded"}}, "status.phase: unknown value 'Exploded'"),
        ({"metadata": {"name": 42}}, "metadata.name: a number, not text"),
        ({"spec": {"containers": "nginx"}}, "spec.containers: text, not a list"),
        ({"status": {"containerStatuses": [{"name": "c", "state": {"hibernating": {}}}]}}, "hibernating: unknown"),
        ({"status": {"containerStatuses": [{"name": "c", "restartCount": "7"}]}}, "restartCount: text, not a"),
    ],
)
def test_what_a_pod_record_could_not_read_is_named_by_its_path(change: dict[str, Any], note: str) -> None:
    pod = real_k8s_object("01_pod_oomkilled_restarted__kuberay_issue4356.converted.json")
    for status in change.get("status", {}).get("containerStatuses", ()):
        status["name"] = pod["spec"]["containers"][0]["name"]  # the status of a container the spec has
    broken = {key: {**pod.get(key, {}), **change.get(key, {})} for key in ("metadata", "spec", "status")}
    record = PodRecord.from_raw({**pod, **broken})
    assert any(note in text for text in record.unreadable), record.unreadable
    assert record.namespace == pod["metadata"]["namespace"]  # the rest is still read


def test_an_object_that_is_not_a_mapping_gives_an_empty_record_that_says_so() -> None:
    for kind in KINDS:
        record = DECODERS[kind]([1, 2])  # type: ignore[arg-type]
        assert record.name == "" and record.unreadable == ("(object): a list, not a mapping",)


def test_describe_lists_what_could_not_be_read_literally() -> None:
    pod = real_k8s_object("01_pod_oomkilled_restarted__kuberay_issue4356.converted.json")
    hostile = "[bold red]Exploded[/] \x1b[2J"
    broken = {
        **pod,
        "metadata": {**pod["metadata"], "labels": {"app": 5}},
        "status": {**pod["status"], "phase": hostile, "containerStatuses": "gone"},
    }
    text = describe_pod(broken, [], now=0.0)
    section = text[text.index("Unreadable:") :].splitlines()
    assert sorted(section[1:4]) == [
        "  metadata.labels.app: a number, not text",
        "  status.containerStatuses: text, not a list",
        f"  status.phase: unknown value {hostile!r}",
    ]
    assert "\x1b" not in text and "Name:" in text and pod["metadata"]["name"] in text
    assert "Unreadable:" not in describe_pod(pod, [], now=0.0)


PRUNED_KINDS = sorted(record_shapes.PRUNED)


def _records_of_page(kind: str, objects: list[Any]) -> list[ObjectRecord]:
    """The records of a list page holding ``objects``, decoded by the informer's own page reader (pruned for
    pods and events, read whole when the page does not fit their shape)."""
    page_json = {"kind": "List", "metadata": {"resourceVersion": "7"}, "items": objects}
    try:  # the standard library's writer: orjson will not write the deepest junk
        data = json.dumps(page_json, allow_nan=False).encode()
    except ValueError:  # inf or nan: not JSON, so no API server sends it (a page that is not JSON is tested apart)
        reject()
    informer = Informer(KubeClient.__new__(KubeClient), KINDS_WATCHED[kind], "ns", Store(), DECODERS[kind])
    page = informer._decode_page(data, f"/api/v1/namespaces/ns/{kind}")
    assert page.resource_version == "7"
    return [record for _, record in page.items]


@given(broken_anywhere().filter(lambda case: case[0] in record_shapes.PRUNED))
def test_a_page_read_for_its_records_fields_gives_the_records_of_the_whole_page(case: tuple[str, Any]) -> None:
    kind, raw = case
    sample = SAMPLES[kind][0]
    objects = [sample, raw, {**sample, "extra": {"deep": [1, {"x": None}]}}]
    whole = [DECODERS[kind](obj) for obj in objects if isinstance(obj, dict)]
    assert _records_of_page(kind, objects) == whole


@pytest.mark.parametrize("kind", PRUNED_KINDS)
def test_a_pruned_page_keeps_the_shape_s_fields_alone(kind: str) -> None:
    decoder = pruned_decoder(kind)
    assert decoder is not None
    sample = {**SAMPLES[kind][0], "managedFields": [{"manager": "kubectl"}]}
    page = decoder.page(orjson.dumps({"items": [sample]}))
    assert page is not None
    (pruned,) = page["items"]
    assert "managedFields" not in pruned and pruned["metadata"]["name"] == sample["metadata"]["name"]
    assert DECODERS[kind](pruned) == DECODERS[kind](sample)
    mistyped = {**sample, "metadata": {**sample["metadata"], "name": 42}}
    assert decoder.page(orjson.dumps({"items": [mistyped]})) is None  # read whole: the decoder marks it
    assert decoder.page(b"<html>not json</html>") is None
