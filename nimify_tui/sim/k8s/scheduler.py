"""The scheduler: places pending pods on nodes that pass its filters and have room for their requests.

A pod that no node takes is retried every ``SCHEDULE_RETRY_S`` (at once when capacity may have freed up),
with a FailedScheduling event worded as the scheduler words it. A bound pod is handed to the kubelet.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nimify_tui.sim.k8s.pods import Condition, PodRun

if TYPE_CHECKING:
    from nimify_tui.sim.k8s.world import World

Obj = dict[str, Any]
SCHEDULER = "default-scheduler"
SCHEDULE_RETRY_S = 15.0


def _taint_text(taint: Obj) -> str:
    return f"{{{taint['key']}: {taint.get('value', '')}}}"


def tolerates(tolerations: list[Obj], taint: Obj) -> bool:
    for tol in tolerations:
        if tol.get("effect") and tol["effect"] != taint.get("effect"):
            continue
        if tol.get("operator") == "Exists" and (not tol.get("key") or tol["key"] == taint["key"]):
            return True
        if tol.get("key") == taint["key"] and tol.get("value", "") == taint.get("value", ""):
            return True
    return False


def node_filter(node: Obj, tolerations: list[Obj], selector: dict[str, str], daemon: bool = False) -> str:
    """The first scheduler filter a node fails, as the scheduler words it; "" when it passes.

    Daemon pods tolerate cordoned nodes, as DaemonSet pods do."""
    if node["spec"].get("unschedulable") and not daemon:
        return "node(s) were unschedulable"
    taints = list(node["spec"].get("taints") or [])
    ready = next((c for c in node["status"].get("conditions", []) if c["type"] == "Ready"), None)
    if ready is None or ready["status"] != "True":
        taints.append({"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"})
    for taint in taints:
        if taint.get("effect") in ("NoSchedule", "NoExecute") and not tolerates(tolerations, taint):
            return f"node(s) had untolerated taint {_taint_text(taint)}"
    labels = node["metadata"].get("labels") or {}
    if any(labels.get(key) != value for key, value in selector.items()):
        return "node(s) didn't match Pod's node affinity/selector"
    return ""


class Scheduler:
    """Binds pending pods to nodes, counting their requests against the nodes' allocatable resources."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.capacity_changed = True  # retry every pending pod at the next pass, not only those due
        self._requested: dict[str, dict[str, int]] = {}  # node -> resources requested by its pods
        # (node, its resourceVersion, the pod's tolerations and selector) -> node_filter's answer: pods of one
        # template ask the same question of an unchanged node, 50,000 times at the start of a big cluster
        self._filtered: dict[tuple[str, str, str], str] = {}

    def schedule_pending(self) -> None:
        now = self.world.now()
        pending = [r for r in self.world.kubelet.runs.values() if r.node is None and r.active]
        if not pending:
            self.capacity_changed = False
            return
        retry_all = self.capacity_changed
        self.capacity_changed = False
        nodes = self.world.store.list("nodes")
        for run in sorted(pending, key=lambda r: (r.created, r.name)):
            if not retry_all and now < run.next_schedule_at:
                continue
            stored = self.world.store.get("pods", *run.key)
            if stored is None:
                continue
            chosen, message = self.place(run, stored["spec"], nodes)
            if chosen is None:
                run.next_schedule_at = now + SCHEDULE_RETRY_S
                run.conditions["PodScheduled"] = Condition("False", now, "Unschedulable", message)
                self.world.record_event(stored, "Warning", "FailedScheduling", message, SCHEDULER)
                self.world.kubelet.mark(run)
                continue
            self.bind(run, chosen)

    def place(self, run: PodRun, spec: Obj, nodes: list[Obj]) -> tuple[str | None, str]:
        """The least loaded node that takes the pod, or None and the FailedScheduling message."""
        reasons: dict[str, int] = {}
        not_helpful = 0
        best: tuple[float, str] | None = None
        tolerations = spec.get("tolerations") or []
        selector = spec.get("nodeSelector") or {}
        asks = repr(tolerations) + repr(selector)
        for node in nodes:
            name = node["metadata"]["name"]
            failed = self._node_filter(node, tolerations, selector, asks)
            if failed:
                reasons[failed] = reasons.get(failed, 0) + 1
                not_helpful += 1
                continue
            allocatable = self.world.allocatable(node)
            node_used = self._requested.get(name, {})
            short = [
                f"Insufficient {resource}"
                for resource, amount in run.requests.items()
                if amount and node_used.get(resource, 0) + amount > allocatable.get(resource, 0)
            ]
            if short:
                for reason in short:
                    reasons[reason] = reasons.get(reason, 0) + 1
                continue
            load = sum(
                (node_used.get(resource, 0) + run.requests[resource]) / allocatable[resource]
                for resource in ("cpu", "memory")
                if allocatable.get(resource)
            )
            if best is None or load < best[0]:
                best = (load, name)
        if best is not None:
            return best[1], ""
        total = len(nodes)
        listed = ", ".join(sorted(f"{count} {reason}" for reason, count in reasons.items()))
        preemption = []
        if total - not_helpful:
            preemption.append(f"{total - not_helpful} No preemption victims found for incoming pod")
        if not_helpful:
            preemption.append(f"{not_helpful} Preemption is not helpful for scheduling")
        return None, (
            f"0/{total} nodes are available: {listed}. preemption: 0/{total} nodes are available: "
            f"{', '.join(sorted(preemption))}."
        )

    def _node_filter(self, node: Obj, tolerations: list[Obj], selector: dict[str, str], asks: str) -> str:
        meta = node["metadata"]
        key = (meta["name"], meta.get("resourceVersion", ""), asks)
        failed = self._filtered.get(key)
        if failed is None:
            if len(self._filtered) > 10_000:
                self._filtered.clear()
            failed = self._filtered[key] = node_filter(node, tolerations, selector)
        return failed

    def bind(self, run: PodRun, node_name: str, quiet: bool = False, at: float | None = None) -> None:
        """Bind the pod to ``node_name`` and hand it to the kubelet; ``quiet``: no event, already running."""
        now = self.world.now() if at is None else at
        run.node = node_name
        self._hold(run, +1)
        run.conditions["PodScheduled"] = Condition("True", now)
        stored = None if quiet else self.world.store.get("pods", *run.key)
        if stored is not None:
            self.world.record_event(
                stored,
                "Normal",
                "Scheduled",
                f"Successfully assigned {run.namespace}/{run.name} to {node_name}",
                SCHEDULER,
            )
        self.world.kubelet.admit(run, now, quiet)

    def release(self, run: PodRun) -> None:
        """The pod's requests no longer count against its node (it was evicted or removed)."""
        self._hold(run, -1)

    def _hold(self, run: PodRun, sign: int) -> None:
        """Count (+1) or stop counting (-1) a pod's requests against its node."""
        if run.node is None or run.holds_resources == (sign > 0):
            return
        run.holds_resources = sign > 0
        totals = self._requested.setdefault(run.node, {})
        for resource, amount in run.requests.items():
            totals[resource] = totals.get(resource, 0) + sign * amount
        if sign < 0:
            self.capacity_changed = True
