"""The "Allocated resources" of a node, with kubectl's numbers, on real captures and on hand-made pods."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

from nimify_tui.kube.allocation import allocation_by_node, node_allocation, pod_resources
from nimify_tui.kube.quantity import format_quantity
from nimify_tui.kube.records import NodeRecord, PodRecord
from nimify_tui.render.describe import allocated_resources_lines, describe_node

from ..conftest import real_k8s_object


def container(
    name: str, requests: dict[str, str] | None = None, limits: dict[str, str] | None = None, **more: Any
) -> dict[str, Any]:
    return {"name": name, "image": "busybox", "resources": {"requests": requests or {}, "limits": limits or {}}, **more}


def pod(
    name: str,
    containers: list[dict[str, Any]],
    *,
    node: str = "node-1",
    phase: str = "Running",
    init: list[dict[str, Any]] | None = None,
    overhead: dict[str, str] | None = None,
) -> PodRecord:
    spec: dict[str, Any] = {"nodeName": node, "containers": containers, "initContainers": init or []}
    if overhead is not None:
        spec["overhead"] = overhead
    return PodRecord.from_raw({"metadata": {"name": name, "namespace": "ns"}, "spec": spec, "status": {"phase": phase}})


def node(name: str = "node-1", cpu: str = "4", memory: str = "16Gi", gpus: str | None = None) -> NodeRecord:
    allocatable = {"cpu": cpu, "memory": memory, "pods": "110"}
    if gpus is not None:
        allocatable["nvidia.com/gpu"] = gpus
    return NodeRecord.from_raw(
        {"metadata": {"name": name}, "status": {"capacity": allocatable, "allocatable": allocatable}}
    )


def cells(allocation: Any) -> dict[str, tuple[str, str]]:
    return {a.resource: (a.text("requests"), a.text("limits")) for a in allocation.resources}


def test_a_real_pod_on_a_real_node() -> None:
    minikube = NodeRecord.from_raw(real_k8s_object("03_node_minikube__k9s_no.json"))  # 4 cpu, 8063156Ki
    ray = real_k8s_object("01_pod_oomkilled_restarted__kuberay_issue4356.converted.json")  # 300m/500m, 1G/2G
    ray["spec"]["nodeName"] = "minikube"
    haproxy = real_k8s_object("01b_pod_crashloopbackoff__kubesphere_issue4920.converted.json")  # no resources at all
    haproxy["spec"]["nodeName"] = "minikube"
    allocation = node_allocation(minikube, [PodRecord.from_raw(ray), PodRecord.from_raw(haproxy)])
    assert allocation.pods == 2
    # 1G of 8063156Ki is 12.1 %, 2G 24.2 %: kubectl truncates
    assert cells(allocation) == {"cpu": ("300m (7%)", "500m (12%)"), "memory": ("1G (12%)", "2G (24%)")}


def test_kubectls_example_and_which_pods_count() -> None:
    pods = [
        pod("a", [container("app", {"cpu": "3", "memory": "1Gi"}, {"cpu": "3", "memory": "2Gi"})]),
        pod("b", [container("app", {"cpu": "750m", "memory": "512Mi"}, {"cpu": "1"})]),
        pod("done", [container("app", {"cpu": "1"})], phase="Succeeded"),
        pod("failed", [container("app", {"cpu": "1"})], phase="Failed"),
        pod("elsewhere", [container("app", {"cpu": "1"})], node="node-2"),
        pod("pending-here", [container("app", {"memory": "512Mi"})], phase="Pending"),  # bound: it counts
    ]
    allocation = node_allocation(node(), pods)
    assert allocation.pods == 3
    assert cells(allocation) == {"cpu": ("3750m (93%)", "4 (100%)"), "memory": ("2Gi (12%)", "2Gi (12%)")}
    cpu = allocation.of("cpu")
    assert cpu is not None and (cpu.percent("requests"), cpu.percent("limits")) == (93, 100)
    assert allocation.of("nvidia.com/gpu") is None, "no GPU row on a node without GPUs"


def test_sums_keep_the_format_of_the_first_quantity_that_is_not_zero() -> None:
    binary = node_allocation(
        node(), [pod("a", [container("x", {"memory": "1Gi"}), container("y", {"memory": "512Mi"})])]
    )
    decimal = node_allocation(
        node(), [pod("a", [container("x", {"memory": "1G"}), container("y", {"memory": "512Mi"})])]
    )
    zero_first = node_allocation(
        node(), [pod("a", [container("x", {"memory": "0"}), container("y", {"memory": "1Gi"})])]
    )
    assert cells(binary)["memory"][0] == "1536Mi (9%)"
    assert cells(decimal)["memory"][0] == "1536870912 (8%)"
    assert cells(zero_first)["memory"][0] == "1Gi (6%)"


def test_init_containers_sidecars_and_overhead() -> None:
    plain_init = pod(
        "a",
        [container("app", {"cpu": "100m"}), container("helper", {"cpu": "100m"})],
        init=[container("migrate", {"cpu": "500m"})],
    )
    assert format_quantity(pod_resources(plain_init, "requests")["cpu"]) == "500m", "the largest init container"
    with_sidecar = pod(
        "b",
        [container("app", {"cpu": "100m"})],
        init=[
            container("setup", {"cpu": "250m"}),  # runs alone: 250m
            container("proxy", {"cpu": "200m"}, restartPolicy="Always"),  # keeps running next to everything after
            container("warm", {"cpu": "300m"}),  # runs next to the proxy: 500m
        ],
    )
    assert format_quantity(pod_resources(with_sidecar, "requests")["cpu"]) == "500m"
    sidecar_wins = pod(
        "c", [container("app", {"cpu": "1"})], init=[container("proxy", {"cpu": "200m"}, restartPolicy="Always")]
    )
    assert format_quantity(pod_resources(sidecar_wins, "requests")["cpu"]) == "1200m"
    overhead = pod(
        "d",
        [container("app", {"cpu": "1", "memory": "1Gi"}, {"memory": "1Gi"})],
        overhead={"cpu": "250m", "memory": "120Mi"},
    )
    requests, limits = pod_resources(overhead, "requests"), pod_resources(overhead, "limits")
    assert {k: format_quantity(v) for k, v in requests.items()} == {"cpu": "1250m", "memory": "1144Mi"}
    assert {k: format_quantity(v) for k, v in limits.items()} == {"memory": "1144Mi"}, "no cpu limit: none added"


def test_gpus_are_shown_without_a_percentage() -> None:
    gpu_pods = [
        pod(f"triton-{i}", [container("triton", {"nvidia.com/gpu": "1"}, {"nvidia.com/gpu": "1"})]) for i in range(2)
    ]
    allocation = node_allocation(node(cpu="48", memory="376Gi", gpus="8"), gpu_pods)
    gpus = allocation.of("nvidia.com/gpu")
    assert gpus is not None and gpus.percent("requests") is None
    assert cells(allocation)["nvidia.com/gpu"] == ("2", "2")
    lost = node(cpu="48", memory="376Gi", gpus="8")
    lost = dataclasses.replace(lost, gpu_allocatable=0)  # every GPU fell off the bus: the row stays
    assert cells(node_allocation(lost, gpu_pods))["nvidia.com/gpu"] == ("2", "2")


def test_every_node_in_one_pass() -> None:
    pods = [pod("a", [container("app", {"cpu": "1"})]), pod("b", [container("app", {"cpu": "2"})], node="node-2")]
    by_node = allocation_by_node([node(), node("node-2"), node("node-3")], pods)
    assert {name: cells(a)["cpu"][0] for name, a in by_node.items()} == {
        "node-1": "1 (25%)",
        "node-2": "2 (50%)",
        "node-3": "0 (0%)",
    }


def test_the_describe_section_is_aligned_as_kubectl_aligns_it() -> None:
    pods = [
        pod(
            "t",
            [
                container(
                    "triton",
                    {"cpu": "3750m", "memory": "16Gi", "nvidia.com/gpu": "1"},
                    {"cpu": "4", "nvidia.com/gpu": "1"},
                )
            ],
        )
    ]
    allocation = node_allocation(node(memory="64Gi", gpus="4"), pods)
    assert allocated_resources_lines(allocation) == [
        "Allocated resources:",
        "  (Total limits may be over 100 percent, i.e., overcommitted.)",
        "  Resource        Requests     Limits",
        "  --------        --------     ------",
        "  cpu             3750m (93%)  4 (100%)",
        "  memory          16Gi (25%)   0 (0%)",
        "  nvidia.com/gpu  1            1",
    ]
    raw = {"metadata": {"name": "node-1"}, "status": {"allocatable": {"cpu": "4"}}}
    text = describe_node(raw, [], time.time(), allocation, "pods of the watched namespaces only: \x1b[2Jforbidden")
    assert text.endswith(
        "\n".join(allocated_resources_lines(allocation, "pods of the watched namespaces only: forbidden"))
    )
    assert "  (pods of the watched namespaces only: forbidden)" in text and "\x1b" not in text
    assert "Allocated resources" not in describe_node(raw, [], time.time())
