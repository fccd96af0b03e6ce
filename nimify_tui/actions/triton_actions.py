"""Load or unload a Triton model through the model repository API (``POST /v2/repository/models/M/load``).

Triton is reached through the API server's service proxy with the kubeconfig's credentials (the permission
needed is ``create services/proxy`` in triton-system), or at a direct URL. Triton has no dry run: the preview
is the model's state now and the state asked for.
"""

from __future__ import annotations

import dataclasses
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote

import httpx
import orjson

from nimify_tui.actions.access import AccessCheck
from nimify_tui.actions.diff import FieldChange
from nimify_tui.actions.plan import Action, ActionError, Outcome, Parameter, ParameterError, Preview, Request, Target
from nimify_tui.endpoints import service_proxy_url
from nimify_tui.kube.client import KubeClient
from nimify_tui.text import one_line

if TYPE_CHECKING:
    from typing_extensions import Self

TRITON_NAMESPACE = "triton-system"
TRITON_SERVICE = "triton-server"
TRITON_HTTP_PORT = 8000
READY = "READY"
UNAVAILABLE = "UNAVAILABLE"


@dataclass(frozen=True)
class TritonEndpoint:
    """Where Triton's HTTP API is, and how to authenticate there."""

    base_url: str
    via_proxy: bool
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    verify: ssl.SSLContext | bool = field(default=True, repr=False)

    @classmethod
    def through_api_server(
        cls,
        client: KubeClient,
        namespace: str = TRITON_NAMESPACE,
        service: str = TRITON_SERVICE,
        port: int = TRITON_HTTP_PORT,
    ) -> TritonEndpoint:
        url = service_proxy_url(client.identity.server, namespace, service, port)
        return cls(url, True, client.auth_headers(), client.ssl_context() or True)

    @classmethod
    def direct(cls, url: str) -> TritonEndpoint:
        return cls(url.rstrip("/"), False)

    def http_client(self, timeout_s: float) -> httpx.Client:
        return httpx.Client(
            headers=dict(self.headers),
            verify=self.verify,
            timeout=httpx.Timeout(timeout_s, connect=5.0),
            trust_env=False,
        )


@dataclass(frozen=True)
class ModelState:
    """One entry of Triton's repository index (``state`` is "" for a model never loaded)."""

    name: str
    state: str
    reason: str

    def __str__(self) -> str:
        state = self.state or "not loaded"
        return f"{state} ({one_line(self.reason, 80)})" if self.reason else state


def _error_text(response: httpx.Response) -> str:
    """Triton's ``{"error": ...}``, the API server's Status message, or the start of the body."""
    try:
        body: Any = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        body = None
    if isinstance(body, dict) and (body.get("error") or body.get("message")):
        text = str(body.get("error") or body.get("message"))
    else:
        text = response.text[:200].strip() or response.reason_phrase
    return one_line(f"{text} (HTTP {response.status_code})")


def _send(endpoint: TritonEndpoint, method: str, path: str, body: bytes | None, timeout_s: float) -> httpx.Response:
    url = endpoint.base_url + path
    try:
        with endpoint.http_client(timeout_s) as http:
            return http.request(method, url, content=body)
    except httpx.TimeoutException:
        raise ActionError(f"Triton at {endpoint.base_url} did not answer within {timeout_s:g}s") from None
    except httpx.HTTPError as exc:
        reason = one_line(str(exc) or type(exc).__name__)
        raise ActionError(f"cannot reach Triton at {endpoint.base_url}: {reason}") from None


def _post(endpoint: TritonEndpoint, path: str, body: bytes, timeout_s: float) -> httpx.Response:
    response = _send(endpoint, "POST", path, body, timeout_s)
    if response.status_code >= 300:
        raise ActionError(f"Triton refused POST {path}: {_error_text(response)}")
    return response


def readiness(endpoint: TritonEndpoint, model: str, timeout_s: float = 10.0) -> str:
    """``ready``, ``not ready`` or ``unknown (why)``, from ``GET /v2/models/M/ready`` (a read, unlike the index)."""
    try:
        response = _send(endpoint, "GET", f"/v2/models/{quote(model, safe='')}/ready", None, timeout_s)
    except ActionError as exc:
        return f"unknown ({exc})"
    if response.status_code == 200:
        return "ready"
    if response.status_code in (400, 404):
        return "not ready"
    return f"unknown ({_error_text(response)})"


def repository_index(endpoint: TritonEndpoint, timeout_s: float = 10.0) -> list[ModelState]:
    """Every model of the repository with its state (``POST /v2/repository/index``)."""
    response = _post(endpoint, "/v2/repository/index", b"{}", timeout_s)
    try:
        entries = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        raise ActionError("Triton's repository index is not JSON") from None
    if not isinstance(entries, list):
        raise ActionError("Triton's repository index is not a list")
    return [
        ModelState(str(entry.get("name") or ""), str(entry.get("state") or ""), str(entry.get("reason") or ""))
        for entry in entries
        if isinstance(entry, dict)
    ]


@dataclass(frozen=True)
class _ModelAction(Action):
    """Load or unload one model; the subclasses say which. Planning only reads (GET); the preview reads the index."""

    wanted_state: ClassVar[str]
    client: KubeClient = field(repr=False, compare=False)
    endpoint: TritonEndpoint
    model: str
    readiness: str
    timeout_s: float = 120.0

    @property
    def target(self) -> Target:
        return Target("TritonModel", TRITON_NAMESPACE if self.endpoint.via_proxy else None, self.model)

    def _word(self) -> str:
        return "load" if self.wanted_state == READY else "unload"

    def summary(self) -> str:
        return f"{self._word()} Triton model {self.model} (now {self.readiness})"

    def parameters(self) -> tuple[Parameter, ...]:
        return (Parameter("model", "Model", self.model, self.model, help=f"now {self.readiness}"),)

    def with_values(self, values: Mapping[str, str]) -> Self:
        model = values.get("model", self.model).strip()
        if not model:
            raise ParameterError("model: a model name is needed")
        if model == self.model:
            return self
        return dataclasses.replace(self, model=model, readiness=readiness(self.endpoint, model))

    def access_checks(self) -> tuple[AccessCheck, ...]:
        if not self.endpoint.via_proxy:
            return ()
        name = f"{TRITON_SERVICE}:{TRITON_HTTP_PORT}"
        return (AccessCheck("create", "", "services", "proxy", TRITON_NAMESPACE, name),)

    def _path(self) -> str:
        return f"/v2/repository/models/{quote(self.model, safe='')}/{self._word()}"

    def request(self) -> Request:
        return Request("POST", self.endpoint.base_url + self._path())

    def _state(self) -> ModelState:
        models = repository_index(self.endpoint)
        found = next((m for m in models if m.name == self.model), None)
        if found is None:
            known = ", ".join(m.name for m in models) or "none"
            raise ActionError(f"model {one_line(self.model, 60)!r} is not in Triton's model repository ({known})")
        return found

    def preview(self) -> Preview:
        now = self._state()
        before = {"model": self.model, "state": now.state, "reason": now.reason}
        after = {"model": self.model, "state": self.wanted_state, "reason": ""}
        change = FieldChange(f"model {self.model}", str(now), self.wanted_state)
        note = "Triton has no dry run: this is the model's state now and the state asked for"
        return Preview(before, after, (change,), "", note)

    def execute(self) -> Outcome:
        if self.client.readonly:
            raise ActionError(f"read-only session: POST {self._path()} was not sent")
        _post(self.endpoint, self._path(), b"", self.timeout_s)
        after = self._state()
        return Outcome(f"Triton model {self.model}: {self._word()}ed, now {after}", after)


@dataclass(frozen=True)
class LoadModelAction(_ModelAction):
    """``POST /v2/repository/models/M/load``: the load completes before Triton answers."""

    verb: ClassVar[str] = "load-model"
    wanted_state: ClassVar[str] = READY


@dataclass(frozen=True)
class UnloadModelAction(_ModelAction):
    """``POST /v2/repository/models/M/unload``."""

    verb: ClassVar[str] = "unload-model"
    wanted_state: ClassVar[str] = UNAVAILABLE


def plan_model_action(
    client: KubeClient, model: str, *, load: bool = True, triton_url: str | None = None, timeout_s: float = 120.0
) -> LoadModelAction | UnloadModelAction:
    """Load (or unload) a model, through the API server's service proxy unless ``triton_url`` is given."""
    endpoint = TritonEndpoint.direct(triton_url) if triton_url else TritonEndpoint.through_api_server(client)
    kind = LoadModelAction if load else UnloadModelAction
    return kind(client, endpoint, model, readiness(endpoint, model), timeout_s)
