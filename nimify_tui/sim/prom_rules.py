"""The simulated Prometheus' rule manager: the runbook's three alert rules, evaluated every ``EVAL_INTERVAL_S`` of
simulated time from nimify-api's exposition and its targets' ``up``, served as ``/api/v1/rules`` and
``/api/v1/alerts`` in Prometheus 2.x's shapes.

Which rules are loaded is the deployment's choice (``loaded``): ``corrected`` (the rules file ``nimify-tui rules``
prints: the error rate as ``sum()/sum()``), ``runbook`` (the runbook's text, whose error ratio is 1 on any 5xx)
or ``none`` (no rules file: the rule API answers an empty list). An alert's condition is judged at each
evaluation over the last ``WINDOW_S`` seconds of samples (two needed for a rate, counter resets counted); it is
pending from the first evaluation that finds it true, firing once it has held for the rule's ``for``, and gone
at the first evaluation that finds it false, as Prometheus' rule manager does.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Literal

from nimify_tui.sim.contract import HTTPReply, WorldView

EVAL_INTERVAL_S = 5.0
WINDOW_S = 300.0
RULES_FILE = "/etc/prometheus/rules/nimify-runbook.yml"
GROUP = "nimify-runbook"
Loaded = Literal["corrected", "runbook", "none"]
_SAMPLE = re.compile(r"^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(?P<labels>[^}]*)\})? (?P<value>\S+)$")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
_ERRORS = 'rate(http_requests_total{status=~"5.."}[5m])'
_ALL = "rate(http_requests_total[5m])"


@dataclass(frozen=True)
class _Rule:
    name: str
    query: str
    for_s: float
    summary: str


def _rules(loaded: Loaded) -> list[_Rule]:
    if loaded == "none":
        return []
    ratio = f"sum({_ERRORS}) / sum({_ALL})" if loaded == "corrected" else f"{_ERRORS} / {_ALL}"
    return [
        _Rule("NimifyAPIDown", 'up{job="nimify-api"} == 0', 30.0, "Prometheus cannot scrape a nimify-api target"),
        _Rule("NimifyHighErrorRate", f"{ratio} > 0.01", 120.0, "More than 1% of nimify-api requests fail"),
        _Rule(
            "NimifyHighLatency",
            "histogram_quantile(0.95, rate(http_request_duration_seconds_bucket[5m])) > 0.5",
            300.0,
            "nimify-api p95 request latency is above 0.5 s",
        ),
    ]


def _rfc3339(t: float) -> str:
    return datetime.fromtimestamp(t, timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _parse(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """The samples of an exposition text, by (name, sorted labels)."""
    found = {}
    for line in text.splitlines():
        matched = _SAMPLE.match(line)
        if matched is None:
            continue
        labels = tuple(sorted(_LABEL.findall(matched.group("labels") or "")))
        found[(matched.group("name"), labels)] = float(matched.group("value"))
    return found


def _increase(values: list[float]) -> float:
    return sum(b - a if b >= a else b for a, b in itertools.pairwise(values))


def _quantile(q: float, buckets: list[tuple[float, float]]) -> float:
    """PromQL's histogram_quantile over cumulative (bound, count) buckets."""
    buckets = sorted(buckets)
    if len(buckets) < 2 or not math.isinf(buckets[-1][0]) or buckets[-1][1] <= 0:
        return math.nan
    rank = q * buckets[-1][1]
    below, lower = 0.0, 0.0
    for index, (bound, count) in enumerate(buckets):
        if count >= rank:
            if math.isinf(bound):
                return buckets[index - 1][0]
            if count == below:
                return bound
            return lower + (bound - lower) * (rank - below) / (count - below)
        below, lower = count, bound
    return math.nan


class SimAlertRules:
    """See the module docstring. ``metrics`` gives nimify-api's exposition now (the whole fleet's counters);
    ``targets`` each nimify-api target's labels and whether its last scrape answered."""

    def __init__(
        self,
        world: WorldView,
        metrics: Callable[[], bytes],
        targets: Callable[[], list[tuple[Mapping[str, str], bool]]],
        loaded: Loaded = "corrected",
    ) -> None:
        self._world = world
        self._metrics = metrics
        self._targets = targets
        self.loaded: Loaded = loaded
        self._samples: deque[tuple[float, dict[tuple[str, tuple[tuple[str, str], ...]], float]]] = deque()
        self._active: dict[str, dict[tuple[tuple[str, str], ...], tuple[float, float]]] = {}  # rule -> series
        self._last_eval = -math.inf

    def tick(self, dt: float) -> None:
        now = self._world.now()
        if now - self._last_eval < EVAL_INTERVAL_S:
            return
        self._last_eval = now
        self._samples.append((now, _parse(self._metrics().decode())))
        while self._samples and self._samples[0][0] <= now - WINDOW_S:
            self._samples.popleft()
        for rule in _rules(self.loaded):
            values = self._values(rule)
            before = self._active.get(rule.name, {})
            self._active[rule.name] = {
                labels: (before.get(labels, (now, 0.0))[0], value) for labels, value in values.items()
            }

    def _series(self, name: str) -> dict[tuple[tuple[str, str], ...], list[float]]:
        series: dict[tuple[tuple[str, str], ...], list[float]] = {}
        for _, samples in self._samples:
            for (sample_name, labels), value in samples.items():
                if sample_name == name:
                    series.setdefault(labels, []).append(value)
        return {labels: values for labels, values in series.items() if len(values) >= 2}

    def _values(self, rule: _Rule) -> dict[tuple[tuple[str, str], ...], float]:
        """The breaching series of ``rule`` now, with their values."""
        if rule.name == "NimifyAPIDown":
            return {tuple(sorted(labels.items())): 0.0 for labels, up in self._targets() if not up}
        if rule.name == "NimifyHighErrorRate":
            requests = self._series("http_requests_total")
            increases = {labels: _increase(values) for labels, values in requests.items()}
            errors = {labels: grew for labels, grew in increases.items() if dict(labels).get("status", "")[:1] == "5"}
            if self.loaded == "runbook":  # each 5xx series divided by itself
                return {labels: 1.0 for labels, grew in errors.items() if grew > 0}
            total = sum(increases.values())
            ratio = sum(errors.values()) / total if errors and total else math.nan
            return {(): ratio} if ratio > 0.01 else {}
        histograms: dict[tuple[tuple[str, str], ...], list[tuple[float, float]]] = {}
        for labels, values in self._series("http_request_duration_seconds_bucket").items():
            rest = tuple((k, v) for k, v in labels if k != "le")
            histograms.setdefault(rest, []).append((float(dict(labels)["le"]), _increase(values)))
        found = {labels: _quantile(0.95, buckets) for labels, buckets in histograms.items()}
        return {labels: value for labels, value in found.items() if value > 0.5}

    def _alerts(self, rule: _Rule) -> list[dict[str, object]]:
        now = self._world.now()
        alerts: list[dict[str, object]] = []
        for labels, (active_at, value) in sorted(self._active.get(rule.name, {}).items()):
            state = "firing" if now - active_at >= rule.for_s else "pending"
            alerts.append(
                {
                    "labels": {"alertname": rule.name, **dict(labels)},
                    "annotations": {"summary": rule.summary},
                    "state": state,
                    "activeAt": _rfc3339(active_at),
                    "value": f"{value:e}",
                }
            )
        return alerts

    def rules_reply(self) -> HTTPReply:
        last = _rfc3339(self._last_eval) if math.isfinite(self._last_eval) else "0001-01-01T00:00:00Z"
        rules = []
        for rule in _rules(self.loaded):
            alerts = self._alerts(rule)
            states = {alert["state"] for alert in alerts}
            rules.append(
                {
                    "state": "firing" if "firing" in states else "pending" if states else "inactive",
                    "name": rule.name,
                    "query": rule.query,
                    "duration": rule.for_s,
                    "labels": {},
                    "annotations": {"summary": rule.summary},
                    "alerts": alerts,
                    "health": "ok",
                    "evaluationTime": 0.0004,
                    "lastEvaluation": last,
                    "type": "alerting",
                }
            )
        groups = (
            [{"name": GROUP, "file": RULES_FILE, "rules": rules, "interval": EVAL_INTERVAL_S, "limit": 0}]
            if rules
            else []
        )
        return _json({"status": "success", "data": {"groups": groups}})

    def alerts_reply(self) -> HTTPReply:
        alerts = [alert for rule in _rules(self.loaded) for alert in self._alerts(rule)]
        return _json({"status": "success", "data": {"alerts": alerts}})


def _json(payload: object) -> HTTPReply:
    return HTTPReply(200, json.dumps(payload, separators=(",", ":")).encode())
