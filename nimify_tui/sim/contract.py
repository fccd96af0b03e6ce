"""What the simulated in-cluster services (Triton, nimify-api, DCGM) need from the simulated world.

The Kubernetes side (``k8s/world.py``) implements :class:`WorldView`; the services in ``triton/``,
``nimify_api.py`` and ``dcgm.py`` only read through it, so each side can be built and tested alone.
The simulator shares no code with the client side of the package (``nimify_tui.kube``, ``nimify_tui.triton``,
``nimify_tui.metrics``, ...): import-linter contracts in pyproject.toml keep the two apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass
class SimGPU:
    """One physical GPU on a simulated node."""

    node: str
    index: int
    uuid: str
    model_name: str = "NVIDIA H100 80GB HBM3"
    pci_bus_id: str = "00000000:00:00.0"
    memory_total_mib: int = 81559
    healthy: bool = True
    last_xid: int = 0  # last XID error seen, 0 = none
    # the pod holding this GPU through nvidia.com/gpu, if any
    pod: str | None = None
    namespace: str | None = None
    container: str | None = None
    # moving values, written by the world's clock
    utilization_pct: float = 0.0
    memory_used_mib: float = 0.0
    temperature_c: float = 34.0
    power_w: float = 70.0
    power_limit_w: float = 700.0


@dataclass
class Traffic:
    """Offered load, the pressure it meets and what the requests depend on, as the world computes it each tick."""

    offered_rps: float = 40.0  # requests per second users send to nimify-api
    api_ready_replicas: int = 0  # ready nimify-api pods
    triton_ready_replicas: int = 0  # ready triton-server pods
    gpu_saturation: float = 0.0  # 0..1+, how far the serving GPUs are beyond capacity
    extra_queue_ms: float = 0.0  # a scenario's added queueing delay (latency-spike)
    database_error: str = ""  # how nimify-api's connections to its database fail ("" when they succeed)
    notes: dict[str, str] = field(default_factory=dict)


class WorldView(Protocol):
    """Read access to the simulated cluster for the in-cluster services."""

    def now(self) -> float:
        """Simulated time, seconds since the epoch."""
        ...

    def traffic(self) -> Traffic: ...

    def gpus(self) -> list[SimGPU]: ...

    def ready_pods(self, namespace: str, app: str) -> list[str]:
        """Names of Running+Ready pods with label ``app=<app>`` in ``namespace``."""
        ...


@dataclass
class HTTPReply:
    """A reply from a simulated in-cluster HTTP server."""

    status: int
    body: bytes = b""
    content_type: str = "application/json"


class InClusterServer(Protocol):
    """A simulated HTTP server inside the cluster, reached through the API server's service or pod proxy.

    ``path`` starts with ``/`` and is relative to the server root (``/v2/health/ready``, ``/metrics``);
    ``query`` holds the decoded query string; ``port`` is the service/container port asked for, so one
    object can serve several ports (Triton: 8000 http, 8002 metrics; nimify-api: 8000 http, 9090 metrics).
    """

    async def handle(self, method: str, port: int, path: str, query: dict[str, str], body: bytes) -> HTTPReply: ...

    def tick(self, dt: float) -> None:
        """Advance this server's own state by ``dt`` simulated seconds."""
        ...
