"""A simulated cluster per test, served over HTTPS on loopback, and real clients for it."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from nimify_tui.journal.journal import Journal, read_journal
from nimify_tui.kube.client import KubeClient
from nimify_tui.sim.k8s.api import RequestRecord
from nimify_tui.sim.k8s.kubeconfig import write_kubeconfig
from nimify_tui.sim.scenarios import health_problems
from nimify_tui.sim.server import SimThread

from ..waiting import wait_for as wait_until

T = TypeVar("T")
SPEED = 30.0  # simulated seconds per wall-clock second: a rollout takes well under a second
MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
REVIEWS = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"


class Cluster:
    """One running simulated cluster and its kubeconfig."""

    def __init__(self, sim: SimThread, kubeconfig: Path, journal_dir: Path) -> None:
        self.sim = sim
        self.kubeconfig = kubeconfig
        self.journal_dir = journal_dir
        self.clients: list[KubeClient] = []

    def client(self, context: str = "sim-admin", *, readonly: bool = False) -> KubeClient:
        client = KubeClient.from_kubeconfig(str(self.kubeconfig), context)
        client.readonly = readonly
        self.clients.append(client)
        return client

    def journal(self) -> Journal:
        return Journal.open(self.journal_dir)

    def journal_entries(self) -> list[dict[str, Any]]:
        return [entry for entry in read_journal(self.journal_dir / "journal.jsonl") if entry["kind"] == "action"]

    def wait_until(self, condition: Callable[[], T], what: str, timeout_s: float = 30.0) -> T:
        return wait_until(condition, what, timeout_s)

    def problems(self) -> list[str]:
        return self.sim.call(health_problems)

    def wait_healthy(self, timeout_s: float = 30.0) -> None:
        wait_until(lambda: not self.problems(), f"a healthy cluster (problems: {self.problems()})", timeout_s)

    def store_version(self) -> int:
        """The simulated etcd's global resourceVersion: any write at all moves it."""
        return self.sim.call(lambda world: world.store.resource_version)

    @contextlib.contextmanager
    def clock_stopped(self) -> Iterator[None]:
        """Stop simulated time, so that only requests can change the world."""
        speed = self.sim.call(lambda world: world.speed)
        self.sim.call(lambda world: setattr(world, "speed", 0.0))
        try:
            yield
        finally:
            self.sim.call(lambda world: setattr(world, "speed", speed))

    def requests(self) -> list[RequestRecord]:
        return list(self.sim.request_log)

    def mutations(self, since: int = 0) -> list[RequestRecord]:
        """Mutating requests the API server received (the permission reviews left out)."""
        return [r for r in self.sim.request_log[since:] if r.method in MUTATING and r.path != REVIEWS]


@pytest.fixture
def start_cluster(tmp_path: Path) -> Iterator[Callable[..., Cluster]]:
    """``start_cluster(scenario, speed=SPEED)`` serves a scenario until the test ends."""
    running: list[Cluster] = []

    def start(scenario: str = "healthy", speed: float = SPEED) -> Cluster:
        sim = SimThread(scenario=scenario, speed=speed).start()
        index = len(running) + 1
        kubeconfig = write_kubeconfig(sim, tmp_path / f"kubeconfig-{index}")
        running.append(Cluster(sim, kubeconfig, tmp_path / f"session-{index}"))
        return running[-1]

    yield start
    for cluster in running:
        for client in cluster.clients:
            client.close()
        cluster.sim.stop()
