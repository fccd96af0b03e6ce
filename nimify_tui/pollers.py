"""The periodic sources: health probes, Triton, metrics scrapes, metrics.k8s.io, Prometheus.

Each poller is a coroutine on the runtime's own event loop. A poll never overlaps the previous one (the next one is
armed only after the last finished), and a failure marks that source stale with its message instead of raising.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any

from nimify_tui.sources import SourceHealth

if TYPE_CHECKING:
    import httpx

    from nimify_tui.runtime import Runtime

PollFn = Callable[[], Awaitable[None]]


async def poll_forever(runtime: Runtime, source: str, interval: float, poll: PollFn) -> None:
    """Call ``poll`` every ``interval`` seconds (measured from the end of the last call)."""
    store = runtime.store
    store.set_health(source, SourceHealth("syncing"))
    while True:
        try:
            await poll()
            store.set_health(source, SourceHealth("live", last_ok=time.time()))
        except asyncio.CancelledError:
            raise
        except SourceUnavailable as exc:
            store.set_health(source, SourceHealth("unavailable", error=str(exc)))
        except Exception as exc:  # one clear message per failing source; the loop goes on
            store.mark_stale(source, _message(exc))
        await asyncio.sleep(interval)


class SourceUnavailable(Exception):
    """The source does not exist here (no metrics API, no GPU): shown as absent, not as an error."""


def _message(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 300 else text[:297] + "..."


def http_client(runtime: Runtime) -> httpx.AsyncClient:
    """One httpx client for every in-cluster server; it carries the kubeconfig's credentials for proxied URLs."""
    import httpx

    context = runtime.client.ssl_context()
    return httpx.AsyncClient(
        headers=runtime.client.auth_headers(),
        verify=context if context is not None else True,
        timeout=httpx.Timeout(5.0, connect=3.0),
        limits=httpx.Limits(max_connections=32),
    )


def poller_coroutines(runtime: Runtime) -> list[Callable[[], Coroutine[Any, Any, None]]]:
    from nimify_tui import poll_sources

    return poll_sources.all_pollers(runtime)
