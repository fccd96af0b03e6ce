"""The Kubernetes actions of the runbook, each built exactly as kubectl builds its request.

Each ``plan_*`` function reads what the action needs from the cluster and returns an action whose parameters
default to the current values; a read that fails raises :class:`~nimify_tui.actions.plan.ActionError` with
the API server's message.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, ClassVar, Literal
from urllib.parse import quote

import yaml

from nimify_tui.actions.config_keys import KeyNotRemovable, without_key
from nimify_tui.actions.diff import BlockTextDumper, FieldChange, object_changes, yaml_diff
from nimify_tui.actions.plan import (
    ActionError,
    KubeAction,
    Outcome,
    Parameter,
    ParameterError,
    Preview,
    ProgressFollower,
    Request,
    Target,
    explain_kube_error,
    parse_count,
    parse_quantity_value,
)
from nimify_tui.actions.rollout import (
    PAUSED_UNDO_MESSAGE,
    Revision,
    RolloutFollower,
    UndoPlan,
    controlled_replicasets,
    deployment_path,
    history_of,
    plan_undo,
)
from nimify_tui.kube.access import AccessCheck
from nimify_tui.kube.client import JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH, KubeClient
from nimify_tui.kube.errors import KubeError
from nimify_tui.text import one_line

if TYPE_CHECKING:
    from typing_extensions import Self

WorkloadResource = Literal["deployments", "statefulsets", "daemonsets"]
ScalableResource = Literal["deployments", "statefulsets"]
_KINDS: dict[str, str] = {"deployments": "Deployment", "statefulsets": "StatefulSet", "daemonsets": "DaemonSet"}
RESTARTED_AT_ANNOTATION = "kubectl.kubernetes.io/restartedAt"
DEFAULT_CONTAINER_ANNOTATION = "kubectl.kubernetes.io/default-container"
RESOURCE_FIELDS = ("limits.memory", "limits.cpu", "requests.memory", "requests.cpu")
DEFAULT_GRACE_PERIOD_S = 30
_CONFIGMAP_KEY = re.compile(r"[-._a-zA-Z0-9]{1,253}")


def _get(client: KubeClient, path: str, what: str) -> Any:
    try:
        return client.get_json(path)
    except KubeError as exc:
        raise ActionError(f"cannot read {what}: {explain_kube_error(exc)}") from exc


def _workload_path(resource: str, namespace: str, name: str) -> str:
    if resource not in _KINDS:
        raise ActionError(f"{resource!r} is not one of {', '.join(_KINDS)}")
    return f"/apis/apps/v1/namespaces/{namespace}/{resource}/{quote(name, safe='')}"


def _core_path(resource: str, namespace: str, name: str) -> str:
    return f"/api/v1/namespaces/{namespace}/{resource}/{quote(name, safe='')}"


def _singular(resource: str) -> str:
    return _KINDS[resource].lower()


_CORE_KINDS: dict[str, str] = {
    "pods": "Pod",
    "configmaps": "ConfigMap",
    "persistentvolumeclaims": "PersistentVolumeClaim",
}


class OneObject:
    """What every action on one namespaced object says the same way: its target and where it is read from, both
    from ``resource_name()`` (a workload of apps/v1 or a core object), ``namespace`` and ``name``."""

    namespace: str
    name: str

    def resource_name(self) -> str:
        raise NotImplementedError

    @property
    def target(self) -> Target:
        resource = self.resource_name()
        return Target(_KINDS.get(resource) or _CORE_KINDS[resource], self.namespace, self.name)

    @property
    def object_path(self) -> str:
        resource = self.resource_name()
        if resource in _CORE_KINDS:
            return _core_path(resource, self.namespace, self.name)
        return _workload_path(resource, self.namespace, self.name)


# --- scale ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScaleAction(OneObject, KubeAction):
    """``kubectl scale``: a merge patch of ``spec.replicas`` on the ``scale`` subresource."""

    verb: ClassVar[str] = "scale"
    resource: ScalableResource
    namespace: str
    name: str
    replicas: int
    current_replicas: int

    def resource_name(self) -> str:
        return self.resource

    @property
    def object_path(self) -> str:
        return super().object_path + "/scale"

    def summary(self) -> str:
        return f"scale {self.target} from {self.current_replicas} to {self.replicas} replicas"

    def parameters(self) -> tuple[Parameter, ...]:
        return (Parameter("replicas", "Replicas", str(self.replicas), str(self.current_replicas)),)

    def with_values(self, values: Mapping[str, str]) -> Self:
        replicas = parse_count("replicas", values.get("replicas", ""))
        if replicas == self.current_replicas:
            raise ParameterError(f"replicas: {replicas} is the current count; nothing to change")
        return dataclasses.replace(self, replicas=replicas)

    def access_checks(self) -> tuple[AccessCheck, ...]:
        return (AccessCheck("patch", "apps", self.resource, "scale", self.namespace, self.name),)

    def request(self) -> Request:
        return Request("PATCH", self.object_path, {"spec": {"replicas": self.replicas}}, MERGE_PATCH)

    def done_message(self, reply: Any) -> str:
        return f"{_singular(self.resource)}.apps/{self.name} scaled"


def plan_scale(
    client: KubeClient, namespace: str, name: str, *, resource: ScalableResource = "deployments"
) -> ScaleAction:
    """Scale a deployment or statefulset; the current replicas are the default."""
    path = _workload_path(resource, namespace, name) + "/scale"
    scale = _get(client, path, f"{_singular(resource)} {namespace}/{name}")
    current = int((scale.get("spec") or {}).get("replicas") or 0)
    return ScaleAction(client, resource, namespace, name, current, current)


# --- container resources -------------------------------------------------------------------------------------


def _resource_values(container: Mapping[str, Any]) -> dict[str, str]:
    resources = container.get("resources") or {}
    values: dict[str, str] = {}
    for field_name in RESOURCE_FIELDS:
        section, key = field_name.split(".")
        values[field_name] = str((resources.get(section) or {}).get(key) or "")
    return values


@dataclass(frozen=True)
class ResourcesAction(OneObject, KubeAction):
    """Set one container's memory and CPU limits and requests with a strategic merge patch (as the runbook)."""

    verb: ClassVar[str] = "set-resources"
    namespace: str
    name: str
    container: str
    current: Mapping[str, Mapping[str, str]]  # container -> RESOURCE_FIELDS -> value now ("" when unset)
    wanted: Mapping[str, str]

    def resource_name(self) -> str:
        return "deployments"

    def changed(self) -> dict[str, str]:
        now = self.current[self.container]
        return {key: value for key, value in self.wanted.items() if value != now[key]}

    def summary(self) -> str:
        now = self.current[self.container]
        changes = ", ".join(f"{key} {now[key] or '<none>'} -> {value}" for key, value in self.changed().items())
        return f"set resources of container {self.container} of {self.target}: {changes or 'no change'}"

    def parameters(self) -> tuple[Parameter, ...]:
        now = self.current[self.container]
        container = Parameter(
            "container", "Container", self.container, self.container, tuple(self.current), "the container to change"
        )
        return (container, *(Parameter(key, key, self.wanted[key], now[key]) for key in RESOURCE_FIELDS))

    def with_values(self, values: Mapping[str, str]) -> Self:
        """Values not given keep the chosen container's current values; an empty value leaves a field unset."""
        container = values.get("container", self.container)
        if container not in self.current:
            raise ParameterError(f"container: {one_line(container, 60)!r} is not in {', '.join(self.current)}")
        now = self.current[container]
        wanted: dict[str, str] = {}
        for key in RESOURCE_FIELDS:
            text = values.get(key, now[key] if container != self.container else self.wanted[key]).strip()
            if not text:
                if now[key]:
                    raise ParameterError(f"{key}: is {now[key]} now; removing it is not offered, give a quantity")
                wanted[key] = ""
                continue
            parse_quantity_value(key, text)
            wanted[key] = text
        planned = dataclasses.replace(self, container=container, wanted=wanted)
        if not planned.changed():
            raise ParameterError("nothing to change: every value is the current one")
        return planned

    def access_checks(self) -> tuple[AccessCheck, ...]:
        return (AccessCheck("patch", "apps", "deployments", "", self.namespace, self.name),)

    def request(self) -> Request:
        resources: dict[str, dict[str, str]] = {}
        for key, value in self.changed().items():
            section, resource = key.split(".")
            resources.setdefault(section, {})[resource] = value
        body = {"spec": {"template": {"spec": {"containers": [{"name": self.container, "resources": resources}]}}}}
        return Request("PATCH", self.object_path, body, STRATEGIC_MERGE_PATCH)

    def done_message(self, reply: Any) -> str:
        return f"deployment.apps/{self.name} patched"

    def follower(self) -> ProgressFollower | None:
        return RolloutFollower(self.client, self.namespace, self.name)


def plan_resources(client: KubeClient, namespace: str, name: str, container: str | None = None) -> ResourcesAction:
    """Change one container's limits/requests; ``container`` None: the default container (annotation, else first)."""
    deployment = _get(client, deployment_path(namespace, name), f"deployment {namespace}/{name}")
    template = (deployment.get("spec") or {}).get("template") or {}
    containers = (template.get("spec") or {}).get("containers") or []
    current = {str(c.get("name")): _resource_values(c) for c in containers}
    if not current:
        raise ActionError(f"deployment {namespace}/{name} has no containers")
    default = ((template.get("metadata") or {}).get("annotations") or {}).get(DEFAULT_CONTAINER_ANNOTATION)
    chosen = container or (default if default in current else next(iter(current)))
    if chosen not in current:
        raise ActionError(f"deployment {namespace}/{name} has no container {chosen!r} ({', '.join(current)})")
    return ResourcesAction(client, namespace, name, chosen, current, dict(current[chosen]))


# --- rollout restart -----------------------------------------------------------------------------------------


def rfc3339_now() -> str:
    """Now, in RFC 3339 with the local offset, to the second (as kubectl writes ``restartedAt``)."""
    text = datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds")
    return text.replace("+00:00", "Z")


@dataclass(frozen=True)
class RestartAction(OneObject, KubeAction):
    """``kubectl rollout restart``: stamp ``restartedAt`` into the pod template's annotations."""

    verb: ClassVar[str] = "restart"
    resource: WorkloadResource
    namespace: str
    name: str
    restarted_at: str
    paused: bool

    def resource_name(self) -> str:
        return self.resource

    def summary(self) -> str:
        return f"restart every pod of {self.target} (rolling)"

    def parameters(self) -> tuple[Parameter, ...]:
        return ()

    def with_values(self, values: Mapping[str, str]) -> Self:
        return self

    def access_checks(self) -> tuple[AccessCheck, ...]:
        return (AccessCheck("patch", "apps", self.resource, "", self.namespace, self.name),)

    def blocked_reason(self) -> str | None:
        return self._paused_message() if self.paused else None

    def _paused_message(self) -> str:
        resource = f"{self.resource}.apps"
        return f'{resource} "{self.name}" can\'t restart paused {_singular(self.resource)} (run rollout resume first)'

    def check_current(self, current: Any) -> None:
        if (current.get("spec") or {}).get("paused"):
            raise ActionError(self._paused_message())

    def execute(self) -> Outcome:
        self.check_current(_get(self.client, self.object_path, str(self.target)))
        return super().execute()

    def request(self) -> Request:
        annotations = {RESTARTED_AT_ANNOTATION: self.restarted_at}
        body = {"spec": {"template": {"metadata": {"annotations": annotations}}}}
        return Request("PATCH", self.object_path, body, STRATEGIC_MERGE_PATCH)

    def done_message(self, reply: Any) -> str:
        return f"{_singular(self.resource)}.apps/{self.name} restarted"

    def follower(self) -> ProgressFollower | None:
        if self.resource != "deployments":
            return None
        return RolloutFollower(self.client, self.namespace, self.name)


def plan_restart(
    client: KubeClient, namespace: str, name: str, *, resource: WorkloadResource = "deployments"
) -> RestartAction:
    """Restart a deployment (statefulset, daemonset); refused while the deployment is paused."""
    obj = _get(client, _workload_path(resource, namespace, name), f"{_singular(resource)} {namespace}/{name}")
    paused = bool((obj.get("spec") or {}).get("paused"))
    return RestartAction(client, resource, namespace, name, rfc3339_now(), paused)


# --- cordon --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CordonAction(KubeAction):
    """``kubectl cordon``: mark the node unschedulable (a strategic merge patch of ``spec.unschedulable``), so no
    new pod lands on it; its pods stay until drained."""

    verb: ClassVar[str] = "cordon"
    name: str
    unschedulable: bool  # already cordoned: nothing to change

    @property
    def target(self) -> Target:
        return Target("Node", None, self.name)

    @property
    def object_path(self) -> str:
        return f"/api/v1/nodes/{quote(self.name, safe='')}"

    def summary(self) -> str:
        return f"cordon {self.target}: no new pod is scheduled on it"

    def parameters(self) -> tuple[Parameter, ...]:
        return ()

    def with_values(self, values: Mapping[str, str]) -> Self:
        return self

    def access_checks(self) -> tuple[AccessCheck, ...]:
        return (AccessCheck("patch", "", "nodes", "", "", self.name),)

    def blocked_reason(self) -> str | None:
        return f"node/{self.name} is already cordoned" if self.unschedulable else None

    def request(self) -> Request:
        return Request("PATCH", self.object_path, {"spec": {"unschedulable": True}}, STRATEGIC_MERGE_PATCH)

    def done_message(self, reply: Any) -> str:
        return f"node/{self.name} cordoned"


def plan_cordon(client: KubeClient, name: str) -> CordonAction:
    """Cordon a node; refused when it already is."""
    obj = _get(client, f"/api/v1/nodes/{quote(name, safe='')}", f"node {name}")
    return CordonAction(client, name, bool((obj.get("spec") or {}).get("unschedulable")))


# --- rollout undo --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RolloutUndoAction(OneObject, KubeAction):
    """``kubectl rollout undo [--to-revision=N]``: one JSON patch restoring a ReplicaSet's template."""

    verb: ClassVar[str] = "rollout-undo"
    namespace: str
    name: str
    to_revision: int  # 0: the one before the newest
    plan: UndoPlan
    history: tuple[Revision, ...]
    current_revision: int

    def resource_name(self) -> str:
        return "deployments"

    def summary(self) -> str:
        if self.plan.patch is None:
            return f"roll back {self.target}: skipped, the template already matches revision {self.plan.revision}"
        return f"roll back {self.target} from revision {self.current_revision} to revision {self.plan.revision}"

    def parameters(self) -> tuple[Parameter, ...]:
        choices = ("0", *(str(revision.number) for revision in reversed(self.history)))
        return (
            Parameter(
                "to_revision",
                "To revision",
                str(self.to_revision),
                "0",
                choices,
                "0 rolls back to the revision before the newest",
            ),
        )

    def with_values(self, values: Mapping[str, str]) -> Self:
        to_revision = parse_count("to_revision", values.get("to_revision", str(self.to_revision)))
        deployment, replicasets = self._read()
        fresh = _undo_action(self.client, deployment, replicasets, to_revision)
        return dataclasses.replace(
            self,
            to_revision=to_revision,
            plan=fresh.plan,
            history=fresh.history,
            current_revision=fresh.current_revision,
        )

    def access_checks(self) -> tuple[AccessCheck, ...]:
        return (AccessCheck("patch", "apps", "deployments", "", self.namespace, self.name),)

    def blocked_reason(self) -> str | None:
        return PAUSED_UNDO_MESSAGE if self.plan.paused else None

    def request(self) -> Request:
        return Request("PATCH", self.object_path, self.plan.patch, JSON_PATCH)

    def _read(self) -> tuple[Any, list[dict[str, Any]]]:
        deployment = _get(self.client, self.object_path, str(self.target))
        try:
            return deployment, controlled_replicasets(self.client, deployment)
        except KubeError as exc:
            raise ActionError(f"cannot list the ReplicaSets of {self.target}: {explain_kube_error(exc)}") from exc

    def _skipped(self) -> str:
        return f"skipped rollback (current template already matches revision {self.plan.revision})"

    def preview(self) -> Preview:
        blocked = self.blocked_reason()
        if blocked:
            raise ActionError(blocked)
        before = _get(self.client, self.object_path, str(self.target))
        if self.plan.patch is None:
            return Preview(before, before, (), "", self._skipped())
        after = self.request().dry_run().send(self.client)
        return Preview.of_objects(before, after, f"rolls back to revision {self.plan.revision}")

    def execute(self) -> Outcome:
        """Plans again from fresh reads first: refuses if the deployment changed since the preview."""
        deployment, replicasets = self._read()
        fresh = plan_undo(deployment, replicasets, self.to_revision)
        if fresh.paused:
            raise ActionError(PAUSED_UNDO_MESSAGE)
        if fresh.patch is None:
            return Outcome(f"deployment.apps/{self.name} {self._skipped()}", deployment, sent=False)
        if fresh != self.plan:
            raise ActionError(f"{self.target} changed since the preview; preview the rollback again")
        reply = self.request().send(self.client)
        return Outcome(self.done_message(reply), reply, follow=self.follower())

    def done_message(self, reply: Any) -> str:
        return f"deployment.apps/{self.name} rolled back to revision {self.plan.revision}"

    def follower(self) -> ProgressFollower | None:
        return RolloutFollower(self.client, self.namespace, self.name)


def _undo_action(
    client: KubeClient, deployment: Any, replicasets: list[dict[str, Any]], to_revision: int
) -> RolloutUndoAction:
    meta = deployment.get("metadata") or {}
    plan = plan_undo(deployment, replicasets, to_revision)
    current = int((meta.get("annotations") or {}).get("deployment.kubernetes.io/revision") or 0)
    return RolloutUndoAction(
        client,
        str(meta.get("namespace")),
        str(meta.get("name")),
        to_revision,
        plan,
        tuple(history_of(replicasets)),
        current,
    )


def plan_rollout_undo(client: KubeClient, namespace: str, name: str, to_revision: int = 0) -> RolloutUndoAction:
    """Roll a deployment back; raises ActionError for "no rollout history found" or an unknown revision."""
    deployment = _get(client, deployment_path(namespace, name), f"deployment {namespace}/{name}")
    try:
        replicasets = controlled_replicasets(client, deployment)
    except KubeError as exc:
        raise ActionError(f"cannot list the ReplicaSets of {namespace}/{name}: {explain_kube_error(exc)}") from exc
    return _undo_action(client, deployment, replicasets, to_revision)


# --- delete pod ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeletePodAction(OneObject, KubeAction):
    """``kubectl delete pod``: graceful by default; ``force`` deletes at once (grace period 0)."""

    verb: ClassVar[str] = "delete"
    destructive: ClassVar[bool] = True
    namespace: str
    name: str
    force: bool
    grace_period_s: int
    phase: str

    def resource_name(self) -> str:
        return "pods"

    def _how(self) -> str:
        if self.force:
            return "force, at once, without waiting for the containers to stop"
        return f"graceful, {self.grace_period_s}s grace period"

    def summary(self) -> str:
        return f"delete {self.target} ({self._how()})"

    def parameters(self) -> tuple[Parameter, ...]:
        return (
            Parameter(
                "force",
                "Force",
                "yes" if self.force else "no",
                "no",
                ("no", "yes"),
                f"yes: grace period 0 instead of {self.grace_period_s}s; the node may still run the containers",
            ),
        )

    def with_values(self, values: Mapping[str, str]) -> Self:
        answer = values.get("force", "yes" if self.force else "no").strip().lower()
        if answer not in ("yes", "no"):
            raise ParameterError(f"force: answer yes or no, not {one_line(answer, 20)!r}")
        return dataclasses.replace(self, force=answer == "yes")

    def access_checks(self) -> tuple[AccessCheck, ...]:
        return (AccessCheck("delete", "", "pods", "", self.namespace, self.name),)

    def request(self) -> Request:
        options: dict[str, Any] = {"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Background"}
        if self.force:
            options["gracePeriodSeconds"] = 0
        return Request("DELETE", self.object_path, options)

    def make_preview(self, before: Any, after: Any) -> Preview:
        deleted = FieldChange(
            f"pods/{self.name}", f"exists ({self.phase or 'unknown phase'})", f"deleted ({self._how()})"
        )
        changes = [deleted]
        if isinstance(after, dict) and after.get("kind") == "Pod":  # the pod as it would be: deletion fields set
            changes.extend(change for change in object_changes(before, after) if change.path.startswith("metadata."))
        return Preview(before, after, tuple(changes), "", "the API server accepted the deletion in a dry run")

    def done_message(self, reply: Any) -> str:
        return f'pod "{self.name}" force deleted' if self.force else f'pod "{self.name}" deleted'


def plan_delete_pod(client: KubeClient, namespace: str, name: str, *, force: bool = False) -> DeletePodAction:
    """Delete a pod; its grace period (``terminationGracePeriodSeconds``, default 30 s) is shown."""
    pod = _get(client, _core_path("pods", namespace, name), f"pod {namespace}/{name}")
    grace = (pod.get("spec") or {}).get("terminationGracePeriodSeconds")
    phase = str((pod.get("status") or {}).get("phase") or "")
    return DeletePodAction(
        client, namespace, name, force, int(grace if grace is not None else DEFAULT_GRACE_PERIOD_S), phase
    )


# --- configmap -----------------------------------------------------------------------------------------------


def configmap_data_text(namespace: str, name: str, data: Mapping[str, str]) -> str:
    """The data as YAML to edit, after a comment saying how it is read back."""
    header = (
        f"# The data of configmap {namespace}/{name}. Lines starting with '#' are ignored.\n"
        '# Every value is text: 8000 and true are read as the strings "8000" and "true".\n'
    )
    body: str = yaml.dump(dict(data), Dumper=BlockTextDumper, default_flow_style=False, sort_keys=True, width=10_000)
    return header + (body if data else "{}\n")


def parse_configmap_text(text: str) -> dict[str, str]:
    """Edited YAML back to a configmap's data; every problem raises ParameterError naming where it is."""
    try:
        document = yaml.load(text, Loader=yaml.BaseLoader)  # BaseLoader: every scalar stays text
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ParameterError(f"the edited text is not valid YAML{where}: {one_line(str(problem), 120)}") from None
    if document is None:
        raise ParameterError("the edited text is empty: nothing to apply (write {} to remove every key)")
    if not isinstance(document, dict):
        raise ParameterError("the edited text must be a mapping of keys to text values (key: value)")
    data: dict[str, str] = {}
    for key, value in document.items():
        if not isinstance(key, str) or not _CONFIGMAP_KEY.fullmatch(key):
            raise ParameterError(
                f"key {one_line(str(key), 60)!r}: a configmap key is letters, digits, '-', '_' and '.' only"
            )
        if not isinstance(value, str):
            raise ParameterError(f"key {key!r}: the value must be text, not a nested list or mapping")
        data[key] = value
    return data


@dataclass(frozen=True)
class ConfigMapEditAction(OneObject, KubeAction):
    """``kubectl edit configmap``: a PUT of the object as read, with new data, guarded by its resourceVersion; then,
    when ``restart`` is set, ``kubectl rollout restart`` of the workload that reads it (its pods read the new data
    as they start)."""

    verb: ClassVar[str] = "edit"
    namespace: str
    name: str
    original: Mapping[str, Any] = field(repr=False)
    data: Mapping[str, str]
    removed_key: str = ""  # the key taken out (the ``remove-key`` parameter), "" when edited by hand
    restart: RestartAction | None = None

    def resource_name(self) -> str:
        return "configmaps"

    @property
    def resource_version(self) -> str:
        return str((self.original.get("metadata") or {}).get("resourceVersion") or "")

    @property
    def current_data(self) -> dict[str, str]:
        return dict(self.original.get("data") or {})

    def text(self) -> str:
        """The data being applied, as editable YAML."""
        return configmap_data_text(self.namespace, self.name, self.data)

    def summary(self) -> str:
        keys = sorted(set(self.current_data) | set(self.data))
        changed = [key for key in keys if self.current_data.get(key) != self.data.get(key)]
        what = f"{self.removed_key} taken out of {', '.join(changed)}" if self.removed_key else None
        edit = f"edit {self.target}: {what or (', '.join(changed) or 'no key') + ' changed'}"
        return edit + (f", then restart {self.restart.target} (rolling)" if self.restart is not None else "")

    def parameters(self) -> tuple[Parameter, ...]:
        current = configmap_data_text(self.namespace, self.name, self.current_data)
        return (Parameter("data", "Data (YAML)", self.text(), current, multiline=True),)

    def with_values(self, values: Mapping[str, str]) -> Self:
        """``data`` (the edited YAML), or ``remove-key`` (a key to take out, the rest as written); ``restart``: the
        deployment to restart once the data is written."""
        planned = self
        if values.get("restart"):
            planned = dataclasses.replace(planned, restart=plan_restart(self.client, self.namespace, values["restart"]))
        if values.get("remove-key"):
            key = values["remove-key"]
            try:
                _, data = without_key(self.current_data, key)
            except KeyNotRemovable as exc:
                raise ParameterError(f"{self.target}: {exc}") from None
            return dataclasses.replace(planned, data=data, removed_key=key)
        data = parse_configmap_text(values.get("data", self.text()))
        if data == self.current_data:
            raise ParameterError("nothing to change: the data is what the configmap holds")
        return dataclasses.replace(planned, data=data, removed_key="")

    def journal_parameters(self) -> dict[str, str]:
        parameters = {"resourceVersion": self.resource_version, "keys": ",".join(sorted(self.data))}
        if self.removed_key:
            parameters["remove-key"] = self.removed_key
        if self.restart is not None:
            parameters["restart"] = self.restart.name
        return parameters

    def access_checks(self) -> tuple[AccessCheck, ...]:
        restart = self.restart.access_checks() if self.restart is not None else ()
        return (AccessCheck("update", "", "configmaps", "", self.namespace, self.name), *restart)

    def blocked_reason(self) -> str | None:
        return self.restart.blocked_reason() if self.restart is not None else None

    def request(self) -> Request:
        body = {key: value for key, value in self.original.items() if key != "data"}
        body["metadata"] = {k: v for k, v in (self.original.get("metadata") or {}).items() if k != "managedFields"}
        if self.data:
            body["data"] = dict(self.data)
        return Request("PUT", self.object_path, body)

    def make_preview(self, before: Any, after: Any) -> Preview:
        old = {"data": dict(before.get("data") or {})}
        new = {"data": dict(after.get("data") or {})}
        return Preview(before, after, tuple(object_changes(old, new)), yaml_diff(old, new, names=("now", "edited")))

    def _conflict(self, exc: KubeError) -> ActionError:
        return ActionError(
            f"{self.target} changed since it was read (resourceVersion {self.resource_version}); "
            f"nothing was applied: read it again and redo the edit (HTTP {exc.status})"
        )

    def preview(self) -> Preview:
        try:
            preview = super().preview()
        except KubeError as exc:
            if exc.status == 409:
                raise self._conflict(exc) from exc
            raise
        if self.restart is None:
            return preview
        self.restart.preview()  # its dry run: refused (paused, forbidden by an admission) before anything is written
        then = f"then: {self.restart.summary()} ({RESTARTED_AT_ANNOTATION}: {self.restart.restarted_at})"
        return dataclasses.replace(preview, note="\n".join(filter(None, (preview.note, then))))

    def execute(self) -> Outcome:
        try:
            edited = super().execute()
        except KubeError as exc:
            if exc.status == 409:
                raise self._conflict(exc) from exc
            raise
        if self.restart is None:
            return edited
        try:
            restarted = self.restart.execute()
        except (ActionError, KubeError) as exc:
            why = explain_kube_error(exc) if isinstance(exc, KubeError) else str(exc)
            raise ActionError(f"{edited.message}, but the restart of {self.restart.target} failed: {why}") from exc
        return dataclasses.replace(restarted, message=f"{edited.message}; {restarted.message}")

    def done_message(self, reply: Any) -> str:
        return f"configmap/{self.name} edited"


def plan_configmap_edit(client: KubeClient, namespace: str, name: str = "nimify-config") -> ConfigMapEditAction:
    """Read a configmap (the data is the editable parameter); the read resourceVersion guards the write."""
    configmap = _get(client, _core_path("configmaps", namespace, name), f"configmap {namespace}/{name}")
    return ConfigMapEditAction(client, namespace, name, configmap, dict(configmap.get("data") or {}))


# --- PVC expansion -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExpandVolumeAction(OneObject, KubeAction):
    """``kubectl patch pvc -p '{"spec":{"resources":{"requests":{"storage":...}}}}'``: grow a volume claim."""

    verb: ClassVar[str] = "expand"
    namespace: str
    name: str
    size: str
    current_size: str
    storage_class: str
    expansion_allowed: bool | None  # None: the storage class could not be read

    def resource_name(self) -> str:
        return "persistentvolumeclaims"

    def summary(self) -> str:
        return f"expand {self.target} from {self.current_size} to {self.size}"

    def parameters(self) -> tuple[Parameter, ...]:
        return (
            Parameter("storage", "Storage", self.size, self.current_size, help="must be larger than the current size"),
        )

    def with_values(self, values: Mapping[str, str]) -> Self:
        text = values.get("storage", self.size).strip()
        wanted = parse_quantity_value("storage", text)
        current = parse_quantity_value("current size", self.current_size)
        if wanted.value < current.value:
            raise ParameterError(
                f"storage: {text} is smaller than the current {self.current_size}; a PVC cannot shrink"
            )
        if wanted.value == current.value:
            raise ParameterError(f"storage: {text} is the current size; give a larger one")
        return dataclasses.replace(self, size=text)

    def access_checks(self) -> tuple[AccessCheck, ...]:
        return (AccessCheck("patch", "", "persistentvolumeclaims", "", self.namespace, self.name),)

    def blocked_reason(self) -> str | None:
        if self.expansion_allowed is False:
            return (
                f"storage class {self.storage_class!r} does not allow volume expansion "
                "(allowVolumeExpansion is not true): this PVC cannot be expanded"
            )
        return None

    def request(self) -> Request:
        body = {"spec": {"resources": {"requests": {"storage": self.size}}}}
        return Request("PATCH", self.object_path, body, MERGE_PATCH)

    def done_message(self, reply: Any) -> str:
        return f"persistentvolumeclaim/{self.name} patched"


def plan_expand_volume(client: KubeClient, namespace: str, name: str) -> ExpandVolumeAction:
    """Grow a PVC; says up front when its storage class does not allow expansion."""
    pvc = _get(client, _core_path("persistentvolumeclaims", namespace, name), f"pvc {namespace}/{name}")
    spec = pvc.get("spec") or {}
    current = str(((spec.get("resources") or {}).get("requests") or {}).get("storage") or "")
    if not current:
        raise ActionError(f"pvc {namespace}/{name} has no storage request to grow")
    storage_class = str(spec.get("storageClassName") or "")
    allowed: bool | None = None
    if storage_class:
        try:
            found = client.get_json(f"/apis/storage.k8s.io/v1/storageclasses/{quote(storage_class, safe='')}")
            allowed = found.get("allowVolumeExpansion") is True
        except KubeError:
            allowed = None  # not readable (RBAC) or gone: the API server will decide
    return ExpandVolumeAction(client, namespace, name, current, current, storage_class, allowed)
