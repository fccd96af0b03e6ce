"""From checks to diagnoses: what is broken, why, and the fix prepared with its parameters filled in.

The checks (``checks.py``) say pass/fail per runbook item; a diagnosis correlates them with the store's objects and
events into one cause, ranked so that a cause always comes before its symptoms (Pending, Evicted, 503 "no endpoints
available"). When the cause cannot be told, the diagnosis says so and offers no fix: a wrong fix is worse than none.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

Scenario = Literal[
    "crash-loop",
    "resource-exhaustion",
    "storage",
    "network",
    "dependency",
    "infrastructure",
    "latency",
    "error-rate",
]
FixAction = Literal[
    "set-resources",
    "rollout-undo",
    "scale",
    "rollout-restart",
    "delete-pod",
    "expand-pvc",
    "edit-config",
    "load-model",
    "cordon",
    "replace-tls",
]

# the remedy of the action registry (``nimify_tui.actions.registry``) that carries out each fix in the TUI
REMEDY_OF_FIX: Mapping[str, str] = MappingProxyType(
    {
        "set-resources": "resources",
        "rollout-undo": "undo",
        "scale": "scale",
        "rollout-restart": "restart",
        "delete-pod": "delete",
        "expand-pvc": "expand",
        "edit-config": "configmap",
        "load-model": "load",
        "cordon": "cordon",
        "replace-tls": "tls",
    }
)


@dataclass(frozen=True, slots=True)
class Fix:
    """A fix prepared from the evidence: the action, its target, and its parameters as the journal writes them."""

    action: FixAction
    namespace: str  # the target's namespace; Triton's namespace for a model, "" for a node
    kind: str  # lower-case singular: deployment, persistentvolumeclaim, configmap, pod, model, node
    name: str
    parameters: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    kubectl: str | None = None  # the equivalent command, when there is one

    @property
    def target(self) -> str:
        """``<namespace>/<kind>/<name>`` (``node/<name>`` for a node)."""
        return f"{self.namespace}/{self.kind}/{self.name}" if self.namespace else f"{self.kind}/{self.name}"

    @property
    def remedy(self) -> str:
        """The registry id of the remedy that applies it in the TUI."""
        return REMEDY_OF_FIX[self.action]


@dataclass(frozen=True, slots=True)
class Diagnosis:
    """One cause, with what proves it and what to do."""

    scenario: Scenario
    runbook: str  # the runbook's heading: "Scenario 1: Pod Crash Loop"
    component: str  # what failed: nimify-api, triton, gpu, database, ingress, node, storage, ...
    cause: str  # one sentence
    evidence: tuple[str, ...]  # one line each
    objects: tuple[str, ...]  # "<namespace>/<kind>/<name>"
    fix: Fix | None  # None: the cause is not certain enough to act on, or nothing in the TUI fixes it
