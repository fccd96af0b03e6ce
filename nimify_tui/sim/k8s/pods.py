"""The simulation state of one pod and its containers, and the pod ``status`` rendered from it.

A :class:`PodRun` is what the scheduler places and the kubelet runs; the store holds the status
:func:`pod_status` renders from it.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from nimify_tui.sim.contract import SimGPU
from nimify_tui.sim.k8s import objects
from nimify_tui.sim.k8s.quantity import byte_count, cpu_millis
from nimify_tui.sim.k8s.workloads import ContainerLog

Obj = dict[str, Any]
GPU_RESOURCE = "nvidia.com/gpu"


@dataclass(frozen=True)
class Fate:
    """How a container instance ends, decided when it starts: after ``after_s`` it exits."""

    after_s: float
    reason: str  # OOMKilled, Error
    exit_code: int
    lines: Callable[[float], list[str]]
    replaces_startup: bool = False  # it fails while starting: its usual start-up lines are never written


@dataclass
class Condition:
    status: str
    since: float
    reason: str = ""
    message: str = ""


@dataclass
class ContainerRun:
    name: str
    image: str
    memory_limit: int | None  # bytes
    state: str = "waiting"  # waiting, running, terminated
    reason: str = "ContainerCreating"
    message: str = ""
    started_at: float | None = None
    finished_at: float | None = None
    exit_code: int = 0
    ready: bool = False
    restart_count: int = 0
    last_terminated: Obj | None = None
    container_id: str = ""
    epoch: int = 0
    failures: int = 0
    pull_failures: int = 0  # failed pulls of its image in a row
    log: ContainerLog = field(default_factory=ContainerLog)
    previous_log: ContainerLog | None = None


@dataclass
class PodRun:
    namespace: str
    name: str
    uid: str
    app: str
    created: float
    containers: list[ContainerRun]
    requests: dict[str, int]  # cpu in millicores, memory in bytes, GPUs in units
    owner_uid: str | None = None
    node: str | None = None
    ip: str = ""
    host_ip: str = ""
    start_time: float | None = None
    phase: str = "Pending"
    reason: str = ""  # status.reason (Evicted)
    message: str = ""
    conditions: dict[str, Condition] = field(default_factory=dict)
    gpus: list[SimGPU] = field(default_factory=list)
    deletion_at: float | None = None
    holds_resources: bool = False  # counted in its node's requested resources
    next_schedule_at: float = 0.0
    wedged: bool = False  # running but never passes its readiness probe
    unreachable: bool = False  # its node stopped reporting: the node controller set its Ready condition False
    # its ConfigMap volumes as the kubelet last wrote them: volume name -> (when, the ConfigMap's data)
    projected: dict[str, tuple[float, dict[str, str]]] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str]:
        return self.namespace, self.name

    @property
    def active(self) -> bool:
        """Counted by its controller: not being deleted and not finished."""
        return self.deletion_at is None and self.phase not in ("Failed", "Succeeded")

    @property
    def ready(self) -> bool:
        return (
            self.active and not self.unreachable and self.phase == "Running" and all(c.ready for c in self.containers)
        )

    def refresh_ready(self, now: float) -> None:
        """Bring the Ready and ContainersReady conditions up to date with the containers and the phase."""
        unready = [c.name for c in self.containers if not c.ready]
        status = "False" if unready or not self.active else "True"
        reason = "ContainersNotReady" if status == "False" else ""
        message = f"containers with unready status: [{' '.join(unready)}]" if unready else ""
        if self.phase in ("Failed", "Succeeded"):
            reason, message = "PodFailed" if self.phase == "Failed" else "PodCompleted", ""
        for ctype in ("Ready", "ContainersReady"):
            old = self.conditions.get(ctype)
            if old is None or old.status != status or old.message != message:
                since = old.since if old is not None and old.status == status else now
                self.conditions[ctype] = Condition(status, since, reason, message)


def pod_requests(spec: Obj) -> dict[str, int]:
    totals = {"cpu": 0, "memory": 0, GPU_RESOURCE: 0}
    for c in spec.get("containers") or []:
        resources = c.get("resources") or {}
        requests = {**(resources.get("limits") or {}), **(resources.get("requests") or {})}
        totals["cpu"] += cpu_millis(requests.get("cpu", 0))
        totals["memory"] += byte_count(requests.get("memory", 0))
        totals[GPU_RESOURCE] += int(byte_count(requests.get(GPU_RESOURCE, 0)))
    return totals


@functools.lru_cache(maxsize=256)
def _image_id(image: str) -> str:
    repo = image.rpartition(":")[0] if ":" in image.rpartition("/")[2] else image
    return f"{repo}@sha256:{hashlib.sha256(image.encode()).hexdigest()}"


def pod_status(run: PodRun, spec: Obj) -> Obj:
    """The pod's ``status`` in wire format, as the kubelet writes it."""
    status: Obj = {"phase": run.phase, "qosClass": objects.qos_class(spec)}
    order = ("PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled", "DisruptionTarget")
    conditions = []
    for ctype in order:
        cond = run.conditions.get(ctype)
        if cond is None:
            continue
        entry: Obj = {
            "type": ctype,
            "status": cond.status,
            "lastProbeTime": None,
            "lastTransitionTime": objects.rfc3339(cond.since),
        }
        if cond.reason:
            entry["reason"] = cond.reason
        if cond.message:
            entry["message"] = cond.message
        conditions.append(entry)
    status["conditions"] = conditions
    if run.reason:
        status["reason"], status["message"] = run.reason, run.message
    if run.node is None:
        return status
    status["hostIP"] = run.host_ip
    status["hostIPs"] = [{"ip": run.host_ip}]
    if run.phase == "Running" or any(c.started_at is not None for c in run.containers):
        status["podIP"] = run.ip
        status["podIPs"] = [{"ip": run.ip}]
    if run.start_time is not None:
        status["startTime"] = objects.rfc3339(run.start_time)
    status["containerStatuses"] = [_container_status(c) for c in run.containers]
    return status


def _container_status(c: ContainerRun) -> Obj:
    state: Obj
    if c.state == "running" and c.started_at is not None:
        state = {"running": {"startedAt": objects.rfc3339(c.started_at)}}
    elif c.state == "terminated":
        state = {
            "terminated": {
                "exitCode": c.exit_code,
                "reason": c.reason,
                "startedAt": objects.rfc3339(c.started_at or 0),
                "finishedAt": objects.rfc3339(c.finished_at or 0),
                "containerID": c.container_id,
            }
        }
    else:
        waiting: Obj = {"reason": c.reason}
        if c.message:
            waiting["message"] = c.message
        state = {"waiting": waiting}
    entry: Obj = {
        "name": c.name,
        "image": c.image,
        "imageID": _image_id(c.image) if c.container_id else "",
        "ready": c.ready,
        "restartCount": c.restart_count,
        "started": c.state == "running",
        "state": state,
        "lastState": {"terminated": dict(c.last_terminated)} if c.last_terminated else {},
    }
    if c.container_id:
        entry["containerID"] = c.container_id
    return entry
