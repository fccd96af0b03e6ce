"""The diagnosis rules on states built by hand and from the real captures: the cause before its symptoms, the fix
filled from the evidence, no fix when the cause is unknown, and nothing at all on a healthy but noisy cluster."""

from __future__ import annotations

import copy
from datetime import datetime, timezone
from typing import Any

from nimify_tui.kube.log_signatures import LogSignature, SignatureMatch
from nimify_tui.kube.records import (
    DeploymentRecord,
    EventRecord,
    NodeRecord,
    PodRecord,
    PVCRecord,
    ReplicaSetRecord,
)
from nimify_tui.live.keys import DEPLOYMENTS, EVENTS, LOG_SIGNATURES, NODES, PODS, PROBES, PVCS, REPLICASETS
from nimify_tui.live.store import Store
from nimify_tui.probes import ProbeResult
from nimify_tui.triage.checks import run_checks
from nimify_tui.triage.diagnose import diagnose
from nimify_tui.triage.diagnosis import Diagnosis

from ..conftest import real_k8s_object, real_text

NS = "shop"
NOW = datetime(2026, 1, 8, 8, 10, tzinfo=timezone.utc).timestamp()  # minutes after the captures' OOM kill


def iso(seconds_ago: float) -> str:
    return datetime.fromtimestamp(NOW - seconds_ago, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def deployment(name: str, replicas: int, *, available: int | None = None, updated: int | None = None) -> dict[str, Any]:
    ready = replicas if available is None else available
    return {
        "metadata": {"name": name, "namespace": NS, "uid": f"uid-{name}", "generation": 1},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}}},
        "status": {
            "observedGeneration": 1,
            "replicas": replicas,
            "updatedReplicas": replicas if updated is None else updated,
            "readyReplicas": ready,
            "availableReplicas": ready,
        },
    }


def replicaset(owner: str, template_hash: str, revision: int, replicas: int, ready: int, image: str) -> dict[str, Any]:
    return {
        "metadata": {
            "name": f"{owner}-{template_hash}",
            "namespace": NS,
            "labels": {"app": owner, "pod-template-hash": template_hash},
            "annotations": {"deployment.kubernetes.io/revision": str(revision)},
            "ownerReferences": [{"kind": "Deployment", "name": owner, "uid": f"uid-{owner}", "controller": True}],
        },
        "spec": {"replicas": replicas, "template": {"spec": {"containers": [{"name": owner, "image": image}]}}},
        "status": {"replicas": replicas, "readyReplicas": ready, "availableReplicas": ready},
    }


def pod(
    owner: str,
    template_hash: str,
    suffix: str,
    *,
    waiting: str = "",
    last: dict[str, Any] | None = None,
    restarts: int = 0,
    memory_limit: str = "1Gi",
    phase: str = "Running",
    node: str = "node-a",
) -> dict[str, Any]:
    ready = not waiting and phase == "Running"
    state: dict[str, Any] = {"waiting": {"reason": waiting}} if waiting else {"running": {"startedAt": iso(30)}}
    status: dict[str, Any] = {
        "phase": phase,
        "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
        "containerStatuses": [
            {
                "name": owner,
                "ready": ready,
                "restartCount": restarts,
                "state": state,
                "lastState": {"terminated": last} if last else {},
            }
        ],
    }
    return {
        "metadata": {
            "name": f"{owner}-{template_hash}-{suffix}",
            "namespace": NS,
            "uid": f"uid-{owner}-{suffix}",
            "creationTimestamp": iso(3600),
            "labels": {"app": owner, "pod-template-hash": template_hash},
            "ownerReferences": [{"kind": "ReplicaSet", "name": f"{owner}-{template_hash}", "controller": True}],
        },
        "spec": {
            "nodeName": node if phase != "Pending" else "",
            "containers": [{"name": owner, "image": "x", "resources": {"limits": {"memory": memory_limit}}}],
        },
        "status": status,
    }


def oom(seconds_ago: float = 20.0) -> dict[str, Any]:
    return {"reason": "OOMKilled", "exitCode": 137, "startedAt": iso(seconds_ago + 30), "finishedAt": iso(seconds_ago)}


def event(kind: str, name: str, reason: str, message: str, seconds_ago: float = 10.0, type_: str = "Warning") -> dict:
    return {
        "metadata": {"name": f"{name}.{reason}.{seconds_ago}", "namespace": NS},
        "involvedObject": {"kind": kind, "name": name, "namespace": NS},
        "reason": reason,
        "message": message,
        "type": type_,
        "count": 1,
        "firstTimestamp": iso(seconds_ago),
        "lastTimestamp": iso(seconds_ago),
    }


def store_of(
    *,
    pods: list[dict[str, Any]] = (),  # type: ignore[assignment]
    deployments: list[dict[str, Any]] = (),  # type: ignore[assignment]
    replicasets: list[dict[str, Any]] = (),  # type: ignore[assignment]
    events: list[dict[str, Any]] = (),  # type: ignore[assignment]
    pvcs: list[dict[str, Any]] = (),  # type: ignore[assignment]
) -> Store:
    """A store as the informers would fill it from these raw objects."""
    store = Store()
    for key, raws, decode in (
        (PODS, pods, PodRecord.from_raw),
        (DEPLOYMENTS, deployments, DeploymentRecord.from_raw),
        (REPLICASETS, replicasets, ReplicaSetRecord.from_raw),
        (EVENTS, events, EventRecord.from_raw),
        (PVCS, pvcs, PVCRecord.from_raw),
    ):
        store.replace(key, None, {(r.namespace, r.name): r for r in map(decode, raws)})  # type: ignore[attr-defined]
    return store


def diagnoses_of(store: Store) -> tuple[Diagnosis, ...]:
    return diagnose(store, run_checks(store, NOW, main_namespace=NS), NOW, main_namespace=NS)


def test_oom_kills_raise_the_limit_to_twice_the_old_one_and_at_least_2gi() -> None:
    pods = [pod("api", "aaa", s, waiting="CrashLoopBackOff", last=oom(), restarts=4, memory_limit="3Gi") for s in "xy"]
    store = store_of(
        pods=pods,
        deployments=[deployment("api", 2, available=0)],
        replicasets=[replicaset("api", "aaa", 1, 2, 0, "api:1")],
    )
    (first, *_) = diagnoses_of(store)
    assert (first.scenario, first.component) == ("crash-loop", "api")
    assert first.fix is not None
    assert (first.fix.action, first.fix.target) == ("set-resources", "shop/deployment/api")
    assert dict(first.fix.parameters) == {"container": "api", "limits.memory": "6Gi"}
    assert first.fix.remedy == "resources"
    assert "shop/pod/api-aaa-x" in first.objects
    small = store_of(
        pods=[pod("api", "aaa", "x", waiting="CrashLoopBackOff", last=oom(), restarts=4, memory_limit="512Mi")],
        deployments=[deployment("api", 1, available=0)],
        replicasets=[replicaset("api", "aaa", 1, 1, 0, "api:1")],
    )
    fix = diagnoses_of(small)[0].fix
    assert fix is not None and fix.parameters["limits.memory"] == "2Gi"  # the runbook's floor


def test_a_new_revision_that_crash_loops_while_the_old_one_serves_is_rolled_back() -> None:
    store = store_of(
        pods=[
            pod("api", "new", "x", waiting="CrashLoopBackOff", last={"reason": "Error", "exitCode": 1}, restarts=3),
            *(pod("api", "old", s) for s in "abc"),
        ],
        deployments=[deployment("api", 3, updated=1)],
        replicasets=[replicaset("api", "new", 7, 1, 0, "api:2.0"), replicaset("api", "old", 6, 3, 3, "api:1.9")],
    )
    (first,) = diagnoses_of(store)
    assert first.fix is not None
    assert (first.fix.action, first.fix.target, dict(first.fix.parameters)) == (
        "rollout-undo",
        "shop/deployment/api",
        {"revision": "6"},
    )
    assert first.fix.kubectl == "kubectl rollout undo deployment/api -n shop --to-revision=6"
    assert "revision 7 (api:2.0) crash-loops; revision 6 (api:1.9) still serves 3 pod(s)" in first.evidence


def test_a_crash_loop_with_no_known_cause_offers_no_fix() -> None:
    store = store_of(
        pods=[pod("api", "aaa", "x", waiting="CrashLoopBackOff", last={"reason": "Error", "exitCode": 2}, restarts=5)],
        deployments=[deployment("api", 1, available=0)],
        replicasets=[replicaset("api", "aaa", 1, 1, 0, "api:1")],
    )
    (first,) = diagnoses_of(store)
    assert first.fix is None
    assert first.cause == "api crash-loops (Error (exit code 2)); the cause is not in the evidence yet"


def test_the_real_oom_killed_pod_of_an_operator_is_named_but_not_fixed() -> None:
    """The capture's pod belongs to a RayCluster: no key in the TUI changes its limit, so the cause comes alone."""
    raw = real_k8s_object("01_pod_oomkilled_restarted__kuberay_issue4356.converted.json")
    raw["status"]["containerStatuses"][0]["ready"] = False  # restarted a minute ago and not ready again yet
    (first,) = diagnoses_of(store_of(pods=[raw]))
    assert first.scenario == "crash-loop"
    assert first.cause.endswith("is OOMKilled at its memory limit (2G)")
    assert "owned by RayCluster/raycluster-auth-token, not a deployment: change it there" in first.evidence
    assert first.fix is None


def test_the_hog_scaled_up_is_scaled_back_and_evicted_or_pending_pods_are_only_its_symptoms() -> None:
    scheduling = real_text("k8s/02_gpu_pending_failedscheduling__real_excerpts.txt")
    assert "untolerated taint {nvidia.com/gpu: present}" in scheduling or "nvidia.com/gpu" in scheduling
    message = "0/4 nodes are available: 2 Insufficient cpu, 2 node(s) had untolerated taint {nvidia.com/gpu: present}."
    evicted = pod("api", "aaa", "old", phase="Failed")
    evicted["status"]["reason"] = "Evicted"
    evicted["status"]["message"] = "The node was low on resource: memory. Threshold quantity: 100Mi."
    store = store_of(
        pods=[
            pod("api", "aaa", "p", phase="Pending"),
            evicted,
            *(pod("batch", "bbb", str(i)) for i in range(12)),
        ],
        deployments=[deployment("api", 1, available=0), deployment("batch", 12)],
        replicasets=[replicaset("api", "aaa", 1, 1, 0, "api:1"), replicaset("batch", "bbb", 1, 12, 12, "batch:1")],
        events=[
            event("Pod", "api-aaa-p", "FailedScheduling", message),
            event(
                "Deployment", "batch", "ScalingReplicaSet", "Scaled up replica set batch-bbb to 12 from 3", 60, "Normal"
            ),
        ],
    )
    diagnoses = diagnoses_of(store)
    assert [d.scenario for d in diagnoses] == ["resource-exhaustion"], "the evicted pod is no crash loop"
    fix = diagnoses[0].fix
    assert fix is not None
    assert (fix.action, fix.target, dict(fix.parameters)) == ("scale", "shop/deployment/batch", {"replicas": "1"})
    assert diagnoses[0].evidence[0] == "deployment shop/batch was scaled up from 3 to 12"
    pending = {f.check: f for f in run_checks(store, NOW, main_namespace=NS)}["pods-pending"]
    assert pending.fix.startswith("not enough CPU/memory"), "the taint clause is not a GPU shortage"


def test_pending_for_cpu_with_no_hog_in_sight_says_so_and_offers_nothing() -> None:
    message = "0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 No preemption."
    store = store_of(
        pods=[pod("api", "aaa", "p", phase="Pending")],
        deployments=[deployment("api", 1, available=0)],
        replicasets=[replicaset("api", "aaa", 1, 1, 0, "api:1")],
        events=[event("Pod", "api-aaa-p", "FailedScheduling", message)],
    )
    (first,) = diagnoses_of(store)
    assert (first.scenario, first.fix) == ("resource-exhaustion", None)
    assert first.cause.startswith("the nodes lack cpu for 1 pod(s); no deployment was seen scaling up")


def full_claim(capacity: str) -> dict[str, Any]:
    raw = copy.deepcopy(real_k8s_object("09_pvc_bound__k9s_pvc.json"))
    raw["metadata"]["namespace"] = NS
    raw["status"]["capacity"]["storage"] = capacity
    return raw


def test_a_full_volume_is_expanded_to_twice_its_size_and_an_old_warning_after_growing_is_ignored() -> None:
    claim = full_claim("1Gi")
    name = claim["metadata"]["name"]
    full = event(
        "PersistentVolumeClaim",
        name,
        "VolumeConditionAbnormal",
        "The volume is full: 1073741824 of 1073741824 bytes used",
    )
    (first,) = diagnoses_of(store_of(pvcs=[claim], events=[full]))
    assert first.fix is not None
    assert (first.scenario, first.fix.action, first.fix.target, dict(first.fix.parameters)) == (
        "storage",
        "expand-pvc",
        f"shop/persistentvolumeclaim/{name}",
        {"storage": "2Gi"},
    )
    assert diagnoses_of(store_of(pvcs=[full_claim("2Gi")], events=[full])) == ()


def probe(name: str, ok: bool, error: str = "") -> ProbeResult:
    return ProbeResult(name, ok, 200 if ok else 503, 5.0, error, NOW, "https://api/" + name)


def test_no_endpoints_with_no_cause_found_says_the_cause_is_unknown() -> None:
    store = store_of()
    error = 'HTTP 503: no endpoints available for service "nimify-api:8000"'
    store.put(PROBES, (probe("api /health", False, error), probe("api /ready", False, error)))
    (first,) = diagnoses_of(store)
    assert first.fix is None
    assert first.cause == "no nimify-api pod is ready behind its service; the cause is not in the evidence yet"


def test_a_healthy_but_noisy_cluster_has_no_diagnosis() -> None:
    """Old warnings of pods that are fine now, a completed Job, a rolling update in progress."""
    job = pod("report", "x", "done", phase="Succeeded")
    job["metadata"]["ownerReferences"] = [{"kind": "Job", "name": "report", "controller": True}]
    job["status"]["containerStatuses"][0]["state"] = {"terminated": {"reason": "Completed", "exitCode": 0}}
    store = store_of(
        pods=[*(pod("api", "old", s) for s in "ab"), pod("api", "new", "c"), job],
        deployments=[deployment("api", 3, updated=1)],
        replicasets=[replicaset("api", "new", 2, 1, 1, "api:2"), replicaset("api", "old", 1, 2, 2, "api:1")],
        events=[
            event("Pod", "api-old-a", "BackOff", "Back-off restarting failed container api", seconds_ago=7200),
            event("Pod", "api-old-b", "Unhealthy", "Readiness probe failed: connection refused", seconds_ago=5400),
        ],
    )
    store.put(PROBES, (probe("api /health", True), probe("api /ready", True)))
    assert diagnoses_of(store) == ()
    failing = [f.check for f in run_checks(store, NOW, main_namespace=NS) if f.state == "fail"]
    assert failing == []


def test_a_new_revision_whose_image_cannot_be_pulled_is_rolled_back_with_the_registry_answer() -> None:
    pulling = pod("api", "new", "x", waiting="ImagePullBackOff")
    failed = event(
        "Pod",
        "api-new-x",
        "Failed",
        'Failed to pull image "api:2.1": rpc error: code = NotFound desc = failed to resolve reference: not found',
    )
    store = store_of(
        pods=[pulling, *(pod("api", "old", s) for s in "ab")],
        deployments=[deployment("api", 2, updated=1)],
        replicasets=[replicaset("api", "new", 5, 1, 0, "api:2.1"), replicaset("api", "old", 4, 2, 2, "api:2.0")],
        events=[failed],
    )
    (first,) = diagnoses_of(store)
    assert first.fix is not None and (first.fix.action, dict(first.fix.parameters)) == (
        "rollout-undo",
        {"revision": "4"},
    )
    assert f"Failed: {failed['message']}" in first.evidence


def test_the_database_scaled_to_zero_is_scaled_back_to_its_size_from_the_controller_event() -> None:
    db = deployment("postgres", 0)
    store = store_of(
        deployments=[db],
        events=[
            event(
                "Deployment",
                "postgres",
                "ScalingReplicaSet",
                "Scaled down replica set postgres-5d8 from 2 to 0",
                type_="Normal",
            )
        ],
    )
    store.put(PROBES, (probe("api /health", True), probe("api /ready", False, "HTTP 503: database unreachable")))
    (first,) = diagnoses_of(store)
    assert (first.scenario, first.component) == ("dependency", "database")
    assert first.fix is not None
    assert (first.fix.action, first.fix.target, dict(first.fix.parameters)) == (
        "scale",
        "shop/deployment/postgres",
        {"replicas": "2"},
    )


def test_a_node_that_stopped_reporting_is_named_with_its_pods_and_cordoned() -> None:
    node = copy.deepcopy(real_k8s_object("03_node_minikube__k9s_no.json"))
    for condition in node["status"]["conditions"]:
        if condition["type"] == "Ready":
            condition |= {
                "status": "Unknown",
                "reason": "NodeStatusUnknown",
                "message": "Kubelet stopped posting node status.",
            }
    store = store_of(pods=[pod("api", "aaa", "x", node="minikube")])
    store.replace(NODES, None, {("", "minikube"): NodeRecord.from_raw(node)})
    (first,) = diagnoses_of(store)
    assert first.scenario == "infrastructure"
    assert first.evidence[0] == "node minikube Ready=Unknown: NodeStatusUnknown Kubelet stopped posting node status."
    assert first.fix is not None and (first.fix.target, first.fix.kubectl, first.fix.remedy) == (
        "node/minikube",
        "kubectl cordon minikube",
        "cordon",
    )
    node["spec"] = {"unschedulable": True}  # cordoned already: no fix a key applies, drain it
    store.replace(NODES, None, {("", "minikube"): NodeRecord.from_raw(node)})
    (cordoned,) = diagnoses_of(store)
    assert cordoned.fix is None and "cordoned; drain it" in cordoned.cause


def test_a_fix_already_under_way_is_not_offered_again() -> None:
    """After the limit was raised the old pods still crash while the new revision rolls out; after an expansion
    the volume stays full until the resize finishes: the diagnosis waits instead of fixing twice."""
    rolling = store_of(
        pods=[pod("api", "old", "x", waiting="CrashLoopBackOff", last=oom(), restarts=4)],
        deployments=[deployment("api", 1, available=0, updated=0)],
        replicasets=[replicaset("api", "new", 2, 1, 0, "api:1"), replicaset("api", "old", 1, 1, 0, "api:1")],
    )
    (first,) = diagnoses_of(rolling)
    assert first.fix is None and first.cause.endswith("while revision 2 replaces it: wait for the rollout")
    claim = full_claim("1Gi")
    claim["spec"]["resources"]["requests"]["storage"] = "2Gi"
    name = claim["metadata"]["name"]
    full = event(
        "PersistentVolumeClaim",
        name,
        "VolumeConditionAbnormal",
        "The volume is full: 1073741824 of 1073741824 bytes used",
    )
    (resizing,) = diagnoses_of(store_of(pvcs=[claim], events=[full]))
    assert resizing.fix is None
    assert resizing.evidence[1] == "requested 2Gi, capacity 1Gi"


def config_crash_loop(match: SignatureMatch) -> Store:
    """nimify-api crash-looping, its previous log read and showing ``match``."""
    crashed = pod("nimify-api", "aaa", "x", waiting="CrashLoopBackOff", last={"reason": "Error", "exitCode": 3})
    crashed["status"]["containerStatuses"][0]["restartCount"] = 4
    store = store_of(
        pods=[crashed],
        deployments=[deployment("nimify-api", 1, available=0)],
        replicasets=[replicaset("nimify-api", "aaa", 1, 1, 0, "api:1")],
    )
    signature = LogSignature(NS, "nimify-api-aaa-x", "nimify-api", 4, (match,))
    store.put(LOG_SIGNATURES, {(NS, "nimify-api-aaa-x", "nimify-api"): signature})
    return store


def test_a_key_nimify_api_does_not_know_is_taken_out_and_the_api_restarted_in_one_fix() -> None:
    line = "ERROR unknown key 'max_batch_sise' in /etc/nimify/config.yaml (section 'triton')"
    (first,) = diagnoses_of(config_crash_loop(SignatureMatch("config-error", line, "triton.max_batch_sise", True)))
    assert first.cause == (
        "nimify-api exits at start on a key its configuration does not know (triton.max_batch_sise): "
        "take the key out, then restart it"
    )
    assert first.fix is not None
    assert (first.fix.action, first.fix.target) == ("edit-config", f"{NS}/configmap/nimify-config")
    assert dict(first.fix.parameters) == {"remove-key": "triton.max_batch_sise", "restart": "nimify-api"}
    assert f"previous log: {line}" in first.evidence


def test_a_missing_key_is_named_and_left_to_the_person_to_write() -> None:
    line = "KeyError: 'grpc_url'"
    (first,) = diagnoses_of(config_crash_loop(SignatureMatch("config-error", line, "grpc_url", False)))
    assert first.fix is not None and dict(first.fix.parameters) == {"key": "grpc_url"}
    assert (
        first.cause == "nimify-api exits at start on its configuration (key grpc_url): fix the config, then restart it"
    )
