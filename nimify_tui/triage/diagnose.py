"""The rules that turn the store and the checks' findings into ranked diagnoses (see ``diagnosis.py``)."""

from __future__ import annotations

from collections.abc import Sequence

from nimify_tui.live.store import Store
from nimify_tui.triage.checks import Finding
from nimify_tui.triage.diagnosis import Diagnosis


def diagnose(store: Store, findings: Sequence[Finding], now: float, *, main_namespace: str) -> tuple[Diagnosis, ...]:
    """Every diagnosis the evidence supports, most likely root cause first; () when nothing is wrong."""
    return ()
