"""One pod's share of a simulated fleet's counters.

The simulated Triton and nimify-api are one object each for all their replicas, so their cumulative counters are
the fleet's. Reached through one pod (the pod proxy), a real server reports only its own process' counters, and a
client that sums over pods must not count the fleet once per pod. This wrapper divides the counters it serves by
the number of ready replicas: Triton's ``/v2/models/stats`` and nimify-api's ``/metrics`` (counters and a
histogram only). Everything else passes through unchanged.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import orjson

from nimify_tui.sim.contract import HTTPReply, InClusterServer

_STAT_FIELDS = frozenset({"count", "ns", "inference_count", "execution_count"})


class PodShare:
    """``server`` as seen through one of ``replicas()`` ready pods."""

    def __init__(self, server: InClusterServer, replicas: Callable[[], int], *, scale_metrics: bool) -> None:
        self.server = server
        self.replicas = replicas
        self.scale_metrics = scale_metrics

    def tick(self, dt: float) -> None:
        """The fleet's server is ticked by the world; a view of it has nothing of its own to advance."""

    async def handle(self, method: str, port: int, path: str, query: dict[str, str], body: bytes) -> HTTPReply:
        reply = await self.server.handle(method, port, path, query, body)
        share = max(1, self.replicas())
        if share == 1 or reply.status != 200:
            return reply
        if path.endswith("/stats") and path.startswith("/v2/models"):
            data = _divide(orjson.loads(reply.body), share)
            return HTTPReply(reply.status, orjson.dumps(data), reply.content_type)
        if self.scale_metrics and path == "/metrics":
            return HTTPReply(reply.status, _divide_text(reply.body, share), reply.content_type)
        return reply


def _divide(value: Any, share: int) -> Any:
    if isinstance(value, dict):
        return {
            k: (v // share if k in _STAT_FIELDS and isinstance(v, int) else _divide(v, share)) for k, v in value.items()
        }
    if isinstance(value, list):
        return [_divide(item, share) for item in value]
    return value


def _divide_text(body: bytes, share: int) -> bytes:
    lines = []
    for line in body.decode().split("\n"):
        if line and not line.startswith("#"):
            sample, _, number = line.rpartition(" ")
            with contextlib.suppress(ValueError):  # not a sample line: keep it as it is
                line = f"{sample} {float(number) / share!r}"
        lines.append(line)
    return "\n".join(lines).encode()
