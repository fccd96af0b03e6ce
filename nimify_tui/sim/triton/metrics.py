"""The simulated Triton's Prometheus metrics on port 8002: per-model counters, pinned memory, GPUs and CPU."""

from __future__ import annotations

from collections.abc import Callable

from nimify_tui.sim.contract import SimGPU
from nimify_tui.sim.promtext import PromTextWriter
from nimify_tui.sim.triton.models import FAILURE_REASONS, PER_REPLICA_CAPACITY_RPS, READY, VERSION, Model

_PINNED_POOL_BYTES = 268_435_456
_HOST_MEMORY_BYTES = 64 * 2**30

_StatValue = Callable[[Model], float]
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


def metrics_text(models: dict[str, Model], gpus: list[SimGPU], energy_j: dict[str, float], served_rps: float) -> bytes:
    """The exposition text of port 8002, shaped like Triton 24.x's.

    ``gpus`` are the healthy GPUs the server's pods hold, ``energy_j`` what each used since the process started."""
    out = PromTextWriter()
    loaded = [model for model in models.values() if model.state == READY]

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
    _gpu_metrics(out, gpus, energy_j)
    load = served_rps / PER_REPLICA_CAPACITY_RPS
    out.family("nv_cpu_utilization", "gauge", "CPU utilization rate [0.0 - 1.0]")
    out.sample("nv_cpu_utilization", [], round(min(0.04 + 0.3 * load, 1.0), 6))
    out.family("nv_cpu_memory_total_bytes", "gauge", "CPU total memory (RAM), in bytes")
    out.sample("nv_cpu_memory_total_bytes", [], _HOST_MEMORY_BYTES)
    out.family("nv_cpu_memory_used_bytes", "gauge", "CPU used memory (RAM), in bytes")
    out.sample("nv_cpu_memory_used_bytes", [], 6 * 2**30 + 512 * 2**20 * len(loaded))
    return out.text()


def _gpu_metrics(out: PromTextWriter, gpus: list[SimGPU], energy_j: dict[str, float]) -> None:
    """Per-GPU series for the healthy GPUs held by triton-server pods; absent when there are none."""
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
            lambda g: round(energy_j.get(g.uuid, 0.0), 3),
        ),
    )
    for name, kind, help_text, value_of in families:
        out.family(name, kind, help_text)
        for gpu in gpus:
            out.sample(name, [("gpu_uuid", gpu.uuid)], value_of(gpu))
