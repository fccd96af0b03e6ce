"""Server-side ``meta.k8s.io/v1`` Tables, as the API server prints them for ``kubectl get``: column
definitions and one row of cells per object, for pods, deployments, nodes, events, services, endpoints,
secrets and claims, and NAME/AGE for every other kind."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from nimify_tui.sim.k8s.objects import parse_time

Obj = dict[str, Any]
NONE = "<none>"
_NAME_DESCRIPTION = "Name must be unique within a namespace."
_AGE_DESCRIPTION = "CreationTimestamp is a timestamp representing the server time when this object was created."
_ACCESS_MODES = {
    "ReadWriteOnce": "RWO",
    "ReadOnlyMany": "ROX",
    "ReadWriteMany": "RWX",
    "ReadWriteOncePod": "RWOP",
}


@dataclass(frozen=True)
class Column:
    """One column definition; priority 1 columns show only with ``-o wide``."""

    name: str
    description: str
    type: str = "string"
    format: str = ""
    priority: int = 0

    def definition(self) -> Obj:
        return {
            "name": self.name,
            "type": self.type,
            "format": self.format,
            "description": self.description,
            "priority": self.priority,
        }


def table_version(accept: str) -> str:
    """The meta.k8s.io version of Table that an Accept header asks for, or "" when it asks for none."""
    for media_range in accept.split(","):
        params = {}
        for part in media_range.split(";")[1:]:
            key, _, value = part.strip().partition("=")
            params[key] = value
        if params.get("as") == "Table" and params.get("g") == "meta.k8s.io" and params.get("v") in ("v1", "v1beta1"):
            return params["v"]
    return ""


def human_duration(seconds: float) -> str:
    """apimachinery's HumanDuration."""
    if seconds < -1:
        return "<invalid>"
    if seconds < 0:
        return "0s"
    whole = int(seconds)
    if whole < 120:
        return f"{whole}s"
    minutes = whole // 60
    if minutes < 10:
        rest = whole % 60
        return f"{minutes}m{rest}s" if rest else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    hours = minutes // 60
    if hours < 8:
        rest = minutes % 60
        return f"{hours}h{rest}m" if rest else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    days = hours // 24
    if hours < 24 * 8:
        rest = hours % 24
        return f"{days}d{rest}h" if rest else f"{days}d"
    if hours < 24 * 365 * 2:
        return f"{days}d"
    years = days // 365
    if hours < 24 * 365 * 8:
        rest = days % 365
        return f"{years}y{rest}d" if rest else f"{years}y"
    return f"{years}y"


def _since(stamp: str | None, now: float) -> str:
    return human_duration(now - parse_time(stamp)) if stamp else "<unknown>"


def _age(obj: Obj, now: float) -> str:
    return _since(obj["metadata"].get("creationTimestamp"), now)


# --- pods ---------------------------------------------------------------------------------------


def _pod_cells(pod: Obj, now: float) -> list[Any]:
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    init_specs = spec.get("initContainers") or []
    sidecars = {c["name"] for c in init_specs if c.get("restartPolicy") == "Always"}
    total = len(spec.get("containers") or []) + len(sidecars)
    ready = restarts = sidecar_restarts = 0
    last_restart = sidecar_last_restart = 0.0
    reason = status.get("reason") or status.get("phase") or ""
    conditions = {c.get("type"): c for c in status.get("conditions") or []}
    if (conditions.get("PodScheduled") or {}).get("reason") == "SchedulingGated":
        reason = "SchedulingGated"
    initializing = False
    for index, container in enumerate(status.get("initContainerStatuses") or []):
        restarts += container.get("restartCount", 0)
        finished = _finished_at(container)
        last_restart = max(last_restart, finished)
        state = container.get("state") or {}
        terminated, waiting = state.get("terminated"), state.get("waiting")
        if container["name"] in sidecars:
            sidecar_restarts += container.get("restartCount", 0)
            sidecar_last_restart = max(sidecar_last_restart, finished)
            if container.get("started"):
                ready += 1 if container.get("ready") else 0
                continue
        if terminated is not None and terminated.get("exitCode", 0) == 0:
            continue
        initializing = True
        if terminated is not None:
            reason = "Init:" + (terminated.get("reason") or _exit_text(terminated))
        elif waiting is not None and waiting.get("reason") and waiting["reason"] != "PodInitializing":
            reason = "Init:" + waiting["reason"]
        else:
            reason = f"Init:{index}/{len(init_specs)}"
        break
    if not initializing or (conditions.get("Initialized") or {}).get("status") == "True":
        restarts, last_restart = sidecar_restarts, sidecar_last_restart
        has_running = False
        for container in reversed(status.get("containerStatuses") or []):
            restarts += container.get("restartCount", 0)
            last_restart = max(last_restart, _finished_at(container))
            state = container.get("state") or {}
            terminated, waiting = state.get("terminated"), state.get("waiting")
            if waiting is not None and waiting.get("reason"):
                reason = waiting["reason"]
            elif terminated is not None:
                reason = terminated.get("reason") or _exit_text(terminated)
            elif container.get("ready") and "running" in state:
                has_running = True
                ready += 1
        if reason == "Completed" and has_running:
            reason = "Running" if (conditions.get("Ready") or {}).get("status") == "True" else "NotReady"
    if pod["metadata"].get("deletionTimestamp"):
        if status.get("reason") == "NodeLost":
            reason = "Unknown"
        elif status.get("phase") not in ("Failed", "Succeeded"):
            reason = "Terminating"
    restart_text = str(restarts)
    if restarts and last_restart:
        restart_text = f"{restarts} ({human_duration(now - last_restart)} ago)"
    gates = spec.get("readinessGates") or []
    if gates:
        true_types = {c for c, found in conditions.items() if found.get("status") == "True"}
        gates_text = f"{sum(1 for g in gates if g.get('conditionType') in true_types)}/{len(gates)}"
    else:
        gates_text = NONE
    return [
        pod["metadata"]["name"],
        f"{ready}/{total}",
        reason,
        restart_text,
        _age(pod, now),
        status.get("podIP") or NONE,
        spec.get("nodeName") or NONE,
        status.get("nominatedNodeName") or NONE,
        gates_text,
    ]


def _finished_at(container: Obj) -> float:
    terminated = (container.get("lastState") or {}).get("terminated") or {}
    stamp = terminated.get("finishedAt")
    return parse_time(stamp) if stamp else 0.0


def _exit_text(terminated: Obj) -> str:
    if terminated.get("signal"):
        return f"Signal:{terminated['signal']}"
    return f"ExitCode:{terminated.get('exitCode', 0)}"


_POD_COLUMNS = (
    Column("Ready", "The aggregate readiness state of this pod for accepting traffic."),
    Column("Status", "The aggregate status of the containers in this pod."),
    Column("Restarts", "The number of times the containers in this pod have been restarted."),
    Column("Age", _AGE_DESCRIPTION),
    Column("IP", "IP address allocated to the pod. Routable at least within the cluster.", priority=1),
    Column("Node", "Name of the node where this pod runs.", priority=1),
    Column("Nominated Node", "Node the scheduler nominated to run this pod.", priority=1),
    Column("Readiness Gates", "Readiness gates that are true, out of all gates.", priority=1),
)


# --- workloads, nodes, events, services, claims -------------------------------------------------


def _selector_text(selector: Obj | None) -> str:
    """A label selector as ``key=value,key in (a,b)``."""
    if not selector:
        return NONE
    parts = [f"{key}={value}" for key, value in sorted((selector.get("matchLabels") or {}).items())]
    for expression in selector.get("matchExpressions") or []:
        key, operator = expression["key"], expression["operator"]
        values = ",".join(sorted(expression.get("values") or []))
        if operator == "In":
            parts.append(f"{key} in ({values})")
        elif operator == "NotIn":
            parts.append(f"{key} notin ({values})")
        elif operator == "Exists":
            parts.append(key)
        else:
            parts.append(f"!{key}")
    return ",".join(parts) or NONE


def _deployment_cells(deployment: Obj, now: float) -> list[Any]:
    spec, status = deployment.get("spec") or {}, deployment.get("status") or {}
    containers = (spec.get("template") or {}).get("spec", {}).get("containers") or []
    return [
        deployment["metadata"]["name"],
        f"{status.get('readyReplicas', 0)}/{spec.get('replicas', 1)}",
        status.get("updatedReplicas", 0),
        status.get("availableReplicas", 0),
        _age(deployment, now),
        ",".join(c["name"] for c in containers),
        ",".join(c.get("image", "") for c in containers),
        _selector_text(spec.get("selector")),
    ]


_DEPLOYMENT_COLUMNS = (
    Column("Ready", "Number of the pod with ready state"),
    Column(
        "Up-to-date",
        "Total number of non-terminated pods targeted by this deployment that have the desired template spec.",
        type="integer",
    ),
    Column("Available", "Total number of available pods targeted by this deployment.", type="integer"),
    Column("Age", _AGE_DESCRIPTION),
    Column("Containers", "Names of each container in the template.", priority=1),
    Column("Images", "Images referenced by each container in the template.", priority=1),
    Column("Selector", "Label selector for pods.", priority=1),
)


def _node_cells(node: Obj, now: float) -> list[Any]:
    spec, status = node.get("spec") or {}, node.get("status") or {}
    ready = next((c for c in status.get("conditions") or [] if c.get("type") == "Ready"), None)
    states = ["Unknown" if ready is None else "Ready" if ready.get("status") == "True" else "NotReady"]
    if spec.get("unschedulable"):
        states.append("SchedulingDisabled")
    labels = node["metadata"].get("labels") or {}
    roles = sorted(
        {key.removeprefix("node-role.kubernetes.io/") for key in labels if key.startswith("node-role.kubernetes.io/")}
        | ({labels["kubernetes.io/role"]} if labels.get("kubernetes.io/role") else set())
    )
    addresses = status.get("addresses") or []
    info = status.get("nodeInfo") or {}

    def address(kind: str) -> str:
        return next((a["address"] for a in addresses if a.get("type") == kind), NONE)

    return [
        node["metadata"]["name"],
        ",".join(states),
        ",".join(roles) or NONE,
        _age(node, now),
        info.get("kubeletVersion", ""),
        address("InternalIP"),
        address("ExternalIP"),
        info.get("osImage", "<unknown>"),
        info.get("kernelVersion", "<unknown>"),
        info.get("containerRuntimeVersion", "<unknown>"),
    ]


_NODE_COLUMNS = (
    Column("Status", "The status of the node"),
    Column("Roles", "The roles of the node"),
    Column("Age", _AGE_DESCRIPTION),
    Column("Version", "Kubelet Version reported by the node."),
    Column("Internal-IP", "List of addresses reachable to the node.", priority=1),
    Column("External-IP", "List of addresses reachable to the node.", priority=1),
    Column("OS-Image", "OS Image reported by the node from /etc/os-release.", priority=1),
    Column("Kernel-Version", "Kernel Version reported by the node from 'uname -r'.", priority=1),
    Column("Container-Runtime", "Container runtime version reported by the node.", priority=1),
)


def _event_cells(event: Obj, now: float) -> list[Any]:
    first = event.get("firstTimestamp") or event.get("eventTime")
    last = event.get("lastTimestamp") or first
    series = event.get("series") or {}
    if series.get("lastObservedTime"):
        first, last = event.get("eventTime") or first, series["lastObservedTime"]
    involved = event.get("involvedObject") or {}
    source = event.get("source") or {}
    component = source.get("component") or event.get("reportingComponent") or ""
    host = source.get("host") or event.get("reportingInstance") or ""
    return [
        _since(last, now),
        event.get("type", ""),
        event.get("reason", ""),
        f"{str(involved.get('kind', '')).lower()}/{involved.get('name', '')}",
        involved.get("fieldPath", ""),
        f"{component}, {host}" if host else component,
        str(event.get("message", "")).strip(),
        _since(first, now),
        event.get("count", 1),
        event["metadata"]["name"],
    ]


_EVENT_COLUMNS = (
    Column("Last Seen", "The time since the event was last seen."),
    Column("Type", "Type of this event (Normal, Warning)."),
    Column("Reason", "The reason for the transition into the object's current status."),
    Column("Object", "The object this event is about."),
    Column("Subobject", "The part of the object this event is about.", priority=1),
    Column("Source", "The component reporting this event.", priority=1),
    Column("Message", "A human-readable description of the status of this operation."),
    Column("First Seen", "The time since the event was first seen.", priority=1),
    Column("Count", "The number of times this event has occurred.", type="integer", priority=1),
    Column("Name", _NAME_DESCRIPTION, format="name", priority=1),
)


def _service_cells(service: Obj, now: float) -> list[Any]:
    spec, status = service.get("spec") or {}, service.get("status") or {}
    kind = spec.get("type", "ClusterIP")
    external = list(spec.get("externalIPs") or [])
    if kind == "LoadBalancer":
        ingress = (status.get("loadBalancer") or {}).get("ingress") or []
        external += [entry.get("ip") or entry.get("hostname", "") for entry in ingress]
        external_text = ",".join(external) or "<pending>"
    elif kind == "ExternalName":
        external_text = spec.get("externalName", "")
    else:
        external_text = ",".join(external) or NONE
    ports = []
    for port in spec.get("ports") or []:
        node_port = f":{port['nodePort']}" if port.get("nodePort") else ""
        ports.append(f"{port['port']}{node_port}/{port.get('protocol', 'TCP')}")
    selector = spec.get("selector") or {}
    return [
        service["metadata"]["name"],
        kind,
        spec.get("clusterIP") or NONE,
        external_text,
        ",".join(ports) or NONE,
        _age(service, now),
        ",".join(f"{k}={v}" for k, v in sorted(selector.items())) or NONE,
    ]


_SERVICE_COLUMNS = (
    Column("Type", "The type of the service."),
    Column("Cluster-IP", "The IP address of the service, usually assigned randomly."),
    Column("External-IP", "The list of external IP addresses of the service."),
    Column("Port(s)", "The list of ports exposed by the service."),
    Column("Age", _AGE_DESCRIPTION),
    Column("Selector", "Route service traffic to pods with label keys and values matching this selector.", priority=1),
)


def _endpoints_text(endpoints: Obj) -> str:
    """The ready addresses, ``ip:port`` for each port, the first three then ``+ N more...``."""
    subsets = endpoints.get("subsets") or []
    if not subsets:
        return NONE
    shown: list[str] = []
    count = 0
    for subset in subsets:
        addresses = [address["ip"] for address in subset.get("addresses") or []]
        ports = [port["port"] for port in subset.get("ports") or []]
        pairs = [f"{ip}:{port}" for port in ports for ip in addresses] if ports else addresses
        count += len(pairs)
        shown += pairs[: max(0, 3 - len(shown))]
    return ",".join(shown) + (f" + {count - len(shown)} more..." if count > len(shown) else "")


def _endpoints_cells(endpoints: Obj, now: float) -> list[Any]:
    return [endpoints["metadata"]["name"], _endpoints_text(endpoints), _age(endpoints, now)]


_ENDPOINTS_COLUMNS = (
    Column("Endpoints", "The ready addresses of the service, with their ports."),
    Column("Age", _AGE_DESCRIPTION),
)


def _secret_cells(secret: Obj, now: float) -> list[Any]:
    return [secret["metadata"]["name"], secret.get("type", ""), len(secret.get("data") or {}), _age(secret, now)]


_SECRET_COLUMNS = (
    Column("Type", "Used to facilitate programmatic handling of secret data."),
    Column("Data", "The number of data entries."),
    Column("Age", _AGE_DESCRIPTION),
)


def _claim_cells(claim: Obj, now: float) -> list[Any]:
    spec, status = claim.get("spec") or {}, claim.get("status") or {}
    phase = "Terminating" if claim["metadata"].get("deletionTimestamp") else status.get("phase", "")
    bound = bool(spec.get("volumeName"))
    modes = status.get("accessModes") or [] if bound else []
    return [
        claim["metadata"]["name"],
        phase,
        spec.get("volumeName", ""),
        (status.get("capacity") or {}).get("storage", "") if bound else "",
        ",".join(_ACCESS_MODES.get(mode, mode) for mode in modes),
        spec.get("storageClassName") or "<unset>",
        spec.get("volumeAttributesClassName") or "<unset>",
        _age(claim, now),
        spec.get("volumeMode", ""),
    ]


_CLAIM_COLUMNS = (
    Column("Status", "The phase of the claim."),
    Column("Volume", "The volume bound to the claim."),
    Column("Capacity", "The actual capacity of the bound volume."),
    Column("Access Modes", "The access modes of the bound volume."),
    Column("StorageClass", "The storage class of the claim."),
    Column("VolumeAttributesClass", "The volume attributes class of the claim."),
    Column("Age", _AGE_DESCRIPTION),
    Column("VolumeMode", "The volume mode of the claim.", priority=1),
)


def _name_age_cells(obj: Obj, now: float) -> list[Any]:
    return [obj["metadata"]["name"], _age(obj, now)]


_PRINTERS: dict[str, tuple[tuple[Column, ...], Callable[[Obj, float], list[Any]]]] = {
    "Pod": (_POD_COLUMNS, _pod_cells),
    "Deployment": (_DEPLOYMENT_COLUMNS, _deployment_cells),
    "Node": (_NODE_COLUMNS, _node_cells),
    "Event": (_EVENT_COLUMNS, _event_cells),
    "Service": (_SERVICE_COLUMNS, _service_cells),
    "Endpoints": (_ENDPOINTS_COLUMNS, _endpoints_cells),
    "Secret": (_SECRET_COLUMNS, _secret_cells),
    "PersistentVolumeClaim": (_CLAIM_COLUMNS, _claim_cells),
}
_NAME_COLUMN = Column("Name", _NAME_DESCRIPTION, format="name")
_GENERIC = ((Column("Age", _AGE_DESCRIPTION),), _name_age_cells)


def _row_object(obj: Obj, include_object: str) -> Obj | None:
    if include_object == "None":
        return None
    if include_object == "Object":
        return obj
    return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": obj["metadata"]}


def table(
    kind: str,
    found: list[Obj],
    now: float,
    *,
    version: str = "v1",
    include_object: str = "Metadata",
    with_columns: bool = True,
    list_meta: Obj | None = None,
) -> Obj:
    """A Table of ``found`` (objects of ``kind``) as seen at ``now``; ``include_object`` is the request's
    ``includeObject`` (None, Metadata or Object); ``with_columns`` False leaves the column definitions out,
    as on every watch event after the first."""
    columns, cells = _PRINTERS.get(kind, _GENERIC)
    name_first = kind != "Event"
    definitions = [_NAME_COLUMN, *columns] if name_first else list(columns)
    rows = []
    for obj in found:
        row: Obj = {"cells": cells(obj, now)}
        shown = _row_object(obj, include_object)
        if shown is not None:
            row["object"] = shown
        rows.append(row)
    return {
        "kind": "Table",
        "apiVersion": f"meta.k8s.io/{version}",
        "metadata": list_meta or {},
        "columnDefinitions": [c.definition() for c in definitions] if with_columns else [],
        "rows": rows,
    }
