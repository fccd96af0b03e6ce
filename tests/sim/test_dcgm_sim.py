"""The simulated dcgm-exporter over loopback HTTP, compared with the real captures."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import pytest
from aiohttp import test_utils
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from nimify_tui.sim.contract import InClusterServer, SimGPU
from nimify_tui.sim.dcgm import DcgmSim

from ..conftest import REAL_CAPTURES
from ..in_cluster_http import app_for
from ..plain_world import PlainWorld
from .promtool_lint import lint_advice_only

REAL_DCGM = REAL_CAPTURES / "dcgm"
BASE_LABELS = ["gpu", "UUID", "pci_bus_id", "device", "modelName", "Hostname", "DCGM_FI_DRIVER_VERSION"]
POD_LABELS = ["container", "namespace", "pod"]


def cluster_gpus() -> list[SimGPU]:
    return [
        SimGPU(
            "gpu-node-1",
            0,
            "GPU-aaaa",
            pci_bus_id="00000000:18:00.0",
            pod="triton-server-7d9f-abcde",
            namespace="triton-system",
            container="triton",
            utilization_pct=63.4,
            memory_used_mib=31_000.4,
            temperature_c=61.2,
            power_w=402.5,
        ),
        SimGPU("gpu-node-1", 1, "GPU-bbbb", pci_bus_id="00000000:2a:00.0"),
        SimGPU("gpu-node-2", 0, "GPU-cccc", healthy=False, last_xid=79, utilization_pct=40.0),
    ]


@dataclass
class Served:
    world: PlainWorld
    dcgm: DcgmSim
    session: aiohttp.ClientSession
    base_url: str

    async def scrape(self, server: InClusterServer | None = None) -> list[Sample]:
        if server is None:
            return await self._get(self.base_url + "/metrics")
        site = test_utils.TestServer(app_for(server, 9400), host="127.0.0.1")
        await site.start_server()
        try:
            return await self._get(f"http://127.0.0.1:{site.port}/metrics")
        finally:
            await site.close()

    async def _get(self, url: str) -> list[Sample]:
        async with self.session.get(url) as response:
            assert response.status == 200
            assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
            text = await response.text()
        return [sample for family in text_string_to_metric_families(text) for sample in family.samples]


@pytest.fixture
async def served() -> AsyncIterator[Served]:
    world = PlainWorld(gpu_list=cluster_gpus())
    dcgm = DcgmSim(world)
    site = test_utils.TestServer(app_for(dcgm, 9400), host="127.0.0.1")
    await site.start_server()
    async with aiohttp.ClientSession() as session:
        yield Served(world, dcgm, session, f"http://127.0.0.1:{site.port}")
    await site.close()


def value(samples: list[Sample], name: str, uuid: str) -> float:
    matches = [s.value for s in samples if s.name == name and s.labels["UUID"] == uuid]
    assert len(matches) == 1, (name, uuid, matches)
    return matches[0]


def label_names(line: str) -> list[str]:
    return re.findall(r'([A-Za-z_][A-Za-z0-9_]*)="', line.split("{", 1)[1].rsplit("}", 1)[0])


async def test_gpus_are_reported_with_the_exporters_labels_and_values(served: Served) -> None:
    samples = await served.scrape()
    held = next(s for s in samples if s.name == "DCGM_FI_DEV_GPU_UTIL" and s.labels["UUID"] == "GPU-aaaa")
    assert held.labels == {
        "gpu": "0",
        "UUID": "GPU-aaaa",
        "pci_bus_id": "00000000:18:00.0",
        "device": "nvidia0",
        "modelName": "NVIDIA H100 80GB HBM3",
        "Hostname": "gpu-node-1",
        "DCGM_FI_DRIVER_VERSION": held.labels["DCGM_FI_DRIVER_VERSION"],
        "container": "triton",
        "namespace": "triton-system",
        "pod": "triton-server-7d9f-abcde",
    }
    idle = next(s for s in samples if s.name == "DCGM_FI_DEV_GPU_UTIL" and s.labels["UUID"] == "GPU-bbbb")
    assert set(idle.labels) == set(BASE_LABELS)  # no pod holds it
    assert held.value == 63
    assert value(samples, "DCGM_FI_DEV_FB_USED", "GPU-aaaa") == 31_000
    assert value(samples, "DCGM_FI_DEV_FB_FREE", "GPU-aaaa") < 81_559 - 31_000
    assert value(samples, "DCGM_FI_DEV_GPU_TEMP", "GPU-aaaa") == 61
    assert value(samples, "DCGM_FI_DEV_POWER_USAGE", "GPU-aaaa") == 402.5
    assert value(samples, "DCGM_FI_DEV_XID_ERRORS", "GPU-aaaa") == 0
    assert value(samples, "DCGM_FI_DEV_SM_CLOCK", "GPU-aaaa") > value(samples, "DCGM_FI_DEV_SM_CLOCK", "GPU-bbbb")
    assert 0.0 < value(samples, "DCGM_FI_PROF_GR_ENGINE_ACTIVE", "GPU-aaaa") < 1.0
    assert value(samples, "DCGM_FI_PROF_GR_ENGINE_ACTIVE", "GPU-bbbb") == 0.0


async def test_the_text_has_the_shape_of_the_real_captures(served: Served) -> None:
    plain, k8s = REAL_DCGM / "dcgm_sample.txt", REAL_DCGM / "dcgm_sample_k8s_labels.txt"
    ours = served.dcgm.metrics_text().decode().splitlines()
    held_line = next(line for line in ours if line.startswith("DCGM_FI_DEV_GPU_UTIL{") and "GPU-aaaa" in line)
    names = label_names(held_line)
    real_plain = next(line for line in plain.read_text().splitlines() if line.startswith("DCGM_FI_DEV_GPU_UTIL{"))
    real_k8s = next(line for line in k8s.read_text().splitlines() if not line.startswith("#"))
    assert names[:6] == label_names(real_plain)[:6]  # gpu, UUID, pci_bus_id, device, modelName, Hostname
    assert names[-3:] == label_names(real_k8s)[-3:] == POD_LABELS  # pod attribution comes last
    real_meta = {
        tuple(line.split()[1:3]): line
        for path in (plain, k8s)
        for line in path.read_text().splitlines()
        if line.startswith(("# HELP ", "# TYPE "))
    }
    compared = [line for line in ours if line.startswith("# ") and tuple(line.split()[1:3]) in real_meta]
    for line in compared:
        assert line == real_meta[tuple(line.split()[1:3])]
    assert len(compared) == 2 * 15  # HELP and TYPE of every family both texts have


async def test_a_node_exporter_serves_only_its_nodes_gpus(served: Served) -> None:
    node_one = await served.scrape(served.dcgm.for_node("gpu-node-1"))
    assert {s.labels["UUID"] for s in node_one} == {"GPU-aaaa", "GPU-bbbb"}
    assert {s.labels["Hostname"] for s in node_one} == {"gpu-node-1"}
    everyone = await served.scrape()
    assert {s.labels["UUID"] for s in everyone} == {"GPU-aaaa", "GPU-bbbb", "GPU-cccc"}
    assert await served.scrape(served.dcgm.for_node("cpu-node-9")) == []


async def test_a_gpu_that_fell_off_the_bus_reports_only_its_last_xid(served: Served) -> None:
    samples = await served.scrape()
    fallen = [s for s in samples if s.labels["UUID"] == "GPU-cccc"]
    assert [(s.name, s.value) for s in fallen] == [("DCGM_FI_DEV_XID_ERRORS", 79)]


async def test_energy_grows_with_power_and_is_counted_once(served: Served) -> None:
    before = await served.scrape()
    node_one = served.dcgm.for_node("gpu-node-1")
    for _ in range(10):
        served.dcgm.tick(1.0)
        node_one.tick(1.0)  # the node views share the one clock: ticking them adds nothing
    after = await served.scrape()
    energy = "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION_total"  # the parser names counter samples *_total
    assert value(after, energy, "GPU-aaaa") - value(before, energy, "GPU-aaaa") == 4_025_000  # 402.5 W, 10 s, mJ
    assert value(after, energy, "GPU-bbbb") - value(before, energy, "GPU-bbbb") == 700_000
    assert value(before, energy, "GPU-aaaa") > 0  # GPUs ran before the simulation started


async def test_text_from_the_cluster_is_escaped(served: Served) -> None:
    awkward = 'evil"pod\\name\n# HELP injected'
    served.world.gpu_list[0].pod = awkward
    samples = await served.scrape()
    pods = {s.labels.get("pod") for s in samples if s.labels["UUID"] == "GPU-aaaa"}
    assert pods == {awkward}
    assert not any(line.startswith("# HELP injected") for line in served.dcgm.metrics_text().decode().splitlines())


async def test_unknown_paths_and_ports(served: Served) -> None:
    async with served.session.get(served.base_url + "/api/v1/metrics") as response:
        assert response.status == 404
    assert (await served.dcgm.handle("GET", 9401, "/metrics", {}, b"")).status == 503


@pytest.mark.prometheus
def test_prometheus_own_parser_reads_the_metrics() -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool is not installed")
    text = DcgmSim(PlainWorld(gpu_list=cluster_gpus())).metrics_text()
    checked = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, timeout=60, check=False)
    # exit status 3 is lint advice only (the exporter's own camelCase labels, its counters' names), 1 a parse error
    assert checked.returncode == 3, checked.stderr
    assert lint_advice_only(checked.stderr.decode()), checked.stderr
