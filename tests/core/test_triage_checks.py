"""The runbook checks for storage, deployments, ingress, endpoints, GPUs and alerts, one by one, on states built from
the real captures (Kubernetes objects through the project's decoders, GPUs from a DCGM exporter scrape) and on
alert states from the project's own evaluator."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from nimify_tui.gpu.dcgm import gpus_from_dcgm
from nimify_tui.gpu.merge import GpuView, merge_gpu_readings
from nimify_tui.gpu.records import GpuReading
from nimify_tui.kube.records import (
    DeploymentRecord,
    EndpointsRecord,
    EventRecord,
    IngressRecord,
    PodRecord,
    PVCRecord,
)
from nimify_tui.live.keys import ALERT_STATES, ENDPOINTS, GPUS, INGRESSES, PVCS
from nimify_tui.live.store import Store
from nimify_tui.metrics.alert_states import AlertSource, RuleState
from nimify_tui.metrics.scrape import parse_metrics
from nimify_tui.triage.checks import (
    Finding,
    check_alerts,
    check_deployments,
    check_endpoints,
    check_gpus,
    check_ingress,
    check_storage,
)

from ..conftest import real_k8s_object, real_text

HOUR_S = 3600.0


def store_with(
    *,
    pvcs: Sequence[PVCRecord] = (),
    ingresses: Sequence[IngressRecord] = (),
    endpoints: Sequence[EndpointsRecord] = (),
    gpus: GpuView | None = None,
    alerts: Sequence[RuleState] | None = None,
) -> Store:
    """A store holding exactly these records and values, as the informers and pollers would have put them."""
    store = Store()
    for pvc in pvcs:
        store.upsert(PVCS, (pvc.namespace, pvc.name), pvc)
    for ingress in ingresses:
        store.upsert(INGRESSES, (ingress.namespace, ingress.name), ingress)
    for endpoint in endpoints:
        store.upsert(ENDPOINTS, (endpoint.namespace, endpoint.name), endpoint)
    if gpus is not None:
        store.put(GPUS, gpus)
    if alerts is not None:
        store.put(ALERT_STATES, tuple(alerts))
    return store


def state_evidence_fix(finding: Finding | None) -> tuple[str, str, str]:
    assert finding is not None
    return finding.state, finding.evidence, finding.fix


# --- storage: Scenario 3 -------------------------------------------------------------------------------------
STORAGE_FIX = "expand the PVC (x on model-storage)"


def bound_pvc() -> dict[str, Any]:
    return real_k8s_object("09_pvc_bound__k9s_pvc.json")


def test_storage_passes_with_a_bound_claim() -> None:
    finding = check_storage(store_with(pvcs=[PVCRecord.from_raw(bound_pvc())]), [])
    assert state_evidence_fix(finding) == ("pass", "1 PVCs Bound", "")
    assert finding.runbook == "Scenario 3: Storage Issues"


def test_storage_fails_on_a_claim_not_bound() -> None:
    claim = bound_pvc()
    del claim["spec"]["volumeName"]
    claim["status"] = {"phase": "Pending"}  # the same claim before a volume was provisioned for it
    finding = check_storage(store_with(pvcs=[PVCRecord.from_raw(claim)]), [])
    assert state_evidence_fix(finding) == ("fail", "www-nginx-sts-0 Pending", STORAGE_FIX)


def test_storage_fails_on_a_file_system_resize_waiting_for_a_pod() -> None:
    [claim] = real_k8s_object("09_pvc_filesystemresizepending__ceph-csi_docs.converted.json")["items"]
    finding = check_storage(store_with(pvcs=[PVCRecord.from_raw(claim)]), [])
    evidence = (
        "rbd-pvc resize FileSystemResizePending: "
        "Waiting for user to (re-)start a pod to finish file system resize of volume on node."
    )
    assert state_evidence_fix(finding) == ("fail", evidence, STORAGE_FIX)


def test_storage_fails_on_a_failed_mount_event() -> None:
    raw = real_k8s_object("04_event_corev1__k9s_ev.json")
    raw.update(  # the same kubelet event, for a volume that would not mount
        type="Warning",
        reason="FailedMount",
        message='MountVolume.SetUp failed for volume "model-storage" : mount failed: exit status 32',
    )
    pvcs = [PVCRecord.from_raw(bound_pvc())]
    finding = check_storage(store_with(pvcs=pvcs), [EventRecord.from_raw(raw)])
    evidence = (
        "hello-1567197780-mn4mv: FailedMount: "
        'MountVolume.SetUp failed for volume "model-storage" : mount failed: exit status 32'
    )
    assert state_evidence_fix(finding) == ("fail", evidence, STORAGE_FIX)


def test_storage_ignores_other_events() -> None:
    event = EventRecord.from_raw(real_k8s_object("04_event_corev1__k9s_ev.json"))  # "Pulled"
    finding = check_storage(store_with(pvcs=[PVCRecord.from_raw(bound_pvc())]), [event])
    assert state_evidence_fix(finding) == ("pass", "1 PVCs Bound", "")


# --- deployments: "Check recent deployments" -----------------------------------------------------------------
DEPLOYMENT_FIX = "open the deployment (enter) for its rollout history; roll back a bad revision (u)"


def healthy_deployment() -> dict[str, Any]:
    return real_k8s_object("05_deployment_healthy__k9s_dp.json")


def test_deployments_pass_when_fully_available() -> None:
    finding = check_deployments([DeploymentRecord.from_raw(healthy_deployment())])
    assert state_evidence_fix(finding) == ("pass", "all deployments fully available", "")
    assert finding.runbook == "Check recent deployments"


def test_deployments_fail_when_replicas_are_unavailable() -> None:
    status = real_k8s_object("05_deployment_replicafailure_progressdeadline__k8s_docs.converted.json")["status"]
    # The capture is the status of the documentation's nginx-deployment; its spec.replicas is what the status
    # implies (available + unavailable).
    desired = status["availableReplicas"] + status["unavailableReplicas"]
    raw = {
        "metadata": {"name": "nginx-deployment", "namespace": "default"},
        "spec": {"replicas": desired},
        "status": status,
    }
    finding = check_deployments([DeploymentRecord.from_raw(raw)])
    evidence = "default/nginx-deployment 2/4 available (0/4 updated)"
    assert state_evidence_fix(finding) == ("fail", evidence, DEPLOYMENT_FIX)
    assert finding.objects == ("default/deployment/nginx-deployment",)


def test_a_rollout_in_progress_with_every_replica_available_passes_and_is_named() -> None:
    raw = healthy_deployment()
    raw["metadata"]["generation"] = 2  # a new template, still served by the old pod: none of the new one yet
    raw["status"]["updatedReplicas"] = 0
    finding = check_deployments([DeploymentRecord.from_raw(raw)])
    evidence = "all deployments fully available; rolling out: icx/icx-db 0/1 updated"
    assert state_evidence_fix(finding) == ("pass", evidence, "")


def test_a_rollout_past_its_progress_deadline_fails() -> None:
    raw = healthy_deployment()
    raw["status"]["updatedReplicas"] = 0
    raw["status"]["conditions"] = [
        {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"},
        {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"},
    ]
    finding = check_deployments([DeploymentRecord.from_raw(raw)])
    evidence = "icx/icx-db 1/1 available (0/1 updated) (rollout past its progress deadline)"
    assert state_evidence_fix(finding) == ("fail", evidence, DEPLOYMENT_FIX)


def test_deployments_scaled_to_zero_are_not_short() -> None:
    raw = healthy_deployment()
    raw["spec"]["replicas"] = 0
    raw["status"] = {"observedGeneration": 1}
    finding = check_deployments([DeploymentRecord.from_raw(raw)])
    assert state_evidence_fix(finding) == ("pass", "all deployments fully available", "")


# --- ingress: Scenario 4 ---------------------------------------------------------------------------------------
INGRESS_FIX = "restart the ingress controller (r on nginx-ingress-controller)"


def addressed_ingress() -> IngressRecord:
    raw = real_k8s_object("10_ingress__k9s_ing.json")
    raw["status"]["loadBalancer"] = {"ingress": [{"ip": "203.0.113.10"}]}  # once a controller took it
    return IngressRecord.from_raw(raw)


def in_ingress_namespace(raw: dict[str, Any]) -> PodRecord:
    moved = copy.deepcopy(raw)
    moved["metadata"]["namespace"] = "ingress-nginx"
    return PodRecord.from_raw(moved)


def ready_controller() -> PodRecord:
    raw = real_k8s_object("01_pod_oomkilled_restarted__kuberay_issue4356.converted.json")
    for status in raw["status"]["containerStatuses"]:
        status["ready"] = True  # the same pod once its restarted container is ready again
    return in_ingress_namespace(raw)


def test_ingress_passes_with_a_ready_controller_and_addressed_ingresses() -> None:
    controller = ready_controller()
    now = (controller.last_restart_at or 0.0) + HOUR_S
    finding = check_ingress(store_with(ingresses=[addressed_ingress()]), [controller], now)
    assert state_evidence_fix(finding) == ("pass", "controller ready, ingresses have addresses", "")
    assert finding.runbook == "Scenario 4: Network/Ingress Issues"


def test_ingress_fails_on_an_ingress_without_an_address() -> None:
    ingress = IngressRecord.from_raw(real_k8s_object("10_ingress__k9s_ing.json"))  # loadBalancer: {}
    controller = ready_controller()
    now = (controller.last_restart_at or 0.0) + HOUR_S
    finding = check_ingress(store_with(ingresses=[ingress]), [controller], now)
    assert state_evidence_fix(finding) == ("fail", "ingress test-ingress has no address", INGRESS_FIX)


def test_ingress_fails_on_a_crash_looping_controller() -> None:
    raw = real_k8s_object("01b_pod_crashloopbackoff__kubesphere_issue4920.converted.json")
    controller = in_ingress_namespace(raw)
    now = (controller.last_restart_at or 0.0) + HOUR_S
    finding = check_ingress(store_with(ingresses=[addressed_ingress()]), [controller], now)
    assert state_evidence_fix(finding) == ("fail", "redis-ha-haproxy-7d6d8885cc-rd7qd CrashLoopBackOff", INGRESS_FIX)


def test_ingress_is_unknown_without_controller_or_ingress() -> None:
    pod = PodRecord.from_raw(real_k8s_object("01b_pod_crashloopbackoff__kubesphere_issue4920.converted.json"))
    finding = check_ingress(store_with(), [pod], (pod.last_restart_at or 0.0) + HOUR_S)  # not in ingress-nginx
    assert state_evidence_fix(finding) == ("unknown", "no ingress controller or ingress seen", "")


# --- endpoints: "Check Network and Ingress" --------------------------------------------------------------------
ENDPOINTS_FIX = "the pods behind the service are not ready: see the pods pane"


def endpoints_of_nimify_api(*, ready: bool) -> EndpointsRecord:
    raw = real_k8s_object("10_endpoints__k9s_ep.json")
    raw["metadata"].update(name="nimify-api", namespace="nimify-system")
    if not ready:
        for subset in raw["subsets"]:
            subset["notReadyAddresses"] = subset.pop("addresses")
    return EndpointsRecord.from_raw(raw)


def test_endpoints_pass_with_a_ready_address() -> None:
    finding = check_endpoints(store_with(endpoints=[endpoints_of_nimify_api(ready=True)]))
    assert state_evidence_fix(finding) == ("pass", "ready endpoints: nimify-api 1", "")
    assert finding.runbook == "Check Network and Ingress"


def test_endpoints_fail_when_every_address_is_not_ready() -> None:
    finding = check_endpoints(store_with(endpoints=[endpoints_of_nimify_api(ready=False)]))
    assert state_evidence_fix(finding) == ("fail", "no ready endpoint behind nimify-system/nimify-api", ENDPOINTS_FIX)


def test_endpoints_of_other_services_leave_the_check_unknown() -> None:
    other = EndpointsRecord.from_raw(real_k8s_object("10_endpoints__k9s_ep.json"))  # ns-1/blee
    finding = check_endpoints(store_with(endpoints=[other]))
    assert state_evidence_fix(finding) == ("unknown", "endpoints not seen yet", "")


# --- GPUs: "Check GPU resources" ------------------------------------------------------------------------------
L4_XID_COUNTER_END = 'window_size_in_ms="300000"} 0'


def gpu_view(dcgm_text: str) -> GpuView:
    return merge_gpu_readings([GpuReading("dcgm", gpus_from_dcgm(parse_metrics(dcgm_text, at=0.0)))])


def test_gpus_pass_on_the_dcgm_capture_without_xid() -> None:
    finding = check_gpus(store_with(gpus=gpu_view(real_text("dcgm/dcgm_sample.txt"))))
    assert state_evidence_fix(finding) == ("pass", "1 GPUs, no XID error", "")
    assert finding.runbook == "Check GPU resources"


def test_gpus_fail_on_an_xid_error() -> None:
    capture = real_text("dcgm/dcgm_sample.txt")
    assert capture.count(L4_XID_COUNTER_END) == 1
    # the exporter's window counter once the driver reported XID 79 (the GPU fell off the bus)
    with_xid = capture.replace(L4_XID_COUNTER_END, 'window_size_in_ms="300000",xid="79"} 1')
    finding = check_gpus(store_with(gpus=gpu_view(with_xid)))
    assert state_evidence_fix(finding) == (
        "fail",
        "127.0.0.1 GPU 0 XID 79",
        "a GPU reported an XID error: drain/replace that node",
    )


def test_gpus_without_data_say_why() -> None:
    assert state_evidence_fix(check_gpus(store_with())) == ("unknown", "no GPU data yet", "")
    view = merge_gpu_readings([GpuReading("dcgm", error="DCGM exporter unreachable: connection refused")])
    evidence = (
        "no GPU data: DCGM exporter: DCGM exporter unreachable: connection refused; "
        "Triton metrics: not asked; local NVML: not asked"
    )
    assert state_evidence_fix(check_gpus(store_with(gpus=view))) == ("unknown", evidence, "")


# --- alerts: the runbook's rules as Prometheus evaluates them, or built in -------------------------------------
T0 = 1_800_000_000.0  # 2027-01-15 08:00:00 UTC
ALERTS_FIX = "the alert names the symptom: see the panes"


def quiet_alerts(source: AlertSource = "built-in") -> list[RuleState]:
    return [
        RuleState("NimifyAPIDown", "inactive", source, value=1.0, for_s=30.0),
        RuleState("NimifyHighErrorRate", "inactive", source, detail="no 5xx responses counted", for_s=120.0),
        RuleState("NimifyHighLatency", "inactive", source, value=0.08, for_s=300.0),
    ]


def test_no_evaluation_yet_means_no_alert_check() -> None:
    assert check_alerts(store_with()) is None


def test_alerts_pass_when_every_rule_is_inactive() -> None:
    finding = check_alerts(store_with(alerts=quiet_alerts("prometheus")))
    assert state_evidence_fix(finding) == ("pass", "3 runbook alerts inactive (Prometheus)", "")
    assert finding is not None and finding.runbook == "Prevention: monitoring alerts"


def test_alerts_fail_on_firing_and_pending_rules_with_since_when() -> None:
    firing = RuleState("NimifyHighErrorRate", "firing", "prometheus", T0 + 120, T0, 0.25, {}, "", 120.0)
    pending = RuleState("NimifyAPIDown", "pending", "built-in", T0 + 200, T0 + 200, 0.0, {"instance": "a"}, "", 30.0)
    finding = check_alerts(store_with(alerts=[pending, firing, quiet_alerts()[2]]))
    evidence = (
        "NimifyHighErrorRate firing since 08:02:00 UTC: 0.25 > 0.01 (Prometheus), "
        "NimifyAPIDown pending since 08:03:20 UTC (fires at 08:03:50 UTC): 0 == 0 (built in)"
    )
    assert state_evidence_fix(finding) == ("fail", evidence, ALERTS_FIX)
