"""Outages end to end: each scenario's symptoms as a client sees them over the simulator's HTTP API (and real
kubectl where a column matters), then its fix through the app's own actions (planned, dry run, executed by the
ActionRunner, journaled) until the world is healthy. For the two outages no action fixes, the symptoms, that they
outlast the actions that could be tried, and the manual fix the scenario names."""

from __future__ import annotations

import base64
import contextlib
import re
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from nimify_tui.actions.kube_actions import plan_configmap_edit, plan_restart, plan_rollout_undo, plan_scale
from nimify_tui.actions.plan import Action
from nimify_tui.actions.runner import ActionRunner
from nimify_tui.kube.client import KubeClient
from nimify_tui.sim.scenarios import SCENARIOS, is_healthy

from ..actions import conftest as actions_conftest
from ..actions.conftest import Cluster
from ..actions.test_actions_sim import dry_run, journaled
from .conftest import Kubectl

NS = "nimify-system"
TRITON_NS = "triton-system"
API = f"/apis/apps/v1/namespaces/{NS}/deployments/nimify-api"
API_SERVICE = f"/api/v1/namespaces/{NS}/services/nimify-api:8000/proxy"
HEALTHY_WITHIN_S = 60.0  # wall seconds; at the clusters' speed that is half an hour of simulated time

start_cluster = actions_conftest.start_cluster  # the fixture of the actions tests: a cluster with clients, journal


@contextlib.contextmanager
def clock_stopped_when(cluster: Cluster, holds: Callable[[], bool], what: str) -> Iterator[None]:
    """Stop the simulated clock at a moment when ``holds()`` (asked over the API) is true; run it again after."""
    speed = cluster.sim.call(lambda world: world.speed)

    def stopped_holding() -> bool:
        cluster.sim.call(lambda world: setattr(world, "speed", 0.0))
        if holds():
            return True
        cluster.sim.call(lambda world: setattr(world, "speed", speed))
        return False

    cluster.wait_until(stopped_holding, what)
    try:
        yield
    finally:
        cluster.sim.call(lambda world: setattr(world, "speed", speed))


def http(cluster: Cluster) -> httpx.Client:
    return httpx.Client(
        base_url=cluster.sim.url, headers={"Authorization": f"Bearer {cluster.sim.admin_token}"}, timeout=20
    )


def pods(client: KubeClient, selector: str, namespace: str = NS) -> list[dict[str, Any]]:
    """The pods ``selector`` selects, those being deleted left out."""
    listing = client.get_json(f"/api/v1/namespaces/{namespace}/pods", {"labelSelector": selector})
    return [pod for pod in listing["items"] if "deletionTimestamp" not in pod["metadata"]]


def waiting_reason(pod: dict[str, Any]) -> str | None:
    state = pod["status"].get("containerStatuses", [{}])[0].get("state") or {}
    reason: str | None = (state.get("waiting") or {}).get("reason")
    return reason


def events_of(client: KubeClient, namespace: str, name: str) -> list[dict[str, Any]]:
    listing = client.get_json(
        f"/api/v1/namespaces/{namespace}/events", {"fieldSelector": f"involvedObject.name={name}"}
    )
    items: list[dict[str, Any]] = listing["items"]
    return items


def table(kubectl: Kubectl, *args: str) -> list[dict[str, str]]:
    """kubectl's table as one dict a row, keyed by the header (columns split on runs of two or more spaces)."""
    lines = [re.split(r"\s{2,}", line.strip()) for line in kubectl.run(*args).stdout.splitlines() if line.strip()]
    return [dict(zip(lines[0], row, strict=True)) for row in lines[1:]]


def run_action(cluster: Cluster, runner: ActionRunner, action: Action, path: str) -> str:
    """Dry run (checking it wrote nothing), then execute; follow a rollout to its end; the outcome's message."""
    client = runner.client
    prepared = dry_run(cluster, client, runner, action, path)
    outcome = runner.execute(prepared)
    if outcome.follow is not None:
        steps = list(outcome.follow(timeout_s=HEALTHY_WITHIN_S, poll_s=0.05))
        assert steps[-1].done and not steps[-1].failed, steps[-1]
    return outcome.message


@pytest.mark.kubectl
def test_config_error_fixed_by_editing_the_configmap_and_restarting(
    start_cluster: Callable[..., Cluster], kubectl_for: Callable[[Any], Kubectl]
) -> None:
    cluster = start_cluster("config-error")
    client, kubectl = cluster.client(), kubectl_for(cluster.sim)
    runner = ActionRunner(client, cluster.journal())

    def all_backing_off() -> bool:
        return all(waiting_reason(pod) == "CrashLoopBackOff" for pod in pods(client, "app=nimify-api"))

    with clock_stopped_when(cluster, all_backing_off, "every nimify-api pod in CrashLoopBackOff"):
        rows = table(kubectl, "get", "pods", "-n", NS, "-l", "app=nimify-api")
        assert [(row["READY"], row["STATUS"]) for row in rows] == [("0/1", "CrashLoopBackOff")] * 3
        for pod in pods(client, "app=nimify-api"):
            terminated = pod["status"]["containerStatuses"][0]["lastState"]["terminated"]
            assert (terminated["reason"], terminated["exitCode"]) == ("Error", 1)
        previous = kubectl.run("logs", rows[0]["NAME"], "-n", NS, "--previous").stdout.splitlines()
        assert previous[-2].endswith(
            " ERROR nimify.config: unknown key 'max_batch_sise' in /etc/nimify/config.yaml "
            "(section 'triton'; did you mean 'max_batch_size'?)"
        )
        assert previous[-1] == "ERROR:    Application startup failed. Exiting."
        assert "deployment nimify-system/nimify-api: 0/3 available, 3 updated, 3 total" in cluster.problems()

    edit = plan_configmap_edit(client, NS)
    (data,) = edit.parameters()
    fixed_text = "".join(line for line in data.value.splitlines(keepends=True) if "max_batch_sise" not in line)
    edit = edit.with_values({"data": fixed_text})
    path = f"/api/v1/namespaces/{NS}/configmaps/nimify-config"
    assert run_action(cluster, runner, edit, path) == "configmap/nimify-config edited"
    assert "max_batch_sise" not in client.get_json(path)["data"]["config.yaml"]

    restart = plan_restart(client, NS, "nimify-api")
    assert run_action(cluster, runner, restart, API) == "deployment.apps/nimify-api restarted"
    cluster.wait_healthy(HEALTHY_WITHIN_S)
    assert cluster.sim.call(is_healthy)
    fresh = [pod["metadata"]["name"] for pod in pods(client, "app=nimify-api") if pod["status"]["phase"] == "Running"]
    assert len(fresh) == 3
    log = kubectl.run("logs", fresh[0], "-n", NS).stdout
    assert "INFO:     Application startup complete." in log and "max_batch_sise" not in log
    assert [journaled(cluster, verb)["result"] for verb in ("edit", "restart")] == ["ok", "ok"]


@pytest.mark.kubectl
def test_image_pull_fixed_by_rollout_undo(
    start_cluster: Callable[..., Cluster], kubectl_for: Callable[[Any], Kubectl]
) -> None:
    cluster = start_cluster("image-pull")
    client, kubectl = cluster.client(), kubectl_for(cluster.sim)
    runner = ActionRunner(client, cluster.journal())
    image = "ghcr.io/nimify/nimify-api:1.9.1"
    not_found = (
        f'rpc error: code = NotFound desc = failed to pull and unpack image "{image}": '
        f'failed to resolve reference "{image}": {image}: not found'
    )

    def new_pod_backing_off() -> bool:
        return [
            waiting_reason(pod) for pod in pods(client, "app=nimify-api") if pod["status"]["phase"] == "Pending"
        ] == ["ImagePullBackOff"]

    with clock_stopped_when(cluster, new_pod_backing_off, "the new pod in ImagePullBackOff"):
        rows = table(kubectl, "get", "pods", "-n", NS, "-l", "app=nimify-api")
        assert sorted((row["READY"], row["STATUS"]) for row in rows) == [
            ("0/1", "ImagePullBackOff"),
            ("1/1", "Running"),
            ("1/1", "Running"),
            ("1/1", "Running"),
        ]
        (stuck,) = [pod for pod in pods(client, "app=nimify-api") if pod["status"]["phase"] == "Pending"]
        waiting = stuck["status"]["containerStatuses"][0]["state"]["waiting"]
        assert waiting["message"] == f'Back-off pulling image "{image}": ErrImagePull: {not_found}'
        messages = {(e["type"], e["reason"], e["message"]) for e in events_of(client, NS, stuck["metadata"]["name"])}
        assert {
            ("Normal", "Pulling", f'Pulling image "{image}"'),
            ("Warning", "Failed", f'Failed to pull image "{image}": {not_found}'),
            ("Warning", "Failed", "Error: ErrImagePull"),
            ("Normal", "BackOff", f'Back-off pulling image "{image}"'),
            ("Warning", "Failed", "Error: ImagePullBackOff"),
        } <= messages
        with http(cluster) as raw:
            assert raw.get(f"{API_SERVICE}/health").json() == {"status": "healthy"}  # revision 3 still serves
        assert "deployment nimify-system/nimify-api: 3/3 available, 1 updated, 4 total" in cluster.problems()

    undo = plan_rollout_undo(client, NS, "nimify-api")
    assert (undo.current_revision, undo.plan.revision) == (4, 3)
    assert run_action(cluster, runner, undo, API) == "deployment.apps/nimify-api rolled back to revision 3"
    cluster.wait_healthy(HEALTHY_WITHIN_S)
    assert cluster.sim.call(is_healthy)
    images = {pod["spec"]["containers"][0]["image"] for pod in pods(client, "app=nimify-api")}
    assert images == {"ghcr.io/nimify/nimify-api:1.8.2"}
    assert journaled(cluster, "rollout-undo")["result"] == "ok"


@pytest.mark.kubectl
def test_database_down_fixed_by_scaling_postgres_back(
    start_cluster: Callable[..., Cluster], kubectl_for: Callable[[Any], Kubectl]
) -> None:
    cluster = start_cluster("database-down")
    client, kubectl = cluster.client(), kubectl_for(cluster.sim)
    runner = ActionRunner(client, cluster.journal())
    refused = (
        'connection to server at "postgres.nimify-system.svc.cluster.local" (10.100.11.27), port 5432 failed: '
        "Connection refused"
    )

    def none_ready() -> bool:
        api_pods = pods(client, "app=nimify-api")
        return len(api_pods) == 3 and not any(
            c["status"] == "True" for pod in api_pods for c in pod["status"]["conditions"] if c["type"] == "Ready"
        )

    with clock_stopped_when(cluster, none_ready, "no nimify-api pod ready"), http(cluster) as raw:
        rows = table(kubectl, "get", "pods", "-n", NS, "-l", "app=nimify-api")
        assert [(row["READY"], row["STATUS"], row["RESTARTS"]) for row in rows] == [("0/1", "Running", "0")] * 3
        assert table(kubectl, "get", "deployment", "postgres", "-n", NS)[0]["READY"] == "0/0"
        pod = rows[0]["NAME"]
        ready = raw.get(f"/api/v1/namespaces/{NS}/pods/{pod}:8000/proxy/ready")
        assert (ready.status_code, ready.json()) == (
            503,
            {"status": "not ready", "reason": f"database unreachable: {refused}"},
        )
        assert raw.get(f"/api/v1/namespaces/{NS}/pods/{pod}:8000/proxy/health").status_code == 200  # alive
        log = raw.get(f"/api/v1/namespaces/{NS}/pods/{pod}/log").text.splitlines()
        assert any(line.endswith(f" ERROR nimify.db: {refused}") for line in log), log[-6:]
        unhealthy = [e for e in events_of(client, NS, pod) if e["reason"] == "Unhealthy"]
        assert unhealthy[0]["message"] == "Readiness probe failed: HTTP probe failed with statuscode: 503"
        assert "service nimify-system/postgres: no endpoints (selector app=postgres)" in cluster.problems()

    scale = plan_scale(client, NS, "postgres")
    (replicas,) = scale.parameters()
    assert replicas.current == "0"
    scale = scale.with_values({"replicas": "1"})
    scale_path = f"/apis/apps/v1/namespaces/{NS}/deployments/postgres/scale"
    assert run_action(cluster, runner, scale, scale_path) == "deployment.apps/postgres scaled"
    cluster.wait_healthy(HEALTHY_WITHIN_S)
    assert cluster.sim.call(is_healthy)
    with http(cluster) as raw:
        assert raw.get(f"{API_SERVICE}/ready").json() == {"status": "ready", "model": "nimify-model"}
    assert journaled(cluster, "scale")["result"] == "ok"


@pytest.mark.kubectl
def test_service_selector_fixed_by_rollout_undo(
    start_cluster: Callable[..., Cluster], kubectl_for: Callable[[Any], Kubectl]
) -> None:
    cluster = start_cluster("service-selector")
    client, kubectl = cluster.client(), kubectl_for(cluster.sim)
    runner = ActionRunner(client, cluster.journal())
    service = client.get_json(f"/api/v1/namespaces/{NS}/services/nimify-api")
    assert service["spec"]["selector"] == {"app": "nimify-api", "tier": "frontend"}

    def relabelled_and_ready() -> bool:
        api_pods = [pod for pod in pods(client, "app=nimify-api") if "deletionTimestamp" not in pod["metadata"]]
        return len(api_pods) == 3 and all(
            pod["metadata"]["labels"]["tier"] == "serving" and pod["status"]["containerStatuses"][0]["ready"]
            for pod in api_pods
        )

    with (
        clock_stopped_when(cluster, relabelled_and_ready, "three relabelled nimify-api pods, ready"),
        http(cluster) as raw,
    ):
        rows = table(kubectl, "get", "pods", "-n", NS, "-l", "app=nimify-api")
        assert [(row["READY"], row["STATUS"]) for row in rows] == [("1/1", "Running")] * 3
        (endpoints,) = table(kubectl, "get", "endpoints", "nimify-api", "-n", NS)
        assert endpoints["ENDPOINTS"] == "<none>"
        proxied = raw.get(f"{API_SERVICE}/health")
        assert proxied.status_code == 503
        assert proxied.json()["message"] == 'no endpoints available for service "nimify-api:8000"'
        assert cluster.problems() == [
            "service nimify-system/nimify-api: no endpoints (selector app=nimify-api,tier=frontend)",
            "ingress nimify-ingress: backend nimify-api has no ready endpoints",
        ]

    undo = plan_rollout_undo(client, NS, "nimify-api")
    assert (undo.current_revision, undo.plan.revision) == (4, 3)
    prepared = dry_run(cluster, client, runner, undo, API)
    assert "spec.template.metadata.labels.tier: serving -> frontend" in prepared.preview.text.splitlines()
    outcome = runner.execute(prepared)
    assert outcome.follow is not None and list(outcome.follow(timeout_s=HEALTHY_WITHIN_S, poll_s=0.05))[-1].done
    cluster.wait_healthy(HEALTHY_WITHIN_S)
    assert cluster.sim.call(is_healthy)
    subsets = client.get_json(f"/api/v1/namespaces/{NS}/endpoints/nimify-api")["subsets"]
    assert len(subsets[0]["addresses"]) == 3
    with http(cluster) as raw:
        assert raw.get(f"{API_SERVICE}/health").json() == {"status": "healthy"}


@pytest.mark.kubectl
def test_tls_expired_shows_the_expired_certificate_and_needs_a_manual_renewal(
    start_cluster: Callable[..., Cluster], kubectl_for: Callable[[Any], Kubectl]
) -> None:
    cluster = start_cluster("tls-expired")
    client, kubectl = cluster.client(), kubectl_for(cluster.sim)
    runner = ActionRunner(client, cluster.journal())
    secret = client.get_json(f"/api/v1/namespaces/{NS}/secrets/nimify-tls")
    assert secret["type"] == "kubernetes.io/tls"
    cert = x509.load_pem_x509_certificate(base64.b64decode(secret["data"]["tls.crt"]))
    key = serialization.load_pem_private_key(base64.b64decode(secret["data"]["tls.key"]), password=None)
    assert cert.public_key() == key.public_key()
    assert cert.issuer == cert.subject  # self-signed
    assert cert.subject.rfc4514_string() == "CN=api.nimify.example.com"
    now = cluster.sim.call(lambda world: world.now())
    expired = cert.not_valid_after_utc
    assert 3 * 3600 <= now - expired.timestamp() < 3 * 3600 + 60
    (row,) = table(kubectl, "get", "secret", "nimify-tls", "-n", NS)
    assert (row["TYPE"], row["DATA"]) == ("kubernetes.io/tls", "2")
    controller = pods(client, "app=nginx-ingress-controller", "ingress-nginx")[0]["metadata"]["name"]
    log = kubectl.run("logs", controller, "-n", "ingress-nginx").stdout
    assert f'SSL certificate for server "api.nimify.example.com" expired ({expired:%Y-%m-%d %H:%M:%S} +0000 UTC)' in log
    problem = f"ingress nimify-ingress: the certificate in secret nimify-tls expired {expired:%Y-%m-%dT%H:%M:%SZ}"
    assert cluster.problems() == [problem]

    restart = plan_restart(client, "ingress-nginx", "nginx-ingress-controller")
    path = "/apis/apps/v1/namespaces/ingress-nginx/deployments/nginx-ingress-controller"
    assert run_action(cluster, runner, restart, path) == "deployment.apps/nginx-ingress-controller restarted"
    assert cluster.problems() == [problem]  # a restart serves the same certificate
    assert not cluster.sim.call(is_healthy)
    assert (
        SCENARIOS["tls-expired"]
        .line()
        .endswith(
            "fix: renew the certificate (outside the cluster), then put it in the secret: T in the TUI, or kubectl "
            "create secret tls nimify-tls -n nimify-system --cert=tls.crt --key=tls.key --dry-run=client -o yaml "
            "| kubectl apply -f -"
        )
    )


@pytest.mark.kubectl
def test_node_not_ready_ends_with_stuck_pods_replaced_elsewhere_and_needs_a_manual_fix(
    start_cluster: Callable[..., Cluster], kubectl_for: Callable[[Any], Kubectl]
) -> None:
    cluster = start_cluster("node-not-ready")
    client, kubectl = cluster.client(), kubectl_for(cluster.sim)
    runner = ActionRunner(client, cluster.journal())
    nodes = {row["NAME"]: row["STATUS"] for row in table(kubectl, "get", "nodes")}
    assert nodes == {"cpu-node-1": "Ready", "cpu-node-2": "NotReady", "gpu-node-1": "Ready", "gpu-node-2": "Ready"}
    lost = client.get_json("/api/v1/nodes/cpu-node-2")
    conditions = {c["type"]: (c["status"], c["reason"], c["message"]) for c in lost["status"]["conditions"]}
    assert conditions == {
        **{
            kind: ("Unknown", "NodeStatusUnknown", "Kubelet stopped posting node status.")
            for kind in ("MemoryPressure", "DiskPressure", "PIDPressure", "Ready")
        },
        "NetworkUnavailable": ("False", "RouteCreated", "RouteController created a route"),  # not the kubelet's
    }
    assert [(t["key"], t["effect"]) for t in lost["spec"]["taints"]] == [
        ("node.kubernetes.io/unreachable", "NoSchedule"),
        ("node.kubernetes.io/unreachable", "NoExecute"),
    ]
    node_events = [(e["reason"], e["message"]) for e in events_of(client, "default", "cpu-node-2")]
    assert ("NodeNotReady", "Node cpu-node-2 status is now: NodeNotReady") in node_events

    rows = table(kubectl, "get", "pods", "-n", NS, "-o", "wide")
    stuck = [row for row in rows if row["NODE"] == "cpu-node-2"]
    assert stuck and all((row["READY"], row["STATUS"]) == ("1/1", "Terminating") for row in stuck)
    elsewhere = [row for row in rows if row["NODE"] == "cpu-node-1" and row["NAME"].startswith("nimify-api-")]
    assert [(row["READY"], row["STATUS"]) for row in elsewhere] == [("1/1", "Running")] * 3
    name = stuck[0]["NAME"]
    pod = client.get_json(f"/api/v1/namespaces/{NS}/pods/{name}")
    conditions = {c["type"]: c for c in pod["status"]["conditions"]}
    assert (conditions["Ready"]["status"], conditions["ContainersReady"]["status"]) == ("False", "True")
    assert (conditions["DisruptionTarget"]["reason"], conditions["DisruptionTarget"]["message"]) == (
        "DeletionByTaintManager",
        "Taint manager: deleting due to NoExecute taint",
    )
    pod_events = {(e["reason"], e["message"], e["source"]["component"]) for e in events_of(client, NS, name)}
    assert {
        ("NodeNotReady", "Node is not ready", "node-controller"),
        ("TaintManagerEviction", f"Marking for deletion Pod {NS}/{name}", "taint-eviction-controller"),
    } <= pod_events
    assert cluster.problems() == ["node cpu-node-2: not Ready"]

    restart = plan_restart(client, NS, "nimify-api")
    assert run_action(cluster, runner, restart, API) == "deployment.apps/nimify-api restarted"
    assert cluster.problems() == ["node cpu-node-2: not Ready"]  # the node stays lost, its pods stuck
    assert not cluster.sim.call(is_healthy)
    assert client.get_json(f"/api/v1/namespaces/{NS}/pods/{name}")["metadata"]["deletionTimestamp"]
    assert (
        "fix: manual, outside the TUI's actions: bring cpu-node-2's kubelet back" in SCENARIOS["node-not-ready"].line()
    )


def test_gpu_xid_fixed_by_scaling_triton_to_the_gpus_left(start_cluster: Callable[..., Cluster]) -> None:
    cluster = start_cluster("gpu-xid")
    client = cluster.client()
    runner = ActionRunner(client, cluster.journal())
    pending = [pod for pod in pods(client, "app=triton-server", TRITON_NS) if pod["status"]["phase"] == "Pending"]
    assert len(pending) == 1
    node = client.get_json("/api/v1/nodes/gpu-node-2")
    assert node["status"]["allocatable"]["nvidia.com/gpu"] == "3"

    scale = plan_scale(client, TRITON_NS, "triton-server").with_values({"replicas": "7"})
    path = f"/apis/apps/v1/namespaces/{TRITON_NS}/deployments/triton-server/scale"
    assert run_action(cluster, runner, scale, path) == "deployment.apps/triton-server scaled"
    cluster.wait_healthy(HEALTHY_WITHIN_S)
    assert cluster.sim.call(is_healthy)
    running = [pod for pod in pods(client, "app=triton-server", TRITON_NS) if pod["status"]["phase"] == "Running"]
    assert len(running) == 7
    assert journaled(cluster, "scale")["request"]["body"] == {"spec": {"replicas": 7}}


def test_latency_spike_fixed_by_scaling_triton_up(start_cluster: Callable[..., Cluster]) -> None:
    cluster = start_cluster("latency-spike")
    client = cluster.client()
    runner = ActionRunner(client, cluster.journal())
    assert cluster.problems() == ["triton: offered load 188% of capacity"]

    scale = plan_scale(client, TRITON_NS, "triton-server")
    (replicas,) = scale.parameters()
    assert replicas.current == "2"
    scale = scale.with_values({"replicas": "6"})
    path = f"/apis/apps/v1/namespaces/{TRITON_NS}/deployments/triton-server/scale"
    assert run_action(cluster, runner, scale, path) == "deployment.apps/triton-server scaled"
    cluster.wait_healthy(HEALTHY_WITHIN_S)
    assert cluster.sim.call(is_healthy)
    assert cluster.sim.call(lambda world: world.load()) < 0.8
    assert journaled(cluster, "scale")["result"] == "ok"


def test_the_new_scenarios_lines() -> None:
    lines = {
        name: SCENARIOS[name].line() for name in ("config-error", "image-pull", "database-down", "service-selector")
    }
    assert "fix: kubectl edit configmap nimify-config -n nimify-system (remove max_batch_sise)" in lines["config-error"]
    for name in ("image-pull", "service-selector"):
        assert lines[name].endswith("fix: kubectl rollout undo deployment/nimify-api -n nimify-system")
    assert lines["database-down"].endswith("fix: kubectl scale deployment postgres --replicas=1 -n nimify-system")
    assert not any("manual" in line for line in lines.values())
