"""The simulated nimify-api: the service's HTTP API on port 8000, Prometheus metrics on port 9090 (and 8000).

``handle`` answers as one api process does whenever the world's proxy reaches it; the world answers 503
itself when no pod runs. The metrics aggregate every replica and move with the world's traffic each tick.
"""

from __future__ import annotations

import asyncio
import json
import math
from bisect import bisect_left
from dataclasses import dataclass, field
from statistics import NormalDist

from nimify_tui.sim.contract import HTTPReply, WorldView
from nimify_tui.sim.promtext import CONTENT_TYPE, PromTextWriter
from nimify_tui.sim.triton.http import connection_refused
from nimify_tui.sim.triton.models import READY, SERVED_MODEL, VERSION
from nimify_tui.sim.triton.server import TritonSim

HTTP_PORT = 8000
METRICS_PORT = 9090
PREDICT = "/v1/predict"
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)
API_OVERHEAD_S = 0.004  # JSON decoding, validation and the hop to Triton
TRITON_UNREACHABLE_S = 0.003  # connection refused by Triton's service
BACKEND_ERROR_S = 0.006  # Triton answered with an error
LOCAL_ENDPOINT_S = 0.001  # /health, /ready, /v1/models
# a predict's reply comes after its simulated duration (the load test measures the load), at most this long
MAX_REPLY_DELAY_S = 10.0
_BUCKET_LABELS = (*(repr(bound) for bound in DURATION_BUCKETS), "+Inf")


def _lognormal_slices(slices: int, sigma: float) -> tuple[float, ...]:
    """Equal-probability slices of a log-normal spread, scaled to a mean of 1."""
    normal = NormalDist()
    raw = [math.exp(sigma * normal.inv_cdf((k + 0.5) / slices)) for k in range(slices)]
    mean = sum(raw) / slices
    return tuple(value / mean for value in raw)


# How request durations spread around their mean: p95 is about 1.7 times the mean.
_SPREAD = _lognormal_slices(20, 0.35)


@dataclass
class _Histogram:
    counts: list[int] = field(default_factory=lambda: [0] * (len(DURATION_BUCKETS) + 1))
    total_s: float = 0.0

    def observe(self, seconds: float, count: int) -> None:
        self.counts[bisect_left(DURATION_BUCKETS, seconds)] += count
        self.total_s += seconds * count


def _json_reply(status: int, payload: object) -> HTTPReply:
    return HTTPReply(status, json.dumps(payload, separators=(",", ":")).encode())


def _numbers(value: object) -> list[float] | None:
    """The predict input as floats, or None when it is not a non-empty list of finite numbers."""
    if not isinstance(value, list) or not value:
        return None
    numbers: list[float] = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, (int, float)) or not math.isfinite(item):
            return None
        numbers.append(float(item))
    return numbers


class NimifyApiSim:
    """The simulated nimify-api, serving ``nimify-model`` through :class:`TritonSim`."""

    def __init__(self, world: WorldView, triton: TritonSim) -> None:
        self._world = world
        self._triton = triton
        self._requests: dict[tuple[str, str, str], int] = {}
        self._durations: dict[tuple[str, str], _Histogram] = {}
        self._arrival_carry = 0.0
        self._rejection_carry = 0.0  # the share of direct predicts Triton turns away under overload, accumulated
        self._spread_offset = 0

    def not_ready_reason(self) -> str:
        """Why ``/ready`` fails, or "" when the database answers, Triton is ready and the model is loaded."""
        database_error = self._world.traffic().database_error
        if database_error:
            return f"database unreachable: {database_error}"
        if not self._triton.is_live():
            return "Triton server is unreachable"
        return self._model_problem() or ("" if self._triton.is_ready() else "Triton server is not ready")

    def _model_problem(self) -> str:
        """What keeps the served model from answering, or "" when it is READY."""
        status = self._triton.model_status(SERVED_MODEL)
        if status.state == READY:
            return ""
        detail = f": {status.reason}" if status.reason else ""
        return f"model '{SERVED_MODEL}' is {status.state or 'not loaded'}{detail}"

    def is_ready(self) -> bool:
        return not self.not_ready_reason()

    def tick(self, dt: float) -> None:
        """Count the offered load of ``dt`` seconds, as the ready replicas answer it."""
        traffic = self._world.traffic()
        if dt <= 0 or traffic.api_ready_replicas <= 0:
            return
        self._arrival_carry += traffic.offered_rps * dt
        arrivals = int(self._arrival_carry)
        self._arrival_carry -= arrivals
        if not arrivals:
            return
        if not self._triton.is_live():
            self._count("POST", PREDICT, 503, arrivals, TRITON_UNREACHABLE_S)
        elif self._model_problem():
            self._count("POST", PREDICT, 502, arrivals, BACKEND_ERROR_S)
        else:
            serving = self._triton.serving()
            rejected = round(arrivals * serving.rejected_rps / serving.offered_rps) if serving.offered_rps else 0
            self._count_spread(arrivals - rejected, serving.server_ms / 1000.0 + API_OVERHEAD_S)
            if rejected:
                self._count("POST", PREDICT, 503, rejected, BACKEND_ERROR_S)

    async def handle(self, method: str, port: int, path: str, query: dict[str, str], body: bytes) -> HTTPReply:
        if port not in (HTTP_PORT, METRICS_PORT):
            return connection_refused()
        if path == "/metrics":
            return HTTPReply(200, self.metrics_text(), CONTENT_TYPE)
        if port == METRICS_PORT:
            return HTTPReply(404, b"Not Found", "text/plain; charset=utf-8")
        routes = {"/health": "GET", "/ready": "GET", "/v1/models": "GET", PREDICT: "POST"}
        if path not in routes:
            return _json_reply(404, {"error": "Not Found"})
        if method != routes[path]:
            return _json_reply(405, {"error": "Method Not Allowed"})
        if path == PREDICT:
            reply, seconds = self._predict(body)
        else:
            reply, seconds = self._local(path), LOCAL_ENDPOINT_S
        self._count(method, path, reply.status, 1, seconds)
        if path == PREDICT:
            await asyncio.sleep(min(seconds, MAX_REPLY_DELAY_S))  # Triton's queueing and compute, as a caller sees
        return reply

    def _local(self, path: str) -> HTTPReply:
        if path == "/health":
            return _json_reply(200, {"status": "healthy"})
        if path == "/ready":
            reason = self.not_ready_reason()
            if reason:
                return _json_reply(503, {"status": "not ready", "reason": reason})
            return _json_reply(200, {"status": "ready", "model": SERVED_MODEL})
        if self._triton.is_live():
            status = self._triton.model_status(SERVED_MODEL)
            state, reason = status.state or "UNKNOWN", status.reason
        else:
            state, reason = "UNKNOWN", "Triton server is unreachable"
        model = {
            "name": SERVED_MODEL,
            "version": VERSION,
            "backend": "triton",
            "state": state,
            "reason": reason,
        }
        return _json_reply(200, {"models": [model]})

    def _predict(self, body: bytes) -> tuple[HTTPReply, float]:
        try:
            request = json.loads(body)
        except ValueError:
            return _json_reply(400, {"error": "request body is not valid JSON"}), LOCAL_ENDPOINT_S
        values = _numbers(request.get("input")) if isinstance(request, dict) else None
        if values is None:
            error = "field 'input' must be a non-empty list of numbers"
            return _json_reply(400, {"error": error}), LOCAL_ENDPOINT_S
        if self._world.traffic().api_ready_replicas <= 0:
            return _json_reply(503, {"error": "no nimify-api replica is ready"}), LOCAL_ENDPOINT_S
        if not self._triton.is_live():
            error = "inference backend unavailable: Triton server is unreachable"
            return _json_reply(503, {"error": error}), TRITON_UNREACHABLE_S
        problem = self._model_problem()
        if problem:
            return _json_reply(502, {"error": f"inference backend error: {problem}"}), BACKEND_ERROR_S
        serving = self._triton.serving()
        if serving.offered_rps > 0 and serving.rejected_rps > 0:  # as the offered load is rejected, so is this one
            self._rejection_carry += serving.rejected_rps / serving.offered_rps
            if self._rejection_carry >= 1.0:
                self._rejection_carry -= 1.0
                error = "inference backend overloaded: Triton rejected the request"
                return _json_reply(503, {"error": error}), BACKEND_ERROR_S
        prediction = self._triton.infer(values)
        seconds = prediction.latency_s + API_OVERHEAD_S
        payload = {
            "model": SERVED_MODEL,
            "version": VERSION,
            "prediction": prediction.outputs,
            "latency_ms": round(seconds * 1000.0, 3),
        }
        return _json_reply(200, payload), seconds

    def _count(self, method: str, endpoint: str, status: int, count: int, seconds: float) -> None:
        key = (method, endpoint, str(status))
        self._requests[key] = self._requests.get(key, 0) + count
        self._durations.setdefault((method, endpoint), _Histogram()).observe(seconds, count)

    def _count_spread(self, count: int, mean_s: float) -> None:
        """Successful predictions whose durations spread around ``mean_s`` (deterministically)."""
        if count <= 0:
            return
        key = ("POST", PREDICT, "200")
        self._requests[key] = self._requests.get(key, 0) + count
        histogram = self._durations.setdefault(("POST", PREDICT), _Histogram())
        base, extra = divmod(count, len(_SPREAD))
        for index, factor in enumerate(_SPREAD):
            share = base + (1 if (index - self._spread_offset) % len(_SPREAD) < extra else 0)
            if share:
                histogram.observe(mean_s * factor, share)
        self._spread_offset = (self._spread_offset + extra) % len(_SPREAD)

    def metrics_text(self) -> bytes:
        out = PromTextWriter()
        out.family("http_requests_total", "counter", "Total HTTP requests")
        for (method, endpoint, status), count in sorted(self._requests.items()):
            labels = [("method", method), ("endpoint", endpoint), ("status", status)]
            out.sample("http_requests_total", labels, count)
        out.family("http_request_duration_seconds", "histogram", "HTTP request duration in seconds")
        for (method, endpoint), histogram in sorted(self._durations.items()):
            labels = [("method", method), ("endpoint", endpoint)]
            cumulative = 0
            for bound, count in zip(_BUCKET_LABELS, histogram.counts, strict=True):
                cumulative += count
                out.sample("http_request_duration_seconds_bucket", [*labels, ("le", bound)], cumulative)
            out.sample("http_request_duration_seconds_sum", labels, histogram.total_s)
            out.sample("http_request_duration_seconds_count", labels, cumulative)
        return out.text()
