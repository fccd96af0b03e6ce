"""Recovery verification's pieces without a cluster: the load test's bounds and figures, the outcome rules, and the
simulated Prometheus' targets and ``up`` query over loopback HTTP, read by the client the verification uses."""

from __future__ import annotations

import asyncio
import json
import math
import re
from pathlib import Path

import httpx
import pytest
from aiohttp import test_utils, web

from nimify_tui.config import ConfigError, load_settings
from nimify_tui.metrics.prom import PromClient, PromError, Vector
from nimify_tui.recovery.load_test import BUCKETS_MS, LoadSpec, figures, percentile, run_load_test
from nimify_tui.recovery.result import HEALTH, LOAD, MONITORING, READ_ONLY_NOT_RUN, CheckResult
from nimify_tui.recovery.verify import PLAN, VerifyOptions, planned, with_options
from nimify_tui.sim.contract import SimGPU, Traffic
from nimify_tui.sim.prometheus import SCRAPE_INTERVAL_S, PrometheusSim, ScrapeTarget

from ..in_cluster_http import app_for


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"requests": 0}, "requests must be 1 to 200"),
        ({"requests": 201}, "requests must be 1 to 200"),
        ({"concurrency": 0}, "concurrency must be 1 to 50"),
        ({"concurrency": 51}, "concurrency must be 1 to 50"),
        ({"timeout_s": 0}, "timeout must be above 0"),
        ({"timeout_s": 31}, "at most 30 s"),
    ],
)
def test_the_load_test_is_bounded(fields: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        LoadSpec(**fields)  # type: ignore[arg-type]


def test_figures_are_nearest_rank_percentiles_and_a_histogram() -> None:
    latencies = [12.0, 8.0, 30.0, 45.0, 700.0, 20.0, 22.0, 24.0, 26.0, 28.0]
    result = figures(latencies, errors=1, concurrency=5, first_error="HTTP 503")
    assert (result.requests, result.concurrency, result.errors) == (10, 5, 1)
    assert (result.p50_ms, result.p95_ms, result.max_ms) == (24.0, 700.0, 700.0)
    assert dict(result.buckets) == {
        10.0: 1,
        25.0: 4,
        50.0: 4,
        100.0: 0,
        250.0: 0,
        500.0: 0,
        1000.0: 1,
        2500.0: 0,
        5000.0: 0,
        math.inf: 0,
    }
    assert [bound for bound, _ in result.buckets] == list(BUCKETS_MS)
    assert result.summary() == "10 predicts, 5 at a time: p50 24 ms, p95 700 ms, max 700 ms; 1 error"
    assert math.isnan(percentile([], 0.5))


async def test_the_load_test_keeps_to_its_concurrency_and_counts_errors() -> None:
    in_flight = 0
    most = 0
    served = 0
    bodies: list[object] = []

    async def predict(request: web.Request) -> web.Response:
        nonlocal in_flight, most, served
        in_flight += 1
        most = max(most, in_flight)
        bodies.append(json.loads(await request.read()))
        await asyncio.sleep(0.02)
        in_flight -= 1
        served += 1
        return web.json_response({"error": "busy"}, status=503 if served % 4 == 0 else 200)

    app = web.Application()
    app.router.add_post("/v1/predict", predict)
    server = test_utils.TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        async with httpx.AsyncClient() as client:
            result = await run_load_test(
                client,
                f"http://127.0.0.1:{server.port}/v1/predict",
                b'{"input": [1, 2, 3]}',
                LoadSpec(requests=12, concurrency=3),
            )
    finally:
        await server.close()
    assert most == 3 and served == 12 and bodies == [{"input": [1, 2, 3]}] * 12
    assert result.requests == 12 and result.errors == 3
    assert result.first_error.startswith("HTTP 503")
    assert result.p50_ms >= 20


def test_the_outcome_needs_every_step_to_pass() -> None:
    start = planned(100.0)
    assert [(c.step, c.name) for c in start.checks] == list(PLAN)
    assert start.outcome == "running" and start.step_state(HEALTH) == "pending"
    passed = start
    for check in start.checks:
        passed = passed.with_check(CheckResult(check.step, check.name, "pass", "ok"))
    assert passed.finish(101.0, None).outcome == "verified"
    assert passed.finish(101.0, None).headline() == "recovery verified"
    one_failed = passed.with_check(CheckResult(MONITORING, "prometheus targets", "fail", "1 of 2 up"))
    assert one_failed.step_state(MONITORING) == "fail" and one_failed.step_state(HEALTH) == "pass"
    assert one_failed.finish(101.0, None).outcome == "failed"
    assert one_failed.finish(101.0, None).headline() == "recovery not verified: prometheus targets failed"


def test_read_only_marks_the_posts_not_run_and_cannot_be_verified() -> None:
    start = with_options(planned(100.0), readonly=True)
    not_run = [c.name for c in start.checks if c.state == "not-run"]
    assert not_run == ["api POST /v1/predict", "load test"]
    assert all(c.detail == READ_ONLY_NOT_RUN for c in start.checks if c.state == "not-run")
    done = start
    for check in start.checks:
        if check.state == "pending":
            done = done.with_check(CheckResult(check.step, check.name, "pass"))
    assert done.step_state(LOAD) == "not-run"
    assert done.finish(101.0, None).outcome == "incomplete"


class _World:
    def __init__(self) -> None:
        self.clock = 1_800_000_000.0

    def now(self) -> float:
        return self.clock

    def traffic(self) -> Traffic:
        return Traffic()

    def gpus(self) -> list[SimGPU]:
        return []

    def ready_pods(self, namespace: str, app: str) -> list[str]:
        return []


async def test_simulated_targets_follow_the_last_scrape_and_up_answers_through_the_query_api() -> None:
    world = _World()
    answers = {"api-a": True, "api-b": False}

    def targets() -> list[ScrapeTarget]:
        return [
            ScrapeTarget("nimify-api", "nimify-system", pod, f"10.0.0.{i}", 9090, answers[pod])
            for i, pod in enumerate(sorted(answers), start=1)
        ] + [ScrapeTarget("triton", "triton-system", "triton-0", "10.0.1.1", 8002, True)]

    server = test_utils.TestServer(app_for(PrometheusSim(world, targets), 9090), host="127.0.0.1")
    await server.start_server()
    try:
        async with httpx.AsyncClient() as http:
            client = PromClient(http, f"http://127.0.0.1:{server.port}")
            found = await client.targets()
            assert [(t.job, t.instance, t.health) for t in found] == [
                ("nimify-api", "10.0.0.1:9090", "up"),
                ("nimify-api", "10.0.0.2:9090", "down"),
                ("triton", "10.0.1.1:8002", "up"),
            ]
            assert "connection refused" in found[1].last_error and found[1].last_scrape == world.clock
            up = await client.query('up{job="nimify-api"}')
            assert isinstance(up, Vector)
            assert [(s.labels["pod"], s.value) for s in up.samples] == [("api-a", 1.0), ("api-b", 0.0)]
            assert all(s.labels["__name__"] == "up" for s in up.samples)

            answers["api-b"] = True  # the pod answers again: seen at the next scrape, not before
            world.clock += SCRAPE_INTERVAL_S / 2
            assert [t.health for t in await client.targets()][1] == "down"
            world.clock += SCRAPE_INTERVAL_S / 2
            assert [t.health for t in await client.targets()][1] == "up"

            with pytest.raises(PromError, match="bad_data"):
                await client.query("rate(http_requests_total[5m])")
    finally:
        await server.close()


def test_the_config_files_recovery_table_sets_the_body_and_the_load_within_bounds(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        "[recovery]\n"
        "predict_body = '{\"input\": [0.5, 1.5]}'\n"
        "load_requests = 40\nload_concurrency = 8\nload_timeout = 2.5\n"
    )
    settings = load_settings({}, {"NIMIFY_TUI_RECOVERY_LOAD_CONCURRENCY": "4"}, config)
    options = VerifyOptions.of(settings.recovery, readonly=False)
    assert options.predict_body == b'{"input": [0.5, 1.5]}'
    assert options.load == LoadSpec(requests=40, concurrency=4, timeout_s=2.5)  # the environment wins
    assert VerifyOptions.of(load_settings({}, {}, None).recovery, readonly=True) == VerifyOptions(readonly=True)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("predict_body = '{not json'", "key 'recovery.predict_body': expected JSON text"),
        ("load_requests = 500", "key 'recovery.load_requests': expected a whole number from 1 to 200, got 500"),
        ("load_concurrency = 0", "expected a whole number from 1 to 50, got 0"),
        ("load_timeout = 60", "expected a positive number of seconds, at most 30, got 60"),
        ("load_rate = 3", "unknown key 'recovery.load_rate'"),
    ],
)
def test_the_recovery_table_refuses_what_is_out_of_bounds(tmp_path: Path, line: str, message: str) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f"[recovery]\n{line}\n")
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_settings({}, {}, config)
