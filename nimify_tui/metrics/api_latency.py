"""nimify-api's latency over the last interval, and the short history the latency graph draws. The scraping itself
is done by the metrics poller (``nimify_tui.live.pollers.scrape_loop``); this module only computes.

nimify-api's p95 comes from the increase of its ``http_request_duration_seconds`` buckets between two scrapes (what
``histogram_quantile(0.95, rate(..._bucket[interval]))`` computes), so the graph shows the latency of the last few
seconds, not of the process' whole life.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from nimify_tui.metrics.histogram import bucket_increases, histogram_quantile, increase
from nimify_tui.metrics.scrape import Scrape

HISTORY_POINTS = 600  # at one point every few seconds: the last half hour or more


@dataclass(frozen=True, slots=True)
class LatencyPoint:
    at: float
    api_p95_s: float | None  # nimify-api p95 over the last interval
    api_error_ratio: float | None  # 5xx / all over the last interval
    api_rps: float | None
    queue_ms: float | None  # Triton average queue time per request
    compute_ms: float | None  # Triton average compute time (input + infer + output)


@dataclass(frozen=True, slots=True)
class LatencyHistory:
    """The last ``HISTORY_POINTS`` points, oldest first. Immutable: the poller publishes a new history with each
    point (``added``), so a reader on another thread iterates a snapshot that never changes under it."""

    points: tuple[LatencyPoint, ...] = ()

    def added(self, point: LatencyPoint) -> LatencyHistory:
        kept = self.points[-(HISTORY_POINTS - 1) :] if len(self.points) >= HISTORY_POINTS else self.points
        return LatencyHistory((*kept, point))

    def latest(self) -> LatencyPoint | None:
        return self.points[-1] if self.points else None


@dataclass(frozen=True, slots=True)
class ApiInterval:
    p95_s: float | None
    error_ratio: float | None
    rps: float | None


def api_interval(pairs: Sequence[tuple[Scrape, Scrape]]) -> ApiInterval:
    """p95, 5xx ratio and request rate of nimify-api over the last interval, from (earlier, later) scrapes of each
    replica: each process' counters give its own increases, which add up (never deltas across two processes)."""
    by_bound: dict[float, float] = {}
    total = errors = 0.0
    seconds = 0.0
    seen = False
    for earlier, later in pairs:
        seconds = max(seconds, later.at - earlier.at)
        for bound, count in bucket_increases(earlier, later, "http_request_duration_seconds"):
            by_bound[bound] = by_bound.get(bound, 0.0) + count
        increase_all = increase(earlier, later, "http_requests_total")
        if increase_all is None:
            continue
        seen = True
        total += increase_all
        for sample in later.select("http_requests_total"):
            if sample.labels.get("status", "").startswith("5"):
                errors += increase(earlier, later, "http_requests_total", sample.labels) or 0.0
    buckets = sorted(by_bound.items())
    observed = buckets[-1][1] if buckets else 0.0
    p95 = histogram_quantile(0.95, buckets) if observed > 0 else None
    ratio = errors / total if total else None
    rps = total / seconds if seen and seconds > 0 else None
    return ApiInterval(p95, ratio, rps)
