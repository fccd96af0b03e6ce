"""The PromQL client against a real Prometheus scraping simulated nimify-api servers, and its error handling.

One Prometheus (started once for the module) scrapes three simulated nimify-api metrics ports as job
``nimify-api``: one overloaded (two of every three requests rejected with 503), one with 300 ms of added
queueing, and one the last test stops. The error-handling tests use a small aiohttp server that answers as a
broken Prometheus or a proxy in front of one would.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import pytest
import pytest_asyncio
from aiohttp import test_utils, web

from nimify_tui.metrics.histogram import histogram_quantile
from nimify_tui.metrics.prom import Matrix, PromClient, PromError, Scalar, Vector
from nimify_tui.metrics.scrape import parse_metrics
from nimify_tui.sim.contract import Traffic
from nimify_tui.sim.triton.models import PER_REPLICA_CAPACITY_RPS

pytestmark = pytest.mark.asyncio(loop_scope="module")

WINDOW = "3s"  # three scrapes at 1 s: enough for rate() and short enough for a quick test
FIRST_SCRAPE_WITHIN_S = 20.0
HANG_GUARD_S = 30.0  # only so that a query that never ends fails instead of hanging the run


@dataclass
class Scraped:
    prom: PromClient
    failing: Any  # a SimTarget of the conftest: overloaded, 2/3 of requests rejected with 503
    slow: Any  # 300 ms extra queueing
    stoppable: Any  # stopped by the last test


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def scraped(module_lab) -> AsyncIterator[Scraped]:
    overload = Traffic(offered_rps=3 * PER_REPLICA_CAPACITY_RPS, api_ready_replicas=1, triton_ready_replicas=1)
    failing = await module_lab.serve_sim(overload)
    slow = await module_lab.serve_sim(
        Traffic(offered_rps=40.0, api_ready_replicas=1, triton_ready_replicas=1, extra_queue_ms=300.0)
    )
    stoppable = await module_lab.serve_sim()
    server = await module_lab.start_prometheus([failing, slow, stoppable])
    async with httpx.AsyncClient() as http:
        yield Scraped(PromClient(http, server.url), failing, slow, stoppable)


async def instant(prom: PromClient, promql: str) -> Vector:
    result = await prom.query(promql)
    assert isinstance(result, Vector)
    return result


@pytest.mark.prometheus
async def test_healthy_returns_prometheus_own_words(scraped: Scraped) -> None:
    assert await scraped.prom.healthy() == "Prometheus Server is Healthy."


@pytest.mark.prometheus
async def test_up_is_one_for_the_scraped_sims(scraped: Scraped, poll) -> None:
    wanted = {scraped.failing.address, scraped.slow.address}

    async def both_up() -> Vector | None:
        vector = await instant(scraped.prom, 'up{job="nimify-api"} == 1')
        return vector if wanted <= {sample.labels["instance"] for sample in vector.samples} else None

    vector = await poll(both_up, within_s=FIRST_SCRAPE_WITHIN_S, what="both sims scraped")
    for sample in vector.samples:
        assert sample.labels["__name__"] == "up"
        assert sample.labels["job"] == "nimify-api"
        assert sample.value == 1.0
        assert abs(sample.at - time.time()) < 5.0


@pytest.mark.prometheus
async def test_targets_report_health_and_last_scrape(scraped: Scraped, poll) -> None:
    async def scraped_targets() -> list | None:
        targets = await scraped.prom.targets()
        up = [target for target in targets if target.instance == scraped.slow.address]
        return up if up and up[0].health == "up" else None

    (target,) = await poll(scraped_targets, within_s=FIRST_SCRAPE_WITHIN_S, what="slow sim target up")
    assert target.job == "nimify-api"
    assert target.scrape_url == f"http://{scraped.slow.address}/metrics"
    assert target.last_error == ""
    assert target.last_scrape is not None and abs(target.last_scrape - time.time()) < 5.0
    assert 0.0 < target.last_scrape_duration_s < 1.0  # an up target answered within the 1 s scrape timeout
    assert target.labels == {"job": "nimify-api", "instance": scraped.slow.address}


@pytest.mark.prometheus
async def test_error_ratio_from_promql_matches_what_the_sim_produced(scraped: Scraped, poll) -> None:
    instance = scraped.failing.address
    promql = (
        f'sum(rate(http_requests_total{{instance="{instance}",status=~"5.."}}[{WINDOW}]))'
        f' / sum(rate(http_requests_total{{instance="{instance}"}}[{WINDOW}]))'
    )

    async def ratio() -> Vector | None:
        vector = await instant(scraped.prom, promql)
        return vector if vector.samples else None

    vector = await poll(ratio, within_s=FIRST_SCRAPE_WITHIN_S, what="error ratio computed")
    produced = parse_metrics(scraped.failing.api.metrics_text().decode(), time.time())
    errors = produced.total("http_requests_total", {"status": "503"})
    total = produced.total("http_requests_total")
    assert errors and total
    assert errors / total == pytest.approx(2 / 3)  # 120 served of 360 offered per second
    (sample,) = vector.samples
    assert sample.labels == {}
    assert sample.value == pytest.approx(errors / total, abs=1e-9)


@pytest.mark.prometheus
async def test_p95_from_histogram_quantile_matches_the_sim(scraped: Scraped, poll) -> None:
    instance = scraped.slow.address
    promql = (
        "histogram_quantile(0.95, sum by (le) "
        f'(rate(http_request_duration_seconds_bucket{{instance="{instance}"}}[{WINDOW}])))'
    )

    async def p95() -> Vector | None:
        vector = await instant(scraped.prom, promql)
        return vector if vector.samples and not math.isnan(vector.samples[0].value) else None

    vector = await poll(p95, within_s=FIRST_SCRAPE_WITHIN_S, what="p95 computed")
    produced = parse_metrics(scraped.slow.api.metrics_text().decode(), time.time())
    buckets = [(float(s.labels["le"]), s.value) for s in produced.select("http_request_duration_seconds_bucket")]
    expected = histogram_quantile(0.95, buckets)  # the sim's whole life: the same steady load throughout
    assert 0.5 < expected <= 0.75
    (sample,) = vector.samples
    assert 0.5 < sample.value <= 0.75  # above the runbook's 0.5 s threshold
    assert sample.value == pytest.approx(expected, abs=0.05)


@pytest.mark.prometheus
async def test_query_range_gives_a_point_per_step(scraped: Scraped, poll) -> None:
    instance = scraped.failing.address

    async def three_seconds_of_up() -> Matrix | None:
        end = time.time()
        matrix = await scraped.prom.query_range(f'up{{instance="{instance}"}}', end - 2.0, end, 0.5)
        return matrix if matrix.series and len(matrix.series[0].points) == 5 else None

    matrix = await poll(three_seconds_of_up, within_s=FIRST_SCRAPE_WITHIN_S, what="2 s of up samples")
    (series,) = matrix.series
    assert series.labels["instance"] == instance
    times = [at for at, _ in series.points]
    assert [round(b - a, 3) for a, b in itertools.pairwise(times)] == [0.5] * 4
    assert {value for _, value in series.points} == {1.0}


@pytest.mark.prometheus
async def test_scalars_keep_nan_and_infinity_and_the_asked_time(scraped: Scraped) -> None:
    at = round(time.time() - 60.0, 3)
    assert await scraped.prom.query("1 + 1", at) == Scalar(at, 2.0)
    infinite = await scraped.prom.query("1 / 0")
    assert isinstance(infinite, Scalar) and infinite.value == math.inf
    not_a_number = await scraped.prom.query("0 / 0")
    assert isinstance(not_a_number, Scalar) and math.isnan(not_a_number.value)


@pytest.mark.prometheus
async def test_promql_errors_carry_prometheus_own_message(scraped: Scraped) -> None:
    with pytest.raises(PromError) as raised:
        await scraped.prom.query('up{job="nimify-api"')
    assert raised.value.status == 400
    assert raised.value.error_type == "bad_data"
    message = str(raised.value)
    assert message.startswith("""query 'up{job="nimify-api"': Prometheus at http://127.0.0.1:""")
    assert "HTTP 400: bad_data: " in message and "parse error" in message
    with pytest.raises(PromError) as raised:
        await scraped.prom.query('label_replace(vector(1), "a", "b", "c", "(")')
    assert (raised.value.status, raised.value.error_type) == (422, "execution")
    assert "execution: invalid regular expression in label_replace(): (" in str(raised.value)


@pytest.mark.prometheus
async def test_a_stopped_target_reads_up_zero(scraped: Scraped, poll) -> None:
    promql = f'up{{instance="{scraped.stoppable.address}"}}'

    async def up_value(wanted: float) -> float | None:
        vector = await instant(scraped.prom, promql)
        return wanted if vector.samples and vector.samples[0].value == wanted else None

    await poll(lambda: up_value(1.0), within_s=FIRST_SCRAPE_WITHIN_S, what="stoppable sim scraped")
    await scraped.stoppable.stop()
    assert await poll(lambda: up_value(0.0), within_s=10.0, what="up 0 after the stop") == 0.0
    targets = await scraped.prom.targets()
    (stopped,) = [target for target in targets if target.instance == scraped.stoppable.address]
    assert stopped.health == "down"
    assert "connection refused" in stopped.last_error


# --- error handling, against a server that answers as a broken Prometheus or proxy would -----------------

Answer = tuple[int, str, bytes]


def _json(status: int, payload: object) -> Answer:
    return status, "application/json", orjson.dumps(payload)


def _error(status: int, error_type: str, error: str) -> Answer:
    return _json(status, {"status": "error", "errorType": error_type, "error": error})


ANSWERS: dict[str, Answer] = {
    "bad-data": _error(400, "bad_data", 'invalid parameter "query": 1:4: parse error: unexpected end'),
    "execution": _error(422, "execution", "found duplicate series for the match group"),
    "internal": _error(500, "internal", "opening storage failed"),
    "timeout": _error(503, "timeout", "query timed out in expression evaluation"),
    "error-with-200": _error(200, "canceled", "query was canceled"),
    "proxy": (502, "text/html", b"<html><body><h1>502 Bad Gateway</h1></body></html>\n"),
    "empty-500": (500, "text/plain", b""),
    "not-json": (200, "text/plain", b"Prometheus Server is Healthy.\n"),
    "not-an-object": _json(200, [1, 2, 3]),
    "no-data": _json(200, {"status": "success"}),
    "string-result": _json(200, {"status": "success", "data": {"resultType": "string", "result": [1, "x"]}}),
    "bad-value": _json(
        200,
        {"status": "success", "data": {"resultType": "vector", "result": [{"metric": {}, "value": [1, "abc"]}]}},
    ),
    "bad-labels": _json(
        200,
        {"status": "success", "data": {"resultType": "vector", "result": [{"metric": {"a": 1}, "value": [1, "1"]}]}},
    ),
    "vector": _json(
        200,
        {"status": "success", "data": {"resultType": "vector", "result": [{"metric": {}, "value": [1, "1"]}]}},
    ),
    "escapes": _error(400, "bad_data", "bad \x1b[31mred\x1b[0m\x07 query"),
    "unhealthy": (503, "text/plain", b"Service Unavailable"),
    "targets-not-a-list": _json(200, {"status": "success", "data": {"activeTargets": 5}}),
}


@dataclass
class Fake:
    url: str  # http://127.0.0.1:port
    release: asyncio.Event  # lets the "slow" answers finish


@pytest_asyncio.fixture(loop_scope="module")
async def fake() -> AsyncIterator[Fake]:
    release = asyncio.Event()

    async def answer(request: web.Request) -> web.Response:
        mode = request.match_info["mode"]
        if mode == "slow":
            await release.wait()
        status, content_type, body = ANSWERS.get(mode, (404, "text/plain", b"404 page not found\n"))
        return web.Response(status=status, body=body, headers={"Content-Type": content_type})

    app = web.Application()
    app.router.add_get("/{mode}/{tail:.*}", answer)
    server = test_utils.TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield Fake(f"http://127.0.0.1:{server.port}", release)
    finally:
        release.set()
        await server.close()


@pytest.mark.parametrize(
    ("mode", "status", "error_type", "says"),
    [
        ("bad-data", 400, "bad_data", 'answered HTTP 400: bad_data: invalid parameter "query": 1:4: parse'),
        ("execution", 422, "execution", "answered HTTP 422: execution: found duplicate series"),
        ("internal", 500, "internal", "answered HTTP 500: internal: opening storage failed"),
        ("timeout", 503, "timeout", "answered HTTP 503: timeout: query timed out"),
        ("error-with-200", 200, "canceled", "answered HTTP 200: canceled: query was canceled"),
        ("proxy", 502, "", "answered HTTP 502 Bad Gateway: <html><body><h1>502 Bad Gateway</h1></body></html>"),
        ("empty-500", 500, "", "answered HTTP 500 Internal Server Error: an empty body"),
        ("not-json", 200, "", "answered with something that is not JSON: Prometheus Server is Healthy."),
        ("not-an-object", 200, "", "unexpected answer from Prometheus at http://127.0.0.1:"),
        ("no-data", 200, "", ": data is not an object"),
        ("string-result", 200, "", "result type 'string' is not a vector, matrix or scalar"),
        ("bad-value", 200, "", "a sample value is not a number: 'abc'"),
        ("bad-labels", 200, "", "a label value is not a string"),
        ("escapes", 400, "bad_data", "bad_data: bad red"),  # escape sequences and BEL made harmless
        ("nowhere", 404, "", "answered HTTP 404 Not Found: 404 page not found"),
    ],
)
async def test_every_failed_query_is_one_clear_prom_error(
    fake: Fake, mode: str, status: int, error_type: str, says: str
) -> None:
    async with httpx.AsyncClient() as http:
        prom = PromClient(http, f"{fake.url}/{mode}/")
        with pytest.raises(PromError) as raised:
            await prom.query('up{job="nimify-api"}')
    message = str(raised.value)
    assert message.startswith("""query 'up{job="nimify-api"}': """)
    assert f"Prometheus at {fake.url}/{mode}" in message
    assert says in message
    assert "\x1b" not in message and "\x07" not in message
    assert (raised.value.status, raised.value.error_type) == (status, error_type)


async def test_a_slow_prometheus_times_out_with_the_limit_in_the_message(fake: Fake) -> None:
    async with httpx.AsyncClient() as http:
        prom = PromClient(http, f"{fake.url}/slow", timeout_s=0.3)
        started = time.monotonic()
        with pytest.raises(PromError) as raised:
            # the slow answer never comes while the test runs: only the client's own limit ends the query
            await asyncio.wait_for(prom.query_range("up", 0.0, 60.0, 15.0), HANG_GUARD_S)
        waited_s = time.monotonic() - started
    assert not fake.release.is_set(), "it gave up before any answer"
    assert waited_s >= 0.3, f"it gave up after {waited_s:.3f} s, before its 0.3 s limit"
    assert str(raised.value) == f"range query 'up': no answer from Prometheus at {fake.url}/slow within 0.3 s"
    assert raised.value.status == 0


async def test_an_unreachable_prometheus_is_named_in_the_message() -> None:
    with socket.socket() as probe:  # a loopback port nothing listens on once the socket is closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with httpx.AsyncClient() as http:
        with pytest.raises(PromError) as refused:
            await PromClient(http, f"http://127.0.0.1:{port}").targets()
        with pytest.raises(PromError) as unresolved:
            await PromClient(http, "http://prometheus.invalid:9090").healthy()
    assert str(refused.value) == f"targets: cannot reach Prometheus at http://127.0.0.1:{port}: connection refused"
    assert str(unresolved.value).startswith(
        "health check: cannot reach Prometheus at http://prometheus.invalid:9090: cannot resolve the host ("
    )


async def test_health_and_targets_fail_as_clearly(fake: Fake) -> None:
    async with httpx.AsyncClient() as http:
        with pytest.raises(PromError) as unhealthy:
            await PromClient(http, f"{fake.url}/unhealthy").healthy()
        with pytest.raises(PromError) as shapeless:
            await PromClient(http, f"{fake.url}/targets-not-a-list").targets()
        with pytest.raises(PromError) as wrong_type:
            await PromClient(http, f"{fake.url}/vector").query_range("up", 0.0, 1.0, 1.0)
    assert str(unhealthy.value).endswith("answered HTTP 503 Service Unavailable: Service Unavailable")
    assert str(unhealthy.value).startswith("health check: ")
    assert str(shapeless.value).endswith(": activeTargets is not a list")
    assert str(wrong_type.value) == f"range query 'up': Prometheus at {fake.url}/vector answered with a Vector"


async def test_range_query_refuses_a_step_that_is_not_positive() -> None:
    async with httpx.AsyncClient() as http:
        with pytest.raises(ValueError, match="step must be positive"):
            await PromClient(http, "http://127.0.0.1:9").query_range("up", 0.0, 1.0, 0.0)
