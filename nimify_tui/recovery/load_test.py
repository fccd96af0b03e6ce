"""The runbook's light load test: a bounded number of predicts, a bounded number at a time, each with a timeout;
the latencies summed up as a histogram with p50, p95 and max."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from nimify_tui.config import MAX_CONCURRENCY, MAX_REQUESTS, MAX_TIMEOUT_S
from nimify_tui.recovery.result import LoadFigures
from nimify_tui.text import one_line

if TYPE_CHECKING:
    import httpx

# the histogram's upper bounds, milliseconds
BUCKETS_MS = (10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0, math.inf)


@dataclass(frozen=True, slots=True)
class LoadSpec:
    """How much load: ``requests`` predicts, at most ``concurrency`` in flight, each given ``timeout_s``."""

    requests: int = 10
    concurrency: int = 10
    timeout_s: float = 5.0

    def __post_init__(self) -> None:
        if not 1 <= self.requests <= MAX_REQUESTS:
            raise ValueError(f"load test requests must be 1 to {MAX_REQUESTS}, not {self.requests}")
        if not 1 <= self.concurrency <= MAX_CONCURRENCY:
            raise ValueError(f"load test concurrency must be 1 to {MAX_CONCURRENCY}, not {self.concurrency}")
        if not 0 < self.timeout_s <= MAX_TIMEOUT_S:
            raise ValueError(f"load test timeout must be above 0 and at most {MAX_TIMEOUT_S:g} s, not {self.timeout_s}")


def percentile(sorted_ms: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile of sorted latencies (NaN when there are none)."""
    if not sorted_ms:
        return math.nan
    rank = max(1, math.ceil(fraction * len(sorted_ms)))
    return sorted_ms[rank - 1]


def figures(latencies_ms: Sequence[float], errors: int, concurrency: int, first_error: str = "") -> LoadFigures:
    """The load test's figures from every request's latency (failed ones included: they too took that long)."""
    ordered = sorted(latencies_ms)
    counts = [0] * len(BUCKETS_MS)
    for value in ordered:
        counts[next(i for i, bound in enumerate(BUCKETS_MS) if value <= bound)] += 1
    return LoadFigures(
        requests=len(ordered),
        concurrency=concurrency,
        errors=errors,
        p50_ms=percentile(ordered, 0.50),
        p95_ms=percentile(ordered, 0.95),
        max_ms=ordered[-1] if ordered else math.nan,
        buckets=tuple(zip(BUCKETS_MS, counts, strict=True)),
        first_error=first_error,
    )


async def run_load_test(client: httpx.AsyncClient, url: str, body: bytes, spec: LoadSpec) -> LoadFigures:
    """POST ``body`` to ``url`` ``spec.requests`` times, ``spec.concurrency`` at a time. A request that does not
    answer 2xx within its timeout is an error."""
    import httpx

    gate = asyncio.Semaphore(spec.concurrency)
    latencies: list[float] = []
    errors: list[str] = []

    async def one() -> None:
        async with gate:
            started = time.perf_counter()
            try:
                response = await client.post(
                    url, content=body, headers={"Content-Type": "application/json"}, timeout=spec.timeout_s
                )
            except httpx.TimeoutException:
                errors.append(f"no answer within {spec.timeout_s:g} s")
            except httpx.HTTPError as exc:
                errors.append(one_line(f"{type(exc).__name__}: {exc}", 160))
            else:
                if not 200 <= response.status_code < 300:
                    errors.append(one_line(f"HTTP {response.status_code}: {response.text}", 160))
            latencies.append((time.perf_counter() - started) * 1000.0)

    await asyncio.gather(*(one() for _ in range(spec.requests)))
    return figures(latencies, len(errors), spec.concurrency, errors[0] if errors else "")
