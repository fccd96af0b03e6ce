"""The runbook's checks, run continuously over the store: each one pass, fail or unknown, with its evidence.

A check reads only the store (no I/O); the triage source (``source.py``) runs them all off the UI thread whenever the
store changes. The runbook section a check comes from and the fix it suggests travel with each finding, so the
screen can say "Scenario 1: Pod Crash Loop -> patch memory limit".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Literal

from nimify_tui.kube.faults import is_faulty, pod_fault
from nimify_tui.kube.records import DeploymentRecord, EventRecord, NodeRecord, PodRecord, selects
from nimify_tui.live.keys import (
    ALERT_STATES,
    DEPLOYMENTS,
    DISRUPTION_BUDGETS,
    ENDPOINTS,
    EVENTS,
    GPUS,
    INGRESSES,
    LATENCY,
    NETWORK_POLICIES,
    NODES,
    PODS,
    PROBES,
    PVCS,
    QUOTAS,
    SERVICES,
    TLS_CERTIFICATES,
    TRITON,
)
from nimify_tui.live.screen_first import SCREEN_FIRST
from nimify_tui.live.store import Store
from nimify_tui.render.alerts import SOURCE_WORDS, alert_line
from nimify_tui.render.kubectl import pvc_resize
from nimify_tui.triage.in_pod import last_run

State = Literal["pass", "warn", "fail", "unknown"]  # warn: a prevention gap, never an outage
DEFAULT_MAIN_NAMESPACE = "nimify-system"  # where nimify-api runs unless -n says otherwise
API_NAME = "nimify-api"
LATENCY_THRESHOLD_S = 0.5  # the runbook's NimifyHighLatency alert
STEP_FRESH_S = 120.0  # an in-pod step's answer (psql, df) counts this long; then it is asked again (D, B)
ERROR_RATIO_THRESHOLD = 0.01  # the runbook's NimifyHighErrorRate alert


@dataclass(frozen=True, slots=True)
class Finding:
    check: str  # stable id: "pods-crashloop"
    title: str  # what the operator reads: "Pods crash-looping"
    state: State
    evidence: str  # one line: which objects, which numbers
    runbook: str  # the runbook section: "Scenario 1: Pod Crash Loop"
    fix: str = ""  # the suggested fix, in words ("raise the memory limit (p on the deployment)")
    objects: tuple[str, ...] = ()  # "nimify-system/pod/nimify-api-7c9d-abcde", for drill-down


def _names(items: Iterable[str], limit: int = 3) -> str:
    listed = list(items)
    shown = ", ".join(listed[:limit])
    return shown + (f" (+{len(listed) - limit} more)" if len(listed) > limit else "")


def _probe(store: Store, name: str) -> Any:
    for result in store.value(PROBES) or ():
        if result.name == name:
            return result
    return None


def check_probe(store: Store, probe_name: str, check: str, title: str, runbook: str, fix: str) -> Finding:
    result = _probe(store, probe_name)
    if result is None:
        return Finding(check, title, "unknown", "not checked yet", runbook)
    if result.ok:
        return Finding(
            check, title, "pass", f"{probe_name}: HTTP {result.status} in {result.latency_ms:.0f} ms", runbook
        )
    error = result.error or f"HTTP {result.status}"
    if "no endpoints available" in error:
        fix = "no nimify-api pod is ready behind its service: see the pods pane and the diagnosis"
    return Finding(check, title, "fail", f"{probe_name}: {error}", runbook, fix)


def check_crashloop(pods: Sequence[PodRecord], now: float) -> Finding:
    runbook = "Scenario 1: Pod Crash Loop"
    # a Failed pod (evicted, a finished Job) never restarts: it is the trace of something else, not a crash loop
    alive = [p for p in pods if p.phase not in ("Failed", "Succeeded") and p.deleted_at is None]
    crashing = [p for p in alive if p.status in ("CrashLoopBackOff", "OOMKilled", "Error") or _recent_crash(p, now)]
    if not crashing:
        return Finding("pods-crashloop", "Pods crash-looping", "pass", "no pod is restarting", runbook)
    oom = [p for p in crashing if _last_reason(p) == "OOMKilled" or p.status == "OOMKilled"]
    evidence = _names(f"{p.name} {p.status} restarts={p.restarts}" for p in crashing)
    if oom:
        fix = "memory limit too low (OOMKilled): raise it on the deployment (m), or roll back (u)"
    else:
        fix = "read the previous container's logs (p); if a new revision broke it, roll back (u)"
    return Finding(
        "pods-crashloop",
        "Pods crash-looping",
        "fail",
        evidence,
        runbook,
        fix,
        tuple(f"{p.namespace}/pod/{p.name}" for p in crashing),
    )


def _last_reason(pod: PodRecord) -> str:
    found = pod.last_termination()
    return found[1].reason if found else ""


def _recent_crash(pod: PodRecord, now: float) -> bool:
    return pod.last_restart_at is not None and now - pod.last_restart_at < 120 and pod.ready < pod.total


def check_pending(pods: Sequence[PodRecord], events: Sequence[EventRecord]) -> Finding:
    runbook = "Scenario 2: Resource Exhaustion"
    pending = [p for p in pods if p.phase == "Pending" and p.deleted_at is None and p.status == "Pending"]
    if not pending:
        return Finding("pods-pending", "Pods cannot be scheduled", "pass", "no pod is Pending", runbook)
    why = {
        (e.object_namespace, e.object_name): e.message
        for e in sorted(events, key=lambda e: e.last_seen or 0)
        if e.reason == "FailedScheduling"
    }
    first = pending[0]
    message = why.get((first.namespace, first.name), "no FailedScheduling event yet")
    # "had untolerated taint {nvidia.com/gpu: present}" names the GPU taint, not a GPU shortage
    gpu = "Insufficient nvidia.com/gpu" in message
    fix = (
        "not enough GPUs: check the nodes' GPUs (XID errors) and free or add GPU capacity"
        if gpu
        else "not enough CPU/memory: scale down non-critical deployments (s on nimify-worker)"
    )
    return Finding(
        "pods-pending",
        "Pods cannot be scheduled",
        "fail",
        f"{_names(p.name for p in pending)} Pending: {message}",
        "Check GPU resources (Scenario 5)" if gpu else runbook,
        fix,
        tuple(f"{p.namespace}/pod/{p.name}" for p in pending),
    )


def check_deployments(deployments: Sequence[DeploymentRecord]) -> Finding:
    """Fewer replicas available than desired, or a rollout that gave up (ProgressDeadlineExceeded). A rollout still
    in progress with every replica available is normal life, not a failure: it is named in the evidence."""
    runbook = "Check recent deployments"
    short = [d for d in deployments if d.desired > 0 and (d.available < d.desired or _rollout_stuck(d))]
    rolling = [d for d in deployments if d.desired > 0 and d.updated < d.desired and d not in short]
    if not short:
        evidence = "all deployments fully available"
        if rolling:
            evidence += "; rolling out: " + _names(
                f"{d.namespace}/{d.name} {d.updated}/{d.desired} updated" for d in rolling
            )
        return Finding("deployments", "Deployments available", "pass", evidence, runbook)
    evidence = _names(
        f"{d.namespace}/{d.name} {d.available}/{d.desired} available"
        + (f" ({d.updated}/{d.desired} updated)" if d.updated < d.desired else "")
        + (" (rollout past its progress deadline)" if _rollout_stuck(d) else "")
        for d in short
    )
    return Finding(
        "deployments",
        "Deployments available",
        "fail",
        evidence,
        runbook,
        "open the deployment (enter) for its rollout history; roll back a bad revision (u)",
        tuple(f"{d.namespace}/deployment/{d.name}" for d in short),
    )


def _rollout_stuck(deployment: DeploymentRecord) -> bool:
    return any(
        c.type == "Progressing" and c.status == "False" and c.reason == "ProgressDeadlineExceeded"
        for c in deployment.conditions
    )


def check_nodes(nodes: Sequence[NodeRecord]) -> Finding:
    runbook = "Check Infrastructure"
    bad: list[str] = []
    for node in nodes:
        for condition in node.conditions:
            if condition.type == "Ready" and condition.status != "True":
                bad.append(f"{node.name} NotReady")
            elif condition.type in ("MemoryPressure", "DiskPressure", "PIDPressure") and condition.status == "True":
                bad.append(f"{node.name} {condition.type}")
        if node.gpu_capacity and node.gpu_allocatable < node.gpu_capacity:
            bad.append(f"{node.name} GPUs {node.gpu_allocatable}/{node.gpu_capacity} allocatable")
    if not nodes:
        return Finding("nodes", "Nodes healthy", "unknown", "no node seen yet", runbook)
    if not bad:
        return Finding("nodes", "Nodes healthy", "pass", f"{len(nodes)} nodes Ready, no pressure", runbook)
    return Finding(
        "nodes", "Nodes healthy", "fail", _names(bad), runbook, "open the node (enter) for its GPUs and pods"
    )


def check_gpus(store: Store) -> Finding:
    runbook = "Check GPU resources"
    view = store.value(GPUS)
    if view is None:
        return Finding("gpus", "GPUs healthy", "unknown", "no GPU data yet", runbook)
    gpus = [gpu for node in view.nodes for gpu in node.gpus]
    if not gpus:
        return Finding("gpus", "GPUs healthy", "unknown", view.summary, runbook)
    xid = [g for g in gpus if g.last_xid]
    if xid:
        evidence = _names(f"{g.node} GPU {g.index} XID {g.last_xid}" for g in xid)
        return Finding(
            "gpus",
            "GPUs healthy",
            "fail",
            evidence,
            runbook,
            "a GPU reported an XID error: drain/replace that node",
        )
    return Finding("gpus", "GPUs healthy", "pass", f"{len(gpus)} GPUs, no XID error", runbook)


def check_models(store: Store) -> Finding:
    runbook = "Scenario 5: Dependency Failures"
    view = store.value(TRITON)
    if view is None:
        return Finding("models", "Triton models ready", "unknown", "Triton not reached yet", runbook)
    bad = [m for m in view.models if m.state not in ("READY", "")]
    if not bad and view.models:
        return Finding("models", "Triton models ready", "pass", f"{len(view.models)} models, all READY", runbook)
    if not bad:
        return Finding("models", "Triton models ready", "unknown", "no model in the repository index", runbook)
    first = bad[0]
    return Finding(
        "models",
        "Triton models ready",
        "fail",
        f"{first.name} {first.state}: {first.reason or 'no reason given'}"
        + (f" (+{len(bad) - 1} more)" if len(bad) > 1 else ""),
        runbook,
        "reload the model (L on the model), or restart Triton (r on triton-server)",
        tuple(f"triton-system/model/{m.name}" for m in bad),
    )


def check_storage(store: Store, events: Sequence[EventRecord], now: float | None = None) -> Finding:
    runbook = "Scenario 3: Storage Issues"
    pvcs = store.items(PVCS)
    problems = [f"{p.name} {p.phase}" for p in pvcs if p.phase != "Bound"]
    problems += [f"{p.name} resize {resize}" for p in pvcs if (resize := pvc_resize(p))]
    full = [
        e for e in events if "no space left" in e.message.lower() or e.reason in ("FailedMount", "FailedAttachVolume")
    ]
    if full:
        problems.append(f"{full[-1].object_name}: {full[-1].reason}: {full[-1].message}")
    disk = last_run(store, "step-disk")
    if disk is not None and disk.verdict.state == "fail" and (now is None or now - disk.at < STEP_FRESH_S):
        problems.append(f"{disk.verdict.line} in {disk.target.pod} at {_clock_time(disk.at)}")
    if not problems:
        return Finding("storage", "Storage healthy", "pass", f"{len(pvcs)} PVCs Bound", runbook)
    return Finding(
        "storage", "Storage healthy", "fail", _names(problems), runbook, "expand the PVC (x on model-storage)"
    )


def check_database(store: Store, now: float) -> Finding | None:
    """The database as nimify-api reaches it, by the last run of the runbook's psql from a nimify-api pod (D);
    None until it ran once; unknown once that run is older than :data:`STEP_FRESH_S` (a failure would otherwise
    outlast the outage)."""
    done = last_run(store, "step-database")
    if done is None:
        return None
    runbook = "Scenario 5: Dependency Failures (database connectivity)"
    evidence = f"psql in {done.target.pod} at {_clock_time(done.at)}: {done.verdict.line}"
    if now - done.at >= STEP_FRESH_S:
        return Finding("database", "Database answers nimify-api", "unknown", f"{evidence} (D checks again)", runbook)
    if done.verdict.state == "pass":
        return Finding("database", "Database answers nimify-api", "pass", evidence, runbook)
    fix = "bring the database back (see the diagnosis), then check again (D)"
    return Finding("database", "Database answers nimify-api", "fail", evidence, runbook, fix)


def _clock_time(at: float) -> str:
    return datetime.fromtimestamp(at, timezone.utc).strftime("%H:%M:%S UTC")


def check_ingress(store: Store, pods: Sequence[PodRecord], now: float) -> Finding:
    runbook = "Scenario 4: Network/Ingress Issues"
    controllers = [p for p in pods if p.namespace == "ingress-nginx"]
    broken = [p for p in controllers if is_faulty(p, now)]
    ingresses = store.items(INGRESSES)
    no_address = [i.name for i in ingresses if not i.addresses]
    if not controllers and not ingresses:
        return Finding("ingress", "Ingress serving", "unknown", "no ingress controller or ingress seen", runbook)
    # the chain ingress -> service -> endpoints: a backend whose service has no ready address serves 503s
    endpoints = {(e.namespace, e.name): e for e in store.items(ENDPOINTS)}
    empty_backends = sorted(
        {
            (i.name, b.service)
            for i in ingresses
            for b in i.backends
            if b.service
            and (i.namespace, b.service) in endpoints
            and endpoints[(i.namespace, b.service)].ready_count == 0
        }
    )
    if not broken and not no_address and not empty_backends:
        return Finding("ingress", "Ingress serving", "pass", "controller ready, ingresses have addresses", runbook)
    evidence = [f"{p.name} {pod_fault(p, now)}" for p in broken] + [f"ingress {n} has no address" for n in no_address]
    evidence += [f"ingress {name} -> service {service}: no ready endpoint" for name, service in empty_backends]
    fix = (
        "restart the ingress controller (r on nginx-ingress-controller)"
        if broken or no_address
        else "the service behind the ingress has no ready pod: see the diagnosis"
    )
    return Finding("ingress", "Ingress serving", "fail", _names(evidence), runbook, fix)


def check_endpoints(store: Store, main_namespace: str = DEFAULT_MAIN_NAMESPACE) -> Finding:
    runbook = "Check Network and Ingress"
    endpoints = {(e.namespace, e.name): e for e in store.items(ENDPOINTS)}
    wanted = [(main_namespace, "nimify-api"), ("triton-system", "triton-server")]
    seen = [key for key in wanted if key in endpoints]
    if not seen:
        return Finding("endpoints", "Services have endpoints", "unknown", "endpoints not seen yet", runbook)
    empty = [f"{ns}/{name}" for ns, name in seen if endpoints[(ns, name)].ready_count == 0]
    if empty:
        return Finding(
            "endpoints",
            "Services have endpoints",
            "fail",
            f"no ready endpoint behind {_names(empty)}",
            runbook,
            "the pods behind the service are not ready: see the pods pane",
        )
    counts = ", ".join(f"{name} {endpoints[(ns, name)].ready_count}" for ns, name in seen)
    return Finding("endpoints", "Services have endpoints", "pass", f"ready endpoints: {counts}", runbook)


def check_latency(store: Store) -> Finding:
    runbook = "Monitoring: NimifyHighLatency / NimifyHighErrorRate"
    history = store.value(LATENCY)
    point = history.latest() if history is not None else None
    if point is None or (point.api_p95_s is None and point.api_error_ratio is None):
        return Finding("latency", "Latency and errors", "unknown", "no nimify-api traffic measured yet", runbook)
    parts = []
    failing = False
    if point.api_p95_s is not None:
        parts.append(f"p95 {point.api_p95_s * 1000:.0f} ms")
        failing = failing or point.api_p95_s > LATENCY_THRESHOLD_S
    if point.api_error_ratio is not None:
        parts.append(f"5xx {point.api_error_ratio:.1%}")
        failing = failing or point.api_error_ratio > ERROR_RATIO_THRESHOLD
    if point.queue_ms is not None and point.compute_ms is not None:
        parts.append(f"triton queue {point.queue_ms:.0f} ms / compute {point.compute_ms:.0f} ms")
    fix = ""
    if failing and point.queue_ms is not None and point.compute_ms is not None and point.queue_ms > point.compute_ms:
        fix = "requests wait in Triton's queue: scale triton-server up (s) if GPUs are free"
    elif failing:
        fix = "see the models pane and the pods behind nimify-api"
    return Finding("latency", "Latency and errors", "fail" if failing else "pass", ", ".join(parts), runbook, fix)


def check_alerts(store: Store) -> Finding | None:
    """The runbook's alert rules: as the cluster's Prometheus evaluates them, or built in (None before the first
    evaluation)."""
    states = store.value(ALERT_STATES)
    if states is None:
        return None
    runbook = "Prevention: monitoring alerts"
    active = sorted((s for s in states if s.state != "inactive"), key=lambda s: (-s.rank, s.active_at or 0.0))
    if active:
        evidence = _names(alert_line(s) for s in active)
        return Finding(
            "alerts", "Runbook alerts", "fail", evidence, runbook, "the alert names the symptom: see the panes"
        )
    sources = sorted({SOURCE_WORDS[s.source] for s in states})
    return Finding(
        "alerts", "Runbook alerts", "pass", f"{len(states)} runbook alerts inactive ({', '.join(sources)})", runbook
    )


def api_pods(store: Store, namespace: str) -> list[PodRecord]:
    """nimify-api's pods in ``namespace``: its ReplicaSets' pods, or pods labelled as nimify-api."""
    found = []
    for pod in store.items(PODS):
        if pod.namespace != namespace or pod.deleted_at is not None:
            continue
        named = API_NAME in (pod.labels.get("app"), pod.labels.get("app.kubernetes.io/name"))
        if named or (pod.owner_kind == "ReplicaSet" and pod.owner_name.rsplit("-", 1)[0] == API_NAME):
            found.append(pod)
    return found


def check_service_selectors(store: Store, main_namespace: str = DEFAULT_MAIN_NAMESPACE) -> Finding:
    """A service of the main namespace whose selector matches none of its app's ready pods (a changed label)."""
    runbook = "Scenario 4: Network/Ingress Issues (service)"
    title = "Services select their pods"
    services = [s for s in store.items(SERVICES) if s.namespace == main_namespace and s.selector]
    if not services:
        return Finding(
            "service-selectors", title, "unknown", f"no service with a selector seen in {main_namespace}", runbook
        )
    pods = [p for p in store.items(PODS) if p.namespace == main_namespace and p.deleted_at is None]
    broken = []
    for service in services:
        selector = {"matchLabels": service.selector}
        if any(selects(selector, p.labels) for p in pods):
            continue
        app = [p for p in pods if p.name.startswith(service.name + "-") and p.ready == p.total and p.phase == "Running"]
        if app:
            wanted = ",".join(f"{k}={v}" for k, v in sorted(service.selector.items()))
            carried = ",".join(f"{k}={v}" for k, v in sorted(app[0].labels.items()) if k != "pod-template-hash")
            broken.append((service, f"service {service.name} selects {wanted}; its ready pods carry {carried}"))
    if not broken:
        return Finding("service-selectors", title, "pass", f"{len(services)} services select pods", runbook)
    return Finding(
        "service-selectors",
        title,
        "fail",
        _names(line for _, line in broken),
        runbook,
        "the pods' labels changed with a deploy: roll it back (u), or fix the labels",
        tuple(f"{s.namespace}/service/{s.name}" for s, _ in broken),
    )


TLS_WARN_S = 14 * 86400  # a certificate expiring sooner than this is a warning


def check_tls(store: Store, now: float) -> Finding:
    """The certificates the ingresses serve: expired fails, expiring within two weeks warns."""
    runbook = "Scenario 4: Network/Ingress Issues (TLS)"
    title = "Ingress certificates valid"
    certificates = store.value(TLS_CERTIFICATES)
    if not certificates:
        return Finding("tls", title, "unknown", "no ingress certificate read (no TLS ingress, or not allowed)", runbook)
    expired = [c for c in certificates.values() if c.not_after is not None and c.not_after <= now]
    soon = [c for c in certificates.values() if c.not_after is not None and now < c.not_after <= now + TLS_WARN_S]
    unread = [c for c in certificates.values() if c.problem]

    def when(at: float | None) -> str:
        return "?" if at is None else datetime.fromtimestamp(at, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")

    if expired:
        return Finding(
            "tls",
            title,
            "fail",
            _names(f"secret {c.namespace}/{c.secret} ({c.subject}) expired {when(c.not_after)}" for c in expired),
            runbook,
            "renew the certificate and update its secret (cert-manager renews it if it manages it)",
            tuple(f"{c.namespace}/secret/{c.secret}" for c in expired),
        )
    if soon:
        return Finding(
            "tls",
            title,
            "warn",
            _names(f"secret {c.namespace}/{c.secret} expires {when(c.not_after)}" for c in soon),
            runbook,
        )
    if unread and len(unread) == len(certificates):
        return Finding("tls", title, "unknown", unread[0].problem or "", runbook)
    valid = [c for c in certificates.values() if c.not_after is not None]
    return Finding("tls", title, "pass", f"{len(valid)} certificate(s) valid past two weeks", runbook)


def check_network_policies(store: Store, main_namespace: str = DEFAULT_MAIN_NAMESPACE) -> Finding:
    """A network policy that selects nimify-api's pods and allows them no ingress at all."""
    runbook = "Check Network and Ingress"
    title = "Network policies let traffic in"
    pods = api_pods(store, main_namespace)
    denying = [
        policy
        for policy in store.items(NETWORK_POLICIES)
        if policy.namespace == main_namespace
        and "Ingress" in policy.policy_types
        and policy.ingress_rules == 0
        and any(selects(policy.pod_selector, p.labels) for p in pods)
    ]
    if not denying:
        return Finding("network-policies", title, "pass", "no policy denies ingress to nimify-api", runbook)
    return Finding(
        "network-policies",
        title,
        "fail",
        f"network policy {_names(p.name for p in denying)} selects nimify-api's pods and allows no ingress",
        runbook,
        "the policy drops every request to nimify-api: fix or remove it (kubectl edit networkpolicy)",
        tuple(f"{p.namespace}/networkpolicy/{p.name}" for p in denying),
    )


def check_prevention(store: Store, main_namespace: str = DEFAULT_MAIN_NAMESPACE) -> list[Finding]:
    """The runbook's prevention items, as warnings: a PodDisruptionBudget for nimify-api, a ResourceQuota for its
    namespace, readiness and liveness probes on its containers."""
    runbook = "Prevention"
    pods = api_pods(store, main_namespace)
    budgets = [
        b
        for b in store.items(DISRUPTION_BUDGETS)
        if b.namespace == main_namespace and pods and selects(b.selector, pods[0].labels)
    ]
    quotas = [q for q in store.items(QUOTAS) if q.namespace == main_namespace]
    deployment = store.get(DEPLOYMENTS, (main_namespace, API_NAME))
    findings = [
        Finding("pdb", "nimify-api has a PodDisruptionBudget", "pass", f"covered by {budgets[0].name}", runbook)
        if budgets
        else Finding(
            "pdb",
            "nimify-api has a PodDisruptionBudget",
            "warn" if pods else "unknown",
            "no PodDisruptionBudget selects nimify-api's pods: a node drain may take them all at once"
            if pods
            else "no nimify-api pod seen",
            runbook,
        ),
        Finding("quota", f"{main_namespace} has a ResourceQuota", "pass", f"quota {quotas[0].name}", runbook)
        if quotas
        else Finding(
            "quota",
            f"{main_namespace} has a ResourceQuota",
            "warn",
            f"no ResourceQuota in {main_namespace}: one runaway deployment can take the nodes",
            runbook,
        ),
    ]
    if deployment is None:
        findings.append(
            Finding("probes", "nimify-api has probes", "unknown", "deployment nimify-api not seen", runbook)
        )
    elif deployment.unprobed:
        findings.append(
            Finding(
                "probes",
                "nimify-api has probes",
                "warn",
                f"container {_names(deployment.unprobed)} lacks a readiness or liveness probe",
                runbook,
            )
        )
    else:
        findings.append(
            Finding("probes", "nimify-api has probes", "pass", "readiness and liveness probes set", runbook)
        )
    return findings


def run_checks(store: Store, now: float, *, main_namespace: str = DEFAULT_MAIN_NAMESPACE) -> list[Finding]:
    """Every check, in the runbook's order; nimify-api is looked for in ``main_namespace`` (``-n``)."""
    pods = store.items(PODS)
    events = store.items(EVENTS)
    checks: list[Callable[[], Finding]] = [
        lambda: check_probe(
            store,
            "api /health",
            "api-health",
            "nimify-api /health",
            "1. Confirm the outage",
            "nimify-api does not answer: see its pods and events",
        ),
        lambda: check_probe(
            store,
            "api /ready",
            "api-ready",
            "nimify-api /ready",
            "1. Confirm the outage",
            "nimify-api is up but not ready: check Triton and the model",
        ),
        lambda: check_probe(
            store,
            "triton ready",
            "triton-ready",
            "Triton ready",
            "Scenario 5: Dependency Failures",
            "Triton is not ready: see the models pane",
        ),
        lambda: check_probe(
            store,
            "prometheus",
            "prometheus",
            "Prometheus healthy",
            "1. Confirm the outage (monitoring)",
            "monitoring is down: trust the live panes, not dashboards",
        ),
        lambda: check_crashloop(pods, now),
        lambda: check_pending(pods, events),
        lambda: check_deployments(store.items(DEPLOYMENTS)),
        lambda: check_endpoints(store, main_namespace),
        lambda: check_service_selectors(store, main_namespace),
        lambda: check_network_policies(store, main_namespace),
        lambda: check_tls(store, now),
        lambda: check_nodes(store.items(NODES)),
        lambda: check_gpus(store),
        lambda: check_models(store),
        lambda: check_storage(store, events, now),
        lambda: check_ingress(store, pods, now),
        lambda: check_latency(store),
    ]
    findings = []
    for check in checks:
        SCREEN_FIRST.step_aside()  # the screen answering a key goes first
        findings.append(check())
    database = check_database(store, now)
    if database is not None:
        findings.insert(2, database)  # beside nimify-api's /ready, which fails when the database does
    alerts = check_alerts(store)
    return findings + ([alerts] if alerts is not None else []) + check_prevention(store, main_namespace)


Overall = Literal["OK", "DEGRADED", "DOWN", "UNKNOWN"]
_DOWN_CHECKS = frozenset({"api-health", "api-ready"})


def overall_state(findings: Sequence[Finding]) -> Overall:
    failing = {f.check for f in findings if f.state == "fail"}
    if failing & _DOWN_CHECKS:
        return "DOWN"
    if failing:
        return "DEGRADED"
    if all(f.state == "unknown" for f in findings):
        return "UNKNOWN"
    return "OK"


@dataclass
class FindingTracker:
    """Remembers each check's last state to report changes and when the first failure was seen."""

    last: dict[str, State]
    first_failure_at: float | None = None

    @classmethod
    def new(cls) -> FindingTracker:
        return cls({})

    def update(self, findings: Sequence[Finding], now: float) -> list[tuple[Finding, State | None]]:
        """The findings whose state changed (with their previous state; None the first time seen)."""
        changed: list[tuple[Finding, State | None]] = []
        for finding in findings:
            previous = self.last.get(finding.check)
            if previous != finding.state and not (previous is None and finding.state == "unknown"):
                changed.append((finding, previous))
            self.last[finding.check] = finding.state
            if finding.state == "fail" and self.first_failure_at is None:
                self.first_failure_at = now
        return changed
