"""Serving the simulated cluster: the API server on loopback, the world's clock, and a thread to run both."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import ssl
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

from aiohttp import web

from nimify_tui.sim.faults import FaultInjector, FaultPlan
from nimify_tui.sim.k8s.api import KubeApi, RequestRecord
from nimify_tui.sim.k8s.auth import ADMIN_USER, READONLY_USER
from nimify_tui.sim.k8s.layout import API_NAMESPACE, load_namespaces
from nimify_tui.sim.k8s.tls import make_certificates
from nimify_tui.sim.k8s.world import World
from nimify_tui.sim.scenarios import build_world

T = TypeVar("T")
_log = logging.getLogger(__name__)
FAULT_TICK_S = 0.1  # how often the fault plan's API server outage and history compaction are looked at


class SimServer:
    """A running simulated cluster in the current event loop.

    The same API is served at ``url`` (plain HTTP) and ``https_url`` (TLS, certificate ``ca_pem``); the
    kubeconfig names the HTTPS one, because kubectl sends credentials only over TLS.
    """

    def __init__(
        self,
        world: World,
        api: KubeApi,
        runner: web.AppRunner,
        urls: tuple[str, str],
        tokens: dict[str, str],
        ca_pem: bytes,
        server_tls: ssl.SSLContext | None = None,
    ) -> None:
        self.world = world
        self.api = api
        self.url, self.https_url = urls
        self.ca_pem = ca_pem
        self.admin_token = next(token for token, user in tokens.items() if user == ADMIN_USER)
        self.readonly_token = next(token for token, user in tokens.items() if user == READONLY_USER)
        self._runner = runner
        self._server_tls = server_tls
        self.listening = True
        loop = asyncio.get_running_loop()
        self._clock = loop.create_task(world.run_clock())
        self._faults = loop.create_task(self._follow_fault_plan())

    @property
    def faults(self) -> FaultInjector:
        """The faults injected now (``faults.set(plan)`` changes them, from the simulator's loop)."""
        return self.api.faults

    async def _follow_fault_plan(self) -> None:
        """api-down: stop listening (and cut every connection) for its window, then listen again on the same
        ports; watch-410: compact the history once per period and wake the watches so that they see it."""
        while True:
            down = self.api.faults.api_down()
            if down and self.listening:
                await self._stop_listening()
            elif not down and not self.listening:
                await self._listen_again()
            if self.api.faults.compaction_due():
                self.world.store.compact()
                self.world.pulse.fire()
            await asyncio.sleep(FAULT_TICK_S)

    async def _stop_listening(self) -> None:
        for site in list(self._runner.sites):
            await site.stop()
        self.api.cut_connections()
        self.listening = False

    async def _listen_again(self) -> None:
        """Both ports again; one that cannot be bound yet (taken meanwhile) is tried again at the next tick."""
        served = {site.name for site in self._runner.sites}
        for url, tls in ((self.url, None), (self.https_url, self._server_tls)):
            site = web.TCPSite(
                self._runner, "127.0.0.1", int(url.rsplit(":", 1)[1]), ssl_context=tls, reuse_address=True
            )
            if site.name in served:
                continue
            try:
                await site.start()
            except OSError as err:
                _log.warning("cannot listen on %s again yet: %s", url, err)
                return
        self.listening = True

    @property
    def request_log(self) -> list[RequestRecord]:
        """Every request received so far: method, path, query, user and answer status."""
        return self.api.request_log

    async def stop(self) -> None:
        for task in (self._faults, self._clock):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._runner.cleanup()


async def start_sim(
    scenario: str = "healthy",
    port: int = 0,
    pods: int = 0,
    event_rate: float = 0.0,
    namespaces: str = API_NAMESPACE,
    log_rate: float = 0.0,
    speed: float = 1.0,
    seed: int = 7,
    faults: FaultPlan | None = None,
) -> SimServer:
    """Build the world of ``scenario`` and serve it on 127.0.0.1:``port`` (0 picks a free port), injecting
    ``faults`` (see :mod:`nimify_tui.sim.faults`) from the start."""
    world = build_world(
        scenario,
        pods=pods,
        event_rate=event_rate,
        seed=seed,
        namespaces=load_namespaces(namespaces),
        log_rate=log_rate,
    )
    world.speed = speed
    tokens = {secrets.token_urlsafe(24): ADMIN_USER, secrets.token_urlsafe(24): READONLY_USER}
    api = KubeApi(world, tokens)
    certificates = make_certificates()
    server_tls = certificates.server_context()
    runner = web.AppRunner(api.application(), access_log=None, handle_signals=False, shutdown_timeout=0.25)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port, reuse_address=True).start()
    await web.TCPSite(runner, "127.0.0.1", 0, ssl_context=server_tls, reuse_address=True).start()
    (http_host, http_port), (https_host, https_port) = (address[:2] for address in runner.addresses)
    urls = (f"http://{http_host}:{http_port}", f"https://{https_host}:{https_port}")
    server = SimServer(world, api, runner, urls, tokens, certificates.ca_pem, server_tls)
    if faults is not None:
        api.faults.set(faults)
    return server


async def _cancel_leftovers() -> None:
    tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


class SimThread:
    """A simulated cluster served from its own thread and event loop (a context manager).

    The world belongs to that loop: read or change it from another thread only through :meth:`call`.
    """

    def __init__(
        self,
        scenario: str = "healthy",
        port: int = 0,
        pods: int = 0,
        event_rate: float = 0.0,
        namespaces: str = API_NAMESPACE,
        log_rate: float = 0.0,
        speed: float = 1.0,
        seed: int = 7,
        faults: FaultPlan | None = None,
    ) -> None:
        self._options: dict[str, Any] = {
            "scenario": scenario,
            "port": port,
            "pods": pods,
            "event_rate": event_rate,
            "namespaces": namespaces,
            "log_rate": log_rate,
            "speed": speed,
            "seed": seed,
            "faults": faults,
        }
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="nimify-sim", daemon=True)
        self._server: SimServer | None = None

    def start(self) -> SimThread:
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(start_sim(**self._options), self._loop)
        try:
            self._server = future.result()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self._server is not None:
            asyncio.run_coroutine_threadsafe(self._server.stop(), self._loop).result()
            self._server = None
        if self._thread.is_alive():
            # handlers of streams still open (watches, log follows) end here, not with the loop under them
            asyncio.run_coroutine_threadsafe(_cancel_leftovers(), self._loop).result(timeout=10)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join()
        self._loop.close()

    def __enter__(self) -> SimThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def server(self) -> SimServer:
        if self._server is None:
            raise RuntimeError("the simulator is not running")
        return self._server

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def https_url(self) -> str:
        return self.server.https_url

    @property
    def ca_pem(self) -> bytes:
        return self.server.ca_pem

    @property
    def admin_token(self) -> str:
        return self.server.admin_token

    @property
    def readonly_token(self) -> str:
        return self.server.readonly_token

    @property
    def world(self) -> World:
        return self.server.world

    @property
    def request_log(self) -> list[RequestRecord]:
        return self.server.request_log

    def set_faults(self, plan: FaultPlan) -> None:
        """Put a new fault plan in force (as ``POST /sim/faults`` does, but also while the API server is down)."""
        self.call(lambda _world: self.server.faults.set(plan))

    def call(self, action: Callable[[World], T]) -> T:
        """Run ``action(world)`` in the simulator's loop and return its result."""
        result: Future[T] = Future()

        def run() -> None:
            try:
                result.set_result(action(self.server.world))
            except BaseException as err:  # handed to the caller's thread
                result.set_exception(err)

        self._loop.call_soon_threadsafe(run)
        return result.result()
