"""Named outages of the simulated cluster, each following the runbook, and a check that the world is healthy.

Every scenario starts from the healthy cluster, breaks one thing, and runs for its warm-up time before
anyone looks, so the symptom is already there (restarts counted, events aggregated, logs written).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from nimify_tui.sim.k8s import objects
from nimify_tui.sim.k8s.layout import (
    API_IMAGE,
    API_NAMESPACE,
    INGRESS_NAMESPACE,
    MODEL_STORAGE,
    TRITON_NAMESPACE,
    api_template,
)
from nimify_tui.sim.k8s.workloads import gpu_lost_lines, triton_load_failed_lines
from nimify_tui.sim.k8s.world import World
from nimify_tui.sim.triton.models import SERVED_MODEL

SATURATED_LOAD = 0.8  # offered load over Triton capacity beyond which queueing dominates
BAD_RELEASE = "1.9.0"
OOM_MEMORY_MIB = 1434.0  # ~1.4Gi
SPIKE_RPS = 480.0
TRITON_LOAD_FAILURE = (
    "Internal: onnx runtime error 6: Exception during initialization: CUDA failure 2: out of memory ; "
    "GPU=0 ; expr=cudaMalloc(&p, size)"
)


@dataclass(frozen=True)
class Scenario:
    name: str
    broken: str  # what is broken
    runbook: str  # the runbook section it follows
    fix: str  # what fixes it, through the API
    warmup_s: float  # simulated seconds it has been broken when the world is served
    apply: Callable[[World], None]

    def line(self) -> str:
        """One line for ``nimify-tui scenarios``."""
        return f"{self.name}: {self.broken} [runbook: {self.runbook}] fix: {self.fix}"


def _scale(world: World, namespace: str, name: str, replicas: int) -> None:
    deployment = world.store.get("deployments.apps", namespace, name)
    assert deployment is not None
    meta = {**deployment["metadata"], "generation": deployment["metadata"]["generation"] + 1}
    world.store.put(
        "deployments.apps", {**deployment, "metadata": meta, "spec": {**deployment["spec"], "replicas": replicas}}
    )


def _healthy(world: World) -> None:
    """Nothing is broken."""


def _crashloop_oom(world: World) -> None:
    world.set_memory_use("nimify-api", OOM_MEMORY_MIB)


def _bad_rollout(world: World) -> None:
    image = f"{API_IMAGE}:{BAD_RELEASE}"
    world.faults.crashing_images.add(image)
    deployment = world.store.get("deployments.apps", API_NAMESPACE, "nimify-api")
    assert deployment is not None
    annotations = {
        **(deployment["metadata"].get("annotations") or {}),
        objects.CHANGE_CAUSE: f"release {BAD_RELEASE}: gRPC client for Triton",
    }
    meta = {
        **deployment["metadata"],
        "annotations": annotations,
        "generation": deployment["metadata"]["generation"] + 1,
    }
    spec = {**deployment["spec"], "template": api_template(BAD_RELEASE)}
    world.store.put("deployments.apps", {**deployment, "metadata": meta, "spec": spec})


def _resource_exhaustion(world: World) -> None:
    _scale(world, API_NAMESPACE, "nimify-worker", 30)

    def evict_api_pods() -> None:
        for run in world.kubelet.app_runs(API_NAMESPACE, "nimify-api"):
            used = world.kubelet.memory_bytes(run, run.containers[0], world.now()) / 1024
            message = (
                "The node was low on resource: memory. Threshold quantity: 100Mi, available: "
                f"{world.rng.randint(60_000, 99_000)}Ki. Container nimify-api was using {used:.0f}Ki, "
                "request is 512Mi, has larger consumption of its request. "
            )
            world.kubelet.evict(run, message)

    world.after(5.0, evict_api_pods)


def _storage_full(world: World) -> None:
    _, capacity = world.volume_usage(API_NAMESPACE, MODEL_STORAGE)
    world.faults.volume_used[(API_NAMESPACE, MODEL_STORAGE)] = capacity
    claim = world.store.get("persistentvolumeclaims", API_NAMESPACE, MODEL_STORAGE)
    if claim is not None:
        world.record_event(
            claim,
            "Warning",
            "VolumeConditionAbnormal",
            f"The volume is full: {capacity} of {capacity} bytes used",
            "csi-pv-monitor-controller-cephfs.csi.ceph.com",
        )
    for run in world.kubelet.app_runs(API_NAMESPACE, "nimify-api"):
        for c in run.containers:
            world.kubelet.refate(run, c)


def _ingress_broken(world: World) -> None:
    for run in world.kubelet.app_runs(INGRESS_NAMESPACE, "nginx-ingress-controller"):
        world.kubelet.wedge(run)
    ingress = world.store.get("ingresses.networking.k8s.io", API_NAMESPACE, "nimify-ingress")
    if ingress is not None:
        world.store.put("ingresses.networking.k8s.io", {**ingress, "status": {"loadBalancer": {}}})


def _triton_down(world: World) -> None:
    world.triton.fail_model(SERVED_MODEL, TRITON_LOAD_FAILURE)
    for run in world.kubelet.app_runs(TRITON_NAMESPACE, "triton-server"):
        for line in triton_load_failed_lines(world.now(), SERVED_MODEL, TRITON_LOAD_FAILURE):
            run.containers[0].log.write(world.now(), line)


def _gpu_xid(world: World) -> None:
    _scale(world, TRITON_NAMESPACE, "triton-server", 8)

    def fall_off_the_bus() -> None:
        gpu = next(g for g in world.gpus_on("gpu-node-2") if g.index == 3)
        holder = world.kubelet.runs.get((TRITON_NAMESPACE, gpu.pod)) if gpu.pod else None
        world.fail_gpu(gpu, 79)
        if holder is not None:
            for line in gpu_lost_lines(world.now(), gpu.pci_bus_id):
                holder.containers[0].log.write(world.now(), line)
            world.delete_pod(holder.namespace, holder.name, 30.0)

    world.after(20.0, fall_off_the_bus)


def _latency_spike(world: World) -> None:
    world.faults.offered_rps = SPIKE_RPS


_PATCH_OOM = (
    "kubectl patch deployment nimify-api -n nimify-system -p "
    """'{"spec":{"template":{"spec":{"containers":[{"name":"nimify-api","resources":{"limits":{"memory":"2Gi"}}}]}}}}'"""
)
_PATCH_PVC = (
    "kubectl patch pvc model-storage -n nimify-system -p "
    """'{"spec":{"resources":{"requests":{"storage":"200Gi"}}}}'"""
)

SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario("healthy", "nothing", "-", "-", 0.0, _healthy),
        Scenario(
            "crashloop-oom",
            "nimify-api needs ~1.4Gi but is limited to 1Gi: OOMKilled, CrashLoopBackOff",
            "Scenario 1: Pod Crash Loop",
            _PATCH_OOM,
            60.0,
            _crashloop_oom,
        ),
        Scenario(
            "bad-rollout",
            f"revision 4 of nimify-api ({BAD_RELEASE}) crash-loops on a config error; revision 3 still serves",
            "Scenario 1: Pod Crash Loop (rollback)",
            "kubectl rollout undo deployment/nimify-api -n nimify-system",
            45.0,
            _bad_rollout,
        ),
        Scenario(
            "resource-exhaustion",
            "nimify-worker scaled to 30 fills the CPU nodes; evicted nimify-api pods are Pending (Insufficient cpu)",
            "Scenario 2: Resource Exhaustion",
            "kubectl scale deployment nimify-worker --replicas=1 -n nimify-system",
            30.0,
            _resource_exhaustion,
        ),
        Scenario(
            "storage-full",
            "PVC model-storage is full: nimify-api exits with 'No space left on device'",
            "Scenario 3: Storage Issues",
            _PATCH_PVC + " (pods recover at their next restart)",
            30.0,
            _storage_full,
        ),
        Scenario(
            "ingress-broken",
            "the ingress controller is wedged (not ready, lost the API server); the ingress has no address",
            "Scenario 4: Network/Ingress Issues",
            "kubectl rollout restart deployment nginx-ingress-controller -n ingress-nginx",
            30.0,
            _ingress_broken,
        ),
        Scenario(
            "triton-down",
            f"model {SERVED_MODEL} is UNAVAILABLE (CUDA out of memory at load); Triton not ready, predict fails",
            "Scenario 5: Dependency Failures",
            f"POST /v2/repository/models/{SERVED_MODEL}/load through the service proxy, or "
            "kubectl rollout restart deployment triton-server -n triton-system",
            20.0,
            _triton_down,
        ),
        Scenario(
            "gpu-xid",
            "triton-server runs on all 8 GPUs; a GPU on gpu-node-2 fell off the bus (XID 79): "
            "allocatable nvidia.com/gpu drops, the replacement pod is Pending",
            "Scenario 5: Dependency Failures (GPU resources)",
            "kubectl scale deployment triton-server --replicas=7 -n triton-system",
            40.0,
            _gpu_xid,
        ),
        Scenario(
            "latency-spike",
            f"offered load grows to {SPIKE_RPS:.0f} req/s, twice what 2 Triton replicas serve: queue time dominates",
            "Recovery Verification: NimifyHighLatency",
            "kubectl scale deployment triton-server --replicas=6 -n triton-system",
            40.0,
            _latency_spike,
        ),
    )
}


def scenario_lines() -> list[str]:
    return [scenario.line() for scenario in SCENARIOS.values()]


def build_world(
    scenario: str = "healthy",
    *,
    pods: int = 0,
    event_rate: float = 0.0,
    seed: int = 7,
    now: float | None = None,
) -> World:
    """The world of ``scenario``, broken ``warmup_s`` simulated seconds before ``now`` (default: wall time)."""
    if scenario not in SCENARIOS:
        raise KeyError(f"unknown scenario {scenario!r}; known: {', '.join(SCENARIOS)}")
    chosen = SCENARIOS[scenario]
    wall = time.time() if now is None else now
    world = World(seed=seed, extra_pods=pods, event_rate=event_rate, start=wall - chosen.warmup_s)
    world.scenario = chosen.name
    chosen.apply(world)
    world.advance(chosen.warmup_s)
    world.store.compact()
    return world


def health_problems(world: World) -> list[str]:
    """Why the world is not healthy; empty when it is."""
    problems: list[str] = []
    store = world.store
    for deployment in store.list("deployments.apps"):
        meta, spec, status = deployment["metadata"], deployment["spec"], deployment.get("status") or {}
        desired = spec.get("replicas", 1)
        counts = [status.get(key, 0) for key in ("replicas", "updatedReplicas", "availableReplicas")]
        if counts != [desired] * 3 or status.get("observedGeneration", 0) < meta.get("generation", 1):
            problems.append(
                f"deployment {meta['namespace']}/{meta['name']}: {counts[2]}/{desired} available, "
                f"{counts[1]} updated, {counts[0]} total"
            )
    for daemonset in store.list("daemonsets.apps"):
        status = daemonset.get("status") or {}
        if status.get("numberReady", 0) != status.get("desiredNumberScheduled", 0):
            problems.append(f"daemonset {daemonset['metadata']['name']}: {status.get('numberReady', 0)} ready")
    for namespace in (API_NAMESPACE, TRITON_NAMESPACE):
        for pod in store.list("pods", namespace):
            status = pod.get("status") or {}
            if pod["metadata"].get("deletionTimestamp") or status.get("phase") in ("Failed", "Succeeded"):
                continue
            waiting = [
                (c.get("state") or {}).get("waiting", {}).get("reason") for c in status.get("containerStatuses") or []
            ]
            if "CrashLoopBackOff" in waiting:
                problems.append(f"pod {namespace}/{pod['metadata']['name']}: CrashLoopBackOff")
            elif status.get("phase") == "Pending":
                problems.append(f"pod {namespace}/{pod['metadata']['name']}: Pending")
    for node in store.list("nodes"):
        ready = next((c for c in node["status"].get("conditions", []) if c["type"] == "Ready"), None)
        if ready is None or ready["status"] != "True":
            problems.append(f"node {node['metadata']['name']}: not Ready")
    if not world.triton.is_ready():
        problems.append("triton: not ready")
    used, capacity = world.volume_usage(API_NAMESPACE, MODEL_STORAGE)
    if capacity and used >= 0.95 * capacity:
        problems.append(f"pvc {MODEL_STORAGE}: {used * 100 // capacity}% used")
    problems += _ingress_problems(world)
    if world.load() > SATURATED_LOAD:
        problems.append(f"triton: offered load {world.load():.0%} of capacity")
    return problems


def _ingress_problems(world: World) -> list[str]:
    problems = []
    for ingress in world.store.list("ingresses.networking.k8s.io"):
        name = ingress["metadata"]["name"]
        if not ((ingress.get("status") or {}).get("loadBalancer") or {}).get("ingress"):
            problems.append(f"ingress {name}: no address")
        for rule in ingress["spec"].get("rules") or []:
            for path in (rule.get("http") or {}).get("paths") or []:
                backend = path["backend"]["service"]["name"]
                endpoints = world.store.get("endpoints", ingress["metadata"]["namespace"], backend) or {}
                if not any(subset.get("addresses") for subset in endpoints.get("subsets") or []):
                    problems.append(f"ingress {name}: backend {backend} has no ready endpoints")
    return problems


def is_healthy(world: World) -> bool:
    return not health_problems(world)
