"""The credentials of a Kubernetes connection, gathered so that the journal never writes any of them.

They come from what the Kubernetes client loaded for the connection's context (the Authorization value, whatever
gave it: a token, a token file, the exec plugin's output, an auth provider or basic auth; the client certificate
and key it presents) and from every kubeconfig file it read: each user's tokens, passwords, key and certificate
data, auth-provider and exec secrets, a user name and password as basic auth encodes them, and the contents of
the files a user names for its key, certificate or token. A user name alone is no credential: the journal keeps it.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

from nimify_tui.journal.redact import kubeconfig_secret_values
from nimify_tui.kube.client import KubeClient

# The kubeconfig user fields that name a file holding a credential, as the Kubernetes client reads them.
_CREDENTIAL_FILE_FIELDS = ("client-key", "client-certificate", "tokenFile")


def connection_credentials(client: KubeClient) -> set[str]:
    """Every credential of ``client``'s connection and kubeconfig files, without surrounding whitespace."""
    found = set(client.auth_headers().values())
    for path in client.client_certificate_files():
        found |= _file_contents(Path(path))
    for path in client.kubeconfig_files:
        found |= kubeconfig_file_credentials(Path(path))
    return {value.strip() for value in found} - {""}


def kubeconfig_file_credentials(path: Path) -> set[str]:
    """The credentials one kubeconfig file holds or names; none when it cannot be read."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return set()
    found = kubeconfig_secret_values(document)
    folder = Path(os.path.abspath(path)).parent  # relative names are taken from here, as the client takes them
    for user in _users(document):
        username, password = user.get("username"), user.get("password")
        if isinstance(username, str) and isinstance(password, str) and password:
            found.add(base64.b64encode(f"{username}:{password}".encode()).decode())  # as basic auth sends them
        for field in _CREDENTIAL_FILE_FIELDS:
            named = user.get(field)
            if isinstance(named, str) and named:
                found |= _file_contents(folder / named)
    return found


def _users(document: Any) -> Iterator[Mapping[str, Any]]:
    entries = document.get("users") if isinstance(document, Mapping) else None
    for entry in entries if isinstance(entries, list) else []:
        user = entry.get("user") if isinstance(entry, Mapping) else None
        if isinstance(user, Mapping):
            yield user


def _file_contents(path: Path) -> set[str]:
    try:
        return {path.read_text(encoding="utf-8")}
    except (OSError, UnicodeDecodeError):
        return set()
