"""Starts and stops every source for one cluster: the informers (threads) and the pollers (one asyncio loop).

The UI only reads the :class:`~nimify_tui.sources.Store`; nothing here knows about Textual. The same object serves
the headless commands and the tests.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any

from nimify_tui.endpoints import Endpoints, resolve_endpoints
from nimify_tui.kube.client import KubeClient
from nimify_tui.kube.informer import KINDS, Decoder, Informer
from nimify_tui.sources import SourceHealth, Store

DEFAULT_NAMESPACES = ("nimify-system", "triton-system", "monitoring", "ingress-nginx")


@dataclass
class RuntimeOptions:
    namespaces: Sequence[str] = DEFAULT_NAMESPACES
    kinds: Sequence[str] = tuple(KINDS)
    prometheus_url: str | None = None
    triton_url: str | None = None
    nimify_api_url: str | None = None
    probe_interval: float = 2.0
    triton_interval: float = 2.0
    scrape_interval: float = 3.0
    metrics_api_interval: float = 5.0
    watch_seconds: int | None = None
    decoders: dict[str, Decoder] = field(default_factory=dict)
    # the kinds started first (what the main screen's tables show); the others wait for their first lists
    first_kinds: Sequence[str] = ("pods", "events", "nodes")
    first_sources_wait_s: float = 1.5


class Runtime:
    """Every live source of one session, writing into one store."""

    def __init__(self, client: KubeClient, options: RuntimeOptions | None = None) -> None:
        self.client = client
        self.options = options or RuntimeOptions()
        self.store = Store()
        self.endpoints: Endpoints = resolve_endpoints(
            client.identity.server,
            triton_url=self.options.triton_url,
            nimify_api_url=self.options.nimify_api_url,
            prometheus_url=self.options.prometheus_url,
        )
        self.informers: list[Informer] = []
        from nimify_tui.pollers import FIRST_POLLED

        # what the main screen's tables show: started first; the rest waits until these have loaded
        first_kinds = [kind for kind in self.options.first_kinds if kind in self.options.kinds]
        self.first_sources: tuple[str, ...] = (*first_kinds, *FIRST_POLLED)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: threading.Thread | None = None
        self._tasks: list[concurrent.futures.Future[Any]] = []

    def start(self) -> None:
        """Start every source, in two steps: first what the main screen's tables show (the Triton poller, then
        the pods, events and nodes informers), the rest once those have their first data or after
        ``first_sources_wait_s``. Started all at once, the dozens of informer threads and the other pollers would
        share one interpreter lock with the first ones and the UI's first frame, and slow them all down."""
        from nimify_tui.kube.records import DECODERS
        from nimify_tui.pollers import first_pollers, later_pollers, sources_loaded

        decoders = {**DECODERS, **self.options.decoders}
        for kind_name in self.options.kinds:
            kind = KINDS[kind_name]
            namespaces: Sequence[str | None] = self.options.namespaces if kind.namespaced else (None,)
            for namespace in namespaces:
                informer = Informer(
                    self.client,
                    kind,
                    namespace,
                    self.store,
                    decoders[kind_name],
                    watch_seconds=self.options.watch_seconds,
                )
                self.store.set_health(informer.source, SourceHealth("syncing"))  # "loading", not absent
                self.informers.append(informer)
        first = [i for i in self.informers if i.kind.name in self.options.first_kinds]
        later = [i for i in self.informers if i.kind.name not in self.options.first_kinds]
        self._loop = asyncio.new_event_loop()
        self._loop_thread = threading.Thread(target=self._loop.run_forever, name="pollers", daemon=True)
        self._loop_thread.start()
        for make in first_pollers(self):  # its client import and access review need no list: it goes first
            self.spawn(make)
        for informer in first:
            informer.start()

        async def start_the_rest() -> None:
            await sources_loaded(self.store, self.first_sources, self.options.first_sources_wait_s)
            for informer in later:
                informer.start()
            for make in later_pollers(self):
                self.spawn(make)

        self.spawn(start_the_rest)

    def spawn(self, make: Callable[[], Coroutine[Any, Any, Any]]) -> None:
        """Run a coroutine on the pollers' loop (it is created there, as tritonclient's aio client requires)."""
        assert self._loop is not None, "start() first"
        self._tasks.append(asyncio.run_coroutine_threadsafe(make(), self._loop))

    def call_soon(self, coro_factory: Callable[[], Coroutine[Any, Any, Any]]) -> asyncio.Future[Any]:
        """Run one coroutine on the pollers' loop and return a future the caller may wait on."""
        assert self._loop is not None, "start() first"
        return asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro_factory(), self._loop))

    def stop(self) -> None:
        for informer in self.informers:
            informer.stop()
        loop = self._loop
        if loop is not None and loop.is_running():

            async def cancel_all() -> None:
                tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)  # let each close its HTTP clients

            with contextlib.suppress(Exception):  # a poller stuck in I/O: the loop stops regardless
                asyncio.run_coroutine_threadsafe(cancel_all(), loop).result(timeout=3)
            loop.call_soon_threadsafe(loop.stop)
        if self._loop_thread is not None:
            self._loop_thread.join(timeout=2)
        self._tasks.clear()
        self.client.close()
