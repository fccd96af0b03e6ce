"""Per-model Triton latency and throughput over an interval, from two snapshots of cumulative counters.

Counters come from ``GET /v2/models/stats`` (durations in ns), asked of each Triton server on its own. Counters that
went down (server restart, model reload) or a model absent from the earlier snapshot count from zero. Old servers
without ``cache_*``, ``memory_usage`` or failure reasons are fine.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from nimify_tui.kube.shape import INT, TEXT, ListOf, MapOf, clean, obj

ModelKey = tuple[str, str]
"""(model name, version) as Triton reports them."""

_EMPTY: Mapping[str, Any] = {}
_COUNTERS = (
    "inference_count",
    "execution_count",
    "success_count",
    "success_ns",
    "fail_count",
    "queue_count",
    "queue_ns",
    "compute_count",
    "compute_input_ns",
    "compute_infer_ns",
    "compute_output_ns",
    "cache_hit_count",
    "cache_miss_count",
)


@dataclass(frozen=True, slots=True)
class ModelCounters:
    """Cumulative counters of one model version; durations in nanoseconds, None where the server has none.

    ``compute_count`` counts requests that ran the model (cache hits do not); ``pending`` is a gauge
    (requests waiting now), known only from metrics.
    """

    name: str
    version: str
    inference_count: int
    execution_count: int
    success_count: int
    success_ns: int
    fail_count: int
    queue_count: int
    queue_ns: int
    compute_count: int
    compute_input_ns: int
    compute_infer_ns: int
    compute_output_ns: int
    cache_hit_count: int | None = None
    cache_miss_count: int | None = None
    pending: int | None = None


def _stat(inference: Mapping[str, Any], phase: str, field: str) -> int:
    return int((inference.get(phase) or _EMPTY).get(field) or 0)


_PHASE = obj(count=INT, ns=INT)
STATS_SHAPE = obj(
    model_stats=ListOf(
        obj(name=TEXT, version=TEXT, inference_count=INT, execution_count=INT, inference_stats=MapOf(_PHASE))
    )
)
"""What :func:`counters_from_stats` reads of a statistics reply."""


def counters_from_stats(stats: Mapping[str, Any], unreadable: list[str] | None = None) -> dict[ModelKey, ModelCounters]:
    """Counters from a ``/v2/models[/M[/versions/V]]/stats`` reply (``{"model_stats": [...]}``). It never raises:
    what does not have the reply's shape is left out, and said in ``unreadable`` when a list is given."""
    problems: list[str] = [] if unreadable is None else unreadable
    stats = clean(stats, STATS_SHAPE, problems)
    counters: dict[ModelKey, ModelCounters] = {}
    for model in stats.get("model_stats") or ():
        inference = model.get("inference_stats") or _EMPTY
        has_cache = "cache_hit" in inference
        key = (model.get("name") or "", str(model.get("version") or ""))
        counters[key] = ModelCounters(
            name=key[0],
            version=key[1],
            inference_count=int(model.get("inference_count") or 0),
            execution_count=int(model.get("execution_count") or 0),
            success_count=_stat(inference, "success", "count"),
            success_ns=_stat(inference, "success", "ns"),
            fail_count=_stat(inference, "fail", "count"),
            queue_count=_stat(inference, "queue", "count"),
            queue_ns=_stat(inference, "queue", "ns"),
            compute_count=_stat(inference, "compute_infer", "count"),
            compute_input_ns=_stat(inference, "compute_input", "ns"),
            compute_infer_ns=_stat(inference, "compute_infer", "ns"),
            compute_output_ns=_stat(inference, "compute_output", "ns"),
            cache_hit_count=_stat(inference, "cache_hit", "count") if has_cache else None,
            cache_miss_count=_stat(inference, "cache_miss", "count") if has_cache else None,
        )
    return counters


@dataclass(frozen=True, slots=True)
class ModelInterval:
    """What one model did over an interval: rates, failure share, and average latency split in phases (us).

    Averages are None when no request finished in the interval. ``reset`` says the counters restarted from
    zero within it (server restart or model reload), so the figures cover only part of the interval.
    """

    name: str
    version: str
    seconds: float
    reset: bool
    requests: int
    failures: int
    request_rate: float
    inference_rate: float
    failure_rate: float | None
    avg_batch_size: float | None
    avg_request_us: float | None
    avg_queue_us: float | None
    avg_compute_input_us: float | None
    avg_compute_infer_us: float | None
    avg_compute_output_us: float | None
    cache_hit_rate: float | None
    pending: int | None

    @property
    def avg_compute_us(self) -> float | None:
        """Input + infer + output: the time the model itself took per request."""
        parts = (self.avg_compute_input_us, self.avg_compute_infer_us, self.avg_compute_output_us)
        return None if None in parts else sum(p for p in parts if p is not None)

    @property
    def queue_share(self) -> float | None:
        """Queue / (queue + compute) time: near 1, requests wait (saturation); near 0, the model is slow."""
        queue, compute = self.avg_queue_us, self.avg_compute_us
        if queue is None or compute is None or queue + compute == 0:
            return None
        return queue / (queue + compute)


def _per(numerator: int, denominator: int, scale: float = 1.0) -> float | None:
    return numerator / denominator * scale if denominator > 0 else None


def model_interval(earlier: ModelCounters | None, later: ModelCounters, seconds: float) -> ModelInterval:
    """The interval between two snapshots of a model, ``seconds`` apart (``earlier`` None: a new model)."""
    if seconds <= 0:
        raise ValueError(f"the interval must be positive, not {seconds}")
    later_values = {name: getattr(later, name) for name in _COUNTERS}
    earlier_values = {name: getattr(earlier, name) for name in _COUNTERS} if earlier else {}
    reset = earlier is None or any(
        later_values[name] is not None
        and earlier_values[name] is not None
        and later_values[name] < earlier_values[name]
        for name in _COUNTERS
    )

    def delta(name: str) -> int:
        value = later_values[name] or 0
        return value if reset else value - (earlier_values[name] or 0)

    success, failures = delta("success_count"), delta("fail_count")
    compute = delta("compute_count")
    hits, misses = delta("cache_hit_count"), delta("cache_miss_count")
    return ModelInterval(
        name=later.name,
        version=later.version,
        seconds=seconds,
        reset=reset,
        requests=success + failures,
        failures=failures,
        request_rate=(success + failures) / seconds,
        inference_rate=delta("inference_count") / seconds,
        failure_rate=_per(failures, success + failures),
        avg_batch_size=_per(delta("inference_count"), delta("execution_count")),
        avg_request_us=_per(delta("success_ns"), success, 1e-3),
        avg_queue_us=_per(delta("queue_ns"), delta("queue_count"), 1e-3),
        avg_compute_input_us=_per(delta("compute_input_ns"), compute, 1e-3),
        avg_compute_infer_us=_per(delta("compute_infer_ns"), compute, 1e-3),
        avg_compute_output_us=_per(delta("compute_output_ns"), compute, 1e-3),
        cache_hit_rate=None if later.cache_hit_count is None else _per(hits, hits + misses),
        pending=later.pending,
    )


def model_intervals(
    earlier: Mapping[ModelKey, ModelCounters], later: Mapping[ModelKey, ModelCounters], seconds: float
) -> list[ModelInterval]:
    """The interval of every model in ``later`` (models gone since ``earlier`` were unloaded: left out)."""
    return [model_interval(earlier.get(key), later[key], seconds) for key in sorted(later)]
