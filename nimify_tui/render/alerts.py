"""The runbook's alert rules in words: each one's state, since when (UTC), its value against the threshold and
who evaluated it, for the runbook checks and the alerts view."""

from __future__ import annotations

from datetime import datetime, timezone

from nimify_tui.metrics.alert_states import RuleState
from nimify_tui.metrics.alerts import RULES_BY_NAME

SOURCE_WORDS = {"prometheus": "Prometheus", "built-in": "built in"}


def clock_text(at: float) -> str:
    """``14:02:10 UTC``."""
    return datetime.fromtimestamp(at, timezone.utc).strftime("%H:%M:%S UTC")


def phase_text(state: RuleState) -> str:
    """``firing since 14:02:10 UTC``, ``pending since 14:02:10 UTC (fires at 14:04:10 UTC)``, ``inactive``."""
    if state.since is None:
        return state.state
    text = f"{state.state} since {clock_text(state.since)}"
    if state.state == "pending":
        text += f" (fires at {clock_text(state.since + state.for_s)})"
    return text


def value_text(state: RuleState) -> str:
    """``0.624 > 0.01``: the worst series' value against the rule's threshold; "" without a value."""
    rule = RULES_BY_NAME.get(state.name)
    if state.value is None or rule is None:
        return ""
    return f"{state.value:.3g} {rule.comparison} {rule.threshold}"


def alert_line(state: RuleState) -> str:
    """``NimifyHighErrorRate firing since 14:02:10 UTC: 0.624 > 0.01 (Prometheus)``."""
    value = value_text(state) if state.state != "inactive" else ""
    return f"{state.name} {phase_text(state)}{': ' + value if value else ''} ({SOURCE_WORDS[state.source]})"
