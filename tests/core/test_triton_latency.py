"""Triton per-model intervals from two snapshots of cumulative counters: stats JSON and /metrics."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from nimify_tui.triton.latency import (
    counters_from_stats,
    model_interval,
    model_intervals,
)

from ..conftest import real_json, real_text


def real(name: str) -> Any:
    return real_json(f"triton/{name}") if name.endswith(".json") else real_text(f"triton/{name}")


def scaled(stats: dict[str, Any], factor: float) -> Any:
    """An earlier snapshot of the same server: every cumulative number scaled by ``factor``."""

    def scale(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: scale(v) if k not in ("name", "version", "batch_size") else v for k, v in node.items()}
        if isinstance(node, list):
            return [scale(item) for item in node]
        return int(node * factor) if isinstance(node, int) else node

    return scale(stats)


def test_first_snapshot_of_a_model_counts_from_zero() -> None:
    stats = real("triton_stats_sample.json")
    later = counters_from_stats(stats)
    interval = model_interval(None, later[("food_classifier", "1")], seconds=60.0)
    assert interval.reset
    assert (interval.requests, interval.failures, interval.failure_rate) == (1436, 0, 0.0)
    assert interval.request_rate == pytest.approx(1436 / 60)
    assert interval.inference_rate == pytest.approx(1436 / 60)
    assert interval.avg_batch_size == pytest.approx(1436 / 386)
    assert interval.avg_request_us == pytest.approx(144129653806 / 1436 / 1000)
    assert interval.avg_queue_us == pytest.approx(64542800676 / 1436 / 1000)
    assert interval.avg_compute_infer_us == pytest.approx(78984688177 / 1436 / 1000)
    assert interval.avg_compute_us == pytest.approx((283368073 + 78984688177 + 309635270) / 1436 / 1000)
    # queue ~45 ms against compute ~55 ms: both matter
    assert interval.queue_share == pytest.approx(64542800676 / (64542800676 + 283368073 + 78984688177 + 309635270))
    assert interval.cache_hit_rate is None  # the cache exists but saw no lookups
    assert interval.pending is None  # only metrics know the queue length


def test_interval_between_two_snapshots_uses_deltas() -> None:
    stats = real("triton_stats_sample.json")
    earlier = counters_from_stats(scaled(stats, 0.25))
    later = counters_from_stats(stats)
    [interval] = model_intervals(earlier, later, seconds=30.0)
    assert not interval.reset
    success = 1436 - int(1436 * 0.25)
    assert interval.requests == success
    assert interval.request_rate == pytest.approx(success / 30)
    assert interval.avg_request_us == pytest.approx((144129653806 - int(144129653806 * 0.25)) / success / 1000)
    assert interval.avg_batch_size == pytest.approx((1436 - 359) / (386 - 96))


def test_counters_that_went_down_are_a_restart() -> None:
    stats = real("triton_stats_sample.json")
    earlier = counters_from_stats(stats)
    later = counters_from_stats(scaled(stats, 0.1))  # the server restarted and served 10% as many since
    [interval] = model_intervals(earlier, later, seconds=10.0)
    assert interval.reset
    assert interval.requests == int(1436 * 0.1)
    assert interval.avg_queue_us == pytest.approx(int(64542800676 * 0.1) / int(1436 * 0.1) / 1000)


def test_old_server_without_cache_or_memory_usage() -> None:
    stats = real("triton_stats_sample_2021_backend_examples.json")
    [counters] = counters_from_stats(stats).values()
    assert (counters.cache_hit_count, counters.cache_miss_count) == (None, None)
    interval = model_interval(None, counters, seconds=1.0)
    assert interval.cache_hit_rate is None
    assert interval.queue_share == pytest.approx(9996491319 / (9996491319 + 95288 + 232202 + 195850))
    assert interval.queue_share is not None and interval.queue_share > 0.99  # requests waited for a batch


def test_no_requests_in_the_interval_gives_rates_but_no_averages() -> None:
    counters = counters_from_stats(real("triton_stats_sample.json"))
    [interval] = model_intervals(counters, counters, seconds=5.0)
    assert (interval.requests, interval.request_rate, interval.reset) == (0, 0.0, False)
    assert interval.failure_rate is interval.avg_request_us is interval.avg_queue_us is interval.queue_share is None


def test_failures_and_cache_hits() -> None:
    def stats(success: int, fail: int, hits: int, misses: int) -> dict[str, Any]:
        phase = {"count": success - hits, "ns": (success - hits) * 1_000_000}
        return {
            "model_stats": [
                {
                    "name": "resnet",
                    "version": "3",
                    "inference_count": success - hits,
                    "execution_count": success - hits,
                    "inference_stats": {
                        "success": {"count": success, "ns": success * 2_000_000},
                        "fail": {"count": fail, "ns": fail * 10_000},
                        "queue": {"count": success, "ns": success * 500_000},
                        "compute_input": phase,
                        "compute_infer": phase,
                        "compute_output": phase,
                        "cache_hit": {"count": hits, "ns": hits * 1000},
                        "cache_miss": {"count": misses, "ns": misses * 1000},
                    },
                }
            ]
        }

    earlier = counters_from_stats(stats(100, 0, 10, 90))
    later = counters_from_stats(stats(200, 25, 40, 160))
    [interval] = model_intervals(earlier, later, seconds=10.0)
    assert (interval.name, interval.version) == ("resnet", "3")
    assert interval.failure_rate == pytest.approx(25 / 125)
    assert interval.cache_hit_rate == pytest.approx(30 / 100)
    assert interval.avg_compute_infer_us == pytest.approx(1000.0)  # per request that ran the model
    assert interval.avg_queue_us == pytest.approx(500.0)


def test_models_gone_since_the_earlier_snapshot_are_left_out_and_a_new_one_counts_from_zero() -> None:
    stats = real("triton_stats_sample.json")
    other = copy.deepcopy(stats["model_stats"][0])
    other["name"] = "new_model"
    earlier = counters_from_stats(stats)
    later = counters_from_stats({"model_stats": [other]})
    [interval] = model_intervals(earlier, later, seconds=1.0)
    assert (interval.name, interval.reset, interval.requests) == ("new_model", True, 1436)


def test_the_interval_must_be_positive() -> None:
    counters = counters_from_stats(real("triton_stats_sample.json"))
    with pytest.raises(ValueError):
        model_intervals(counters, counters, seconds=0.0)
