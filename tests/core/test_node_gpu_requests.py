"""The nodes table's GPUs requested per node: worked out once per version of the pods, and the same as a walk."""

from __future__ import annotations

from dataclasses import replace

from nimify_tui.kube.records import DECODERS, PodRecord
from nimify_tui.render.nodes import GpuRequests, gpus_requested_by_node, node_rows
from nimify_tui.sim.scenarios import build_world


def _pods_and_nodes() -> tuple[list[PodRecord], list[object]]:
    world = build_world("healthy")
    pods = [DECODERS["pods"](pod) for pod in world.store.list("pods")]
    nodes = [DECODERS["nodes"](node) for node in world.store.list("nodes")]
    return pods, nodes


def test_kept_per_pods_version_and_worked_out_again_for_a_new_one() -> None:
    pods, nodes = _pods_and_nodes()
    requested = gpus_requested_by_node(pods)
    assert sum(requested.values()) > 0, "the healthy scenario's pods hold GPUs"
    cache = GpuRequests()
    assert cache.of(pods, 1) == requested
    assert cache.of([], 1) == requested, "the same version: the pods are not walked again"
    holder = next(pod for pod in pods if pod.node in requested and any(c.gpu_limit for c in pod.containers))
    finished = [replace(pod, phase="Succeeded") if pod is holder else pod for pod in pods]
    assert cache.of(finished, 2) == gpus_requested_by_node(finished) != requested
    assert node_rows(nodes, finished, None, None, cache.of(finished, 2)) == node_rows(nodes, finished, None, None)  # type: ignore[arg-type]
