"""The runbook's three alert rules as data, evaluated through PromQL and written as a Prometheus rules file.

A rule is a PromQL query, a comparison with a threshold and a ``for`` duration, as in the runbook. The
evaluator asks Prometheus for the query over the last ``for`` seconds (a range query) and decides per series,
as Prometheus' rule manager would: breached now and at every step of the last ``for`` seconds is firing,
breached now but not for that long is pending. The rate range (``[5m]`` in the runbook) is a parameter, so a
test or a short incident can use a shorter one.
"""

from __future__ import annotations

import asyncio
import math
import operator
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from string import Template

import yaml

from nimify_tui.metrics.prom import Matrix, PromClient, PromError, Series

RUNBOOK_WINDOW = "5m"
RULES_GROUP = "nimify-runbook"
_STEPS = 10  # range-query steps across a rule's ``for``
_DURATION = re.compile(r"(?:[0-9]+(?:ms|[smhdwy]))+")
_COMPARISONS: Mapping[str, Callable[[float, float], bool]] = {"==": operator.eq, ">": operator.gt}


class AlertState(Enum):
    FIRING = "firing"
    PENDING = "pending"
    OK = "ok"
    UNKNOWN = "unknown"  # Prometheus could not answer, or has no series to judge


_SEVERITY = {AlertState.FIRING: 2, AlertState.PENDING: 1, AlertState.OK: 0}


@dataclass(frozen=True, slots=True)
class AlertRule:
    """One alert rule: ``<query> <comparison> <threshold>`` held for ``for_s`` seconds.

    ``query`` marks the rate range as ``$window``. ``no_data`` is the state when the query finds no series
    (no 5xx responses at all is fine; no ``up`` series means nobody watches the api), and ``no_data_reason``
    says what that means.
    """

    name: str
    query: str
    comparison: str
    threshold: str  # as the rule writes it
    for_s: float
    summary: str
    no_data: AlertState
    no_data_reason: str

    def promql(self, window: str = RUNBOOK_WINDOW) -> str:
        """The query with ``window`` as its rate range."""
        if not _DURATION.fullmatch(window):
            raise ValueError(f"not a Prometheus duration: {window!r}")
        return Template(self.query).substitute(window=window)

    def expr(self, window: str = RUNBOOK_WINDOW) -> str:
        """The rule's full expression, as the rules file holds it."""
        return f"{self.promql(window)} {self.comparison} {self.threshold}"

    def breached(self, value: float) -> bool:
        return _COMPARISONS[self.comparison](value, float(self.threshold))


API_DOWN = AlertRule(
    name="NimifyAPIDown",
    query='up{job="nimify-api"}',
    comparison="==",
    threshold="0",
    for_s=30.0,
    summary="Prometheus cannot scrape a nimify-api target",
    no_data=AlertState.UNKNOWN,
    no_data_reason='no up{job="nimify-api"} series: Prometheus does not scrape nimify-api',
)
HIGH_ERROR_RATE = AlertRule(
    name="NimifyHighErrorRate",
    query='rate(http_requests_total{status=~"5.."}[$window]) / rate(http_requests_total[$window])',
    comparison=">",
    threshold="0.01",
    for_s=120.0,
    summary="More than 1% of nimify-api requests fail with a 5xx status",
    no_data=AlertState.OK,
    no_data_reason="no 5xx responses counted",
)
HIGH_LATENCY = AlertRule(
    name="NimifyHighLatency",
    query="histogram_quantile(0.95, rate(http_request_duration_seconds_bucket[$window]))",
    comparison=">",
    threshold="0.5",
    for_s=300.0,
    summary="nimify-api p95 request latency is above 0.5 s",
    no_data=AlertState.UNKNOWN,
    no_data_reason="no http_request_duration_seconds histogram",
)
RUNBOOK_RULES = (API_DOWN, HIGH_ERROR_RATE, HIGH_LATENCY)


@dataclass(frozen=True, slots=True)
class AlertStatus:
    """A rule's state now, with the value and labels of its worst series and how long it has been breached."""

    rule: AlertRule
    state: AlertState
    value: float | None = None  # None when there is no series to judge
    labels: Mapping[str, str] = field(default_factory=dict)
    held_s: float = 0.0  # how long the condition has held, counted up to the rule's ``for``
    detail: str = ""  # why the state is unknown, or what no data means


def duration_text(seconds: float) -> str:
    """``seconds`` as a Prometheus duration: 30 -> ``30s``, 120 -> ``2m``, 90.5 -> ``1m30s500ms``."""
    rest = round(seconds * 1000)
    if rest < 0:
        raise ValueError(f"a duration cannot be negative: {seconds!r}")
    parts = []
    for unit, size in (("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1)):
        count, rest = divmod(rest, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts) or "0s"


def _series_status(rule: AlertRule, series: Series, end_ms: int, step_ms: int) -> AlertStatus | None:
    """The series' state at ``end_ms``; None when it has no point there (absent now)."""
    points = [(round(at * 1000), value) for at, value in series.points]
    if not points or points[-1][0] != end_ms:
        return None
    value = points[-1][1]
    if not rule.breached(value):
        return AlertStatus(rule, AlertState.OK, value, series.labels)
    since_ms = end_ms
    for at_ms, earlier in reversed(points):
        if since_ms - at_ms > step_ms or not rule.breached(earlier):
            break
        since_ms = at_ms
    held_ms = end_ms - since_ms
    state = AlertState.FIRING if held_ms >= round(rule.for_s * 1000) else AlertState.PENDING
    return AlertStatus(rule, state, value, series.labels, held_ms / 1000)


def _severity(status: AlertStatus) -> tuple[int, float]:
    value = status.value if status.value is not None and not math.isnan(status.value) else -math.inf
    return _SEVERITY[status.state], value


def judge(rule: AlertRule, matrix: Matrix, end_ms: int, step_ms: int) -> AlertStatus:
    """The rule's state from its query evaluated every ``step_ms`` up to ``end_ms``: the worst series wins."""
    statuses = [
        status for series in matrix.series if (status := _series_status(rule, series, end_ms, step_ms)) is not None
    ]
    if not statuses:
        return AlertStatus(rule, rule.no_data, detail=rule.no_data_reason)
    return max(statuses, key=_severity)


async def evaluate_alert(
    prom: PromClient, rule: AlertRule, *, window: str = RUNBOOK_WINDOW, at: float | None = None
) -> AlertStatus:
    """Evaluate ``rule`` at ``at`` (seconds since the epoch; now when None) through ``prom``."""
    end_ms = round((time.time() if at is None else at) * 1000)
    for_ms = round(rule.for_s * 1000)
    step_ms = max(1, for_ms // _STEPS)
    start_ms = end_ms - step_ms * -(-for_ms // step_ms)  # whole steps reaching back at least ``for``
    try:
        matrix = await prom.query_range(rule.promql(window), start_ms / 1000, end_ms / 1000, step_ms / 1000)
    except PromError as exc:
        return AlertStatus(rule, AlertState.UNKNOWN, detail=str(exc))
    return judge(rule, matrix, end_ms, step_ms)


async def evaluate_alerts(
    prom: PromClient,
    rules: Sequence[AlertRule] = RUNBOOK_RULES,
    *,
    window: str = RUNBOOK_WINDOW,
    at: float | None = None,
) -> list[AlertStatus]:
    """Evaluate every rule at the same moment, concurrently; in the order of ``rules``."""
    moment = time.time() if at is None else at
    return list(await asyncio.gather(*(evaluate_alert(prom, rule, window=window, at=moment) for rule in rules)))


def rules_file_text(
    rules: Sequence[AlertRule] = RUNBOOK_RULES, *, window: str = RUNBOOK_WINDOW, group: str = RULES_GROUP
) -> str:
    """The rules as a Prometheus rules file (YAML) with one group."""
    entries = [
        {
            "alert": rule.name,
            "expr": rule.expr(window),
            "for": duration_text(rule.for_s),
            "annotations": {"summary": rule.summary},
        }
        for rule in rules
    ]
    return yaml.safe_dump(
        {"groups": [{"name": group, "rules": entries}]}, sort_keys=False, width=100_000, allow_unicode=True
    )
