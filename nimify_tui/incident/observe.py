"""The live store read for the incident: the severity's inputs and the signs of trouble for the outage clock."""

from __future__ import annotations

from collections.abc import Sequence

from nimify_tui.incident.clock import Sign, event_signs, restart_signs
from nimify_tui.incident.severity import SeverityInputs
from nimify_tui.live.keys import ALERT_STATES, DEPLOYMENTS, EVENTS, LATENCY, NODES, PODS, PROBES
from nimify_tui.live.store import Store

HEALTH_PROBE = "api /health"


def capacity_lost(store: Store, namespace: str) -> list[str]:
    """Deployments of ``namespace`` short of ready replicas, and nodes not Ready."""
    lost = [
        f"{d.name} {d.ready}/{d.desired} replicas ready"
        for d in sorted(store.items(DEPLOYMENTS), key=lambda d: d.name)
        if d.namespace == namespace and d.desired > 0 and d.ready < d.desired
    ]
    for node in sorted(store.items(NODES), key=lambda n: n.name):
        ready = next((c for c in node.conditions if c.type == "Ready"), None)
        if ready is not None and ready.status != "True":
            lost.append(f"node {node.name} NotReady")
    return lost


def severity_inputs(store: Store, namespace: str, *, predict_failing: bool = False) -> SeverityInputs:
    """What the grade is made from: the /health probe, the last predict (from the recovery verification), the
    5xx ratio, the alerts firing, the capacity lost."""
    probes = store.value(PROBES) or ()
    latency = store.value(LATENCY)
    point = latency.latest() if latency is not None else None
    alerts = store.value(ALERT_STATES) or ()
    return SeverityInputs(
        health_failing=any(p.name == HEALTH_PROBE and not p.ok for p in probes),
        predict_failing=predict_failing,
        error_ratio=point.api_error_ratio if point is not None else None,
        firing_alerts=tuple(a.name for a in alerts if a.state == "firing"),
        capacity_lost=tuple(capacity_lost(store, namespace)),
    )


def signs(store: Store, namespace: str) -> Sequence[Sign]:
    """Warning events and container terminations of ``namespace``: what may prove an outage began earlier."""
    return [*event_signs(store.items(EVENTS), namespace), *restart_signs(store.items(PODS), namespace)]
