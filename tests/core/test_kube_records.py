"""Records and kubectl rows: nodes, events, deployments, ReplicaSets, PVCs, services, endpoints, ingresses."""

from __future__ import annotations

import copy
import dataclasses
import re
import sys
from datetime import datetime, timezone
from typing import Any

import orjson
import pytest

from nimify_tui.kube.duration import parse_timestamp
from nimify_tui.kube.records import (
    DECODERS,
    Condition,
    DeploymentRecord,
    EndpointsRecord,
    EventRecord,
    IngressBackend,
    IngressRecord,
    NodeRecord,
    PodRecord,
    PVCRecord,
    ReplicaSetRecord,
    ServiceRecord,
)
from nimify_tui.kube.status import selector_text
from nimify_tui.live.informer import KINDS, object_key
from nimify_tui.render.kubectl import EventRow, event_row, event_sort_key, node_status, pvc_resize

from ..conftest import REAL_CAPTURES, real_json

K8S_FIXTURES = REAL_CAPTURES / "k8s"
NOW = datetime(2026, 1, 8, 12, 0, 0, tzinfo=timezone.utc).timestamp()


def real(name: str) -> Any:
    return real_json(f"k8s/{name}")


def at(text: str) -> float:
    stamp = parse_timestamp(text)
    assert stamp is not None
    return stamp


def iso(seconds_before_now: float) -> str:
    return datetime.fromtimestamp(NOW - seconds_before_now, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def condition(conditions: tuple[Condition, ...], condition_type: str) -> Condition | None:
    """The last condition of a type, as kubectl reads them."""
    return next((c for c in reversed(conditions) if c.type == condition_type), None)


def test_every_kind_the_informers_watch_has_a_decoder() -> None:
    assert set(DECODERS) == set(KINDS)


# -- nodes ---------------------------------------------------------------------------------------------------


def test_minikube_node_and_capacity() -> None:
    node = NodeRecord.from_raw(real("03_node_minikube__k9s_no.json"))
    assert (node.name, node_status(node.conditions, node.unschedulable), node.roles, node.kubelet_version) == (
        "minikube",
        "Ready",
        ("master",),
        "v1.15.2",
    )
    assert (node.cpu_allocatable, node.memory_allocatable, node.memory_capacity) == (
        "4",
        "8063156Ki",
        "8165556Ki",
    )
    assert (node.gpu_capacity, node.gpu_allocatable) == (0, 0)
    assert node.internal_ip == "192.168.64.107"
    ready = condition(node.conditions, "Ready")
    assert ready is not None
    assert (ready.reason, ready.last_transition) == ("KubeletReady", at("2019-08-26T21:52:06Z"))


def describe_resources(text: str, section: str) -> dict[str, str]:
    """The ``Capacity:`` or ``Allocatable:`` block of a ``kubectl describe node`` excerpt, as JSON has it."""
    block = text.split(section + ":", 1)[1]
    pairs = re.findall(r"^\s+([\w./-]+):\s+(\S+)\s*$", block, flags=re.MULTILINE)
    resources: dict[str, str] = {}
    for key, value in pairs:
        if key in resources:  # the next section starts
            break
        resources[key] = value
    return resources


def test_gpu_node_capacity_from_the_device_plugin_capture() -> None:
    path = K8S_FIXTURES / "03b_node_gpu_capacity__k8s-device-plugin_issue245.txt"
    text = path.read_text()
    raw = {
        "metadata": {
            "name": "aks-gpu-vmss000000",
            "labels": {"node.kubernetes.io/instance-type": "Standard_NC6", "kubernetes.io/role": "agent"},
        },
        "status": {
            "capacity": describe_resources(text, "Capacity"),
            "allocatable": describe_resources(text, "Allocatable"),
        },
    }
    node = NodeRecord.from_raw(raw)
    assert (node.gpu_capacity, node.gpu_allocatable) == (1, 1)
    assert (node.cpu_capacity, node.cpu_allocatable) == ("6", "5840m")
    assert node.memory_allocatable == "51573948Ki"
    assert node.instance_type == "Standard_NC6"
    assert (node_status(node.conditions, node.unschedulable), node.roles, node.created_at) == (
        "Unknown",
        ("agent",),
        None,
    )


@pytest.mark.parametrize(
    ("conditions", "unschedulable", "status"),
    [
        ([("Ready", "True")], False, "Ready"),
        ([("Ready", "False")], False, "NotReady"),
        ([("Ready", "Unknown")], False, "NotReady"),
        ([("MemoryPressure", "True")], False, "Unknown"),
        ([("Ready", "True")], True, "Ready,SchedulingDisabled"),
        ([("Ready", "False"), ("Ready", "True")], False, "Ready"),  # the last one wins
    ],
)
def test_node_status(conditions: list[tuple[str, str]], unschedulable: bool, status: str) -> None:
    raw = {
        "metadata": {"name": "n"},
        "spec": {"unschedulable": unschedulable},
        "status": {"conditions": [{"type": kind, "status": value} for kind, value in conditions]},
    }
    node = NodeRecord.from_raw(raw)
    assert node_status(node.conditions, node.unschedulable) == status


def test_node_roles_and_taints() -> None:
    raw = {
        "metadata": {
            "name": "cp",
            "labels": {
                "node-role.kubernetes.io/control-plane": "",
                "node-role.kubernetes.io/gpu": "true",
                "node-role.kubernetes.io/": "",
                "kubernetes.io/role": "",
                "beta.kubernetes.io/instance-type": "p4d.24xlarge",
            },
        },
        "spec": {"taints": [{"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}]},
    }
    node = NodeRecord.from_raw(raw)
    assert node.roles == ("control-plane", "gpu")
    assert node.taints == ("nvidia.com/gpu=present:NoSchedule",)
    assert node.instance_type == "p4d.24xlarge"
    assert NodeRecord.from_raw({"metadata": {"name": "w"}}).roles == ()


# -- events --------------------------------------------------------------------------------------------------


def test_core_v1_event_row() -> None:
    event = EventRecord.from_raw(real("04_event_corev1__k9s_ev.json"))
    assert event_row(event, at("2019-08-30T20:44:05Z")) == EventRow(
        "60s",
        "Normal",
        "Pulled",
        "pod/hello-1567197780-mn4mv",
        'Successfully pulled image "blang/busybox-bash"',
        "1",
    )
    assert (event.source, event.field_path, event.object_namespace) == (
        "kubelet",
        "spec.containers{c1}",
        "default",
    )


def event(**fields: Any) -> EventRecord:
    base: dict[str, Any] = {
        "metadata": {"name": fields.pop("name", "e"), "namespace": "nimify-system"},
        "involvedObject": {"kind": "Pod", "name": "nimify-api-1"},
        "type": "Warning",
        "reason": "BackOff",
        "message": "Back-off restarting failed container",
    }
    return EventRecord.from_raw({**base, **fields})


def test_last_seen_falls_back_from_last_to_first_timestamp_to_event_time() -> None:
    assert event(lastTimestamp=iso(5), firstTimestamp=iso(50)).last_seen == NOW - 5
    assert event(firstTimestamp=iso(50), eventTime="2026-01-08T11:59:59.000000Z").last_seen == NOW - 50
    assert event(eventTime="2026-01-08T11:59:59.500000Z").last_seen == NOW - 0.5
    assert event_row(event(), NOW).last_seen == "<unknown>"


def test_series_overrides_time_and_count_and_singletons_count_once() -> None:
    series = event(
        lastTimestamp=iso(600),
        count=3,
        series={"count": 150, "lastObservedTime": "2026-01-08T11:34:00.000000Z"},
    )
    assert (event_row(series, NOW).last_seen, event_row(series, NOW).event_count) == ("26m", "150")
    assert event_row(event(count=0, lastTimestamp=iso(1)), NOW).event_count == "1"
    assert event_row(event(count=7, lastTimestamp=iso(1)), NOW).event_count == "7"


def test_events_k8s_io_shape() -> None:
    new_api = EventRecord.from_raw(
        {
            "metadata": {"name": "x.17", "namespace": "nimify-system"},
            "regarding": {"kind": "Deployment", "name": "nimify-api", "namespace": "nimify-system"},
            "note": "  Scaled up replica set nimify-api-6d9 to 3\n",
            "reason": "ScalingReplicaSet",
            "type": "Normal",
            "reportingController": "deployment-controller",
            "eventTime": "2026-01-08T11:59:00.000000Z",
            "deprecatedCount": 2,
        }
    )
    row = event_row(new_api, NOW)
    assert (row.object, row.message, row.event_count, row.last_seen) == (
        "deployment/nimify-api",
        "Scaled up replica set nimify-api-6d9 to 3",
        "2",
        "60s",
    )
    assert new_api.source == "deployment-controller"


def test_event_without_object_name_and_with_escape_sequences() -> None:
    row = event_row(event(involvedObject={"kind": "Node"}, message="disk \x1b]0;pwned\x07 full\nretrying"), NOW)
    assert row.object == "node"
    assert not re.search(r"[\x00-\x1f\x7f-\x9f]", row.message)  # no escape sequence, bell or newline
    assert row.message.startswith("disk ") and row.message.endswith("retrying")


def test_events_sort_by_the_time_last_seen_shows() -> None:
    events = [
        event(name="old", lastTimestamp=iso(3600)),
        event(name="new-api", eventTime="2026-01-08T11:59:58.000000Z"),
        event(name="timeless"),
        event(name="series", lastTimestamp=iso(7200), series={"count": 2, "lastObservedTime": iso(1)}),
        event(name="recent", lastTimestamp=iso(30)),
    ]
    assert [e.name for e in sorted(events, key=event_sort_key)] == [
        "timeless",
        "old",
        "recent",
        "new-api",
        "series",
    ]


def test_events_from_separate_documents_share_the_texts_they_repeat() -> None:
    """Events are kept by the thousand for an hour: records decoded from separate JSON documents (as each watch
    line is) share their namespaces, type, reason, message, object and source; equal times are one float."""
    raw = real("04_event_corev1__k9s_ev.json")
    raw["metadata"]["creationTimestamp"] = raw["firstTimestamp"] = raw["lastTimestamp"] = "2026-01-08T11:00:00Z"
    documents = [orjson.loads(orjson.dumps(raw)) for _ in range(2)]
    first, second = (EventRecord.from_raw(document) for document in documents)
    assert first == second
    shared = ("namespace", "type", "reason", "message", "object_kind", "object_name", "object_namespace")
    for name in (*shared, "field_path", "source"):
        assert getattr(first, name) is getattr(second, name), name
    assert object_key(documents[1])[0] is first.namespace  # the store's key shares it too
    assert first.first_seen is first.last_seen is first.created_at


def test_an_event_record_takes_few_bytes() -> None:
    """2,000 distinct events about 20 pods, as the events informer holds them (each decoded from its own watch line;
    the record, its key and every object they hold, each shared object counted once): well under the 1.1 KB a
    record took when it kept its own copy of every text."""
    template = real("04_event_corev1__k9s_ev.json")
    held: dict[tuple[str, str], EventRecord] = {}
    for number in range(2000):
        raw = copy.deepcopy(template)
        raw["metadata"]["name"] = f"nimify-api-{number % 20}.{number:016x}"
        raw["metadata"]["uid"] = f"{number:08x}-0000-4000-8000-000000000000"
        raw["metadata"]["resourceVersion"] = str(100_000 + number)
        raw["involvedObject"]["name"] = f"nimify-api-{number % 20}"
        raw["message"] = f"Liveness probe succeeded after {number / 1000:.3f}s"
        obj = orjson.loads(orjson.dumps({"type": "ADDED", "object": raw}))["object"]
        held[object_key(obj)] = EventRecord.from_raw(obj)
    counted: set[int] = set()
    total = 0
    for key, record in held.items():
        for part in (key, *key, record, *(getattr(record, f.name) for f in dataclasses.fields(record))):
            if id(part) not in counted:
                counted.add(id(part))
                total += sys.getsizeof(part)
    assert len(held) == 2000
    assert total / len(held) < 700, f"{total / len(held):.0f} bytes a record"


# -- deployments and ReplicaSets -----------------------------------------------------------------------------


def test_healthy_deployment() -> None:
    deployment = DeploymentRecord.from_raw(real("05_deployment_healthy__k9s_dp.json"))
    assert (deployment.ready, deployment.desired, deployment.updated, deployment.available) == (1, 1, 1, 1)
    assert (deployment.containers, deployment.images, deployment.selector) == (
        ("icx-db",),
        ("postgres:9.2-alpine",),
        "app=icx-db",
    )
    assert (deployment.revision, deployment.paused, deployment.match_labels) == (1, False, {"app": "icx-db"})
    available = condition(deployment.conditions, "Available")
    assert available is not None and available.reason == "MinimumReplicasAvailable"


def test_failed_deployment_conditions() -> None:
    deployment = DeploymentRecord.from_raw(
        real("05_deployment_replicafailure_progressdeadline__k8s_docs.converted.json")
    )
    failure = condition(deployment.conditions, "ReplicaFailure")
    assert failure is not None
    assert (failure.status, failure.reason) == ("True", "FailedCreate")
    assert "exceeded quota: object-counts" in failure.message
    assert (deployment.replicas, deployment.available, deployment.unavailable) == (2, 2, 2)
    assert deployment.observed_generation == 3


def test_deployment_counts_and_selector_expressions() -> None:
    raw = {
        "metadata": {
            "name": "triton",
            "creationTimestamp": iso(90),
            "annotations": {"deployment.kubernetes.io/revision": "4"},
        },
        "spec": {
            "replicas": 3,
            "paused": True,
            "selector": {
                "matchLabels": {"app": "triton"},
                "matchExpressions": [
                    {"key": "tier", "operator": "In", "values": ["serving", "batch", "serving"]},
                    {"key": "canary", "operator": "DoesNotExist"},
                    {"key": "gpu", "operator": "Exists"},
                    {"key": "zone", "operator": "NotIn", "values": ["b", "a"]},
                ],
            },
            "template": {
                "spec": {
                    "containers": [
                        {"name": "triton", "image": "nvcr.io/nvidia/tritonserver:24.05-py3"},
                        {"name": "exporter", "image": "nimify/exporter:1"},
                    ]
                }
            },
        },
        "status": {"replicas": 4, "updatedReplicas": 1, "readyReplicas": 2, "availableReplicas": 2},
    }
    deployment = DeploymentRecord.from_raw(raw)
    assert (deployment.ready, deployment.desired, deployment.updated, deployment.available) == (2, 3, 1, 2)
    assert deployment.containers == ("triton", "exporter")
    assert deployment.images == ("nvcr.io/nvidia/tritonserver:24.05-py3", "nimify/exporter:1")
    assert deployment.selector == "app=triton,!canary,gpu,tier in (batch,serving),zone notin (a,b)"
    assert (deployment.revision, deployment.paused) == (4, True)


def test_selector_text_edge_cases() -> None:
    assert selector_text(None) == ""
    assert selector_text({"matchExpressions": [{"key": "a", "operator": "Sideways"}]}) == "<invalid>"
    assert DeploymentRecord.from_raw({"metadata": {"name": "d"}}).desired == 1  # the API server's default


def test_replicaset_revision_and_owner() -> None:
    replica_set = ReplicaSetRecord.from_raw(real("06_replicaset_revision__k9s_rs.json"))
    assert (replica_set.revision, replica_set.owner_kind, replica_set.owner_name) == (
        1,
        "Deployment",
        "icx-db",
    )
    assert replica_set.owner_uid == "6f6143bc-a5f3-11e9-990f-42010a800218"
    assert (replica_set.pod_template_hash, replica_set.images) == ("7d4b578979", ("postgres:9.2-alpine",))
    assert (replica_set.desired, replica_set.ready) == (1, 1)
    raw = real("06_replicaset_revision__k9s_rs.json")
    raw["metadata"]["annotations"]["kubernetes.io/change-cause"] = "kubectl set image deployment/icx-db db=pg:9.6"
    raw["metadata"]["annotations"]["deployment.kubernetes.io/revision"] = "not-a-number"
    changed = ReplicaSetRecord.from_raw(raw)
    assert (changed.revision, changed.change_cause) == (None, "kubectl set image deployment/icx-db db=pg:9.6")


# -- PVCs ----------------------------------------------------------------------------------------------------


def test_bound_pvc() -> None:
    pvc = PVCRecord.from_raw(real("09_pvc_bound__k9s_pvc.json"))
    assert (pvc.name, pvc.phase, pvc.volume_name, pvc.capacity, pvc.access_modes, pvc.storage_class) == (
        "www-nginx-sts-0",
        "Bound",
        "pvc-fbabd470-8725-11e9-a8e8-42010a80015b",
        "1Gi",
        ("ReadWriteOnce",),
        "standard",
    )
    assert (pvc.requested, pvc_resize(pvc)) == ("1Mi", None)


def test_pvc_waiting_for_a_filesystem_resize() -> None:
    pvc = PVCRecord.from_raw(real("09_pvc_filesystemresizepending__ceph-csi_docs.converted.json")["items"][0])
    assert (pvc.phase, pvc.volume_name, pvc.capacity) == ("Bound", "pvc-efe688d6-a420-4041-900e-c5e19fd73ebf", "1Gi")
    assert pvc_resize(pvc) == (
        "FileSystemResizePending: Waiting for user to (re-)start a pod to finish file system resize of volume on node."
    )
    pending = condition(pvc.conditions, "FileSystemResizePending")
    assert pending is not None and pending.last_transition == at("2019-12-19T05:49:39Z")


def pvc(**overrides: Any) -> PVCRecord:
    raw: dict[str, Any] = {
        "metadata": {"name": "model-storage", "creationTimestamp": iso(3 * 86400)},
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": "100Gi"}},
            "storageClassName": "fast",
            "volumeName": "pv-1",
        },
        "status": {"phase": "Bound", "capacity": {"storage": "102400Mi"}, "accessModes": ["ReadWriteOnce"]},
    }
    for section, values in overrides.items():
        raw[section] = {**raw[section], **values}
    return PVCRecord.from_raw(raw)


def test_pvc_resize_states() -> None:
    assert pvc_resize(pvc()) is None  # 102400Mi is 100Gi
    bigger = pvc(spec={"resources": {"requests": {"storage": "200Gi"}}})
    assert pvc_resize(bigger) == "requested 200Gi, capacity 100Gi"
    in_progress = pvc(status={"allocatedResourceStatuses": {"storage": "ControllerResizeInProgress"}})
    assert pvc_resize(in_progress) == "ControllerResizeInProgress"
    failed = pvc(status={"conditions": [{"type": "ControllerResizeError", "status": "True", "message": "quota"}]})
    assert pvc_resize(failed) == "ControllerResizeError: quota"


# -- services, endpoints, ingresses --------------------------------------------------------------------------


def test_service_record() -> None:
    service = ServiceRecord.from_raw(
        {
            "metadata": {"name": "triton", "namespace": "triton-system"},
            "spec": {
                "type": "NodePort",
                "clusterIP": "10.96.0.12",
                "selector": {"app": "triton"},
                "ports": [
                    {"name": "http", "port": 8000, "protocol": "TCP", "nodePort": 30080},
                    {"name": "metrics", "port": 8002},
                ],
            },
        }
    )
    assert (service.type, service.cluster_ip, service.ports) == (
        "NodePort",
        "10.96.0.12",
        ("8000:30080/TCP", "8002/TCP"),
    )
    assert service.selector == {"app": "triton"}


def test_endpoints_record() -> None:
    endpoints = EndpointsRecord.from_raw(real("10_endpoints__k9s_ep.json"))
    assert [(a.ip, a.node, a.pod, a.ready) for a in endpoints.addresses] == [("10.0.0.67", "n-1", "blah", True)]
    assert (endpoints.ports, endpoints.ready_count) == ((8080,), 1)
    raw = real("10_endpoints__k9s_ep.json")
    raw["subsets"][0]["notReadyAddresses"] = [{"ip": "10.0.0.68", "targetRef": {"kind": "Pod", "name": "crashing"}}]
    assert EndpointsRecord.from_raw(raw).ready_count == 1
    assert EndpointsRecord.from_raw({"metadata": {"name": "empty"}}).ready_count == 0


def test_ingress_records_in_both_backend_shapes() -> None:
    old_shape = IngressRecord.from_raw(real("10_ingress__k9s_ing.json"))
    assert old_shape.backends == (IngressBackend("", "/testpath", "test", "80"),)
    v1 = IngressRecord.from_raw(
        {
            "metadata": {"name": "nimify-ingress", "namespace": "nimify-system"},
            "spec": {
                "ingressClassName": "nginx",
                "tls": [{"hosts": ["api.example.com"]}],
                "rules": [
                    {
                        "host": "api.example.com",
                        "http": {
                            "paths": [
                                {
                                    "path": "/v1",
                                    "backend": {"service": {"name": "nimify-api", "port": {"number": 8000}}},
                                },
                                {
                                    "path": "/m",
                                    "backend": {"service": {"name": "metrics", "port": {"name": "http"}}},
                                },
                            ]
                        },
                    }
                ],
                "defaultBackend": {"service": {"name": "fallback", "port": {"number": 80}}},
            },
            "status": {"loadBalancer": {"ingress": [{"ip": "203.0.113.9"}, {"hostname": "lb.example.com"}]}},
        }
    )
    assert (v1.ingress_class, v1.hosts, v1.tls) == ("nginx", ("api.example.com",), True)
    assert v1.addresses == ("203.0.113.9", "lb.example.com")
    assert v1.backends == (
        IngressBackend("api.example.com", "/v1", "nimify-api", "8000"),
        IngressBackend("api.example.com", "/m", "metrics", "http"),
        IngressBackend("", "", "fallback", "80"),
    )


def test_pods_from_separate_documents_share_the_texts_they_repeat() -> None:
    """50,000 pods are held at once: records decoded from separate JSON documents (each page, each watch line)
    share the texts the pods of a deployment repeat (namespace, owner, node, status, images, resources)."""
    raw = real("01b_pod_crashloopbackoff__kubesphere_issue4920.converted.json")
    raw["spec"]["containers"][0]["resources"] = {"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"cpu": "2"}}
    documents = [orjson.loads(orjson.dumps(raw)) for _ in range(2)]
    first, second = (PodRecord.from_raw(document) for document in documents)
    assert first == second and not first.unreadable and first.containers
    shared = ("namespace", "owner_kind", "owner_name", "phase", "status", "node", "readiness_gates")
    for name in (*shared, "default_container"):
        assert getattr(first, name) is getattr(second, name), name
    for one, other in zip(first.containers, second.containers, strict=True):
        assert one.name is other.name and one.image is other.image
        requested = [(a, b) for a, b in zip(one[11:], other[11:], strict=True) if a is not None]
        assert requested and all(a is b for a, b in requested), "requests and limits"


def test_a_pod_names_the_claims_its_volumes_mount() -> None:
    """The claim usage poller asks only the nodes running a pod that mounts a claim."""
    raw = real("01b_pod_crashloopbackoff__kubesphere_issue4920.converted.json")
    assert PodRecord.from_raw(raw).claims == ()
    raw["spec"]["volumes"] = [
        {"name": "config", "configMap": {"name": "nimify-config"}},
        {"name": "cache", "persistentVolumeClaim": {"claimName": "model-storage", "readOnly": True}},
        {"name": "scratch", "emptyDir": {}},
        {"name": "odd", "persistentVolumeClaim": {"claimName": 7}},
        {"name": "odder", "persistentVolumeClaim": None},
        "not a volume",
    ]
    pod = PodRecord.from_raw(raw)
    assert pod.claims == ("model-storage",), "the claims, and the volumes of the wrong shape left out"
    raw["spec"]["volumes"] = {"cache": "not a list"}
    assert PodRecord.from_raw(raw).claims == ()
