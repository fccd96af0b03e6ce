"""Lean, immutable records of Kubernetes objects, built from raw JSON dicts (as ``orjson.loads`` gives them).

Each record keeps only what the panes and the triage checks read; kubectl's derived columns (a pod's STATUS,
READY and RESTARTS) are computed once here, so a row for a new "now" costs only its ages. Times are seconds
since the epoch. ``labels`` mappings are the decoded dicts themselves: read them, never change them.
"""

from __future__ import annotations

import contextlib
import itertools
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple, get_type_hints

from nimify_tui.kube import record_shapes
from nimify_tui.kube.duration import parse_timestamp
from nimify_tui.kube.quantity import quantity_or_none
from nimify_tui.kube.shape import ANY, Shape, clean, empty_value, record_problems, well_typed
from nimify_tui.kube.status import node_roles, pod_status, readiness_gates_text, selector_text

if TYPE_CHECKING:
    from typing_extensions import Self

_EMPTY: Mapping[str, Any] = {}
GPU_RESOURCE = "nvidia.com/gpu"
DEFAULT_CONTAINER_ANNOTATION = "kubectl.kubernetes.io/default-container"
REVISION_ANNOTATION = "deployment.kubernetes.io/revision"
CHANGE_CAUSE_ANNOTATION = "kubernetes.io/change-cause"

POD_PHASES = frozenset(("Pending", "Running", "Succeeded", "Failed", "Unknown", ""))
CONTAINER_STATES = frozenset(("running", "waiting", "terminated", ""))
CONDITION_STATUSES = frozenset(("True", "False", "Unknown", ""))
EVENT_TYPES = frozenset(("Normal", "Warning", ""))


def _int_or_none(text: object) -> int | None:
    try:
        return int(str(text))
    except ValueError:
        return None


def _controller(metadata: Mapping[str, Any]) -> Mapping[str, Any]:
    owners: list[Mapping[str, Any]] = metadata.get("ownerReferences") or []
    return next((owner for owner in owners if owner.get("controller") is True), _EMPTY)


@dataclass(frozen=True, slots=True)
class Condition:
    """One status condition (pods, nodes, deployments, PVCs)."""

    type: str
    status: str
    reason: str
    message: str
    last_transition_time: str

    @classmethod
    def from_raw(cls, obj: dict[str, Any]) -> Self:
        return cls(
            obj.get("type") or "",
            obj.get("status") or "",
            obj.get("reason") or "",
            obj.get("message") or "",
            obj.get("lastTransitionTime") or "",
        )

    @property
    def last_transition(self) -> float | None:
        """When the status last changed (parsed on demand: most conditions are never asked)."""
        return parse_timestamp(self.last_transition_time)


def _conditions(status: Mapping[str, Any]) -> tuple[Condition, ...]:
    return tuple(Condition.from_raw(c) for c in status.get("conditions") or ())


@dataclass(frozen=True, slots=True)
class Termination:
    """How a container ended: ``reason`` (OOMKilled, Error, Completed), exit code or signal, and when."""

    reason: str
    exit_code: int
    signal: int
    message: str
    finished_at: float | None

    @classmethod
    def from_raw(cls, obj: dict[str, Any]) -> Self:
        return cls(
            obj.get("reason") or "",
            obj.get("exitCode") or 0,
            obj.get("signal") or 0,
            obj.get("message") or "",
            parse_timestamp(obj.get("finishedAt")),
        )


class ContainerRecord(NamedTuple):
    """A container of a pod: its spec's image and resources joined with its status.

    A named tuple rather than a frozen dataclass: one is built for every container of every pod, and with a
    dataclass here a 5,000-pod list took about 20% longer to convert.

    ``state`` is ``running``, ``waiting``, ``terminated`` or ``""`` before the kubelet reports it;
    ``state_reason``/``state_message`` are the waiting or terminated reason and message. Requests and limits
    are the quantity texts of the spec (None when unset).
    """

    name: str
    image: str
    init: bool
    sidecar: bool
    ready: bool
    restart_count: int
    state: str
    state_reason: str
    state_message: str
    terminated: Termination | None
    last_termination: Termination | None
    cpu_request: str | None
    cpu_limit: str | None
    memory_request: str | None
    memory_limit: str | None
    gpu_request: str | None
    gpu_limit: str | None

    @classmethod
    def from_raw(cls, spec: dict[str, Any], status: Mapping[str, Any], init: bool = False) -> Self:
        """Build from a container spec and its status entry (``{}`` when the kubelet has not reported one)."""
        resources = spec.get("resources") or _EMPTY
        requests = resources.get("requests") or _EMPTY
        limits = resources.get("limits") or _EMPTY
        state = status.get("state") or _EMPTY
        state_name, detail = next(iter(state.items()), ("", _EMPTY))
        detail = detail or _EMPTY
        terminated = state.get("terminated")
        last_terminated = (status.get("lastState") or _EMPTY).get("terminated")
        return cls(  # the texts every pod of a deployment repeats are one shared copy (50,000 pods held)
            _shared(spec.get("name") or ""),
            _shared(spec.get("image") or ""),
            init,
            init and spec.get("restartPolicy") == "Always",
            status.get("ready") is True,
            status.get("restartCount") or 0,
            state_name,
            _shared(detail.get("reason") or ""),
            detail.get("message") or "",
            None if terminated is None else Termination.from_raw(terminated),
            None if last_terminated is None else Termination.from_raw(last_terminated),
            _shared(requests.get("cpu")),
            _shared(limits.get("cpu")),
            _shared(requests.get("memory")),
            _shared(limits.get("memory")),
            _shared(requests.get(GPU_RESOURCE)),
            _shared(limits.get(GPU_RESOURCE)),
        )


def _containers(
    specs: list[dict[str, Any]] | None, statuses: list[dict[str, Any]] | None, init: bool
) -> tuple[ContainerRecord, ...]:
    if not specs:
        return ()
    by_name: Mapping[Any, Any] = {status.get("name"): status for status in statuses} if statuses else _EMPTY
    return tuple([ContainerRecord.from_raw(spec, by_name.get(spec.get("name"), _EMPTY), init) for spec in specs])


@dataclass(frozen=True, slots=True)
class ObjectRecord:
    """What every Kubernetes object's record has: who it is, its labels, and its life span. ``namespace`` is ""
    for a cluster-wide object; ``deleted_at`` is set once deletion started (the pod or claim is Terminating)."""

    name: str
    namespace: str
    uid: str
    resource_version: str
    labels: Mapping[str, str]
    created_at: float | None
    deleted_at: float | None
    # what of the raw object could not be read, path by path ("spec.containers[0].name: a number, not text");
    # empty for a well-formed object. What could not be read is left out of the record's other fields.
    unreadable: tuple[str, ...] = field(default=(), kw_only=True)

    SHAPE: ClassVar[Shape] = ANY
    # Read along its shape every time: a record whose fields are texts made of the object's values (taints, ports,
    # selectors) cannot tell a value of the wrong type from its fields. Pods and events (by far the most objects)
    # are decoded first and read along their shape only when that fails or gives a field of the wrong type.
    ALWAYS_CLEANED: ClassVar[bool] = True

    @classmethod
    def from_raw(cls, obj: dict[str, Any]) -> Self:
        """The record of a raw object. It never raises: a malformed object (wrong types, unknown values, missing
        parts) gives a record of what could be read, with ``unreadable`` saying what could not."""
        if cls.ALWAYS_CLEANED:
            return cls._read_malformed(obj)
        try:
            record = cls._decode(obj)
        except Exception:  # garbage of any kind: read it again along the kind's shape
            return cls._read_malformed(obj)
        if not (well_typed(record) and record.knows_its_values()):
            return cls._read_malformed(obj)
        return record

    @classmethod
    def _decode(cls, obj: dict[str, Any]) -> Self:
        """The record of a well-formed raw object (fast; may raise or mistype on a malformed one)."""
        raise NotImplementedError

    def knows_its_values(self) -> bool:
        """Whether the values the kind enumerates (phases, states, condition statuses) are all known ones."""
        return True

    @classmethod
    def _read_malformed(cls, obj: object) -> Self:
        problems: list[str] = []
        cleaned = clean(obj, cls.SHAPE, problems)
        try:
            record = cls._decode(cleaned)
        except Exception as exc:  # the shape misses something the decoder reads: keep who it is, at least
            problems.append(f"(object): {type(exc).__name__}: {exc}"[:200])
            record = cls._identity_only(cleaned)
        mistyped = record_problems(record)
        if mistyped:
            hints = get_type_hints(cls)
            record = replace(record, **{name: empty_value(hints[name]) for name in mistyped})
            problems.extend(f"({name}): not read" for name in mistyped)
        return replace(record, unreadable=tuple(problems)) if problems else record  # no copy of a good one

    @classmethod
    def _identity_only(cls, obj: Mapping[str, Any]) -> Self:
        hints = get_type_hints(cls)
        values = {f.name: empty_value(hints[f.name]) for f in fields(cls) if f.init}
        with contextlib.suppress(Exception):  # the metadata itself is unreadable: the record stays empty
            values.update(zip(_IDENTITY_FIELDS, _identity(obj.get("metadata") or _EMPTY), strict=True))
        return cls(**values)


def readable_object(obj: dict[str, Any], record_class: type[ObjectRecord]) -> tuple[Mapping[str, Any], tuple[str, ...]]:
    """A raw object as a view may read it: itself when it is well formed, else what of it has the shape of
    ``record_class``'s kind, with what could not be read (for describe, which reads more than the record)."""
    record = record_class.from_raw(obj)
    if not record.unreadable:
        return obj, ()
    return clean(obj, record_class.SHAPE, []), record.unreadable


_IDENTITY_FIELDS = ("name", "namespace", "uid", "resource_version", "labels", "created_at", "deleted_at")


def _identity(metadata: Mapping[str, Any]) -> tuple[str, str, str, str, Mapping[str, str], float | None, float | None]:
    """The :class:`ObjectRecord` fields of an object's ``metadata``, in their order."""
    return (
        metadata.get("name") or "",
        metadata.get("namespace") or "",
        metadata.get("uid") or "",
        metadata.get("resourceVersion") or "",
        metadata.get("labels") or _EMPTY,
        parse_timestamp(metadata.get("creationTimestamp")),
        parse_timestamp(metadata.get("deletionTimestamp")),
    )


@dataclass(frozen=True, slots=True)
class PodRecord(ObjectRecord):
    """A pod: identity, kubectl's STATUS/READY/RESTARTS, placement, containers, and unmet conditions.

    ``unmet_conditions`` holds only the conditions whose status is not True (``PodScheduled`` with the
    scheduler's message, ``Ready``...): a healthy pod has none, which keeps big lists cheap.
    """

    owner_kind: str
    owner_name: str
    phase: str
    status: str
    ready: int
    total: int
    restarts: int
    last_restart_at: float | None
    message: str
    ip: str
    node: str
    nominated_node: str
    readiness_gates: str
    default_container: str
    containers: tuple[ContainerRecord, ...]
    init_containers: tuple[ContainerRecord, ...]
    unmet_conditions: tuple[Condition, ...]
    overhead: Mapping[str, str]  # spec.overhead: what its RuntimeClass adds to its requests (quantity texts)
    claims: tuple[str, ...] = ()  # the persistent volume claims its volumes mount, by name

    SHAPE: ClassVar[Shape] = record_shapes.POD
    ALWAYS_CLEANED = False

    @classmethod
    def _decode(cls, obj: dict[str, Any]) -> Self:
        metadata = obj.get("metadata") or _EMPTY
        spec = obj.get("spec") or _EMPTY
        status = obj.get("status") or _EMPTY
        summary = pod_status(obj)
        owner = _controller(metadata)
        pod_ips = status.get("podIPs")
        specs = spec.get("containers") or []
        annotations = metadata.get("annotations") or _EMPTY
        raw_conditions = status.get("conditions") or ()
        return cls(  # the texts many pods repeat (a namespace, an owner, a node, a status) are one shared copy
            *_shared_identity(metadata),
            _shared(owner.get("kind") or ""),
            _shared(owner.get("name") or ""),
            _shared(status.get("phase") or ""),
            _shared(summary.reason),
            summary.ready,
            summary.total,
            summary.restarts,
            summary.last_restart_at,
            status.get("message") or "",
            (pod_ips[0].get("ip") if pod_ips else status.get("podIP")) or "",
            _shared(spec.get("nodeName") or ""),
            _shared(status.get("nominatedNodeName") or ""),
            _shared(readiness_gates_text(spec.get("readinessGates"), raw_conditions)),
            _shared(annotations.get(DEFAULT_CONTAINER_ANNOTATION) or ((specs[0].get("name") or "") if specs else "")),
            _containers(specs, status.get("containerStatuses"), False),
            _containers(spec.get("initContainers"), status.get("initContainerStatuses"), True),
            tuple([Condition.from_raw(c) for c in raw_conditions if c.get("status") != "True"]),
            spec.get("overhead") or _EMPTY,
            _claims(spec.get("volumes")),
        )

    def knows_its_values(self) -> bool:
        if self.phase not in POD_PHASES:
            return False
        for container in self.containers:
            if container.state not in CONTAINER_STATES:
                return False
        for container in self.init_containers:
            if container.state not in CONTAINER_STATES:
                return False
        return all(c.status in CONDITION_STATUSES for c in self.unmet_conditions) if self.unmet_conditions else True

    def last_termination(self) -> tuple[str, Termination] | None:
        """The newest termination of any container (current state or last state), with the container name."""
        newest: tuple[str, Termination] | None = None
        for container in (*self.init_containers, *self.containers):
            for termination in (container.terminated, container.last_termination):
                if termination is None:
                    continue
                if newest is None or (termination.finished_at or 0.0) > (newest[1].finished_at or 0.0):
                    newest = (container.name, termination)
        return newest


def _claims(volumes: Any) -> tuple[str, ...]:
    """The claim names of a pod's ``spec.volumes`` (most pods mount none: the empty tuple is shared)."""
    if not volumes or type(volumes) is not list:
        return ()
    names = []
    for volume in volumes:
        claim = volume.get("persistentVolumeClaim") if type(volume) is dict else None
        name = claim.get("claimName") if type(claim) is dict else None
        if type(name) is str and name:
            names.append(_shared(name))
    return tuple(names)


def _shared_identity(
    metadata: Mapping[str, Any], time: float | None = None
) -> tuple[str, str, str, str, Mapping[str, str], float | None, float | None]:
    """:func:`_identity` with the namespace one shared copy, and the creation time ``time`` itself when they are
    equal (an event created when first seen keeps one float)."""
    name, namespace, uid, resource_version, labels, created_at, deleted_at = _identity(metadata)
    if created_at is not None and created_at == time:
        created_at = time
    return name, _shared(namespace), uid, resource_version, labels, created_at, deleted_at


def _shared(text: Any) -> Any:
    """One copy of a text that many records repeat (a namespace, a reason, a kind): events are kept an hour, and a
    busy cluster has thousands, most saying what others say; anything but a text is left for the checks."""
    return sys.intern(text) if type(text) is str else text


@dataclass(frozen=True, slots=True)
class EventRecord(ObjectRecord):
    """An event (core ``v1`` or ``events.k8s.io/v1`` shape); ``last_seen`` and ``count`` follow kubectl.

    Held by the thousand for an hour (the API server's event time to live), so it is kept small: the texts events
    repeat (namespaces, type, reason, message, the object's kind, name and field, the source) are shared between
    records, and a time equal to another is the same float.
    """

    type: str
    reason: str
    message: str
    object_kind: str
    object_name: str
    object_namespace: str
    field_path: str
    source: str
    count: int
    first_seen: float | None
    last_seen: float | None

    SHAPE: ClassVar[Shape] = record_shapes.EVENT
    ALWAYS_CLEANED = False

    def knows_its_values(self) -> bool:
        return self.type in EVENT_TYPES

    @classmethod
    def _decode(cls, obj: dict[str, Any]) -> Self:
        metadata = obj.get("metadata") or _EMPTY
        regarding = obj.get("involvedObject") or obj.get("regarding") or _EMPTY
        source = obj.get("source") or obj.get("deprecatedSource") or _EMPTY
        first_text = obj.get("firstTimestamp") or obj.get("deprecatedFirstTimestamp")
        first_seen = parse_timestamp(first_text)
        if first_seen is None:
            first_seen = parse_timestamp(obj.get("eventTime"))
        last_text = obj.get("lastTimestamp") or obj.get("deprecatedLastTimestamp")
        last_seen = first_seen if last_text == first_text else parse_timestamp(last_text)
        if last_seen is None:
            last_seen = first_seen
        count = obj.get("count") or obj.get("deprecatedCount") or 0
        series = obj.get("series")
        if series is not None:
            last_seen = parse_timestamp(series.get("lastObservedTime"))
            count = series.get("count") or 0
        elif count == 0:
            count = 1  # a singleton event of the new API has no count
        return cls(
            *_shared_identity(metadata, first_seen),
            _shared(obj.get("type") or ""),
            _shared(obj.get("reason") or ""),
            _shared(obj.get("message") or obj.get("note") or ""),
            _shared(regarding.get("kind") or ""),
            _shared(regarding.get("name") or ""),
            _shared(regarding.get("namespace") or ""),
            _shared(regarding.get("fieldPath") or ""),
            _shared(obj.get("reportingController") or obj.get("reportingComponent") or source.get("component") or ""),
            count,
            first_seen,
            last_seen,
        )


@dataclass(frozen=True, slots=True)
class NodeRecord(ObjectRecord):
    """A node: readiness conditions, roles, version, and CPU / memory / GPU capacity and allocatable."""

    unschedulable: bool
    roles: tuple[str, ...]
    kubelet_version: str
    internal_ip: str
    instance_type: str
    conditions: tuple[Condition, ...]
    taints: tuple[str, ...]
    cpu_capacity: str
    cpu_allocatable: str
    memory_capacity: str
    memory_allocatable: str
    gpu_capacity: int
    gpu_allocatable: int

    SHAPE: ClassVar[Shape] = record_shapes.NODE

    @classmethod
    def _decode(cls, obj: dict[str, Any]) -> Self:
        metadata = obj.get("metadata") or _EMPTY
        spec = obj.get("spec") or _EMPTY
        status = obj.get("status") or _EMPTY
        labels = metadata.get("labels") or _EMPTY
        capacity = status.get("capacity") or _EMPTY
        allocatable = status.get("allocatable") or _EMPTY
        gpu_capacity = quantity_or_none(capacity.get(GPU_RESOURCE))
        gpu_allocatable = quantity_or_none(allocatable.get(GPU_RESOURCE))
        internal_ips = [a.get("address") for a in status.get("addresses") or () if a.get("type") == "InternalIP"]
        taints = tuple(
            f"{t.get('key')}={t.get('value')}:{t.get('effect')}"
            if t.get("value")
            else f"{t.get('key')}:{t.get('effect')}"
            for t in spec.get("taints") or ()
        )
        return cls(
            *_identity(metadata),
            spec.get("unschedulable") is True,
            node_roles(labels),
            (status.get("nodeInfo") or _EMPTY).get("kubeletVersion") or "",
            internal_ips[0] if internal_ips else "",
            labels.get("node.kubernetes.io/instance-type") or labels.get("beta.kubernetes.io/instance-type") or "",
            _conditions(status),
            taints,
            capacity.get("cpu") or "",
            allocatable.get("cpu") or "",
            capacity.get("memory") or "",
            allocatable.get("memory") or "",
            0 if gpu_capacity is None else gpu_capacity.to_int(),
            0 if gpu_allocatable is None else gpu_allocatable.to_int(),
        )


def _unprobed(spec: Mapping[str, Any]) -> tuple[str, ...]:
    pod_spec = (spec.get("template") or _EMPTY).get("spec") or _EMPTY
    return tuple(
        c.get("name") or ""
        for c in pod_spec.get("containers") or ()
        if not (c.get("readinessProbe") and c.get("livenessProbe"))
    )


def _template_containers(spec: Mapping[str, Any]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    pod_spec = (spec.get("template") or _EMPTY).get("spec") or _EMPTY
    containers = pod_spec.get("containers") or ()
    return tuple(c.get("name") or "" for c in containers), tuple(c.get("image") or "" for c in containers)


@dataclass(frozen=True, slots=True)
class DeploymentRecord(ObjectRecord):
    """A deployment: replica counts, template containers and images, selector, revision, conditions."""

    generation: int
    observed_generation: int
    desired: int
    replicas: int
    updated: int
    ready: int
    available: int
    unavailable: int
    containers: tuple[str, ...]
    images: tuple[str, ...]
    selector: str
    match_labels: Mapping[str, str]
    revision: int | None
    paused: bool
    conditions: tuple[Condition, ...]
    unprobed: tuple[str, ...]  # template containers with no readiness or no liveness probe

    SHAPE: ClassVar[Shape] = record_shapes.DEPLOYMENT

    @classmethod
    def _decode(cls, obj: dict[str, Any]) -> Self:
        metadata = obj.get("metadata") or _EMPTY
        spec = obj.get("spec") or _EMPTY
        status = obj.get("status") or _EMPTY
        selector = spec.get("selector") or _EMPTY
        containers, images = _template_containers(spec)
        replicas = spec.get("replicas")
        return cls(
            *_identity(metadata),
            metadata.get("generation") or 0,
            status.get("observedGeneration") or 0,
            1 if replicas is None else replicas,  # the API server's default
            status.get("replicas") or 0,
            status.get("updatedReplicas") or 0,
            status.get("readyReplicas") or 0,
            status.get("availableReplicas") or 0,
            status.get("unavailableReplicas") or 0,
            containers,
            images,
            selector_text(selector),
            selector.get("matchLabels") or _EMPTY,
            _int_or_none((metadata.get("annotations") or _EMPTY).get(REVISION_ANNOTATION)),
            spec.get("paused") is True,
            _conditions(status),
            _unprobed(spec),
        )


@dataclass(frozen=True, slots=True)
class ReplicaSetRecord(ObjectRecord):
    """A ReplicaSet as rollout history reads it: revision, change cause, owning deployment, replica counts."""

    owner_kind: str
    owner_name: str
    owner_uid: str
    revision: int | None
    change_cause: str
    pod_template_hash: str
    desired: int
    replicas: int
    ready: int
    available: int
    containers: tuple[str, ...]
    images: tuple[str, ...]

    SHAPE: ClassVar[Shape] = record_shapes.REPLICASET

    @classmethod
    def _decode(cls, obj: dict[str, Any]) -> Self:
        metadata = obj.get("metadata") or _EMPTY
        spec = obj.get("spec") or _EMPTY
        status = obj.get("status") or _EMPTY
        annotations = metadata.get("annotations") or _EMPTY
        owner = _controller(metadata)
        containers, images = _template_containers(spec)
        replicas = spec.get("replicas")
        return cls(
            *_identity(metadata),
            owner.get("kind") or "",
            owner.get("name") or "",
            owner.get("uid") or "",
            _int_or_none(annotations.get(REVISION_ANNOTATION)),
            annotations.get(CHANGE_CAUSE_ANNOTATION) or "",
            (metadata.get("labels") or _EMPTY).get("pod-template-hash") or "",
            1 if replicas is None else replicas,
            status.get("replicas") or 0,
            status.get("readyReplicas") or 0,
            status.get("availableReplicas") or 0,
            containers,
            images,
        )


@dataclass(frozen=True, slots=True)
class PVCRecord(ObjectRecord):
    """A persistent volume claim: phase, volume, requested and actual size, modes, class, resize state."""

    phase: str
    volume_name: str
    requested: str
    capacity: str
    access_modes: tuple[str, ...]
    storage_class: str
    volume_attributes_class: str
    volume_mode: str
    resize_status: str
    conditions: tuple[Condition, ...]

    SHAPE: ClassVar[Shape] = record_shapes.PVC

    @classmethod
    def _decode(cls, obj: dict[str, Any]) -> Self:
        metadata = obj.get("metadata") or _EMPTY
        spec = obj.get("spec") or _EMPTY
        status = obj.get("status") or _EMPTY
        annotations = metadata.get("annotations") or _EMPTY
        return cls(
            *_identity(metadata),
            status.get("phase") or "",
            spec.get("volumeName") or "",
            ((spec.get("resources") or _EMPTY).get("requests") or _EMPTY).get("storage") or "",
            (status.get("capacity") or _EMPTY).get("storage") or "",
            tuple(status.get("accessModes") or ()),
            annotations.get("volume.beta.kubernetes.io/storage-class") or spec.get("storageClassName") or "",
            spec.get("volumeAttributesClassName") or "",
            spec.get("volumeMode") or "",
            (status.get("allocatedResourceStatuses") or _EMPTY).get("storage") or "",
            _conditions(status),
        )


@dataclass(frozen=True, slots=True)
class ServiceRecord(ObjectRecord):
    """Service: type, cluster IP, ports as kubectl writes them (``8000/TCP``, ``80:30080/TCP``), selector."""

    type: str
    cluster_ip: str
    external_ips: tuple[str, ...]
    ports: tuple[str, ...]
    selector: Mapping[str, str]
    external_name: str  # the DNS name an ExternalName service points at
    load_balancer: tuple[str, ...]  # the IP, else the hostname, of each load-balancer ingress point

    SHAPE: ClassVar[Shape] = record_shapes.SERVICE

    @classmethod
    def _decode(cls, obj: dict[str, Any]) -> Self:
        metadata = obj.get("metadata") or _EMPTY
        spec = obj.get("spec") or _EMPTY
        load_balancer = ((obj.get("status") or _EMPTY).get("loadBalancer") or _EMPTY).get("ingress") or ()
        ports = tuple(
            f"{p.get('port')}:{p['nodePort']}/{p.get('protocol') or 'TCP'}"
            if p.get("nodePort")
            else f"{p.get('port')}/{p.get('protocol') or 'TCP'}"
            for p in spec.get("ports") or ()
        )
        return cls(
            *_identity(metadata),
            spec.get("type") or "ClusterIP",
            spec.get("clusterIP") or "",
            tuple(spec.get("externalIPs") or ()),
            ports,
            spec.get("selector") or _EMPTY,
            spec.get("externalName") or "",
            tuple(i.get("ip") or i.get("hostname") or "" for i in load_balancer),
        )


@dataclass(frozen=True, slots=True)
class EndpointAddress:
    """One address behind a service, with the pod it points at."""

    ip: str
    node: str
    pod: str
    ready: bool


@dataclass(frozen=True, slots=True)
class EndpointsRecord(ObjectRecord):
    """The endpoints of a service: ready and not-ready addresses, and the ports."""

    addresses: tuple[EndpointAddress, ...]
    ports: tuple[int, ...]
    ready_text: str  # kubectl's ENDPOINTS column

    SHAPE: ClassVar[Shape] = record_shapes.ENDPOINTS

    @classmethod
    def _decode(cls, obj: dict[str, Any]) -> Self:
        metadata = obj.get("metadata") or _EMPTY
        addresses: list[EndpointAddress] = []
        ports: list[int] = []
        subsets = obj.get("subsets") or ()
        for subset in subsets:
            for key, ready in (("addresses", True), ("notReadyAddresses", False)):
                for address in subset.get(key) or ():
                    target = address.get("targetRef") or _EMPTY
                    pod = (target.get("name") or "") if target.get("kind") == "Pod" else ""
                    addresses.append(
                        EndpointAddress(address.get("ip") or "", address.get("nodeName") or "", pod, ready)
                    )
            ports.extend(p.get("port") or 0 for p in subset.get("ports") or ())
        return cls(
            *_identity(metadata),
            tuple(addresses),
            tuple(ports),
            _ready_endpoints_text(subsets),
        )

    @property
    def ready_count(self) -> int:
        """How many addresses are ready to take traffic."""
        return sum(1 for address in self.addresses if address.ready)


_ENDPOINTS_SHOWN = 3


def _ready_endpoints_text(subsets: Sequence[Mapping[str, Any]]) -> str:
    """kubectl's ENDPOINTS column: each ready address of a subset with each of its ports (``ip:port``, the address
    alone in a subset without ports), the first three then ``+ N more...``; ``<none>`` when none is ready."""
    shown: list[str] = []
    count = 0
    for subset in subsets:
        ips = [address.get("ip") or "" for address in subset.get("addresses") or ()]
        ports = [port.get("port") or 0 for port in subset.get("ports") or ()]
        pairs = (_host_port(ip, port) for port in ports for ip in ips) if ports else iter(ips)
        count += len(ips) * max(len(ports), 1)
        shown.extend(itertools.islice(pairs, max(0, _ENDPOINTS_SHOWN - len(shown))))
    if count > _ENDPOINTS_SHOWN:
        return f"{','.join(shown)} + {count - _ENDPOINTS_SHOWN} more..."
    return ",".join(shown) or "<none>"


def _host_port(host: str, port: int) -> str:
    """Go's ``net.JoinHostPort``: an IPv6 address in brackets."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


@dataclass(frozen=True, slots=True)
class IngressBackend:
    """Where one ingress path sends traffic."""

    host: str
    path: str
    service: str
    port: str


@dataclass(frozen=True, slots=True)
class IngressRecord(ObjectRecord):
    """An ingress: class, hosts, load-balancer addresses, TLS, and the service behind each path."""

    ingress_class: str
    hosts: tuple[str, ...]
    addresses: tuple[str, ...]
    tls: bool
    backends: tuple[IngressBackend, ...]
    tls_secrets: tuple[str, ...]  # the Secrets holding its certificates
    class_name: str | None  # spec.ingressClassName alone (None when unset), as kubectl's CLASS column shows it
    rule_hosts: tuple[str, ...]  # each rule's host in order, "" for a rule without one

    SHAPE: ClassVar[Shape] = record_shapes.INGRESS

    @classmethod
    def _decode(cls, obj: dict[str, Any]) -> Self:
        metadata = obj.get("metadata") or _EMPTY
        spec = obj.get("spec") or _EMPTY
        annotations = metadata.get("annotations") or _EMPTY
        backends: list[IngressBackend] = []
        hosts: list[str] = []
        for rule in spec.get("rules") or ():
            host = rule.get("host") or ""
            if host and host not in hosts:
                hosts.append(host)
            for path in (rule.get("http") or _EMPTY).get("paths") or ():
                backends.append(_backend(host, path.get("path") or "", path.get("backend") or _EMPTY))
        default = spec.get("defaultBackend") or spec.get("backend")
        if default:
            backends.append(_backend("", "", default))
        load_balancer = (obj.get("status") or _EMPTY).get("loadBalancer") or _EMPTY
        return cls(
            *_identity(metadata),
            spec.get("ingressClassName") or annotations.get("kubernetes.io/ingress.class") or "",
            tuple(hosts),
            tuple(i.get("ip") or i.get("hostname") or "" for i in load_balancer.get("ingress") or ()),
            bool(spec.get("tls")),
            tuple(backends),
            tuple(dict.fromkeys(t.get("secretName") or "" for t in spec.get("tls") or () if t.get("secretName"))),
            spec.get("ingressClassName"),
            tuple(rule.get("host") or "" for rule in spec.get("rules") or ()),
        )


def _backend(host: str, path: str, backend: Mapping[str, Any]) -> IngressBackend:
    """A path's backend, v1 shape (``service.name``/``service.port``) or the old one (``serviceName``)."""
    service = backend.get("service")
    if service is not None:
        port = service.get("port") or _EMPTY
        return IngressBackend(host, path, service.get("name") or "", str(port.get("number") or port.get("name") or ""))
    return IngressBackend(host, path, backend.get("serviceName") or "", str(backend.get("servicePort") or ""))


@dataclass(frozen=True, slots=True)
class NetworkPolicyRecord(ObjectRecord):
    """A network policy: the pods it selects, and whether it restricts their ingress and with how many rules (an
    Ingress policy with no rule denies all ingress to the pods it selects)."""

    pod_selector: Mapping[str, Any]  # a label selector: matchLabels, matchExpressions
    policy_types: tuple[str, ...]
    ingress_rules: int
    egress_rules: int

    SHAPE: ClassVar[Shape] = record_shapes.NETWORK_POLICY

    @classmethod
    def _decode(cls, obj: dict[str, Any]) -> Self:
        metadata = obj.get("metadata") or _EMPTY
        spec = obj.get("spec") or _EMPTY
        ingress = spec.get("ingress")
        types = spec.get("policyTypes") or (["Ingress", "Egress"] if spec.get("egress") else ["Ingress"])
        return cls(
            *_identity(metadata),
            spec.get("podSelector") or _EMPTY,
            tuple(types),
            len(ingress or ()),
            len(spec.get("egress") or ()),
        )


@dataclass(frozen=True, slots=True)
class PodDisruptionBudgetRecord(ObjectRecord):
    """A PodDisruptionBudget: the pods it covers and how many may be disrupted now."""

    selector: Mapping[str, Any]
    min_available: str
    max_unavailable: str
    disruptions_allowed: int

    SHAPE: ClassVar[Shape] = record_shapes.POD_DISRUPTION_BUDGET

    @classmethod
    def _decode(cls, obj: dict[str, Any]) -> Self:
        metadata = obj.get("metadata") or _EMPTY
        spec = obj.get("spec") or _EMPTY
        status = obj.get("status") or _EMPTY
        return cls(
            *_identity(metadata),
            spec.get("selector") or _EMPTY,
            str(spec.get("minAvailable") or ""),
            str(spec.get("maxUnavailable") or ""),
            status.get("disruptionsAllowed") or 0,
        )


@dataclass(frozen=True, slots=True)
class ResourceQuotaRecord(ObjectRecord):
    """A ResourceQuota: its hard limits and what the namespace uses of them (quantity texts)."""

    hard: Mapping[str, str]
    used: Mapping[str, str]

    SHAPE: ClassVar[Shape] = record_shapes.RESOURCE_QUOTA

    @classmethod
    def _decode(cls, obj: dict[str, Any]) -> Self:
        metadata = obj.get("metadata") or _EMPTY
        status = obj.get("status") or _EMPTY
        hard = status.get("hard") or (obj.get("spec") or _EMPTY).get("hard") or _EMPTY
        return cls(*_identity(metadata), hard, status.get("used") or _EMPTY)


def selects(selector: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    """Whether a label selector (matchLabels and matchExpressions) selects an object with ``labels``; an empty
    selector selects everything, as in a NetworkPolicy's podSelector."""
    for key, value in (selector.get("matchLabels") or _EMPTY).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or ():
        key, operator = expression.get("key") or "", expression.get("operator")
        values = set(expression.get("values") or ())
        present = key in labels
        if operator == "In" and not (present and labels[key] in values):
            return False
        if operator == "NotIn" and present and labels[key] in values:
            return False
        if operator == "Exists" and not present:
            return False
        if operator == "DoesNotExist" and present:
            return False
    return True


DECODERS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "pods": PodRecord.from_raw,
    "events": EventRecord.from_raw,
    "nodes": NodeRecord.from_raw,
    "services": ServiceRecord.from_raw,
    "endpoints": EndpointsRecord.from_raw,
    "pvcs": PVCRecord.from_raw,
    "deployments": DeploymentRecord.from_raw,
    "replicasets": ReplicaSetRecord.from_raw,
    "ingresses": IngressRecord.from_raw,
    "networkpolicies": NetworkPolicyRecord.from_raw,
    "poddisruptionbudgets": PodDisruptionBudgetRecord.from_raw,
    "resourcequotas": ResourceQuotaRecord.from_raw,
}
"""The record builder of each kind the informers watch, by the informers' kind name."""
