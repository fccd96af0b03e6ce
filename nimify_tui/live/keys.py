"""What the store holds: one typed key per source, so that every reader is checked against the writer's type.

``RecordsKey`` names a kind of Kubernetes object kept by (namespace, name); ``ValueKey`` a single value that a
poller replaces whole on each poll. Values are immutable snapshots: a reader may keep one while the source moves on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from nimify_tui.gpu.merge import GpuView
    from nimify_tui.kube.metrics_api import Usage
    from nimify_tui.kube.records import (
        DeploymentRecord,
        EndpointsRecord,
        EventRecord,
        IngressRecord,
        NodeRecord,
        PodRecord,
        PVCRecord,
        ReplicaSetRecord,
        ServiceRecord,
    )
    from nimify_tui.metrics.alerts import AlertStatus
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

RECORDS: dict[str, RecordsKey[Any]] = {
    key.name: key for key in (PODS, EVENTS, NODES, SERVICES, ENDPOINTS, PVCS, DEPLOYMENTS, REPLICASETS, INGRESSES)
}

PROBES: ValueKey[tuple[ProbeResult, ...]] = ValueKey("probes")
TRITON: ValueKey[TritonView] = ValueKey("triton")  # absent: no Triton server answered yet
GPUS: ValueKey[GpuView] = ValueKey("gpus")
LATENCY: ValueKey[LatencyHistory] = ValueKey("latency")
POD_USAGE: ValueKey[dict[tuple[str, str], Usage]] = ValueKey("podmetrics")  # metrics.k8s.io, by (namespace, pod)
NODE_USAGE: ValueKey[dict[str, Usage]] = ValueKey("nodemetrics")  # metrics.k8s.io, by node
ALERTS: ValueKey[tuple[AlertStatus, ...]] = ValueKey("alerts")
