"""Node evidence against real kubectl: our "Allocated resources" against ``kubectl describe node``, and the
kubelet summary the simulator serves through the node proxy against ``kubectl get --raw``."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from nimify_tui.kube.allocation import node_allocation, read_node_pods
from nimify_tui.kube.client import KubeClient
from nimify_tui.kube.kubelet_stats import summary_path, volume_usage
from nimify_tui.kube.records import NodeRecord
from nimify_tui.sim.k8s.kubeconfig import write_kubeconfig
from nimify_tui.sim.server import SimThread

if TYPE_CHECKING:
    from tests.sim.conftest import Kubectl

pytestmark = pytest.mark.kubectl


def kubectl_allocated(described: str) -> dict[str, tuple[str, ...]]:
    """The rows of kubectl's "Allocated resources" table: resource -> (requests, limits)."""
    section = described[described.index("Allocated resources:") : described.index("Events:")]
    rows = [re.split(r"\s{2,}", line.strip()) for line in section.splitlines()[2:] if line.strip()]
    return {row[0]: tuple(row[1:]) for row in rows[2:]}


def test_allocated_resources_match_kubectl_describe_node(kubectl_for: Callable[[Any], Kubectl], tmp_path: Path) -> None:
    # nimify-worker scaled to 30 fills the CPU nodes: requests near 100 %, limits over it; the GPU nodes have GPUs
    with SimThread(scenario="resource-exhaustion", speed=0.0) as sim:
        kubectl = kubectl_for(sim)
        write_kubeconfig(sim, tmp_path / "kubeconfig")
        client = KubeClient.from_kubeconfig(str(tmp_path / "kubeconfig"), "sim-admin")
        try:
            nodes = [NodeRecord.from_raw(raw) for raw in client.get_json("/api/v1/nodes")["items"]]
            assert any(n.gpu_capacity for n in nodes) and any(not n.gpu_capacity for n in nodes)
            for node in nodes:
                theirs = kubectl_allocated(kubectl.run("describe", "node", node.name).stdout)
                ours = node_allocation(node, read_node_pods(client, node.name))
                for allocated in ours.resources:
                    expected = theirs[allocated.resource]
                    assert (allocated.text("requests"), allocated.text("limits")) == expected, node.name
                assert {"cpu", "memory"} <= {a.resource for a in ours.resources}
                assert ("nvidia.com/gpu" in theirs) == (ours.of("nvidia.com/gpu") is not None), node.name
        finally:
            client.close()


def test_the_kubelet_summary_through_the_node_proxy(
    healthy_sim: SimThread, kubectl_for: Callable[[Any], Kubectl]
) -> None:
    kubectl = kubectl_for(healthy_sim)
    node = healthy_sim.call(lambda world: next(r.node for r in world.kubelet.runs.values() if r.app == "nimify-api"))
    summary = json.loads(kubectl.run("get", "--raw", summary_path(node)).stdout)
    assert summary["node"]["nodeName"] == node
    usage = volume_usage(summary)[("nimify-system", "model-storage")]
    assert (usage.node, usage.capacity_bytes, usage.used_bytes) == (node, 100 * 2**30, 61 * 2**30)
    assert usage.available_bytes == usage.capacity_bytes - usage.used_bytes
    unknown = kubectl.run("get", "--raw", f"/api/v1/nodes/{node}/proxy/healthz/nothing", check=False)
    assert unknown.returncode != 0 and "NotFound" in unknown.stderr
    missing = kubectl.run("get", "--raw", summary_path("no-such-node"), check=False)
    assert 'nodes "no-such-node" not found' in missing.stderr
