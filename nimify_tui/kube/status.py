"""kubectl's rules for the columns it derives from a raw object: a pod's STATUS, READY and RESTARTS (as
``printPod`` walks it), READINESS GATES, a node's ROLES, a label selector's text.

The decoders of ``records.py`` use these once per object; the rows drawn from records are in
``nimify_tui.render.kubectl``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from nimify_tui.kube.duration import parse_timestamp

_EMPTY: Mapping[str, Any] = {}


class PodStatus(NamedTuple):
    """What kubectl's ``printPod`` derives from a pod's status: STATUS, and the counts of READY/RESTARTS."""

    reason: str
    ready: int
    total: int
    restarts: int
    last_restart_at: float | None


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
        if is_sidecar and container.get("started") is True:
            if container.get("ready") is True:
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
            elif container.get("ready") is True and state.get("running") is not None:
                has_running = True
                ready += 1
        if reason == "Completed" and has_running:
            reason = "Running" if _condition_true(conditions, "Ready") else "NotReady"

    if isinstance(metadata.get("deletionTimestamp"), str) and metadata["deletionTimestamp"]:
        if status.get("reason") == "NodeLost":
            reason = "Unknown"
        elif phase not in ("Succeeded", "Failed"):
            reason = "Terminating"
    return PodStatus(reason, ready, total, restarts, last_restart)


def readiness_gates_text(gates: Sequence[Mapping[str, Any]] | None, conditions: Sequence[Mapping[str, Any]]) -> str:
    """The READINESS GATES column from a pod's raw ``spec.readinessGates`` and status conditions."""
    if not gates:
        return "<none>"
    status_by_type: dict[Any, Any] = {}
    for condition in conditions:
        status_by_type.setdefault(condition.get("type"), condition.get("status"))
    passed = sum(1 for gate in gates if status_by_type.get(gate.get("conditionType")) == "True")
    return f"{passed}/{len(gates)}"


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
