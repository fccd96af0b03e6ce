"""Clients for the simulated API server: the official ``kubernetes`` client, raw HTTP, and real kubectl."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from nimify_tui.sim.k8s.kubeconfig import write_kubeconfig
from nimify_tui.sim.server import SimThread

if TYPE_CHECKING:
    from kubernetes import client

KUBECTL_TIMEOUT_S = 30.0


@pytest.fixture
def kube_client() -> Iterator[Callable[[SimThread, str | None], client.ApiClient]]:
    """``kube_client(sim, token)``: the official client for ``sim``'s plain-HTTP address with ``token`` as
    bearer token (None: no credentials); closed after the test."""
    from kubernetes import client  # its models take a second to import: only where they are used

    made: list[client.ApiClient] = []

    def make(sim: SimThread, token: str | None) -> client.ApiClient:
        configuration = client.Configuration(host=sim.url)
        if token is not None:
            configuration.api_key = {"authorization": token}
            configuration.api_key_prefix = {"authorization": "Bearer"}
        made.append(client.ApiClient(configuration))
        return made[-1]

    yield make
    for api in made:
        api.close()


@pytest.fixture
def http_for() -> Iterator[Callable[[SimThread, str | None], httpx.Client]]:
    """``http_for(sim, token)``: a raw HTTP client for ``sim`` with ``token`` as bearer token."""
    made: list[httpx.Client] = []

    def make(sim: SimThread, token: str | None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        made.append(httpx.Client(base_url=sim.url, headers=headers, timeout=20))
        return made[-1]

    yield make
    for http in made:
        http.close()


class Kubectl:
    """The real kubectl binary, pointed at a simulated cluster through a written kubeconfig."""

    def __init__(self, binary: str, kubeconfig: Path, cache: Path) -> None:
        self.binary, self.kubeconfig, self.cache = binary, kubeconfig, cache

    def env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        return {**os.environ, "KUBECONFIG": str(self.kubeconfig), "KUBECACHEDIR": str(self.cache), **(extra or {})}

    def run(
        self, *args: str, check: bool = True, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [self.binary, *args],
            capture_output=True,
            text=True,
            timeout=KUBECTL_TIMEOUT_S,
            env=self.env(env),
            check=False,
        )
        if check and done.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed ({done.returncode}): {done.stderr}")
        return done

    def popen(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [self.binary, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=self.env()
        )


@pytest.fixture
def kubectl_for(tmp_path: Path) -> Callable[[Any], Kubectl]:
    """A :class:`Kubectl` for a running simulator (skips when kubectl is not installed)."""
    binary = shutil.which("kubectl")
    if binary is None:
        pytest.skip("kubectl is not installed")

    def make(sim: Any) -> Kubectl:
        folder = tmp_path / f"kube-{len(list(tmp_path.iterdir()))}"
        return Kubectl(binary, write_kubeconfig(sim, folder / "config"), folder / "cache")

    return make
