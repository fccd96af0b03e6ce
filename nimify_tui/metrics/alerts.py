"""The runbook's three alert rules as data, and the Prometheus rules file written from them.

A rule is a PromQL condition (``<query> <comparison> <threshold>``) that must hold for ``for_s`` seconds before
the alert fires, as in the runbook. The rate range (``[5m]`` in the runbook) is a parameter, so that a test can
load the same rules with a shorter one.

The runbook's NimifyHighErrorRate is wrong as written: ``rate(x{status=~"5.."}) / rate(x)`` matches each 5xx
series with itself (the same labels on both sides), so every ratio is 1 and the alert fires on a single 5xx. The
rule here is the corrected ``sum(...) / sum(...)``; the runbook's text and the reason are kept beside it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from string import Template

import yaml

RUNBOOK_WINDOW = "5m"
RULES_GROUP = "nimify-runbook"
_DURATION = re.compile(r"(?:[0-9]+(?:ms|[smhdwy]))+")
_COMPARISONS: Mapping[str, Callable[[float, float], bool]] = {
    "==": lambda value, threshold: value == threshold,
    ">": lambda value, threshold: value > threshold,
}


def _with_window(query: str, window: str) -> str:
    if not _DURATION.fullmatch(window):
        raise ValueError(f"not a Prometheus duration: {window!r}")
    return Template(query).substitute(window=window)


@dataclass(frozen=True, slots=True)
class AlertRule:
    """One alert rule: ``<query> <comparison> <threshold>`` held for ``for_s`` seconds.

    ``query`` marks the rate range as ``$window``. ``runbook_query`` is the runbook's own text when it differs
    (``correction`` says why it was changed).
    """

    name: str
    query: str
    comparison: str
    threshold: str  # as the rule writes it
    for_s: float
    summary: str
    runbook_query: str = ""
    correction: str = ""

    def promql(self, window: str = RUNBOOK_WINDOW) -> str:
        """The query with ``window`` as its rate range."""
        return _with_window(self.query, window)

    def expr(self, window: str = RUNBOOK_WINDOW) -> str:
        """The rule's full expression, as the rules file holds it."""
        return f"{self.promql(window)} {self.comparison} {self.threshold}"

    def runbook_expr(self, window: str = RUNBOOK_WINDOW) -> str:
        """The expression as the runbook writes it (the same as :meth:`expr` unless corrected)."""
        query = _with_window(self.runbook_query, window) if self.runbook_query else self.promql(window)
        return f"{query} {self.comparison} {self.threshold}"

    def breached(self, value: float) -> bool:
        """Whether ``value`` meets the condition (NaN never does)."""
        return _COMPARISONS[self.comparison](value, float(self.threshold))


API_DOWN = AlertRule(
    name="NimifyAPIDown",
    query='up{job="nimify-api"}',
    comparison="==",
    threshold="0",
    for_s=30.0,
    summary="Prometheus cannot scrape a nimify-api target",
)
HIGH_ERROR_RATE = AlertRule(
    name="NimifyHighErrorRate",
    query='sum(rate(http_requests_total{status=~"5.."}[$window])) / sum(rate(http_requests_total[$window]))',
    comparison=">",
    threshold="0.01",
    for_s=120.0,
    summary="More than 1% of nimify-api requests fail with a 5xx status",
    runbook_query='rate(http_requests_total{status=~"5.."}[$window]) / rate(http_requests_total[$window])',
    correction=(
        "the runbook divides each 5xx series by itself (both sides have the same labels), "
        "so its ratio is 1 and it fires on a single 5xx: the sums compare 5xx with all requests"
    ),
)
HIGH_LATENCY = AlertRule(
    name="NimifyHighLatency",
    query="histogram_quantile(0.95, rate(http_request_duration_seconds_bucket[$window]))",
    comparison=">",
    threshold="0.5",
    for_s=300.0,
    summary="nimify-api p95 request latency is above 0.5 s",
)
RUNBOOK_RULES = (API_DOWN, HIGH_ERROR_RATE, HIGH_LATENCY)
RULES_BY_NAME = {rule.name: rule for rule in RUNBOOK_RULES}


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


def rules_file_text(
    rules: Sequence[AlertRule] = RUNBOOK_RULES, *, window: str = RUNBOOK_WINDOW, group: str = RULES_GROUP
) -> str:
    """The rules as a Prometheus rules file (YAML) with one group; a comment above it names each corrected rule,
    the runbook's text and the reason."""
    entries = [
        {
            "alert": rule.name,
            "expr": rule.expr(window),
            "for": duration_text(rule.for_s),
            "annotations": {"summary": rule.summary},
        }
        for rule in rules
    ]
    comments = []
    for rule in rules:
        if rule.correction:
            comments += [
                f"# {rule.name} is corrected: {rule.correction}.",
                f"# The runbook writes: {rule.runbook_expr(window)}",
            ]
    body = yaml.safe_dump(
        {"groups": [{"name": group, "rules": entries}]}, sort_keys=False, width=100_000, allow_unicode=True
    )
    return "".join(line + "\n" for line in comments) + body
