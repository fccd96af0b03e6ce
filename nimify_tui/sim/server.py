"""Serving the simulated cluster: the API server on loopback, the world's clock, and a thread to run both."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

from aiohttp import web

from nimify_tui.sim.k8s.api import KubeApi, RequestRecord
from nimify_tui.sim.k8s.auth import ADMIN_USER, READONLY_USER
from nimify_tui.sim.k8s.tls import make_certificates
from nimify_tui.sim.k8s.world import World
from nimify_tui.sim.scenarios import build_world

T = TypeVar("T")


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
    ) -> None:
        self.world = world
        self.api = api
        self.url, self.https_url = urls
        self.ca_pem = ca_pem
        self.admin_token = next(token for token, user in tokens.items() if user == ADMIN_USER)
        self.readonly_token = next(token for token, user in tokens.items() if user == READONLY_USER)
        self._runner = runner
        self._clock = asyncio.get_running_loop().create_task(world.run_clock())

    @property
    def request_log(self) -> list[RequestRecord]:
        """Every request received so far: method, path, query, user and answer status."""
        return self.api.request_log

    async def stop(self) -> None:
        self._clock.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._clock
        await self._runner.cleanup()


async def start_sim(
    scenario: str = "healthy",
    port: int = 0,
    pods: int = 0,
    event_rate: float = 0.0,
    speed: float = 1.0,
    seed: int = 7,
) -> SimServer:
    """Build the world of ``scenario`` and serve it on 127.0.0.1:``port`` (0 picks a free port)."""
    world = build_world(scenario, pods=pods, event_rate=event_rate, seed=seed)
    world.speed = speed
    tokens = {secrets.token_urlsafe(24): ADMIN_USER, secrets.token_urlsafe(24): READONLY_USER}
    api = KubeApi(world, tokens)
    certificates = make_certificates()
    runner = web.AppRunner(api.application(), access_log=None, handle_signals=False, shutdown_timeout=0.25)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    await web.TCPSite(runner, "127.0.0.1", 0, ssl_context=certificates.server_context()).start()
    (http_host, http_port), (https_host, https_port) = (address[:2] for address in runner.addresses)
    urls = (f"http://{http_host}:{http_port}", f"https://{https_host}:{https_port}")
    return SimServer(world, api, runner, urls, tokens, certificates.ca_pem)


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
        speed: float = 1.0,
        seed: int = 7,
    ) -> None:
        self._options: dict[str, Any] = {
            "scenario": scenario,
            "port": port,
            "pods": pods,
            "event_rate": event_rate,
            "speed": speed,
            "seed": seed,
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
