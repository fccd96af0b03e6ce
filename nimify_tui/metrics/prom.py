"""An async client for Prometheus' HTTP API: instant and range PromQL queries, health and scrape targets.

Answers become typed results (:class:`Vector`, :class:`Matrix`, :class:`Scalar`, :class:`Target`). Every
way a request can fail (no connection, no answer in time, an HTTP error with or without Prometheus' own
``{"status": "error", "errorType", "error"}`` body, an answer that is not the JSON Prometheus sends) raises
one :class:`PromError` whose message says what was asked, of which Prometheus, and why it failed. Text quoted
from an answer in a message has its control characters made visible.
"""

from __future__ import annotations

import math
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
import orjson

from nimify_tui.kube.duration import parse_timestamp
from nimify_tui.text import one_line

_QUOTE_LIMIT = 200  # characters of an unexpected answer quoted in an error message
_Decoded = TypeVar("_Decoded")


class PromError(Exception):
    """A failed request: ``status`` is the HTTP status (0: no answer), ``error_type`` Prometheus' own."""

    def __init__(self, message: str, *, status: int = 0, error_type: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.error_type = error_type


@dataclass(frozen=True, slots=True)
class Sample:
    """One value of an instant vector: the series' labels (``__name__`` included when kept), time, value."""

    labels: Mapping[str, str]
    at: float
    value: float


@dataclass(frozen=True, slots=True)
class Series:
    """One series of a range query: its labels and its (time, value) points in time order."""

    labels: Mapping[str, str]
    points: tuple[tuple[float, float], ...]


@dataclass(frozen=True, slots=True)
class Vector:
    samples: tuple[Sample, ...]


@dataclass(frozen=True, slots=True)
class Matrix:
    series: tuple[Series, ...]


@dataclass(frozen=True, slots=True)
class Scalar:
    at: float
    value: float


QueryResult = Vector | Matrix | Scalar


@dataclass(frozen=True, slots=True)
class Target:
    """One active scrape target, as ``/api/v1/targets`` reports it."""

    job: str
    instance: str
    scrape_url: str
    health: str  # "up", "down" or "unknown" (not scraped yet)
    last_error: str
    last_scrape: float | None  # seconds since the epoch; None before the first scrape
    last_scrape_duration_s: float
    labels: Mapping[str, str]


class _BadShape(ValueError):
    """An answer that parsed as JSON but is not shaped as Prometheus answers."""


def _mapping(value: object, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _BadShape(f"{what} is not an object")
    return value


def _list(value: object, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise _BadShape(f"{what} is not a list")
    return value


def _labels(value: object) -> dict[str, str]:
    labels = _mapping(value, "a series' labels")
    if not all(isinstance(label, str) for label in labels.values()):
        raise _BadShape("a label value is not a string")
    return labels


def _point(value: object) -> tuple[float, float]:
    """A ``[<unix time>, "<value>"]`` pair; values are strings so that NaN and +Inf survive JSON."""
    pair = _list(value, "a sample")
    if len(pair) != 2 or not isinstance(pair[0], (int, float)) or not isinstance(pair[1], str):
        raise _BadShape(f"a sample is not [time, value]: {pair!r:.80}")
    try:
        return float(pair[0]), float(pair[1])
    except ValueError:
        raise _BadShape(f"a sample value is not a number: {pair[1]!r:.40}") from None


def _query_result(data: dict[str, Any]) -> QueryResult:
    kind = data.get("resultType")
    result = data.get("result")
    if kind == "vector":
        samples = []
        for item in _list(result, "the vector"):
            entry = _mapping(item, "a vector sample")
            at, value = _point(entry.get("value"))
            samples.append(Sample(_labels(entry.get("metric")), at, value))
        return Vector(tuple(samples))
    if kind == "matrix":
        series = []
        for item in _list(result, "the matrix"):
            entry = _mapping(item, "a matrix series")
            points = tuple(_point(point) for point in _list(entry.get("values"), "a series' values"))
            series.append(Series(_labels(entry.get("metric")), points))
        return Matrix(tuple(series))
    if kind == "scalar":
        at, value = _point(result)
        return Scalar(at, value)
    raise _BadShape(f"result type {kind!r:.40} is not a vector, matrix or scalar")


def _target(value: object) -> Target:
    entry = _mapping(value, "a target")
    labels = _labels(entry.get("labels"))
    last_scrape = parse_timestamp(entry.get("lastScrape"))
    duration = entry.get("lastScrapeDuration", 0.0)
    if not isinstance(duration, (int, float)):
        raise _BadShape("a target's lastScrapeDuration is not a number")
    return Target(
        job=labels.get("job", str(entry.get("scrapePool", ""))),
        instance=labels.get("instance", ""),
        scrape_url=str(entry.get("scrapeUrl", "")),
        health=str(entry.get("health", "unknown")),
        last_error=str(entry.get("lastError", "")),
        last_scrape=last_scrape if last_scrape is not None and last_scrape > 0 else None,
        last_scrape_duration_s=float(duration),
        labels=labels,
    )


def _quote(body: bytes) -> str:
    return one_line(body.decode("utf-8", "replace").strip(), _QUOTE_LIMIT) or "an empty body"


def _connect_failure(exc: BaseException) -> str:
    """Why a connection failed: the refusal or name lookup error buried in the exception chain, if any."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cause, socket.gaierror):
            return f"cannot resolve the host ({cause.strerror})"
        cause = cause.__cause__ or cause.__context__
    return one_line(str(exc), 160)


def _unix_time(seconds: float) -> str:
    if not math.isfinite(seconds):
        raise ValueError(f"not a finite time: {seconds!r}")
    return f"{seconds:.3f}"


class PromClient:
    """PromQL and status requests to the Prometheus at ``base_url`` (no trailing slash) over ``http``.

    ``http`` carries whatever the route needs (a service proxy's credentials, TLS settings); each request
    waits at most ``timeout_s``, and PromQL evaluation is asked to give up within the same time.
    """

    def __init__(self, http: httpx.AsyncClient, base_url: str, *, timeout_s: float = 5.0) -> None:
        self._http = http
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s

    async def query(self, promql: str, at: float | None = None) -> QueryResult:
        """Evaluate ``promql`` at time ``at`` (seconds since the epoch; Prometheus' now when None)."""
        params = {"query": promql, "timeout": self._eval_timeout()}
        if at is not None:
            params["time"] = _unix_time(at)
        data = await self._api("/api/v1/query", params, f"query {promql!r}")
        return self._decode(_query_result, data, f"query {promql!r}")

    async def query_range(self, promql: str, start: float, end: float, step_s: float) -> Matrix:
        """Evaluate ``promql`` at ``start``, ``start + step_s``, ... up to ``end``; a series per label set."""
        if step_s <= 0:
            raise ValueError(f"step must be positive, not {step_s!r}")
        what = f"range query {promql!r}"
        params = {
            "query": promql,
            "start": _unix_time(start),
            "end": _unix_time(end),
            "step": f"{step_s:.3f}",
            "timeout": self._eval_timeout(),
        }
        result = self._decode(_query_result, await self._api("/api/v1/query_range", params, what), what)
        if not isinstance(result, Matrix):
            raise PromError(f"{what}: Prometheus at {self.base_url} answered with a {type(result).__name__}")
        return result

    async def healthy(self) -> str:
        """Prometheus' own answer to ``/-/healthy`` ("Prometheus Server is Healthy."); PromError otherwise."""
        response = await self._get("/-/healthy", {}, "health check")
        if response.status_code != 200:
            raise self._http_error(response, "health check")
        return one_line(response.text.strip(), _QUOTE_LIMIT)

    async def targets(self) -> list[Target]:
        """The active scrape targets, in Prometheus' order."""
        what = "targets"
        data = await self._api("/api/v1/targets", {"state": "active"}, what)

        def decode(payload: dict[str, Any]) -> list[Target]:
            return [_target(item) for item in _list(payload.get("activeTargets"), "activeTargets")]

        return self._decode(decode, data, what)

    async def api_data(self, path: str, what: str) -> dict[str, Any]:
        """The ``data`` of a successful answer to the API GET ``path`` (``/api/v1/rules``, ...)."""
        return await self._api(path, {}, what)

    def _eval_timeout(self) -> str:
        return f"{max(1, round(self.timeout_s * 1000))}ms"

    async def _get(self, path: str, params: dict[str, str], what: str) -> httpx.Response:
        where = f"Prometheus at {self.base_url}"
        try:
            return await self._http.get(self.base_url + path, params=params, timeout=self.timeout_s)
        except httpx.TimeoutException:
            raise PromError(f"{what}: no answer from {where} within {self.timeout_s:g} s") from None
        except httpx.ConnectError as exc:
            raise PromError(f"{what}: cannot reach {where}: {_connect_failure(exc)}") from None
        except httpx.HTTPError as exc:
            raise PromError(
                f"{what}: request to {where} failed: {type(exc).__name__}: {one_line(str(exc), 160)}"
            ) from None

    async def _api(self, path: str, params: dict[str, str], what: str) -> dict[str, Any]:
        """The ``data`` of a successful API answer."""
        response = await self._get(path, params, what)
        if response.status_code != 200:
            raise self._http_error(response, what)
        body = self._json(response.content, what, response.status_code)
        if body.get("status") != "success":
            raise self._api_error(body, what, response.status_code)
        return self._decode(lambda payload: _mapping(payload.get("data"), "data"), body, what)

    def _json(self, content: bytes, what: str, status: int) -> dict[str, Any]:
        try:
            body = orjson.loads(content)
        except orjson.JSONDecodeError:
            raise PromError(
                f"{what}: Prometheus at {self.base_url} answered with something that is not JSON: {_quote(content)}",
                status=status,
            ) from None
        return self._decode(lambda payload: _mapping(payload, "the answer"), body, what)

    def _decode(self, decode: Callable[[Any], _Decoded], payload: Any, what: str) -> _Decoded:
        """``decode(payload)`` of a 200 answer; a payload shaped otherwise than expected is a PromError."""
        try:
            return decode(payload)
        except _BadShape as exc:
            raise PromError(
                f"{what}: unexpected answer from Prometheus at {self.base_url}: {exc}", status=200
            ) from None

    def _api_error(self, body: dict[str, Any], what: str, status: int) -> PromError:
        error_type = one_line(str(body.get("errorType") or ""), 60)
        error = one_line(str(body.get("error") or "no reason given"), _QUOTE_LIMIT)
        prefix = f"{error_type}: " if error_type else ""
        return PromError(
            f"{what}: Prometheus at {self.base_url} answered HTTP {status}: {prefix}{error}",
            status=status,
            error_type=error_type,
        )

    def _http_error(self, response: httpx.Response, what: str) -> PromError:
        status = response.status_code
        try:
            body = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            body = None
        if isinstance(body, dict) and body.get("status") == "error":
            return self._api_error(body, what, status)
        reason = response.reason_phrase or "error"
        quoted = _quote(response.content)
        return PromError(
            f"{what}: Prometheus at {self.base_url} answered HTTP {status} {reason}: {quoted}",
            status=status,
        )
