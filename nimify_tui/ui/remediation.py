"""The runbook's fixes as keys: bindings made from the remedy table, and the guarded dialog they open."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from textual.binding import Binding, BindingType

from nimify_tui.actions.registry import REMEDY_BY_ID, PlanExtras, TargetKind, remedies_for
from nimify_tui.ui.screens.action import ActionScreen

if TYPE_CHECKING:
    from nimify_tui.ui.app import NimifyApp


def remedy_bindings(*targets: TargetKind) -> list[BindingType]:
    """The keys of the remedies acting on these kinds of object (all of them when none is named); each binding's
    id is the remedy's, so that the ``[keymap]`` of the config file rebinds it."""
    return [
        Binding(remedy.key, f"remedy('{remedy.id}')", remedy.title, id=remedy.id) for remedy in remedies_for(*targets)
    ]


DEPLOYMENT_BINDINGS = remedy_bindings("deployment")


def offer(app: NimifyApp, remedy_id: str, namespace: str, name: str, *, container: str | None = None) -> None:
    """Open the remedy's guarded dialog on ``namespace/name`` (the model's name for a model) unless the session may
    not use it in that namespace, then say why. A namespace not asked about yet is asked first, in a worker."""
    if not app.permissions_known(namespace):
        app.check_permissions((namespace,), then=partial(offer, app, remedy_id, namespace, name, container=container))
        return
    refusal = app.remedy_refusal(remedy_id, namespace)
    if refusal:
        app.notify(f"Not available: {refusal}", severity="warning", markup=False)
        return
    remedy = REMEDY_BY_ID[remedy_id]
    extras = PlanExtras(container=container, triton_url=app.settings.triton_url)
    planner = partial(remedy.plan, app.runtime.client, namespace, name, extras)
    app.push_screen(ActionScreen(remedy.dialog_title(namespace, name), planner))
