"""The runbook's alert rules as a real Prometheus evaluates them: ``/api/v1/rules`` says which of them it has
loaded (with its ``for``), ``/api/v1/alerts`` which are pending or firing, and since when (``activeAt``).

Prometheus' API gives when an alert became active (pending), not when it fired: a firing alert's ``since`` is
``activeAt`` plus the rule's ``for``, the moment its rule manager turned it to firing, to within one evaluation.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from nimify_tui.kube.duration import parse_timestamp
from nimify_tui.metrics.alert_states import AlertPhase, RuleState, worst
from nimify_tui.metrics.alerts import RUNBOOK_RULES, RUNBOOK_WINDOW, AlertRule
from nimify_tui.metrics.prom import PromClient, PromError

_SPACE = re.compile(r"\s+")
_PHASES: Mapping[str, AlertPhase] = {"pending": "pending", "firing": "firing"}


def _squeezed(expr: str) -> str:
    return _SPACE.sub("", expr)


def _number(text: object) -> float | None:
    try:
        return float(str(text))
    except ValueError:
        return None


def loaded_rules(data: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """The alerting rules of a ``/api/v1/rules`` answer's ``data``, by name (the first of a name wins)."""
    found: dict[str, Mapping[str, Any]] = {}
    for group in data.get("groups") or []:
        if not isinstance(group, dict):
            continue
        for rule in group.get("rules") or []:
            if isinstance(rule, dict) and rule.get("type") == "alerting" and isinstance(rule.get("name"), str):
                found.setdefault(rule["name"], rule)
    return found


def _detail(rule: AlertRule, loaded: Mapping[str, Any], window: str) -> str:
    """What differs between the rule Prometheus runs and this one ("" when it is the same expression)."""
    query = str(loaded.get("query", ""))
    if _squeezed(query) == _squeezed(rule.expr(window)):
        return ""
    if rule.correction and _squeezed(query) == _squeezed(rule.runbook_expr(window)):
        return f"Prometheus runs the runbook's expression, which is wrong: {rule.correction}"
    return f"Prometheus runs its own expression: {query}"


def states_from_prometheus(
    rules_data: Mapping[str, Any],
    alerts_data: Mapping[str, Any],
    rules: Sequence[AlertRule] = RUNBOOK_RULES,
    *,
    window: str = RUNBOOK_WINDOW,
) -> dict[str, RuleState]:
    """The state of each of ``rules`` that Prometheus has loaded, by name; the others are left out."""
    loaded = loaded_rules(rules_data)
    active: dict[str, list[Mapping[str, Any]]] = {}
    for alert in alerts_data.get("alerts") or []:
        if isinstance(alert, dict) and isinstance(alert.get("labels"), dict):
            active.setdefault(str(alert["labels"].get("alertname", "")), []).append(alert)
    states: dict[str, RuleState] = {}
    for rule in rules:
        if rule.name not in loaded:
            continue
        duration = _number(loaded[rule.name].get("duration"))
        for_s = duration if duration is not None and math.isfinite(duration) else rule.for_s
        detail = _detail(rule, loaded[rule.name], window)
        found = []
        for alert in active.get(rule.name, []):
            phase = _PHASES.get(str(alert.get("state")))
            active_at = parse_timestamp(alert.get("activeAt"))
            if phase is None or active_at is None:
                continue
            since = active_at if phase == "pending" else active_at + for_s
            labels = {str(k): str(v) for k, v in alert["labels"].items() if k != "alertname"}
            value = _number(alert.get("value"))
            found.append(RuleState(rule.name, phase, "prometheus", since, active_at, value, labels, detail, for_s))
        states[rule.name] = (
            worst(found) if found else RuleState(rule.name, "inactive", "prometheus", detail=detail, for_s=for_s)
        )
    return states


async def read_prometheus_states(
    prom: PromClient, rules: Sequence[AlertRule] = RUNBOOK_RULES, *, window: str = RUNBOOK_WINDOW
) -> tuple[dict[str, RuleState], str]:
    """The states of the rules Prometheus has loaded, and "" (or why Prometheus could not be read: then none)."""
    try:
        rules_data = await prom.api_data("/api/v1/rules", "rules")
        if not any(rule.name in loaded_rules(rules_data) for rule in rules):
            return {}, ""
        alerts_data = await prom.api_data("/api/v1/alerts", "alerts")
    except PromError as exc:
        return {}, str(exc)
    return states_from_prometheus(rules_data, alerts_data, rules, window=window), ""
