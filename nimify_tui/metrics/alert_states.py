"""Alert states as Prometheus' rule manager keeps them: inactive, then pending while the condition holds, then
firing once it has held for the rule's ``for``; back to inactive as soon as it stops holding.

:class:`AlertHolds` keeps one rule's holds per series (label set), on whatever clock its caller passes (the
wall clock in the app, a simulated one in tests). :class:`RuleState` is what the app publishes for each rule.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from nimify_tui.metrics.alerts import AlertRule

AlertPhase = Literal["inactive", "pending", "firing"]
AlertSource = Literal["prometheus", "built-in"]
_RANK: Mapping[AlertPhase, int] = {"inactive": 0, "pending": 1, "firing": 2}


@dataclass(frozen=True, slots=True)
class RuleState:
    """One rule's state now.

    ``active_at`` is when the condition started to hold (Prometheus' ``activeAt``); ``since`` when the current
    state began: ``active_at`` while pending, ``active_at + for`` once firing; both None while inactive.
    ``value`` and ``labels`` are those of the worst series (None / empty when no series breaches or exists).
    ``detail`` says what an inactive state rests on when there is nothing to judge, or that Prometheus runs an
    expression other than the rule's.
    """

    name: str
    state: AlertPhase
    source: AlertSource
    since: float | None = None
    active_at: float | None = None
    value: float | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    detail: str = ""
    for_s: float = 0.0

    @property
    def rank(self) -> int:
        return _RANK[self.state]


def phase_at(rule: AlertRule, active_at: float, now: float) -> AlertPhase:
    """The state at ``now`` of a condition holding since ``active_at``."""
    return "firing" if now - active_at >= rule.for_s else "pending"


def worst(states: list[RuleState]) -> RuleState:
    """The most severe state; among equals the one active longest."""
    return max(states, key=lambda s: (s.rank, -(s.active_at or math.inf)))


@dataclass
class AlertHolds:
    """The ``for:`` holds of one rule, per series: when each series' condition started to hold."""

    rule: AlertRule
    _active_at: dict[tuple[tuple[str, str], ...], float] = field(default_factory=dict)

    def update(self, values: Mapping[tuple[tuple[str, str], ...], float], now: float, *, detail: str = "") -> RuleState:
        """The rule's state at ``now`` from each series' value evaluated at ``now``; a series absent or not
        breaching drops its hold (as Prometheus resolves it)."""
        breaching = {key: value for key, value in values.items() if self.rule.breached(value)}
        self._active_at = {key: self._active_at.get(key, now) for key in breaching}
        states = []
        for key, value in breaching.items():
            active_at = self._active_at[key]
            phase = phase_at(self.rule, active_at, now)
            since = active_at if phase == "pending" else active_at + self.rule.for_s
            states.append(
                RuleState(self.rule.name, phase, "built-in", since, active_at, value, dict(key), for_s=self.rule.for_s)
            )
        if states:
            return worst(states)
        finite = [v for v in values.values() if not math.isnan(v)]
        shown = max(finite) if finite else None
        return RuleState(self.rule.name, "inactive", "built-in", value=shown, detail=detail, for_s=self.rule.for_s)
