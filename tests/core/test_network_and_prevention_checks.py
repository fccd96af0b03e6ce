"""The checks of a service's selector, of network policies, and the runbook's prevention items (warnings), on
hand-made objects decoded by the project's own decoders and on the real service and endpoints captures."""

from __future__ import annotations

from typing import Any

from nimify_tui.kube.records import (
    DeploymentRecord,
    EndpointsRecord,
    IngressRecord,
    NetworkPolicyRecord,
    PodDisruptionBudgetRecord,
    PodRecord,
    ResourceQuotaRecord,
    ServiceRecord,
    selects,
)
from nimify_tui.live.keys import (
    DEPLOYMENTS,
    DISRUPTION_BUDGETS,
    ENDPOINTS,
    INGRESSES,
    NETWORK_POLICIES,
    PODS,
    QUOTAS,
    SERVICES,
)
from nimify_tui.live.store import Store
from nimify_tui.triage.checks import check_ingress, check_network_policies, check_prevention, check_service_selectors

from ..conftest import real_k8s_object

NS = "nimify-system"


def api_pod(name: str, labels: dict[str, str]) -> dict[str, Any]:
    return {
        "metadata": {
            "name": name,
            "namespace": NS,
            "labels": labels,
            "ownerReferences": [{"kind": "ReplicaSet", "name": "nimify-api-5d9f", "controller": True}],
        },
        "spec": {"containers": [{"name": "nimify-api", "image": "x"}]},
        "status": {
            "phase": "Running",
            "containerStatuses": [{"name": "nimify-api", "ready": True, "restartCount": 0, "state": {"running": {}}}],
        },
    }


def store_with(**kinds: list[Any]) -> Store:
    store = Store()
    keys = {"pods": PODS, "services": SERVICES, "policies": NETWORK_POLICIES, "budgets": DISRUPTION_BUDGETS}
    keys |= {"quotas": QUOTAS, "deployments": DEPLOYMENTS}
    for name, records in kinds.items():
        store.replace(keys[name], None, {(r.namespace, r.name): r for r in records})
    return store


SERVICE = ServiceRecord.from_raw(
    {"metadata": {"name": "nimify-api", "namespace": NS}, "spec": {"selector": {"app": "nimify-api"}}}
)


def test_a_service_selecting_none_of_its_ready_pods_is_a_selector_mismatch() -> None:
    moved = PodRecord.from_raw(api_pod("nimify-api-5d9f-abc", {"app": "nimify-api-v2", "pod-template-hash": "5d9f"}))
    finding = check_service_selectors(store_with(services=[SERVICE], pods=[moved]), NS)
    assert finding.state == "fail"
    assert finding.evidence == "service nimify-api selects app=nimify-api; its ready pods carry app=nimify-api-v2"
    assert finding.objects == (f"{NS}/service/nimify-api",)
    matching = PodRecord.from_raw(api_pod("nimify-api-5d9f-abc", {"app": "nimify-api"}))
    assert check_service_selectors(store_with(services=[SERVICE], pods=[matching]), NS).state == "pass"


def policy(ingress: list[Any] | None, selector: dict[str, Any]) -> NetworkPolicyRecord:
    spec: dict[str, Any] = {"podSelector": selector, "policyTypes": ["Ingress"]}
    if ingress is not None:
        spec["ingress"] = ingress
    return NetworkPolicyRecord.from_raw({"metadata": {"name": "lockdown", "namespace": NS}, "spec": spec})


def test_a_policy_that_allows_nimify_api_no_ingress_fails_and_one_with_rules_passes() -> None:
    pods = [PodRecord.from_raw(api_pod("nimify-api-5d9f-abc", {"app": "nimify-api"}))]
    deny = policy(None, {"matchLabels": {"app": "nimify-api"}})
    finding = check_network_policies(store_with(pods=pods, policies=[deny]), NS)
    assert (finding.state, finding.evidence) == (
        "fail",
        "network policy lockdown selects nimify-api's pods and allows no ingress",
    )
    allow = policy([{"from": [{"namespaceSelector": {}}]}], {"matchLabels": {"app": "nimify-api"}})
    assert check_network_policies(store_with(pods=pods, policies=[allow]), NS).state == "pass"
    elsewhere = policy(None, {"matchExpressions": [{"key": "app", "operator": "In", "values": ["postgres"]}]})
    assert check_network_policies(store_with(pods=pods, policies=[elsewhere]), NS).state == "pass"


def test_label_selectors_follow_kubernetes_rules() -> None:
    labels = {"app": "nimify-api", "tier": "web"}
    assert selects({}, labels)
    assert selects({"matchLabels": {"app": "nimify-api"}}, labels)
    assert not selects({"matchLabels": {"app": "other"}}, labels)
    assert selects({"matchExpressions": [{"key": "tier", "operator": "In", "values": ["web", "db"]}]}, labels)
    assert not selects({"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["web"]}]}, labels)
    assert selects({"matchExpressions": [{"key": "canary", "operator": "DoesNotExist"}]}, labels)
    assert not selects({"matchExpressions": [{"key": "canary", "operator": "Exists"}]}, labels)


def deployment(probes: bool) -> DeploymentRecord:
    container: dict[str, Any] = {"name": "nimify-api", "image": "x"}
    if probes:
        container |= {"readinessProbe": {"httpGet": {"path": "/ready"}}, "livenessProbe": {"httpGet": {"path": "/"}}}
    raw = {
        "metadata": {"name": "nimify-api", "namespace": NS},
        "spec": {"replicas": 1, "template": {"spec": {"containers": [container]}}},
    }
    return DeploymentRecord.from_raw(raw)


def test_prevention_gaps_are_warnings_and_their_absence_passes() -> None:
    pods = [PodRecord.from_raw(api_pod("nimify-api-5d9f-abc", {"app": "nimify-api"}))]
    bare = {f.check: f for f in check_prevention(store_with(pods=pods, deployments=[deployment(False)]), NS)}
    assert {check: f.state for check, f in bare.items()} == {"pdb": "warn", "quota": "warn", "probes": "warn"}
    assert bare["probes"].evidence == "container nimify-api lacks a readiness or liveness probe"
    budget = PodDisruptionBudgetRecord.from_raw(
        {"metadata": {"name": "api", "namespace": NS}, "spec": {"selector": {"matchLabels": {"app": "nimify-api"}}}}
    )
    quota = ResourceQuotaRecord.from_raw({"metadata": {"name": "compute", "namespace": NS}, "spec": {"hard": {}}})
    covered = check_prevention(
        store_with(pods=pods, deployments=[deployment(True)], budgets=[budget], quotas=[quota]), NS
    )
    assert {f.check: (f.state, f.evidence) for f in covered} == {
        "pdb": ("pass", "covered by api"),
        "quota": ("pass", "quota compute"),
        "probes": ("pass", "readiness and liveness probes set"),
    }


def test_an_ingress_whose_service_has_no_ready_endpoint_fails_without_blaming_the_controller() -> None:
    """The real ingress capture (no address yet) routes /testpath to service test; its endpoints are empty."""
    ingress = IngressRecord.from_raw(real_k8s_object("10_ingress__k9s_ing.json"))
    captured = real_k8s_object("10_endpoints__k9s_ep.json")
    empty = EndpointsRecord.from_raw({**captured, "metadata": {"name": "test", "namespace": "default"}, "subsets": []})
    served = EndpointsRecord.from_raw({**captured, "metadata": {"name": "test", "namespace": "default"}})
    store = Store()
    store.replace(INGRESSES, None, {("default", ingress.name): ingress})
    store.replace(ENDPOINTS, None, {("default", "test"): empty})
    finding = check_ingress(store, [], 0.0)
    assert finding.state == "fail"
    assert (
        finding.evidence
        == f"ingress {ingress.name} has no address, ingress {ingress.name} -> service test: no ready endpoint"
    )
    store.replace(ENDPOINTS, None, {("default", "test"): served})
    assert check_ingress(store, [], 0.0).evidence == f"ingress {ingress.name} has no address"
