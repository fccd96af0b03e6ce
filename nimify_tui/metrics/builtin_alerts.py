"""The runbook's alert rules evaluated without Prometheus, from nimify-api's own scrapes, as Prometheus would.

Each nimify-api target (a pod) is scraped by the caller, which hands every scrape, or the failure of one, to
:meth:`BuiltinAlerts.observe`. :meth:`BuiltinAlerts.evaluate` then computes each rule's condition at ``now``:

- ``up{job="nimify-api"}``: 1 per target whose last scrape answered, 0 per target whose last scrape failed;
- the error ratio (the corrected rule): the 5xx increase over all increases in the window, every target summed;
- ``histogram_quantile(0.95, rate(..._bucket[window]))``: per target and per histogram (its labels but ``le``).

A counter's increase in the window is taken from the samples inside it, resets counted as Prometheus does, and
needs two samples (a rate needs two). The window's length cancels out of both ratios, so Prometheus'
extrapolation to the window's edges changes nothing here. The ``for:`` holds are kept by
:class:`~nimify_tui.metrics.alert_states.AlertHolds` on the clock the caller passes.
"""

from __future__ import annotations

import itertools
import math
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from nimify_tui.metrics.alert_states import AlertHolds, RuleState
from nimify_tui.metrics.alerts import API_DOWN, HIGH_ERROR_RATE, HIGH_LATENCY, RUNBOOK_RULES, AlertRule
from nimify_tui.metrics.histogram import histogram_quantile
from nimify_tui.metrics.scrape import Scrape

JOB = "nimify-api"
RUNBOOK_WINDOW_S = 300.0  # the runbook's [5m]
LabelKey = tuple[tuple[str, str], ...]


def _key(labels: Mapping[str, str]) -> LabelKey:
    return tuple(sorted(labels.items()))


def _increase(values: Sequence[float]) -> float:
    """A counter's increase across ``values`` (in time order): a drop is a reset, counted from zero."""
    total = 0.0
    for before, after in itertools.pairwise(values):
        total += after - before if after >= before else after
    return total


def _series(scrapes: Iterable[Scrape], name: str) -> dict[LabelKey, list[float]]:
    """Each series of counter ``name`` across ``scrapes``: its values in time order."""
    found: dict[LabelKey, list[float]] = {}
    for scrape in scrapes:
        for sample in scrape.select(name):
            found.setdefault(_key(sample.labels), []).append(sample.value)
    return found


@dataclass
class _Target:
    scrapes: deque[Scrape] = field(default_factory=deque)
    up: bool = False


class BuiltinAlerts:
    """Scrapes of the nimify-api targets in, the three rules' states out; see the module docstring."""

    def __init__(self, rules: Sequence[AlertRule] = RUNBOOK_RULES, *, window_s: float = RUNBOOK_WINDOW_S) -> None:
        self.rules = tuple(rules)
        self.window_s = window_s
        self._targets: dict[str, _Target] = {}
        self._holds = {rule.name: AlertHolds(rule) for rule in self.rules}

    def observe(self, instance: str, scrape: Scrape | None) -> None:
        """The result of one scrape of target ``instance``: its samples, or None when the scrape failed."""
        target = self._targets.setdefault(instance, _Target())
        target.up = scrape is not None
        if scrape is not None:
            target.scrapes.append(scrape)

    def keep_targets(self, instances: Iterable[str]) -> None:
        """The targets there are now: the others are no longer scraped (their ``up`` series ends)."""
        kept = set(instances)
        for name in list(self._targets):
            if name not in kept:
                del self._targets[name]

    def evaluate(self, now: float) -> tuple[RuleState, ...]:
        """Every rule's state at ``now``, in the order of the rules."""
        for target in self._targets.values():
            while target.scrapes and target.scrapes[0].at <= now - self.window_s:
                target.scrapes.popleft()
        states = []
        for rule in self.rules:
            values, detail = self._values(rule, now)
            states.append(self._holds[rule.name].update(values, now, detail=detail))
        return tuple(states)

    def _values(self, rule: AlertRule, now: float) -> tuple[dict[LabelKey, float], str]:
        """The rule's query evaluated at ``now``, one value per series, and what no series means."""
        if rule.name == API_DOWN.name:
            up = {_key({"job": JOB, "instance": name}): float(t.up) for name, t in self._targets.items()}
            return up, "" if up else "no nimify-api target to scrape"
        if rule.name == HIGH_ERROR_RATE.name:
            return self._error_ratio(now), "no 5xx responses counted"
        if rule.name == HIGH_LATENCY.name:
            return self._p95(now), "no http_request_duration_seconds histogram in the window"
        raise ValueError(f"no built-in evaluation for {rule.name}")

    def _window(self, target: _Target, now: float) -> list[Scrape]:
        return [scrape for scrape in target.scrapes if now - self.window_s < scrape.at <= now]

    def _error_ratio(self, now: float) -> dict[LabelKey, float]:
        errors = total = 0.0
        any_errors = False
        for target in self._targets.values():
            for labels, values in _series(self._window(target, now), "http_requests_total").items():
                if len(values) < 2:
                    continue
                grew = _increase(values)
                total += grew
                if dict(labels).get("status", "").startswith("5"):
                    any_errors = True
                    errors += grew
        if not any_errors:  # sum() of no series is no series: the rule has nothing to judge
            return {}
        return {(): errors / total if total else math.nan}

    def _p95(self, now: float) -> dict[LabelKey, float]:
        found: dict[LabelKey, float] = {}
        for name, target in self._targets.items():
            histograms: dict[LabelKey, list[tuple[float, float]]] = {}
            series = _series(self._window(target, now), "http_request_duration_seconds_bucket")
            for labels, values in series.items():
                if len(values) < 2:
                    continue
                rest = {k: v for k, v in labels if k != "le"}
                bound = float(dict(labels)["le"])
                histograms.setdefault(_key({**rest, "job": JOB, "instance": name}), []).append(
                    (bound, _increase(values))
                )
            for labels, buckets in histograms.items():
                found[labels] = histogram_quantile(0.95, buckets)
        return found
