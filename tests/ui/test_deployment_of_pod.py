"""A deployment's key on a pod whose deployment is not found says why: the pod has none, or its ReplicaSet or its
Deployment is not loaded yet (the lists come in one by one at the start)."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

from nimify_tui.kube.records import DECODERS, DeploymentRecord, PodRecord, ReplicaSetRecord
from nimify_tui.live.keys import DEPLOYMENTS, REPLICASETS
from nimify_tui.live.store import Store
from nimify_tui.sim.scenarios import build_world
from nimify_tui.ui.navigation import no_deployment_why, owning_deployment


def test_each_missing_link_is_named() -> None:
    world = build_world("healthy")
    pod: PodRecord = next(
        p for p in (DECODERS["pods"](raw) for raw in world.store.list("pods")) if p.name.startswith("nimify-api-")
    )
    rs: ReplicaSetRecord = next(
        r
        for r in (DECODERS["replicasets"](raw) for raw in world.store.list("replicasets.apps"))
        if r.name == pod.owner_name
    )
    deployment: DeploymentRecord = next(
        d
        for d in (DECODERS["deployments"](raw) for raw in world.store.list("deployments.apps"))
        if d.name == rs.owner_name
    )
    store = Store()
    runtime = SimpleNamespace(store=store)
    assert no_deployment_why(runtime, pod) == f"the ReplicaSet {rs.name} is not loaded yet: try again in a moment"  # type: ignore[arg-type]
    store.upsert(REPLICASETS, (rs.namespace, rs.name), rs)
    assert owning_deployment(runtime, pod) is None  # type: ignore[arg-type]
    said = no_deployment_why(runtime, pod)  # type: ignore[arg-type]
    assert said == f"the Deployment {deployment.name} is not loaded yet: try again in a moment"
    store.upsert(DEPLOYMENTS, (deployment.namespace, deployment.name), deployment)
    assert owning_deployment(runtime, pod) == deployment  # type: ignore[arg-type]
    bare = replace(pod, owner_kind="", owner_name="")
    assert no_deployment_why(runtime, bare) == f"{pod.name} is not run by a deployment (no owner)"  # type: ignore[arg-type]
