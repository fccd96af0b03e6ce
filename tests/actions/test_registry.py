"""The remedy table against the simulated cluster: every remedy plans, asks before its dialog what its planned
action will need, and the permission questions of a namespace are asked once each."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from nimify_tui.actions.exec_steps import exec_access
from nimify_tui.actions.registry import EXEC_KEY_IDS, REMEDIES, PlanExtras, TargetKind, refusals_in
from nimify_tui.kube.access import AccessCheck, AccessReviewer
from nimify_tui.kube.client import KubeClient
from nimify_tui.triton.client import TRITON_NAMESPACE

from .conftest import REVIEWS

NS = "nimify-system"


def target_of(client: KubeClient, kind: TargetKind) -> tuple[str, str]:
    """An object of the healthy cluster for each kind of target: (namespace, name)."""
    if kind == "pod":
        pods = client.get_json(f"/api/v1/namespaces/{NS}/pods", {"labelSelector": "app=nimify-api"})["items"]
        return NS, pods[0]["metadata"]["name"]
    names: dict[TargetKind, tuple[str, str]] = {
        "deployment": (NS, "nimify-api"),
        "pvc": (NS, "model-storage"),
        "configmap": (NS, "nimify-config"),
        "model": (TRITON_NAMESPACE, "nimify-model"),
        "node": ("", "cpu-node-1"),  # cluster-wide: no namespace
        "secret": (NS, "nimify-tls"),  # the ingress's TLS secret
    }
    return names[kind]


def unnamed(checks: tuple[AccessCheck, ...]) -> set[AccessCheck]:
    """The questions about any object of their kind (the pre-check knows the namespace, not yet the object)."""
    return {dataclasses.replace(check, name="") for check in checks}


def test_the_default_keys_are_the_documented_ones() -> None:
    """The keys are a contract (README, muscle memory): k9s' where they overlap, the runbook's fixes otherwise."""
    assert {remedy.id: remedy.key for remedy in REMEDIES} == {
        "scale": "s",
        "resources": "m",
        "undo": "u",
        "restart": "r",
        "delete": "ctrl+d",
        "expand": "x",
        "configmap": "e",
        "load": "L",
        "unload": "U",
        "cordon": "C",
        "tls": "T",
    }


def test_ids_and_default_keys_are_unique() -> None:
    ids = [remedy.id for remedy in REMEDIES]
    keys = [remedy.key for remedy in REMEDIES]
    assert len(set(ids)) == len(ids) and len(set(keys)) == len(keys)


def test_each_remedy_asks_before_its_dialog_what_its_planned_action_needs(
    start_cluster: Callable[..., Any],
) -> None:
    client = start_cluster("bad-rollout").client()  # a rollout history to undo
    for remedy in REMEDIES:
        namespace, name = target_of(client, remedy.target)
        planned = remedy.plan(client, namespace, name, PlanExtras())
        assert planned.target.name == name, remedy.id
        asked = remedy.questions(client, namespace, PlanExtras())
        assert asked, f"{remedy.id} asks nothing"
        assert unnamed(asked) == unnamed(planned.access_checks()), remedy.id
        assert {check.namespace for check in asked} == {namespace}, remedy.id


def test_a_model_remedy_at_a_direct_triton_url_asks_kubernetes_nothing(start_cluster: Callable[..., Any]) -> None:
    client = start_cluster().client()
    direct = PlanExtras(triton_url="http://127.0.0.1:8000")
    for remedy in REMEDIES:
        asked = remedy.questions(client, NS, direct)
        assert (asked == ()) == (remedy.target == "model"), remedy.id


def test_the_questions_of_a_namespace_are_asked_once_each(start_cluster: Callable[..., Any]) -> None:
    cluster = start_cluster()
    client = cluster.client()
    distinct = {question for remedy in REMEDIES for question in remedy.questions(client, NS, PlanExtras())}
    distinct.add(exec_access(NS))  # the shell's and the in-pod steps' one question
    before = len(cluster.requests())
    uncached = AccessReviewer(client, ttl_s=0.0)  # only the table's own sharing of questions saves a review
    assert refusals_in(uncached, client, NS, PlanExtras()) == {}
    reviews = [r for r in cluster.requests()[before:] if r.method == "POST" and r.path == REVIEWS]
    assert len(reviews) == len(distinct) < len(REMEDIES) + 1


def test_a_user_who_may_only_read_is_refused_every_remedy_with_the_namespace_named(
    start_cluster: Callable[..., Any],
) -> None:
    client = start_cluster().client("sim-readonly")
    refusals = refusals_in(AccessReviewer(client), client, "ingress-nginx", PlanExtras())
    assert list(refusals) == [remedy.id for remedy in REMEDIES] + list(EXEC_KEY_IDS)
    for key in EXEC_KEY_IDS:  # the shell and the in-pod steps: exec is refused too
        assert refusals[key] == "not allowed: create pods/exec in ingress-nginx: no RBAC rule allows it"
    for remedy in REMEDIES:
        assert refusals[remedy.id].startswith("not allowed: ")
        if remedy.target == "node":  # a node is cluster-wide: the refusal names no namespace
            assert refusals[remedy.id] == "not allowed: patch nodes: no RBAC rule allows it"
            continue
        where = TRITON_NAMESPACE if remedy.target == "model" else "ingress-nginx"
        assert f"in {where}" in refusals[remedy.id]
