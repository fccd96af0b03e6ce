"""Triton's HTTP/REST API (KServe v2 and Triton's extensions), asked from worker threads or from an event loop.

Each request is a :class:`TritonCall`: its method, path and JSON body, and how its answer is read. Both clients
send calls through httpx, :class:`TritonClient` synchronously (actions, the model screen) and
:class:`AsyncTritonClient` on an event loop (the poller), to a :class:`TritonEndpoint`: a direct URL, or the API
server's service or pod proxy with the kubeconfig's credentials and TLS settings.

Every failure raises :class:`TritonError` with one line for the operator, made safe to show:

* an HTTP error status: who refused (Triton, with its ``{"error": ...}``, or the API server in front of it, with
  its Status message), the call, the message and the status;
* no answer in time, or no connection at all: where Triton was asked, and what happened;
* an answer that is not the JSON the call expects.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, TypeVar
from urllib.parse import quote

import httpx
import orjson

from nimify_tui.endpoints import Endpoint, service_proxy_url
from nimify_tui.text import one_line

if TYPE_CHECKING:
    from typing_extensions import Self

    from nimify_tui.kube.client import KubeClient

T = TypeVar("T")

TRITON_NAMESPACE = "triton-system"
TRITON_SERVICE = "triton-server"
TRITON_HTTP_PORT = 8000
DEFAULT_TIMEOUT_S = 10.0
CONNECT_TIMEOUT_S = 5.0


class TritonError(Exception):
    """A Triton call that failed. ``str()`` is one line for the operator; ``status`` is the HTTP status of the
    answer, 0 when none came back."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class TritonEndpoint:
    """Where Triton's HTTP API is (a base URL, no trailing slash), and how to authenticate there."""

    base_url: str
    via_proxy: bool
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    verify: ssl.SSLContext | bool = field(default=True, repr=False)

    @classmethod
    def direct(cls, url: str) -> TritonEndpoint:
        """Triton itself: no Kubernetes credentials are sent there."""
        return cls(url.rstrip("/"), False)

    @classmethod
    def proxied(cls, url: str, headers: Mapping[str, str], ssl_context: ssl.SSLContext | None) -> TritonEndpoint:
        """A proxy URL of the API server, with the kubeconfig's headers and TLS context (None: plain http)."""
        return cls(url.rstrip("/"), True, dict(headers), ssl_context or True)

    @classmethod
    def through_api_server(
        cls,
        client: KubeClient,
        namespace: str = TRITON_NAMESPACE,
        service: str = TRITON_SERVICE,
        port: int = TRITON_HTTP_PORT,
    ) -> TritonEndpoint:
        """Triton's service through the API server's service proxy."""
        url = service_proxy_url(client.identity.server, namespace, service, port)
        return cls.proxied(url, client.auth_headers(), client.ssl_context())

    @classmethod
    def of(cls, endpoint: Endpoint, client: KubeClient) -> TritonEndpoint:
        """The runtime's Triton endpoint, with the kubeconfig's credentials where it goes through the API server."""
        if not endpoint.via_proxy:
            return cls.direct(endpoint.base_url)
        return cls.proxied(endpoint.base_url, client.auth_headers(), client.ssl_context())

    def url(self, path: str) -> str:
        return self.base_url + path


@dataclass(frozen=True)
class TritonCall(Generic[T]):
    """One request to Triton (``path`` from ``/v2``; ``body`` a JSON value or None) and how its answer is read."""

    method: str
    path: str
    body: Any
    read: Callable[[TritonCall[T], httpx.Response], T] = field(repr=False, compare=False)

    @property
    def content(self) -> bytes | None:
        return None if self.body is None else orjson.dumps(self.body)


# --- the calls ------------------------------------------------------------------------------------------------
def _model_path(model: str, version: str = "") -> str:
    path = f"/v2/models/{quote(model, safe='')}"
    return path + f"/versions/{quote(version, safe='')}" if version else path


def server_metadata() -> TritonCall[dict[str, Any]]:
    """``{"name", "version", "extensions"}``."""
    return TritonCall("GET", "/v2", None, _json_object)


def server_live() -> TritonCall[bool]:
    return TritonCall("GET", "/v2/health/live", None, _yes_or_no)


def server_ready() -> TritonCall[bool]:
    """Strict by default: every model asked to be loaded is ready."""
    return TritonCall("GET", "/v2/health/ready", None, _yes_or_no)


def model_ready(model: str, version: str = "") -> TritonCall[bool]:
    """False for a model that is not ready or not known."""
    return TritonCall("GET", _model_path(model, version) + "/ready", None, _yes_or_no)


def model_config(model: str) -> TritonCall[dict[str, Any]]:
    return TritonCall("GET", _model_path(model) + "/config", None, _json_object)


def model_statistics() -> TritonCall[dict[str, Any]]:
    """Cumulative statistics of every loaded model: ``{"model_stats": [...]}``."""
    return TritonCall("GET", "/v2/models/stats", None, _json_object)


def repository_index() -> TritonCall[list[dict[str, Any]]]:
    """Every model of the repository: ``[{"name", "version", "state", "reason"}]`` (a never loaded model has its
    name alone). A POST: through the API server it needs ``create`` on the proxy."""
    return TritonCall("POST", "/v2/repository/index", {}, _json_objects)


def load_model(model: str) -> TritonCall[None]:
    """Triton answers once the load is over (only with ``--model-control-mode=explicit``, else 503)."""
    return TritonCall("POST", f"/v2/repository/models/{quote(model, safe='')}/load", None, _nothing)


def unload_model(model: str) -> TritonCall[None]:
    return TritonCall("POST", f"/v2/repository/models/{quote(model, safe='')}/unload", None, _nothing)


# --- reading answers ------------------------------------------------------------------------------------------
def _json(data: bytes) -> Any:
    try:
        return orjson.loads(data) if data else None
    except orjson.JSONDecodeError:
        return None


def _is_api_server_status(body: Any) -> bool:
    """The API server's own answer (a ``Status``), not Triton's: its proxy refused or could not forward."""
    return isinstance(body, dict) and body.get("kind") == "Status"


def _refusal(call: TritonCall[Any], response: httpx.Response) -> TritonError:
    """The error for an HTTP error status: Triton's ``{"error": ...}``, the API server's Status message (its
    proxy answered: forbidden, no such pod), or the start of the body."""
    body = _json(response.content)
    who = "Triton"
    if _is_api_server_status(body):
        who, text = "the API server", str(body.get("message") or body.get("reason") or "")
    elif isinstance(body, dict) and body.get("error"):
        text = str(body["error"])
    else:
        text = response.content[:200].decode("utf-8", "replace").strip()
    text = text or response.reason_phrase
    message = f"{who} refused {call.method} {call.path}: {text} (HTTP {response.status_code})"
    return TritonError(one_line(message), response.status_code)


def _yes_or_no(call: TritonCall[bool], response: httpx.Response) -> bool:
    """200 is yes; Triton says no with 400 (404 for a model it does not know). The API server's refusals (a
    Status) and other statuses are errors, not a no."""
    if response.status_code == 200:
        return True
    if response.status_code in (400, 404) and not _is_api_server_status(_json(response.content)):
        return False
    raise _refusal(call, response)


def _json_answer(call: TritonCall[Any], response: httpx.Response) -> Any:
    if not response.is_success:
        raise _refusal(call, response)
    try:
        return orjson.loads(response.content)
    except orjson.JSONDecodeError:
        raise TritonError(f"Triton's answer to {call.method} {call.path} is not JSON", response.status_code) from None


def _json_object(call: TritonCall[dict[str, Any]], response: httpx.Response) -> dict[str, Any]:
    answer = _json_answer(call, response)
    if not isinstance(answer, dict):
        raise TritonError(f"Triton's answer to {call.method} {call.path} is not a JSON object", response.status_code)
    return answer


def _json_objects(call: TritonCall[list[dict[str, Any]]], response: httpx.Response) -> list[dict[str, Any]]:
    answer = _json_answer(call, response)
    if not isinstance(answer, list):
        raise TritonError(f"Triton's answer to {call.method} {call.path} is not a JSON list", response.status_code)
    return [entry for entry in answer if isinstance(entry, dict)]


def _nothing(call: TritonCall[None], response: httpx.Response) -> None:
    if not response.is_success:
        raise _refusal(call, response)


def _no_answer(endpoint: TritonEndpoint, call: TritonCall[Any], exc: Exception, timeout_s: float) -> TritonError:
    """The error for a call that got no answer: no connection, or no answer in time."""
    where = f"Triton at {endpoint.base_url}"
    if isinstance(exc, httpx.ConnectTimeout):
        message = f"cannot reach {where}: no connection within {min(timeout_s, CONNECT_TIMEOUT_S):g}s"
    elif isinstance(exc, httpx.TimeoutException):
        message = f"{where} did not answer {call.method} {call.path} within {timeout_s:g}s"
    else:
        message = f"cannot reach {where}: {str(exc) or type(exc).__name__}"
    return TritonError(one_line(message))


# --- the clients ----------------------------------------------------------------------------------------------
def _timeout(timeout_s: float) -> httpx.Timeout:
    return httpx.Timeout(timeout_s, connect=min(timeout_s, CONNECT_TIMEOUT_S))


def _client_options(endpoint: TritonEndpoint, timeout_s: float) -> dict[str, Any]:
    """What both httpx clients are made with. The environment's proxy settings are ignored, as the Kubernetes
    client ignores them: Triton is asked where the endpoint says."""
    return {
        "headers": dict(endpoint.headers),
        "verify": endpoint.verify,
        "timeout": _timeout(timeout_s),
        "trust_env": False,
    }


_NO_ANSWER = (httpx.HTTPError, httpx.InvalidURL)


class TritonClient:
    """Triton's API from a worker thread; a context manager that keeps its connections until closed."""

    def __init__(self, endpoint: TritonEndpoint, timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        self.endpoint = endpoint
        self.timeout_s = timeout_s
        self._http = httpx.Client(**_client_options(endpoint, timeout_s))

    def call(self, call: TritonCall[T], timeout_s: float | None = None) -> T:
        """The call's answer, read; ``timeout_s`` replaces the client's for this call."""
        limit = timeout_s or self.timeout_s
        try:
            response = self._http.request(
                call.method, self.endpoint.url(call.path), content=call.content, timeout=_timeout(limit)
            )
        except _NO_ANSWER as exc:
            raise _no_answer(self.endpoint, call, exc, limit) from None
        return call.read(call, response)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncTritonClient:
    """Triton's API from an event loop; an async context manager that keeps its connections until closed."""

    def __init__(self, endpoint: TritonEndpoint, timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        self.endpoint = endpoint
        self.timeout_s = timeout_s
        self._http = httpx.AsyncClient(**_client_options(endpoint, timeout_s))

    async def call(self, call: TritonCall[T], timeout_s: float | None = None) -> T:
        """The call's answer, read; ``timeout_s`` replaces the client's for this call."""
        limit = timeout_s or self.timeout_s
        try:
            response = await self._http.request(
                call.method, self.endpoint.url(call.path), content=call.content, timeout=_timeout(limit)
            )
        except _NO_ANSWER as exc:
            raise _no_answer(self.endpoint, call, exc, limit) from None
        return call.read(call, response)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        await self.aclose()
