"""Polls every Triton server: liveness, readiness, the model repository and per-model statistics.

Each triton-server pod is asked on its own (through the API server's pod proxy, or one direct URL), because the
statistics are cumulative per process: deltas of a load-balanced service would mix two servers' counters. The
per-pod intervals are then combined per model.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
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
        return TritonView(servers, combine_models(index_by_server, intervals_by_server), time.time())

    async def _poll_server(
        self, name: str, url: str, headers: Mapping[str, str], ssl_context: Any
    ) -> tuple[ServerState, list[dict[str, Any]], list[ModelInterval]]:
        from tritonclient.http.aio import InferenceServerClient
        from tritonclient.utils import InferenceServerException

        client = InferenceServerClient(url, ssl=ssl_context is not None, ssl_context=ssl_context, conn_timeout=5.0)
        hdrs = dict(headers)
        try:
            live = await client.is_server_live(headers=hdrs)
            ready = await client.is_server_ready(headers=hdrs) if live else False
            stats = await client.get_inference_statistics(headers=hdrs)
            index = await self._index(client, hdrs, stats)
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
        return ServerState(name, bool(live), bool(ready), ""), list(index or []), intervals

    async def _index(self, client: Any, headers: dict[str, str], stats: Any) -> list[dict[str, Any]]:
        from tritonclient.utils import InferenceServerException

        if self.allow_index_post:
            try:
                return list(await client.get_model_repository_index(headers=headers) or [])
            except InferenceServerException as exc:
                if "403" not in str(exc) and "forbidden" not in str(exc).lower():
                    raise
                self.allow_index_post = False  # this role may not POST through the proxy: stop asking
        index: list[dict[str, Any]] = []
        for entry in (stats or {}).get("model_stats", []) if isinstance(stats, dict) else []:
            name, version = str(entry.get("name", "")), str(entry.get("version", ""))
            ready = await client.is_model_ready(name, version, headers=headers)
            reason = "" if ready else "not ready (read-only: the repository index, a POST, is not asked)"
            index.append(
                {"name": name, "version": version, "state": "READY" if ready else "UNAVAILABLE", "reason": reason}
            )
        return index


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
