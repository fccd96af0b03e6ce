"""Shared fixtures: simulated clusters served on loopback, per module or per test, and the real captures."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from nimify_tui.sim.server import SimServer, SimThread, start_sim

from .require_all import pytest_runtest_makereport  # noqa: F401  (a hook: skips fail under the switch)
from .waiting import wait_for as poll_until

T = TypeVar("T")
FIXTURES = Path(__file__).resolve().parent / "fixtures"
REAL_CAPTURES = FIXTURES / "real"  # real Kubernetes, Triton and DCGM captures; SOURCES.md in each folder
RUNBOOK = FIXTURES / "runbook" / "service-outage.md"
REFUSING_SERVER = "http://127.0.0.1:9"  # the discard port: nothing listens, the connection is refused


def refused_kubeconfig(path: Path, token: str = "t") -> Path:
    """A kubeconfig at ``path`` whose one context ("gone") names a server that refuses the connection."""
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "gone", "cluster": {"server": REFUSING_SERVER}}],
        "users": [{"name": "u", "user": {"token": token}}],
        "contexts": [{"name": "gone", "context": {"cluster": "gone", "user": "u"}}],
        "current-context": "gone",
    }
    path.write_text(json.dumps(config))
    return path


def real_captures() -> Path:
    """The folder of real captures: ``k8s/``, ``triton/``, ``dcgm/``."""
    return REAL_CAPTURES


def real_text(path: str) -> str:
    """One real capture as text, by its path under ``fixtures/real`` (``"k8s/09_pvc_bound__k9s_pvc.json"``)."""
    return (REAL_CAPTURES / path).read_text()


def real_json(path: str) -> Any:
    """One real capture as JSON, by its path under ``fixtures/real``."""
    return json.loads(real_text(path))


def real_k8s_object(name: str) -> dict[str, Any]:
    """One real Kubernetes object from ``real/k8s``, as JSON."""
    loaded: dict[str, Any] = real_json(f"k8s/{name}")
    return loaded


@pytest.fixture(scope="session")
def real_fixtures() -> Path:
    return REAL_CAPTURES


@pytest.fixture(scope="module")
def healthy_sim() -> Iterator[SimThread]:
    """One healthy simulated cluster for a whole test module, at real-time speed; tests must not change it."""
    with SimThread(scenario="healthy") as sim:
        yield sim


@pytest.fixture
def sim_factory() -> Iterator[Callable[..., SimThread]]:
    """Start simulated clusters in their own threads (``SimThread`` arguments); all stop after the test."""
    running: list[SimThread] = []

    def start(**options: Any) -> SimThread:
        sim = SimThread(**options).start()
        running.append(sim)
        return sim

    yield start
    for sim in running:
        sim.stop()


@pytest.fixture
async def async_sim_factory() -> AsyncIterator[Callable[..., Awaitable[SimServer]]]:
    """Start simulated clusters in the test's own event loop (``start_sim`` arguments)."""
    running: list[SimServer] = []

    async def start(**options: Any) -> SimServer:
        sim = await start_sim(**options)
        running.append(sim)
        return sim

    yield start
    for sim in running:
        await sim.stop()


async def _wait_for_async(
    sim: SimServer, condition: Callable[[], T], what: str, sim_seconds: float, wall_timeout_s: float = 30.0
) -> T:
    """Poll ``condition`` at each tick of ``sim``'s clock until it is truthy, within ``sim_seconds`` of
    simulated time; fail naming ``what`` otherwise."""
    world = sim.world
    start = world.now()
    deadline = time.monotonic() + wall_timeout_s
    while True:
        value = condition()
        if value:
            return value
        if world.now() - start > sim_seconds or time.monotonic() > deadline:
            raise AssertionError(
                f"still waiting for {what} after {world.now() - start:.0f} simulated seconds (last: {value!r})"
            )
        await world.pulse.wait(0.5)
        await asyncio.sleep(0)


@pytest.fixture
def wait_for() -> Callable[..., Any]:
    """``wait_for(condition, what, timeout_s=20)``: poll from a test thread until ``condition()`` is truthy."""
    return poll_until


@pytest.fixture
def wait_for_sim() -> Callable[..., Awaitable[Any]]:
    """``await wait_for_sim(sim, condition, what, sim_seconds)``: poll at each tick of an in-loop simulator,
    within ``sim_seconds`` of simulated time."""
    return _wait_for_async
