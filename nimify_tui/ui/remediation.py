"""Which object each remediation key acts on, and how its action is planned (the runbook's fixes as keys)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.binding import Binding, BindingType

from nimify_tui.actions import (
    plan_configmap_edit,
    plan_delete_pod,
    plan_expand_volume,
    plan_model_action,
    plan_resources,
    plan_restart,
    plan_rollout_undo,
    plan_scale,
)
from nimify_tui.ui.screens.action import ActionScreen, Planner

if TYPE_CHECKING:
    from nimify_tui.ui.app import NimifyApp


@dataclass(frozen=True)
class Remedy:
    key: str
    title: str  # what the footer and the help say
    target: str  # what it needs selected: "deployment", "pod", "model", "pvc", "configmap"


REMEDIES: dict[str, Remedy] = {
    "scale": Remedy("s", "Scale", "deployment"),
    "resources": Remedy("m", "Limits", "deployment"),
    "undo": Remedy("u", "Undo rollout", "deployment"),
    "restart": Remedy("r", "Restart", "deployment"),
    "delete": Remedy("ctrl+d", "Delete pod", "pod"),
    "expand": Remedy("x", "Expand PVC", "pvc"),
    "configmap": Remedy("e", "Edit config", "configmap"),
    "load": Remedy("L", "Load model", "model"),
    "unload": Remedy("U", "Unload model", "model"),
}


DEPLOYMENT_BINDINGS: list[BindingType] = [
    Binding("s", "remedy('scale')", "Scale"),
    Binding("m", "remedy('resources')", "Limits"),
    Binding("u", "remedy('undo')", "Undo rollout"),
    Binding("r", "remedy('restart')", "Restart"),
]


def offer(app: NimifyApp, remedy: str, namespace: str, name: str, *, container: str | None = None) -> None:
    """Open the remedy unless the session may not use it (then say why)."""
    refusal = app.remedy_refusal(remedy)
    if refusal:
        app.notify(f"Not available: {refusal}", severity="warning", markup=False)
        return
    open_remedy(app, remedy, namespace, name, container=container)


def open_remedy(app: NimifyApp, remedy: str, namespace: str, name: str, *, container: str | None = None) -> None:
    """Push the guarded modal for ``remedy`` on ``namespace/name`` (the model name for load/unload)."""
    client = app.runtime.client
    triton_url = app.settings.triton_url
    planners: dict[str, tuple[str, Planner]] = {
        "scale": (f"Scale deployment {namespace}/{name}", lambda: plan_scale(client, namespace, name)),
        "resources": (
            f"Patch resources of deployment {namespace}/{name}",
            lambda: plan_resources(client, namespace, name, container),
        ),
        "undo": (f"Roll back deployment {namespace}/{name}", lambda: plan_rollout_undo(client, namespace, name)),
        "restart": (f"Restart deployment {namespace}/{name}", lambda: plan_restart(client, namespace, name)),
        "delete": (f"Delete pod {namespace}/{name}", lambda: plan_delete_pod(client, namespace, name)),
        "expand": (f"Expand PVC {namespace}/{name}", lambda: plan_expand_volume(client, namespace, name)),
        "configmap": (f"Edit configmap {namespace}/{name}", lambda: plan_configmap_edit(client, namespace, name)),
        "load": (
            f"Load Triton model {name}",
            lambda: plan_model_action(client, name, load=True, triton_url=triton_url),
        ),
        "unload": (
            f"Unload Triton model {name}",
            lambda: plan_model_action(client, name, load=False, triton_url=triton_url),
        ),
    }
    title, planner = planners[remedy]
    app.push_screen(ActionScreen(title, planner))
