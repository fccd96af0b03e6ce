"""Prometheus text parsing, counter increases and rates, and histogram quantiles checked against promtool."""

from __future__ import annotations

import math
import random
import shutil
import subprocess
from pathlib import Path

import pytest

from nimify_tui.metrics.histogram import (
    bucket_increases,
    histogram_quantile,
    increase,
    series_increases,
)
from nimify_tui.metrics.scrape import parse_metrics

from ..conftest import real_text

# -- parsing and selecting -----------------------------------------------------------------------------------


def test_triton_metrics_are_parsed_and_selected_by_labels() -> None:
    scrape = parse_metrics(real_text("triton/triton_metrics_sample.txt"), at=100.0)
    assert scrape.at == 100.0
    assert scrape.value("nv_inference_request_success", {"model": "echo"}) == 200
    assert scrape.value("nv_inference_request_success", {"model": "other"}) is None
    assert len(scrape.select("nv_inference_request_failure")) == 4
    assert scrape.total("nv_inference_request_failure", {"model": "echo", "version": "1"}) == 0
    assert scrape.value("nv_inference_request_summary_us", {"quantile": "0.95"}) == 921
    assert scrape.value("nv_inference_request_summary_us_count") == 200
    assert scrape.value("nv_cpu_utilization") == pytest.approx(0.0314401622718)
    assert scrape.total("nv_gpu_utilization") is None  # a CPU-only server has no nv_gpu_*


def test_old_float_format_and_label_less_failures() -> None:
    scrape = parse_metrics(real_text("triton/triton_metrics_sample_gpu_22.07.txt"), at=0.0)
    assert scrape.value("nv_inference_request_success", {"model": "add_sub"}) == 15.0
    assert scrape.select("nv_inference_request_failure", {"model": "ExaTrk"})[0].labels == {
        "model": "ExaTrk",
        "version": "1",
    }
    assert scrape.value("nv_gpu_power_limit") == 250.0


def test_counters_keep_their_total_suffix_and_text_that_is_not_prometheus_is_refused() -> None:
    scrape = parse_metrics('# TYPE http_requests counter\nhttp_requests_total{code="500"} 7\n', at=0.0)
    assert scrape.value("http_requests_total", {"code": "500"}) == 7
    with pytest.raises(ValueError):
        parse_metrics("this is { not prometheus\n", at=0.0)


# -- increases and rates -------------------------------------------------------------------------------------

EARLIER = """\
# TYPE requests counter
requests_total{pod="a",code="200"} 100
requests_total{pod="b",code="200"} 50
requests_total{pod="b",code="500"} 5
"""
LATER = """\
# TYPE requests counter
requests_total{pod="a",code="200"} 160
requests_total{pod="b",code="200"} 20
requests_total{pod="b",code="500"} 5
requests_total{pod="c",code="500"} 3
"""


def test_increase_handles_resets_and_new_series_per_series() -> None:
    earlier, later = parse_metrics(EARLIER, at=1000.0), parse_metrics(LATER, at=1010.0)
    by_series = {
        (labels["pod"], labels["code"]): value for labels, value in series_increases(earlier, later, "requests_total")
    }
    # a: +60; b/200 restarted (20 < 50) so all 20 are new; b/500 unchanged; c is new: counted from zero
    assert by_series == {("a", "200"): 60, ("b", "200"): 20, ("b", "500"): 0, ("c", "500"): 3}
    assert increase(earlier, later, "requests_total") == 83
    assert increase(earlier, later, "requests_total", {"code": "500"}) == 3
    assert increase(earlier, later, "missing_total") is None


def test_bucket_increases_sum_by_le() -> None:
    def histogram(counts: dict[str, list[int]], at: float) -> str:
        lines = ["# TYPE latency histogram"]
        for pod, values in counts.items():
            for bound, value in zip(("0.1", "0.5", "+Inf"), values, strict=True):
                lines.append(f'latency_bucket{{pod="{pod}",le="{bound}"}} {value}')
            lines.append(f'latency_count{{pod="{pod}"}} {values[-1]}')
            lines.append(f'latency_sum{{pod="{pod}"}} 1.0')
        return "\n".join(lines) + "\n"

    earlier = parse_metrics(histogram({"a": [10, 20, 30], "b": [5, 5, 5]}, 0), at=0.0)
    later = parse_metrics(histogram({"a": [30, 60, 90], "b": [6, 8, 9]}, 60), at=60.0)
    assert bucket_increases(earlier, later, "latency") == [(0.1, 21.0), (0.5, 43.0), (math.inf, 64.0)]
    assert bucket_increases(earlier, later, "latency", {"pod": "b"}) == [
        (0.1, 1.0),
        (0.5, 3.0),
        (math.inf, 4.0),
    ]
    p95 = histogram_quantile(0.95, bucket_increases(earlier, later, "latency"))
    assert p95 == 0.5  # the rank falls in the +Inf bucket: the highest finite bound


# -- histogram_quantile --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("quantile", "expected"),
    [(0.25, 0.1), (0.3, 0.1 + (0.5 - 0.1) * (2 / 10)), (0.5, 0.5), (0.75, 1.0), (0.95, 1.0), (0.0, 0.0)],
)
def test_quantile_interpolates_inside_the_bucket(quantile: float, expected: float) -> None:
    buckets = [(0.1, 10.0), (0.5, 20.0), (1.0, 30.0), (math.inf, 40.0)]
    assert histogram_quantile(quantile, buckets) == expected


def test_quantile_edge_cases_follow_promql() -> None:
    buckets = [(1.0, 1.0), (math.inf, 2.0)]
    assert histogram_quantile(-0.1, buckets) == -math.inf
    assert histogram_quantile(1.1, buckets) == math.inf
    assert math.isnan(histogram_quantile(math.nan, buckets))
    assert math.isnan(histogram_quantile(0.5, [(1.0, 1.0), (2.0, 2.0)]))  # no +Inf bucket
    assert math.isnan(histogram_quantile(0.5, [(math.inf, 2.0)]))  # one bucket
    assert math.isnan(histogram_quantile(0.5, [(1.0, 0.0), (math.inf, 0.0)]))  # no observations
    assert math.isnan(histogram_quantile(0.0, [(1.0, 0.0), (math.inf, 3.0)]))  # PromQL divides 0 by 0 here
    assert histogram_quantile(0.5, [(-1.0, 5.0), (math.inf, 6.0)]) == -1.0  # a non-positive lowest bound
    # unsorted, duplicated bounds and counts that go down are repaired as PromQL does
    repaired = [
        (math.inf, 10.0),
        (1.0, 2.0),
        (1.0, 2.0),
        (2.0, 3.0),
        (4.0, 8.0),
    ]  # le=1 twice: 4; le=2: 3 -> 4
    assert histogram_quantile(0.5, repaired) == 2.0 + 2.0 * ((5.0 - 4.0) / (8.0 - 4.0))


def random_histograms(count: int) -> list[list[tuple[str, float]]]:
    rng = random.Random(42)
    histograms = []
    for _ in range(count):
        bounds = sorted(rng.sample([0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], rng.randint(1, 8)))
        counts, total = [], 0.0
        for _ in bounds:
            total += rng.choice([0, 1, 3, 17, 250])
            counts.append(total)
        if rng.random() < 0.2 and len(counts) > 1:
            counts[0] = counts[-1] + 5  # a count that goes down: PromQL forces it monotonic
        histograms.append(
            [(repr(float(b)), c) for b, c in zip(bounds, counts, strict=True)]
            + [("+Inf", total + rng.choice([0, 2, 9]))]
        )
    return histograms


@pytest.mark.prometheus
def test_quantiles_equal_those_of_prometheus(tmp_path: Path) -> None:
    """promtool evaluates histogram_quantile on the same buckets; its unit test demands our exact values."""
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool is not installed")
    series, cases = [], []
    for number, histogram in enumerate(random_histograms(40)):
        buckets = [(float(bound), count) for bound, count in histogram]
        for bound, count in histogram:
            series.append(f"      - series: 'h{number}_bucket{{le=\"{bound}\"}}'\n        values: '{count!r}'")
        for quantile in (0.5, 0.9, 0.95, 0.99):
            expected = histogram_quantile(quantile, buckets)
            if math.isnan(expected):
                continue  # promtool cannot expect NaN (NaN != NaN); NaN cases are checked above
            cases.append(
                f"      - expr: histogram_quantile({quantile}, h{number}_bucket)\n        eval_time: 0m\n"
                f"        exp_samples:\n          - labels: '{{}}'\n            value: {expected!r}"
            )
    assert len(cases) > 100
    test_file = tmp_path / "quantiles_test.yml"
    test_file.write_text(
        "tests:\n  - interval: 1m\n    input_series:\n"
        + "\n".join(series)
        + "\n    promql_expr_test:\n"
        + "\n".join(cases)
        + "\n"
    )
    result = subprocess.run([promtool, "test", "rules", str(test_file)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
