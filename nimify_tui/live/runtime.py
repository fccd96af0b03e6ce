"""Starts and stops every source for one cluster: the informers (threads) and the pollers (one asyncio loop).

The UI only reads the :class:`~nimify_tui.live.store.Store`; nothing here knows about Textual. The same object serves
the headless commands and the tests.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
import warnings
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any

from nimify_tui.endpoints import Endpoints, resolve_endpoints
from nimify_tui.kube.client import KubeClient
from nimify_tui.live.informer import KINDS, ApiServerReach, Decoder, Informer
from nimify_tui.live.pollers import (
    Blocked,
    InCluster,
    alerts_loop,
    log_signature_loop,
    metrics_api_loop,
    never_blocked,
    probe_loop,
    pvc_usage_loop,
    scrape_loop,
    sources_loaded,
    throttled,
    tls_loop,
    triton_loop,
)
from nimify_tui.live.store import SourceHealth, Store

FIRST_POLLED = ("triton",)  # the pollers started with the first informers: a table of the main screen shows it

DEFAULT_NAMESPACES = ("nimify-system", "triton-system", "monitoring", "ingress-nginx")


@dataclass
class RuntimeOptions:
    namespaces: Sequence[str] = DEFAULT_NAMESPACES  # the watched namespaces
    main_namespace: str = "nimify-system"  # where nimify-api runs (-n)
    kinds: Sequence[str] = tuple(KINDS)
    prometheus_url: str | None = None
    triton_url: str | None = None
    nimify_api_url: str | None = None
    probe_interval: float = 2.0
    triton_interval: float = 2.0
    scrape_interval: float = 3.0
    metrics_api_interval: float = 5.0
    log_signature_interval: float = 5.0  # previous logs of crashed containers (each restart read once)
    pvc_usage_interval: float = 10.0  # the kubelets' volume stats
    watch_seconds: int | None = None
    watch_idle_s: float | None = None  # the longest silence a watch may keep before it is resumed (None: 90 s)
    decoders: dict[str, Decoder] = field(default_factory=dict)
    # the kinds started first (what the main screen's tables show); the others wait for their first lists
    first_kinds: Sequence[str] = ("pods", "events", "nodes")
    first_sources_wait_s: float = 1.5
    # the scrape poller started with the first sources, not after them: a headless triage waits for its second
    # round (a second after its first), not for a table to be drawn
    scrape_first: bool = False
    tls_interval: float = 60.0
    alerts_interval: float = 10.0  # the runbook's alert rules: Prometheus' states read, nimify-api's pods scraped
    # may Triton's repository index (a POST) be asked for, when the access review allows it? None: unless the
    # client is read-only. The headless triage's client is always read-only, but it follows the TUI's rule.
    triton_index_post: bool | None = None


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
            nimify_namespace=self.options.main_namespace,
        )
        self.informers: list[Informer] = []
        self.api_server = ApiServerReach()  # whether the API server answers the informers
        # what the main screen's tables show: started first; the rest waits until these have loaded
        first_kinds = [kind for kind in self.options.first_kinds if kind in self.options.kinds]
        scraped_first = ("metrics",) if self.options.scrape_first else ()  # the scrape loop's source
        self.first_sources: tuple[str, ...] = (*first_kinds, *FIRST_POLLED, *scraped_first)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: threading.Thread | None = None
        self._tasks: list[concurrent.futures.Future[Any]] = []

    def start(self) -> None:
        """Start every source, in two steps: first what the main screen's tables show (the Triton poller, then
        the pods, events and nodes informers), the rest once those have their first data or after
        ``first_sources_wait_s``. Started all at once, the dozens of informer threads and the other pollers would
        share one interpreter lock with the first ones and the UI's first frame, and slow them all down."""
        from nimify_tui.kube.records import DECODERS

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
                    watch_idle_s=self.options.watch_idle_s,
                    reach=self.api_server,
                )
                self.store.set_health(informer.source, SourceHealth("syncing"))  # "loading", not absent
                self.informers.append(informer)
        first = [i for i in self.informers if i.kind.name in self.options.first_kinds]
        later = [i for i in self.informers if i.kind.name not in self.options.first_kinds]
        # the other namespaces' pods after the main namespace's: each list comes in pages, and lists taken at
        # once share the API server and this interpreter, all four complete at the end (about 4 s at 50,000
        # pods); the main namespace's, listed alone first, is complete in a quarter of that
        main_pods = f"pods/{self.options.main_namespace}"
        other_pods = []
        if any(i.source == main_pods for i in first):  # a main namespace not watched: nothing to wait for
            other_pods = [i for i in first if i.kind.name == "pods" and i.source != main_pods]
            first = [i for i in first if i not in other_pods]
        self._loop = asyncio.new_event_loop()
        self._loop_thread = threading.Thread(target=run_until_stopped, args=(self._loop,), name="pollers", daemon=True)
        self._loop_thread.start()
        for make in self.first_pollers():  # its client import and access review need no list: it goes first
            self.spawn(make)
        for informer in first:
            informer.start()

        async def start_the_rest() -> None:
            if other_pods:
                await sources_loaded(self.store, (main_pods,), self.options.first_sources_wait_s)
                for informer in other_pods:
                    informer.start()
            await sources_loaded(self.store, self.first_sources, self.options.first_sources_wait_s)
            for informer in later:
                informer.start()
            for make in self.later_pollers():
                self.spawn(make)

        self.spawn(start_the_rest)

    def first_pollers(self) -> list[Callable[[], Coroutine[Any, Any, None]]]:
        """What a table of the main screen shows (the models), started with the runtime."""
        options, reach = self.options, InCluster.of(self.client)
        scrape = [self._scrape_poller(reach)] if options.scrape_first else []
        return [
            *scrape,
            lambda: triton_loop(
                self.store,
                reach,
                self.endpoints,
                options.triton_interval,
                direct=bool(options.triton_url),
                may_post_index=self._may_post_through_proxy,
                blocked=never_blocked if options.triton_url else self._api_server_problem,
            ),
        ]

    def _proxied_blocked(self) -> Blocked:
        """What blocks the pollers of servers reached through the API server's proxy (some are, unless every URL
        is given directly): the API server's own problem."""
        options = self.options
        all_direct = bool(options.triton_url and options.nimify_api_url and options.prometheus_url)
        return never_blocked if all_direct else self._api_server_problem

    def _scrape_poller(self, reach: InCluster) -> Callable[[], Coroutine[Any, Any, None]]:
        options = self.options
        blocked = self._proxied_blocked()
        return lambda: scrape_loop(
            self.store,
            reach,
            self.endpoints,
            options.scrape_interval,
            api_namespace=options.main_namespace,
            api_direct=bool(options.nimify_api_url),
            blocked=blocked,
        )

    def later_pollers(self) -> list[Callable[[], Coroutine[Any, Any, None]]]:
        """The others, started once the first sources have their first data."""
        options, reach, store, endpoints = self.options, InCluster.of(self.client), self.store, self.endpoints
        proxied = self._proxied_blocked()
        scrape = [] if options.scrape_first else [self._scrape_poller(reach)]
        pollers: list[Callable[[], Coroutine[Any, Any, None]]] = [
            lambda: probe_loop(store, reach, endpoints, options.probe_interval, blocked=proxied),
            *scrape,
            lambda: metrics_api_loop(store, self.client, options.namespaces, options.metrics_api_interval),
            lambda: log_signature_loop(store, self.client, options.namespaces, options.log_signature_interval),
            lambda: pvc_usage_loop(store, self.client, options.namespaces, options.pvc_usage_interval),
            lambda: tls_loop(store, self.client, options.tls_interval),
        ]
        pollers.append(
            lambda: alerts_loop(
                store,
                reach,
                endpoints,
                options.alerts_interval,
                api_namespace=options.main_namespace,
                api_direct=bool(options.nimify_api_url),
                blocked=proxied,
            )
        )
        return pollers

    def _api_server_problem(self) -> str | None:
        """Why the pollers that go through the API server's proxy are not asked now: it does not answer, or its
        429 asked for quiet."""
        problem = self.api_server.problem()
        return problem[0] if problem is not None else throttled(self.client)()

    def _may_post_through_proxy(self) -> bool:
        """Triton's repository index is a POST ("create pods/proxy" to the API server): ask before sending one."""
        allowed = self.options.triton_index_post
        if not (not self.client.readonly if allowed is None else allowed):
            return False
        if self.options.triton_url:
            return True  # straight to Triton, not through the API server
        from nimify_tui.kube.access import AccessCheck, ask

        return ask(self.client, AccessCheck("create", "", "pods", "proxy", "triton-system")).allowed

    def spawn(self, make: Callable[[], Coroutine[Any, Any, Any]]) -> None:
        """Run a coroutine on the pollers' loop (its HTTP clients are created there and used only there)."""
        assert self._loop is not None, "start() first"
        self._tasks.append(asyncio.run_coroutine_threadsafe(make(), self._loop))

    def switch_client(self, client: KubeClient, join_s: float = 3.0) -> None:
        """Another context (``:ctx``): stop every source, wait for the informers to end (none may write the old
        cluster's objects after this), forget what they read, and start every source on ``client``."""
        stopped = self.informers
        self.stop()
        for informer in stopped:
            informer.join(join_s)
        self.informers = []
        self.client = client
        self.endpoints = resolve_endpoints(
            client.identity.server,
            triton_url=self.options.triton_url,
            nimify_api_url=self.options.nimify_api_url,
            prometheus_url=self.options.prometheus_url,
            nimify_namespace=self.options.main_namespace,
        )
        self.store.clear()
        self.api_server = ApiServerReach()  # the old cluster's silence says nothing of this one
        self.start()

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
            self._loop_thread.join(timeout=2 + FINISH_WAIT_S)
        self._tasks.clear()
        self.client.close()


# anyio (4.15 and later) runs each child task's coroutine inside a wrapper; a child cancelled before its first step
# (a happy-eyeballs connect attempt of a request cancelled at stop) is dropped without being awaited, and Python
# warns about it on stderr at exit. No connection was made and nothing leaks; the warning would only break a
# headless command's one line of stderr.
warnings.filterwarnings(
    "ignore", message=r"coroutine 'connect_tcp\.<locals>\.try_connect' was never awaited", category=RuntimeWarning
)

FINISH_WAIT_S = 2.0  # how long a stopped loop waits for the tasks it cancels (a poller stuck in I/O is left)


def run_until_stopped(loop: asyncio.AbstractEventLoop) -> None:
    """Run the pollers' loop until it is stopped, then finish it: every task left (one spawned while the others
    were cancelled, an HTTP connect attempt started by a cancelled request) is cancelled and run to its end, and
    the loop is closed. A loop merely stopped drops those tasks un-run, and the interpreter warns about each
    coroutine never awaited on stderr at exit, where a headless command's one line of output is read."""
    loop.run_forever()
    with contextlib.suppress(Exception):
        pending = asyncio.all_tasks(loop)
        for task in pending:
            task.cancel()
        if pending:
            loop.run_until_complete(asyncio.wait(pending, timeout=FINISH_WAIT_S))
        loop.run_until_complete(loop.shutdown_asyncgens())
    if not asyncio.all_tasks(loop):
        loop.close()
