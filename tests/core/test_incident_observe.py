"""The severity's inputs and the clock's signs, read from a live store."""

from __future__ import annotations

import time

from nimify_tui.incident.observe import capacity_lost, severity_inputs, signs
from nimify_tui.incident.severity import assess
from nimify_tui.kube.records import DeploymentRecord, NodeRecord
from nimify_tui.live.keys import ALERT_STATES, DEPLOYMENTS, NODES, PROBES
from nimify_tui.live.store import Store
from nimify_tui.metrics.alert_states import RuleState
from nimify_tui.probes import ProbeResult

NS = "nimify-system"


def deployment(name: str, desired: int, ready: int) -> DeploymentRecord:
    return DeploymentRecord.from_raw(
        {
            "metadata": {"name": name, "namespace": NS},
            "spec": {"replicas": desired, "template": {"spec": {"containers": [{"name": "api", "image": "x"}]}}},
            "status": {"replicas": desired, "readyReplicas": ready},
        }
    )


def node(name: str, ready: str) -> NodeRecord:
    return NodeRecord.from_raw(
        {"metadata": {"name": name}, "status": {"conditions": [{"type": "Ready", "status": ready}]}}
    )


def test_a_failing_health_probe_is_sev1() -> None:
    store = Store()
    store.put(PROBES, (ProbeResult("api /health", False, 503, 3.0, "503", time.time(), "http://x/health"),))
    inputs = severity_inputs(store, NS)
    assert inputs.health_failing and assess(inputs).level == "SEV-1"
    assert severity_inputs(store, NS, predict_failing=True).predict_failing


def test_firing_alerts_and_replicas_short_are_sev2_pending_ones_are_not() -> None:
    store = Store()
    store.put(PROBES, (ProbeResult("api /health", True, 200, 3.0, "", time.time(), "http://x/health"),))
    store.put(
        ALERT_STATES,
        (
            RuleState("NimifyHighLatency", "firing", "built-in"),
            RuleState("NimifyHighErrorRate", "pending", "built-in"),
        ),
    )
    store.upsert(DEPLOYMENTS, (NS, "nimify-api"), deployment("nimify-api", 3, 1))
    store.upsert(DEPLOYMENTS, (NS, "redis"), deployment("redis", 1, 1))
    store.upsert(NODES, ("", "gpu-1"), node("gpu-1", "Unknown"))
    store.upsert(NODES, ("", "gpu-2"), node("gpu-2", "True"))
    inputs = severity_inputs(store, NS)
    assert inputs.firing_alerts == ("NimifyHighLatency",)
    assert capacity_lost(store, NS) == ["nimify-api 1/3 replicas ready", "node gpu-1 NotReady"]
    assert assess(inputs).level == "SEV-2"
    assert signs(store, NS) == []
