"""Prometheus text exposition (``/metrics``) parsed into samples, and selection of samples by name and labels.

Parsing uses ``prometheus_client``'s parser, imported on first use so that importing this module costs
nothing. Samples are ``prometheus_client.samples.Sample`` tuples (``name``, ``labels``, ``value``, ...).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from prometheus_client.samples import Sample


@dataclass(frozen=True, slots=True)
class Scrape:
    """The samples of one scrape, grouped by sample name, and when it was taken (seconds since the epoch)."""

    at: float
    by_name: Mapping[str, tuple[Sample, ...]]

    def select(self, name: str, labels: Mapping[str, str] | None = None) -> list[Sample]:
        """The samples called ``name`` whose labels include every ``labels`` pair.

        The parser names every counter sample ``<name>_total`` (the OpenMetrics convention), whether or not
        the exposition did: a counter is found by either name.
        """
        samples = self.by_name.get(name) or self.by_name.get(name + "_total", ())
        if not labels:
            return list(samples)
        wanted = labels.items()
        return [sample for sample in samples if wanted <= sample.labels.items()]

    def value(self, name: str, labels: Mapping[str, str] | None = None) -> float | None:
        """The value of the first matching sample; None when none matches."""
        samples = self.select(name, labels)
        return samples[0].value if samples else None

    def total(self, name: str, labels: Mapping[str, str] | None = None) -> float | None:
        """The sum over all matching samples (several series of one model, say); None when none matches."""
        samples = self.select(name, labels)
        return sum(sample.value for sample in samples) if samples else None


def parse_metrics(text: str, at: float) -> Scrape:
    """Parse Prometheus text taken at time ``at``; raise ValueError on text that is not in that format."""
    from prometheus_client.parser import text_string_to_metric_families

    by_name: dict[str, list[Sample]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            by_name.setdefault(sample.name, []).append(sample)
    return Scrape(at, {name: tuple(samples) for name, samples in by_name.items()})
