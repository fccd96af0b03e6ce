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
from typing import TYPE_CHECKING, Any

from nimify_tui.triton.client import (
    DEFAULT_TIMEOUT_S,
    AsyncTritonClient,
    TritonEndpoint,
    TritonError,
    model_ready,
    model_statistics,
    repository_index,
    server_live,
    server_ready,
)
from nimify_tui.triton.latency import ModelCounters, ModelInterval, counters_from_stats, model_intervals

if TYPE_CHECKING:
    from typing_extensions import Self

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
    """Keeps the previous statistics of each server to turn cumulative counters into interval figures, and a
    client per server whose connections are kept from one poll to the next. Close it (``aclose``, or ``async
    with``) when done."""

    previous: dict[str, _ServerSnapshot] = field(default_factory=dict)
    # The repository index is a POST: through the API server it counts as "create pods/proxy", which a read-only
    # session must not send and a read-only role may not. Without it, states come from GETs.
    allow_index_post: bool = True
    timeout_s: float = DEFAULT_TIMEOUT_S
    _asked: set[str] = field(default_factory=set, repr=False)  # servers polled at least once
    _clients: dict[str, AsyncTritonClient] = field(default_factory=dict, repr=False)

    async def poll(self, targets: Mapping[str, TritonEndpoint]) -> TritonView:
        """Ask every server at once; ``targets``: server name (the pod, or "triton") -> its endpoint."""
        await self._keep_clients(targets)
        results = await asyncio.gather(*(self._poll_server(name, self._clients[name]) for name in targets))
        servers = tuple(result[0] for result in results)
        index_by_server = {result[0].name: result[1] for result in results}
        intervals_by_server = {result[0].name: result[2] for result in results}
        for gone in set(self.previous) - set(targets):
            del self.previous[gone]
        self._asked &= set(targets)
        return TritonView(servers, combine_models(index_by_server, intervals_by_server), time.time())

    async def _keep_clients(self, targets: Mapping[str, TritonEndpoint]) -> None:
        """A client for each target: kept while its endpoint stays the same, closed when it changes or goes."""
        for name in list(self._clients):
            if self._clients[name].endpoint != targets.get(name):
                await self._clients.pop(name).aclose()
        for name, endpoint in targets.items():
            if name not in self._clients:
                self._clients[name] = AsyncTritonClient(endpoint, self.timeout_s)

    async def aclose(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def _poll_server(
        self, name: str, client: AsyncTritonClient
    ) -> tuple[ServerState, list[dict[str, Any]], list[ModelInterval]]:
        # A server's first poll asks everything at once (a connection each): the models table is waiting for it.
        # Later polls ask one after the other on one kept-alive connection: fewer connections through the proxy.
        at_once = name not in self._asked
        self._asked.add(name)
        try:
            live, ready, stats, index = await _ask(
                at_once,
                lambda: client.call(server_live()),
                lambda: client.call(server_ready()),
                lambda: client.call(model_statistics()),
                lambda: self._repository_index(client),
            )
            if index is None:  # the index may not be asked (read-only): states from the statistics' models
                index = await self._index_from_stats(client, stats, at_once)
        except TritonError as exc:
            return ServerState(name, None, None, str(exc)), [], []
        now = time.time()
        counters = counters_from_stats(stats)
        before = self.previous.get(name)
        intervals: list[ModelInterval] = []
        if before is not None and now > before.at:
            intervals = model_intervals(before.counters, counters, now - before.at)
        self.previous[name] = _ServerSnapshot(counters, now)
        return ServerState(name, live, live and ready, ""), index, intervals

    async def _repository_index(self, client: AsyncTritonClient) -> list[dict[str, Any]] | None:
        """The repository index (a POST), or None where it may not be asked."""
        if not self.allow_index_post:
            return None
        try:
            return await client.call(repository_index())
        except TritonError as exc:
            if exc.status != 403:
                raise
            self.allow_index_post = False  # this role may not POST through the proxy: stop asking
            return None

    async def _index_from_stats(
        self, client: AsyncTritonClient, stats: Mapping[str, Any], at_once: bool
    ) -> list[dict[str, Any]]:
        entries = [entry for entry in stats.get("model_stats") or () if isinstance(entry, dict)]
        models = [(str(entry.get("name", "")), str(entry.get("version", ""))) for entry in entries]
        readiness = await _ask(at_once, *(partial(client.call, model_ready(name, version)) for name, version in models))
        index: list[dict[str, Any]] = []
        for (name, version), ready in zip(models, readiness, strict=True):
            reason = "" if ready else "not ready (read-only: the repository index, a POST, is not asked)"
            index.append(
                {"name": name, "version": version, "state": "READY" if ready else "UNAVAILABLE", "reason": reason}
            )
        return index


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
