"""The runbook's fixes as keys: bindings made from the remedy table, the guarded dialog they open, and the top
diagnosis's fix opened in that dialog with its parameters filled in and its dry run done."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from textual.binding import Binding, BindingType

from nimify_tui.actions import Action
from nimify_tui.actions.registry import REMEDY_BY_ID, PlanExtras, TargetKind, remedies_for
from nimify_tui.triage.diagnosis import Diagnosis, Fix
from nimify_tui.ui.panes.runbook import NO_FIX_WHY
from nimify_tui.ui.screens.action import ActionScreen, Planner

if TYPE_CHECKING:
    from nimify_tui.ui.app import NimifyApp


def remedy_bindings(*targets: TargetKind) -> list[BindingType]:
    """The keys of the remedies acting on these kinds of object (all of them when none is named); each binding's
    id is the remedy's, so that the ``[keymap]`` of the config file rebinds it."""
    return [
        Binding(remedy.key, f"remedy('{remedy.id}')", remedy.title, id=remedy.id) for remedy in remedies_for(*targets)
    ]


DEPLOYMENT_BINDINGS = remedy_bindings("deployment")


def offer(
    app: NimifyApp,
    remedy_id: str,
    namespace: str,
    name: str,
    *,
    container: str | None = None,
    values: Mapping[str, str] | None = None,
) -> None:
    """Open the remedy's guarded dialog on ``namespace/name`` (the model's name for a model) unless the session may
    not use it in that namespace, then say why. A namespace not asked about yet is asked first, in a worker.
    ``values``: the action's parameters, set when it is planned; the dialog then runs the dry run at once."""
    if not app.permissions_known(namespace):
        again = partial(offer, app, remedy_id, namespace, name, container=container, values=values)
        app.check_permissions((namespace,), then=again)
        return
    refusal = app.remedy_refusal(remedy_id, namespace)
    if refusal:
        app.notify(f"Not available: {refusal}", severity="warning", markup=False)
        return
    remedy = REMEDY_BY_ID[remedy_id]
    extras = PlanExtras(container=container, triton_url=app.settings.triton_url)
    planner: Planner = partial(remedy.plan, app.runtime.client, namespace, name, extras)
    if values is not None:
        planner = partial(_planned_with, planner, values)
    app.push_screen(ActionScreen(remedy.dialog_title(namespace, name), planner, dry_run_at_open=values is not None))


def _planned_with(planner: Planner, values: Mapping[str, str]) -> Action:
    return planner().with_values(values)


# The fixes' parameters that their action names otherwise (fix action -> fix parameter -> action parameter); the
# others have the same name in both
_ACTION_PARAMETERS: Mapping[str, Mapping[str, str]] = {"rollout-undo": {"revision": "to_revision"}}
# The fixes whose parameters may say only what to change (the config key that is wrong), not the new value: their
# dialog then opens for the operator to edit, and the dry run waits for ctrl+r (a key to take out is prepared)
_EDITED_BY_HAND = frozenset({"edit-config", "replace-tls"})


RENEWED_CERT_FILES = ("tls.crt", "tls.key")  # what `kubectl create secret tls --cert=tls.crt --key=tls.key` reads


def renewed_certificate_here() -> dict[str, str] | None:
    """The renewed certificate's files in the working folder, under the names the runbook's kubectl command reads,
    as the TLS fix's values; None when either is missing (the person names them)."""
    paths = [Path(name).resolve() for name in RENEWED_CERT_FILES]
    if not all(path.is_file() for path in paths):
        return None
    return {"cert": str(paths[0]), "key": str(paths[1])}


def action_values(fix: Fix) -> dict[str, str]:
    """The fix's parameters under the names its action's ``with_values`` reads."""
    renamed = _ACTION_PARAMETERS.get(fix.action, {})
    return {renamed.get(name, name): value for name, value in fix.parameters.items()}


def offer_fix(app: NimifyApp, diagnoses: Sequence[Diagnosis]) -> None:
    """The top diagnosis's fix in its remedy's guarded dialog, its parameters filled in and its dry run done (a fix
    edited by hand: the dialog to edit, and what to change); or a notice saying why there is none (and the kubectl
    command, when the TUI has no key for it)."""
    if not diagnoses:
        app.notify("Nothing to fix: there is no diagnosis.", markup=False)
        return
    top = diagnoses[0]
    fix = top.fix
    if fix is None:
        app.notify(f"No fix offered ({NO_FIX_WHY}): {top.cause}", severity="warning", markup=False)
        return
    if fix.action == "replace-tls" and (files := renewed_certificate_here()) is not None:
        offer(app, fix.remedy, fix.namespace, fix.name, values=files)  # where the runbook's kubectl reads them
        return
    if fix.action in _EDITED_BY_HAND and "remove-key" not in fix.parameters:
        pointers = ", ".join(f"{name} {value}" for name, value in fix.parameters.items())
        if fix.action == "replace-tls":  # the renewed certificate is a file only the person has
            app.notify("Give the renewed certificate's files (cert, key), then ctrl+r for the dry run.", markup=False)
        else:
            app.notify(f"Edit {pointers or fix.target}, then ctrl+r for the dry run.", markup=False)
        offer(app, fix.remedy, fix.namespace, fix.name)
        return
    container = fix.parameters.get("container") if fix.remedy == "resources" else None
    offer(app, fix.remedy, fix.namespace, fix.name, container=container, values=action_values(fix))
