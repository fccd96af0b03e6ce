"""The runbook's "Recovery Verification", run as checks over HTTP: the same requests the runbook's curl commands
make, through the API server's service proxy (or the URLs given on the command line).

1. Health checks: nimify-api's ``/health`` and ``/v1/models``, and an end-to-end ``POST /v1/predict``.
2. Monitoring verification: nimify-api's ``:9090/metrics`` answers and its request counters move; Prometheus'
   ``/api/v1/targets`` lists the nimify-api targets up; ``up{job="nimify-api"}`` through its query API.
3. Load testing: the light load test (:mod:`nimify_tui.recovery.load_test`).

Read-only sessions send no POST: the predict and the load test are "not run: read-only"; the GETs still run.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from nimify_tui.recovery.load_test import LoadSpec, run_load_test
from nimify_tui.recovery.result import (
    HEALTH,
    LOAD,
    MONITORING,
    READ_ONLY_NOT_RUN,
    CheckResult,
    LoadFigures,
    RecoveryResult,
)
from nimify_tui.text import one_line

if TYPE_CHECKING:
    import httpx

    from nimify_tui.config import RecoverySettings
    from nimify_tui.endpoints import Endpoints
    from nimify_tui.metrics.scrape import Scrape

RUNBOOK_PREDICT_BODY = b'{"input": [1, 2, 3]}'
API_JOB = "nimify-api"
UP_QUERY = 'up{job="nimify-api"}'
# the runbook's NimifyHighLatency threshold: a load test whose p95 is above it did not show a recovered service
LATENCY_LIMIT_MS = 500.0

HEALTH_CHECK = "api /health"
MODELS_CHECK = "api /v1/models"
PREDICT_CHECK = "api POST /v1/predict"
METRICS_CHECK = "api :9090/metrics"
TARGETS_CHECK = "prometheus targets"
UP_CHECK = UP_QUERY
LOAD_CHECK = "load test"
USERS_PATH_CHECK = "users' path: ingress, TLS"
CAPACITY_CHECK = "serving capacity"
PLAN = (
    (HEALTH, HEALTH_CHECK),
    (HEALTH, USERS_PATH_CHECK),
    (HEALTH, CAPACITY_CHECK),
    (HEALTH, MODELS_CHECK),
    (HEALTH, PREDICT_CHECK),
    (MONITORING, METRICS_CHECK),
    (MONITORING, TARGETS_CHECK),
    (MONITORING, UP_CHECK),
    (LOAD, LOAD_CHECK),
)
POSTS = frozenset({PREDICT_CHECK, LOAD_CHECK})
# what Prometheus says changes only at its next scrape of each target (15 s by default, plus its service discovery):
# these checks are asked again until they pass or ``VerifyOptions.prometheus_settle_s`` has passed
AFTER_A_SCRAPE = frozenset({TARGETS_CHECK, UP_CHECK})


@dataclass(frozen=True, slots=True)
class VerifyOptions:
    """What the verification sends: the predict's body, the load test's bounds; ``readonly``: no POST at all."""

    predict_body: bytes = RUNBOOK_PREDICT_BODY
    load: LoadSpec = field(default_factory=LoadSpec)
    readonly: bool = False
    timeout_s: float = 5.0
    latency_limit_ms: float = LATENCY_LIMIT_MS
    prometheus_settle_s: float = 30.0  # how long Prometheus' view may lag (AFTER_A_SCRAPE)
    retry_every_s: float = 2.0

    @classmethod
    def of(cls, settings: RecoverySettings, *, readonly: bool) -> VerifyOptions:
        """The options the ``[recovery]`` table of the config file sets."""
        load = LoadSpec(settings.load_requests, settings.load_concurrency, settings.load_timeout)
        return cls(predict_body=settings.predict_body.encode(), load=load, readonly=readonly)


def planned(started_at: float, **fields: Any) -> RecoveryResult:
    """A verification about to run: every check pending."""
    checks = tuple(CheckResult(step, name, "pending") for step, name in PLAN)
    return RecoveryResult("running", started_at, checks, **fields)


class _Failed(Exception):
    """A check's failure, with the one line that says why."""


NOT_SEEN_YET = "unknown:"  # a check from the live data that has not come in yet: asked again, as AFTER_A_SCRAPE


def no_users_path_seen() -> tuple[str, bool]:
    return "unknown: the ingress and TLS checks have not been read", False


def no_capacity_seen() -> tuple[str, bool]:
    return "unknown: the deployments have not been read", False


async def verify(
    client: httpx.AsyncClient,
    endpoints: Endpoints,
    options: VerifyOptions,
    start: RecoveryResult,
    on_update: Callable[[RecoveryResult], None] = lambda result: None,
    clock: Callable[[], float] = time.time,
    users_path: Callable[[], tuple[str, bool]] = no_users_path_seen,
    capacity: Callable[[], tuple[str, bool]] = no_capacity_seen,
) -> RecoveryResult:
    """Run every check of ``start`` in the runbook's order, reporting the result after each one; return the
    finished result. ``users_path``: what the ingress and TLS checks say now (the runbook's curls reach
    nimify-api's service from inside; its users come through the ingress and its certificate). ``capacity``:
    whether nimify-api and Triton run every replica they should, of their current revision, on live nodes (a
    service that answers on what is left is not yet recovered)."""
    result = start
    load: LoadFigures | None = None

    def update(check: CheckResult) -> None:
        nonlocal result
        result = result.with_check(check)
        on_update(result)

    baseline = await _scrape_or_none(client, endpoints, options.timeout_s)  # the counters before our requests

    async def run(step: str, name: str, body: Callable[[], Any]) -> None:
        if options.readonly and name in POSTS:
            update(CheckResult(step, name, "not-run", READ_ONLY_NOT_RUN))
            return
        update(CheckResult(step, name, "running"))
        started = time.perf_counter()
        while True:
            try:
                detail, ok = await body()
            except _Failed as exc:
                detail, ok = str(exc), False
            except Exception as exc:  # a check that breaks is a failed check, said in one line
                detail, ok = one_line(f"{type(exc).__name__}: {exc}", 200), False
            waited = time.perf_counter() - started
            waits = name in AFTER_A_SCRAPE or detail.startswith(NOT_SEEN_YET)  # the data may still be on its way
            if ok or not waits or waited + options.retry_every_s > options.prometheus_settle_s:
                break
            what = "Prometheus' next scrape" if name in AFTER_A_SCRAPE else "the cluster's state"
            update(CheckResult(step, name, "running", f"waiting for {what} ({waited:.0f} s): {detail}"))
            await asyncio.sleep(options.retry_every_s)
        if waits and waited >= options.retry_every_s:
            detail += f" (after {waited:.0f} s)" if ok else f" (for {waited:.0f} s)"
        elapsed = (time.perf_counter() - started) * 1000.0
        update(CheckResult(step, name, "pass" if ok else "fail", detail, round(elapsed, 1)))

    async def health() -> tuple[str, bool]:
        response = await _get(client, endpoints.api_http.url("/health"), options.timeout_s)
        return _status_line(response), 200 <= response.status_code < 300

    async def models() -> tuple[str, bool]:
        response = await _get(client, endpoints.api_http.url("/v1/models"), options.timeout_s)
        if not 200 <= response.status_code < 300:
            return _status_line(response), False
        return _models_state(response)

    async def predict() -> tuple[str, bool]:
        import httpx

        try:
            response = await client.post(
                endpoints.api_http.url("/v1/predict"),
                content=options.predict_body,
                headers={"Content-Type": "application/json"},
                timeout=options.timeout_s,
            )
        except httpx.TimeoutException:
            raise _Failed(f"no answer within {options.timeout_s:g} s") from None
        except httpx.HTTPError as exc:
            raise _Failed(one_line(f"{type(exc).__name__}: {exc}", 200)) from None
        return _status_line(response), 200 <= response.status_code < 300

    async def metrics() -> tuple[str, bool]:
        later = await _scrape(client, endpoints, options.timeout_s)
        return _counters_moved(baseline, later)

    async def targets() -> tuple[str, bool]:
        from nimify_tui.metrics.prom import PromClient, PromError

        prometheus = PromClient(client, endpoints.prometheus.base_url, timeout_s=options.timeout_s)
        try:
            found = [t for t in await prometheus.targets() if t.job == API_JOB]
        except PromError as exc:
            raise _Failed(one_line(str(exc), 200)) from None
        if not found:
            return f"no {API_JOB} target in Prometheus", False
        down = [t for t in found if t.health != "up"]
        detail = f"{len(found) - len(down)} of {len(found)} {API_JOB} targets up"
        if down:
            first = down[0]
            detail += f"; {first.instance} {first.health}" + (f": {first.last_error}" if first.last_error else "")
        return one_line(detail, 200), not down

    async def up() -> tuple[str, bool]:
        from nimify_tui.metrics.prom import PromClient, PromError, Vector

        prometheus = PromClient(client, endpoints.prometheus.base_url, timeout_s=options.timeout_s)
        try:
            answer = await prometheus.query(UP_QUERY)
        except PromError as exc:
            raise _Failed(one_line(str(exc), 200)) from None
        if not isinstance(answer, Vector) or not answer.samples:
            return "no series", False
        ones = sum(1 for sample in answer.samples if sample.value == 1)
        return f"up = 1 on {ones} of {len(answer.samples)} instances", ones == len(answer.samples)

    async def load_test() -> tuple[str, bool]:
        nonlocal load
        load = await run_load_test(client, endpoints.api_http.url("/v1/predict"), options.predict_body, options.load)
        detail = load.summary()
        if load.first_error:
            detail += f" (first: {load.first_error})"
        too_slow = load.p95_ms > options.latency_limit_ms
        if too_slow and not load.errors:
            detail += f"; p95 above {options.latency_limit_ms:.0f} ms"
        return one_line(detail, 300), load.errors == 0 and not too_slow

    async def users() -> tuple[str, bool]:
        return users_path()

    async def serving_capacity() -> tuple[str, bool]:
        return capacity()

    bodies = {
        HEALTH_CHECK: health,
        USERS_PATH_CHECK: users,
        CAPACITY_CHECK: serving_capacity,
        MODELS_CHECK: models,
        PREDICT_CHECK: predict,
        METRICS_CHECK: metrics,
        TARGETS_CHECK: targets,
        UP_CHECK: up,
        LOAD_CHECK: load_test,
    }
    for check in start.checks:
        await run(check.step, check.name, bodies[check.name])
    finished = result.finish(clock(), load)
    on_update(finished)
    return finished


async def _get(client: httpx.AsyncClient, url: str, timeout_s: float) -> httpx.Response:
    import httpx

    try:
        return await client.get(url, timeout=timeout_s)
    except httpx.TimeoutException:
        raise _Failed(f"no answer within {timeout_s:g} s") from None
    except httpx.HTTPError as exc:
        raise _Failed(one_line(f"{type(exc).__name__}: {exc}", 200)) from None


def _status_line(response: httpx.Response) -> str:
    from nimify_tui.probes import describe_failure

    if 200 <= response.status_code < 300:
        return f"HTTP {response.status_code}"
    return one_line(describe_failure(response), 200)


def _models_state(response: httpx.Response) -> tuple[str, bool]:
    """``/v1/models`` lists the served models; each must be READY where the answer says its state."""
    try:
        body = response.json()
    except ValueError:
        return "the answer is not JSON", False
    listed = body.get("models") if isinstance(body, dict) else None
    if not isinstance(listed, list) or not listed:
        return "no model listed", False
    problems = []
    for model in listed:
        if not isinstance(model, dict):
            continue
        state = model.get("state")
        if isinstance(state, str) and state.upper() != "READY":
            reason = model.get("reason")
            problems.append(f"{model.get('name', '?')} is {state}" + (f": {reason}" if reason else ""))
    names = ", ".join(str(m.get("name", "?")) for m in listed if isinstance(m, dict))
    if problems:
        return one_line("; ".join(problems), 200), False
    return one_line(f"HTTP {response.status_code}: {names} ready", 200), True


async def _scrape(client: httpx.AsyncClient, endpoints: Endpoints, timeout_s: float) -> Scrape:
    from nimify_tui.metrics.scrape import parse_metrics

    response = await _get(client, endpoints.api_metrics.url("/metrics"), timeout_s)
    if response.status_code != 200:
        raise _Failed(_status_line(response))
    try:
        return parse_metrics(response.text, time.time())
    except ValueError as exc:
        raise _Failed(one_line(f"not Prometheus text: {exc}", 200)) from None


async def _scrape_or_none(client: httpx.AsyncClient, endpoints: Endpoints, timeout_s: float) -> Scrape | None:
    try:
        return await _scrape(client, endpoints, timeout_s)
    except _Failed:
        return None


def _counters_moved(baseline: Scrape | None, later: Scrape) -> tuple[str, bool]:
    """The requests counter grew since the scrape taken before the health checks."""
    total = later.total("http_requests_total")
    if total is None:
        return "no http_requests_total series", False
    if baseline is None:
        return f"answers now, http_requests_total {total:.0f}; no earlier scrape to compare", False
    before = baseline.total("http_requests_total") or 0.0
    moved = total - before
    if moved <= 0:
        return f"http_requests_total did not move ({total:.0f})", False
    return f"http_requests_total +{moved:.0f} in {later.at - baseline.at:.1f} s", True


def with_options(result: RecoveryResult, readonly: bool) -> RecoveryResult:
    """``result`` with the POST checks marked not run up front in a read-only session (shown before they come)."""
    if not readonly:
        return result
    checks = tuple(
        replace(check, state="not-run", detail=READ_ONLY_NOT_RUN) if check.name in POSTS else check
        for check in result.checks
    )
    return replace(result, checks=checks)
