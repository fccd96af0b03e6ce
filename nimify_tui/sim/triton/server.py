"""The simulated Triton Inference Server: KServe v2 HTTP on port 8000, Prometheus metrics on port 8002.

Models loaded at start come back with every :meth:`TritonSim.restart`. ``handle`` answers as the server
process does; when no triton-server pod is ready the world's proxy answers 503 itself, and
:meth:`TritonSim.is_live` / :meth:`TritonSim.is_ready` say False.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

from nimify_tui.sim.contract import HTTPReply, SimGPU, WorldView
from nimify_tui.sim.promtext import CONTENT_TYPE
from nimify_tui.sim.triton.http import connection_refused, handle_v2
from nimify_tui.sim.triton.metrics import metrics_text
from nimify_tui.sim.triton.models import (
    LOADING,
    PER_REPLICA_CAPACITY_RPS,
    READY,
    SERVED_MODEL,
    Model,
    ModelStatus,
    ServingState,
    models_ready,
    start_models,
)

HTTP_PORT = 8000
METRICS_PORT = 8002
TRITON_NAMESPACE = "triton-system"


@dataclass(frozen=True)
class Prediction:
    outputs: list[float]
    latency_s: float


class TritonSimError(Exception):
    """An inference the server refused: ``status`` is the HTTP status Triton would answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class TritonSim:
    """The simulated Triton server; reads the world only through :class:`WorldView`."""

    def __init__(self, world: WorldView) -> None:
        self._world = world
        self._models = start_models(loading=False)
        self._energy_j: dict[str, float] = {}

    # --- state API for the world -------------------------------------------------------------

    def is_live(self) -> bool:
        """Reachable: at least one triton-server pod is ready."""
        return self._world.traffic().triton_ready_replicas > 0

    def is_ready(self) -> bool:
        return self.is_live() and self.models_ready()

    def models_ready(self) -> bool:
        """Strict readiness of the process itself: every model asked to be loaded is READY."""
        return models_ready(self._models)

    def model_status(self, name: str) -> ModelStatus:
        model = self._model(name)
        return ModelStatus(model.state, model.reason)

    def fail_model(self, name: str, reason: str) -> None:
        """Make a model UNAVAILABLE with ``reason``, as a failed load leaves it: the server is not ready."""
        self._model(name).make_unavailable(reason, wanted=True)

    def restart(self) -> None:
        """A new server process: statistics start again and the start-up models load anew."""
        self._models = start_models(loading=True)
        self._energy_j = {}

    # --- traffic --------------------------------------------------------------------------------

    def serving(self) -> ServingState:
        """The served model's throughput and latency split at the world's current traffic.

        Capacity is ``PER_REPLICA_CAPACITY_RPS`` per ready replica; above it requests are rejected.
        Queueing grows like an M/M/1 wait with the load, plus 300 ms per unit of ``gpu_saturation``,
        plus the scenario's ``extra_queue_ms``; compute takes 8-21 ms.
        """
        traffic = self._world.traffic()
        offered = traffic.offered_rps if traffic.api_ready_replicas > 0 else 0.0
        replicas = traffic.triton_ready_replicas
        if replicas <= 0 or self._models[SERVED_MODEL].state != READY:
            return ServingState(offered, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1)
        capacity = replicas * PER_REPLICA_CAPACITY_RPS
        load = offered / capacity
        served = min(offered, capacity)
        saturation = max(traffic.gpu_saturation, 0.0)
        wobble = 1.0 + 0.05 * math.sin(self._world.now() / 7.0)
        infer_ms = (9.0 + 6.0 * min(load, 1.0) + 5.0 * min(saturation, 1.0)) * wobble
        busy = min(load, 0.95)
        queue_ms = infer_ms * busy / (1.0 - busy) + 300.0 * saturation + max(traffic.extra_queue_ms, 0.0)
        batch_size = max(1, min(8, round(1 + 7 * min(load, 1.0))))
        return ServingState(
            offered_rps=offered,
            served_rps=served,
            rejected_rps=offered - served,
            queue_ms=queue_ms,
            compute_input_ms=0.25 * wobble,
            compute_infer_ms=infer_ms,
            compute_output_ms=0.15 * wobble,
            batch_size=batch_size,
        )

    def infer(self, values: Sequence[float]) -> Prediction:
        """One inference on the served model, counted in its statistics."""
        if not self.is_live():
            raise TritonSimError(503, "Triton server is unreachable")
        model = self._models[SERVED_MODEL]
        if model.state != READY:
            raise TritonSimError(400, f"Request for unknown model: '{SERVED_MODEL}' has no available versions")
        single = replace(self.serving(), batch_size=1)
        model.stats.record(1, 0, single, self._now_ms())
        outputs = [round(math.tanh(0.5 * value - 0.25), 6) for value in values]
        return Prediction(outputs, single.server_ms / 1000.0)

    def tick(self, dt: float) -> None:
        if dt <= 0:
            return
        for model in self._models.values():
            if model.state == LOADING:
                model.loading_left_s -= dt
                if model.loading_left_s <= 0:
                    model.finish_load()
        if not self.is_live():
            return
        for gpu in self._serving_gpus():
            self._energy_j[gpu.uuid] = self._energy_j.get(gpu.uuid, 0.0) + gpu.power_w * dt
        model = self._models[SERVED_MODEL]
        if model.state != READY:
            return
        serving = self.serving()
        served, rejected = model.stats.arrivals(serving.served_rps * dt, serving.rejected_rps * dt)
        model.stats.record(served, rejected, serving, self._now_ms())
        model.stats.pending = round(serving.served_rps * serving.queue_ms / 1000.0)

    # --- HTTP ------------------------------------------------------------------------------------

    async def handle(self, method: str, port: int, path: str, query: dict[str, str], body: bytes) -> HTTPReply:
        if port == METRICS_PORT:
            if path == "/metrics":
                return HTTPReply(200, self.metrics_text(), CONTENT_TYPE)
            return HTTPReply(404, b"Not Found", "text/plain; charset=utf-8")
        if port != HTTP_PORT:
            return connection_refused()
        return handle_v2(self._models, method, path, body)

    def metrics_text(self) -> bytes:
        """The exposition text of port 8002."""
        return metrics_text(self._models, self._serving_gpus(), self._energy_j, self.serving().served_rps)

    # --- helpers ---------------------------------------------------------------------------------

    def _model(self, name: str) -> Model:
        model = self._models.get(name)
        if model is None:
            raise KeyError(f"no model {name!r} in the repository")
        return model

    def _serving_gpus(self) -> list[SimGPU]:
        return [gpu for gpu in self._world.gpus() if gpu.namespace == TRITON_NAMESPACE and gpu.healthy]

    def _now_ms(self) -> int:
        return int(self._world.now() * 1000)
