"""The Kubernetes connection: the kubeconfig's context and credentials, raw JSON over a urllib3 pool.

A static context is read by :mod:`nimify_tui.kube.kubeconfig`; any other (exec plugins, auth providers, in-cluster
config...) by the official ``kubernetes`` client, which then refreshes its tokens (see transport.py). We never
build the client's model objects: every call returns raw bytes that the caller decodes with orjson into lean
records (see records.py), which is an order of magnitude faster on big lists.
"""

from __future__ import annotations

import contextlib
import os
import socket
import ssl
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import orjson
import urllib3

from nimify_tui.kube.errors import MUTATING_METHODS, KubeError, error_from_response, error_from_transport
from nimify_tui.kube.kubeconfig import read_static
from nimify_tui.kube.kubeconfig_check import context_problem, exec_failures
from nimify_tui.kube.lines import LineSplitter
from nimify_tui.kube.transport import USER_AGENT, Transport, kubernetes_transport, static_transport

JSON = "application/json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"
JSON_PATCH = "application/json-patch+json"
DEFAULT_NAMESPACE = "nimify-system"  # where a context that names no namespace looks
DEFAULT_THROTTLE_S = 1.0  # a 429 without Retry-After: this long


class KubeConfigError(Exception):
    """The kubeconfig cannot be used; the message says which file and why."""


@dataclass(frozen=True)
class ClusterIdentity:
    """What the header and the journal show about where we are connected."""

    context: str
    cluster: str
    server: str
    user: str
    namespace: str


class ReadOnlyViolation(KubeError):
    """A mutating request was attempted by a read-only session; it never left the process."""


class KubeClient:
    """One authenticated connection to an API server, shared by every informer and action.

    Thread-safe: the underlying urllib3 pool is. ``readonly=True`` refuses every mutating request before it is
    sent (a read-only session must not be able to change the cluster whatever the UI does).
    """

    def __init__(
        self,
        transport: Transport,
        identity: ClusterIdentity,
        *,
        readonly: bool = False,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        kubeconfig_files: Sequence[str] = (),
    ) -> None:
        self._transport = transport
        self.identity = identity
        self.kubeconfig_files = tuple(kubeconfig_files)  # the files the configuration came from; none in a cluster
        self.readonly = readonly
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self._lock = threading.Lock()
        self.sent_mutations = 0
        self._throttled_until = 0.0  # time.monotonic() before which a 429's Retry-After asks for quiet

    # --- construction -------------------------------------------------------------------------------------
    @classmethod
    def from_kubeconfig(
        cls,
        kubeconfig: str | None = None,
        context: str | None = None,
        *,
        namespace: str | None = None,
        readonly: bool = False,
    ) -> KubeClient:
        """Load a kubeconfig (``None``: ``$KUBECONFIG`` or ``~/.kube/config``; in-cluster config as a fallback)."""
        static = read_static(kubeconfig, context)
        if static is not None:  # most contexts: read without the Kubernetes client's loader (its import is slow)
            identity = ClusterIdentity(
                context=static.context,
                cluster=static.cluster,
                server=static.server,
                user=static.user,
                namespace=namespace or static.namespace or DEFAULT_NAMESPACE,
            )
            return cls(
                static_transport(static), identity, readonly=readonly, kubeconfig_files=(static.kubeconfig_file,)
            )
        return cls._loaded_by_kubernetes(kubeconfig, context, namespace=namespace, readonly=readonly)

    @classmethod
    def _loaded_by_kubernetes(
        cls, kubeconfig: str | None, context: str | None, *, namespace: str | None, readonly: bool
    ) -> KubeClient:
        from kubernetes import config as kconfig
        from kubernetes.client.configuration import Configuration

        configuration = Configuration()
        try:
            contexts, active = kconfig.list_kube_config_contexts(config_file=kubeconfig)  # type: ignore[no-untyped-call]
        except kconfig.ConfigException as exc:
            if kubeconfig is None and context is None:
                return cls._in_cluster(namespace=namespace, readonly=readonly, reason=str(exc))
            raise KubeConfigError(f"kubeconfig {kubeconfig or '$KUBECONFIG'}: {exc}") from exc
        except Exception as exc:  # YAML errors, missing files, wrong shapes: all mean "this file cannot be used"
            detail = " ".join(str(exc).split())
            raise KubeConfigError(f"kubeconfig {kubeconfig or '$KUBECONFIG'} is not valid: {detail}") from exc
        chosen = active
        if context is not None:
            matches = [c for c in contexts if c.get("name") == context]
            if not matches:
                names = ", ".join(sorted(str(c.get("name")) for c in contexts)) or "none"
                raise KubeConfigError(f"context {context!r} is not in the kubeconfig (contexts: {names})")
            chosen = matches[0]
        if not chosen:
            raise KubeConfigError("the kubeconfig has no current-context; pass --context")
        sources = kubeconfig or kconfig.KUBE_CONFIG_DEFAULT_LOCATION
        merged = kconfig.kube_config.KubeConfigMerger(sources).config  # type: ignore[no-untyped-call]
        problem = context_problem(merged.value if merged is not None else {}, chosen)
        if problem is not None:
            raise KubeConfigError(f"context {chosen['name']!r} cannot be loaded: {problem}")
        try:
            with exec_failures() as failures:
                kconfig.load_kube_config(  # type: ignore[no-untyped-call]
                    config_file=kubeconfig, context=chosen["name"], client_configuration=configuration
                )
        except Exception as exc:  # missing certificate files, bad base64, unknown auth plugin...
            detail = " ".join(str(exc).split())
            raise KubeConfigError(f"context {chosen['name']!r} cannot be loaded: {detail}") from exc
        if failures:  # the client only logs a failing exec plugin, and goes on without credentials
            raise KubeConfigError(f"context {chosen['name']!r} cannot be loaded: {'; '.join(failures)}")
        ctx = chosen.get("context") or {}
        identity = ClusterIdentity(
            context=str(chosen["name"]),
            cluster=str(ctx.get("cluster", "")),
            server=str(configuration.host),
            user=str(ctx.get("user", "")),
            namespace=namespace or str(ctx.get("namespace") or DEFAULT_NAMESPACE),
        )
        files = _kubeconfig_files(kubeconfig or kconfig.KUBE_CONFIG_DEFAULT_LOCATION)
        return cls(kubernetes_transport(configuration), identity, readonly=readonly, kubeconfig_files=files)

    @classmethod
    def _in_cluster(cls, *, namespace: str | None, readonly: bool, reason: str) -> KubeClient:
        from kubernetes import config as kconfig
        from kubernetes.client.configuration import Configuration

        configuration = Configuration()
        try:
            kconfig.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
        except kconfig.ConfigException as exc:
            raise KubeConfigError(f"no usable kubeconfig ({reason}) and not running in a cluster ({exc})") from exc
        identity = ClusterIdentity(
            context="in-cluster",
            cluster="in-cluster",
            server=str(configuration.host),
            user="serviceaccount",
            namespace=namespace or DEFAULT_NAMESPACE,
        )
        return cls(kubernetes_transport(configuration), identity, readonly=readonly)

    # --- requests -----------------------------------------------------------------------------------------
    def _send(
        self,
        method: str,
        path: str,
        query: Mapping[str, Any] | None,
        body: Any,
        content_type: str | None,
        accept: str,
        timeout: float | tuple[float, float] | None,
    ) -> Any:
        if method in MUTATING_METHODS and self.readonly and not path.endswith("/selfsubjectaccessreviews"):
            raise ReadOnlyViolation(0, "ReadOnly", f"read-only session: {method} {path} was not sent")
        url_path = path
        if query:
            url_path += "?" + urlencode({k: _query_value(v) for k, v in query.items() if v is not None})
        headers: dict[str, str] = {"Accept": accept, "User-Agent": USER_AGENT}
        if content_type is not None:
            headers["Content-Type"] = content_type
        raw_body: bytes | None = None
        if body is not None:
            raw_body = body if isinstance(body, bytes) else orjson.dumps(body)
            headers.setdefault("Content-Type", JSON)
        transport = self._transport
        try:
            authorization = transport.authorization()
            if authorization:
                headers["Authorization"] = authorization
            connect, read = _timeouts(timeout or (self.connect_timeout, self.read_timeout))
            response = transport.pool.request(
                method,
                transport.host + url_path,
                body=raw_body,
                headers=headers,
                timeout=urllib3.Timeout(connect=connect, read=read),
                preload_content=False,
            )
        except Exception as exc:  # urllib3 and the client raise many types; each becomes one clear message
            raise error_from_transport(exc, method, path, self.identity.server) from exc
        if method in MUTATING_METHODS:
            with self._lock:
                self.sent_mutations += 1
        return response

    def request(
        self,
        method: str,
        path: str,
        query: Mapping[str, Any] | None = None,
        body: Any = None,
        *,
        content_type: str | None = None,
        timeout: float | tuple[float, float] | None = None,
        accept: str = JSON,
    ) -> bytes:
        """Send one request and return the body bytes; non-2xx answers raise :class:`KubeError`. ``accept`` asks
        for another representation (a server-side Table, for instance)."""
        response = self._send(method, path, query, body, content_type, accept, timeout)
        try:
            data: bytes = response.data
            status = int(response.status)
        finally:
            _release(response)
        if status >= 300:
            raise self._refused(error_from_response(status, data, method, path, response.headers.get("Retry-After")))
        return data

    def get_json(self, path: str, query: Mapping[str, Any] | None = None) -> Any:
        """GET a path and decode its JSON; garbage raises KubeError with what was received."""
        data = self.request("GET", path, query)
        return decode_json(data, path)

    def send_json(
        self,
        method: str,
        path: str,
        body: Any,
        *,
        content_type: str = JSON,
        query: Mapping[str, Any] | None = None,
    ) -> Any:
        return decode_json(self.request(method, path, query, body, content_type=content_type), path)

    def stream_lines(
        self,
        path: str,
        query: Mapping[str, Any] | None = None,
        *,
        read_timeout: float | None = None,
        closer: list[Any] | None = None,
        max_line_chars: int | None = None,
    ) -> Iterator[bytes]:
        """GET a streaming path (watch, log follow) and yield raw lines as they arrive.

        ``closer``, when given, receives the live response object so another thread can close it to stop the
        stream at once; it is appended once the server has accepted the stream, before its first line.
        ``max_line_chars``, when given, cuts longer lines as :class:`LineSplitter` says: the rest of such a line is
        dropped as it arrives, so memory stays bounded whatever the server sends.
        """
        response = self._send(
            "GET", path, query, None, None, JSON, (self.connect_timeout, read_timeout or self.read_timeout)
        )
        raw = getattr(response, "response", response)
        status = int(response.status)
        if status >= 300:
            data = raw.read()
            _release(response)
            raise self._refused(error_from_response(status, data, "GET", path, response.headers.get("Retry-After")))
        if closer is not None:
            closer.append(raw)
        splitter = LineSplitter(max_line_chars)
        try:
            for chunk in raw.stream(65536, decode_content=True):
                yield from splitter.feed(chunk)
            yield from splitter.finish()
        except Exception as exc:
            raise error_from_transport(exc, "GET", path, self.identity.server) from exc
        finally:
            _release(response)

    def _refused(self, error: KubeError) -> KubeError:
        """Note a 429's Retry-After for every user of this connection (see :meth:`throttled_for`)."""
        if error.status == 429:
            self.note_throttled(error.retry_after_s)
        return error

    def note_throttled(self, retry_after_s: float | None) -> None:
        """The API server answered 429 (here, or to another client through its proxy): quiet for its Retry-After."""
        wait = retry_after_s if retry_after_s is not None else DEFAULT_THROTTLE_S
        with self._lock:
            self._throttled_until = max(self._throttled_until, time.monotonic() + wait)

    def throttled_for(self) -> float:
        """Seconds left before the API server, which answered 429, wants to hear from us again (0: not throttled)."""
        with self._lock:
            return max(0.0, self._throttled_until - time.monotonic())

    # --- what other HTTP clients (Triton, metrics) need to reach the API server's proxy -------------------------
    def auth_headers(self) -> dict[str, str]:
        """The Authorization header the kubeconfig gives (refreshed token for exec/oidc users), if any."""
        authorization = self._transport.authorization()
        return {"Authorization": authorization} if authorization else {}

    def client_certificate_files(self) -> tuple[str, ...]:
        """The files of the client certificate and key this connection presents, if it presents one.

        The kubeconfig names them, or they were written from its ``client-*-data`` fields or from what its exec
        plugin returned.
        """
        transport = self._transport
        return tuple(path for path in (transport.cert_file, transport.key_file) if path)

    def ssl_context(self) -> ssl.SSLContext | None:
        """TLS settings of the kubeconfig (CA, client certificate) for an https API server; None for http."""
        transport = self._transport
        if not transport.host.startswith("https"):
            return None
        context = ssl.create_default_context(cafile=transport.ca_file)
        if not transport.verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        if transport.cert_file:
            context.load_cert_chain(transport.cert_file, transport.key_file)
        return context

    def close(self) -> None:
        self._transport.close()


def _kubeconfig_files(source: str) -> tuple[str, ...]:
    """The files the Kubernetes client reads for ``source``: a path, or several joined as in ``$KUBECONFIG``."""
    paths = (os.path.expanduser(path) for path in source.split(os.pathsep) if path)
    return tuple(path for path in paths if os.path.exists(path))


def interrupt_stream(response: Any) -> None:
    """Stop a streaming response that another thread is blocked reading: shut the socket down under it.

    Closing an (SSL) urllib3 response from another thread waits for the reader; shutting the socket down wakes
    the reader at once with an error, which it treats as the end of the stream.
    """
    sock = getattr(getattr(response, "connection", None), "sock", None)
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
            return
    with contextlib.suppress(Exception):  # already closed by the other side
        response.close()


def decode_json(data: bytes, what: str) -> Any:
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        preview = data[:80].decode("utf-8", "replace")
        raise KubeError(0, "BadResponse", f"{what}: the API server sent data that is not JSON ({preview!r})") from exc


def _timeouts(timeout: float | tuple[float, float]) -> tuple[float, float]:
    return timeout if isinstance(timeout, tuple) else (timeout, timeout)


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _release(response: Any) -> None:
    raw = getattr(response, "response", response)
    with contextlib.suppress(Exception):  # the connection may already be closed by the other side
        raw.release_conn()
