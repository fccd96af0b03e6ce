"""The rows kubectl prints for pods, nodes, events, deployments and PVCs, from records, with kubectl's rules.

The ``*_row`` functions turn records into rows of plain strings for a given ``now`` (seconds since the epoch), so
ages can be refreshed cheaply. Text from the cluster in a row is passed through :func:`nimify_tui.text.literal` (no
control characters); it may still hold ``[``: never hand a cell to anything that interprets markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from nimify_tui.kube.duration import age
from nimify_tui.kube.quantity import QuantityError, format_quantity, parse_quantity
from nimify_tui.kube.records import (
    Condition,
    EventRecord,
    PodRecord,
    PVCRecord,
)
from nimify_tui.text import literal


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


def restarts_text(restarts: int, last_restart_at: float | None, now: float) -> str:
    """The RESTARTS column: ``4 (57s ago)`` when the newest container termination time is known."""
    if restarts and last_restart_at is not None:
        return f"{restarts} ({age(last_restart_at, now)} ago)"
    return str(restarts)


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


_RESIZE_CONDITIONS = ("Resizing", "FileSystemResizePending", "ControllerResizeError", "NodeResizeError")


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
