"""The simulated Triton server over loopback HTTP, read by the real ``tritonclient.http.aio`` client."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from aiohttp import test_utils
from prometheus_client.parser import text_string_to_metric_families
from tritonclient.http.aio import InferenceServerClient
from tritonclient.utils import InferenceServerException

from nimify_tui.sim.contract import SimGPU
from nimify_tui.sim.triton.models import PER_REPLICA_CAPACITY_RPS, SERVED_MODEL
from nimify_tui.sim.triton.server import TritonSim, TritonSimError

from ..conftest import REAL_CAPTURES
from ..in_cluster_http import app_for
from ..plain_world import PlainWorld, steady_traffic
from .promtool_lint import lint_advice_only

REAL_TRITON = REAL_CAPTURES / "triton"
FAILED_LOAD = (
    "failed to load 'nimify-model' version 1: Internal: unable to create CUDA context: CUDA error: out of memory"
)


def advance(world: PlainWorld, sim: TritonSim, seconds: int) -> None:
    for _ in range(seconds):
        world.clock += 1.0
        sim.tick(1.0)


@dataclass
class Served:
    sim: TritonSim
    world: PlainWorld
    http_url: str  # host:port, as tritonclient wants it
    metrics_url: str


@pytest.fixture
async def served() -> AsyncIterator[Served]:
    world = PlainWorld(
        load=steady_traffic(2),
        gpu_list=[
            SimGPU(
                "gpu-node-1",
                0,
                "GPU-1111",
                pod="triton-server-7d9f-abcde",
                namespace="triton-system",
                container="triton",
                utilization_pct=55.0,
                memory_used_mib=30_000.0,
                power_w=410.0,
            ),
            SimGPU("gpu-node-1", 1, "GPU-2222", pod="trainer-0", namespace="research", container="train"),
        ],
    )
    sim = TritonSim(world)
    http = test_utils.TestServer(app_for(sim, 8000), host="127.0.0.1")
    metrics = test_utils.TestServer(app_for(sim, 8002), host="127.0.0.1")
    await http.start_server()
    await metrics.start_server()
    try:
        yield Served(sim, world, f"127.0.0.1:{http.port}", f"http://127.0.0.1:{metrics.port}/metrics")
    finally:
        await http.close()
        await metrics.close()


async def fetch_metrics(url: str) -> str:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        return await response.text()


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    parsed = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            parsed[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return parsed


def model_stats(reply: dict[str, Any]) -> dict[str, Any]:
    entries = reply["model_stats"]
    assert isinstance(entries, list) and len(entries) == 1
    entry = entries[0]
    assert isinstance(entry, dict)
    return entry


async def test_health_and_server_metadata(served: Served) -> None:
    async with InferenceServerClient(url=served.http_url) as client:
        assert await client.is_server_live()
        assert await client.is_server_ready()
        assert await client.is_model_ready(SERVED_MODEL)
        assert await client.is_model_ready(SERVED_MODEL, "1")
        metadata = await client.get_server_metadata()
    assert metadata["name"] == "triton"
    assert re.fullmatch(r"2\.\d+\.\d+", metadata["version"])
    assert {"model_repository", "statistics", "model_configuration"} <= set(metadata["extensions"])


async def test_repository_index_lists_a_never_loaded_model_by_name_alone(served: Served) -> None:
    async with InferenceServerClient(url=served.http_url) as client:
        index = await client.get_model_repository_index()
    assert index == [
        {"name": "nimify-embedder", "version": "1", "state": "READY"},
        {"name": "nimify-model", "version": "1", "state": "READY"},
        {"name": "nimify-reranker"},
    ]
    url = f"http://{served.http_url}/v2/repository/index"
    async with aiohttp.ClientSession() as session:
        async with session.post(url, data=json.dumps({"ready": True})) as response:
            ready_only = await response.json()
        async with session.post(url, data=b'{"ready": "yes"}') as response:
            assert response.status == 400
            assert "error" in await response.json()
        async with session.get(url) as response:
            assert response.status == 405
    assert [entry["name"] for entry in ready_only] == ["nimify-embedder", "nimify-model"]


async def test_model_metadata_and_config(served: Served) -> None:
    async with InferenceServerClient(url=served.http_url) as client:
        metadata = await client.get_model_metadata(SERVED_MODEL)
        versioned = await client.get_model_metadata(SERVED_MODEL, "1")
        config = await client.get_model_config(SERVED_MODEL)
    assert metadata == versioned
    assert metadata["name"] == SERVED_MODEL
    assert metadata["versions"] == ["1"]
    assert metadata["platform"] == "onnxruntime_onnx"
    assert metadata["inputs"] == [{"name": "input", "datatype": "FP32", "shape": [-1, -1]}]
    assert metadata["outputs"] == [{"name": "output", "datatype": "FP32", "shape": [-1, -1]}]
    assert config["name"] == SERVED_MODEL
    assert config["backend"] == "onnxruntime"
    assert config["max_batch_size"] == 32
    assert config["input"][0]["data_type"] == "TYPE_FP32"
    assert config["instance_group"][0]["kind"] == "KIND_GPU"
    assert config["dynamic_batching"]["preferred_batch_size"] == [8, 16]


async def test_statistics_are_cumulative_and_move_with_traffic(served: Served) -> None:
    async with InferenceServerClient(url=served.http_url) as client:
        before = model_stats(await client.get_inference_statistics(SERVED_MODEL))
        advance(served.world, served.sim, 10)
        ticked_at_ms = int(served.world.clock * 1000)
        after = model_stats(await client.get_inference_statistics(SERVED_MODEL, "1"))
        advance(served.world, served.sim, 10)
        later = model_stats(await client.get_inference_statistics(SERVED_MODEL))
        every = await client.get_inference_statistics()
    assert before["inference_count"] == 0
    assert after["inference_count"] == 400  # 40 requests/s offered, well under capacity, for 10 s
    assert after["last_inference"] == ticked_at_ms
    stats = after["inference_stats"]
    assert isinstance(stats, dict)
    assert stats["success"]["count"] == 400
    assert stats["fail"] == {"count": 0, "ns": 0}
    compute_ms = stats["compute_infer"]["ns"] / stats["compute_infer"]["count"] / 1e6
    assert 8.0 <= compute_ms <= 21.0
    assert 0 < stats["queue"]["ns"] < stats["success"]["ns"]
    batches = after["batch_stats"]
    assert isinstance(batches, list)
    assert sum(b["compute_infer"]["count"] for b in batches) == after["execution_count"]
    assert sum(b["batch_size"] * b["compute_infer"]["count"] for b in batches) == after["inference_count"]
    later_stats = later["inference_stats"]
    assert isinstance(later_stats, dict)
    for key, tally in stats.items():
        assert later_stats[key]["count"] >= tally["count"]
        assert later_stats[key]["ns"] >= tally["ns"]
    assert later_stats["success"]["count"] == 800
    assert {entry["name"] for entry in every["model_stats"]} == {"nimify-model", "nimify-embedder"}


async def test_unload_then_load_through_the_client(served: Served) -> None:
    async with InferenceServerClient(url=served.http_url) as client:
        await client.unload_model("nimify-embedder")
        assert not await client.is_model_ready("nimify-embedder")
        assert await client.is_server_ready()  # an unloaded model does not count for readiness
        index = await client.get_model_repository_index()
        assert {
            "name": "nimify-embedder",
            "version": "1",
            "state": "UNAVAILABLE",
            "reason": "unloaded",
        } in index
        with pytest.raises(InferenceServerException) as unavailable:
            await client.get_model_metadata("nimify-embedder")
        assert unavailable.value.status() == "400"
        await client.load_model("nimify-embedder")
        assert await client.is_model_ready("nimify-embedder")
        await client.load_model("nimify-reranker")
        assert await client.is_model_ready("nimify-reranker")
        metadata = await client.get_model_metadata("nimify-reranker")
    assert metadata["platform"] == "python"


async def test_a_failed_model_makes_the_server_not_ready_until_restart(served: Served) -> None:
    served.sim.fail_model(SERVED_MODEL, FAILED_LOAD)
    assert not served.sim.models_ready()
    assert not served.sim.is_ready()
    async with InferenceServerClient(url=served.http_url) as client:
        assert await client.is_server_live()
        assert not await client.is_server_ready()
        assert not await client.is_model_ready(SERVED_MODEL)
        index = await client.get_model_repository_index()
        assert {"name": SERVED_MODEL, "version": "1", "state": "UNAVAILABLE", "reason": FAILED_LOAD} in index
        served.sim.restart()
        states = {entry["name"]: entry.get("state") for entry in await client.get_model_repository_index()}
        assert states == {"nimify-embedder": "LOADING", "nimify-model": "LOADING", "nimify-reranker": None}
        assert not await client.is_server_ready()
        for _ in range(30):  # simulated seconds: loading takes a few
            if await client.is_server_ready():
                break
            advance(served.world, served.sim, 1)
        assert await client.is_server_ready()
        assert await client.is_model_ready(SERVED_MODEL)


async def test_errors_carry_triton_status_codes(served: Served) -> None:
    failures: list[tuple[str | None, str]] = []
    async with InferenceServerClient(url=served.http_url) as client:
        for call in (
            client.get_model_metadata("no-such-model"),
            client.get_model_config("no-such-model"),
            client.get_inference_statistics("no-such-model"),
            client.load_model("no-such-model"),
            client.get_model_metadata(SERVED_MODEL, "7"),
        ):
            with pytest.raises(InferenceServerException) as error:
                await call
            failures.append((error.value.status(), error.value.message()))
        assert not await client.is_model_ready("no-such-model")
    unknown_model = ("404", "Request for unknown model: 'no-such-model' is not found")
    assert failures == [
        *[unknown_model] * 4,
        ("404", f"Request for unknown model: '{SERVED_MODEL}' version 7 is not found"),
    ]
    async with aiohttp.ClientSession() as session:
        async with session.get(f"http://{served.http_url}/v2/models/nimify-reranker/ready") as response:
            assert response.status == 400
            assert (await response.json()) == {"error": "Request for unknown model: 'nimify-reranker' is not ready"}
        async with session.post(f"http://{served.http_url}/v2/repository/index", data=b"{not json") as response:
            assert response.status == 400


async def test_no_ready_replica_means_not_live_and_no_traffic(served: Served) -> None:
    served.world.load.triton_ready_replicas = 0
    assert not served.sim.is_live()
    assert not served.sim.is_ready()
    assert served.sim.models_ready()  # the process itself is fine: pods can still pass their probe
    advance(served.world, served.sim, 5)
    served.world.load.triton_ready_replicas = 1
    async with InferenceServerClient(url=served.http_url) as client:
        stats = model_stats(await client.get_inference_statistics(SERVED_MODEL))
    assert stats["inference_count"] == 0


def test_latency_model_follows_load_saturation_and_replicas() -> None:
    world = PlainWorld(load=steady_traffic(2))
    sim = TritonSim(world)
    calm = sim.serving()
    assert calm.served_rps == 40.0 and calm.rejected_rps == 0.0
    assert 8.0 <= calm.compute_infer_ms <= 21.0
    assert calm.queue_ms < 20.0
    world.load.extra_queue_ms = 450.0
    assert sim.serving().queue_ms == pytest.approx(calm.queue_ms + 450.0)
    world.load.extra_queue_ms = 0.0
    world.load.gpu_saturation = 1.0
    saturated = sim.serving()
    assert saturated.queue_ms > calm.queue_ms + 250.0
    assert saturated.compute_infer_ms > calm.compute_infer_ms
    world.load.gpu_saturation = 0.0
    world.load.offered_rps = 3 * PER_REPLICA_CAPACITY_RPS
    overloaded = sim.serving()
    assert overloaded.served_rps == PER_REPLICA_CAPACITY_RPS
    assert overloaded.rejected_rps == 2 * PER_REPLICA_CAPACITY_RPS
    world.load.triton_ready_replicas = 3
    assert sim.serving().rejected_rps == 0.0
    world.load.triton_ready_replicas = 1
    world.clock += 1.0
    sim.tick(1.0)
    failures = sim.metrics_text().decode()
    assert 'nv_inference_request_failure{model="nimify-model",reason="REJECTED",version="1"} 240' in failures
    world.load.api_ready_replicas = 0
    assert sim.serving().offered_rps == 0.0  # users reach Triton only through nimify-api


async def test_metrics_parse_and_agree_with_statistics(served: Served) -> None:
    before = samples(await fetch_metrics(served.metrics_url))
    advance(served.world, served.sim, 10)
    text = await fetch_metrics(served.metrics_url)
    after = samples(text)
    async with InferenceServerClient(url=served.http_url) as client:
        stats = model_stats(await client.get_inference_statistics(SERVED_MODEL))
    model = (("model", SERVED_MODEL), ("version", "1"))
    inference_stats = stats["inference_stats"]
    assert isinstance(inference_stats, dict)
    assert after[("nv_inference_request_success_total", model)] == 400
    assert after[("nv_inference_count_total", model)] == stats["inference_count"]
    assert after[("nv_inference_exec_count_total", model)] == stats["execution_count"]
    assert after[("nv_inference_queue_duration_us_total", model)] == inference_stats["queue"]["ns"] // 1000
    assert after[("nv_model_load_duration_secs", model)] == pytest.approx(4.2)
    rejected = (("model", SERVED_MODEL), ("reason", "REJECTED"), ("version", "1"))
    assert after[("nv_inference_request_failure_total", rejected)] == 0
    gpu = (("gpu_uuid", "GPU-1111"),)
    assert after[("nv_gpu_utilization", gpu)] == pytest.approx(0.55)
    assert after[("nv_gpu_memory_used_bytes", gpu)] == 30_000 * 2**20
    assert after[("nv_gpu_power_usage", gpu)] == 410.0
    assert after[("nv_energy_consumption_total", gpu)] - before[("nv_energy_consumption_total", gpu)] == 4100.0
    assert ("nv_gpu_utilization", (("gpu_uuid", "GPU-2222"),)) not in after  # held by another namespace
    assert 0.0 < after[("nv_cpu_utilization", ())] <= 1.0
    assert after[("nv_cpu_memory_used_bytes", ())] < after[("nv_cpu_memory_total_bytes", ())]


def help_and_type_lines(text: str) -> dict[str, list[str]]:
    lines: dict[str, list[str]] = {}
    for line in text.splitlines():
        if line.startswith(("# HELP ", "# TYPE ")):
            lines.setdefault(line.split()[2], []).append(line)
    return lines


async def test_metric_families_are_written_like_the_real_captures(served: Served) -> None:
    captures = [
        REAL_TRITON / "triton_metrics_sample.txt",
        REAL_TRITON / "triton_metrics_sample_gpu_22.07.txt",
    ]
    ours = help_and_type_lines(await fetch_metrics(served.metrics_url))
    compared = set()
    for path in captures:
        for name, lines in help_and_type_lines(path.read_text()).items():
            if name in ours and name not in compared:
                assert ours[name] == lines, name
                compared.add(name)
    assert compared == set(ours)  # every family written has a real counterpart


async def test_statistics_and_index_have_the_shape_of_the_real_captures(served: Served) -> None:
    stats_capture = REAL_TRITON / "triton_stats_sample.json"
    index_capture = REAL_TRITON / "triton_repository_index_sample.json"
    real_stats = json.loads(stats_capture.read_text())["model_stats"][0]
    advance(served.world, served.sim, 3)
    async with InferenceServerClient(url=served.http_url) as client:
        ours = model_stats(await client.get_inference_statistics(SERVED_MODEL))
        await client.unload_model(SERVED_MODEL)
        unloaded = [entry for entry in await client.get_model_repository_index() if entry["name"] == SERVED_MODEL]
    assert set(ours) == set(real_stats)
    assert set(ours["inference_stats"]) == set(real_stats["inference_stats"])
    assert set(ours["batch_stats"][0]) == set(real_stats["batch_stats"][0])
    real_unloaded = [entry for entry in json.loads(index_capture.read_text()) if entry["state"] == "UNAVAILABLE"]
    assert set(unloaded[0]) == set(real_unloaded[0])
    assert unloaded[0]["reason"] == real_unloaded[0]["reason"] == "unloaded"


def test_infer_answers_only_when_reachable_and_ready() -> None:
    world = PlainWorld(load=steady_traffic(2))
    sim = TritonSim(world)
    prediction = sim.infer([0.5, -1.0])
    assert prediction.outputs == [0.0, -0.635149]
    assert 0.008 < prediction.latency_s < 0.05
    sim.fail_model(SERVED_MODEL, FAILED_LOAD)
    with pytest.raises(TritonSimError) as failed:
        sim.infer([1.0])
    assert failed.value.status == 400
    world.load.triton_ready_replicas = 0
    with pytest.raises(TritonSimError) as unreachable:
        sim.infer([1.0])
    assert unreachable.value.status == 503
    with pytest.raises(KeyError):
        sim.fail_model("no-such-model", "whatever")


@pytest.mark.prometheus
def test_prometheus_own_parser_reads_the_metrics() -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool is not installed")
    world = PlainWorld(
        load=steady_traffic(2), gpu_list=[SimGPU("gpu-node-1", 0, "GPU-1111", namespace="triton-system", pod="t")]
    )
    sim = TritonSim(world)
    world.clock += 1.0
    sim.tick(1.0)
    checked = subprocess.run(
        [promtool, "check", "metrics"], input=sim.metrics_text(), capture_output=True, timeout=60, check=False
    )
    # exit status 3 is lint advice only (Triton's own names lack _total), 1 would be a parse error
    assert checked.returncode == 3, checked.stderr
    assert lint_advice_only(checked.stderr.decode()), checked.stderr
