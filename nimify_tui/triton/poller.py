"""Polls every Triton server: liveness, readiness, the model repository and per-model statistics.

Each triton-server pod is asked on its own (through the API server's pod proxy, or one direct URL), because the
statistics are cumulative per process: deltas of a load-balanced service would mix two servers' counters. The
per-pod intervals are then combined per model.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from nimify_tui.triton.latency import ModelCounters, ModelInterval, counters_from_stats, model_intervals

ModelKey = tuple[str, str]


@dataclass(frozen=True, slots=True)
class ModelState:
    """One model as the operator sees it: its state on the servers, why, and what it did lately."""

    name: str
    version: str
    state: str  # READY, UNAVAILABLE, LOADING, UNLOADING, UNKNOWN, or "" for a model never loaded
    reason: str
    interval: ModelInterval | None
    servers: tuple[str, ...]  # the Triton servers (pods) reporting it


@dataclass(frozen=True, slots=True)
class ServerState:
    name: str  # the pod, or "triton" for a direct URL
    live: bool | None
    ready: bool | None
    error: str


@dataclass(frozen=True, slots=True)
class TritonView:
    servers: tuple[ServerState, ...]
    models: tuple[ModelState, ...]
    checked_at: float

    @property
    def live(self) -> bool | None:
        known = [s.live for s in self.servers if s.live is not None]
        return any(known) if known else None

    @property
    def ready(self) -> bool | None:
        known = [s.ready for s in self.servers if s.ready is not None]
        return all(known) if known else None


@dataclass
class _ServerSnapshot:
    counters: dict[ModelKey, ModelCounters]
    at: float


@dataclass
class TritonPoller:
    """Keeps the previous statistics of each server to turn cumulative counters into interval figures."""

    previous: dict[str, _ServerSnapshot] = field(default_factory=dict)
    # The repository index is a POST: through the API server it counts as "create services/proxy", which a
    # read-only session must not send and a read-only role may not. Without it, states come from GETs.
    allow_index_post: bool = True
    _asked: set[str] = field(default_factory=set, repr=False)  # servers polled at least once

    async def poll(self, targets: Mapping[str, str], headers: Mapping[str, str], ssl_context: Any) -> TritonView:
        """``targets``: server name -> ``host:port/prefix`` (tritonclient's url form; https when ssl_context)."""
        results = await asyncio.gather(
            *(self._poll_server(name, url, headers, ssl_context) for name, url in targets.items())
        )
        servers = tuple(result[0] for result in results)
        index_by_server = {result[0].name: result[1] for result in results}
        intervals_by_server = {result[0].name: result[2] for result in results}
        for gone in set(self.previous) - set(targets):
            del self.previous[gone]
        self._asked &= set(targets)
        return TritonView(servers, combine_models(index_by_server, intervals_by_server), time.time())

    async def _poll_server(
        self, name: str, url: str, headers: Mapping[str, str], ssl_context: Any
    ) -> tuple[ServerState, list[dict[str, Any]], list[ModelInterval]]:
        from tritonclient.http.aio import InferenceServerClient
        from tritonclient.utils import InferenceServerException

        client = InferenceServerClient(url, ssl=ssl_context is not None, ssl_context=ssl_context, conn_timeout=5.0)
        hdrs = dict(headers)
        # A server's first poll asks everything at once (a connection each): the models table is waiting for it.
        # Later polls ask one after the other on one kept-alive connection: fewer connections through the proxy.
        at_once = name not in self._asked
        self._asked.add(name)
        try:
            live, ready, stats, index = await _ask(
                at_once,
                lambda: client.is_server_live(headers=hdrs),
                lambda: client.is_server_ready(headers=hdrs),
                lambda: client.get_inference_statistics(headers=hdrs),
                lambda: self._repository_index(client, hdrs),
            )
            if index is None:  # the index may not be asked (read-only): states from the statistics' models
                index = await self._index_from_stats(client, hdrs, stats, at_once)
        except InferenceServerException as exc:
            return ServerState(name, None, None, _triton_error(exc)), [], []
        except (OSError, asyncio.TimeoutError) as exc:
            return ServerState(name, None, None, f"unreachable: {type(exc).__name__}: {exc}"[:200]), [], []
        except Exception as exc:  # aiohttp raises its own ClientError family; one message for all
            return ServerState(name, None, None, f"{type(exc).__name__}: {exc}"[:200]), [], []
        finally:
            await client.close()
        now = time.time()
        counters = counters_from_stats(stats if isinstance(stats, dict) else {})
        before = self.previous.get(name)
        intervals: list[ModelInterval] = []
        if before is not None and now > before.at:
            intervals = model_intervals(before.counters, counters, now - before.at)
        self.previous[name] = _ServerSnapshot(counters, now)
        return ServerState(name, bool(live), bool(live) and bool(ready), ""), list(index or []), intervals

    async def _repository_index(self, client: Any, headers: dict[str, str]) -> list[dict[str, Any]] | None:
        """The repository index (a POST), or None where it may not be asked."""
        from tritonclient.utils import InferenceServerException

        if not self.allow_index_post:
            return None
        try:
            return list(await client.get_model_repository_index(headers=headers) or [])
        except InferenceServerException as exc:
            if "403" not in str(exc) and "forbidden" not in str(exc).lower():
                raise
            self.allow_index_post = False  # this role may not POST through the proxy: stop asking
            return None

    async def _index_from_stats(
        self, client: Any, headers: dict[str, str], stats: Any, at_once: bool
    ) -> list[dict[str, Any]]:
        entries = (stats or {}).get("model_stats", []) if isinstance(stats, dict) else []
        models = [(str(entry.get("name", "")), str(entry.get("version", ""))) for entry in entries]
        readiness = await _ask(
            at_once, *(partial(client.is_model_ready, name, version, headers=headers) for name, version in models)
        )
        index: list[dict[str, Any]] = []
        for (name, version), ready in zip(models, readiness, strict=True):
            reason = "" if ready else "not ready (read-only: the repository index, a POST, is not asked)"
            index.append(
                {"name": name, "version": version, "state": "READY" if ready else "UNAVAILABLE", "reason": reason}
            )
        return index


def load_client() -> None:
    """Import tritonclient's asyncio client (numpy, gevent, aiohttp: a few hundred ms): the first poll calls it in a
    worker thread, while it waits for its access review and the pod list, rather than in its own first round."""
    import tritonclient.http.aio
    import tritonclient.utils  # noqa: F401


async def _ask(at_once: bool, *calls: Callable[[], Awaitable[Any]]) -> list[Any]:
    """The calls' results, asked at once or one after the other; at once, the first failure is raised when all
    have ended (none is left running)."""
    if not at_once:
        return [await call() for call in calls]
    results = await asyncio.gather(*(call() for call in calls), return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results


def _triton_error(exc: Exception) -> str:
    status = getattr(exc, "status", lambda: None)()
    message = getattr(exc, "message", lambda: str(exc))()
    return f"{status or 'error'}: {message}"[:200]


_STATE_RANK = {"UNAVAILABLE": 0, "UNKNOWN": 1, "LOADING": 2, "UNLOADING": 3, "READY": 5, "": 6}


def combine_models(
    index_by_server: Mapping[str, Sequence[Mapping[str, Any]]],
    intervals_by_server: Mapping[str, Sequence[ModelInterval]],
) -> tuple[ModelState, ...]:
    """One row per model version across servers: the worst state wins, intervals add up."""
    states: dict[ModelKey, tuple[str, str]] = {}
    servers: dict[ModelKey, list[str]] = {}
    for server, index in index_by_server.items():
        for entry in index:
            key = (str(entry.get("name", "")), str(entry.get("version", "")))
            state = str(entry.get("state", ""))
            reason = str(entry.get("reason", ""))
            current = states.get(key)
            if current is None or _STATE_RANK.get(state, 1) < _STATE_RANK.get(current[0], 1):
                states[key] = (state, reason)
            servers.setdefault(key, []).append(server)
    by_model: dict[ModelKey, list[ModelInterval]] = {}
    for intervals in intervals_by_server.values():
        for interval in intervals:
            by_model.setdefault((interval.name, interval.version), []).append(interval)
    rows: list[ModelState] = []
    for key in sorted(states, key=lambda k: (_STATE_RANK.get(states[k][0], 1), k)):
        state, reason = states[key]
        combined = combine_intervals(by_model.get(key, []) or _any_version(by_model, key[0]))
        rows.append(ModelState(key[0], key[1], state, reason, combined, tuple(servers.get(key, []))))
    return tuple(rows)


def _any_version(by_model: Mapping[ModelKey, list[ModelInterval]], name: str) -> list[ModelInterval]:
    """The repository index of a never-versioned entry has no version; its stats do."""
    return [i for (model, _), intervals in by_model.items() if model == name for i in intervals]


def combine_intervals(intervals: Iterable[ModelInterval]) -> ModelInterval | None:
    """Intervals of the same model on several servers: rates add, averages weighted by requests."""
    items = list(intervals)
    if not items:
        return None
    if len(items) == 1:
        return items[0]
    requests = sum(i.requests for i in items)
    failures = sum(i.failures for i in items)

    def weighted(attr: str) -> float | None:
        pairs = [(getattr(i, attr), i.requests) for i in items if getattr(i, attr) is not None and i.requests]
        total = sum(w for _, w in pairs)
        return sum(v * w for v, w in pairs) / total if total else None

    pending = [i.pending for i in items if i.pending is not None]
    first = items[0]
    return ModelInterval(
        name=first.name,
        version=first.version,
        seconds=max(i.seconds for i in items),
        reset=any(i.reset for i in items),
        requests=requests,
        failures=failures,
        request_rate=sum(i.request_rate for i in items),
        inference_rate=sum(i.inference_rate for i in items),
        failure_rate=failures / requests if requests else None,
        avg_batch_size=weighted("avg_batch_size"),
        avg_request_us=weighted("avg_request_us"),
        avg_queue_us=weighted("avg_queue_us"),
        avg_compute_input_us=weighted("avg_compute_input_us"),
        avg_compute_infer_us=weighted("avg_compute_infer_us"),
        avg_compute_output_us=weighted("avg_compute_output_us"),
        cache_hit_rate=weighted("cache_hit_rate"),
        pending=sum(pending) if pending else None,
    )
