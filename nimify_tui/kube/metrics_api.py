"""metrics.k8s.io: CPU and memory in use per pod and per node (what `kubectl top` shows).

The API is optional (metrics-server may be missing) and may be forbidden: both are reported as "not available"
with the reason, never as a crash.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from nimify_tui.kube.client import KubeClient, decode_json
from nimify_tui.kube.errors import KubeError
from nimify_tui.kube.quantity import quantity_float

if TYPE_CHECKING:
    from nimify_tui.kube.pod_metrics_list import PodUsageTexts

METRICS_API = "/apis/metrics.k8s.io/v1beta1"


class MetricsUnavailable(Exception):
    """metrics.k8s.io is not served here, or is forbidden: the reason, shown as "not available"."""


@dataclass(frozen=True, slots=True)
class Usage:
    cpu_millicores: float
    memory_bytes: float


def _usage(usage: Mapping[str, Any]) -> Usage:
    return Usage(quantity_float(usage.get("cpu"), 1000) or 0.0, quantity_float(usage.get("memory")) or 0.0)


def _get(client: KubeClient, path: str) -> bytes:
    try:
        return client.request("GET", path)
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
        path = f"{METRICS_API}/namespaces/{namespace}/pods"
        for pod_namespace, name, usages in _pod_usages(_get(client, path), path, namespace):
            cpu = memory = 0.0
            for cpu_text, memory_text in usages:
                cpu += quantity_float(cpu_text, 1000) or 0.0
                memory += quantity_float(memory_text) or 0.0
            result[(pod_namespace, name)] = Usage(cpu, memory)
    return result


def _pod_usages(data: bytes, path: str, namespace: str) -> Iterator[PodUsageTexts]:
    """Each pod of a PodMetricsList: its namespace, name, and its containers' CPU and memory texts. Read along
    the few fields it needs when the list has the usual shape (see ``pod_metrics_list``); else as any JSON, field by
    field (a number for a quantity, a null, an item that is not an object)."""
    from nimify_tui.kube.pod_metrics_list import typed_pod_usages

    typed = typed_pod_usages(data, namespace)
    if typed is not None:
        yield from typed
        return
    body = decode_json(data, path)  # raises when it is not JSON at all
    for raw in _mapping(body).get("items") or []:
        item = _mapping(raw)
        meta = _mapping(item.get("metadata"))
        containers = item.get("containers")
        usages = (
            [_texts(_mapping(_mapping(c).get("usage"))) for c in containers] if isinstance(containers, list) else []
        )
        yield str(meta.get("namespace") or namespace), str(meta.get("name") or ""), usages


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def _texts(usage: Mapping[str, Any]) -> tuple[object, object]:
    return usage.get("cpu"), usage.get("memory")


def read_node_metrics(client: KubeClient) -> dict[str, Usage]:
    path = f"{METRICS_API}/nodes"
    body = decode_json(_get(client, path), path)
    return {
        str((item.get("metadata") or {}).get("name", "")): _usage(item.get("usage") or {})
        for item in body.get("items") or []
    }
