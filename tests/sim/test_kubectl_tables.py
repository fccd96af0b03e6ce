"""The simulated API server's Tables, printed by the real kubectl: the columns a real server prints for
pods, deployments, nodes, events, services and claims, ``-o wide``, and ``--watch``."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

from nimify_tui.sim.k8s import tables
from nimify_tui.sim.k8s.objects import parse_time
from nimify_tui.sim.server import SimThread

if TYPE_CHECKING:
    from tests.sim.conftest import Kubectl

pytestmark = pytest.mark.kubectl
NS = "nimify-system"
Wait = Callable[..., Any]


@pytest.fixture(scope="module")
def crashing_sim() -> Iterator[SimThread]:
    """The crash-looping cluster, shared by the read-only tests of this module."""
    with SimThread(scenario="crashloop-oom") as sim:
        yield sim


def _rows(out: str) -> tuple[list[str], list[list[str]]]:
    """The header and rows of kubectl's table, split on runs of two or more spaces."""
    lines = [re.split(r"\s{2,}", line.strip()) for line in out.splitlines() if line.strip()]
    return lines[0], lines[1:]


def test_get_pods_prints_ready_status_and_restarts(
    crashing_sim: SimThread, kubectl_for: Callable[[Any], Kubectl], wait_for: Wait
) -> None:
    kubectl = kubectl_for(crashing_sim)

    def crash_looping() -> list[list[str]] | None:
        header, rows = _rows(kubectl.run("get", "pods", "-n", NS).stdout)
        assert header == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
        api = [row for row in rows if row[0].startswith("nimify-api-")]
        return api if api and all(row[2] == "CrashLoopBackOff" for row in api) else None

    api_rows = wait_for(crash_looping, "the api pods to show CrashLoopBackOff")
    assert len(api_rows) == 3
    for _, ready, _, restarts, age in api_rows:
        assert ready == "0/1"
        assert re.fullmatch(r"[1-9]\d* \(\d+(s|m\d*s?)\sago\)", restarts), restarts
        assert re.fullmatch(r"\d+d(\d+h)?", age), age
    _, rows = _rows(kubectl.run("get", "pods", "-n", NS, "-l", "app=nimify-worker").stdout)
    assert [row[1:4] for row in rows] == [["1/1", "Running", "0"]] * 2


def test_get_pods_wide_shows_ip_and_node(crashing_sim: SimThread, kubectl_for: Callable[[Any], Kubectl]) -> None:
    kubectl = kubectl_for(crashing_sim)
    header, rows = _rows(kubectl.run("get", "pods", "-n", NS, "-o", "wide").stdout)
    assert header == [
        "NAME",
        "READY",
        "STATUS",
        "RESTARTS",
        "AGE",
        "IP",
        "NODE",
        "NOMINATED NODE",
        "READINESS GATES",
    ]
    assert len(rows) == 6
    assert all(re.fullmatch(r"10\.\d+\.\d+\.\d+", row[5]) for row in rows)
    assert {row[6] for row in rows} <= {"cpu-node-1", "cpu-node-2"}
    assert all(row[7:] == ["<none>", "<none>"] for row in rows)
    one = kubectl.run("get", "pod", rows[0][0], "-n", NS).stdout
    assert _rows(one)[1][0][:3] == rows[0][:3]


def test_get_deployments(crashing_sim: SimThread, kubectl_for: Callable[[Any], Kubectl]) -> None:
    kubectl = kubectl_for(crashing_sim)
    header, rows = _rows(kubectl.run("get", "deploy", "-n", NS).stdout)
    assert header == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    by_name = {row[0]: row for row in rows}
    assert by_name["nimify-api"][1:4] == ["0/3", "3", "0"]
    assert by_name["nimify-worker"][1:4] == ["2/2", "2", "2"]
    header, rows = _rows(kubectl.run("get", "deploy", "postgres", "-n", NS, "-o", "wide").stdout)
    assert header[5:] == ["CONTAINERS", "IMAGES", "SELECTOR"]
    assert rows[0][5] == "postgres" and rows[0][7] == "app=postgres"


def test_get_nodes(crashing_sim: SimThread, kubectl_for: Callable[[Any], Kubectl]) -> None:
    kubectl = kubectl_for(crashing_sim)
    header, rows = _rows(kubectl.run("get", "nodes").stdout)
    assert header == ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]
    assert [row[0] for row in rows] == ["cpu-node-1", "cpu-node-2", "gpu-node-1", "gpu-node-2"]
    assert all(row[1] == "Ready" and row[4].startswith("v1.") for row in rows)
    header, rows = _rows(kubectl.run("get", "nodes", "-o", "wide").stdout)
    assert header[5:7] == ["INTERNAL-IP", "EXTERNAL-IP"]
    assert all(re.fullmatch(r"\d+\.\d+\.\d+\.\d+", row[5]) for row in rows)


def test_get_events(crashing_sim: SimThread, kubectl_for: Callable[[Any], Kubectl], wait_for: Wait) -> None:
    kubectl = kubectl_for(crashing_sim)

    def backoff_rows() -> list[list[str]]:
        header, rows = _rows(kubectl.run("get", "events", "-n", NS).stdout)
        assert header == ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
        return [row for row in rows if row[2] == "BackOff"]

    backoffs = wait_for(backoff_rows, "BackOff events")
    for last_seen, kind, _, involved, message in backoffs:
        assert re.fullmatch(r"\d+(s|m\d*s?)", last_seen), last_seen
        assert kind == "Warning" and involved.startswith("pod/nimify-api-")
        assert message.startswith("Back-off restarting failed container nimify-api")


def test_get_services_claims_and_other_kinds(crashing_sim: SimThread, kubectl_for: Callable[[Any], Kubectl]) -> None:
    kubectl = kubectl_for(crashing_sim)
    header, rows = _rows(kubectl.run("get", "svc", "nimify-api", "-n", NS).stdout)
    assert header == ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"]
    assert rows[0][1:5] == ["ClusterIP", "10.100.10.20", "<none>", "8000/TCP,9090/TCP"]
    header, rows = _rows(kubectl.run("get", "pvc", "-n", NS).stdout)
    assert header[:6] == ["NAME", "STATUS", "VOLUME", "CAPACITY", "ACCESS MODES", "STORAGECLASS"]
    assert rows[0][0] == "model-storage" and rows[0][1] == "Bound" and rows[0][3:6] == ["100Gi", "RWX", "cephfs"]
    header, rows = _rows(kubectl.run("get", "configmaps", "-n", NS).stdout)
    assert header == ["NAME", "AGE"] and rows[0][0] == "nimify-config"


def test_watch_prints_table_rows_under_one_header(
    sim_factory: Callable[..., SimThread], kubectl_for: Callable[[Any], Kubectl], wait_for: Wait
) -> None:
    kubectl = kubectl_for(sim_factory(scenario="healthy"))
    _, rows = _rows(kubectl.run("get", "pods", "-n", NS, "-l", "app=nimify-worker").stdout)
    victim = rows[0][0]
    watcher = kubectl.popen("get", "pods", "-n", NS, "--watch")
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(watcher.stdout.readline, "")), daemon=True)  # type: ignore[union-attr]
    reader.start()
    try:
        wait_for(lambda: len(lines) >= 7, "the initial listing")
        kubectl.run("delete", "pod", victim, "-n", NS, "--wait=false")

        def terminating() -> bool:
            return any(re.split(r"\s{2,}", line.strip())[::2][:2] == [victim, "Terminating"] for line in lines)

        wait_for(terminating, f"a Terminating row for {victim}")
    finally:
        watcher.kill()
        watcher.wait(timeout=10)
    assert re.split(r"\s{2,}", lines[0].strip()) == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert sum(1 for line in lines if line.startswith("NAME")) == 1


def _pod(containers: list[dict[str, Any]], **status: Any) -> dict[str, Any]:
    names = [{"name": c["name"]} for c in containers]
    return {
        "metadata": {"name": "p", "creationTimestamp": "2026-01-01T00:00:00Z"},
        "spec": {"containers": names, "initContainers": status.pop("init_specs", [])},
        "status": {"phase": "Running", "containerStatuses": containers, **status},
    }


def _cells(pod: dict[str, Any], now: str = "2026-01-01T01:00:00Z") -> list[Any]:
    row: list[Any] = tables.table("Pod", [pod], parse_time(now))["rows"][0]["cells"]
    return row


def test_pod_status_rules_for_init_containers_and_deletion() -> None:
    waiting = {"name": "app", "ready": False, "restartCount": 0, "state": {"waiting": {"reason": "PodInitializing"}}}
    init_running = {"name": "setup", "ready": False, "restartCount": 0, "state": {"running": {}}}
    pending = _pod([waiting], phase="Pending", init_specs=[{"name": "setup"}], initContainerStatuses=[init_running])
    assert _cells(pending)[1:4] == ["0/1", "Init:0/1", "0"]
    init_crash = {
        "name": "setup",
        "restartCount": 2,
        "state": {"waiting": {"reason": "CrashLoopBackOff"}},
        "lastState": {"terminated": {"exitCode": 1, "finishedAt": "2026-01-01T00:59:00Z"}},
    }
    crashing = _pod([waiting], phase="Pending", init_specs=[{"name": "setup"}], initContainerStatuses=[init_crash])
    assert _cells(crashing)[2:4] == ["Init:CrashLoopBackOff", "2 (60s ago)"]
    done = {"name": "job", "ready": False, "restartCount": 0, "state": {"terminated": {"reason": "Completed"}}}
    serving = {"name": "web", "ready": True, "restartCount": 0, "state": {"running": {}}}
    mixed = _pod([serving, done], conditions=[{"type": "Ready", "status": "False"}])
    assert _cells(mixed)[1:3] == ["1/2", "NotReady"]
    deleting = _pod([serving])
    deleting["metadata"]["deletionTimestamp"] = "2026-01-01T00:59:30Z"
    assert _cells(deleting)[1:3] == ["1/1", "Terminating"]
    signalled = _pod([{"name": "app", "restartCount": 0, "state": {"terminated": {"signal": 9, "exitCode": 137}}}])
    assert _cells(signalled)[2] == "Signal:9"


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (-5, "<invalid>"),
        (59, "59s"),
        (119, "119s"),
        (150, "2m30s"),
        (300, "5m"),
        (3000, "50m"),
        (4 * 3600, "4h"),
        (5 * 3600 + 600, "5h10m"),
        (30 * 3600, "30h"),
        (3 * 86400 + 3600, "3d1h"),
        (40 * 86400, "40d"),
        (3 * 365 * 86400, "3y"),
    ],
)
def test_human_duration(seconds: float, shown: str) -> None:
    assert tables.human_duration(seconds) == shown
