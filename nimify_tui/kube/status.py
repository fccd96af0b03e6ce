"""The columns kubectl prints for pods, nodes, events, deployments and PVCs, with kubectl's exact rules.

:func:`pod_status` walks a raw pod as kubectl's ``printPod`` does (STATUS, READY, RESTARTS); the ``*_row``
functions turn records into rows of plain strings for a given ``now`` (seconds since the epoch), so ages
can be refreshed cheaply. Text from the cluster in a row is passed through :func:`nimify_tui.text.literal` (no
control characters); it may still hold ``[``: never hand a cell to anything that interprets markup.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from nimify_tui.kube.duration import age, parse_timestamp
from nimify_tui.kube.quantity import QuantityError, format_quantity, parse_quantity
from nimify_tui.text import literal

if TYPE_CHECKING:
    from nimify_tui.kube.records import (
        Condition,
        DeploymentRecord,
        EventRecord,
        NodeRecord,
        PodRecord,
        PVCRecord,
    )

_EMPTY: Mapping[str, Any] = {}


# ---------------------------------------------------------------------------------------------------- pods


class PodStatus(NamedTuple):
    """What kubectl's ``printPod`` derives from a pod's status: STATUS, and the counts of READY/RESTARTS."""

    reason: str
    ready: int
    total: int
    restarts: int
    last_restart_at: float | None


class PodRow(NamedTuple):
    """A pod as ``kubectl get pods -o wide`` prints it."""

    name: str
    ready: str
    status: str
    restarts: str
    age: str
    ip: str
    node: str
    nominated_node: str
    readiness_gates: str


def _terminated_text(terminated: Mapping[str, Any], prefix: str) -> str:
    reason = terminated.get("reason") or ""
    if reason:
        return prefix + reason
    signal = terminated.get("signal") or 0
    if signal:
        return f"{prefix}Signal:{signal}"
    return f"{prefix}ExitCode:{terminated.get('exitCode') or 0}"


def _condition_true(conditions: Sequence[Mapping[str, Any]], condition_type: str) -> bool:
    return any(c.get("type") == condition_type and c.get("status") == "True" for c in conditions)


def _newest(current: float | None, state: Mapping[str, Any]) -> float | None:
    terminated = state.get("terminated")
    if terminated is None:
        return current
    finished = parse_timestamp(terminated.get("finishedAt"))
    if finished is None or (current is not None and finished <= current):
        return current
    return finished


def pod_status(obj: Mapping[str, Any]) -> PodStatus:
    """STATUS, READY and RESTARTS of a raw pod, exactly as kubectl's ``printPod`` computes them."""
    spec = obj.get("spec") or _EMPTY
    status = obj.get("status") or _EMPTY
    metadata = obj.get("metadata") or _EMPTY
    conditions = status.get("conditions") or ()
    phase = status.get("phase") or ""
    reason = status.get("reason") or phase
    for condition in conditions:
        if condition.get("type") == "PodScheduled" and condition.get("reason") == "SchedulingGated":
            reason = "SchedulingGated"

    init_specs = spec.get("initContainers") or ()
    sidecars = {c.get("name") for c in init_specs if c.get("restartPolicy") == "Always"}
    total = len(spec.get("containers") or ()) + len(sidecars)
    ready = 0
    restarts = sidecar_restarts = 0
    last_restart: float | None = None
    last_sidecar_restart: float | None = None

    initializing = False
    for index, container in enumerate(status.get("initContainerStatuses") or ()):
        state = container.get("state") or _EMPTY
        last_state = container.get("lastState") or _EMPTY
        count = container.get("restartCount") or 0
        restarts += count
        last_restart = _newest(last_restart, last_state)
        is_sidecar = container.get("name") in sidecars
        if is_sidecar:
            sidecar_restarts += count
            last_sidecar_restart = _newest(last_sidecar_restart, last_state)
        terminated = state.get("terminated")
        waiting = state.get("waiting")
        if terminated is not None and (terminated.get("exitCode") or 0) == 0:
            continue
        if is_sidecar and container.get("started"):
            if container.get("ready"):
                ready += 1
            continue
        initializing = True
        if terminated is not None:
            reason = _terminated_text(terminated, "Init:")
        elif waiting is not None and waiting.get("reason") and waiting.get("reason") != "PodInitializing":
            reason = "Init:" + waiting["reason"]
        else:
            reason = f"Init:{index}/{len(init_specs)}"
        break

    if not initializing or _condition_true(conditions, "Initialized"):
        restarts, last_restart = sidecar_restarts, last_sidecar_restart
        has_running = False
        for container in reversed(status.get("containerStatuses") or ()):
            state = container.get("state") or _EMPTY
            restarts += container.get("restartCount") or 0
            last_restart = _newest(last_restart, container.get("lastState") or _EMPTY)
            waiting = state.get("waiting")
            terminated = state.get("terminated")
            if waiting is not None and waiting.get("reason"):
                reason = waiting["reason"]
            elif terminated is not None:
                reason = _terminated_text(terminated, "")
            elif container.get("ready") and state.get("running") is not None:
                has_running = True
                ready += 1
        if reason == "Completed" and has_running:
            reason = "Running" if _condition_true(conditions, "Ready") else "NotReady"

    if metadata.get("deletionTimestamp"):
        if status.get("reason") == "NodeLost":
            reason = "Unknown"
        elif phase not in ("Succeeded", "Failed"):
            reason = "Terminating"
    return PodStatus(reason, ready, total, restarts, last_restart)


def restarts_text(restarts: int, last_restart_at: float | None, now: float) -> str:
    """The RESTARTS column: ``4 (57s ago)`` when the newest container termination time is known."""
    if restarts and last_restart_at is not None:
        return f"{restarts} ({age(last_restart_at, now)} ago)"
    return str(restarts)


def readiness_gates_text(gates: Sequence[Mapping[str, Any]] | None, conditions: Sequence[Mapping[str, Any]]) -> str:
    """The READINESS GATES column from a pod's raw ``spec.readinessGates`` and status conditions."""
    if not gates:
        return "<none>"
    status_by_type: dict[Any, Any] = {}
    for condition in conditions:
        status_by_type.setdefault(condition.get("type"), condition.get("status"))
    passed = sum(1 for gate in gates if status_by_type.get(gate.get("conditionType")) == "True")
    return f"{passed}/{len(gates)}"


def pod_row(pod: PodRecord, now: float) -> PodRow:
    """The ``kubectl get pods -o wide`` row of a pod at time ``now``."""
    return PodRow(
        literal(pod.name),
        f"{pod.ready}/{pod.total}",
        literal(pod.status),
        restarts_text(pod.restarts, pod.last_restart_at, now),
        age(pod.created_at, now),
        pod.ip or "<none>",
        literal(pod.node) or "<none>",
        literal(pod.nominated_node) or "<none>",
        pod.readiness_gates,
    )


def pod_fault(
    pod: PodRecord, now: float, *, recent_restart_s: float = 600.0, terminating_grace_s: float = 30.0
) -> str | None:
    """Why a pod needs attention (None when healthy): not running, not all ready, restarted lately, stuck.

    A Terminating pod is faulty once ``terminating_grace_s`` have passed after its deletion time (which the
    API server sets to the end of the grace period).
    """
    if pod.status == "Terminating":
        if pod.deleted_at is not None and now - pod.deleted_at > terminating_grace_s:
            return f"Terminating for {age(pod.deleted_at, now)} past its grace period"
        return None
    if pod.status in ("Completed", "Succeeded"):
        return None
    if pod.status != "Running":
        return pod.status
    if pod.ready < pod.total:
        return f"{pod.ready}/{pod.total} ready"
    if pod.last_restart_at is not None and now - pod.last_restart_at < recent_restart_s:
        return f"restarted {age(pod.last_restart_at, now)} ago"
    return None


def is_faulty(pod: PodRecord, now: float) -> bool:
    """True when :func:`pod_fault` finds something wrong with the pod (k9s' "faulty" filter)."""
    return pod_fault(pod, now) is not None


# --------------------------------------------------------------------------------------------------- nodes


class NodeRow(NamedTuple):
    """A node as ``kubectl get nodes`` prints it."""

    name: str
    status: str
    roles: str
    age: str
    version: str


def node_status(conditions: Sequence[Condition], unschedulable: bool) -> str:
    """The STATUS column of a node: ``Ready``, ``NotReady``, ``Unknown``, then ``,SchedulingDisabled``."""
    ready: str | None = None
    for condition in conditions:  # the last Ready condition wins, as in kubectl
        if condition.type == "Ready":
            ready = condition.status
    parts = ["Unknown" if ready is None else "Ready" if ready == "True" else "NotReady"]
    if unschedulable:
        parts.append("SchedulingDisabled")
    return ",".join(parts)


def node_roles(labels: Mapping[str, str]) -> tuple[str, ...]:
    """Roles from ``node-role.kubernetes.io/<role>`` labels and the ``kubernetes.io/role`` label, sorted."""
    roles = set()
    for key, value in labels.items():
        if key.startswith("node-role.kubernetes.io/"):
            role = key[len("node-role.kubernetes.io/") :]
            if role:
                roles.add(role)
        elif key == "kubernetes.io/role" and value:
            roles.add(value)
    return tuple(sorted(roles))


def node_row(node: NodeRecord, now: float) -> NodeRow:
    """The ``kubectl get nodes`` row of a node at time ``now``."""
    return NodeRow(
        literal(node.name),
        node_status(node.conditions, node.unschedulable),
        literal(",".join(node.roles)) or "<none>",
        age(node.created_at, now),
        literal(node.kubelet_version),
    )


# -------------------------------------------------------------------------------------------------- events


class EventRow(NamedTuple):
    """An event as ``kubectl get events`` prints it, with the COUNT of ``-o wide``."""

    last_seen: str
    type: str
    reason: str
    object: str
    message: str
    event_count: str


def event_row(event: EventRecord, now: float) -> EventRow:
    """The ``kubectl get events`` row of an event at time ``now``."""
    kind = event.object_kind.lower()
    target = f"{kind}/{event.object_name}" if event.object_name else kind
    return EventRow(
        age(event.last_seen, now),
        literal(event.type),
        literal(event.reason),
        literal(target),
        literal(event.message.strip()),
        str(event.count),
    )


def event_sort_key(event: EventRecord) -> tuple[float, str]:
    """Sorts events oldest first by the time LAST SEEN shows (events without any time come first)."""
    return (float("-inf") if event.last_seen is None else event.last_seen, event.name)


# --------------------------------------------------------------------------------------------- deployments


class DeploymentRow(NamedTuple):
    """A deployment as ``kubectl get deployments -o wide`` prints it."""

    name: str
    ready: str
    up_to_date: str
    available: str
    age: str
    containers: str
    images: str
    selector: str


def selector_text(selector: Mapping[str, Any] | None) -> str:
    """A label selector as kubectl writes it: ``app=x,tier in (a,b),!canary``, sorted by key."""
    if not selector:
        return ""
    requirements: list[tuple[str, str]] = [
        (key, f"{key}={value}") for key, value in (selector.get("matchLabels") or _EMPTY).items()
    ]
    for expression in selector.get("matchExpressions") or ():
        key = expression.get("key") or ""
        operator = expression.get("operator")
        values = ",".join(sorted(set(expression.get("values") or ())))
        if operator == "In":
            requirements.append((key, f"{key} in ({values})"))
        elif operator == "NotIn":
            requirements.append((key, f"{key} notin ({values})"))
        elif operator == "Exists":
            requirements.append((key, key))
        elif operator == "DoesNotExist":
            requirements.append((key, f"!{key}"))
        else:
            return "<invalid>"
    return ",".join(text for _, text in sorted(requirements, key=lambda requirement: requirement[0]))


def deployment_row(deployment: DeploymentRecord, now: float) -> DeploymentRow:
    """The ``kubectl get deployments -o wide`` row of a deployment at time ``now``."""
    return DeploymentRow(
        literal(deployment.name),
        f"{deployment.ready}/{deployment.desired}",
        str(deployment.updated),
        str(deployment.available),
        age(deployment.created_at, now),
        literal(",".join(deployment.containers)),
        literal(",".join(deployment.images)),
        literal(deployment.selector),
    )


# ---------------------------------------------------------------------------------------------------- PVCs

_ACCESS_MODES = (
    ("ReadWriteOnce", "RWO"),
    ("ReadOnlyMany", "ROX"),
    ("ReadWriteMany", "RWX"),
    ("ReadWriteOncePod", "RWOP"),
)
_RESIZE_CONDITIONS = ("Resizing", "FileSystemResizePending", "ControllerResizeError", "NodeResizeError")


class PVCRow(NamedTuple):
    """A persistent volume claim as ``kubectl get pvc`` prints it."""

    name: str
    status: str
    volume: str
    capacity: str
    access_modes: str
    storage_class: str
    volume_attributes_class: str
    age: str


def access_modes_text(modes: Sequence[str]) -> str:
    """Access modes as kubectl abbreviates them, in its fixed order: ``RWO,ROX,RWX,RWOP``."""
    return ",".join(short for mode, short in _ACCESS_MODES if mode in modes)


def _canonical(text: str) -> str:
    try:
        return format_quantity(parse_quantity(text))
    except QuantityError:
        return text


def pvc_row(pvc: PVCRecord, now: float) -> PVCRow:
    """The ``kubectl get pvc`` row of a claim at time ``now`` (capacity and modes only once it is bound)."""
    bound = bool(pvc.volume_name)
    return PVCRow(
        literal(pvc.name),
        "Terminating" if pvc.deleted_at is not None else literal(pvc.phase),
        literal(pvc.volume_name),
        (_canonical(pvc.capacity) if pvc.capacity else "0") if bound else "",
        access_modes_text(pvc.access_modes) if bound else "",
        literal(pvc.storage_class),
        literal(pvc.volume_attributes_class) or "<unset>",
        age(pvc.created_at, now),
    )


def pvc_resize(pvc: PVCRecord) -> str | None:
    """What holds up a volume expansion, if anything: a resize condition, a resize status, or the gap."""
    for condition in pvc.conditions:
        if condition.type in _RESIZE_CONDITIONS and condition.status == "True":
            detail = condition.message or condition.reason
            return literal(f"{condition.type}: {detail}" if detail else condition.type)
    if pvc.resize_status:
        return literal(pvc.resize_status)
    try:
        requested, capacity = parse_quantity(pvc.requested), parse_quantity(pvc.capacity)
    except QuantityError:
        return None
    if pvc.volume_name and requested.value > capacity.value:
        return f"requested {format_quantity(requested)}, capacity {format_quantity(capacity)}"
    return None
