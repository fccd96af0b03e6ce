"""A kubeconfig for the simulated cluster: contexts ``sim-admin`` (current) and ``sim-readonly``.

It names the simulator's HTTPS address with its certificate authority: kubectl sends a kubeconfig's
credentials only over TLS.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Protocol

import yaml

CLUSTER_NAME = "nimify-sim"
DEFAULT_NAMESPACE = "nimify-system"


class ServedCluster(Protocol):
    @property
    def https_url(self) -> str: ...

    @property
    def ca_pem(self) -> bytes: ...

    @property
    def admin_token(self) -> str: ...

    @property
    def readonly_token(self) -> str: ...


def kubeconfig(sim: ServedCluster) -> dict[str, object]:
    users = {"sim-admin": sim.admin_token, "sim-readonly": sim.readonly_token}
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "clusters": [
            {
                "name": CLUSTER_NAME,
                "cluster": {
                    "server": sim.https_url,
                    "certificate-authority-data": base64.b64encode(sim.ca_pem).decode(),
                },
            }
        ],
        "users": [{"name": name, "user": {"token": token}} for name, token in users.items()],
        "contexts": [
            {"name": name, "context": {"cluster": CLUSTER_NAME, "user": name, "namespace": DEFAULT_NAMESPACE}}
            for name in users
        ],
        "current-context": "sim-admin",
    }


def write_kubeconfig(sim: ServedCluster, path: str | os.PathLike[str]) -> Path:
    """Write the kubeconfig (readable by its owner only) and return its path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        yaml.safe_dump(kubeconfig(sim), out, sort_keys=False)
    return target
