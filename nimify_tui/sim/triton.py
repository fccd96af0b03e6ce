"""The simulated Triton Inference Server: KServe v2 HTTP on port 8000, Prometheus metrics on port 8002.

Model control mode is explicit. Models loaded at start come back with every :meth:`TritonSim.restart`;
a load through the HTTP API completes before it answers, as Triton's does. ``handle`` answers as the
server process does; when no triton-server pod is ready the world's proxy answers 503 itself, and
:meth:`TritonSim.is_live` / :meth:`TritonSim.is_ready` say False.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from nimify_tui.sim.contract import HTTPReply, SimGPU, WorldView
from nimify_tui.sim.promtext import CONTENT_TYPE, PromTextWriter

HTTP_PORT = 8000
METRICS_PORT = 8002
SERVED_MODEL = "nimify-model"
SERVER_VERSION = "2.53.0"  # Triton 24.12
EXTENSIONS = (
    "classification",
    "sequence",
    "model_repository",
    "model_repository(unload_dependents)",
    "schedule_policy",
    "model_configuration",
    "system_shared_memory",
    "cuda_shared_memory",
    "binary_tensor_data",
    "parameters",
    "statistics",
    "trace",
    "logging",
)
TRITON_NAMESPACE = "triton-system"
PER_REPLICA_CAPACITY_RPS = 120.0
FAILURE_REASONS = ("OTHER", "CANCELED", "BACKEND", "REJECTED")

READY = "READY"
UNAVAILABLE = "UNAVAILABLE"
LOADING = "LOADING"
NEVER_LOADED = ""  # listed in the index by name alone

_REQUEST_OVERHEAD_NS = 120_000
_REJECT_NS = 40_000
_PINNED_POOL_BYTES = 268_435_456
_HOST_MEMORY_BYTES = 64 * 2**30


@dataclass(frozen=True)
class TensorSpec:
    """One model input or output; ``dims`` leaves out the batch dimension."""

    name: str
    datatype: str  # KServe v2 datatype: FP32, INT64, BYTES
    dims: tuple[int, ...]


@dataclass(frozen=True)
class ModelSpec:
    """A model in the repository; every model here has the one version "1"."""

    name: str
    platform: str
    backend: str
    max_batch_size: int
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]
    load_seconds: float
    loaded_at_start: bool
    default_model_filename: str


REPOSITORY: tuple[ModelSpec, ...] = (
    ModelSpec(
        name=SERVED_MODEL,
        platform="onnxruntime_onnx",
        backend="onnxruntime",
        max_batch_size=32,
        inputs=(TensorSpec("input", "FP32", (-1,)),),
        outputs=(TensorSpec("output", "FP32", (-1,)),),
        load_seconds=4.2,
        loaded_at_start=True,
        default_model_filename="model.onnx",
    ),
    ModelSpec(
        name="nimify-embedder",
        platform="tensorrt_plan",
        backend="tensorrt",
        max_batch_size=64,
        inputs=(TensorSpec("input_ids", "INT64", (-1,)), TensorSpec("attention_mask", "INT64", (-1,))),
        outputs=(TensorSpec("embeddings", "FP32", (768,)),),
        load_seconds=2.6,
        loaded_at_start=True,
        default_model_filename="model.plan",
    ),
    ModelSpec(
        name="nimify-reranker",
        platform="",
        backend="python",
        max_batch_size=16,
        inputs=(TensorSpec("query", "BYTES", (1,)), TensorSpec("documents", "BYTES", (-1,))),
        outputs=(TensorSpec("scores", "FP32", (-1,)),),
        load_seconds=3.1,
        loaded_at_start=False,
        default_model_filename="model.py",
    ),
)
VERSION = "1"


@dataclass(frozen=True)
class ModelStatus:
    """A model's state as the repository index shows it (``state`` is "" for a model never loaded)."""

    state: str
    reason: str


@dataclass(frozen=True)
class ServingState:
    """How the served model handles the offered load right now (rates per second, times per request)."""

    offered_rps: float
    served_rps: float
    rejected_rps: float
    queue_ms: float
    compute_input_ms: float
    compute_infer_ms: float
    compute_output_ms: float
    batch_size: int

    @property
    def server_ms(self) -> float:
        return self.queue_ms + self.compute_input_ms + self.compute_infer_ms + self.compute_output_ms


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


@dataclass
class _Tally:
    count: int = 0
    ns: int = 0

    def add(self, count: int, ns: int) -> None:
        self.count += count
        self.ns += ns

    def as_json(self) -> dict[str, int]:
        return {"count": self.count, "ns": self.ns}


@dataclass
class _BatchTally:
    compute_input: _Tally = field(default_factory=_Tally)
    compute_infer: _Tally = field(default_factory=_Tally)
    compute_output: _Tally = field(default_factory=_Tally)


@dataclass
class _ModelStats:
    """Cumulative statistics of one loaded model version; a new load starts them again."""

    success: _Tally = field(default_factory=_Tally)
    fail: _Tally = field(default_factory=_Tally)
    queue: _Tally = field(default_factory=_Tally)
    compute_input: _Tally = field(default_factory=_Tally)
    compute_infer: _Tally = field(default_factory=_Tally)
    compute_output: _Tally = field(default_factory=_Tally)
    cache_hit: _Tally = field(default_factory=_Tally)
    cache_miss: _Tally = field(default_factory=_Tally)
    inference_count: int = 0
    execution_count: int = 0
    last_inference_ms: int = 0
    batches: dict[int, _BatchTally] = field(default_factory=dict)
    failures: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FAILURE_REASONS, 0))
    pending: int = 0
    served_carry: float = 0.0
    rejected_carry: float = 0.0

    def arrivals(self, served: float, rejected: float) -> tuple[int, int]:
        """Whole requests out of fractional amounts, carrying the fractions to the next tick."""
        self.served_carry += served
        self.rejected_carry += rejected
        whole_served, whole_rejected = int(self.served_carry), int(self.rejected_carry)
        self.served_carry -= whole_served
        self.rejected_carry -= whole_rejected
        return whole_served, whole_rejected

    def record(self, served: int, rejected: int, serving: ServingState, now_ms: int) -> None:
        if served:
            queue_ns = round(serving.queue_ms * 1e6)
            input_ns = round(serving.compute_input_ms * 1e6)
            infer_ns = round(serving.compute_infer_ms * 1e6)
            output_ns = round(serving.compute_output_ms * 1e6)
            total_ns = queue_ns + input_ns + infer_ns + output_ns + _REQUEST_OVERHEAD_NS
            self.success.add(served, served * total_ns)
            self.queue.add(served, served * queue_ns)
            self.compute_input.add(served, served * input_ns)
            self.compute_infer.add(served, served * infer_ns)
            self.compute_output.add(served, served * output_ns)
            self.inference_count += served
            full_batches, remainder = divmod(served, serving.batch_size)
            for size, executions in ((serving.batch_size, full_batches), (remainder, 1)):
                if size and executions:
                    batch = self.batches.setdefault(size, _BatchTally())
                    batch.compute_input.add(executions, executions * input_ns)
                    batch.compute_infer.add(executions, executions * infer_ns)
                    batch.compute_output.add(executions, executions * output_ns)
                    self.execution_count += executions
            self.last_inference_ms = now_ms
        if rejected:
            self.fail.add(rejected, rejected * _REJECT_NS)
            self.failures["REJECTED"] += rejected


@dataclass
class _Model:
    spec: ModelSpec
    state: str = NEVER_LOADED
    reason: str = ""
    wanted: bool = False  # asked to be loaded: counts for strict readiness
    loading_left_s: float = 0.0
    stats: _ModelStats = field(default_factory=_ModelStats)

    def finish_load(self) -> None:
        self.state, self.reason, self.wanted, self.loading_left_s = READY, "", True, 0.0
        self.stats = _ModelStats()

    def make_unavailable(self, reason: str, wanted: bool) -> None:
        self.state, self.reason, self.wanted, self.loading_left_s = UNAVAILABLE, reason, wanted, 0.0
        self.stats = _ModelStats()


_StatValue = Callable[[_Model], float]
_GpuValue = Callable[[SimGPU], float]

_COUNTER_FAMILIES: tuple[tuple[str, str, _StatValue], ...] = (
    (
        "nv_inference_count",
        "Number of inferences performed (does not include cached requests)",
        lambda m: m.stats.inference_count,
    ),
    (
        "nv_inference_exec_count",
        "Number of model executions performed (does not include cached requests)",
        lambda m: m.stats.execution_count,
    ),
    (
        "nv_inference_request_duration_us",
        "Cumulative inference request duration in microseconds (includes cached requests)",
        lambda m: m.stats.success.ns // 1000,
    ),
    (
        "nv_inference_queue_duration_us",
        "Cumulative inference queuing duration in microseconds (includes cached requests)",
        lambda m: m.stats.queue.ns // 1000,
    ),
    (
        "nv_inference_compute_input_duration_us",
        "Cumulative compute input duration in microseconds (does not include cached requests)",
        lambda m: m.stats.compute_input.ns // 1000,
    ),
    (
        "nv_inference_compute_infer_duration_us",
        "Cumulative compute inference duration in microseconds (does not include cached requests)",
        lambda m: m.stats.compute_infer.ns // 1000,
    ),
    (
        "nv_inference_compute_output_duration_us",
        "Cumulative inference compute output duration in microseconds (does not include cached requests)",
        lambda m: m.stats.compute_output.ns // 1000,
    ),
)


def _json_reply(status: int, payload: object) -> HTTPReply:
    return HTTPReply(status, json.dumps(payload, separators=(",", ":")).encode())


def _error(status: int, message: str) -> HTTPReply:
    return _json_reply(status, {"error": message})


def _shape(spec: ModelSpec, tensor: TensorSpec) -> list[int]:
    batch = [-1] if spec.max_batch_size > 0 else []
    return [*batch, *tensor.dims]


def _metadata_json(spec: ModelSpec) -> dict[str, object]:
    return {
        "name": spec.name,
        "versions": [VERSION],
        "platform": spec.platform or spec.backend,
        "inputs": [{"name": t.name, "datatype": t.datatype, "shape": _shape(spec, t)} for t in spec.inputs],
        "outputs": [{"name": t.name, "datatype": t.datatype, "shape": _shape(spec, t)} for t in spec.outputs],
    }


def _config_type(datatype: str) -> str:
    return "TYPE_STRING" if datatype == "BYTES" else f"TYPE_{datatype}"


def _config_json(spec: ModelSpec) -> dict[str, object]:
    """The model configuration as Triton prints it after auto-completion (the fields operators read)."""
    return {
        "name": spec.name,
        "platform": spec.platform,
        "backend": spec.backend,
        "runtime": "",
        "version_policy": {"latest": {"num_versions": 1}},
        "max_batch_size": spec.max_batch_size,
        "input": [
            {
                "name": t.name,
                "data_type": _config_type(t.datatype),
                "format": "FORMAT_NONE",
                "dims": list(t.dims),
                "is_shape_tensor": False,
                "allow_ragged_batch": False,
                "optional": False,
            }
            for t in spec.inputs
        ],
        "output": [
            {
                "name": t.name,
                "data_type": _config_type(t.datatype),
                "dims": list(t.dims),
                "label_filename": "",
                "is_shape_tensor": False,
            }
            for t in spec.outputs
        ],
        "batch_input": [],
        "batch_output": [],
        "optimization": {
            "priority": "PRIORITY_DEFAULT",
            "input_pinned_memory": {"enable": True},
            "output_pinned_memory": {"enable": True},
            "gather_kernel_buffer_threshold": 0,
            "eager_batching": False,
        },
        "dynamic_batching": {
            "preferred_batch_size": [spec.max_batch_size // 4, spec.max_batch_size // 2],
            "max_queue_delay_microseconds": 2000,
            "preserve_ordering": False,
            "priority_levels": 0,
            "default_priority_level": 0,
            "priority_queue_policy": {},
        },
        "instance_group": [
            {
                "name": f"{spec.name}_0",
                "kind": "KIND_GPU",
                "count": 1,
                "gpus": [0],
                "secondary_devices": [],
                "profile": [],
                "passive": False,
                "host_policy": "",
            }
        ],
        "default_model_filename": spec.default_model_filename,
        "cc_model_filenames": {},
        "metric_tags": {},
        "parameters": {},
        "model_warmup": [],
    }


def connection_refused() -> HTTPReply:
    """What a port nobody listens on gives the proxy."""
    return HTTPReply(503, b"connection refused", "text/plain; charset=utf-8")


class TritonSim:
    """The simulated Triton server; reads the world only through :class:`WorldView`."""

    def __init__(self, world: WorldView) -> None:
        self._world = world
        self._models = self._start_models(loading=False)
        self._energy_j: dict[str, float] = {}

    # --- state API for the world -------------------------------------------------------------

    def is_live(self) -> bool:
        """Reachable: at least one triton-server pod is ready."""
        return self._world.traffic().triton_ready_replicas > 0

    def is_ready(self) -> bool:
        return self.is_live() and self.models_ready()

    def models_ready(self) -> bool:
        """Strict readiness of the process itself: every model asked to be loaded is READY."""
        return all(model.state == READY for model in self._models.values() if model.wanted)

    def model_status(self, name: str) -> ModelStatus:
        model = self._model(name)
        return ModelStatus(model.state, model.reason)

    def fail_model(self, name: str, reason: str) -> None:
        """Make a model UNAVAILABLE with ``reason``, as a failed load leaves it: the server is not ready."""
        self._model(name).make_unavailable(reason, wanted=True)

    def restart(self) -> None:
        """A new server process: statistics start again and the start-up models load anew."""
        self._models = self._start_models(loading=True)
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
        parts = [part for part in path.split("/") if part]
        if not parts or parts[0] != "v2":
            return _error(404, "Not Found")
        if len(parts) >= 2 and parts[1] == "repository":
            if method != "POST":
                return _error(405, "Method Not Allowed")
            return self._repository(parts[2:], body)
        if method != "GET":
            return _error(405, "Method Not Allowed")
        return self._get(parts[1:])

    def _get(self, parts: list[str]) -> HTTPReply:
        if not parts:
            return _json_reply(200, {"name": "triton", "version": SERVER_VERSION, "extensions": list(EXTENSIONS)})
        if parts[0] == "health" and len(parts) == 2 and parts[1] in ("live", "ready"):
            ok = parts[1] == "live" or self.models_ready()
            return HTTPReply(200 if ok else 400, b"")
        if parts[0] != "models" or len(parts) < 2:
            return _error(404, "Not Found")
        if parts[1:] == ["stats"]:
            ready = [model for model in self._models.values() if model.state == READY]
            return _json_reply(200, {"model_stats": [self._stats_json(model) for model in ready]})
        return self._get_model(parts[1], parts[2:])

    def _get_model(self, name: str, rest: list[str]) -> HTTPReply:
        model = self._models.get(name)
        if model is None:
            return _error(404, f"Request for unknown model: '{name}' is not found")
        if rest[:1] == ["versions"]:
            if len(rest) < 2:
                return _error(404, "Not Found")
            if rest[1] != VERSION:
                return _error(404, f"Request for unknown model: '{name}' version {rest[1]} is not found")
            rest = rest[2:]
        if len(rest) > 1 or (rest and rest[0] not in ("ready", "config", "stats")):
            return _error(404, "Not Found")
        endpoint = rest[0] if rest else ""
        if model.state != READY:
            if endpoint == "ready":
                return _error(400, f"Request for unknown model: '{name}' is not ready")
            if endpoint == "stats":
                return _error(400, f"requested model '{name}' is not available")
            return _error(400, f"Request for unknown model: '{name}' has no available versions")
        if endpoint == "ready":
            return HTTPReply(200, b"")
        if endpoint == "config":
            return _json_reply(200, _config_json(model.spec))
        if endpoint == "stats":
            return _json_reply(200, {"model_stats": [self._stats_json(model)]})
        return _json_reply(200, _metadata_json(model.spec))

    def _repository(self, parts: list[str], body: bytes) -> HTTPReply:
        try:
            request = json.loads(body) if body.strip() else {}
        except ValueError as exc:
            return _error(400, f"failed to parse the request JSON buffer: {exc}")
        if not isinstance(request, dict):
            return _error(400, "failed to parse the request JSON buffer: expected an object")
        if parts == ["index"]:
            ready_only = request.get("ready", False)
            if not isinstance(ready_only, bool):
                return _error(400, "Unable to parse 'ready', expected boolean")
            return _json_reply(200, self._index(ready_only))
        if len(parts) != 3 or parts[0] != "models" or parts[2] not in ("load", "unload"):
            return _error(404, "Not Found")
        name, action = parts[1], parts[2]
        model = self._models.get(name)
        if model is None:
            return _error(404, f"Request for unknown model: '{name}' is not found")
        if action == "load":
            model.finish_load()
        elif model.state != NEVER_LOADED:
            model.make_unavailable("unloaded", wanted=False)
        return HTTPReply(200, b"")

    def _index(self, ready_only: bool) -> list[dict[str, str]]:
        entries: list[dict[str, str]] = []
        for name in sorted(self._models):
            model = self._models[name]
            if ready_only and model.state != READY:
                continue
            if model.state == NEVER_LOADED:
                entries.append({"name": name})
                continue
            entry = {"name": name, "version": VERSION, "state": model.state}
            if model.reason:
                entry["reason"] = model.reason
            entries.append(entry)
        return entries

    def _stats_json(self, model: _Model) -> dict[str, object]:
        stats = model.stats
        return {
            "name": model.spec.name,
            "version": VERSION,
            "last_inference": stats.last_inference_ms,
            "inference_count": stats.inference_count,
            "execution_count": stats.execution_count,
            "inference_stats": {
                "success": stats.success.as_json(),
                "fail": stats.fail.as_json(),
                "queue": stats.queue.as_json(),
                "compute_input": stats.compute_input.as_json(),
                "compute_infer": stats.compute_infer.as_json(),
                "compute_output": stats.compute_output.as_json(),
                "cache_hit": stats.cache_hit.as_json(),
                "cache_miss": stats.cache_miss.as_json(),
            },
            "response_stats": {},
            "batch_stats": [
                {
                    "batch_size": size,
                    "compute_input": batch.compute_input.as_json(),
                    "compute_infer": batch.compute_infer.as_json(),
                    "compute_output": batch.compute_output.as_json(),
                }
                for size, batch in sorted(stats.batches.items())
            ],
            "memory_usage": [],
        }

    # --- metrics ---------------------------------------------------------------------------------

    def metrics_text(self) -> bytes:
        """The exposition text of port 8002, shaped like Triton 24.x's."""
        out = PromTextWriter()
        loaded = [model for model in self._models.values() if model.state == READY]

        def per_model(name: str, kind: str, help_text: str, value_of: _StatValue) -> None:
            out.family(name, kind, help_text)
            for model in loaded:
                out.sample(name, [("model", model.spec.name), ("version", VERSION)], value_of(model))

        per_model(
            "nv_inference_request_success",
            "counter",
            "Number of successful inference requests, all batch sizes",
            lambda m: m.stats.success.count,
        )
        out.family("nv_inference_request_failure", "counter", "Number of failed inference requests, all batch sizes")
        for model in loaded:
            for reason in FAILURE_REASONS:
                labels = [("model", model.spec.name), ("reason", reason), ("version", VERSION)]
                out.sample("nv_inference_request_failure", labels, model.stats.failures[reason])
        for name, help_text, value_of in _COUNTER_FAMILIES:
            per_model(name, "counter", help_text, value_of)
        per_model(
            "nv_inference_pending_request_count",
            "gauge",
            "Instantaneous number of pending requests awaiting execution per-model.",
            lambda m: m.stats.pending,
        )
        per_model(
            "nv_model_load_duration_secs",
            "gauge",
            "Model load time in seconds",
            lambda m: m.spec.load_seconds,
        )
        out.family("nv_pinned_memory_pool_total_bytes", "gauge", "Pinned memory pool total memory size, in bytes")
        out.sample("nv_pinned_memory_pool_total_bytes", [], _PINNED_POOL_BYTES)
        out.family("nv_pinned_memory_pool_used_bytes", "gauge", "Pinned memory pool used memory size, in bytes")
        out.sample("nv_pinned_memory_pool_used_bytes", [], 0)
        self._gpu_metrics(out)
        load = self.serving().served_rps / PER_REPLICA_CAPACITY_RPS
        out.family("nv_cpu_utilization", "gauge", "CPU utilization rate [0.0 - 1.0]")
        out.sample("nv_cpu_utilization", [], round(min(0.04 + 0.3 * load, 1.0), 6))
        out.family("nv_cpu_memory_total_bytes", "gauge", "CPU total memory (RAM), in bytes")
        out.sample("nv_cpu_memory_total_bytes", [], _HOST_MEMORY_BYTES)
        out.family("nv_cpu_memory_used_bytes", "gauge", "CPU used memory (RAM), in bytes")
        out.sample("nv_cpu_memory_used_bytes", [], 6 * 2**30 + 512 * 2**20 * len(loaded))
        return out.text()

    def _gpu_metrics(self, out: PromTextWriter) -> None:
        """Per-GPU series for the healthy GPUs held by triton-server pods; absent when there are none."""
        gpus = self._serving_gpus()
        if not gpus:
            return
        families: tuple[tuple[str, str, str, _GpuValue], ...] = (
            (
                "nv_gpu_utilization",
                "gauge",
                "GPU utilization rate [0.0 - 1.0)",
                lambda g: g.utilization_pct / 100,
            ),
            (
                "nv_gpu_memory_total_bytes",
                "gauge",
                "GPU total memory, in bytes",
                lambda g: g.memory_total_mib * 2**20,
            ),
            (
                "nv_gpu_memory_used_bytes",
                "gauge",
                "GPU used memory, in bytes",
                lambda g: round(g.memory_used_mib * 2**20),
            ),
            ("nv_gpu_power_usage", "gauge", "GPU power usage in watts", lambda g: g.power_w),
            ("nv_gpu_power_limit", "gauge", "GPU power management limit in watts", lambda g: g.power_limit_w),
            (
                "nv_energy_consumption",
                "counter",
                "GPU energy consumption in joules since the Triton Server started",
                lambda g: round(self._energy_j.get(g.uuid, 0.0), 3),
            ),
        )
        for name, kind, help_text, value_of in families:
            out.family(name, kind, help_text)
            for gpu in gpus:
                out.sample(name, [("gpu_uuid", gpu.uuid)], value_of(gpu))

    # --- helpers ---------------------------------------------------------------------------------

    def _model(self, name: str) -> _Model:
        model = self._models.get(name)
        if model is None:
            raise KeyError(f"no model {name!r} in the repository")
        return model

    def _serving_gpus(self) -> list[SimGPU]:
        return [gpu for gpu in self._world.gpus() if gpu.namespace == TRITON_NAMESPACE and gpu.healthy]

    def _now_ms(self) -> int:
        return int(self._world.now() * 1000)

    @staticmethod
    def _start_models(loading: bool) -> dict[str, _Model]:
        models: dict[str, _Model] = {}
        for spec in REPOSITORY:
            model = _Model(spec)
            if spec.loaded_at_start:
                if loading:
                    model.state, model.wanted, model.loading_left_s = LOADING, True, spec.load_seconds
                else:
                    model.finish_load()
            models[spec.name] = model
        return models
