"""The simulator at scale: extra pods spread over namespaces and nodes, the log generator, and bad options."""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from collections.abc import Callable

import httpx
import pytest

from nimify_tui.sim.k8s.layout import LOAD_PODS_PER_NODE, load_namespaces, node_plans
from nimify_tui.sim.scenarios import build_world
from nimify_tui.sim.server import SimThread


def run_sim(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "nimify_tui", "sim", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--pods", "-1"], "invalid count -1"),
        (["--pods", "abc"], "invalid count 'abc'"),
        (["--pods", "1.5"], "invalid count '1.5'"),
        (["--namespaces", "no-such"], "unknown namespace 'no-such'"),
        (["--namespaces", "default,nope"], "unknown namespace 'nope'"),
        (["--namespaces", ","], "no namespace named"),
        (["--scenario", "no-such"], "unknown scenario 'no-such'"),
        (["--speed", "fast"], "invalid rate 'fast'"),
        (["--speed", "-2"], "invalid rate '-2'"),
        (["--speed", "inf"], "invalid rate 'inf'"),
        (["--event-rate", "nan"], "invalid rate 'nan'"),
        (["--log-rate", "-5"], "invalid rate '-5'"),
        (["--log-rate", "lots"], "invalid rate 'lots'"),
        (["--port", "99999"], "invalid port 99999"),
        (["--pods"], "expected one argument"),
    ],
)
def test_a_bad_simulator_option_is_one_line_and_exit_2(args: list[str], expected: str) -> None:
    result = run_sim(*args, "--kubeconfig-out", "/nonexistent/never-written")
    assert result.returncode == 2, result.stderr
    assert expected in result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_namespaces_all_is_every_simulated_namespace_but_the_leases() -> None:
    names = load_namespaces("all")
    assert "kube-node-lease" not in names
    assert {"default", "kube-system", "nimify-system", "triton-system", "monitoring", "ingress-nginx"} == set(names)
    assert load_namespaces(" default , monitoring,default") == ("default", "monitoring")


def test_cpu_nodes_are_added_as_the_load_needs_them() -> None:
    assert [plan.name for plan in node_plans(2 * LOAD_PODS_PER_NODE)] == [
        "cpu-node-1",
        "cpu-node-2",
        "gpu-node-1",
        "gpu-node-2",
    ]
    plans = node_plans(50_000)
    added = [plan.name for plan in plans[4:]]
    assert added == [f"cpu-node-{n}" for n in range(3, 11)]
    assert len({plan.ip for plan in plans}) == len(plans)
    assert len({plan.pod_cidr for plan in plans}) == len(plans)
    assert all(plan.gpus == 0 for plan in plans[4:])


def test_extra_pods_past_two_nodes_are_all_scheduled_and_spread_over_the_namespaces() -> None:
    pods = 2 * LOAD_PODS_PER_NODE + 300
    world = build_world("healthy", pods=pods, namespaces=("default", "monitoring", "kube-system"))
    load = [p for p in world.store.list("pods") if p["metadata"]["name"].startswith("load-gen-")]
    assert len(load) == pods
    by_namespace = Counter(p["metadata"]["namespace"] for p in load)
    assert set(by_namespace) == {"default", "monitoring", "kube-system"}
    assert max(by_namespace.values()) - min(by_namespace.values()) <= 100  # deployments of 100, in turn
    assert {p["status"]["phase"] for p in load} == {"Running"}
    nodes = Counter(p["spec"]["nodeName"] for p in load)
    assert "cpu-node-3" in nodes
    assert not any(name.startswith("gpu-") for name in nodes)  # the GPU nodes' taint keeps them off
    deployments = [d for d in world.store.list("deployments.apps") if d["metadata"]["name"].startswith("load-gen-")]
    assert all(d["status"].get("availableReplicas") == d["spec"]["replicas"] for d in deployments)


def test_the_log_generator_writes_every_numbered_line_a_follower_asks_for(
    sim_factory: Callable[..., SimThread],
) -> None:
    """A follow of the log-gen pod's log gets consecutive numbers with none missing, at 2,000 lines a second."""
    sim = sim_factory(scenario="healthy", log_rate=2000.0)
    pods = sim.call(lambda world: [p["metadata"]["name"] for p in world.store.list("pods", "nimify-system")])
    (name,) = [p for p in pods if p.startswith("log-gen-")]
    url = f"{sim.url}/api/v1/namespaces/nimify-system/pods/{name}/log?follow=true"
    numbers: list[int] = []
    with (
        httpx.Client(headers={"Authorization": f"Bearer {sim.admin_token}"}, timeout=10) as http,
        http.stream("GET", url) as response,
    ):
        assert response.status_code == 200
        for line in response.iter_lines():
            found = re.search(r"seq=(\d+)$", line)
            if found:
                numbers.append(int(found.group(1)))
            if len(numbers) >= 6000:
                break
    assert numbers == list(range(numbers[0], numbers[0] + len(numbers)))
