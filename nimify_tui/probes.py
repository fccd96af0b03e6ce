"""Health probes, as the runbook's "Confirm the outage" and "Recovery verification" steps run them.

Each probe is one HTTP request with a timeout; the result keeps the status, the latency and the last error, so the
health strip can say not just "red" but why.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from nimify_tui.endpoints import Endpoint, Endpoints

if TYPE_CHECKING:
    import httpx


@dataclass(frozen=True)
class Probe:
    name: str  # what the strip shows: "api /health"
    endpoint: Endpoint
    path: str
    method: str = "GET"
    body: bytes | None = None


@dataclass(frozen=True)
class ProbeResult:
    name: str
    ok: bool
    status: int  # HTTP status, 0 when no answer
    latency_ms: float
    error: str  # empty when ok
    checked_at: float
    url: str


def runbook_probes(endpoints: Endpoints) -> list[Probe]:
    """The runbook's checks: nimify-api /health and /ready, Triton live/ready, Prometheus /-/healthy."""
    return [
        Probe("api /health", endpoints.api_http, "/health"),
        Probe("api /ready", endpoints.api_http, "/ready"),
        Probe("triton live", endpoints.triton_http, "/v2/health/live"),
        Probe("triton ready", endpoints.triton_http, "/v2/health/ready"),
        Probe("prometheus", endpoints.prometheus, "/-/healthy"),
    ]


async def run_probe(client: httpx.AsyncClient, probe: Probe, timeout: float = 3.0) -> ProbeResult:
    import httpx

    url = probe.endpoint.url(probe.path)
    started = time.perf_counter()
    try:
        response = await client.request(
            probe.method,
            url,
            content=probe.body,
            headers={"Content-Type": "application/json"} if probe.body else None,
            timeout=timeout,
        )
    except httpx.TimeoutException:
        return _failed(probe, url, started, 0, f"no answer within {timeout:g} s")
    except httpx.HTTPError as exc:
        return _failed(probe, url, started, 0, f"{type(exc).__name__}: {exc}"[:200])
    latency = (time.perf_counter() - started) * 1000
    ok = 200 <= response.status_code < 300
    error = "" if ok else describe_failure(response)
    return ProbeResult(probe.name, ok, response.status_code, latency, error, time.time(), url)


async def run_probes(client: httpx.AsyncClient, probes: list[Probe], timeout: float = 3.0) -> list[ProbeResult]:
    return list(await asyncio.gather(*(run_probe(client, p, timeout) for p in probes)))


def _failed(probe: Probe, url: str, started: float, status: int, error: str) -> ProbeResult:
    latency = (time.perf_counter() - started) * 1000
    return ProbeResult(probe.name, False, status, latency, error, time.time(), url)


def describe_failure(response: httpx.Response) -> str:
    text = response.text.strip().replace("\n", " ")
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        said = body.get("message") or body.get("error") or body.get("reason")
        if isinstance(said, str) and said:
            text = said  # the API server's Status message, Triton's error, or nimify-api's reason
    if len(text) > 160:
        text = text[:157] + "..."
    return f"HTTP {response.status_code}" + (f": {text}" if text else "")
