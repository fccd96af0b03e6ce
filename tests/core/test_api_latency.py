"""nimify-api's p95, 5xx ratio and rate over an interval, from the scrapes of several replicas."""

from __future__ import annotations

import pytest

from nimify_tui.metrics.api_latency import api_interval
from nimify_tui.metrics.scrape import parse_metrics

BOUNDS = ("0.1", "0.25", "0.5", "1.0", "+Inf")


def metrics(ok: int, errors: int, buckets: tuple[int, ...]) -> str:
    lines = [
        "# TYPE http_requests_total counter",
        f'http_requests_total{{method="POST",endpoint="/v1/predict",status="200"}} {ok}',
        f'http_requests_total{{method="POST",endpoint="/v1/predict",status="503"}} {errors}',
        "# TYPE http_request_duration_seconds histogram",
    ]
    lines += [f'http_request_duration_seconds_bucket{{le="{b}"}} {n}' for b, n in zip(BOUNDS, buckets, strict=True)]
    lines += [f"http_request_duration_seconds_count {buckets[-1]}", "http_request_duration_seconds_sum 1.0"]
    return "\n".join(lines) + "\n"


def test_two_replicas_add_their_own_increases() -> None:
    # replica a: 100 requests, all fast; replica b: 100 requests, 60 slower than 0.5 s, 10 failed
    a0, a1 = parse_metrics(metrics(0, 0, (0, 0, 0, 0, 0)), 0.0), parse_metrics(metrics(100, 0, (100,) * 5), 10.0)
    b0 = parse_metrics(metrics(500, 50, (500, 500, 550, 550, 550)), 0.0)
    b1 = parse_metrics(metrics(590, 60, (530, 540, 590, 650, 650)), 10.0)
    interval = api_interval([(a0, a1), (b0, b1)])
    assert interval.rps == pytest.approx(20.0)
    assert interval.error_ratio == pytest.approx(10 / 200)
    # 200 observations: 130 under 0.1 s, 140 under 0.25, 140 under 0.5, 200 under 1.0: p95 lies in (0.5, 1.0]
    assert interval.p95_s == pytest.approx(0.5 + 0.5 * (190 - 140) / 60)


def test_a_replica_that_restarted_counts_from_zero() -> None:
    before = parse_metrics(metrics(1000, 0, (1000,) * 5), 0.0)
    after = parse_metrics(metrics(20, 0, (20,) * 5), 5.0)  # new process: counters started again
    interval = api_interval([(before, after)])
    assert interval.rps == pytest.approx(4.0)
    assert interval.p95_s is not None and interval.p95_s <= 0.1


def test_no_traffic_gives_no_percentile() -> None:
    same = parse_metrics(metrics(5, 0, (5,) * 5), 0.0)
    interval = api_interval([(same, parse_metrics(metrics(5, 0, (5,) * 5), 3.0))])
    assert interval.p95_s is None and interval.error_ratio is None and interval.rps == 0.0
