"""The node describe's "Allocated resources": every pod of the node as kubectl lists them, or, where listing pods
across namespaces is refused, the watched namespaces' pods with a note that says so."""

from __future__ import annotations

from pathlib import Path

import pytest

from nimify_tui.kube.client import KubeClient
from nimify_tui.live.keys import PODS
from nimify_tui.live.runtime import Runtime, RuntimeOptions
from nimify_tui.sim.k8s import auth
from nimify_tui.sim.k8s.kubeconfig import write_kubeconfig
from nimify_tui.sim.k8s.world import World
from nimify_tui.sim.server import SimThread
from nimify_tui.ui.navigation import allocation_of

from ..waiting import wait_for


def gpu_node(sim: SimThread) -> tuple[str, int]:
    """A node that runs a triton-server pod, and how many non-terminated pods it runs in every namespace."""

    def find(world: World) -> tuple[str, int]:
        runs = world.kubelet.runs.values()
        name = next(r.node for r in runs if r.app == "triton-server")
        return name, sum(1 for r in runs if r.node == name and r.phase not in ("Succeeded", "Failed"))

    return sim.call(find)


def runtime_for(sim: SimThread, folder: Path) -> Runtime:
    write_kubeconfig(sim, folder / "kubeconfig")
    client = KubeClient.from_kubeconfig(str(folder / "kubeconfig"), "sim-admin")
    return Runtime(client, RuntimeOptions(namespaces=("triton-system",), kinds=("pods",)))


def test_every_pod_of_the_node_counts(healthy_sim: SimThread, tmp_path: Path) -> None:
    runtime = runtime_for(healthy_sim, tmp_path)
    name, pods = gpu_node(healthy_sim)
    try:
        allocation, note = allocation_of(runtime, runtime.client.get_json(f"/api/v1/nodes/{name}"))
    finally:
        runtime.client.close()
    assert note == "" and allocation.pods == pods > 1  # the DCGM exporter in monitoring, Triton in triton-system
    gpus = allocation.of("nvidia.com/gpu")
    assert gpus is not None and gpus.text("requests") == "1"


def test_a_refused_pod_list_falls_back_to_the_watched_namespaces(
    healthy_sim: SimThread, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    allowed = auth.allowed

    def namespaced_only(user: str, request: auth.Request) -> bool:
        if request.resource == "pods" and request.verb == "list" and not request.namespace:
            return False
        return allowed(user, request)

    monkeypatch.setattr(auth, "allowed", namespaced_only)
    runtime = runtime_for(healthy_sim, tmp_path)
    name, _ = gpu_node(healthy_sim)
    runtime.start()
    try:
        wait_for(lambda: [p for p in runtime.store.items(PODS) if p.node == name], "the watched pods")
        allocation, note = allocation_of(runtime, runtime.client.get_json(f"/api/v1/nodes/{name}"))
    finally:
        runtime.stop()
    assert note.startswith("pods of the watched namespaces only: GET /api/v1/pods: HTTP 403: ")
    assert allocation.pods == len([p for p in runtime.store.items(PODS) if p.node == name]) == 1
