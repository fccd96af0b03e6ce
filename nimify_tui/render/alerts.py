"""The runbook's alert rules in words: each one's state, since when (UTC), its value against the threshold and
who evaluated it, for the runbook checks and the alerts view."""

from __future__ import annotations

from collections.abc import Sequence
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


def alerts_text(states: Sequence[RuleState] | None, *, now: float) -> str:
    """The alerts view: each rule's state, since when, value, labels and source, then its expression (and the
    runbook's, when corrected, with the reason)."""
    if states is None:
        return "The runbook's alert rules have not been evaluated yet."
    lines = []
    for state in states:
        rule = RULES_BY_NAME.get(state.name)
        lines.append(f"{state.name}: {phase_text(state)}")
        if state.since is not None:
            lines.append(f"  lasting      {_age(now - state.since)}")
        if state.value is not None and rule is not None:
            shown = (
                value_text(state)
                if state.state != "inactive"
                else f"{state.value:.3g} (fires {rule.comparison} {rule.threshold})"
            )
            lines.append(f"  value        {shown}")
        if state.labels:
            lines.append("  labels       " + ", ".join(f"{k}={v}" for k, v in sorted(state.labels.items())))
        lines.append(f"  evaluated    {_SOURCE_LONG[state.source]}")
        if state.detail:
            lines.append(f"  note         {state.detail}")
        if rule is not None:
            lines.append(f"  expr         {rule.expr()}")
            lines.append(f"  hold (for:)  {state.for_s or rule.for_s:g} s")
            if rule.correction:
                lines.append(f"  runbook      {rule.runbook_expr()}")
                lines.append(f"  corrected    {rule.correction}")
        lines.append("")
    return "\n".join(lines)


_SOURCE_LONG = {
    "prometheus": "by the cluster's Prometheus (its rules API)",
    "built-in": "built in, from each nimify-api pod's metrics",
}


def _age(seconds: float) -> str:
    whole = max(0, int(seconds))
    minutes, secs = divmod(whole, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m{secs:02d}s" if hours else f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"
