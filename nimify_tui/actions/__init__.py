"""Guarded remediation actions: permission check, server-side dry run and diff, confirmation, journal.

The core of the actions: no Textual here. The UI plans an action (``plan_*``), lets the operator edit its
parameters, and runs it through :class:`ActionRunner` from a worker thread.
"""

from nimify_tui.actions.kube_actions import (
    ConfigMapEditAction,
    DeletePodAction,
    ExpandVolumeAction,
    ResourcesAction,
    RestartAction,
    RolloutUndoAction,
    ScaleAction,
    configmap_data_text,
    parse_configmap_text,
    plan_configmap_edit,
    plan_delete_pod,
    plan_expand_volume,
    plan_resources,
    plan_restart,
    plan_rollout_undo,
    plan_scale,
)
from nimify_tui.actions.plan import Action, ActionError, Outcome, Parameter, ParameterError, Preview, Progress
from nimify_tui.actions.rollout import Revision, follow_rollout, rollout_history, rollout_status
from nimify_tui.actions.runner import ActionRunner, Confirmation, Prepared
from nimify_tui.actions.triton_actions import LoadModelAction, UnloadModelAction, plan_model_action
from nimify_tui.kube.access import AccessCheck, AccessReviewer, Permission

__all__ = [
    "AccessCheck",
    "AccessReviewer",
    "Action",
    "ActionError",
    "ActionRunner",
    "ConfigMapEditAction",
    "Confirmation",
    "DeletePodAction",
    "ExpandVolumeAction",
    "LoadModelAction",
    "Outcome",
    "Parameter",
    "ParameterError",
    "Permission",
    "Prepared",
    "Preview",
    "Progress",
    "ResourcesAction",
    "RestartAction",
    "Revision",
    "RolloutUndoAction",
    "ScaleAction",
    "UnloadModelAction",
    "configmap_data_text",
    "follow_rollout",
    "parse_configmap_text",
    "plan_configmap_edit",
    "plan_delete_pod",
    "plan_expand_volume",
    "plan_model_action",
    "plan_resources",
    "plan_restart",
    "plan_rollout_undo",
    "plan_scale",
    "rollout_history",
    "rollout_status",
]
