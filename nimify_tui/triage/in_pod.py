"""The in-pod steps' answers in the triage: the last run of each step (published in the store by whoever ran it),
and which steps a failing check or a diagnosis calls for."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from nimify_tui.live.keys import ValueKey
from nimify_tui.live.store import Store
from nimify_tui.triage.diagnosis import Diagnosis

if TYPE_CHECKING:
    from nimify_tui.actions.exec_steps import StepResult  # only its type: the actions are not the triage's to load
    from nimify_tui.triage.checks import Finding  # the checks read this module's results

STEP_RESULTS: ValueKey[Mapping[str, StepResult]] = ValueKey("in-pod-steps")  # step id -> its last run

# the steps each failing check calls for, and each diagnosis's component
STEPS_OF_CHECK: Mapping[str, tuple[str, ...]] = {
    "api-ready": ("step-database",),
    "database": ("step-database",),
    "storage": ("step-disk", "step-cleanup"),
    "models": ("step-models", "step-triton-health"),
    "triton-ready": ("step-triton-health", "step-models"),
    "ingress": ("step-dns",),
}
STEPS_OF_COMPONENT: Mapping[str, tuple[str, ...]] = {
    "database": ("step-database",),
    "storage": ("step-disk", "step-cleanup"),
    "triton": ("step-models", "step-triton-health"),
    "model": ("step-models", "step-triton-health"),
    "network": ("step-dns",),
}


def record_step(store: Store, done: StepResult) -> None:
    """Publish a step's run: the checks it feeds answer from it at their next pass."""
    earlier = store.value(STEP_RESULTS)
    results: dict[str, StepResult] = dict(earlier) if earlier is not None else {}
    results[done.step] = done
    store.put(STEP_RESULTS, results)


def last_run(store: Store, step: str) -> StepResult | None:
    return (store.value(STEP_RESULTS) or {}).get(step)


def steps_called_for(findings: Sequence[Finding], diagnoses: Sequence[Diagnosis]) -> tuple[str, ...]:
    """The steps the top diagnosis calls for; with no diagnosis (or one that calls for none), those of the failing
    checks; each once."""
    wanted: list[str] = []
    for diagnosis in diagnoses[:1]:
        wanted.extend(STEPS_OF_COMPONENT.get(diagnosis.component, ()))
    if not wanted:
        for finding in findings:
            if finding.state == "fail":
                wanted.extend(STEPS_OF_CHECK.get(finding.check, ()))
    return tuple(dict.fromkeys(wanted))
