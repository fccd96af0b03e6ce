"""How requests reach the API server: a urllib3 pool, its TLS files, and the Authorization header.

A static context (:mod:`nimify_tui.kube.kubeconfig`) gets a pool of its own, set up as the Kubernetes client sets up
its own; any other (exec plugins, auth providers, proxies, basic auth, in-cluster) keeps the Kubernetes client's
pool and asks its configuration for the header at each request (an exec plugin's token is refreshed there).
"""

from __future__ import annotations

import contextlib
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import urllib3

from nimify_tui import __version__
from nimify_tui.kube.kubeconfig import StaticContext

USER_AGENT = f"nimify-tui/{__version__}"
POOL_SIZE = 64  # one connection per informer stream


@dataclass(frozen=True)
class Transport:
    """One API server's connection settings and pool."""

    host: str
    pool: urllib3.PoolManager
    ca_file: str | None
    cert_file: str | None
    key_file: str | None
    verify: bool
    authorization: Callable[[], str | None]  # the Authorization header's value at this moment
    close: Callable[[], None]


def static_transport(context: StaticContext) -> Transport:
    """A pool of its own for a static context (no retries: callers decide when to retry)."""
    settings: dict[str, Any] = {
        "cert_reqs": ssl.CERT_REQUIRED if context.verify else ssl.CERT_NONE,
        "ca_certs": context.ca_file,
        "cert_file": context.cert_file,
        "key_file": context.key_file,
        "retries": False,
        "maxsize": POOL_SIZE,
    }
    if context.tls_server_name:
        settings["server_hostname"] = context.tls_server_name
    pool = urllib3.PoolManager(**settings)
    authorization = context.authorization
    return Transport(
        host=context.server,
        pool=pool,
        ca_file=context.ca_file,
        cert_file=context.cert_file,
        key_file=context.key_file,
        verify=context.verify,
        authorization=lambda: authorization,
        close=pool.clear,
    )


def kubernetes_transport(configuration: Any) -> Transport:
    """The Kubernetes client's pool for a configuration it loaded (its proxy and TLS settings), tuned as
    :func:`static_transport`."""
    from kubernetes.client.rest import RESTClientObject

    configuration.connection_pool_maxsize = POOL_SIZE
    configuration.retries = False
    rest = RESTClientObject(configuration)

    def authorization() -> str | None:
        setting = configuration.auth_settings().get("BearerToken") or {}  # refreshes an exec plugin's token
        value = setting.get("value")
        return str(value) if value else None

    def close() -> None:
        with contextlib.suppress(Exception):  # closing a pool that never connected can fail; nothing to report
            rest.close()

    return Transport(
        host=str(configuration.host).rstrip("/"),
        pool=rest.pool_manager,
        ca_file=configuration.ssl_ca_cert or None,
        cert_file=configuration.cert_file or None,
        key_file=configuration.key_file or None,
        verify=bool(configuration.verify_ssl),
        authorization=authorization,
        close=close,
    )


def no_transport(host: str) -> Transport:
    """A transport for a client that answers from elsewhere (a recording) and never connects: nothing is sent."""

    def refuse(*_args: object, **_kwargs: object) -> urllib3.BaseHTTPResponse:
        raise urllib3.exceptions.HTTPError(f"{host}: this client does not connect")

    pool = urllib3.PoolManager()
    pool.request = refuse  # type: ignore[method-assign]
    return Transport(host, pool, None, None, None, True, lambda: None, lambda: None)
