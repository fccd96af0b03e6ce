"""Severity from the live state, as the runbook grades an outage.

SEV-1: nimify-api is down for its users (``/health`` fails, a predict fails, or more than half the answers are
5xx). SEV-2: degraded (an alert fires, or capacity is lost: replicas or nodes short). Otherwise none.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Level = Literal["SEV-1", "SEV-2"]
SEV1_ERROR_RATIO = 0.5  # above this share of 5xx answers, users are down


@dataclass(frozen=True, slots=True)
class SeverityInputs:
    """What the grade is made from; each field says what was seen, None where nothing could tell."""

    health_failing: bool = False  # nimify-api's /health probe fails
    predict_failing: bool = False  # the end-to-end predict failed (recovery verification)
    error_ratio: float | None = None  # nimify-api's 5xx / all over the last interval
    firing_alerts: tuple[str, ...] = ()  # the alert rules firing now
    capacity_lost: tuple[str, ...] = ()  # "deployment nimify-api 1/3 ready", "node gpu-1 NotReady"


@dataclass(frozen=True, slots=True)
class Assessment:
    """The grade and the facts that gave it, one line each."""

    level: Level | None
    reasons: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return self.level or "no incident"


def assess(inputs: SeverityInputs) -> Assessment:
    """SEV-1 when users are down, SEV-2 when degraded, else none; the reasons of the highest grade found."""
    down: list[str] = []
    if inputs.health_failing:
        down.append("/health fails")
    if inputs.predict_failing:
        down.append("predict fails")
    if inputs.error_ratio is not None and inputs.error_ratio > SEV1_ERROR_RATIO:
        down.append(f"5xx {inputs.error_ratio:.0%} of answers")
    if down:
        return Assessment("SEV-1", tuple(down))
    degraded = [f"{name} firing" for name in inputs.firing_alerts] + list(inputs.capacity_lost)
    if degraded:
        return Assessment("SEV-2", tuple(degraded))
    return Assessment(None)


def worse(a: Level | None, b: Level | None) -> Level | None:
    """The more severe of two grades (SEV-1 over SEV-2 over none)."""
    if "SEV-1" in (a, b):
        return "SEV-1"
    return a or b
