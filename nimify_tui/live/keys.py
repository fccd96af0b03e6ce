"""What the store holds: one typed key per source, so that every reader is checked against the writer's type.

``RecordsKey`` names a kind of Kubernetes object kept by (namespace, name); ``ValueKey`` a single value that a
poller replaces whole on each poll. Values are immutable snapshots: a reader may keep one while the source moves on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from collections.abc import Mapping

    from nimify_tui.gpu.merge import GpuView
    from nimify_tui.kube.certificates import CertificateInfo
    from nimify_tui.kube.kubelet_stats import VolumeUsage
    from nimify_tui.kube.log_signatures import LogSignature
    from nimify_tui.kube.metrics_api import Usage
    from nimify_tui.kube.records import (
        DeploymentRecord,
        EndpointsRecord,
        EventRecord,
        IngressRecord,
        NetworkPolicyRecord,
        NodeRecord,
        PodDisruptionBudgetRecord,
        PodRecord,
        PVCRecord,
        ReplicaSetRecord,
        ResourceQuotaRecord,
        ServiceRecord,
    )
    from nimify_tui.metrics.alert_states import RuleState
    from nimify_tui.metrics.api_latency import LatencyHistory
    from nimify_tui.probes import ProbeResult
    from nimify_tui.triton.poller import TritonView

R = TypeVar("R")
V = TypeVar("V")


@dataclass(frozen=True)
class RecordsKey(Generic[R]):
    """Records of one Kubernetes kind, by (namespace, name); ``name`` is the informer's kind ("pods", ...)."""

    name: str


@dataclass(frozen=True)
class ValueKey(Generic[V]):
    """One value, replaced whole by its source."""

    name: str


PODS: RecordsKey[PodRecord] = RecordsKey("pods")
EVENTS: RecordsKey[EventRecord] = RecordsKey("events")
NODES: RecordsKey[NodeRecord] = RecordsKey("nodes")
SERVICES: RecordsKey[ServiceRecord] = RecordsKey("services")
ENDPOINTS: RecordsKey[EndpointsRecord] = RecordsKey("endpoints")
PVCS: RecordsKey[PVCRecord] = RecordsKey("pvcs")
DEPLOYMENTS: RecordsKey[DeploymentRecord] = RecordsKey("deployments")
REPLICASETS: RecordsKey[ReplicaSetRecord] = RecordsKey("replicasets")
INGRESSES: RecordsKey[IngressRecord] = RecordsKey("ingresses")
NETWORK_POLICIES: RecordsKey[NetworkPolicyRecord] = RecordsKey("networkpolicies")
DISRUPTION_BUDGETS: RecordsKey[PodDisruptionBudgetRecord] = RecordsKey("poddisruptionbudgets")
QUOTAS: RecordsKey[ResourceQuotaRecord] = RecordsKey("resourcequotas")

RECORDS: dict[str, RecordsKey[Any]] = {
    key.name: key
    for key in (
        PODS,
        EVENTS,
        NODES,
        SERVICES,
        ENDPOINTS,
        PVCS,
        DEPLOYMENTS,
        REPLICASETS,
        INGRESSES,
        NETWORK_POLICIES,
        DISRUPTION_BUDGETS,
        QUOTAS,
    )
}

PROBES: ValueKey[tuple[ProbeResult, ...]] = ValueKey("probes")
TRITON: ValueKey[TritonView] = ValueKey("triton")  # absent: no Triton server answered yet
GPUS: ValueKey[GpuView] = ValueKey("gpus")
LATENCY: ValueKey[LatencyHistory] = ValueKey("latency")
POD_USAGE: ValueKey[dict[tuple[str, str], Usage]] = ValueKey("podmetrics")  # metrics.k8s.io, by (namespace, pod)
NODE_USAGE: ValueKey[dict[str, Usage]] = ValueKey("nodemetrics")  # metrics.k8s.io, by node
# the runbook's three alert rules, in their order: each one's state (inactive, pending, firing), since when, its
# value and its source (Prometheus' own rules when it has them loaded, else evaluated built in)
ALERT_STATES: ValueKey[tuple[RuleState, ...]] = ValueKey("alert-states")
# the previous log of each restarted container, scanned for known causes: by (namespace, pod, container)
LOG_SIGNATURES: ValueKey[Mapping[tuple[str, str, str], LogSignature]] = ValueKey("log-signatures")
# each claim's volume use from the kubelets' summaries: by (namespace, claim)
PVC_USAGE: ValueKey[Mapping[tuple[str, str], VolumeUsage]] = ValueKey("pvc-usage")
# the certificate each ingress serves, from its TLS Secret's tls.crt: by (namespace, secret)
TLS_CERTIFICATES: ValueKey[Mapping[tuple[str, str], CertificateInfo]] = ValueKey("tls-certificates")
