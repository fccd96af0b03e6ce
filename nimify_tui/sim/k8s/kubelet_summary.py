"""The kubelet's summary API (``/stats/summary``), reached through the node proxy, from the world's state.

Like a real kubelet, it reports the running pods of its node with their containers' memory and their mounted
volumes; a claim's volume carries ``pvcRef`` and the use the world gives it (a full claim is as full as its
capacity).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nimify_tui.sim.k8s import objects

if TYPE_CHECKING:
    from nimify_tui.sim.k8s.pods import PodRun
    from nimify_tui.sim.k8s.world import World

Obj = dict[str, Any]
CONFIG_VOLUME_BYTES = 8192  # what a configMap or secret volume holds on the node's tmpfs
NODE_FS_BYTES = 200 * 10**9  # the node's root filesystem, where non-claim volumes live


def _volumes(world: World, run: PodRun, pod: Obj, stamp: str) -> list[Obj]:
    volumes = []
    for volume in pod["spec"].get("volumes") or []:
        claim = (volume.get("persistentVolumeClaim") or {}).get("claimName")
        if claim:
            used, capacity = world.volume_usage(run.namespace, claim)
            numbers = {"capacityBytes": capacity, "usedBytes": used, "availableBytes": max(0, capacity - used)}
        else:
            numbers = {
                "capacityBytes": NODE_FS_BYTES,
                "usedBytes": CONFIG_VOLUME_BYTES,
                "availableBytes": NODE_FS_BYTES - CONFIG_VOLUME_BYTES,
            }
        entry: Obj = {"time": stamp, **numbers, "name": volume["name"]}
        if claim:
            entry["pvcRef"] = {"name": claim, "namespace": run.namespace}
        volumes.append(entry)
    return volumes


def node_summary(world: World, node: Obj) -> Obj:
    """The summary of one node: its running pods, their containers' working set and their volumes."""
    node_name = node["metadata"]["name"]
    now = world.now()
    stamp = objects.rfc3339(now)
    pods = []
    runs = world.kubelet.runs
    # the node's own runs first: a summary of one node of ten must not read 50,000 pods
    for key in sorted(key for key, run in runs.items() if run.node == node_name and run.phase == "Running"):
        run = runs[key]
        pod = world.store.get("pods", *key)
        if pod is None:
            continue
        containers = [
            {
                "name": c.name,
                "startTime": objects.rfc3339(c.started_at),
                "memory": {"time": stamp, "workingSetBytes": int(world.kubelet.memory_bytes(run, c, now))},
            }
            for c in run.containers
            if c.started_at is not None
        ]
        pods.append(
            {
                "podRef": {"name": run.name, "namespace": run.namespace, "uid": run.uid},
                "startTime": objects.rfc3339(run.start_time or run.created),
                "containers": containers,
                "volume": _volumes(world, run, pod, stamp),
            }
        )
    return {"node": {"nodeName": node_name, "startTime": node["metadata"]["creationTimestamp"]}, "pods": pods}
