"""The runbook's in-pod steps and the shell as keys: their bindings, what pressing one does, and the hint the runbook
pane shows under the check or diagnosis that calls for them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from rich.text import Text
from textual.binding import Binding, BindingType

from nimify_tui.actions.exec_steps import SHELL_ID, STEP_BY_ID, STEPS
from nimify_tui.actions.registry import EXEC_KEY_IDS
from nimify_tui.kube.access import READ_ONLY_REASON
from nimify_tui.text import one_line
from nimify_tui.triage.checks import Finding
from nimify_tui.triage.diagnosis import Diagnosis
from nimify_tui.triage.in_pod import steps_called_for
from nimify_tui.ui.exec_shell import SHELL_KEY
from nimify_tui.ui.screens.help import key_label

if TYPE_CHECKING:
    from nimify_tui.ui.app import NimifyApp

IN_POD_IDS = frozenset(EXEC_KEY_IDS)


def shell_binding() -> Binding:
    return Binding(SHELL_KEY, "shell", "Shell", id=SHELL_ID)


def step_bindings() -> list[BindingType]:
    """One key a step; not in the footer (the runbook pane names them where they are called for), in the help and
    the command palette."""
    return [Binding(step.key, f"in_pod_step('{step.id}')", step.title, id=step.id, show=False) for step in STEPS]


def step_key(keymap: Mapping[str, str], step_id: str) -> str:
    return key_label(keymap.get(step_id, STEP_BY_ID[step_id].key).split(",")[0])


def run_in_pod_step(app: NimifyApp, step_id: str) -> None:
    """The step's modal, unless the session may not exec (read-only: nothing is sent; refused: why)."""
    step = STEP_BY_ID[step_id]
    if app.policy.readonly or app.runtime.client.readonly:
        app.notify(f"{step.title}: not available: {READ_ONLY_REASON}", severity="warning", markup=False)
        return
    refusal = app.remedy_refusal(step_id, app.settings.namespace)
    if refusal:
        app.notify(f"{step.title}: not available: {refusal}", severity="warning", markup=False)
        return
    from nimify_tui.ui.screens.step import StepScreen

    app.push_screen(StepScreen(step_id))


def step_hint(
    findings: Sequence[Finding],
    diagnoses: Sequence[Diagnosis],
    keymap: Mapping[str, str],
    unusable: frozenset[str] = frozenset(),
    width: int = 300,
) -> Text | None:
    """``  in the pod: D psql -h postgres … · F df -h``: the steps the failing checks and the top diagnosis call
    for, each with its key; None when none is called for or the session may not use them."""
    wanted = [STEP_BY_ID[step_id] for step_id in steps_called_for(findings, diagnoses)]
    shown = [(step_key(keymap, step.id), step) for step in wanted]
    shown = [(key, step) for key, step in shown if key not in unusable]
    if not shown:
        return None
    line = Text("  in the pod: ", style="dim")
    for index, (key, step) in enumerate(shown):
        if index:
            line.append(" · ", style="dim")
        line.append(f"{key} ", style="bold cyan")
        text = step.shell_text() + (" (dry run first)" if step.is_fix else "")
        line.append(one_line(text, width), style="cyan")
    return line
