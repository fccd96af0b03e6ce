"""The simulated Triton's model repository: the models it holds, their load state, and their statistics.

Model control mode is explicit: the models marked ``loaded_at_start`` load when the server process starts,
the others only when asked. Every load starts a model's statistics again.
"""

from __future__ import annotations

from dataclasses import dataclass, field

SERVED_MODEL = "nimify-model"
VERSION = "1"
PER_REPLICA_CAPACITY_RPS = 120.0  # requests per second one replica serves of the served model
FAILURE_REASONS = ("OTHER", "CANCELED", "BACKEND", "REJECTED")

READY = "READY"
UNAVAILABLE = "UNAVAILABLE"
LOADING = "LOADING"
NEVER_LOADED = ""  # listed in the index by name alone

_REQUEST_OVERHEAD_NS = 120_000
_REJECT_NS = 40_000


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


@dataclass
class Tally:
    count: int = 0
    ns: int = 0

    def add(self, count: int, ns: int) -> None:
        self.count += count
        self.ns += ns

    def as_json(self) -> dict[str, int]:
        return {"count": self.count, "ns": self.ns}


@dataclass
class BatchTally:
    compute_input: Tally = field(default_factory=Tally)
    compute_infer: Tally = field(default_factory=Tally)
    compute_output: Tally = field(default_factory=Tally)


@dataclass
class ModelStats:
    """Cumulative statistics of one loaded model version; a new load starts them again."""

    success: Tally = field(default_factory=Tally)
    fail: Tally = field(default_factory=Tally)
    queue: Tally = field(default_factory=Tally)
    compute_input: Tally = field(default_factory=Tally)
    compute_infer: Tally = field(default_factory=Tally)
    compute_output: Tally = field(default_factory=Tally)
    cache_hit: Tally = field(default_factory=Tally)
    cache_miss: Tally = field(default_factory=Tally)
    inference_count: int = 0
    execution_count: int = 0
    last_inference_ms: int = 0
    batches: dict[int, BatchTally] = field(default_factory=dict)
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
                    batch = self.batches.setdefault(size, BatchTally())
                    batch.compute_input.add(executions, executions * input_ns)
                    batch.compute_infer.add(executions, executions * infer_ns)
                    batch.compute_output.add(executions, executions * output_ns)
                    self.execution_count += executions
            self.last_inference_ms = now_ms
        if rejected:
            self.fail.add(rejected, rejected * _REJECT_NS)
            self.failures["REJECTED"] += rejected


@dataclass
class Model:
    spec: ModelSpec
    state: str = NEVER_LOADED
    reason: str = ""
    wanted: bool = False  # asked to be loaded: counts for strict readiness
    loading_left_s: float = 0.0
    stats: ModelStats = field(default_factory=ModelStats)

    def finish_load(self) -> None:
        self.state, self.reason, self.wanted, self.loading_left_s = READY, "", True, 0.0
        self.stats = ModelStats()

    def make_unavailable(self, reason: str, wanted: bool) -> None:
        self.state, self.reason, self.wanted, self.loading_left_s = UNAVAILABLE, reason, wanted, 0.0
        self.stats = ModelStats()


def start_models(loading: bool) -> dict[str, Model]:
    """The repository of a server process that starts: its start-up models ``loading``, or already loaded."""
    models: dict[str, Model] = {}
    for spec in REPOSITORY:
        model = Model(spec)
        if spec.loaded_at_start:
            if loading:
                model.state, model.wanted, model.loading_left_s = LOADING, True, spec.load_seconds
            else:
                model.finish_load()
        models[spec.name] = model
    return models


def models_ready(models: dict[str, Model]) -> bool:
    """Strict readiness of the server process: every model asked to be loaded is READY."""
    return all(model.state == READY for model in models.values() if model.wanted)
