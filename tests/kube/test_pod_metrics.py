"""Pod usage from metrics.k8s.io: the list read along the fields it needs (typed) gives what reading it as any JSON
gives, on the simulator's API and on a real capture; a list of another shape is read field by field, and data that
is not JSON gets the client's clear error."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from nimify_tui.kube.client import KubeClient
from nimify_tui.kube.errors import KubeError
from nimify_tui.kube.metrics_api import METRICS_API, Usage, read_pod_metrics
from nimify_tui.kube.pod_metrics_list import typed_pod_usages
from nimify_tui.kube.quantity import quantity_float
from nimify_tui.sim.k8s.kubeconfig import write_kubeconfig
from nimify_tui.sim.server import SimThread

from ..conftest import real_json


def as_any_json(body: dict[str, object], namespace: str) -> dict[tuple[str, str], Usage]:
    """The usage per pod, read from the parsed JSON the plain way: the reference."""
    usage: dict[tuple[str, str], Usage] = {}
    for item in body["items"]:  # type: ignore[attr-defined]
        cpu = sum(quantity_float(c["usage"]["cpu"], 1000) or 0.0 for c in item["containers"])
        memory = sum(quantity_float(c["usage"]["memory"]) or 0.0 for c in item["containers"])
        usage[(item["metadata"].get("namespace", namespace), item["metadata"]["name"])] = Usage(cpu, memory)
    return usage


def test_the_simulators_lists_read_typed_as_any_json_reads_them(healthy_sim: SimThread, tmp_path: Path) -> None:
    write_kubeconfig(healthy_sim, tmp_path / "kubeconfig")
    client = KubeClient.from_kubeconfig(str(tmp_path / "kubeconfig"), "sim-admin")
    namespaces = ("nimify-system", "triton-system")
    expected: dict[tuple[str, str], Usage] = {}
    for namespace in namespaces:
        data = client.request("GET", f"{METRICS_API}/namespaces/{namespace}/pods")
        assert typed_pod_usages(data, namespace) is not None, "the usual shape is read typed"
        plain = as_any_json(orjson.loads(data), namespace)
        assert read_pod_metrics(Canned(data), (namespace,)) == plain  # type: ignore[arg-type]
        expected.update(plain)
    got = read_pod_metrics(client, namespaces)  # read later: pods may have come or gone meanwhile
    assert len(got) >= 4 and {ns for ns, _name in got} == set(namespaces)
    assert len(set(got) & set(expected)) >= 4
    assert all(usage.cpu_millicores >= 0 and usage.memory_bytes > 0 for usage in got.values())


def test_a_real_metrics_server_list_read_typed() -> None:
    body = real_json("k8s/07_metrics_nodemetrics_podmetrics__k8s_docs.json")[
        "pod_metrics_list_2018_cytopia_metrics-server-prom_README"
    ]
    typed = typed_pod_usages(orjson.dumps(body), "default")
    assert typed is not None and [(ns, name) for ns, name, _ in typed] == [("kube-system", "etcd-server-events-abc")]
    texts = typed[0][2]
    assert texts and all(isinstance(cpu, str) and isinstance(memory, str) for cpu, memory in texts)


class Canned:
    """A client whose GETs answer one body (what a malformed metrics API sends)."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def request(self, method: str, path: str) -> bytes:
        return self.data


def test_a_list_of_another_shape_is_read_field_by_field() -> None:
    body = {
        "items": [
            {"metadata": {"name": "a"}, "containers": [{"usage": {"cpu": 250, "memory": "64Mi"}}]},  # a number
            {"metadata": {"name": "b", "namespace": "other"}, "containers": None},
            {"metadata": None, "containers": [{"usage": None}, "not an object"]},
            "not an item",
        ]
    }
    data = orjson.dumps(body)
    assert typed_pod_usages(data, "ns") is None
    got = read_pod_metrics(Canned(data), ("ns",))  # type: ignore[arg-type]
    assert got[("ns", "a")] == Usage(250_000.0, 64 * 2**20)
    assert got[("other", "b")] == Usage(0.0, 0.0)
    assert got[("ns", "")] == Usage(0.0, 0.0)


def test_data_that_is_not_json_gets_the_clients_error() -> None:
    with pytest.raises(KubeError, match="not JSON"):
        read_pod_metrics(Canned(b"<html>bad gateway</html>"), ("ns",))  # type: ignore[arg-type]
