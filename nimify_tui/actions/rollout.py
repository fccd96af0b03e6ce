"""Deployment rollouts as kubectl handles them: history, undo to a revision, and following a rollout's status.

Undo is done on the client side as ``kubectl rollout undo`` does: the deployment's ReplicaSets are those its
selector lists and whose controller is the deployment; a revision is the ReplicaSet's
``deployment.kubernetes.io/revision`` annotation (0 asks for the one before the newest). The ReplicaSet's pod
template, without its ``pod-template-hash`` label, goes back into the deployment with one JSON patch that
also replaces the deployment's annotations, so nothing is ever half applied.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from nimify_tui.actions.plan import ActionError, Progress, explain_kube_error
from nimify_tui.kube.client import KubeClient
from nimify_tui.kube.errors import KubeError
from nimify_tui.kube.quantity import QuantityError, format_quantity, parse_quantity
from nimify_tui.kube.status import selector_text

REVISION_ANNOTATION = "deployment.kubernetes.io/revision"
CHANGE_CAUSE_ANNOTATION = "kubernetes.io/change-cause"
POD_TEMPLATE_HASH_LABEL = "pod-template-hash"
# Kept from the deployment, never copied from the ReplicaSet, when rolling back (kubectl's annotationsToSkip).
ANNOTATIONS_KEPT_ON_UNDO = frozenset(
    {
        "kubectl.kubernetes.io/last-applied-configuration",
        REVISION_ANNOTATION,
        "deployment.kubernetes.io/revision-history",
        "deployment.kubernetes.io/desired-replicas",
        "deployment.kubernetes.io/max-replicas",
        "deprecated.deployment.rollback.to",
    }
)
PROGRESS_DEADLINE_EXCEEDED = "ProgressDeadlineExceeded"
PAUSED_UNDO_MESSAGE = (
    "you cannot rollback a paused deployment; resume it first with 'kubectl rollout resume' and try again"
)
_QUANTITY_MAPS = frozenset({"limits", "requests"})


def deployment_path(namespace: str, name: str) -> str:
    return f"/apis/apps/v1/namespaces/{namespace}/deployments/{quote(name, safe='')}"


def _meta(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    value = obj.get("metadata")
    return value if isinstance(value, Mapping) else {}


def revision_of(obj: Mapping[str, Any]) -> int | None:
    """The revision annotation (0 when absent, as kubectl reads it); None when it is not a number."""
    text = (_meta(obj).get("annotations") or {}).get(REVISION_ANNOTATION)
    if text is None:
        return 0
    try:
        return int(str(text))
    except ValueError:
        return None


def controlled_replicasets(client: KubeClient, deployment: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The ReplicaSets the deployment's selector lists and whose controller is the deployment."""
    meta = _meta(deployment)
    selector = selector_text((deployment.get("spec") or {}).get("selector"))
    if not selector or selector == "<invalid>":
        raise ActionError(f"deployment {meta.get('name')!r} has no usable selector")
    listing = client.get_json(
        f"/apis/apps/v1/namespaces/{meta.get('namespace')}/replicasets", {"labelSelector": selector}
    )
    owned: list[dict[str, Any]] = []
    for replicaset in listing.get("items") or []:
        owners = _meta(replicaset).get("ownerReferences") or []
        if any(owner.get("controller") and owner.get("uid") == meta.get("uid") for owner in owners):
            owned.append(replicaset)
    return owned


@dataclass(frozen=True)
class Revision:
    """One line of ``kubectl rollout history``, with the images of that revision."""

    number: int
    replicaset: str
    change_cause: str
    images: tuple[str, ...]
    template: Any = field(repr=False, compare=False)


def history_of(replicasets: Sequence[Mapping[str, Any]]) -> list[Revision]:
    """The revisions, oldest first (a revision held by two ReplicaSets appears once, as kubectl shows it)."""
    by_number: dict[int, Revision] = {}
    for replicaset in replicasets:
        number = revision_of(replicaset)
        if number is None:
            continue
        template = (replicaset.get("spec") or {}).get("template") or {}
        containers = (template.get("spec") or {}).get("containers") or []
        by_number[number] = Revision(
            number,
            str(_meta(replicaset).get("name") or ""),
            str((_meta(replicaset).get("annotations") or {}).get(CHANGE_CAUSE_ANNOTATION) or ""),
            tuple(str(c.get("image") or "") for c in containers),
            template,
        )
    return [by_number[number] for number in sorted(by_number)]


def rollout_history(client: KubeClient, namespace: str, name: str) -> list[Revision]:
    """``kubectl rollout history deployment/NAME``: revision, change-cause and images, oldest first."""
    deployment = client.get_json(deployment_path(namespace, name))
    return history_of(controlled_replicasets(client, deployment))


def replicaset_for_revision(
    deployment: Mapping[str, Any], replicasets: Sequence[Mapping[str, Any]], to_revision: int
) -> Mapping[str, Any]:
    """The ReplicaSet to roll back to: revision ``to_revision``, or with 0 the second newest."""
    if to_revision < 0:
        raise ActionError(f"unable to find specified revision {to_revision} in history")
    latest: tuple[int, Mapping[str, Any] | None] = (-1, None)
    previous: tuple[int, Mapping[str, Any] | None] = (-1, None)
    for replicaset in replicasets:
        number = revision_of(replicaset)
        if number is None:
            continue
        if to_revision == 0:
            if latest[0] < number:
                previous, latest = latest, (number, replicaset)
            elif previous[0] < number:
                previous = (number, replicaset)
        elif number == to_revision:
            return replicaset
    if to_revision > 0:
        raise ActionError(f"unable to find specified revision {to_revision} in history")
    if previous[1] is None:
        raise ActionError(f'no rollout history found for deployment "{_meta(deployment).get("name")}"')
    return previous[1]


def _normalized(value: Any, key: str = "") -> Any:
    """A template reduced for comparison as Go's semantic equality sees it: zero fields gone, quantities by value."""
    if isinstance(value, Mapping):
        reduced: dict[str, Any] = {}
        for child_key, child in value.items():
            if key in _QUANTITY_MAPS and isinstance(child, str):
                reduced[child_key] = _quantity_key(child)
                continue
            normal = _normalized(child, child_key)
            if normal not in (None, False, 0, "", {}, []):
                reduced[child_key] = normal
        return reduced
    if isinstance(value, list):
        return [_normalized(item) for item in value]
    return value


def _quantity_key(text: str) -> str:
    try:
        return format_quantity(parse_quantity(text))
    except QuantityError:
        return text


def _without_hash(template: Mapping[str, Any]) -> dict[str, Any]:
    copy = dict(template)
    metadata = dict(copy.get("metadata") or {})
    labels = {k: v for k, v in (metadata.get("labels") or {}).items() if k != POD_TEMPLATE_HASH_LABEL}
    metadata["labels"] = labels
    copy["metadata"] = metadata
    return copy


def templates_match(first: Mapping[str, Any], second: Mapping[str, Any]) -> bool:
    """Equal pod templates, ignoring the ``pod-template-hash`` label (kubectl's equalIgnoreHash)."""
    return bool(_normalized(_without_hash(first)) == _normalized(_without_hash(second)))


def undo_patch(deployment: Mapping[str, Any], replicaset: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The JSON patch that restores the ReplicaSet's template and annotations into the deployment."""
    template = _without_hash((replicaset.get("spec") or {}).get("template") or {})
    own = _meta(deployment).get("annotations") or {}
    annotations = {key: own[key] for key in sorted(ANNOTATIONS_KEPT_ON_UNDO) if key in own}
    for key, value in (_meta(replicaset).get("annotations") or {}).items():
        if key not in ANNOTATIONS_KEPT_ON_UNDO:
            annotations[key] = value
    return [
        {"op": "replace", "path": "/spec/template", "value": template},
        {"op": "replace", "path": "/metadata/annotations", "value": annotations},
    ]


@dataclass(frozen=True)
class UndoPlan:
    """What ``rollout undo`` would do: the revision chosen, and the patch (None: skipped, already there)."""

    revision: int
    replicaset: str
    patch: list[dict[str, Any]] | None
    paused: bool


def plan_undo(deployment: Mapping[str, Any], replicasets: Sequence[Mapping[str, Any]], to_revision: int) -> UndoPlan:
    """Choose the revision and build the patch, in kubectl's order: history first, then paused, then skip."""
    replicaset = replicaset_for_revision(deployment, replicasets, to_revision)
    number = revision_of(replicaset) or 0
    paused = bool((deployment.get("spec") or {}).get("paused"))
    current_template = (deployment.get("spec") or {}).get("template") or {}
    target_template = (replicaset.get("spec") or {}).get("template") or {}
    patch = None if templates_match(target_template, current_template) else undo_patch(deployment, replicaset)
    return UndoPlan(number, str(_meta(replicaset).get("name") or ""), patch, paused)


def rollout_status(deployment: Mapping[str, Any]) -> Progress:
    """One reading of ``kubectl rollout status``: waiting, done, or failed past the progress deadline."""
    name = _meta(deployment).get("name")
    spec = deployment.get("spec") or {}
    status = deployment.get("status") or {}
    if int(_meta(deployment).get("generation") or 0) > int(status.get("observedGeneration") or 0):
        return Progress("Waiting for deployment spec update to be observed...")
    for condition in status.get("conditions") or []:
        if condition.get("type") == "Progressing" and condition.get("reason") == PROGRESS_DEADLINE_EXCEEDED:
            return Progress(f'deployment "{name}" exceeded its progress deadline', done=True, failed=True)
    wanted = spec.get("replicas")
    updated = int(status.get("updatedReplicas") or 0)
    replicas = int(status.get("replicas") or 0)
    available = int(status.get("availableReplicas") or 0)
    waiting = f'Waiting for deployment "{name}" rollout to finish: '
    if wanted is not None and updated < int(wanted):
        return Progress(f"{waiting}{updated} out of {wanted} new replicas have been updated...")
    if replicas > updated:
        return Progress(f"{waiting}{replicas - updated} old replicas are pending termination...")
    if available < updated:
        return Progress(f"{waiting}{available} of {updated} updated replicas are available...")
    return Progress(f'deployment "{name}" successfully rolled out', done=True)


def follow_rollout(
    client: KubeClient,
    namespace: str,
    name: str,
    *,
    stop: threading.Event | None = None,
    timeout_s: float = 600.0,
    poll_s: float = 1.0,
) -> Iterator[Progress]:
    """Read the deployment every ``poll_s`` seconds and yield each new status until done, failed or timed out."""
    waiter = stop or threading.Event()
    deadline = time.monotonic() + timeout_s
    last: Progress | None = None
    while True:
        try:
            step = rollout_status(client.get_json(deployment_path(namespace, name)))
        except KubeError as exc:
            if not exc.transient:
                yield Progress(explain_kube_error(exc), done=True, failed=True)
                return
            step = Progress(f"cannot read the deployment now ({explain_kube_error(exc)}); trying again")
        if step != last:
            yield step
            last = step
        if step.done:
            return
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            yield Progress(
                f"gave up after {timeout_s:g}s: the rollout has not finished ({step.message})",
                done=True,
                failed=True,
            )
            return
        if waiter.wait(min(poll_s, remaining)):
            yield Progress("stopped following the rollout", done=True)
            return


@dataclass(frozen=True)
class RolloutFollower:
    """Follows one deployment's rollout (a :class:`~nimify_tui.actions.plan.ProgressFollower`)."""

    client: KubeClient = field(repr=False)
    namespace: str
    name: str

    def __call__(
        self, *, stop: threading.Event | None = None, timeout_s: float = 600.0, poll_s: float = 1.0
    ) -> Iterator[Progress]:
        return follow_rollout(self.client, self.namespace, self.name, stop=stop, timeout_s=timeout_s, poll_s=poll_s)
