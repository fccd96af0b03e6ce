"""The healthy cluster the runbook describes: its nodes, namespaces, workloads and their objects."""

from __future__ import annotations

import base64
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from nimify_tui.sim.contract import SimGPU
from nimify_tui.sim.k8s import objects
from nimify_tui.sim.k8s.tls import self_signed
from nimify_tui.sim.k8s.workloads import LOG_GENERATOR_APP

if TYPE_CHECKING:
    from nimify_tui.sim.k8s.world import World

Obj = dict[str, Any]
DAY = 86_400.0
API_NAMESPACE = "nimify-system"
TRITON_NAMESPACE = "triton-system"
MONITORING_NAMESPACE = "monitoring"
INGRESS_NAMESPACE = "ingress-nginx"
NAMESPACES = (
    "default",
    "kube-node-lease",
    "kube-system",
    API_NAMESPACE,
    TRITON_NAMESPACE,
    MONITORING_NAMESPACE,
    INGRESS_NAMESPACE,
)
API_IMAGE = "ghcr.io/nimify/nimify-api"
API_RELEASES = (
    ("1.8.0", "release 1.8.0", 30),
    ("1.8.1", "release 1.8.1: retry Triton calls on UNAVAILABLE", 12),
    ("1.8.2", "release 1.8.2: tokenizer cache per model", 3),
)  # (version, change-cause, days ago)
MODEL_STORAGE = "model-storage"
API_HOST = "api.nimify.example.com"
TLS_SECRET = "nimify-tls"
CERTIFICATE_DAYS = 90
API_LABELS = {"app": "nimify-api", "tier": "frontend"}  # nimify-api's pod labels; its service selects both
MODEL_STORAGE_BYTES = 100 * 2**30
GPU_TAINT = {"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}
GPU_TOLERATION = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
GPU_SELECTOR = {"nvidia.com/gpu.present": "true"}
LOAD_PODS_PER_DEPLOYMENT = 100
LOAD_PODS_PER_NODE = 5_000  # load-gen pods a CPU node takes (1m CPU, 4Mi each); more need more CPU nodes
LOAD_NODE_PODS = 5_500  # the pods capacity of a CPU node added for them


@dataclass(frozen=True)
class NodePlan:
    name: str
    ip: str
    pod_cidr: str
    zone: str
    gpus: int
    max_pods: int = 110


NODES = (
    NodePlan("cpu-node-1", "10.0.1.11", "10.244.0.0/24", "us-east-1a", 0),
    NodePlan("cpu-node-2", "10.0.2.12", "10.244.1.0/24", "us-east-1b", 0),
    NodePlan("gpu-node-1", "10.0.1.21", "10.244.2.0/24", "us-east-1a", 4),
    NodePlan("gpu-node-2", "10.0.2.22", "10.244.3.0/24", "us-east-1b", 4),
)


def node_plans(extra_pods: int) -> tuple[NodePlan, ...]:
    """The nodes: the four of the runbook, and CPU nodes cpu-node-3, -4, ... when ``extra_pods`` load pods are
    more than cpu-node-1 and -2 take (``LOAD_PODS_PER_NODE`` each)."""
    added = max(0, math.ceil(extra_pods / LOAD_PODS_PER_NODE) - 2)
    plans = list(NODES)
    for index in range(added):
        number = index + 3
        subnet = 1 + index % 2
        plans.append(
            NodePlan(
                f"cpu-node-{number}",
                f"10.0.{subnet}.{100 + number}",
                f"10.244.{number + 1}.0/24",
                f"us-east-1{'ab'[index % 2]}",
                0,
                LOAD_NODE_PODS,
            )
        )
    return tuple(plans)


_GPU_BUS_IDS = ("00000000:38:00.0", "00000000:3A:00.0", "00000000:3C:00.0", "00000000:3E:00.0")


def _node(world: World, plan: NodePlan, created: float) -> Obj:
    """A node created at ``created`` whose kubelet last reported just now."""
    labels = {
        "kubernetes.io/hostname": plan.name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "topology.kubernetes.io/region": "us-east-1",
        "topology.kubernetes.io/zone": plan.zone,
        "eks.amazonaws.com/nodegroup": "gpu-pool" if plan.gpus else "cpu-pool",
    }
    if plan.gpus:
        labels |= {
            "node.kubernetes.io/instance-type": "g6e.12xlarge",
            "nvidia.com/gpu.present": "true",
            "nvidia.com/gpu.product": "NVIDIA-L40S",
            "nvidia.com/gpu.count": str(plan.gpus),
            "nvidia.com/gpu.memory": "46068",
        }
        capacity = {"cpu": "48", "memory": "395940608Ki", "pods": "110", "ephemeral-storage": "524275692Ki"}
        allocatable = {"cpu": "47810m", "memory": "387408640Ki", "pods": "110", "ephemeral-storage": "482098286080"}
        capacity["nvidia.com/gpu"] = allocatable["nvidia.com/gpu"] = str(plan.gpus)
        taints = [GPU_TAINT]
    else:
        labels["node.kubernetes.io/instance-type"] = "m6i.2xlarge"
        pods = str(plan.max_pods)
        capacity = {"cpu": "8", "memory": "32386544Ki", "pods": pods, "ephemeral-storage": "83873772Ki"}
        allocatable = {"cpu": "7910m", "memory": "31369712Ki", "pods": pods, "ephemeral-storage": "76224326324"}
        taints = []
    machine = f"i-0{world.rng.getrandbits(64):016x}"
    return objects.node(
        plan.name,
        created,
        world.new_uid(),
        plan.ip,
        plan.pod_cidr,
        capacity,
        allocatable,
        labels,
        taints,
        machine,
        heartbeat=world.now(),
    )


def _gpus(world: World, plan: NodePlan) -> list[SimGPU]:
    gpus = []
    for index in range(plan.gpus):
        uuid = (
            f"GPU-{world.rng.getrandbits(32):08x}-{world.rng.getrandbits(16):04x}-{world.rng.getrandbits(16):04x}-"
            + (f"{world.rng.getrandbits(16):04x}-{world.rng.getrandbits(48):012x}")
        )
        gpus.append(
            SimGPU(
                node=plan.name,
                index=index,
                uuid=uuid,
                model_name="NVIDIA L40S",
                pci_bus_id=_GPU_BUS_IDS[index],
                memory_total_mib=46068,
                power_limit_w=350.0,
                temperature_c=31.0,
                power_w=34.0,
            )
        )
    return gpus


# --- pod templates ----------------------------------------------------------------------------


def api_template(version: str, memory_limit: str = "1Gi") -> Obj:
    return objects.pod_template(
        dict(API_LABELS),
        [
            objects.container(
                "nimify-api",
                f"{API_IMAGE}:{version}",
                ports=[("http", 8000), ("metrics", 9090)],
                requests={"cpu": "500m", "memory": "512Mi"},
                limits={"cpu": "1", "memory": memory_limit},
                env={
                    "NIMIFY_CONFIG": "/etc/nimify/config.yaml",
                    "TRITON_URL": "http://triton-server.triton-system.svc.cluster.local:8000",
                    "DATABASE_HOST": "postgres.nimify-system.svc.cluster.local",
                },
                readiness_path="/ready",
                liveness_path="/health",
                mounts={"config": "/etc/nimify", MODEL_STORAGE: "/models"},
            )
        ],
        volumes=[
            {"name": "config", "configMap": {"name": "nimify-config", "defaultMode": 420}},
            {"name": MODEL_STORAGE, "persistentVolumeClaim": {"claimName": MODEL_STORAGE}},
        ],
    )


def _worker_template() -> Obj:
    return objects.pod_template(
        {"app": "nimify-worker", "tier": "batch"},
        [
            objects.container(
                "nimify-worker",
                "ghcr.io/nimify/nimify-worker:1.8.2",
                requests={"cpu": "500m", "memory": "1Gi"},
                limits={"cpu": "1", "memory": "2Gi"},
                env={"NIMIFY_CONFIG": "/etc/nimify/config.yaml", "QUEUE": "batch-inference"},
                mounts={"config": "/etc/nimify"},
            )
        ],
        volumes=[{"name": "config", "configMap": {"name": "nimify-config", "defaultMode": 420}}],
        grace_seconds=10,
    )


def _postgres_template() -> Obj:
    return objects.pod_template(
        {"app": "postgres", "tier": "database"},
        [
            objects.container(
                "postgres",
                "docker.io/library/postgres:16.4",
                ports=[("postgres", 5432)],
                requests={"cpu": "500m", "memory": "1Gi"},
                limits={"cpu": "2", "memory": "2Gi"},
                env={"POSTGRES_DB": "nimify", "POSTGRES_USER": "nimify", "PGDATA": "/var/lib/postgresql/data/pgdata"},
            )
        ],
    )


def _triton_template() -> Obj:
    return objects.pod_template(
        {"app": "triton-server"},
        [
            objects.container(
                "triton-server",
                "nvcr.io/nvidia/tritonserver:24.12-py3",
                args=[
                    "tritonserver",
                    "--model-repository=s3://nimify-models/repository",
                    "--model-control-mode=explicit",
                    "--load-model=nimify-model",
                    "--strict-readiness=false",
                ],
                ports=[("http", 8000), ("grpc", 8001), ("metrics", 8002)],
                requests={"cpu": "4", "memory": "16Gi", "nvidia.com/gpu": "1"},
                limits={"memory": "32Gi", "nvidia.com/gpu": "1"},
                readiness_path="/v2/health/live",
                liveness_path="/v2/health/live",
            )
        ],
        node_selector=GPU_SELECTOR,
        tolerations=[GPU_TOLERATION],
    )


def _prometheus_template() -> Obj:
    return objects.pod_template(
        {"app": "prometheus"},
        [
            objects.container(
                "prometheus",
                "quay.io/prometheus/prometheus:v2.53.1",
                args=["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.retention.time=15d"],
                ports=[("web", 9090)],
                requests={"cpu": "500m", "memory": "2Gi"},
                limits={"memory": "4Gi"},
                readiness_path="/-/ready",
                liveness_path="/-/healthy",
            )
        ],
    )


def _dcgm_template() -> Obj:
    return objects.pod_template(
        {"app": "dcgm-exporter"},
        [
            objects.container(
                "dcgm-exporter",
                "nvcr.io/nvidia/k8s/dcgm-exporter:3.3.8-3.6.0-ubuntu22.04",
                ports=[("metrics", 9400)],
                requests={"cpu": "100m", "memory": "128Mi"},
                limits={"memory": "512Mi"},
                env={"DCGM_EXPORTER_KUBERNETES": "true", "DCGM_EXPORTER_LISTEN": ":9400"},
                readiness_path="/health",
            )
        ],
        node_selector=GPU_SELECTOR,
        tolerations=[GPU_TOLERATION],
    )


def _ingress_controller_template() -> Obj:
    container = objects.container(
        "controller",
        "registry.k8s.io/ingress-nginx/controller:v1.11.3",
        args=["/nginx-ingress-controller", "--ingress-class=nginx", "--publish-service=ingress-nginx/ingress-nginx"],
        ports=[("http", 80), ("https", 443), ("metrics", 10254)],
        requests={"cpu": "100m", "memory": "90Mi"},
        readiness_path="/healthz",
        liveness_path="/healthz",
    )
    for probe in ("readinessProbe", "livenessProbe"):
        container[probe]["httpGet"]["port"] = 10254
    return objects.pod_template({"app": "nginx-ingress-controller"}, [container])


def _load_template(index: int, app: str = "") -> Obj:
    name = app or "load-gen"
    return objects.pod_template(
        {"app": app or f"load-gen-{index}", "tier": "load"},
        [
            objects.container(
                name,
                "ghcr.io/nimify/load-gen:0.3.1",
                requests={"cpu": "1m", "memory": "4Mi"},
                limits={"memory": "16Mi"},
            )
        ],
        grace_seconds=1,
    )


# --- building ---------------------------------------------------------------------------------


def _deployment(
    world: World,
    namespace: str,
    name: str,
    replicas: int,
    revisions: list[tuple[Obj, str | None, float]],
) -> None:
    """A deployment with its revision history: (template, change-cause, created) oldest first; the last
    revision's pods have been running since it was created."""
    first_created = revisions[0][2]
    template, cause, created = revisions[-1]
    annotations = {objects.CHANGE_CAUSE: cause} if cause else None
    deployment = objects.deployment(name, namespace, first_created, world.new_uid(), replicas, template, annotations)
    deployment["metadata"]["generation"] = len(revisions)
    world.store.put("deployments.apps", deployment)
    for number, (rev_template, rev_cause, rev_created) in enumerate(revisions, start=1):
        owner = objects.deployment(
            name, namespace, first_created, deployment["metadata"]["uid"], replicas, rev_template
        )
        if rev_cause:
            owner["metadata"]["annotations"] = {objects.CHANGE_CAUSE: rev_cause}
        current = number == len(revisions)
        rs = objects.replicaset(owner, rev_template, number, replicas if current else 0, rev_created, world.new_uid())
        world.store.put("replicasets.apps", rs)
        if current:
            for _ in range(replicas):
                world.create_pod(rs, rs["spec"]["template"], rs["metadata"]["name"], running_since=created + 20)


def tls_data(not_after: float) -> dict[str, str]:
    """The data of the ingress's TLS secret: a certificate for the API's host valid for ``CERTIFICATE_DAYS`` up to
    ``not_after``, and its key."""
    cert, key = self_signed(API_HOST, not_after - CERTIFICATE_DAYS * DAY, not_after)
    return {"tls.crt": base64.b64encode(cert).decode(), "tls.key": base64.b64encode(key).decode()}


def _tls_secret(world: World, created: float) -> Obj:
    data = tls_data(created + (CERTIFICATE_DAYS - 1) * DAY)  # issued the day before the secret was made
    return objects.secret(TLS_SECRET, API_NAMESPACE, created, world.new_uid(), "kubernetes.io/tls", data)


NIMIFY_CONFIG = """\
server:
  port: 8000
  metrics_port: 9090
triton:
  url: http://triton-server.triton-system.svc.cluster.local:8000
  model: nimify-model
  timeout_s: 5
database:
  host: postgres.nimify-system.svc.cluster.local
  port: 5432
cache:
  path: /models/cache
"""


def load_namespaces(wanted: str) -> tuple[str, ...]:
    """The namespaces ``--namespaces`` names for the extra pods: ``all`` (every namespace but kube-node-lease) or
    names separated by commas, each one of ``NAMESPACES``; ValueError says which name is unknown."""
    if wanted.strip() == "all":
        return tuple(name for name in NAMESPACES if name != "kube-node-lease")
    names = tuple(dict.fromkeys(name.strip() for name in wanted.split(",") if name.strip()))
    if not names:
        raise ValueError("no namespace named")
    unknown = [name for name in names if name not in NAMESPACES]
    if unknown:
        raise ValueError(f"unknown namespace {unknown[0]!r}; known: {', '.join(NAMESPACES)} (or all)")
    return names


def build_cluster(
    world: World, extra_pods: int, namespaces: tuple[str, ...] = (API_NAMESPACE,), log_gen: bool = False
) -> None:
    """Write the healthy cluster into the world's store, every workload already running; the ``extra_pods``
    load-gen pods are deployments of 100 spread in turn over ``namespaces``; ``log_gen``: one more deployment,
    log-gen, whose one pod logs at the world's ``log_rate``."""
    now = world.now()
    born = now - 40 * DAY
    for name in NAMESPACES:
        world.store.put("namespaces", objects.namespace(name, born, world.new_uid()))
    plans = node_plans(extra_pods)
    for plan in plans:
        node = world.store.put("nodes", _node(world, plan, born + 600))
        world.store.put("leases.coordination.k8s.io", objects.node_lease(node, now, world.new_uid()))
        world.add_gpus(plan.name, _gpus(world, plan))
    put = world.store.put
    put("storageclasses.storage.k8s.io", objects.storage_class("cephfs", born, world.new_uid(), "cephfs.csi.ceph.com"))
    put("ingressclasses.networking.k8s.io", objects.ingress_class("nginx", born, world.new_uid()))

    setup = now - 30 * DAY
    ns = API_NAMESPACE
    put("configmaps", objects.configmap("nimify-config", ns, setup, world.new_uid(), {"config.yaml": NIMIFY_CONFIG}))
    put("secrets", _tls_secret(world, setup))
    claim = objects.persistent_volume_claim(
        MODEL_STORAGE, ns, setup, world.new_uid(), "cephfs", MODEL_STORAGE_BYTES, "ReadWriteMany"
    )
    put("persistentvolumeclaims", claim)
    put("persistentvolumes", objects.persistent_volume(claim, setup, world.new_uid()))
    services = (
        (ns, "nimify-api", dict(API_LABELS), [("http", 8000), ("metrics", 9090)]),
        (ns, "postgres", {"app": "postgres"}, [("postgres", 5432)]),
        (
            TRITON_NAMESPACE,
            "triton-server",
            {"app": "triton-server"},
            [("http", 8000), ("grpc", 8001), ("metrics", 8002)],
        ),
        (MONITORING_NAMESPACE, "prometheus", {"app": "prometheus"}, [("web", 9090)]),
        (MONITORING_NAMESPACE, "dcgm-exporter", {"app": "dcgm-exporter"}, [("metrics", 9400)]),
    )
    for index, (svc_ns, name, selector, ports) in enumerate(services):
        put(
            "services",
            objects.service(
                name, svc_ns, setup, world.new_uid(), f"10.100.{index + 10}.{index * 7 + 20}", selector, ports
            ),
        )
    put(
        "ingresses.networking.k8s.io",
        objects.ingress("nimify-ingress", ns, setup, world.new_uid(), API_HOST, TLS_SECRET, ("nimify-api", 8000)),
    )
    put("networkpolicies.networking.k8s.io", objects.network_policy("nimify-api-ingress", ns, setup, world.new_uid()))
    put(
        "poddisruptionbudgets.policy",
        objects.pod_disruption_budget("nimify-api-pdb", ns, setup, world.new_uid(), "nimify-api", 2),
    )
    hard = {"requests.cpu": "4", "requests.memory": "8Gi", "limits.cpu": "8", "limits.memory": "16Gi"}
    put("resourcequotas", objects.resource_quota("nimify-quota", ns, setup, world.new_uid(), hard))

    api_revisions: list[tuple[Obj, str | None, float]] = [
        (api_template(version), cause, now - days * DAY) for version, cause, days in API_RELEASES
    ]
    _deployment(world, TRITON_NAMESPACE, "triton-server", 2, [(_triton_template(), None, setup)])
    _deployment(world, ns, "postgres", 1, [(_postgres_template(), None, setup)])
    _deployment(world, ns, "nimify-api", 3, api_revisions)
    _deployment(world, ns, "nimify-worker", 2, [(_worker_template(), "release 1.8.2", now - 3 * DAY)])
    _deployment(world, MONITORING_NAMESPACE, "prometheus", 1, [(_prometheus_template(), None, setup)])
    _deployment(
        world, INGRESS_NAMESPACE, "nginx-ingress-controller", 1, [(_ingress_controller_template(), None, setup)]
    )
    dcgm = objects.daemonset("dcgm-exporter", MONITORING_NAMESPACE, setup, world.new_uid(), _dcgm_template())
    put("daemonsets.apps", dcgm)
    for plan in plans:
        if plan.gpus:
            world.create_pod(
                dcgm, dcgm["spec"]["template"], "dcgm-exporter", node_name=plan.name, running_since=setup + 60
            )
    for index in range(math.ceil(extra_pods / LOAD_PODS_PER_DEPLOYMENT)):
        replicas = min(LOAD_PODS_PER_DEPLOYMENT, extra_pods - index * LOAD_PODS_PER_DEPLOYMENT)
        load_ns = namespaces[index % len(namespaces)]
        template = _load_template(index + 1)
        _deployment(world, load_ns, f"load-gen-{index + 1}", replicas, [(template, None, now - DAY)])
    if log_gen:
        template = _load_template(0, LOG_GENERATOR_APP)
        _deployment(world, ns, LOG_GENERATOR_APP, 1, [(template, None, now - DAY)])
