"""The runbook's fixes offered as keys: one table, from which the UI makes its bindings, help, command palette
entries and dialogs, and the permission questions asked per namespace.

Each remedy names the object it acts on (``target``), plans its action (``plan``) and says which permissions it
needs through its action class: ``unplanned`` builds the action on no object in particular, whose
``access_checks()`` are the questions asked of the API server for a namespace before any dialog opens. The dialog
checks them again for the chosen object once the action is planned.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from nimify_tui.actions.exec_steps import SHELL_ID, STEPS, exec_access
from nimify_tui.actions.kube_actions import (
    ConfigMapEditAction,
    CordonAction,
    DeletePodAction,
    ExpandVolumeAction,
    ResourcesAction,
    RestartAction,
    RolloutUndoAction,
    ScaleAction,
    plan_configmap_edit,
    plan_cordon,
    plan_delete_pod,
    plan_expand_volume,
    plan_resources,
    plan_restart,
    plan_rollout_undo,
    plan_scale,
)
from nimify_tui.actions.plan import Action
from nimify_tui.actions.rollout import UndoPlan
from nimify_tui.actions.tls_secret import ReplaceTlsAction, plan_replace_tls
from nimify_tui.actions.triton_actions import LoadModelAction, UnloadModelAction, plan_model_action
from nimify_tui.kube.access import AccessCheck, AccessReviewer, Permission
from nimify_tui.kube.certificates import CertificateInfo
from nimify_tui.kube.client import KubeClient
from nimify_tui.triton.client import TRITON_NAMESPACE, TritonEndpoint

TargetKind = Literal["deployment", "pod", "pvc", "configmap", "model", "node", "secret"]


@dataclass(frozen=True)
class PlanExtras:
    """What some planners need besides the object: the container to change, where Triton is."""

    container: str | None = None  # None: the deployment's default container
    triton_url: str | None = None  # None: Triton through the API server's service proxy


Planner = Callable[[KubeClient, str, str, PlanExtras], Action]
Unplanned = Callable[[KubeClient, str, PlanExtras], Action]


@dataclass(frozen=True)
class Remedy:
    """One fix: its binding id (also its name in the ``[keymap]`` of the config file), default key, the title the
    footer and help show, what it acts on, its dialog's title (``{namespace}`` and ``{name}`` filled in), how it
    is planned, and the action that says which permissions it needs."""

    id: str
    key: str
    title: str
    target: TargetKind
    dialog: str
    plan: Planner
    unplanned: Unplanned

    def dialog_title(self, namespace: str, name: str) -> str:
        return self.dialog.format(namespace=namespace, name=name)

    def questions(self, client: KubeClient, namespace: str, extras: PlanExtras) -> tuple[AccessCheck, ...]:
        """What the API server is asked before this remedy is offered on an object of ``namespace``."""
        return self.unplanned(client, namespace, extras).access_checks()


def _triton_endpoint(client: KubeClient, extras: PlanExtras) -> TritonEndpoint:
    return TritonEndpoint.direct(extras.triton_url) if extras.triton_url else TritonEndpoint.through_api_server(client)


REMEDIES: tuple[Remedy, ...] = (
    Remedy(
        "scale",
        "s",
        "Scale",
        "deployment",
        "Scale deployment {namespace}/{name}",
        lambda client, namespace, name, extras: plan_scale(client, namespace, name),
        lambda client, namespace, extras: ScaleAction(client, "deployments", namespace, "", 0, 0),
    ),
    Remedy(
        "resources",
        "m",
        "Limits",
        "deployment",
        "Patch resources of deployment {namespace}/{name}",
        lambda client, namespace, name, extras: plan_resources(client, namespace, name, extras.container),
        lambda client, namespace, extras: ResourcesAction(client, namespace, "", "", {}, {}),
    ),
    Remedy(
        "undo",
        "u",
        "Undo rollout",
        "deployment",
        "Roll back deployment {namespace}/{name}",
        lambda client, namespace, name, extras: plan_rollout_undo(client, namespace, name),
        lambda client, namespace, extras: RolloutUndoAction(
            client, namespace, "", 0, UndoPlan(0, "", None, False), (), 0
        ),
    ),
    Remedy(
        "restart",
        "r",
        "Restart",
        "deployment",
        "Restart deployment {namespace}/{name}",
        lambda client, namespace, name, extras: plan_restart(client, namespace, name),
        lambda client, namespace, extras: RestartAction(client, "deployments", namespace, "", "", False),
    ),
    Remedy(
        "delete",
        "ctrl+d",
        "Delete pod",
        "pod",
        "Delete pod {namespace}/{name}",
        lambda client, namespace, name, extras: plan_delete_pod(client, namespace, name),
        lambda client, namespace, extras: DeletePodAction(client, namespace, "", False, 0, ""),
    ),
    Remedy(
        "expand",
        "x",
        "Expand PVC",
        "pvc",
        "Expand PVC {namespace}/{name}",
        lambda client, namespace, name, extras: plan_expand_volume(client, namespace, name),
        lambda client, namespace, extras: ExpandVolumeAction(client, namespace, "", "", "", "", None),
    ),
    Remedy(
        "configmap",
        "e",
        "Edit config",
        "configmap",
        "Edit configmap {namespace}/{name}",
        lambda client, namespace, name, extras: plan_configmap_edit(client, namespace, name),
        lambda client, namespace, extras: ConfigMapEditAction(client, namespace, "", {}, {}),
    ),
    Remedy(
        "load",
        "L",
        "Load model",
        "model",
        "Load Triton model {name}",
        lambda client, namespace, name, extras: plan_model_action(
            client, name, load=True, triton_url=extras.triton_url
        ),
        lambda client, namespace, extras: LoadModelAction(client, _triton_endpoint(client, extras), "", ""),
    ),
    Remedy(
        "unload",
        "U",
        "Unload model",
        "model",
        "Unload Triton model {name}",
        lambda client, namespace, name, extras: plan_model_action(
            client, name, load=False, triton_url=extras.triton_url
        ),
        lambda client, namespace, extras: UnloadModelAction(client, _triton_endpoint(client, extras), "", ""),
    ),
    Remedy(
        "cordon",
        "C",
        "Cordon node",
        "node",
        "Cordon node {name}",
        lambda client, namespace, name, extras: plan_cordon(client, name),
        lambda client, namespace, extras: CordonAction(client, "", False),
    ),
    Remedy(
        "tls",
        "T",
        "Replace TLS cert",
        "secret",
        "Replace the certificate in secret {namespace}/{name}",
        lambda client, namespace, name, extras: plan_replace_tls(client, namespace, name),
        lambda client, namespace, extras: ReplaceTlsAction(
            client, namespace, "", "", CertificateInfo(namespace, ""), b"", ()
        ),
    ),
)

REMEDY_BY_ID: dict[str, Remedy] = {remedy.id: remedy for remedy in REMEDIES}

# Triton's models live in one namespace: a model remedy's target is there whatever namespace is shown.
MODEL_NAMESPACE = TRITON_NAMESPACE


def remedies_for(*targets: TargetKind) -> tuple[Remedy, ...]:
    """The remedies acting on these kinds of object, in the table's order (all of them when none is named)."""
    return tuple(remedy for remedy in REMEDIES if not targets or remedy.target in targets)


# the keys that exec in a pod (the shell, the runbook's in-pod steps): each needs create pods/exec
EXEC_KEY_IDS: tuple[str, ...] = (SHELL_ID, *(step.id for step in STEPS))


def refusals_in(reviewer: AccessReviewer, client: KubeClient, namespace: str, extras: PlanExtras) -> dict[str, str]:
    """Each remedy (and each key that execs in a pod) the user may not use on objects of ``namespace``, with why;
    a question shared by several remedies is asked once."""
    answers: dict[AccessCheck, Permission] = {}
    refusals: dict[str, str] = {}
    for remedy in REMEDIES:
        for question in remedy.questions(client, namespace, extras):
            if question not in answers:
                answers[question] = reviewer.check(question)
            if not answers[question].allowed:
                refusals[remedy.id] = answers[question].reason
                break
    exec_answer = reviewer.check(exec_access(namespace))
    if not exec_answer.allowed:
        refusals.update(dict.fromkeys(EXEC_KEY_IDS, exec_answer.reason))
    return refusals
