"""The simulated cluster over time.

One :class:`World` holds the object store, the clock and its timers, the pods' simulation state, the
GPUs, the traffic, the persistent volumes' files, and the in-cluster servers (Triton, nimify-api, DCGM,
Prometheus). Simulated time advances in steps of at most a second; the speed factor sets how many simulated
seconds pass per wall second. It implements :class:`~nimify_tui.sim.contract.WorldView` for the in-cluster
servers.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math
import random
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from nimify_tui.sim.contract import InClusterServer, SimGPU, Traffic
from nimify_tui.sim.dcgm import DcgmSim
from nimify_tui.sim.k8s import objects
from nimify_tui.sim.k8s.controllers import Controllers
from nimify_tui.sim.k8s.kubelet import Kubelet
from nimify_tui.sim.k8s.layout import (
    API_NAMESPACE,
    INGRESS_NAMESPACE,
    MODEL_STORAGE,
    MONITORING_NAMESPACE,
    TRITON_NAMESPACE,
    build_cluster,
)
from nimify_tui.sim.k8s.pods import GPU_RESOURCE, ContainerRun, Fate, PodRun
from nimify_tui.sim.k8s.quantity import byte_count, cpu_millis, format_cpu_nanos, format_memory_ki
from nimify_tui.sim.k8s.scheduler import Scheduler
from nimify_tui.sim.k8s.store import Change, ObjectStore, Pulse
from nimify_tui.sim.k8s.volumes import VolumeFiles, model_storage
from nimify_tui.sim.k8s.workloads import (
    DATABASE_HOST,
    DATABASE_PORT,
    LOG_GENERATOR_APP,
    LOG_LINES_KEPT,
    MIB,
    LogContext,
    bad_config_lines,
    config_error_lines,
    log_gen_lines,
    nginx_wedged_lines,
    no_space_lines,
    oom_lines,
    workload,
)
from nimify_tui.sim.nimify_api import NimifyApiSim
from nimify_tui.sim.nimify_config import CONFIG_PATH, config_error
from nimify_tui.sim.pod_share import PodShare
from nimify_tui.sim.prom_rules import SimAlertRules
from nimify_tui.sim.prometheus import PrometheusSim, ScrapeTarget
from nimify_tui.sim.triton.models import PER_REPLICA_CAPACITY_RPS
from nimify_tui.sim.triton.server import TritonSim

Obj = dict[str, Any]
TICK_S = 0.25  # wall seconds between clock ticks
STEP_S = 1.0  # longest simulated step
LEASE_RENEW_S = 10.0  # the kubelet renews its node's Lease this often
NODE_STATUS_S = 300.0  # and reports an unchanged node status this often
EVENT_TTL_S = 3600.0
EVENT_LIMIT = 20_000
BASE_OFFERED_RPS = 40.0
MODEL_STORAGE_USED = 61 * 2**30
MODELS_SYNCED_S = 3 * 86400.0  # the current release synced the models to model-storage this long ago
CONFIG_READERS = ("nimify-api", "nimify-worker")  # the apps that load /etc/nimify/config.yaml as they start


@dataclass
class Faults:
    """What a scenario broke; the world's behaviour reads these."""

    memory_mib: dict[str, float] = field(default_factory=dict)  # app -> steady memory use
    crashing_images: set[str] = field(default_factory=set)  # images whose configuration is broken
    missing_images: set[str] = field(default_factory=set)  # images the registry does not have
    offered_rps: float = BASE_OFFERED_RPS  # the offered load ramps towards this


def _annotations_only(change: Change) -> bool:
    """A change to a pod that leaves everything but its annotations (and resourceVersion) as it was."""
    old, new = change.old, change.obj
    if change.resource != "pods" or change.type != "MODIFIED" or old is None:
        return False
    if any(new.get(key) != old.get(key) for key in set(new) | set(old) if key != "metadata"):
        return False
    ignored = ("annotations", "resourceVersion", "managedFields")
    meta_new, meta_old = new.get("metadata") or {}, old.get("metadata") or {}
    return all(meta_new.get(key) == meta_old.get(key) for key in set(meta_new) | set(meta_old) if key not in ignored)


class World:
    """The simulated cluster; see the module docstring."""

    def __init__(
        self,
        *,
        seed: int = 7,
        extra_pods: int = 0,
        event_rate: float = 0.0,
        start: float | None = None,
        load_namespaces: tuple[str, ...] = (API_NAMESPACE,),
        log_rate: float = 0.0,
    ) -> None:
        self.store = ObjectStore()
        self.pulse = Pulse()
        self.rng = random.Random(seed)
        self.speed = 1.0
        self.scenario = "healthy"
        self.event_rate = event_rate
        self.log_rate = log_rate  # lines a second the log-gen pod writes (simulated seconds)
        self._log_due = 0.0
        self.faults = Faults()
        self.offered_rps = BASE_OFFERED_RPS
        self.load_balancer_hostname = "k8s-ingressn-ingressn-5e4f3a2b1c-0123456789abcdef.elb.us-east-1.amazonaws.com"
        self._now = time.time() if start is None else start
        # what the persistent volumes hold: (namespace, claim) -> files; model-storage as the current release synced it
        self.volumes: dict[tuple[str, str], VolumeFiles] = {
            (API_NAMESPACE, MODEL_STORAGE): model_storage(self._now, MODEL_STORAGE_USED, self._now - MODELS_SYNCED_S)
        }
        self._timers: list[tuple[float, int, Callable[[], None]]] = []
        self._timer_seq = itertools.count()
        self._gpus: dict[str, list[SimGPU]] = {}
        self._traffic = Traffic(offered_rps=self.offered_rps)
        # each service's ready pods, with the versions they were worked out at (see ready_backends)
        self._backends: dict[tuple[str, str], tuple[tuple[int, int], list[PodRun]]] = {}
        self._event_keys: dict[tuple[str, ...], str] = {}
        self._event_order: deque[tuple[str, str, tuple[str, ...]]] = deque()
        self._event_seq = itertools.count()
        self._noise_due = 0.0
        self._allocatable: dict[str, tuple[str, dict[str, int]]] = {}
        self._triton_generation: set[str] = set()
        self._next_lease = self._now + LEASE_RENEW_S
        self._reacted_rv = 0  # the store's version when the controllers last acted on writes through the API
        self._next_node_status = self._now + NODE_STATUS_S
        self.scheduler = Scheduler(self)
        self.kubelet = Kubelet(self)
        self.controllers = Controllers(self)
        self.triton = TritonSim(self)
        self.nimify_api = NimifyApiSim(self, self.triton)
        self.dcgm = DcgmSim(self)
        self.prometheus = PrometheusSim(self, self.scrape_targets)
        # the runbook's alert rules, loaded as `nimify-tui rules` prints them (a test may load others, or none)
        self.prometheus_rules = SimAlertRules(self, self.nimify_api.metrics_text, self.prometheus.nimify_api_up)
        self.prometheus.rules = self.prometheus_rules
        build_cluster(self, extra_pods, load_namespaces, log_gen=log_rate > 0)
        self.controllers.reconcile()
        self._update_traffic()
        self._update_gpus(600.0)

    # --- WorldView ------------------------------------------------------------------------------

    def now(self) -> float:
        return self._now

    def traffic(self) -> Traffic:
        return self._traffic

    def gpus(self) -> list[SimGPU]:
        return [gpu for node in sorted(self._gpus) for gpu in self._gpus[node]]

    def ready_pods(self, namespace: str, app: str) -> list[str]:
        return sorted(run.name for run in self.kubelet.app_runs(namespace, app) if run.ready)

    # --- the clock ------------------------------------------------------------------------------

    def at(self, t: float, action: Callable[[], None]) -> None:
        heapq.heappush(self._timers, (t, next(self._timer_seq), action))

    def after(self, delay: float, action: Callable[[], None]) -> None:
        self.at(self._now + delay, action)

    def advance(self, seconds: float) -> None:
        """Run the world ``seconds`` of simulated time forward, in steps of at most ``STEP_S``."""
        end = self._now + max(0.0, seconds)
        while self._now < end:
            start = self._now
            step_end = min(end, start + STEP_S)
            while self._timers and self._timers[0][0] <= step_end:
                when, _, action = heapq.heappop(self._timers)
                self._now = max(self._now, when)
                action()
            self._now = step_end
            self._step(step_end - start)

    async def run_clock(self) -> None:
        """Advance with wall time times ``speed``, a tick every ``TICK_S``, until cancelled."""
        loop = asyncio.get_running_loop()
        last = loop.time()
        while True:
            await asyncio.sleep(TICK_S)
            wall = loop.time()
            self.advance((wall - last) * self.speed)
            last = wall
            self.pulse.fire()

    def react(self) -> None:
        """Let the controllers act on a write made through the API now, not at the next tick; a write that only
        changed pods' annotations (what an update storm's patcher does, 1,000 a second) gives them nothing to do."""
        changes = self.store.changes_since(self._reacted_rv)
        self._reacted_rv = self.store.resource_version
        if changes and all(_annotations_only(change) for change in changes):
            self.pulse.fire()
            return
        self.kubelet.version += 1
        self.controllers.reconcile()
        self.kubelet.flush()
        self._update_traffic()
        self._reacted_rv = self.store.resource_version
        self.pulse.fire()

    def _step(self, dt: float) -> None:
        self.offered_rps += (self.faults.offered_rps - self.offered_rps) * min(1.0, dt / 15.0)
        self.controllers.reconcile()
        self._check_triton_replaced()
        self._update_traffic()
        self._update_gpus(dt)
        for server in (self.triton, self.nimify_api, self.dcgm, self.prometheus):
            server.tick(dt)
        self._noise(dt)
        self._log_gen(dt)
        self._prune_events()
        self._heartbeats()
        self.kubelet.flush()

    # --- objects --------------------------------------------------------------------------------

    def new_uid(self) -> str:
        bits = self.rng.getrandbits(128)
        text = f"{bits:032x}"
        return f"{text[:8]}-{text[8:12]}-4{text[13:16]}-a{text[17:20]}-{text[20:]}"

    def create_pod(
        self,
        owner: Obj,
        template: Obj,
        prefix: str,
        node_name: str | None = None,
        running_since: float | None = None,
    ) -> Obj:
        """A new pod of ``owner``; ``running_since`` makes it one that has been running since then."""
        namespace = owner["metadata"]["namespace"]
        name = f"{prefix}-{''.join(self.rng.choice(objects.NAME_ALPHABET) for _ in range(5))}"
        while self.store.get("pods", namespace, name) is not None:
            name = f"{prefix}-{''.join(self.rng.choice(objects.NAME_ALPHABET) for _ in range(5))}"
        created = self._now if running_since is None else running_since - 3
        pod = objects.pod(name, namespace, created, self.new_uid(), template, owner)
        if node_name is not None:
            pod["spec"]["nodeName"] = node_name
            term = {"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node_name]}]}
            pod["spec"]["affinity"] = {
                "nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [term]}}
            }
        stored = self.store.put("pods", pod)
        self.kubelet.adopt(stored, running_since=running_since)
        return stored

    def delete_pod(self, namespace: str, name: str, grace: float | None) -> None:
        """Delete a pod gracefully (``grace`` None: its terminationGracePeriodSeconds)."""
        run = self.kubelet.runs.get((namespace, name))
        stored = self.store.get("pods", namespace, name)
        if run is None:
            if stored is not None:
                self.store.delete("pods", namespace, name)
            return
        if grace is None:
            grace = float((stored or {}).get("spec", {}).get("terminationGracePeriodSeconds", 30))
        self.kubelet.delete(run, grace)
        self.kubelet.flush()

    def record_event(
        self,
        obj: Obj,
        event_type: str,
        reason: str,
        message: str,
        component: str,
        host: str | None = None,
        field_path: str | None = None,
    ) -> None:
        """A core/v1 Event about ``obj``; a repeat of the same one bumps its count and lastTimestamp."""
        ref = objects.object_ref(obj, field_path)
        namespace = ref.get("namespace") or "default"
        key = (namespace, ref["uid"], field_path or "", event_type, reason, message, component)
        name = self._event_keys.get(key)
        existing = self.store.get("events", namespace, name) if name else None
        if existing is not None:
            self.store.put(
                "events",
                {
                    **existing,
                    "involvedObject": ref,
                    "count": existing["count"] + 1,
                    "lastTimestamp": objects.rfc3339(self._now),
                },
            )
            return
        name = f"{ref['name']}.{int(self._now * 1e9) + next(self._event_seq):x}"
        self._event_keys[key] = name
        self._event_order.append((namespace, name, key))
        self.store.put(
            "events",
            objects.event(name, ref, self._now, self.new_uid(), event_type, reason, message, component, host),
        )

    def _prune_events(self) -> None:
        """Events live an hour after their last occurrence, and there are at most ``EVENT_LIMIT``."""
        for _ in range(len(self._event_order)):
            namespace, name, key = self._event_order[0]
            event = self.store.get("events", namespace, name)
            too_many = len(self._event_order) > EVENT_LIMIT
            fresh = event is not None and self._now - objects.parse_time(event["lastTimestamp"]) < EVENT_TTL_S
            if fresh and not too_many:
                return
            self._event_order.popleft()
            self._event_keys.pop(key, None)
            if event is not None:
                self.store.delete("events", namespace, name)

    def _noise(self, dt: float) -> None:
        """Background events at ``event_rate`` per second, on pods in the API namespace."""
        if self.event_rate <= 0:
            return
        self._noise_due += self.event_rate * dt
        runs = [run for run in self.kubelet.runs.values() if run.namespace == API_NAMESPACE and run.ip]
        while self._noise_due >= 1.0 and runs:
            self._noise_due -= 1.0
            run = self.rng.choice(runs)
            pod = self.store.get("pods", *run.key)
            if pod is None:
                continue
            path = f"spec.containers{{{run.containers[0].name}}}"
            if self.rng.random() < 0.5:
                message = (
                    f'Readiness probe failed: Get "http://{run.ip}:8000/ready": context deadline exceeded '
                    "(Client.Timeout exceeded while awaiting headers)"
                )
                self.record_event(pod, "Warning", "Unhealthy", message, "kubelet", run.node, path)
            else:
                took = self.rng.uniform(0.1, 0.9)
                message = f"Liveness probe succeeded after {took:.3f}s"
                self.record_event(pod, "Normal", "ProbeSucceeded", message, "kubelet", run.node, path)

    def _log_gen(self, dt: float) -> None:
        """The log-gen pod's running container writes ``log_rate`` numbered lines a simulated second; its log
        keeps 10 s of them, so that a follower woken late still gets every line."""
        if self.log_rate <= 0:
            return
        self._log_due += self.log_rate * dt
        count = int(self._log_due)
        if count <= 0:
            return
        self._log_due -= count
        for run in self.kubelet.app_runs(API_NAMESPACE, LOG_GENERATOR_APP):
            for c in run.containers:
                if c.state == "running":
                    c.log.keep(max(LOG_LINES_KEPT, int(self.log_rate * 10)))
                    c.log.write_lines(log_gen_lines(self._now, c.log.written + 1, count))

    # --- nodes and GPUs -------------------------------------------------------------------------

    def _heartbeats(self) -> None:
        """The kubelets renew their Leases every 10 s and report their node status every 5 minutes."""
        stopped = self.kubelet.stopped
        if self._now >= self._next_lease:
            self._next_lease = self._now + LEASE_RENEW_S
            for lease in self.store.list("leases.coordination.k8s.io", "kube-node-lease"):
                if lease["metadata"]["name"] in stopped:
                    continue
                spec = {**lease["spec"], "renewTime": objects.rfc3339_micro(self._now)}
                self.store.put("leases.coordination.k8s.io", {**lease, "spec": spec})
        if self._now >= self._next_node_status:
            self._next_node_status = self._now + NODE_STATUS_S
            stamp = objects.rfc3339(self._now)
            for node in self.store.list("nodes"):
                if node["metadata"]["name"] in stopped:
                    continue
                conditions = [{**c, "lastHeartbeatTime": stamp} for c in node["status"]["conditions"]]
                self.store.put("nodes", {**node, "status": {**node["status"], "conditions": conditions}})

    def stop_kubelet(self, node_name: str) -> None:
        """The kubelet on ``node_name`` stops (the machine hangs or drops off the network): it renews no Lease,
        posts no status, and its pods stay as it last reported them."""
        self.kubelet.stopped.add(node_name)

    def add_gpus(self, node_name: str, gpus: list[SimGPU]) -> None:
        self._gpus[node_name] = gpus

    def gpus_on(self, node_name: str) -> list[SimGPU]:
        return self._gpus.get(node_name, [])

    def allocatable(self, node: Obj) -> dict[str, int]:
        """A node's allocatable cpu (millicores), memory (bytes) and GPUs."""
        name, rv = node["metadata"]["name"], node["metadata"].get("resourceVersion", "")
        cached = self._allocatable.get(name)
        if cached is not None and cached[0] == rv:
            return cached[1]
        raw = node["status"].get("allocatable") or {}
        parsed = {
            "cpu": cpu_millis(raw.get("cpu", 0)),
            "memory": byte_count(raw.get("memory", 0)),
            GPU_RESOURCE: byte_count(raw.get(GPU_RESOURCE, 0)),
        }
        self._allocatable[name] = (rv, parsed)
        return parsed

    def fail_gpu(self, gpu: SimGPU, xid: int) -> None:
        """A GPU drops out (an XID error): unhealthy, and no longer allocatable on its node."""
        gpu.healthy, gpu.last_xid = False, xid
        gpu.utilization_pct = gpu.memory_used_mib = gpu.power_w = 0.0
        node = self.store.get("nodes", "", gpu.node)
        if node is None:
            return
        healthy = sum(1 for g in self.gpus_on(gpu.node) if g.healthy)
        status = {**node["status"], "allocatable": {**node["status"]["allocatable"], GPU_RESOURCE: str(healthy)}}
        self.store.put("nodes", {**node, "status": status})
        self.scheduler.capacity_changed = True

    def _update_gpus(self, dt: float) -> None:
        """Utilization, memory, temperature and power follow the load on the GPUs Triton serves from."""
        serving = [gpu for gpu in self.gpus() if gpu.healthy and self._serves(gpu)]
        load = 0.0
        if serving and self.triton.is_ready() and self._traffic.api_ready_replicas:
            load = self.offered_rps / (len(serving) * PER_REPLICA_CAPACITY_RPS)
        for gpu in self.gpus():
            if not gpu.healthy:
                continue
            wobble = 1.0 + 0.04 * math.sin(self._now / 5.0 + gpu.index)
            util = min(100.0, 100.0 * load * wobble) if gpu in serving else 0.0
            held = gpu.pod is not None and gpu.namespace == TRITON_NAMESPACE
            memory = 14_200.0 + 60.0 * util if held else 0.0
            temperature = 31.0 + 0.42 * util
            power = 34.0 + (0.9 * gpu.power_limit_w - 34.0) * util / 100.0 + (12.0 if held else 0.0)
            gpu.utilization_pct = _approach(gpu.utilization_pct, util, dt, 4.0)
            gpu.memory_used_mib = _approach(gpu.memory_used_mib, memory, dt, 8.0)
            gpu.temperature_c = _approach(gpu.temperature_c, temperature, dt, 45.0)
            gpu.power_w = _approach(gpu.power_w, power, dt, 4.0)

    def _serves(self, gpu: SimGPU) -> bool:
        if gpu.pod is None or gpu.namespace != TRITON_NAMESPACE:
            return False
        run = self.kubelet.runs.get((gpu.namespace, gpu.pod))
        return run is not None and run.ready

    # --- traffic and the in-cluster servers -----------------------------------------------------

    def _update_traffic(self) -> None:
        triton_ready = len(self.ready_pods(TRITON_NAMESPACE, "triton-server"))
        capacity = triton_ready * PER_REPLICA_CAPACITY_RPS
        load = self.offered_rps / capacity if capacity else 0.0
        database_was = self._traffic.database_error
        self._traffic = Traffic(
            offered_rps=self.offered_rps,
            api_ready_replicas=sum(
                1 for run in self.kubelet.app_runs(API_NAMESPACE, "nimify-api") if self._served(run)
            ),
            triton_ready_replicas=triton_ready,
            gpu_saturation=max(0.0, load - 1.0),
            database_error=self._database_error(),
            notes={"scenario": self.scenario},
        )
        if self._traffic.database_error and not database_was:
            for run in self.kubelet.app_runs(API_NAMESPACE, "nimify-api"):
                self.kubelet.probe_soon(run)

    def _in_service(self, run: PodRun) -> bool:
        """Whether the nimify-api service selects the pod (by its labels; ready or not)."""
        service = self.store.get("services", API_NAMESPACE, "nimify-api")
        return service is not None and self.selects(service, run)

    def selects(self, service: Obj, run: PodRun) -> bool:
        """Whether ``service``'s selector picks the pod of ``run`` (by its labels; ready or not)."""
        if run.namespace != service["metadata"]["namespace"]:
            return False
        pod = self.store.get("pods", *run.key)
        if pod is None:
            return False
        labels = pod["metadata"].get("labels") or {}
        selector = service["spec"].get("selector") or {}
        return bool(selector) and all(labels.get(key) == value for key, value in selector.items())

    def ready_backends(self, service: Obj) -> list[PodRun]:
        """The ready pods ``service`` selects (its endpoints), by name."""
        meta = service["metadata"]
        # a pod's readiness reaches the kubelet's version when its status is written (every change is, when the
        # kubelet is settled), its labels and the service's selector the store's
        versions = (self.kubelet.version, self.store.resource_version)
        known = self._backends.get((meta["namespace"], meta["name"]))
        if known is not None and known[0] == versions and self.kubelet.settled:
            return known[1]
        runs = self.kubelet.namespace_runs(meta["namespace"])
        found = sorted((run for run in runs if self.selects(service, run) and run.ready), key=lambda run: run.name)
        self._backends[(meta["namespace"], meta["name"])] = (versions, found)
        return found

    def _served(self, run: PodRun) -> bool:
        """A nimify-api pod that requests reach: ready, and behind the service."""
        return run.ready and self._in_service(run)

    def _database_error(self) -> str:
        """How a connection to the database fails now ("" when postgres serves): with no ready endpoint behind
        its service, the service address refuses connections."""
        if self.ready_pods(API_NAMESPACE, "postgres"):
            return ""
        service = self.store.get("services", API_NAMESPACE, "postgres")
        address = (service or {}).get("spec", {}).get("clusterIP", "")
        return f'connection to server at "{DATABASE_HOST}" ({address}), port {DATABASE_PORT} failed: Connection refused'

    def log_context(self, run: PodRun, t: float) -> LogContext:
        """What the pod's app may mention in the lines it writes at ``t``."""
        return LogContext(
            t,
            run.name,
            run.node or "",
            self.rng,
            predict_ok=self.predict_ok(),
            database_error=self._traffic.database_error,
            in_service=run.app != "nimify-api" or self._in_service(run),
        )

    def readiness_failure(self, run: PodRun) -> str:
        """Why the pod's readiness probe fails now, as the kubelet words it ("" when it passes)."""
        if run.wedged:
            return "HTTP probe failed with statuscode: 500"
        if run.app == "nimify-api" and self._traffic.database_error:
            return "HTTP probe failed with statuscode: 503"
        return ""

    def load(self) -> float:
        """Offered load over what the ready Triton replicas can serve (above 0.8 queueing dominates)."""
        capacity = self._traffic.triton_ready_replicas * PER_REPLICA_CAPACITY_RPS
        return self.offered_rps / capacity if capacity else math.inf

    def predict_ok(self) -> bool:
        return self.triton.is_ready()

    def http_server(self, namespace: str, app: str, node: str) -> InClusterServer | None:
        """The simulated server behind a pod, or None for pods that serve no HTTP."""
        if (namespace, app) == (MONITORING_NAMESPACE, "dcgm-exporter"):
            return self.dcgm.for_node(node)
        servers: dict[tuple[str, str], InClusterServer] = {
            (API_NAMESPACE, "nimify-api"): self.nimify_api,
            (TRITON_NAMESPACE, "triton-server"): self.triton,
            (MONITORING_NAMESPACE, "prometheus"): self.prometheus,
        }
        return servers.get((namespace, app))

    def scrape_targets(self) -> list[ScrapeTarget]:
        """The pods Prometheus scrapes (nimify-api on 9090, Triton on 8002): each that has an IP, and whether its
        metrics port answers (its first container runs)."""
        jobs = ((API_NAMESPACE, "nimify-api", "nimify-api", 9090), (TRITON_NAMESPACE, "triton-server", "triton", 8002))
        return [
            ScrapeTarget(
                job, namespace, run.name, run.ip, port, run.phase == "Running" and run.containers[0].state == "running"
            )
            for namespace, app, job, port in jobs
            for run in sorted(self.kubelet.app_runs(namespace, app), key=lambda r: r.name)
            if run.ip and run.active and run.containers
        ]

    def pod_server(self, namespace: str, app: str, node: str) -> InClusterServer | None:
        """The server behind one pod (the pod proxy): its share of the fleet's counters, not all of them."""
        server = self.http_server(namespace, app, node)
        if server is None or (namespace, app) not in (
            (API_NAMESPACE, "nimify-api"),
            (TRITON_NAMESPACE, "triton-server"),
        ):
            return server
        return PodShare(server, lambda: len(self.ready_pods(namespace, app)), scale_metrics=app == "nimify-api")

    def container_started(self, run: PodRun, c: ContainerRun, quiet: bool) -> None:
        """Track which Triton processes run: when every one of them was replaced, Triton restarted."""
        if (run.namespace, run.app) != (TRITON_NAMESPACE, "triton-server"):
            return
        if quiet:
            self._triton_generation.add(run.name)
        else:
            self._triton_generation.discard(run.name)

    def _check_triton_replaced(self) -> None:
        running = {
            run.name
            for run in self.kubelet.app_runs(TRITON_NAMESPACE, "triton-server")
            if run.active and any(c.state == "running" for c in run.containers)
        }
        if running and not running & self._triton_generation:
            self.triton.restart()
            self._triton_generation = running

    # --- container behaviour --------------------------------------------------------------------

    def steady_memory_mib(self, app: str) -> float:
        return self.faults.memory_mib.get(app, workload(app).memory_mib)

    def set_memory_use(self, app: str, mib: float) -> None:
        """The app's containers now settle at ``mib``; running ones over their limit get OOM-killed."""
        self.faults.memory_mib[app] = mib
        for run in self.kubelet.runs.values():
            if run.app == app:
                for c in run.containers:
                    self.kubelet.refate(run, c)

    def pull_failure(self, image: str) -> str:
        """Why pulling ``image`` fails, as containerd reports it ("" when the registry has it)."""
        if image not in self.faults.missing_images:
            return ""
        return (
            f'rpc error: code = NotFound desc = failed to pull and unpack image "{image}": '
            f'failed to resolve reference "{image}": {image}: not found'
        )

    def container_fate(self, run: PodRun, c: ContainerRun) -> Fate | None:
        """How a container instance that starts now will end, given what is broken."""
        if run.app in CONFIG_READERS:
            refused = config_error(self.kubelet.mounted_file(run, c.name, CONFIG_PATH))
            if refused:
                app = run.app
                return Fate(
                    self.rng.uniform(1.0, 2.0),
                    "Error",
                    1,
                    lambda t: config_error_lines(t, app, refused),
                    replaces_startup=True,
                )
        if c.image in self.faults.crashing_images:
            image = c.image
            return Fate(self.rng.uniform(2.0, 4.0), "Error", 1, lambda t: bad_config_lines(t, image))
        pod = self.store.get("pods", *run.key)
        if run.app == "nimify-api" and pod is not None and self._volume_full(pod):
            return Fate(self.rng.uniform(2.5, 4.0), "Error", 1, no_space_lines)
        if c.memory_limit is not None:
            steady = self.steady_memory_mib(run.app) * MIB
            if steady > c.memory_limit:
                limit_mib = c.memory_limit / MIB
                after = max(0.5, 10.0 * (c.memory_limit / steady - 0.3) / 0.7)
                return Fate(after, "OOMKilled", 137, lambda t: oom_lines(t, 0.99 * limit_mib, limit_mib))
        return None

    def volume_usage(self, namespace: str, claim: str) -> tuple[int, int]:
        """(bytes used, bytes of capacity) of a claim's volume."""
        pvc = self.store.get("persistentvolumeclaims", namespace, claim)
        capacity = byte_count(((pvc or {}).get("status", {}).get("capacity") or {}).get("storage", "0"))
        files = self.volumes.get((namespace, claim))
        return (files.used() if files is not None else 0), capacity

    def _volume_full(self, pod: Obj) -> bool:
        for volume in pod["spec"].get("volumes") or []:
            claim = (volume.get("persistentVolumeClaim") or {}).get("claimName")
            if claim:
                used, capacity = self.volume_usage(pod["metadata"]["namespace"], claim)
                if capacity and used >= capacity:
                    return True
        return False

    def wedged_lines(self, run: PodRun) -> list[str]:
        return nginx_wedged_lines(self._now) if run.namespace == INGRESS_NAMESPACE else []

    # --- metrics.k8s.io -------------------------------------------------------------------------

    def pod_metrics(self, namespace: str | None = None) -> list[Obj]:
        """PodMetrics of the running pods (in ``namespace``, or all)."""
        found = []
        runs = self.kubelet.runs
        for key in sorted(key for key in runs if namespace is None or key[0] == namespace):
            run = runs[key]
            if run.phase != "Running":
                continue
            if run.node in self.kubelet.stopped:  # metrics-server cannot scrape a kubelet that stopped
                continue
            pod = self.store.get("pods", *key)
            if pod is None:
                continue
            usage = [
                (c.name, format_cpu_nanos(self._cpu_cores(run, c)), format_memory_ki(self._memory(run, c)))
                for c in run.containers
                if c.state == "running"
            ]
            if usage:
                found.append(objects.pod_metrics(pod, self._now, usage))
        return found

    def node_metrics(self) -> list[Obj]:
        cpu: dict[str, float] = {}
        memory: dict[str, float] = {}
        for run in self.kubelet.runs.values():
            if run.node is None or run.phase != "Running":
                continue
            for c in run.containers:
                cpu[run.node] = cpu.get(run.node, 0.0) + self._cpu_cores(run, c)
                memory[run.node] = memory.get(run.node, 0.0) + self._memory(run, c)
        return [
            objects.node_metrics(
                node,
                self._now,
                format_cpu_nanos(0.18 + cpu.get(node["metadata"]["name"], 0.0)),
                format_memory_ki(1.35 * 2**30 + memory.get(node["metadata"]["name"], 0.0)),
            )
            for node in self.store.list("nodes")
            if node["metadata"]["name"] not in self.kubelet.stopped
        ]

    def _memory(self, run: PodRun, c: ContainerRun) -> float:
        return self.kubelet.memory_bytes(run, c, self._now)

    def _cpu_cores(self, run: PodRun, c: ContainerRun) -> float:
        if c.state != "running":
            return 0.0
        work = workload(run.app)
        jitter = 1.0 + 0.08 * math.sin(self._now / 3.0 + len(run.name) + c.restart_count)
        if not work.cpu_per_rps:  # an app the traffic does not load (50,000 load pods: no Triton check each)
            return work.cpu_cores * jitter
        replicas = max(1, len(self.ready_pods(run.namespace, run.app)))
        served = self.offered_rps if self.predict_ok() else 0.1 * self.offered_rps
        return (work.cpu_cores + work.cpu_per_rps * served / replicas) * jitter


def _approach(value: float, target: float, dt: float, tau: float) -> float:
    """Move ``value`` towards ``target`` as a first-order lag with time constant ``tau``."""
    return value + (target - value) * (1.0 - math.exp(-dt / tau))
