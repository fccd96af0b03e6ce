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
    assert cache.of(lambda: pods, 1) == requested
    assert cache.of(lambda: [], 1) == requested, "the same version: the pods are not walked again"
    holder = next(pod for pod in pods if pod.node in requested and any(c.gpu_limit for c in pod.containers))
    finished = [replace(pod, phase="Succeeded") if pod is holder else pod for pod in pods]
    assert cache.of(lambda: finished, 2) == gpus_requested_by_node(finished) != requested
    rows = node_rows(nodes, finished, None, None, cache.of(lambda: finished, 2))  # type: ignore[arg-type]
    assert rows == node_rows(nodes, finished, None, None)  # type: ignore[arg-type]


def test_moved_by_the_pods_that_changed_as_a_walk_would_be() -> None:
    """Given the changed pods, the cache does not ask for all of them, and ends where a walk of them all ends: a
    holder finished, one deleted, one added on another node, one that holds none added."""
    pods, _nodes = _pods_and_nodes()
    holders = [pod for pod in pods if any(c.gpu_limit or c.gpu_request for c in pod.containers) and pod.node]
    assert len(holders) >= 2, "the healthy scenario has pods holding GPUs"
    other_node = next(pod.node for pod in pods if pod.node and pod.node != holders[1].node)
    cache = GpuRequests()
    cache.of(lambda: pods, 1)
    finished = replace(holders[0], phase="Succeeded")
    added = replace(holders[1], name="gpu-new", node=other_node)
    idle = replace(pods[0], name="idle-new", containers=())
    changed: dict[tuple[str, str], PodRecord | None] = {
        (finished.namespace, finished.name): finished,
        (holders[1].namespace, holders[1].name): None,
        (added.namespace, added.name): added,
        (idle.namespace, idle.name): idle,
    }
    kept = [changed.get((p.namespace, p.name), p) for p in pods]
    now = [p for p in kept if p is not None] + [added, idle]

    def walked() -> list[PodRecord]:
        raise AssertionError("the changed pods were given: no walk")

    assert cache.of(walked, 2, changed) == gpus_requested_by_node(now) != gpus_requested_by_node(pods)
