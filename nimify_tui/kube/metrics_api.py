"""metrics.k8s.io: CPU and memory in use per pod and per node (what `kubectl top` shows).

The API is optional (metrics-server may be missing) and may be forbidden: both are reported as "not available"
with the reason, never as a crash.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from nimify_tui.kube.client import KubeClient
from nimify_tui.kube.errors import KubeError
from nimify_tui.kube.quantity import quantity_float

METRICS_API = "/apis/metrics.k8s.io/v1beta1"


class MetricsUnavailable(Exception):
    """metrics.k8s.io is not served here, or is forbidden: the reason, shown as "not available"."""


@dataclass(frozen=True, slots=True)
class Usage:
    cpu_millicores: float
    memory_bytes: float


def _usage(usage: Mapping[str, Any]) -> Usage:
    return Usage(quantity_float(usage.get("cpu"), 1000) or 0.0, quantity_float(usage.get("memory")) or 0.0)


def _get(client: KubeClient, path: str) -> Any:
    try:
        return client.get_json(path)
    except KubeError as exc:
        if exc.status == 404:
            raise MetricsUnavailable(
                "metrics not available (metrics.k8s.io is not served: no metrics-server?)"
            ) from exc
        if exc.status == 403:
            raise MetricsUnavailable(f"metrics not available: forbidden ({exc.message})") from exc
        raise


def read_pod_metrics(client: KubeClient, namespaces: Iterable[str]) -> dict[tuple[str, str], Usage]:
    """Usage per (namespace, pod): the sum over its containers."""
    result: dict[tuple[str, str], Usage] = {}
    for namespace in namespaces:
        body = _get(client, f"{METRICS_API}/namespaces/{namespace}/pods")
        for item in body.get("items") or []:
            meta = item.get("metadata") or {}
            cpu = memory = 0.0
            for container in item.get("containers") or []:
                usage = _usage(container.get("usage") or {})
                cpu += usage.cpu_millicores
                memory += usage.memory_bytes
            result[(str(meta.get("namespace", namespace)), str(meta.get("name", "")))] = Usage(cpu, memory)
    return result


def read_node_metrics(client: KubeClient) -> dict[str, Usage]:
    body = _get(client, f"{METRICS_API}/nodes")
    return {
        str((item.get("metadata") or {}).get("name", "")): _usage(item.get("usage") or {})
        for item in body.get("items") or []
    }
