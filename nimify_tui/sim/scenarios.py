"""Named outages of the simulated cluster, each following the runbook, and a check that the world is healthy.

Every scenario starts from the healthy cluster, breaks one thing, and runs for its warm-up time before
anyone looks, so the symptom is already there (restarts counted, events aggregated, logs written).
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from nimify_tui.sim.k8s import objects
from nimify_tui.sim.k8s.layout import (
    API_HOST,
    API_IMAGE,
    API_NAMESPACE,
    INGRESS_NAMESPACE,
    MODEL_STORAGE,
    TLS_SECRET,
    TRITON_NAMESPACE,
    api_template,
    tls_data,
)
from nimify_tui.sim.k8s.tls import expiry
from nimify_tui.sim.k8s.volumes import fill_with_stale_cache
from nimify_tui.sim.k8s.workloads import gpu_lost_lines, nginx_expired_certificate_lines, triton_load_failed_lines
from nimify_tui.sim.k8s.world import World
from nimify_tui.sim.triton.models import SERVED_MODEL

SATURATED_LOAD = 0.8  # offered load over Triton capacity beyond which queueing dominates
STUCK_WAITING = ("CrashLoopBackOff", "ImagePullBackOff", "ErrImagePull")  # waiting reasons that are problems
BAD_RELEASE = "1.9.0"
OOM_MEMORY_MIB = 1434.0  # ~1.4Gi
SPIKE_RPS = 480.0
TRITON_LOAD_FAILURE = (
    "Internal: onnx runtime error 6: Exception during initialization: CUDA failure 2: out of memory ; "
    "GPU=0 ; expr=cudaMalloc(&p, size)"
)
BAD_CONFIG_KEY = "max_batch_sise"  # a misspelt max_batch_size
MISSING_RELEASE = "1.9.1"  # a tag the build never pushed
RELABELLED_RELEASE = "1.8.3"
RELABELLED_TIER = "serving"
CERTIFICATE_EXPIRED_S = 3 * 3600.0  # how long before the scenario starts the ingress's certificate expired
LOST_NODE = "cpu-node-2"
MANUAL = "manual, outside the TUI's actions: "


@dataclass(frozen=True)
class Scenario:
    name: str
    broken: str  # what is broken
    runbook: str  # the runbook section it follows
    fix: str  # what fixes it, through the API; MANUAL and how, where none of the TUI's actions does
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


def _roll_out(world: World, template: dict[str, Any], cause: str) -> None:
    """A new revision of nimify-api: ``template``, with ``cause`` as its change-cause."""
    deployment = world.store.get("deployments.apps", API_NAMESPACE, "nimify-api")
    assert deployment is not None
    annotations = {**(deployment["metadata"].get("annotations") or {}), objects.CHANGE_CAUSE: cause}
    meta = {
        **deployment["metadata"],
        "annotations": annotations,
        "generation": deployment["metadata"]["generation"] + 1,
    }
    spec = {**deployment["spec"], "template": template}
    world.store.put("deployments.apps", {**deployment, "metadata": meta, "spec": spec})


def _bad_rollout(world: World) -> None:
    world.faults.crashing_images.add(f"{API_IMAGE}:{BAD_RELEASE}")
    _roll_out(world, api_template(BAD_RELEASE), f"release {BAD_RELEASE}: gRPC client for Triton")


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
    fill_with_stale_cache(world.volumes[(API_NAMESPACE, MODEL_STORAGE)], capacity, world.now())
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


def _config_error(world: World) -> None:
    """Someone added a key to the config and deleted the api pods so that they load it."""
    configmap = world.store.get("configmaps", API_NAMESPACE, "nimify-config")
    assert configmap is not None
    text = configmap["data"]["config.yaml"]
    edited = text.replace("triton:\n", f"triton:\n  {BAD_CONFIG_KEY}: 32\n", 1)
    assert edited != text
    world.store.put("configmaps", {**configmap, "data": {**configmap["data"], "config.yaml": edited}})
    for run in world.kubelet.app_runs(API_NAMESPACE, "nimify-api"):
        world.delete_pod(run.namespace, run.name, None)


def _image_pull(world: World) -> None:
    world.faults.missing_images.add(f"{API_IMAGE}:{MISSING_RELEASE}")
    _roll_out(world, api_template(MISSING_RELEASE), f"release {MISSING_RELEASE}: batched predict")


def _database_down(world: World) -> None:
    _scale(world, API_NAMESPACE, "postgres", 0)


def _service_selector(world: World) -> None:
    template = api_template(RELABELLED_RELEASE)
    template["metadata"]["labels"]["tier"] = RELABELLED_TIER
    _roll_out(world, template, f"release {RELABELLED_RELEASE}: chart 2.0 labels")


def _tls_expired(world: World) -> None:
    secret = world.store.get("secrets", API_NAMESPACE, TLS_SECRET)
    assert secret is not None
    expired_at = world.now() - CERTIFICATE_EXPIRED_S
    world.store.put("secrets", {**secret, "data": tls_data(expired_at)})
    for run in world.kubelet.app_runs(INGRESS_NAMESPACE, "nginx-ingress-controller"):
        for line in nginx_expired_certificate_lines(world.now(), API_HOST, expired_at):
            run.containers[0].log.write(world.now(), line)


def _node_not_ready(world: World) -> None:
    world.stop_kubelet(LOST_NODE)


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
        Scenario(
            "config-error",
            f"ConfigMap nimify-config has an unknown key ({BAD_CONFIG_KEY} under triton): nimify-api pods started "
            "since exit with code 1 at start, CrashLoopBackOff",
            "Scenario 1: Pod Crash Loop (configuration issues)",
            f"kubectl edit configmap nimify-config -n nimify-system (remove {BAD_CONFIG_KEY}), then "
            "kubectl rollout restart deployment nimify-api -n nimify-system",
            60.0,
            _config_error,
        ),
        Scenario(
            "image-pull",
            f"revision 4 of nimify-api needs {API_IMAGE}:{MISSING_RELEASE}, which the registry does not have: "
            "its pod is ImagePullBackOff; revision 3 still serves",
            "Scenario 1: Pod Crash Loop (rollback)",
            "kubectl rollout undo deployment/nimify-api -n nimify-system",
            60.0,
            _image_pull,
        ),
        Scenario(
            "database-down",
            "postgres is scaled to 0: nimify-api runs but is not ready (/ready 503, connections to the database "
            "refused)",
            "Scenario 5: Dependency Failures (database connectivity)",
            "kubectl scale deployment postgres --replicas=1 -n nimify-system",
            60.0,
            _database_down,
        ),
        Scenario(
            "service-selector",
            f"revision 4 of nimify-api labels its pods tier={RELABELLED_TIER}: service nimify-api "
            "(app=nimify-api,tier=frontend) selects none of them; no endpoints while the pods run ready",
            "Scenario 4: Network/Ingress Issues (service endpoints)",
            "kubectl rollout undo deployment/nimify-api -n nimify-system",
            90.0,
            _service_selector,
        ),
        Scenario(
            "tls-expired",
            f"the certificate in secret {TLS_SECRET} (ingress nimify-ingress) expired "
            f"{CERTIFICATE_EXPIRED_S / 3600:.0f} hours ago; everything else is healthy",
            "Scenario 4: Network/Ingress Issues (certificates)",
            "renew the certificate (outside the cluster), then put it in the secret: T in the TUI, or kubectl "
            "create secret tls nimify-tls -n nimify-system --cert=tls.crt --key=tls.key --dry-run=client -o yaml "
            "| kubectl apply -f -",
            30.0,
            _tls_expired,
        ),
        Scenario(
            "node-not-ready",
            f"{LOST_NODE}'s kubelet stopped posting status: Ready is Unknown, the node is tainted unreachable; "
            "after the 300 s toleration its pods were marked for deletion (stuck Terminating) and replaced on "
            "cpu-node-1",
            "Investigation Phase: Check Infrastructure",
            MANUAL + f"bring {LOST_NODE}'s kubelet back (restart it or the instance), or retire the node: "
            f"kubectl drain {LOST_NODE} --ignore-daemonsets --delete-emptydir-data --force, then "
            f"kubectl delete node {LOST_NODE} (its stuck pods go with it)",
            420.0,
            _node_not_ready,
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
    namespaces: tuple[str, ...] = (API_NAMESPACE,),
    log_rate: float = 0.0,
) -> World:
    """The world of ``scenario``, broken ``warmup_s`` simulated seconds before ``now`` (default: wall time)."""
    if scenario not in SCENARIOS:
        raise KeyError(f"unknown scenario {scenario!r}; known: {', '.join(SCENARIOS)}")
    chosen = SCENARIOS[scenario]
    wall = time.time() if now is None else now
    world = World(
        seed=seed,
        extra_pods=pods,
        event_rate=event_rate,
        start=wall - chosen.warmup_s,
        load_namespaces=namespaces,
        log_rate=log_rate,
    )
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
            stuck = next((reason for reason in STUCK_WAITING if reason in waiting), None)
            if stuck is not None:
                problems.append(f"pod {namespace}/{pod['metadata']['name']}: {stuck}")
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
    problems += _service_problems(world)
    problems += _ingress_problems(world)
    if world.load() > SATURATED_LOAD:
        problems.append(f"triton: offered load {world.load():.0%} of capacity")
    return problems


def _service_problems(world: World) -> list[str]:
    """Services whose selector matches no running pod (their Endpoints have no subset at all)."""
    problems = []
    for service in world.store.list("services"):
        selector = service["spec"].get("selector")
        meta = service["metadata"]
        endpoints = world.store.get("endpoints", meta["namespace"], meta["name"]) or {}
        if selector and not endpoints.get("subsets"):
            shown = ",".join(f"{key}={value}" for key, value in sorted(selector.items()))
            problems.append(f"service {meta['namespace']}/{meta['name']}: no endpoints (selector {shown})")
    return problems


def _ingress_problems(world: World) -> list[str]:
    problems = []
    for ingress in world.store.list("ingresses.networking.k8s.io"):
        name = ingress["metadata"]["name"]
        for tls in ingress["spec"].get("tls") or []:
            secret = world.store.get("secrets", ingress["metadata"]["namespace"], tls["secretName"]) or {}
            expires = expiry(base64.b64decode((secret.get("data") or {}).get("tls.crt", "")))
            if expires is not None and expires <= world.now():
                problems.append(
                    f"ingress {name}: the certificate in secret {tls['secretName']} expired {objects.rfc3339(expires)}"
                )
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
