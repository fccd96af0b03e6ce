"""`kubectl describe`-like text for pods, deployments and nodes, from raw objects (plain text, no markup).

It answers the triage questions first: which container, in which state, why it last died (reason and exit code),
what it may use (limits/requests), how it is probed, where it runs, and what happened to it (its events).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import yaml

from nimify_tui.kube.allocation import NodeAllocation
from nimify_tui.kube.duration import age, parse_timestamp
from nimify_tui.kube.records import (
    DeploymentRecord,
    EventRecord,
    NodeRecord,
    ObjectRecord,
    PodRecord,
    ReplicaSetRecord,
    readable_object,
)
from nimify_tui.render.kubectl import event_row, event_sort_key
from nimify_tui.text import literal

_EMPTY: Mapping[str, Any] = {}


def _kv(lines: list[str], indent: int, key: str, value: object, width: int = 22) -> None:
    lines.append(f"{' ' * indent}{key + ':':<{width}}{literal(str(value)) if value not in (None, '') else '<none>'}")


def _labels(mapping: Mapping[str, Any] | None) -> str:
    if not mapping:
        return "<none>"
    return ", ".join(f"{k}={v}" for k, v in sorted(mapping.items()))


def _state_lines(lines: list[str], title: str, state: Mapping[str, Any], now: float) -> None:
    if not state:
        return
    kind, detail = next(iter(state.items()))
    lines.append(f"    {title + ':':<22}{kind.capitalize()}")
    detail = detail or {}
    labels = {"reason": "Reason", "message": "Message", "exitCode": "Exit Code", "signal": "Signal"}
    for key, label in labels.items():  # kubectl describe's names; values line up with the fields above
        if detail.get(key) not in (None, ""):
            _kv(lines, 6, label, detail[key], width=20)
    for key, label in (("startedAt", "Started"), ("finishedAt", "Finished")):
        stamp = parse_timestamp(detail.get(key))
        if stamp is not None:
            _kv(lines, 6, label, f"{detail[key]} ({age(stamp, now)} ago)", width=20)


def _probe(probe: Mapping[str, Any] | None) -> str:
    if not probe:
        return "<none>"
    if "httpGet" in probe:
        get = probe["httpGet"]
        target = f"http-get {get.get('scheme', 'HTTP').lower()}://:{get.get('port')}{get.get('path', '/')}"
    elif "tcpSocket" in probe:
        target = f"tcp-socket :{probe['tcpSocket'].get('port')}"
    elif "exec" in probe:
        target = "exec " + " ".join(probe["exec"].get("command") or [])
    elif "grpc" in probe:
        target = f"grpc :{probe['grpc'].get('port')}"
    else:
        target = "?"
    return (
        f"{target} delay={probe.get('initialDelaySeconds', 0)}s timeout={probe.get('timeoutSeconds', 1)}s "
        f"period={probe.get('periodSeconds', 10)}s #success={probe.get('successThreshold', 1)} "
        f"#failure={probe.get('failureThreshold', 3)}"
    )


def _resources(lines: list[str], resources: Mapping[str, Any] | None) -> None:
    for part in ("limits", "requests"):
        values = (resources or {}).get(part) or {}
        if values:
            lines.append(f"    {part.capitalize()}:")
            for name, value in sorted(values.items()):
                lines.append(f"      {name}: {value}")


def _events(lines: list[str], events: Sequence[EventRecord], now: float) -> None:
    lines.append("Events:")
    if not events:
        lines.append("  <none>")
        return
    lines.append(f"  {'Type':<8} {'Reason':<20} {'Age':<8} {'From':<20} Message")
    for event in sorted(events, key=event_sort_key):
        row = event_row(event, now)
        count = f" (x{event.count} over {age(event.first_seen, now)})" if event.count > 1 else ""
        lines.append(
            f"  {row.type:<8} {row.reason:<20} {row.last_seen:<8} {literal(event.source):<20} {row.message}{count}"
        )


def _env_source(value_from: Mapping[str, Any]) -> str:
    """Where an environment value comes from, as kubectl describe says it: a reference, never the value."""
    if ref := value_from.get("secretKeyRef"):
        return f"<set to the key '{ref.get('key')}' in secret '{ref.get('name')}'>  Optional: {_optional(ref)}"
    if ref := value_from.get("configMapKeyRef"):
        return f"<set to the key '{ref.get('key')}' of config map '{ref.get('name')}'>  Optional: {_optional(ref)}"
    if ref := value_from.get("fieldRef"):
        return f"({ref.get('apiVersion', 'v1')}:{ref.get('fieldPath')})"
    if ref := value_from.get("resourceFieldRef"):
        return f"{ref.get('resource')}"
    return f"<set from {next(iter(value_from), '?')}>"


def _optional(ref: Mapping[str, Any]) -> str:
    return "true" if ref.get("optional") else "false"


def _readable(
    obj: Mapping[str, Any], record_class: type[ObjectRecord], record: ObjectRecord | None = None
) -> tuple[Mapping[str, Any], list[str]]:
    """The object as far as it can be read, and the lines that say what could not be (an ``Unreadable:``
    section, the cluster's text shown literally; none for a well-formed object). ``record``: the object's record,
    when decoded already (a well-formed object is not decoded again)."""
    if record is not None and not record.unreadable:
        return obj, []
    readable, unreadable = readable_object(dict(obj), record_class)
    if not unreadable:
        return obj, []
    return readable, ["Unreadable:", *(f"  {literal(note)}" for note in unreadable)]


def describe_pod(
    pod: Mapping[str, Any], events: Sequence[EventRecord], now: float, *, record: PodRecord | None = None
) -> str:
    """``record``: the pod's record, when the caller has decoded it already."""
    record = record if record is not None else PodRecord.from_raw(dict(pod))
    pod, unreadable = _readable(pod, PodRecord, record)
    meta = pod.get("metadata") or _EMPTY
    spec = pod.get("spec") or _EMPTY
    status = pod.get("status") or _EMPTY
    lines: list[str] = []
    _kv(lines, 0, "Name", meta.get("name"))
    _kv(lines, 0, "Namespace", meta.get("namespace"))
    _kv(
        lines,
        0,
        "Node",
        f"{spec.get('nodeName', '')}/{status.get('hostIP', '')}" if spec.get("nodeName") else None,
    )
    _kv(lines, 0, "Start Time", status.get("startTime"))
    _kv(lines, 0, "Labels", _labels(meta.get("labels")))
    _kv(lines, 0, "Status", record.status)
    if status.get("reason") or status.get("message"):
        _kv(lines, 0, "Reason", status.get("reason"))
        _kv(lines, 0, "Message", status.get("message"))
    _kv(lines, 0, "IP", status.get("podIP"))
    owners = meta.get("ownerReferences") or []
    _kv(lines, 0, "Controlled By", ", ".join(f"{o.get('kind')}/{o.get('name')}" for o in owners) or None)
    statuses = {c.get("name"): c for c in (status.get("initContainerStatuses") or [])}
    statuses.update({c.get("name"): c for c in (status.get("containerStatuses") or [])})
    for title, containers in (
        ("Init Containers", spec.get("initContainers")),
        ("Containers", spec.get("containers")),
    ):
        if not containers:
            continue
        lines.append(f"{title}:")
        for container in containers:
            cs = statuses.get(container.get("name")) or _EMPTY
            lines.append(f"  {literal(str(container.get('name')))}:")
            _kv(lines, 4, "Image", container.get("image"))
            ports = ", ".join(
                f"{p.get('containerPort')}/{p.get('protocol', 'TCP')}" for p in container.get("ports") or []
            )
            _kv(lines, 4, "Ports", ports or None)
            _state_lines(lines, "State", cs.get("state") or _EMPTY, now)
            _state_lines(lines, "Last State", cs.get("lastState") or _EMPTY, now)
            _kv(lines, 4, "Ready", cs.get("ready", False))
            _kv(lines, 4, "Restart Count", cs.get("restartCount", 0))
            _resources(lines, container.get("resources"))
            _kv(lines, 4, "Liveness", _probe(container.get("livenessProbe")))
            _kv(lines, 4, "Readiness", _probe(container.get("readinessProbe")))
            env = container.get("env") or []
            if env:
                lines.append("    Environment:")
                for item in env:
                    if "value" in item:
                        lines.append(f"      {item.get('name')}: {literal(str(item['value']))}")
                    else:
                        lines.append(f"      {item.get('name')}: {literal(_env_source(item.get('valueFrom') or {}))}")
    lines.append("Conditions:")
    lines.append(f"  {'Type':<28} Status")
    for condition in status.get("conditions") or []:
        reason = f" ({condition.get('reason')}: {condition.get('message', '')})" if condition.get("reason") else ""
        lines.append(f"  {condition.get('type', ''):<28} {condition.get('status', '')}{literal(reason)}")
    volumes = spec.get("volumes") or []
    if volumes:
        lines.append("Volumes:")
        for volume in volumes:
            kinds = [k for k in volume if k != "name"]
            detail = kinds[0] if kinds else "?"
            claim = (volume.get("persistentVolumeClaim") or {}).get("claimName")
            lines.append(f"  {volume.get('name')}: {detail}" + (f" (claim {claim})" if claim else ""))
    lines += unreadable
    _events(lines, events, now)
    return "\n".join(lines)


def describe_deployment(
    deployment: Mapping[str, Any],
    replicasets: Sequence[ReplicaSetRecord],
    events: Sequence[EventRecord],
    now: float,
) -> str:
    deployment, unreadable = _readable(deployment, DeploymentRecord)
    meta = deployment.get("metadata") or _EMPTY
    spec = deployment.get("spec") or _EMPTY
    status = deployment.get("status") or _EMPTY
    lines: list[str] = []
    _kv(lines, 0, "Name", meta.get("name"))
    _kv(lines, 0, "Namespace", meta.get("namespace"))
    _kv(lines, 0, "Selector", _labels((spec.get("selector") or {}).get("matchLabels")))
    _kv(
        lines,
        0,
        "Replicas",
        f"{spec.get('replicas', 1)} desired | {status.get('updatedReplicas', 0)} updated | "
        f"{status.get('replicas', 0)} total | {status.get('availableReplicas', 0)} available | "
        f"{status.get('unavailableReplicas', 0)} unavailable",
    )
    _kv(lines, 0, "StrategyType", (spec.get("strategy") or {}).get("type", "RollingUpdate"))
    _kv(lines, 0, "Paused", bool(spec.get("paused")))
    template = (spec.get("template") or {}).get("spec") or {}
    lines.append("Pod Template:")
    for container in template.get("containers") or []:
        lines.append(f"  {container.get('name')}:")
        _kv(lines, 4, "Image", container.get("image"))
        _resources(lines, container.get("resources"))
    lines.append("Conditions:")
    for condition in status.get("conditions") or []:
        lines.append(
            f"  {condition.get('type', ''):<16} {condition.get('status', ''):<6} {condition.get('reason', '')}: "
            f"{literal(str(condition.get('message', '')))}"
        )
    lines.append("Rollout history:")
    lines.extend("  " + line for line in rollout_history_lines(replicasets))
    lines += unreadable
    _events(lines, events, now)
    return "\n".join(lines)


def rollout_history_lines(replicasets: Iterable[ReplicaSetRecord]) -> list[str]:
    """REVISION, CHANGE-CAUSE as `kubectl rollout history` prints them, plus each revision's images and pods."""
    history = sorted((rs for rs in replicasets if rs.revision is not None), key=lambda rs: rs.revision or 0)
    if not history:
        return ["no rollout history found"]
    lines = [f"{'REVISION':<10}{'CHANGE-CAUSE':<40}{'REPLICAS':<10}IMAGES"]
    for rs in history:
        cause = literal(rs.change_cause) or "<none>"
        lines.append(f"{rs.revision!s:<10}{cause:<40}{f'{rs.ready}/{rs.desired}':<10}{', '.join(rs.images)}")
    return lines


def allocated_resources_lines(allocation: NodeAllocation, note: str = "") -> list[str]:
    """kubectl's "Allocated resources" section: a table aligned as its tabwriter does (two spaces between columns);
    ``note`` says when the pods counted are not all of the node's."""
    lines = ["Allocated resources:", "  (Total limits may be over 100 percent, i.e., overcommitted.)"]
    if note:
        lines.append(f"  ({literal(note)})")
    rows = [("Resource", "Requests", "Limits"), ("--------", "--------", "------")]
    rows += [(a.resource, a.text("requests"), a.text("limits")) for a in allocation.resources]
    widths = [max(len(row[column]) for row in rows) + 2 for column in range(2)]
    lines += [f"  {row[0]:<{widths[0]}}{row[1]:<{widths[1]}}{row[2]}" for row in rows]
    return lines


def describe_node(
    node: Mapping[str, Any],
    pods_on_node: Sequence[str],
    now: float,
    allocation: NodeAllocation | None = None,
    allocation_note: str = "",
) -> str:
    node, unreadable = _readable(node, NodeRecord)
    meta = node.get("metadata") or _EMPTY
    spec = node.get("spec") or _EMPTY
    status = node.get("status") or _EMPTY
    lines: list[str] = []
    _kv(lines, 0, "Name", meta.get("name"))
    _kv(
        lines,
        0,
        "Roles",
        ",".join(k.split("/", 1)[1] for k in (meta.get("labels") or {}) if k.startswith("node-role.kubernetes.io/"))
        or None,
    )
    _kv(lines, 0, "Labels", _labels(meta.get("labels")))
    _kv(lines, 0, "Unschedulable", bool(spec.get("unschedulable")))
    taints = ", ".join(f"{t.get('key')}={t.get('value', '')}:{t.get('effect')}" for t in spec.get("taints") or [])
    _kv(lines, 0, "Taints", taints or None)
    lines.append("Conditions:")
    lines.append(f"  {'Type':<20} {'Status':<8} {'LastTransition':<12} Reason / Message")
    for condition in status.get("conditions") or []:
        since = parse_timestamp(condition.get("lastTransitionTime"))
        lines.append(
            f"  {condition.get('type', ''):<20} {condition.get('status', ''):<8} {age(since, now) + ' ago':<12} "
            f"{condition.get('reason', '')}: {literal(str(condition.get('message', '')))}"
        )
    for part in ("capacity", "allocatable"):
        lines.append(f"{part.capitalize()}:")
        for name, value in sorted((status.get(part) or {}).items()):
            lines.append(f"  {name}: {value}")
    info = status.get("nodeInfo") or {}
    _kv(lines, 0, "Kubelet Version", info.get("kubeletVersion"))
    lines.append(f"Pods on this node ({len(pods_on_node)}):")
    lines.extend(f"  {literal(name)}" for name in pods_on_node)
    if allocation is not None:
        lines += allocated_resources_lines(allocation, allocation_note)
    lines += unreadable
    return "\n".join(lines)


def object_yaml(obj: Mapping[str, Any]) -> str:
    """The object as YAML without managedFields (noise in a triage view); never used for Secrets."""
    meta = dict(obj.get("metadata") or {})
    meta.pop("managedFields", None)
    clean = {**obj, "metadata": meta}
    return yaml.safe_dump(clean, sort_keys=False, default_flow_style=False, allow_unicode=True, width=200)
