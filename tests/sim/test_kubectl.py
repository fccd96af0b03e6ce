"""The real kubectl against the simulated API server, through a kubeconfig from ``write_kubeconfig``:
the runbook's commands, each run as a subprocess with a timeout."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from nimify_tui.sim.server import SimThread

if TYPE_CHECKING:
    from tests.sim.conftest import Kubectl

pytestmark = pytest.mark.kubectl
NS = "nimify-system"
NEW_CLAIM = """\
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: model-storage-new
  namespace: nimify-system
spec:
  accessModes: ["ReadWriteOnce"]
  resources:
    requests:
      storage: 500Gi
"""
RUNBOOK_PATCH = (
    '{"spec":{"template":{"spec":{"containers":[{"name":"nimify-api","resources":{"limits":{"memory":"2Gi"}}}]}}}}'
)
Wait = Callable[..., Any]


@pytest.fixture(scope="module")
def crashing_sim() -> Iterator[SimThread]:
    """The crash-looping cluster, shared by the read-only tests of this module."""
    with SimThread(scenario="crashloop-oom") as sim:
        yield sim


def _pods(kubectl: Kubectl, selector: str, namespace: str = NS) -> list[dict[str, Any]]:
    out = kubectl.run("get", "pods", "-n", namespace, "-l", selector, "-o", "json").stdout
    items: list[dict[str, Any]] = json.loads(out)["items"]
    return items


def test_get_pods_as_json(healthy_sim: SimThread, kubectl_for: Callable[[Any], Kubectl]) -> None:
    kubectl = kubectl_for(healthy_sim)
    listed = json.loads(kubectl.run("get", "pods", "-n", NS, "-o", "json").stdout)
    assert listed["kind"] == "List"
    assert sorted({pod["metadata"]["labels"]["app"] for pod in listed["items"]}) == [
        "nimify-api",
        "nimify-worker",
        "postgres",
    ]
    assert all(pod["kind"] == "Pod" and pod["status"]["phase"] == "Running" for pod in listed["items"])
    wide = kubectl.run("get", "pods", "-A", "-o", "wide").stdout
    assert "triton-server-" in wide and "dcgm-exporter-" in wide


def test_events_sorted_by_last_timestamp(crashing_sim: SimThread, kubectl_for: Callable[[Any], Kubectl]) -> None:
    kubectl = kubectl_for(crashing_sim)
    out = kubectl.run(
        "get",
        "events",
        "-n",
        NS,
        "--sort-by=.lastTimestamp",
        "-o",
        "custom-columns=LAST:.lastTimestamp,REASON:.reason,COUNT:.count",
    ).stdout.splitlines()
    assert out[0].split() == ["LAST", "REASON", "COUNT"]
    rows = [line.split() for line in out[1:]]
    assert [row[0] for row in rows] == sorted(row[0] for row in rows)
    assert {"BackOff", "Started", "Pulled"} <= {row[1] for row in rows}
    assert any(int(row[2]) > 1 for row in rows)  # repeats aggregated into counts


def test_describe_pod_and_previous_logs(crashing_sim: SimThread, kubectl_for: Callable[[Any], Kubectl]) -> None:
    kubectl = kubectl_for(crashing_sim)
    pod = _pods(kubectl, "app=nimify-api")[0]["metadata"]["name"]
    described = kubectl.run("describe", "pod", pod, "-n", NS).stdout
    assert "Reason:       OOMKilled" in described and "Exit Code:    137" in described
    assert "Back-off restarting failed container nimify-api" in described
    assert "Controlled By:  ReplicaSet/nimify-api-" in described
    previous = kubectl.run("logs", pod, "-n", NS, "--previous").stdout
    assert "resident memory" in previous
    for command in (
        ("describe", "nodes"),
        ("describe", "pvc", "model-storage", "-n", NS),
        ("describe", "svc", "nimify-api", "-n", NS),
        ("describe", "ingress", "nimify-ingress", "-n", NS),
        ("describe", "deployment", "nimify-api", "-n", NS),
        ("get", "pv,pvc", "-n", NS),
        ("get", "endpoints,networkpolicies,resourcequota,pdb", "-n", NS),
    ):
        assert kubectl.run(*command).stdout, command


def test_scale_and_the_runbook_patch(
    sim_factory: Callable[..., SimThread], kubectl_for: Callable[[Any], Kubectl], wait_for: Wait
) -> None:
    sim = sim_factory(scenario="crashloop-oom", speed=20.0)
    kubectl = kubectl_for(sim)
    assert "scaled" in kubectl.run("scale", "deployment", "nimify-worker", "--replicas=1", "-n", NS).stdout
    spec = kubectl.run("get", "deployment", "nimify-worker", "-n", NS, "-o", "jsonpath={.spec.replicas}").stdout
    assert spec == "1"
    assert "patched" in kubectl.run("patch", "deployment", "nimify-api", "-n", NS, "-p", RUNBOOK_PATCH).stdout
    limits = kubectl.run(
        "get",
        "deployment",
        "nimify-api",
        "-n",
        NS,
        "-o",
        "jsonpath={.spec.template.spec.containers[0].resources.limits.memory}",
    ).stdout
    assert limits == "2Gi"
    kubectl.run("rollout", "status", "deployment/nimify-api", "-n", NS, "--timeout=25s")
    pods = _pods(kubectl, "app=nimify-api")
    running = [p for p in pods if not p["metadata"].get("deletionTimestamp")]
    assert len(running) == 3
    assert all(p["spec"]["containers"][0]["resources"]["limits"]["memory"] == "2Gi" for p in running)


def test_rollout_history_undo_and_restart(
    sim_factory: Callable[..., SimThread], kubectl_for: Callable[[Any], Kubectl]
) -> None:
    sim = sim_factory(scenario="bad-rollout", speed=20.0)
    kubectl = kubectl_for(sim)
    history = kubectl.run("rollout", "history", "deployment/nimify-api", "-n", NS).stdout
    assert "4         release 1.9.0: gRPC client for Triton" in history
    assert "3         release 1.8.2: tokenizer cache per model" in history
    assert "rolled back" in kubectl.run("rollout", "undo", "deployment/nimify-api", "-n", NS).stdout
    image = kubectl.run(
        "get", "deployment", "nimify-api", "-n", NS, "-o", "jsonpath={.spec.template.spec.containers[0].image}"
    ).stdout
    assert image == "ghcr.io/nimify/nimify-api:1.8.2"
    assert "\n5  " in kubectl.run("rollout", "history", "deployment/nimify-api", "-n", NS).stdout
    kubectl.run("rollout", "status", "deployment/nimify-api", "-n", NS, "--timeout=25s")

    restarted = kubectl.run("rollout", "restart", "deployment", "nginx-ingress-controller", "-n", "ingress-nginx")
    assert "restarted" in restarted.stdout
    annotations = kubectl.run(
        "get",
        "deployment",
        "nginx-ingress-controller",
        "-n",
        "ingress-nginx",
        "-o",
        "jsonpath={.spec.template.metadata.annotations}",
    ).stdout
    assert "kubectl.kubernetes.io/restartedAt" in annotations
    kubectl.run("rollout", "status", "deployment/nginx-ingress-controller", "-n", "ingress-nginx", "--timeout=25s")


def test_edit_replace_and_apply_from_the_runbook(
    sim_factory: Callable[..., SimThread], kubectl_for: Callable[[Any], Kubectl], tmp_path: Path
) -> None:
    kubectl = kubectl_for(sim_factory(scenario="healthy"))
    editor = "sed -i s/timeout_s:\\ 5/timeout_s:\\ 9/"
    edited = kubectl.run("edit", "configmap", "nimify-config", "-n", NS, env={"EDITOR": editor})
    assert "edited" in edited.stdout
    config = kubectl.run("get", "configmap", "nimify-config", "-n", NS, "-o", "jsonpath={.data.config\\.yaml}")
    assert "timeout_s: 9" in config.stdout
    manifest = tmp_path / "deployment.yaml"
    manifest.write_text(kubectl.run("get", "deployment", "nimify-worker", "-n", NS, "-o", "yaml").stdout)
    manifest.write_text(manifest.read_text().replace("replicas: 2", "replicas: 3", 1))
    assert "replaced" in kubectl.run("replace", "-f", str(manifest)).stdout
    stale = kubectl.run("replace", "-f", str(manifest), check=False)
    assert stale.returncode != 0 and "the object has been modified" in stale.stderr
    claim = tmp_path / "claim.yaml"
    claim.write_text(NEW_CLAIM)
    assert "created" in kubectl.run("apply", "-f", str(claim)).stdout
    bound = kubectl.run("get", "pvc", "model-storage-new", "-n", NS, "-o", "jsonpath={.status.phase}")
    assert bound.stdout == "Bound"


def test_auth_can_i(healthy_sim: SimThread, kubectl_for: Callable[[Any], Kubectl]) -> None:
    kubectl = kubectl_for(healthy_sim)
    admin = kubectl.run("auth", "can-i", "delete", "pods", "-n", NS)
    assert (admin.returncode, admin.stdout.strip()) == (0, "yes")
    readonly = kubectl.run("--context", "sim-readonly", "auth", "can-i", "delete", "pods", "-n", NS, check=False)
    assert (readonly.returncode, readonly.stdout.strip()) == (1, "no")
    reading = kubectl.run("--context", "sim-readonly", "auth", "can-i", "list", "pods", "-n", NS)
    assert reading.stdout.strip() == "yes"
    refused = kubectl.run("--context", "sim-readonly", "scale", "deployment", "nimify-api", "--replicas=1", check=False)
    assert refused.returncode != 0 and 'User "sim-readonly" cannot patch resource "deployments/scale"' in refused.stderr


def test_top_and_the_service_proxy(healthy_sim: SimThread, kubectl_for: Callable[[Any], Kubectl]) -> None:
    kubectl = kubectl_for(healthy_sim)
    top = kubectl.run("top", "pods", "-n", NS).stdout.splitlines()
    assert top[0].split() == ["NAME", "CPU(cores)", "MEMORY(bytes)"] and len(top) == 7
    nodes = kubectl.run("top", "nodes").stdout.splitlines()
    assert nodes[0].split()[:3] == ["NAME", "CPU(cores)", "CPU(%)"] and len(nodes) == 5
    live = kubectl.run(
        "get", "--raw", "/api/v1/namespaces/triton-system/services/triton-server:8000/proxy/v2/health/live"
    )
    assert live.stdout == ""
    server = json.loads(
        kubectl.run("get", "--raw", "/api/v1/namespaces/triton-system/services/triton-server:8000/proxy/v2").stdout
    )
    assert server["name"] == "triton"


def test_get_pods_watch(healthy_sim: SimThread, kubectl_for: Callable[[Any], Kubectl]) -> None:
    kubectl = kubectl_for(healthy_sim)
    watcher = kubectl.popen("get", "pods", "-n", NS, "--watch")
    killer = threading.Timer(20.0, watcher.kill)  # a hung kubectl must not hang the suite
    killer.start()
    try:
        assert watcher.stdout is not None
        lines = [watcher.stdout.readline() for _ in range(7)]
    finally:
        watcher.kill()
        killer.cancel()
        watcher.wait(timeout=10)
    assert lines[0].split()[0] == "NAME"
    assert sum(1 for line in lines[1:] if line.startswith(("nimify-api-", "nimify-worker-", "postgres-"))) == 6
