"""The simulated nimify-api over loopback HTTP, with the simulated Triton behind it."""

from __future__ import annotations

import json
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

from nimify_tui.sim.nimify_api import DURATION_BUCKETS, NimifyApiSim
from nimify_tui.sim.triton.models import PER_REPLICA_CAPACITY_RPS, SERVED_MODEL
from nimify_tui.sim.triton.server import TritonSim

from ..in_cluster_http import app_for
from ..plain_world import PlainWorld, steady_traffic

FAILED_LOAD = (
    "failed to load 'nimify-model' version 1: Internal: unable to create CUDA context: CUDA error: out of memory"
)
ALERT_THRESHOLD_S = 0.5  # the runbook's NimifyHighLatency alert on p95


@dataclass
class Served:
    world: PlainWorld
    triton: TritonSim
    api: NimifyApiSim
    api_url: str  # http://host:port of port 8000
    metrics_url: str  # the /metrics of port 9090
    triton_url: str  # host:port of Triton's port 8000, as tritonclient wants it
    session: aiohttp.ClientSession

    def advance(self, seconds: int) -> None:
        for _ in range(seconds):
            self.world.clock += 1.0
            self.triton.tick(1.0)
            self.api.tick(1.0)

    async def call(self, method: str, path: str, body: bytes = b"") -> tuple[int, dict[str, Any]]:
        async with self.session.request(method, self.api_url + path, data=body) as response:
            return response.status, json.loads(await response.read())

    async def predict(self, payload: object) -> tuple[int, dict[str, Any]]:
        return await self.call("POST", "/v1/predict", json.dumps(payload).encode())

    async def metrics(self, url: str | None = None) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        async with self.session.get(url or self.metrics_url) as response:
            assert response.status == 200
            text = await response.text()
        parsed = {}
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                parsed[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
        return parsed


@pytest.fixture
async def served() -> AsyncIterator[Served]:
    world = PlainWorld(load=steady_traffic(2))
    triton = TritonSim(world)
    api = NimifyApiSim(world, triton)
    servers = [
        test_utils.TestServer(app_for(api, 8000), host="127.0.0.1"),
        test_utils.TestServer(app_for(api, 9090), host="127.0.0.1"),
        test_utils.TestServer(app_for(triton, 8000), host="127.0.0.1"),
    ]
    for server in servers:
        await server.start_server()
    api_http, api_metrics, triton_http = servers
    async with aiohttp.ClientSession() as session:
        yield Served(
            world,
            triton,
            api,
            f"http://127.0.0.1:{api_http.port}",
            f"http://127.0.0.1:{api_metrics.port}/metrics",
            f"127.0.0.1:{triton_http.port}",
            session,
        )
    for server in servers:
        await server.close()


def predict_series(status: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    labels = (("endpoint", "/v1/predict"), ("method", "POST"), ("status", status))
    return "http_requests_total", labels


def predict_buckets(
    parsed: dict[tuple[str, tuple[tuple[str, str], ...]], float],
) -> list[tuple[float, float]]:
    """(upper bound, cumulative count) of the /v1/predict histogram, in bucket order."""
    buckets = []
    for (name, labels), value in parsed.items():
        label_map = dict(labels)
        if name == "http_request_duration_seconds_bucket" and label_map["endpoint"] == "/v1/predict":
            buckets.append((float(label_map["le"]), value))
    return sorted(buckets)


def quantile(q: float, buckets: list[tuple[float, float]]) -> float:
    """Prometheus' histogram_quantile over cumulative buckets (linear within the bucket)."""
    total = buckets[-1][1]
    rank = q * total
    lower_bound, lower_count = 0.0, 0.0
    for bound, count in buckets:
        if count >= rank:
            if bound == float("inf"):
                return lower_bound
            return lower_bound + (bound - lower_bound) * (rank - lower_count) / (count - lower_count)
        lower_bound, lower_count = bound, count
    raise AssertionError("rank beyond the last bucket")


def window(start: list[tuple[float, float]], end: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """The buckets' increase between two scrapes, as rate() sees it."""
    before = dict(start)
    return [(bound, count - before.get(bound, 0.0)) for bound, count in end]


async def test_health_ready_and_models(served: Served) -> None:
    assert await served.call("GET", "/health") == (200, {"status": "healthy"})
    assert await served.call("GET", "/ready") == (200, {"status": "ready", "model": SERVED_MODEL})
    status, models = await served.call("GET", "/v1/models")
    assert status == 200
    assert models["models"] == [
        {"name": SERVED_MODEL, "version": "1", "backend": "triton", "state": "READY", "reason": ""}
    ]
    assert served.api.is_ready()


async def test_predict_is_deterministic_and_reaches_triton(served: Served) -> None:
    status, first = await served.predict({"input": [1, 2, 3]})
    assert status == 200
    _, second = await served.predict({"input": [1, 2, 3]})
    assert first["prediction"] == second["prediction"] == [0.244919, 0.635149, 0.848284]
    assert first["model"] == SERVED_MODEL
    latency_ms = first["latency_ms"]
    assert isinstance(latency_ms, float) and 10.0 < latency_ms < 60.0
    async with InferenceServerClient(url=served.triton_url) as client:
        stats = await client.get_inference_statistics(SERVED_MODEL)
    assert stats["model_stats"][0]["inference_count"] == 2
    parsed = await served.metrics()
    assert parsed[predict_series("200")] == 2


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "not valid JSON"),
        (b'{"inputs": [1, 2]}', "'input'"),
        (b'{"input": []}', "'input'"),
        (b'{"input": [1, "two"]}', "'input'"),
        (b'{"input": [true]}', "'input'"),
        (b"[1, 2, 3]", "'input'"),
    ],
)
async def test_predict_rejects_bad_requests(served: Served, body: bytes, message: str) -> None:
    status, reply = await served.call("POST", "/v1/predict", body)
    assert status == 400
    assert message in str(reply["error"])
    parsed = await served.metrics()
    assert parsed[predict_series("400")] == 1


async def test_predict_fails_while_the_model_is_failed_and_works_after_load(served: Served) -> None:
    served.triton.fail_model(SERVED_MODEL, FAILED_LOAD)
    status, ready = await served.call("GET", "/ready")
    assert status == 503
    assert FAILED_LOAD in str(ready["reason"])
    status, reply = await served.predict({"input": [1, 2, 3]})
    assert status == 502
    assert "out of memory" in str(reply["error"])
    _, models = await served.call("GET", "/v1/models")
    assert models["models"][0]["state"] == "UNAVAILABLE"
    async with InferenceServerClient(url=served.triton_url) as client:
        await client.load_model(SERVED_MODEL)
    status, reply = await served.predict({"input": [1, 2, 3]})
    assert status == 200
    assert reply["prediction"] == [0.244919, 0.635149, 0.848284]
    assert (await served.call("GET", "/ready"))[0] == 200


async def test_predict_is_unavailable_without_triton_or_api_replicas(served: Served) -> None:
    served.world.load.triton_ready_replicas = 0
    status, reply = await served.predict({"input": [1]})
    assert (status, reply["error"]) == (503, "inference backend unavailable: Triton server is unreachable")
    status, ready = await served.call("GET", "/ready")
    assert (status, ready["reason"]) == (503, "Triton server is unreachable")
    _, models = await served.call("GET", "/v1/models")
    assert models["models"][0]["state"] == "UNKNOWN"
    served.world.load.triton_ready_replicas = 1
    served.world.load.api_ready_replicas = 0
    status, reply = await served.predict({"input": [1]})
    assert (status, reply["error"]) == (503, "no nimify-api replica is ready")


async def test_histogram_is_cumulative_and_consistent(served: Served) -> None:
    served.advance(30)
    parsed = await served.metrics()
    assert parsed == await served.metrics(served.api_url + "/metrics")  # port 8000 serves the same text
    assert parsed[predict_series("200")] == 1200  # 40 requests/s for 30 s
    buckets = predict_buckets(parsed)
    assert [bound for bound, _ in buckets] == [*DURATION_BUCKETS, float("inf")]
    counts = [count for _, count in buckets]
    assert counts == sorted(counts)
    series = (("endpoint", "/v1/predict"), ("method", "POST"))
    assert counts[-1] == parsed[("http_request_duration_seconds_count", series)] == 1200
    mean_s = parsed[("http_request_duration_seconds_sum", series)] / 1200
    assert 0.01 < mean_s < 0.05  # Triton queue + compute + the api's overhead, at a calm load
    served.advance(30)
    later = await served.metrics()
    assert all(later[key] >= value for key, value in parsed.items())


async def test_errors_are_counted_when_triton_or_the_model_is_down(served: Served) -> None:
    served.world.load.triton_ready_replicas = 0
    served.advance(10)
    parsed = await served.metrics()
    assert parsed[predict_series("503")] == 400
    assert predict_series("200") not in parsed
    served.world.load.triton_ready_replicas = 1
    served.triton.fail_model(SERVED_MODEL, FAILED_LOAD)
    served.advance(5)
    parsed = await served.metrics()
    assert parsed[predict_series("502")] == 200
    served.world.load.api_ready_replicas = 0  # nothing reaches an api without ready replicas
    served.advance(5)
    assert await served.metrics() == parsed


async def test_load_beyond_tritons_capacity_is_rejected_with_503(served: Served) -> None:
    served.world.load.offered_rps = 3 * PER_REPLICA_CAPACITY_RPS
    served.advance(10)
    parsed = await served.metrics()
    assert parsed[predict_series("200")] == 10 * PER_REPLICA_CAPACITY_RPS
    assert parsed[predict_series("503")] == 20 * PER_REPLICA_CAPACITY_RPS


async def test_a_latency_spike_crosses_the_alert_threshold(served: Served) -> None:
    served.advance(60)
    calm = predict_buckets(await served.metrics())
    assert quantile(0.95, calm) < 0.1
    served.world.load.extra_queue_ms = 350.0
    served.advance(300)
    spiking = predict_buckets(await served.metrics())
    assert quantile(0.95, window(calm, spiking)) > ALERT_THRESHOLD_S
    served.world.load.extra_queue_ms = 0.0
    served.advance(300)
    recovered = predict_buckets(await served.metrics())
    assert quantile(0.95, window(spiking, recovered)) < 0.1


async def test_unknown_paths_methods_and_ports(served: Served) -> None:
    assert (await served.call("GET", "/v1/nothing"))[0] == 404
    assert (await served.call("GET", "/v1/predict"))[0] == 405
    async with served.session.get(served.metrics_url.replace("/metrics", "/health")) as response:
        assert response.status == 404
    reply = await served.api.handle("GET", 8001, "/health", {}, b"")
    assert reply.status == 503


@pytest.mark.prometheus
async def test_prometheus_own_parser_finds_nothing_to_fix(served: Served) -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool is not installed")
    served.advance(5)
    await served.predict({"input": [1]})
    checked = subprocess.run(
        [promtool, "check", "metrics"],
        input=served.api.metrics_text(),
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr + checked.stdout
