"""A kubeconfig whose context needs nothing but what it holds, read without the Kubernetes client.

Most contexts name a server, a certificate authority and a token or a client certificate: reading those takes a YAML
parse, while importing the Kubernetes client's loader (requests, OAuth, pydantic...) takes about 0.15-0.3 s of every
command's start. :func:`read_static` reads such a context exactly as the client reads it (relative file names from
the kubeconfig's folder, ``-data`` fields before files, ``insecure-skip-tls-verify``, ``tls-server-name``, the
token before basic auth) and returns None for anything else (several files in ``$KUBECONFIG``, an exec plugin, an
auth provider, a proxy, basic auth, a missing or malformed part): the Kubernetes client's loader then loads it, and
says what is wrong.
"""

from __future__ import annotations

import atexit
import base64
import binascii
import os
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

DEFAULT_LOCATION = "~/.kube/config"
# What a static context's user may hold; anything else (exec, auth-provider, username/password, impersonation)
# is left to the Kubernetes client's loader.
_STATIC_USER_FIELDS = frozenset(
    {"token", "tokenFile", "client-certificate", "client-certificate-data", "client-key", "client-key-data"}
)
_STATIC_CLUSTER_FIELDS = frozenset(
    {
        "server",
        "certificate-authority",
        "certificate-authority-data",
        "insecure-skip-tls-verify",
        "tls-server-name",
        "extensions",
        "disable-compression",
    }
)


@dataclass(frozen=True)
class StaticContext:
    """A context's connection, as the Kubernetes client would configure it."""

    context: str
    cluster: str
    user: str
    namespace: str  # the context's namespace, "" when it names none
    server: str  # without a trailing slash
    ca_file: str | None
    cert_file: str | None
    key_file: str | None
    verify: bool
    tls_server_name: str | None
    authorization: str | None  # the Authorization header's value ("Bearer ...")
    kubeconfig_file: str


def kubeconfig_source(kubeconfig: str | None) -> str:
    """The kubeconfig the Kubernetes client reads: the argument, else ``$KUBECONFIG`` (even empty), else
    ``~/.kube/config``."""
    return kubeconfig or os.environ.get("KUBECONFIG", DEFAULT_LOCATION)


def read_static(kubeconfig: str | None, context: str | None) -> StaticContext | None:
    """The static context ``context`` (None: the current one) of one kubeconfig file; None when the Kubernetes client
    must load it (see the module's text). Raises nothing."""
    try:
        return _read(kubeconfig, context)
    except Exception:  # an unexpected shape: the Kubernetes client's loader says what is wrong with it
        return None


def _read(kubeconfig: str | None, context: str | None) -> StaticContext | None:
    source = kubeconfig_source(kubeconfig).strip(os.pathsep)
    if not source or os.pathsep in source:
        return None  # no file, or several merged: the client's rules
    path = os.path.expanduser(source)
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError):
        return None
    document = _parse(text)
    if not isinstance(document, Mapping):
        return None
    name = context if context is not None else document.get("current-context")
    details = _named(document.get("contexts"), name, "context")
    if not isinstance(name, str) or not name or details is None:
        return None
    cluster_name, user_name = details.get("cluster"), details.get("user")
    cluster = _named(document.get("clusters"), cluster_name, "cluster")
    user = _named(document.get("users"), user_name, "user")
    if cluster is None or user is None or not isinstance(cluster_name, str) or not isinstance(user_name, str):
        return None
    if not set(cluster) <= _STATIC_CLUSTER_FIELDS or not set(user) <= _STATIC_USER_FIELDS:
        return None
    server = cluster.get("server")
    if not isinstance(server, str) or not server.startswith(("http://", "https://")):
        return None
    folder = os.path.abspath(os.path.dirname(path))
    ca_file = cert_file = key_file = None
    if server.startswith("https"):  # the client reads certificates only for https, as here
        ca_file = _file_or_data(cluster, "certificate-authority", folder)
        cert_file = _file_or_data(user, "client-certificate", folder)
        key_file = _file_or_data(user, "client-key", folder)
    skip = cluster.get("insecure-skip-tls-verify", False)
    server_name = cluster.get("tls-server-name")
    namespace = details.get("namespace") or ""
    if not isinstance(skip, bool) or not isinstance(server_name, str | None) or not isinstance(namespace, str):
        return None
    token = _token(user, folder)
    return StaticContext(
        context=name,
        cluster=cluster_name,
        user=user_name,
        namespace=namespace,
        server=server.rstrip("/"),
        ca_file=ca_file,
        cert_file=cert_file,
        key_file=key_file,
        verify=not skip,
        tls_server_name=server_name or None,
        authorization=f"Bearer {token}" if token else None,
        kubeconfig_file=path,
    )


def _parse(text: str) -> Any:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C parser where PyYAML has it
    return yaml.load(text, Loader=loader)


def _named(entries: object, name: object, part: str) -> Mapping[str, Any] | None:
    """The ``part`` mapping of the first entry named ``name`` (the client takes the first); None if there is none."""
    if not isinstance(entries, list) or not isinstance(name, str):
        return None
    for entry in entries:
        if isinstance(entry, Mapping) and entry.get("name") == name:
            found = entry.get(part)
            return found if isinstance(found, Mapping) else None
    return None


class _NotStatic(Exception):
    """Something the Kubernetes client's loader reads (or refuses, saying why) better than this module."""


def _file_or_data(section: Mapping[str, Any], field: str, folder: str) -> str | None:
    """The file of ``field`` (``field-data`` first, written to a private file), None if neither is given;
    :class:`_NotStatic` where the client would refuse it (a file that does not exist, data that is not base64)."""
    data = section.get(f"{field}-data")
    if data:
        if not isinstance(data, str):
            raise _NotStatic(field)
        try:
            return _private_file(base64.b64decode(data, validate=True))
        except (binascii.Error, ValueError) as exc:
            raise _NotStatic(field) from exc
    named = section.get(field)
    if not named:
        return None
    if not isinstance(named, str):
        raise _NotStatic(field)
    file = os.path.normpath(os.path.join(folder, named))
    if not os.path.isfile(file):
        raise _NotStatic(field)
    return file


def _token(user: Mapping[str, Any], folder: str) -> str | None:
    """The user's token (``token`` first, else the content of ``tokenFile``), None without one; :class:`_NotStatic`
    when it cannot be read."""
    token = user.get("token")
    if not token:
        named = user.get("tokenFile")
        if not named:
            return None
        if not isinstance(named, str):
            raise _NotStatic("tokenFile")
        with open(os.path.normpath(os.path.join(folder, named)), encoding="utf-8") as handle:
            token = handle.read()
    # the client sends it as it is: one with spaces or line breaks around it is left to the client (and its error)
    if not isinstance(token, str) or token != token.strip():
        raise _NotStatic("token")
    return token


_folder: str | None = None


def _private_file(content: bytes) -> str:
    """A file only this user can read, holding ``content``, removed when the process ends (as the client's are)."""
    global _folder
    if _folder is None:
        _folder = tempfile.mkdtemp(prefix="nimify-tui-tls-")  # mode 0700
        atexit.register(shutil.rmtree, _folder, True)
    descriptor, file = tempfile.mkstemp(dir=_folder)  # mode 0600
    with os.fdopen(descriptor, "wb") as out:
        out.write(content)
    return file
