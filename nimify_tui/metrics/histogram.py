"""Counter increases and rates between two scrapes, and quantiles from cumulative histogram buckets.

Counters are handled per series as Prometheus does: a value lower than the one before is a reset, so the
increase is the new value; a series absent from the earlier scrape counts from zero.
:func:`histogram_quantile` follows PromQL's ``histogram_quantile`` (linear interpolation inside a bucket).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

from nimify_tui.metrics.scrape import Scrape


def _series_key(labels: Mapping[str, str]) -> frozenset[tuple[str, str]]:
    return frozenset(labels.items())


def series_increases(
    earlier: Scrape, later: Scrape, name: str, labels: Mapping[str, str] | None = None
) -> list[tuple[Mapping[str, str], float]]:
    """The increase of each matching counter series from ``earlier`` to ``later``, with the series' labels."""
    before = {_series_key(sample.labels): sample.value for sample in earlier.select(name, labels)}
    increases: list[tuple[Mapping[str, str], float]] = []
    for sample in later.select(name, labels):
        previous = before.get(_series_key(sample.labels), 0.0)
        increases.append((sample.labels, sample.value - previous if sample.value >= previous else sample.value))
    return increases


def increase(earlier: Scrape, later: Scrape, name: str, labels: Mapping[str, str] | None = None) -> float | None:
    """The summed increase of the matching counter series; None when ``later`` has no such series."""
    increases = series_increases(earlier, later, name, labels)
    return sum(value for _, value in increases) if increases else None


def bucket_increases(
    earlier: Scrape, later: Scrape, histogram: str, labels: Mapping[str, str] | None = None
) -> list[tuple[float, float]]:
    """``sum by (le) (increase(<histogram>_bucket[...]))`` between two scrapes, as (upper bound, count)."""
    by_bound: dict[float, float] = {}
    for series_labels, value in series_increases(earlier, later, histogram + "_bucket", labels):
        bound = float(series_labels["le"])
        by_bound[bound] = by_bound.get(bound, 0.0) + value
    return sorted(by_bound.items())


def histogram_quantile(quantile: float, buckets: Iterable[tuple[float, float]]) -> float:
    """The ``quantile`` (0..1) of cumulative (upper bound, count) buckets, as PromQL computes it.

    NaN when there is no ``+Inf`` bucket, fewer than two buckets or no observations; the upper bound of the
    highest finite bucket when the rank falls in the ``+Inf`` bucket.
    """
    if math.isnan(quantile):
        return math.nan
    if quantile < 0:
        return -math.inf
    if quantile > 1:
        return math.inf
    merged: dict[float, float] = {}
    for bound, count in buckets:
        merged[bound] = merged.get(bound, 0.0) + count
    ordered = sorted(merged.items())
    if len(ordered) < 2 or not math.isinf(ordered[-1][0]):
        return math.nan
    counts: list[float] = []
    for _, count in ordered:  # counts must not decrease; a lower one is raised to the one before
        counts.append(max(count, counts[-1]) if counts else count)
    observations = counts[-1]
    if observations == 0:
        return math.nan
    rank = quantile * observations
    index = next(i for i, count in enumerate([*counts[:-1], math.inf]) if count >= rank)
    if index == len(ordered) - 1:
        return ordered[-2][0]
    upper = ordered[index][0]
    if index == 0 and upper <= 0:
        return upper
    lower = 0.0 if index == 0 else ordered[index - 1][0]
    below = 0.0 if index == 0 else counts[index - 1]
    in_bucket = counts[index] - below
    if in_bucket == 0:  # only when the rank is 0 and the lowest bucket is empty: PromQL divides 0 by 0
        return math.nan
    return lower + (upper - lower) * ((rank - below) / in_bucket)
