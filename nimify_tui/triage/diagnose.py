"""The rules that turn the store and the checks' findings into ranked diagnoses (see ``diagnosis.py``).

Each rule looks for one cause and returns a diagnosis only when its evidence is in the store; its rank puts causes
before symptoms. The rules read Kubernetes' own signals (pod states, events, ReplicaSets, node conditions) rather
than the simulator's names: a deployment is found through its pods' owners, the ingress controller by its labels,
the hog by the deployment controller's ScalingReplicaSet events. Pods Pending, pods Evicted and a service with no
endpoints are symptoms: they point at a cause found by another rule, or, alone, at a diagnosis that says the cause
is unknown and offers no fix.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from nimify_tui.kube.allocation import allocation_by_node
from nimify_tui.kube.faults import pod_fault
from nimify_tui.kube.log_signatures import LogSignature, SignatureMatch
from nimify_tui.kube.quantity import Quantity, format_quantity, quantity_or_none
from nimify_tui.kube.records import DeploymentRecord, EventRecord, NodeRecord, PodRecord, ReplicaSetRecord, selects
from nimify_tui.live.keys import (
    DEPLOYMENTS,
    EVENTS,
    GPUS,
    INGRESSES,
    LATENCY,
    LOG_SIGNATURES,
    NODES,
    PODS,
    PVC_USAGE,
    PVCS,
    REPLICASETS,
    SERVICES,
    TRITON,
)
from nimify_tui.live.screen_first import SCREEN_FIRST
from nimify_tui.live.store import Store
from nimify_tui.triage.checks import ERROR_RATIO_THRESHOLD, LATENCY_THRESHOLD_S, Finding, api_pods
from nimify_tui.triage.diagnosis import Diagnosis, Fix, Scenario
from nimify_tui.triton.poller import ServerState

TRITON_NAMESPACE = "triton-system"
MIN_MEMORY_LIMIT = 2 * 2**30  # the runbook's 2Gi
FATAL_XIDS = frozenset({48, 62, 63, 64, 74, 79, 92, 94, 95})  # XIDs after which the GPU needs a reset or a node drain
TARGET_UTILIZATION = 0.5  # when scaling for load, leave the replicas half busy

_SCALED = re.compile(r"Scaled up replica set (\S+) (?:from (\d+) to (\d+)|to (\d+)(?: from (\d+))?)")
_INSUFFICIENT = re.compile(r"Insufficient ([\w/-]+(?:\.[\w/-]+)*)")  # "cpu", "nvidia.com/gpu"; not the full stop
_VOLUME_FULL = re.compile(r"volume is full: (\d+) of (\d+) bytes used", re.IGNORECASE)
_NO_ENDPOINTS = "no endpoints available"
_UNAVAILABLE_MODEL = re.compile(r"model '([^']+)' is (?:UNAVAILABLE|not ready)")
_IMAGE_PULL = frozenset({"ErrImagePull", "ImagePullBackOff", "InvalidImageName"})
_DATABASES = ("postgres", "mysql", "mariadb")
FULL_VOLUME = 0.95  # a volume this full is full: writes fail soon, if not already


@dataclass(frozen=True)
class _World:
    """What the rules read, gathered once per run."""

    store: Store
    findings: Mapping[str, Finding]
    now: float
    main_namespace: str
    pods: Sequence[PodRecord]
    events: Sequence[EventRecord]
    deployments: Mapping[tuple[str, str], DeploymentRecord]
    replicasets: Mapping[tuple[str, str], ReplicaSetRecord]

    def owner(self, pod: PodRecord) -> DeploymentRecord | None:
        """The deployment whose ReplicaSet owns the pod."""
        if pod.owner_kind != "ReplicaSet":
            return None
        rs = self.replicasets.get((pod.namespace, pod.owner_name))
        if rs is None or rs.owner_kind != "Deployment":
            return None
        return self.deployments.get((pod.namespace, rs.owner_name))

    def replicasets_of(self, deployment: DeploymentRecord) -> list[ReplicaSetRecord]:
        """Its ReplicaSets, newest revision first."""
        owned = [
            rs
            for rs in self.replicasets.values()
            if rs.namespace == deployment.namespace
            and rs.owner_kind == "Deployment"
            and rs.owner_name == deployment.name
        ]
        return sorted(owned, key=lambda rs: rs.revision or 0, reverse=True)

    def events_about(self, namespace: str, kind: str, name: str) -> list[EventRecord]:
        """Its events, newest last."""
        found = [
            e
            for e in self.events
            if e.object_kind == kind and e.object_name == name and e.object_namespace in (namespace, "")
        ]
        return sorted(found, key=lambda e: e.last_seen or 0.0)

    def signatures(self, pods: Sequence[PodRecord]) -> list[SignatureMatch]:
        """The known causes the previous logs of these pods' containers show, first pod first."""
        found: Mapping[tuple[str, str, str], LogSignature] = self.store.value(LOG_SIGNATURES) or {}
        matches: list[SignatureMatch] = []
        for pod in pods:
            for container in pod.containers:
                signature = found.get((pod.namespace, pod.name, container.name))
                if signature is not None:
                    matches.extend(signature.matches)
        return matches

    def failing(self, check: str) -> Finding | None:
        finding = self.findings.get(check)
        return finding if finding is not None and finding.state == "fail" else None


@dataclass(frozen=True)
class _Ranked:
    rank: int  # lower first: causes, then dependencies, then symptoms whose cause is unknown
    diagnosis: Diagnosis


Rule = Callable[[_World], Iterable[_Ranked]]


def diagnose(store: Store, findings: Sequence[Finding], now: float, *, main_namespace: str) -> tuple[Diagnosis, ...]:
    """Every diagnosis the evidence supports, most likely root cause first; () when nothing is wrong."""
    world = _World(
        store=store,
        findings={f.check: f for f in findings},
        now=now,
        main_namespace=main_namespace,
        pods=[p for p in store.items(PODS) if p.deleted_at is None],
        events=store.items(EVENTS),
        deployments={(d.namespace, d.name): d for d in store.items(DEPLOYMENTS)},
        replicasets={(r.namespace, r.name): r for r in store.items(REPLICASETS)},
    )
    ranked: list[_Ranked] = []
    for rule in _RULES:
        SCREEN_FIRST.step_aside()  # the screen answering a key goes first
        ranked.extend(rule(world))
    ranked.extend(_unexplained_symptoms(world, [r.diagnosis for r in ranked]))
    ranked.sort(key=lambda r: r.rank)
    return tuple(r.diagnosis for r in ranked)


# --- helpers ----------------------------------------------------------------------------------------------------
def _obj(namespace: str, kind: str, name: str) -> str:
    return f"{namespace}/{kind}/{name}" if namespace else f"{kind}/{name}"


def _params(**values: str) -> Mapping[str, str]:
    return MappingProxyType({key.replace("_", "."): value for key, value in values.items()})


def _shown(items: Sequence[str], limit: int = 3) -> str:
    return ", ".join(items[:limit]) + (f" (+{len(items) - limit} more)" if len(items) > limit else "")


def _undo(deployment: DeploymentRecord, revision: int | None) -> Fix:
    return Fix(
        "rollout-undo",
        deployment.namespace,
        "deployment",
        deployment.name,
        _params(revision=str(revision)),
        f"kubectl rollout undo deployment/{deployment.name} -n {deployment.namespace} --to-revision={revision}",
    )


def _restart(deployment: DeploymentRecord) -> Fix:
    return Fix(
        "rollout-restart",
        deployment.namespace,
        "deployment",
        deployment.name,
        MappingProxyType({}),
        f"kubectl rollout restart deployment {deployment.name} -n {deployment.namespace}",
    )


def _scale(deployment: DeploymentRecord, replicas: int) -> Fix:
    return Fix(
        "scale",
        deployment.namespace,
        "deployment",
        deployment.name,
        _params(replicas=str(replicas)),
        f"kubectl scale deployment {deployment.name} --replicas={replicas} -n {deployment.namespace}",
    )


def _crash_looping(pod: PodRecord, now: float) -> bool:
    """Restarting containers: CrashLoopBackOff, or a restart in the last minutes with the pod not ready. A Failed
    pod (evicted, or a finished Job) does not restart, and an image that cannot be pulled never ran."""
    if pod.phase in ("Failed", "Succeeded") or pod.status in ("Evicted", "Completed"):
        return False
    if pod.status in ("CrashLoopBackOff", "OOMKilled", "RunContainerError"):
        return True
    recent = pod.last_restart_at is not None and now - pod.last_restart_at < 300
    return recent and pod.ready < pod.total and pod.restarts > 0


def _last_termination(pod: PodRecord) -> tuple[str, str, int | None]:
    """(container, reason, exit code) of the newest termination."""
    found = pod.last_termination()
    if found is None:
        return "", "", None
    container, termination = found
    return container, termination.reason, termination.exit_code


# --- crash loops ------------------------------------------------------------------------------------------------
def _crash_loops(world: _World) -> Iterable[_Ranked]:
    """Crash-looping pods, by deployment: a bad new revision (roll back), OOM (raise the limit), or unknown."""
    by_deployment: dict[tuple[str, str], list[PodRecord]] = {}
    orphans: list[PodRecord] = []
    for pod in world.pods:
        if not _crash_looping(pod, world.now) and not _pulling_fails(pod):
            continue
        deployment = world.owner(pod)
        if deployment is None:
            orphans.append(pod)
        else:
            by_deployment.setdefault((deployment.namespace, deployment.name), []).append(pod)
    for key, pods in sorted(by_deployment.items()):
        yield from _crash_loop_of(world, world.deployments[key], pods)
    by_owner: dict[tuple[str, str, str], list[PodRecord]] = {}
    for pod in orphans:
        by_owner.setdefault((pod.namespace, pod.owner_kind, pod.owner_name or pod.name), []).append(pod)
    for _, owned in sorted(by_owner.items()):
        yield _crash_loop_without_deployment(owned)


def _crash_loop_without_deployment(pods: list[PodRecord]) -> _Ranked:
    """Crash-looping pods that no deployment owns (a StatefulSet, an operator's custom resource, a bare pod): the
    cause when the evidence has it, but no fix, since no key in the TUI changes their owner."""
    first = pods[0]
    container, reason, exit_code = _last_termination(first)
    owner = f"{first.owner_kind}/{first.owner_name}" if first.owner_kind else "no owner"
    evidence = [
        f"{_shown([p.name for p in pods])} restarting, last termination {reason or 'unknown'}"
        + (f" (exit code {exit_code})" if exit_code is not None else ""),
        f"owned by {owner}, not a deployment: change it there",
    ]
    if reason == "OOMKilled":
        spec = next((c for c in first.containers if c.name == container), None)
        limit = spec.memory_limit if spec is not None and spec.memory_limit else "unset"
        cause = f"container {container} of {first.name} is OOMKilled at its memory limit ({limit})"
    else:
        cause = f"{len(pods)} pod(s) crash-loop; the cause is not in the evidence: read the previous logs (p)"
    return _Ranked(
        45 if reason == "OOMKilled" else 60,
        Diagnosis(
            "crash-loop",
            "Scenario 1: Pod Crash Loop",
            first.labels.get("app.kubernetes.io/name") or first.labels.get("app") or first.owner_name or first.name,
            cause,
            tuple(evidence),
            tuple(_obj(p.namespace, "pod", p.name) for p in pods),
            None,
        ),
    )


def _pulling_fails(pod: PodRecord) -> bool:
    return any(c.state_reason in _IMAGE_PULL for c in pod.containers)


def _crash_loop_of(world: _World, deployment: DeploymentRecord, pods: list[PodRecord]) -> Iterable[_Ranked]:
    runbook = "Scenario 1: Pod Crash Loop"
    if all(_pulling_fails(p) for p in pods):
        yield from _image_pull(world, deployment, pods)
        return
    target = _obj(deployment.namespace, "deployment", deployment.name)
    history = world.replicasets_of(deployment)
    newest = history[0] if history else None
    crashing_hashes = {p.owner_name for p in pods}
    serving_older = [
        rs for rs in history[1:] if rs.ready > 0 and rs.name not in crashing_hashes and rs.revision is not None
    ]
    container, reason, exit_code = _last_termination(pods[0])
    exit_text = f"{reason or 'exit'} (exit code {exit_code})" if exit_code is not None else reason or "restarting"
    evidence = [f"{_shown([p.name for p in pods])}: {pods[0].status}, last termination {exit_text}"]
    objects = (target, *(_obj(p.namespace, "pod", p.name) for p in pods))
    if newest is not None and newest.name not in crashing_hashes and deployment.updated < deployment.desired:
        evidence.append(
            f"revision {newest.revision} is rolling out: {deployment.updated}/{deployment.desired} pods updated"
        )
        yield _Ranked(
            50,
            Diagnosis(
                "crash-loop",
                runbook,
                deployment.name,
                f"{deployment.name} crash-loops on an older revision while revision {newest.revision} replaces it: "
                "wait for the rollout",
                tuple(evidence),
                objects,
                None,
            ),
        )
        return
    if newest is not None and newest.name in crashing_hashes and serving_older:
        previous = serving_older[0]
        evidence.append(
            f"revision {newest.revision} ({', '.join(newest.images)}) crash-loops; revision {previous.revision} "
            f"({', '.join(previous.images)}) still serves {previous.ready} pod(s)"
        )
        if newest.change_cause:
            evidence.append(f"change cause: {newest.change_cause}")
        yield _Ranked(
            10,
            Diagnosis(
                "crash-loop",
                runbook + " (rollback)",
                deployment.name,
                f"revision {newest.revision} of {deployment.name} crash-loops while revision {previous.revision} "
                "still serves: roll back",
                tuple(evidence),
                objects,
                _undo(deployment, previous.revision),
            ),
        )
        return
    oom = [p for p in pods if _last_termination(p)[1] == "OOMKilled" or p.status == "OOMKilled"]
    if oom:
        name = _last_termination(oom[0])[0] or container
        spec = next((c for c in oom[0].containers if c.name == name), None)
        limit = quantity_or_none(spec.memory_limit) if spec is not None and spec.memory_limit else None
        current = float(limit) if limit is not None else None
        raised = max(MIN_MEMORY_LIMIT, 2 * current) if current is not None else MIN_MEMORY_LIMIT
        new_limit = _memory_text(raised)
        evidence.append(
            f"container {name} OOMKilled at its memory limit {spec.memory_limit if spec else 'unset'}"
            f" in {len(oom)} pod(s)"
        )
        yield _Ranked(
            10,
            Diagnosis(
                "crash-loop",
                runbook,
                deployment.name,
                f"{deployment.name}'s container {name} needs more memory than its limit "
                f"({spec.memory_limit if spec else 'unset'}): the kernel kills it (OOMKilled)",
                tuple(evidence),
                objects,
                Fix(
                    "set-resources",
                    deployment.namespace,
                    "deployment",
                    deployment.name,
                    MappingProxyType({"container": name, "limits.memory": new_limit}),
                    f"kubectl set resources deployment/{deployment.name} -n {deployment.namespace} "
                    f"-c {name} --limits=memory={new_limit}",
                ),
            ),
        )
        return
    if _disk_full_evidence(world, deployment.namespace):
        return  # the storage rule names the cause: a full volume
    matches = world.signatures(pods)
    kinds = {m.kind for m in matches}
    if "database-unreachable" in kinds and _database_down(world, deployment.namespace):
        return  # the database rule names the cause
    if "config-error" in kinds:
        yield _config_error(world, deployment, pods, next(m for m in matches if m.kind == "config-error"), evidence)
        return
    for match in matches[:2]:
        evidence.append(f"previous log ({match.kind}): {match.line}")
    if matches:
        yield _Ranked(
            40,
            Diagnosis(
                "crash-loop",
                runbook,
                deployment.name,
                f"{deployment.name} crash-loops; its previous log shows {matches[0].kind}"
                + (f" ({matches[0].detail})" if matches[0].detail else ""),
                tuple(evidence),
                objects,
                None,
            ),
        )
        return
    evidence.append("the previous container's logs say why (p on a pod)")
    yield _Ranked(
        50,
        Diagnosis(
            "crash-loop",
            runbook,
            deployment.name,
            f"{deployment.name} crash-loops ({exit_text}); the cause is not in the evidence yet",
            tuple(evidence),
            objects,
            None,
        ),
    )


def _memory_text(value: float) -> str:
    """A memory quantity in whole Gi when it is one, else Mi."""
    gib = value / 2**30
    return f"{math.ceil(gib)}Gi" if gib >= 1 else f"{math.ceil(value / 2**20)}Mi"


# --- resource exhaustion ----------------------------------------------------------------------------------------
def _unschedulable(world: _World) -> dict[str, list[tuple[PodRecord, str]]]:
    """Pending pods by the resource they lack ("cpu", "memory", "nvidia.com/gpu"), with the scheduler's message.
    A taint clause naming nvidia.com/gpu is not a shortage: only ``Insufficient X`` is."""
    latest: dict[tuple[str, str], str] = {}
    for event in sorted(world.events, key=lambda e: e.last_seen or 0.0):
        if event.reason == "FailedScheduling":
            latest[(event.object_namespace, event.object_name)] = event.message
    lacking: dict[str, list[tuple[PodRecord, str]]] = {}
    for pod in world.pods:
        if pod.phase != "Pending" or pod.node:
            continue
        message = latest.get((pod.namespace, pod.name), "")
        for resource in dict.fromkeys(_INSUFFICIENT.findall(message.split("preemption:")[0])):
            lacking.setdefault(resource, []).append((pod, message))
    return lacking


def _scale_ups(world: _World) -> dict[tuple[str, str], tuple[int, int, float]]:
    """The deployments the deployment controller scaled up lately: (from, to, when) of the newest scale-up."""
    found: dict[tuple[str, str], tuple[int, int, float]] = {}
    for event in sorted(world.events, key=lambda e: e.last_seen or 0.0):
        if event.reason != "ScalingReplicaSet" or event.object_kind != "Deployment":
            continue
        match = _SCALED.search(event.message)
        if match is None:
            continue
        before = match.group(2) or match.group(5)
        after = match.group(3) or match.group(4)
        if before is None or after is None:
            continue
        found[(event.object_namespace or event.namespace, event.object_name)] = (
            int(before),
            int(after),
            event.last_seen or 0.0,
        )
    return found


def _resource_exhaustion(world: _World) -> Iterable[_Ranked]:
    """Pods Pending for lack of CPU or memory: the deployment scaled up far past its size that fills the nodes
    (scale it back), or, when no such hog is seen, the shortage with no fix."""
    runbook = "Scenario 2: Resource Exhaustion"
    lacking = _unschedulable(world)
    starved = [(p, m) for resource in ("cpu", "memory") for p, m in lacking.get(resource, [])]
    if not starved:
        return
    hogs = []
    for key, (before, after, when) in _scale_ups(world).items():
        deployment = world.deployments.get(key)
        if deployment is None:
            continue
        running = sum(1 for p in world.pods if p.phase == "Running" and world.owner(p) is deployment)
        if after >= 2 * max(before, 1) and deployment.desired >= after and running:
            hogs.append((after - before, deployment, before, after, when, running))
    pending_names = [p.name for p, _ in starved]
    shortage = sorted({r for r in lacking if r in ("cpu", "memory")})
    evidence = [f"{_shown(pending_names)} Pending: {starved[0][1].split(' preemption:')[0]}"]
    allocation = allocation_by_node(world.store.items(NODES), world.pods)
    for name, node in sorted(allocation.items()):
        for resource in shortage:
            allocated = node.of(resource)
            percent = allocated.percent("requests") if allocated is not None else None
            if allocated is not None and percent is not None and percent >= 90:
                evidence.append(f"{name}: {resource} requests {allocated.text('requests')} of allocatable")
    evicted = [p.name for p in world.pods if p.phase == "Failed" and "low on resource" in p.message]
    if evicted:
        evidence.append(f"evicted for lack of memory: {_shown(evicted)}")
    objects = tuple(_obj(p.namespace, "pod", p.name) for p, _ in starved)
    if hogs:
        hogs.sort(key=lambda h: h[0], reverse=True)
        _, hog, before, after, _when, running = hogs[0]
        replicas = min(before, 1)
        evidence.insert(0, f"deployment {hog.namespace}/{hog.name} was scaled up from {before} to {after}")
        evidence.append(f"{running} of its pods run on the nodes the Pending pods need")
        yield _Ranked(
            10,
            Diagnosis(
                "resource-exhaustion",
                runbook,
                hog.name,
                f"{hog.name}, scaled from {before} to {after} replicas, takes the {'/'.join(shortage)} the other "
                "pods need: scale it back down",
                tuple(evidence),
                (_obj(hog.namespace, "deployment", hog.name), *objects),
                _scale(hog, replicas),
            ),
        )
        return
    yield _Ranked(
        55,
        Diagnosis(
            "resource-exhaustion",
            runbook,
            "node",
            f"the nodes lack {'/'.join(shortage)} for {len(starved)} pod(s); no deployment was seen scaling up: "
            "free capacity or add nodes",
            tuple(evidence),
            objects,
            None,
        ),
    )


# --- storage ----------------------------------------------------------------------------------------------------
def _disk_full_evidence(world: _World, namespace: str) -> list[tuple[str, str]]:
    """(claim, evidence line) for each claim of ``namespace`` full by the kubelet's measure, or reported full by an
    event and not grown since."""
    found = []
    usage = world.store.value(PVC_USAGE) or {}
    for (claim_namespace, claim), used in sorted(usage.items()):
        if (
            claim_namespace == namespace
            and used.capacity_bytes
            and used.used_bytes / used.capacity_bytes >= FULL_VOLUME
        ):
            share = used.used_bytes / used.capacity_bytes
            found.append(
                (claim, f"kubelet on {used.node}: {used.used_bytes} of {used.capacity_bytes} bytes used ({share:.0%})")
            )
    measured = {claim for (claim_namespace, claim) in usage if claim_namespace == namespace}
    for pvc in world.store.items(PVCS):
        if pvc.namespace != namespace or pvc.name in measured:
            continue
        capacity = quantity_or_none(pvc.capacity)
        for event in reversed(world.events_about(pvc.namespace, "PersistentVolumeClaim", pvc.name)):
            match = _VOLUME_FULL.search(event.message)
            if match is None:
                continue
            total = int(match.group(2))
            if capacity is not None and float(capacity) > total:
                break  # expanded since: an old warning
            found.append((pvc.name, f"{event.reason}: {event.message.strip()}"))
            break
    return found


def _resize_pending(namespace: str, claim: str, requested: str, capacity: str, line: str) -> _Ranked:
    """The claim was already expanded: asking again would only grow it twice; the resize has to finish (the
    filesystem grows when a pod mounts it again)."""
    return _Ranked(
        30,
        Diagnosis(
            "storage",
            "Scenario 3: Storage Issues",
            "storage",
            f"the volume of claim {claim} is full and its expansion to {requested} is under way: wait for it "
            "(a pod restart finishes a filesystem resize)",
            (line, f"requested {requested}, capacity {capacity}"),
            (_obj(namespace, "persistentvolumeclaim", claim),),
            None,
        ),
    )


def _storage(world: _World) -> Iterable[_Ranked]:
    """A volume that is full (expand it, doubled), a claim not bound, a resize waiting for a pod restart."""
    runbook = "Scenario 3: Storage Issues"
    claims = {(p.namespace, p.name): p for p in world.store.items(PVCS)}
    namespaces = sorted({ns for ns, _ in claims})
    for namespace in namespaces:
        for claim_name, line in _disk_full_evidence(world, namespace):
            pvc = claims[(namespace, claim_name)]
            requested, actual = quantity_or_none(pvc.requested), quantity_or_none(pvc.capacity)
            if requested is not None and actual is not None and requested.value > actual.value:
                yield _resize_pending(namespace, claim_name, pvc.requested, pvc.capacity, line)
                continue
            capacity = actual or requested
            doubled = (
                format_quantity(Quantity(capacity.value * 2, capacity.format)) if capacity is not None else "200Gi"
            )
            crashing = [p.name for p in world.pods if p.namespace == namespace and _crash_looping(p, world.now)]
            evidence = [line]
            if crashing:
                evidence.append(f"pods of {namespace} crash-loop meanwhile: {_shown(crashing)}")
            yield _Ranked(
                5,
                Diagnosis(
                    "storage",
                    runbook,
                    "storage",
                    f"the volume of claim {claim_name} is full ({pvc.capacity}): expand it",
                    tuple(evidence),
                    (
                        _obj(namespace, "persistentvolumeclaim", claim_name),
                        *(_obj(namespace, "pod", n) for n in crashing),
                    ),
                    Fix(
                        "expand-pvc",
                        namespace,
                        "persistentvolumeclaim",
                        claim_name,
                        _params(storage=doubled),
                        f"kubectl patch pvc {claim_name} -n {namespace} -p "
                        f'\'{{"spec":{{"resources":{{"requests":{{"storage":"{doubled}"}}}}}}}}\'',
                    ),
                ),
            )
    unbound = [p for p in claims.values() if p.phase not in ("Bound", "") and p.deleted_at is None]
    if unbound:
        yield _Ranked(
            40,
            Diagnosis(
                "storage",
                runbook,
                "storage",
                f"claim {unbound[0].name} is {unbound[0].phase}: its pods cannot start until it binds",
                tuple(f"{p.namespace}/{p.name} {p.phase} (class {p.storage_class or 'default'})" for p in unbound),
                tuple(_obj(p.namespace, "persistentvolumeclaim", p.name) for p in unbound),
                None,
            ),
        )


# --- network ----------------------------------------------------------------------------------------------------
def _is_ingress_controller(pod: PodRecord) -> bool:
    names = (pod.labels.get("app.kubernetes.io/name", ""), pod.labels.get("app", ""), pod.namespace)
    return any("ingress" in name for name in names) and pod.labels.get("app.kubernetes.io/component", "controller") in (
        "controller",
        "",
    )


def _network(world: _World) -> Iterable[_Ranked]:
    """The ingress controller not ready (restart it), or a service of the main namespace selecting no ready pod while
    its app's pods are ready (a selector mismatch: no fix in the TUI but the rollback of the change)."""
    runbook = "Scenario 4: Network/Ingress Issues"
    controllers = [p for p in world.pods if _is_ingress_controller(p) and p.phase != "Succeeded"]
    broken = [p for p in controllers if pod_fault(p, world.now) is not None]
    no_address = [i for i in world.store.items(INGRESSES) if not i.addresses]
    if broken:
        deployment = world.owner(broken[0])
        evidence = [f"{p.namespace}/{p.name}: {pod_fault(p, world.now)}" for p in broken[:3]]
        for pod in broken[:1]:
            for event in world.events_about(pod.namespace, "Pod", pod.name)[-2:]:
                if event.type == "Warning":
                    evidence.append(f"{event.reason}: {event.message.strip()}")
        evidence.extend(f"ingress {i.namespace}/{i.name} has no address" for i in no_address)
        fix = None
        if deployment is not None:
            fix = _restart(deployment)
        yield _Ranked(
            15,
            Diagnosis(
                "network",
                runbook,
                "ingress",
                "the ingress controller is not ready, so no traffic reaches nimify-api from outside: restart it",
                tuple(evidence),
                tuple(_obj(p.namespace, "pod", p.name) for p in broken)
                + tuple(_obj(i.namespace, "ingress", i.name) for i in no_address),
                fix,
            ),
        )


# --- dependencies: Triton, its models, its GPUs -----------------------------------------------------------------
def _triton(world: _World) -> Iterable[_Ranked]:
    """A model Triton cannot load (load it again once the cause is gone), or Triton not ready at all."""
    runbook = "Scenario 5: Dependency Failures"
    view = world.store.value(TRITON)
    if view is None:
        return
    # UNAVAILABLE with the reason "unloaded" is a model someone unloaded on purpose, not a failure
    failed = [m for m in view.models if m.state == "UNAVAILABLE" and m.reason.strip().lower() != "unloaded"]
    if failed:
        model = failed[0]
        evidence = [f"model {model.name} version {model.version or '-'}: {model.state}: {model.reason}"]
        if view.ready is False:
            evidence.append("Triton reports not ready on " + ", ".join(s.name for s in view.servers if not s.ready))
        ready_finding = world.failing("api-ready")
        if ready_finding is not None:
            evidence.append(ready_finding.evidence)
        yield _Ranked(
            20,
            Diagnosis(
                "dependency",
                runbook,
                "triton",
                f"Triton could not load model {model.name}, so nimify-api cannot serve: load it again "
                "(after freeing what made it fail)",
                tuple(evidence),
                (_obj(TRITON_NAMESPACE, "model", model.name),),
                Fix("load-model", TRITON_NAMESPACE, "model", model.name, MappingProxyType({}), None),
            ),
        )
        return
    if view.ready is False and any(s.live for s in view.servers):
        yield _triton_not_ready(world, view.servers)
        return
    servers_down = [s for s in view.servers if s.live is False or s.error]
    if servers_down and len(servers_down) == len(view.servers):
        deployment = _triton_deployment(world)
        fix = _restart(deployment) if deployment is not None else None
        yield _Ranked(
            25,
            Diagnosis(
                "dependency",
                runbook,
                "triton",
                "no Triton server answers: restart them",
                tuple(f"{s.name}: {s.error or 'not live'}" for s in servers_down[:3]),
                tuple(_obj(TRITON_NAMESPACE, "pod", s.name) for s in servers_down),
                fix,
            ),
        )


def _triton_deployment(world: _World) -> DeploymentRecord | None:
    return next((d for d in world.deployments.values() if d.namespace == TRITON_NAMESPACE and "triton" in d.name), None)


def _triton_not_ready(world: _World, servers: Sequence[ServerState]) -> _Ranked:
    """Triton live but not ready with no model listed as failed (its repository index may not be asked for, in a
    read-only session): the model comes from nimify-api's /ready answer when it names one; else restart Triton."""
    runbook = "Scenario 5: Dependency Failures"
    evidence = ["Triton is live but not ready on " + ", ".join(s.name for s in servers if not s.ready)]
    ready = world.failing("api-ready")
    named = _UNAVAILABLE_MODEL.search(ready.evidence) if ready is not None else None
    if ready is not None:
        evidence.append(ready.evidence)
    if named is not None:
        model = named.group(1)
        return _Ranked(
            20,
            Diagnosis(
                "dependency",
                runbook,
                "triton",
                f"Triton could not load model {model}, so nimify-api cannot serve: load it again "
                "(after freeing what made it fail)",
                tuple(evidence),
                (_obj(TRITON_NAMESPACE, "model", model),),
                Fix("load-model", TRITON_NAMESPACE, "model", model, MappingProxyType({}), None),
            ),
        )
    deployment = _triton_deployment(world)
    fix = None
    if deployment is not None:
        fix = _restart(deployment)
    return _Ranked(
        25,
        Diagnosis(
            "dependency",
            runbook,
            "triton",
            "Triton is not ready and no failed model is named: restart it (the runbook's first fix)",
            tuple(evidence),
            tuple(_obj(TRITON_NAMESPACE, "pod", s.name) for s in servers),
            fix,
        ),
    )


def _gpu_requests(pod: PodRecord) -> int:
    return sum(int(c.gpu_limit or c.gpu_request or 0) for c in pod.containers if not c.init)


def _gpus(world: _World) -> Iterable[_Ranked]:
    """A GPU lost to a fatal XID: the node's allocatable GPUs drop and a GPU pod cannot be placed. Scale the GPU
    deployment to what fits (the fix the TUI can apply), or cordon and drain the node for the GPU to be replaced."""
    view = world.store.value(GPUS)
    if view is None:
        return
    lost = [g for node in view.nodes for g in node.gpus if g.last_xid in FATAL_XIDS]
    if not lost:
        return
    gpu = lost[0]
    evidence = [
        f"{gpu.node} GPU {gpu.index if gpu.index is not None else '?'} ({gpu.uuid}) reported XID {gpu.last_xid}"
    ]
    nodes = {n.name: n for n in world.store.items(NODES)}
    node = nodes.get(gpu.node)
    if node is not None and node.gpu_allocatable < node.gpu_capacity:
        evidence.append(f"{gpu.node}: nvidia.com/gpu allocatable {node.gpu_allocatable} of {node.gpu_capacity}")
    pending = _unschedulable(world).get("nvidia.com/gpu", [])
    fix: Fix | None = Fix("cordon", "", "node", gpu.node, MappingProxyType({}), f"kubectl cordon {gpu.node}")
    objects: list[str] = [_obj("", "node", gpu.node)]
    if pending:
        pod = pending[0][0]
        deployment = world.owner(pod)
        evidence.append(f"{pod.namespace}/{pod.name} Pending: {pending[0][1].split(' preemption:')[0]}")
        objects.append(_obj(pod.namespace, "pod", pod.name))
        per_pod = _gpu_requests(pod)
        if deployment is not None and per_pod > 0:
            allocatable = sum(n.gpu_allocatable for n in nodes.values())
            others = sum(
                _gpu_requests(p)
                for p in world.pods
                if p.node and p.phase in ("Running", "Pending") and world.owner(p) is not deployment
            )
            fits = max(0, (allocatable - others) // per_pod)
            if 0 < fits < deployment.desired:
                evidence.append(
                    f"{allocatable} GPUs allocatable, {others} used by other pods: {fits} replicas of "
                    f"{deployment.name} fit ({per_pod} GPU each)"
                )
                fix = _scale(deployment, fits)
                objects.insert(0, _obj(deployment.namespace, "deployment", deployment.name))
    yield _Ranked(
        12,
        Diagnosis(
            "infrastructure",
            "Scenario 5: Dependency Failures (GPU resources)",
            "gpu",
            f"a GPU on {gpu.node} failed (XID {gpu.last_xid}) and is gone from the node: "
            + ("run on the GPUs left, then drain the node" if fix and fix.action == "scale" else "drain the node"),
            tuple(evidence),
            tuple(objects),
            fix,
        ),
    )


# --- latency and errors -----------------------------------------------------------------------------------------
def _latency(world: _World) -> Iterable[_Ranked]:
    """p95 over the runbook's 0.5 s with Triton's queue time dominating: scale Triton for the load measured."""
    history = world.store.value(LATENCY)
    point = history.latest() if history is not None else None
    if point is None or point.api_p95_s is None or point.api_p95_s <= LATENCY_THRESHOLD_S:
        return
    evidence = [f"nimify-api p95 {point.api_p95_s * 1000:.0f} ms (alert at {LATENCY_THRESHOLD_S * 1000:.0f} ms)"]
    if point.api_error_ratio:
        evidence.append(f"5xx {point.api_error_ratio:.1%} of {point.api_rps or 0:.0f} req/s")
    queue, compute = point.queue_ms, point.compute_ms
    if queue is None or compute is None or queue <= compute:
        yield _Ranked(
            35,
            Diagnosis(
                "latency",
                "Monitoring: NimifyHighLatency",
                "nimify-api",
                "nimify-api is slow but Triton's queue is not the reason; the cause is not in the evidence",
                tuple(evidence),
                (),
                None,
            ),
        )
        return
    evidence.append(f"Triton queue {queue:.0f} ms vs compute {compute:.0f} ms per request: requests wait")
    deployment = _triton_deployment(world)
    fix = None
    view = world.store.value(TRITON)
    served = sum(m.interval.request_rate for m in view.models if m.interval) if view is not None else 0.0
    if deployment is not None and deployment.desired > deployment.ready:
        evidence.append(f"{deployment.name} is scaling: {deployment.ready}/{deployment.desired} ready; wait for them")
    elif deployment is not None and deployment.ready > 0 and served > 0:
        offered = max(point.api_rps or 0.0, served)
        per_replica = served / deployment.ready
        replicas = max(deployment.desired + 1, math.ceil(offered / (per_replica * TARGET_UTILIZATION)))
        evidence.append(
            f"{deployment.ready} replicas serve {served:.0f} req/s ({per_replica:.0f} each); {offered:.0f} req/s "
            f"offered: {replicas} replicas keep them half busy"
        )
        fix = _scale(deployment, replicas)
    yield _Ranked(
        30,
        Diagnosis(
            "latency",
            "Monitoring: NimifyHighLatency",
            "triton",
            "Triton is saturated: requests queue longer than they compute; scale it up if GPUs are free",
            tuple(evidence),
            (_obj(deployment.namespace, "deployment", deployment.name),) if deployment is not None else (),
            fix,
        ),
    )


def _error_rate(world: _World, found: Sequence[Diagnosis]) -> Iterable[_Ranked]:
    """5xx over the runbook's 1 % with no cause found by the other rules."""
    history = world.store.value(LATENCY)
    point = history.latest() if history is not None else None
    if point is None or point.api_error_ratio is None or point.api_error_ratio <= ERROR_RATIO_THRESHOLD or found:
        return
    yield _Ranked(
        80,
        Diagnosis(
            "error-rate",
            "Monitoring: NimifyHighErrorRate",
            "nimify-api",
            f"nimify-api answers {point.api_error_ratio:.1%} of requests with 5xx; the cause is not in the evidence",
            (f"5xx {point.api_error_ratio:.1%} of {point.api_rps or 0:.0f} req/s",),
            (),
            None,
        ),
    )


# --- what is left: symptoms with no cause found ------------------------------------------------------------------
def _unexplained_symptoms(world: _World, found: Sequence[Diagnosis]) -> Iterable[_Ranked]:
    """A failing probe or an empty service with no diagnosis to explain it: say so, offer nothing."""
    yield from _error_rate(world, found)
    if found:
        return
    for check in ("api-health", "api-ready", "endpoints", "pods-pending"):
        finding = world.failing(check)
        if finding is None:
            continue
        no_endpoints = _NO_ENDPOINTS in finding.evidence or check == "endpoints"
        scenario: Scenario = (
            "resource-exhaustion" if check == "pods-pending" else "network" if no_endpoints else "dependency"
        )
        yield _Ranked(
            90,
            Diagnosis(
                scenario,
                finding.runbook,
                "nimify-api",
                ("no nimify-api pod is ready behind its service" if no_endpoints else f"{finding.title} fails")
                + "; the cause is not in the evidence yet",
                (finding.evidence,),
                finding.objects,
                None,
            ),
        )
        return


def _image_pull(world: _World, deployment: DeploymentRecord, pods: list[PodRecord]) -> Iterable[_Ranked]:
    """New pods whose image cannot be pulled: roll back when an older revision still serves, else say why."""
    history = world.replicasets_of(deployment)
    failing = {p.owner_name for p in pods}
    serving = [rs for rs in history[1:] if rs.ready > 0 and rs.name not in failing and rs.revision is not None]
    reasons = sorted({c.state_reason for p in pods for c in p.containers if c.state_reason in _IMAGE_PULL})
    evidence = [f"{_shown([p.name for p in pods])}: {', '.join(reasons)}"]
    failed = [e for e in world.events_about(pods[0].namespace, "Pod", pods[0].name) if e.reason == "Failed"]
    pulls = [e for e in failed if e.message.startswith("Failed to pull image")] or failed
    if pulls:
        evidence.append(f"{pulls[-1].reason}: {pulls[-1].message.strip()}")
    target = _obj(deployment.namespace, "deployment", deployment.name)
    objects = (target, *(_obj(p.namespace, "pod", p.name) for p in pods))
    newest = history[0] if history else None
    if newest is not None and newest.name in failing and serving:
        previous = serving[0]
        evidence.append(
            f"revision {newest.revision} ({', '.join(newest.images)}) cannot be pulled; revision {previous.revision} "
            f"({', '.join(previous.images)}) still serves {previous.ready} pod(s)"
        )
        yield _Ranked(
            10,
            Diagnosis(
                "crash-loop",
                "Scenario 1: Pod Crash Loop (rollback)",
                deployment.name,
                f"revision {newest.revision} of {deployment.name} names an image that cannot be pulled: roll back",
                tuple(evidence),
                objects,
                _undo(deployment, previous.revision),
            ),
        )
        return
    yield _Ranked(
        40,
        Diagnosis(
            "crash-loop",
            "Scenario 1: Pod Crash Loop",
            deployment.name,
            f"{deployment.name}'s image cannot be pulled, and no older revision serves to roll back to",
            tuple(evidence),
            objects,
            None,
        ),
    )


def _config_error(
    world: _World, deployment: DeploymentRecord, pods: list[PodRecord], match: SignatureMatch, evidence: list[str]
) -> _Ranked:
    """The app exits on its configuration: edit nimify-api's ConfigMap (the runbook's nimify-config) and restart.
    A key the app does not know is taken out (the rest of the file as written) and the deployment restarted, in
    one guarded step; a missing key or a wrong value is left to the person, with the key named."""
    evidence.append(f"previous log: {match.line}")
    namespace = deployment.namespace
    fix = None
    restart = f"kubectl rollout restart deployment/{deployment.name} -n {namespace}"
    if deployment.name == "nimify-api":
        if match.unknown_key:
            parameters = {"remove-key": match.detail, "restart": deployment.name}
        else:
            parameters = {"key": match.detail} if match.detail else {}
        fix = Fix(
            "edit-config",
            namespace,
            "configmap",
            "nimify-config",
            MappingProxyType(parameters),
            f"kubectl edit configmap nimify-config -n {namespace} && {restart}",
        )
    if match.unknown_key:
        cause = f"{deployment.name} exits at start on a key its configuration does not know ({match.detail})"
        cause += ": take the key out, then restart it"
    else:
        cause = f"{deployment.name} exits at start on its configuration"
        cause += (f" (key {match.detail})" if match.detail else "") + ": fix the config, then restart it"
    return _Ranked(
        10,
        Diagnosis(
            "crash-loop",
            "Scenario 1: Pod Crash Loop",
            deployment.name,
            cause,
            tuple(evidence),
            (_obj(namespace, "deployment", deployment.name), *(_obj(p.namespace, "pod", p.name) for p in pods)),
            fix,
        ),
    )


# --- the database -------------------------------------------------------------------------------------------------
def _database_deployments(world: _World, namespace: str) -> list[DeploymentRecord]:
    return [
        d for d in world.deployments.values() if d.namespace == namespace and any(name in d.name for name in _DATABASES)
    ]


def _database_down(world: _World, namespace: str) -> list[DeploymentRecord]:
    return [d for d in _database_deployments(world, namespace) if d.desired == 0 or d.available == 0]


def _scaled_down_from(world: _World, deployment: DeploymentRecord) -> int | None:
    for event in reversed(world.events_about(deployment.namespace, "Deployment", deployment.name)):
        match = re.search(r"Scaled down replica set \S+ (?:from (\d+) to 0|to 0 from (\d+))", event.message)
        if match:
            return int(match.group(1) or match.group(2))
    return None


def _database(world: _World) -> Iterable[_Ranked]:
    """The database of the main namespace down while nimify-api is not ready (or its logs cannot reach it)."""
    namespace = world.main_namespace
    down = _database_down(world, namespace)
    api_not_ready = world.failing("api-ready") is not None or world.failing("api-health") is not None
    if not down or not api_not_ready:
        return
    database = down[0]
    evidence = [f"deployment {namespace}/{database.name}: {database.available}/{database.desired} available"]
    ready = world.failing("api-ready") or world.failing("api-health")
    if ready is not None:
        evidence.append(ready.evidence)
    api = api_pods(world.store, namespace)
    for match in world.signatures(api)[:1]:
        evidence.append(f"nimify-api log: {match.line}")
    fix: Fix | None
    if database.desired == 0:
        replicas = _scaled_down_from(world, database) or 1
        evidence.append(f"it was scaled to 0 (from {replicas})")
        fix = _scale(database, replicas)
    else:
        fix = _restart(database)
    yield _Ranked(
        8,
        Diagnosis(
            "dependency",
            "Scenario 5: Dependency Failures (database)",
            "database",
            f"the database {database.name} is down, so nimify-api cannot serve: bring it back",
            tuple(evidence),
            (_obj(namespace, "deployment", database.name),),
            fix,
        ),
    )


# --- services, policies, nodes -------------------------------------------------------------------------------------
def _service_selector(world: _World) -> Iterable[_Ranked]:
    """The service selects none of its app's ready pods: a deploy changed their labels; roll it back when an older
    revision's pods carried the labels the service wants."""
    finding = world.failing("service-selectors")
    if finding is None:
        return
    namespace = world.main_namespace
    services = {s.name: s for s in world.store.items(SERVICES) if s.namespace == namespace}
    name = finding.objects[0].rsplit("/", 1)[1] if finding.objects else ""
    service = services.get(name)
    fix = None
    deployment = world.deployments.get((namespace, name))
    if service is not None and deployment is not None:
        wanted = {"matchLabels": service.selector}
        history = world.replicasets_of(deployment)
        older = [rs for rs in history[1:] if rs.revision is not None and selects(wanted, rs.labels)]
        if history and not selects(wanted, history[0].labels) and older:
            fix = _undo(deployment, older[0].revision)
    yield _Ranked(
        12,
        Diagnosis(
            "network",
            "Scenario 4: Network/Ingress Issues",
            name or "service",
            f"service {name} selects none of its pods (their labels changed), so it has no endpoints"
            + (": roll the deploy back" if fix is not None else ""),
            (finding.evidence,),
            finding.objects,
            fix,
        ),
    )


def _from_finding(
    world: _World,
    check: str,
    rank: int,
    scenario: Scenario,
    runbook: str,
    component: str,
    cause: Callable[[str], str],
    fix: Callable[[str, str], Fix | None] = lambda namespace, name: None,
) -> Iterable[_Ranked]:
    """A diagnosis that one failing check proves by itself; ``cause`` gets the name of the check's first object,
    ``fix`` its namespace and name."""
    finding = world.failing(check)
    if finding is None:
        return
    parts = finding.objects[0].split("/") if finding.objects else [""]
    namespace, name = (
        (parts[0], parts[-1]) if len(parts) == 3 else ("", parts[-1])
    )  # "<ns>/<kind>/<name>", "node/<name>"
    diagnosis = Diagnosis(
        scenario, runbook, component, cause(name), (finding.evidence,), finding.objects, fix(namespace, name)
    )
    yield _Ranked(rank, diagnosis)


def _network_policy(world: _World) -> Iterable[_Ranked]:
    return _from_finding(
        world,
        "network-policies",
        14,
        "network",
        "Check Network and Ingress",
        "nimify-api",
        lambda name: (
            f"network policy {name} lets no traffic reach nimify-api: fix or remove it (no key does that here)"
        ),
    )


def _tls(world: _World) -> Iterable[_Ranked]:
    return _from_finding(
        world,
        "tls",
        14,
        "network",
        "Scenario 4: Network/Ingress Issues (TLS)",
        "ingress",
        lambda name: (
            f"the ingress serves an expired certificate (secret {name}), so clients refuse to connect: "
            "put the renewed certificate in its secret"
        ),
        lambda namespace, name: Fix(
            "replace-tls",
            namespace,
            "secret",
            name,
            MappingProxyType({}),
            f"kubectl create secret tls {name} -n {namespace} --cert=tls.crt --key=tls.key --dry-run=client -o yaml"
            " | kubectl apply -f -",
        ),
    )


def _node_ready(node: NodeRecord) -> str | None:
    for condition in node.conditions:
        if condition.type == "Ready":
            return condition.status
    return None


def _nodes(world: _World) -> Iterable[_Ranked]:
    """A node that stopped reporting (Ready Unknown) or is NotReady: its pods go with it; cordon and drain it."""
    for node in sorted(world.store.items(NODES), key=lambda n: n.name):
        status = _node_ready(node)
        if status not in ("Unknown", "False"):
            continue
        ready = next(c for c in node.conditions if c.type == "Ready")
        on_it = [p for p in world.pods if p.node == node.name and p.phase == "Running"]
        evidence = [f"node {node.name} Ready={status}: {ready.reason} {ready.message}".strip()]
        if node.taints:
            evidence.append("taints: " + ", ".join(node.taints))
        if on_it:
            evidence.append(f"pods on it: {_shown([f'{p.namespace}/{p.name}' for p in on_it])}")
        yield _Ranked(
            12,
            Diagnosis(
                "infrastructure",
                "Check Infrastructure",
                "node",
                f"node {node.name} "
                + ("stopped reporting" if status == "Unknown" else "is NotReady")
                + (
                    ": cordoned; drain it or bring its kubelet back (no key does that here)"
                    if node.unschedulable
                    else ": its pods are lost or stuck; cordon it, then drain it"
                ),
                tuple(evidence),
                (_obj("", "node", node.name), *(_obj(p.namespace, "pod", p.name) for p in on_it)),
                None
                if node.unschedulable
                else Fix("cordon", "", "node", node.name, MappingProxyType({}), f"kubectl cordon {node.name}"),
            ),
        )


_RULES: tuple[Rule, ...] = (
    _storage,
    _resource_exhaustion,
    _database,
    _crash_loops,
    _service_selector,
    _network_policy,
    _tls,
    _network,
    _nodes,
    _triton,
    _gpus,
    _latency,
)
