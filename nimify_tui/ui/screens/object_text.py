"""The describe and YAML of an event's object of a kind with no view of its own (a ReplicaSet, a claim, a
service...): where the API serves it, and a describe kubectl-like enough for triage (who it is, who owns it, its
conditions, its events). Secrets are never read."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from nimify_tui.kube.duration import age, parse_timestamp
from nimify_tui.kube.records import EventRecord
from nimify_tui.render.kubectl import event_row, event_sort_key
from nimify_tui.text import literal

# kind -> (API group path, resource, namespaced)
KIND_PATHS: Mapping[str, tuple[str, str, bool]] = {
    "ReplicaSet": ("/apis/apps/v1", "replicasets", True),
    "StatefulSet": ("/apis/apps/v1", "statefulsets", True),
    "DaemonSet": ("/apis/apps/v1", "daemonsets", True),
    "Job": ("/apis/batch/v1", "jobs", True),
    "CronJob": ("/apis/batch/v1", "cronjobs", True),
    "Service": ("/api/v1", "services", True),
    "Endpoints": ("/api/v1", "endpoints", True),
    "ConfigMap": ("/api/v1", "configmaps", True),
    "PersistentVolumeClaim": ("/api/v1", "persistentvolumeclaims", True),
    "PersistentVolume": ("/api/v1", "persistentvolumes", False),
    "Ingress": ("/apis/networking.k8s.io/v1", "ingresses", True),
    "NetworkPolicy": ("/apis/networking.k8s.io/v1", "networkpolicies", True),
    "HorizontalPodAutoscaler": ("/apis/autoscaling/v2", "horizontalpodautoscalers", True),
    "PodDisruptionBudget": ("/apis/policy/v1", "poddisruptionbudgets", True),
    "ResourceQuota": ("/api/v1", "resourcequotas", True),
}


def object_path(kind: str, namespace: str, name: str) -> str | None:
    """Where the API server serves the object; None for a kind not known here (or a Secret: never read)."""
    known = KIND_PATHS.get(kind)
    if known is None:
        return None
    group, resource, namespaced = known
    where = f"/namespaces/{namespace}" if namespaced and namespace else ""
    return f"{group}{where}/{resource}/{name}"


def describe_object(obj: Mapping[str, Any], events: Sequence[EventRecord], now: float) -> str:
    """Name, kind, labels, owner, age, its status conditions, and its events: plain text, shown literally."""
    meta: Mapping[str, Any] = obj.get("metadata") or {}
    lines: list[str] = []

    def field(key: str, value: object) -> None:
        shown = literal(str(value)) if value not in (None, "") else "<none>"
        lines.append(f"{key + ':':<22}{shown}")

    field("Name", meta.get("name"))
    if meta.get("namespace"):
        field("Namespace", meta.get("namespace"))
    field("Kind", obj.get("kind"))
    labels = meta.get("labels") or {}
    field("Labels", ", ".join(f"{k}={v}" for k, v in sorted(labels.items())))
    created = parse_timestamp(meta.get("creationTimestamp"))
    field("Created", f"{meta.get('creationTimestamp')} ({age(created, now)} ago)" if created else None)
    owners = [f"{o.get('kind')}/{o.get('name')}" for o in meta.get("ownerReferences") or [] if o.get("controller")]
    field("Controlled By", ", ".join(owners))
    status: Mapping[str, Any] = obj.get("status") or {}
    conditions = status.get("conditions") or []
    if conditions:
        lines.append("Conditions:")
        lines.append(f"  {'Type':<24} {'Status':<8} {'Reason':<24} Message")
        for condition in conditions:
            lines.append(
                f"  {literal(str(condition.get('type') or '')):<24} {literal(str(condition.get('status') or '')):<8} "
                f"{literal(str(condition.get('reason') or '')):<24} {literal(str(condition.get('message') or ''))}"
            )
    lines.append("Events:")
    if not events:
        lines.append("  <none>")
    else:
        lines.append(f"  {'Type':<8} {'Reason':<20} {'Age':<8} Message")
        for event in sorted(events, key=event_sort_key):
            row = event_row(event, now)
            lines.append(f"  {row.type:<8} {row.reason:<20} {row.last_seen:<8} {row.message}")
    lines.append("")
    lines.append("The YAML tab (y) has the whole object.")
    return "\n".join(lines)
