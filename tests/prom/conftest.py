"""A real Prometheus scraping simulated nimify-api servers on loopback, for the PromQL client and alert tests.

:class:`PromLab` serves :class:`NimifyApiSim` metrics over aiohttp and starts the Prometheus binary (the Debian
package's ``/usr/bin/prometheus``) on a free loopback port with a generated configuration and its own storage
directory; everything it started is stopped at the end. Tests that need the binary are skipped when it is
absent. Prometheus' service discovery hands targets to the scrapers about 5 s after start, so the first sample
of a target arrives about 5.5 s after ``/-/ready``.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import httpx
import pytest
import pytest_asyncio
import yaml
from aiohttp import test_utils, web

from nimify_tui.sim.contract import Traffic
from nimify_tui.sim.nimify_api import METRICS_PORT, NimifyApiSim
from nimify_tui.sim.triton.server import TritonSim

from ..plain_world import PlainWorld, steady_traffic

TICK_S = 0.1  # the simulated world moves in whole ticks of this length
READY_WITHIN_S = 30.0
STOP_WITHIN_S = 10.0

Result = TypeVar("Result")


class SimTarget:
    """A simulated nimify-api's metrics port on loopback.

    Each request first advances the simulation by the real time since the one before, in whole ticks, so
    the counters Prometheus scrapes grow at the simulated rates.
    """

    def __init__(self, traffic: Traffic) -> None:
        self.world = PlainWorld(time.time(), traffic)
        self.triton = TritonSim(self.world)
        self.api = NimifyApiSim(self.world, self.triton)
        self._last = time.monotonic()
        self._untaken_s = 0.0
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._server = test_utils.TestServer(app, host="127.0.0.1")
        self.address = ""  # host:port once started, as a Prometheus static target and its instance label say it

    async def start(self) -> None:
        await self._server.start_server()
        self.address = f"127.0.0.1:{self._server.port}"

    async def stop(self) -> None:
        """Close the port: Prometheus' next scrape of this target fails."""
        await self._server.close()

    def _advance(self) -> None:
        now = time.monotonic()
        self._untaken_s += now - self._last
        self._last = now
        while self._untaken_s >= TICK_S:
            self._untaken_s -= TICK_S
            self.world.clock += TICK_S
            self.triton.tick(TICK_S)
            self.api.tick(TICK_S)

    async def _handle(self, request: web.Request) -> web.Response:
        self._advance()
        reply = await self.api.handle(request.method, METRICS_PORT, request.path, {}, await request.read())
        return web.Response(status=reply.status, body=reply.body, headers={"Content-Type": reply.content_type})


@dataclass
class PrometheusServer:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=STOP_WITHIN_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def free_loopback_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _log_tail(log: Path) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-15:]) if log.exists() else ""


class PromLab:
    """Starts simulated targets and Prometheus servers under ``workdir``; :meth:`close` stops them all."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self._targets: list[SimTarget] = []
        self._servers: list[PrometheusServer] = []

    async def serve_sim(self, traffic: Traffic | None = None) -> SimTarget:
        target = SimTarget(traffic or steady_traffic())
        await target.start()
        self._targets.append(target)
        return target

    async def start_prometheus(
        self, targets: Sequence[SimTarget], *, rule_files: Sequence[Path] = (), interval: str = "1s"
    ) -> PrometheusServer:
        """Prometheus scraping ``targets`` as job ``nimify-api`` every ``interval``, evaluating ``rule_files``."""
        binary = shutil.which("prometheus")
        if binary is None:
            pytest.skip("the prometheus binary is not installed (Debian package 'prometheus')")
        home = self.workdir / f"prometheus-{len(self._servers)}"
        home.mkdir(parents=True)
        config = {
            "global": {"scrape_interval": interval, "scrape_timeout": interval, "evaluation_interval": interval},
            "rule_files": [str(path) for path in rule_files],
            "scrape_configs": [
                {"job_name": "nimify-api", "static_configs": [{"targets": [t.address for t in targets]}]}
            ],
        }
        (home / "prometheus.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
        port = free_loopback_port()
        log = home / "prometheus.log"
        started = time.monotonic()
        with log.open("wb") as log_file:
            process = subprocess.Popen(
                [
                    binary,
                    f"--config.file={home / 'prometheus.yml'}",
                    f"--storage.tsdb.path={home / 'data'}",
                    f"--web.listen-address=127.0.0.1:{port}",
                ],
                stdout=subprocess.DEVNULL,
                stderr=log_file,
            )
        server = PrometheusServer(f"http://127.0.0.1:{port}", process, log)
        self._servers.append(server)
        await self._wait_ready(server, started)
        return server

    async def _wait_ready(self, server: PrometheusServer, started: float) -> None:
        deadline = started + READY_WITHIN_S
        async with httpx.AsyncClient() as http:
            while True:
                if server.process.poll() is not None:
                    pytest.fail(f"prometheus exited with {server.process.returncode}:\n{_log_tail(server.log)}")
                try:
                    if (await http.get(server.url + "/-/ready", timeout=1.0)).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    pytest.fail(f"prometheus not ready within {READY_WITHIN_S:g} s:\n{_log_tail(server.log)}")
                await asyncio.sleep(0.02)

    async def close(self) -> None:
        for server in self._servers:
            server.stop()
        for target in self._targets:
            await target.stop()


async def eventually(
    check: Callable[[], Awaitable[Result | None]], *, within_s: float, what: str, every_s: float = 0.1
) -> Result:
    """Poll ``check`` until it returns something other than None; fail after ``within_s`` seconds."""
    deadline = time.monotonic() + within_s
    while True:
        result = await check()
        if result is not None:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {within_s:g} s")
        await asyncio.sleep(every_s)


@pytest.fixture
def poll() -> Callable[..., Awaitable[object]]:
    """:func:`eventually`, for the test modules."""
    return eventually


@pytest_asyncio.fixture
async def lab(tmp_path: Path) -> AsyncIterator[PromLab]:
    """A lab for one test."""
    started = PromLab(tmp_path)
    try:
        yield started
    finally:
        await started.close()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def module_lab(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[PromLab]:
    """A lab shared by the tests of one module (one Prometheus start-up instead of one per test)."""
    started = PromLab(tmp_path_factory.mktemp("prom-lab"))
    try:
        yield started
    finally:
        await started.close()
