"""Load or unload a Triton model through the model repository API (``POST /v2/repository/models/M/load``).

Triton is reached through the API server's service proxy with the kubeconfig's credentials (the permission
needed is ``create services/proxy`` in triton-system), or at a direct URL. Triton has no dry run: the preview
is the model's state now and the state asked for.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar, TypeVar

from nimify_tui.actions.diff import FieldChange
from nimify_tui.actions.plan import Action, ActionError, Outcome, Parameter, ParameterError, Preview, Request, Target
from nimify_tui.kube.access import AccessCheck
from nimify_tui.kube.client import KubeClient
from nimify_tui.text import one_line
from nimify_tui.triton import client as triton
from nimify_tui.triton.client import (
    DEFAULT_TIMEOUT_S,
    TRITON_HTTP_PORT,
    TRITON_NAMESPACE,
    TRITON_SERVICE,
    TritonCall,
    TritonClient,
    TritonEndpoint,
    TritonError,
)

if TYPE_CHECKING:
    from typing_extensions import Self

T = TypeVar("T")
READY = "READY"
UNAVAILABLE = "UNAVAILABLE"


@dataclass(frozen=True)
class ModelState:
    """One entry of Triton's repository index (``state`` is "" for a model never loaded)."""

    name: str
    state: str
    reason: str

    def __str__(self) -> str:
        state = self.state or "not loaded"
        return f"{state} ({one_line(self.reason, 80)})" if self.reason else state


def _ask_triton(endpoint: TritonEndpoint, call: TritonCall[T], timeout_s: float) -> T:
    """One call, its failure an :class:`ActionError` with the client's message."""
    try:
        with TritonClient(endpoint, timeout_s) as client:
            return client.call(call)
    except TritonError as exc:
        raise ActionError(str(exc)) from None


def readiness(endpoint: TritonEndpoint, model: str, timeout_s: float = DEFAULT_TIMEOUT_S) -> str:
    """``ready``, ``not ready`` or ``unknown (why)``, from ``GET /v2/models/M/ready`` (a read, unlike the index)."""
    try:
        ready = _ask_triton(endpoint, triton.model_ready(model), timeout_s)
    except ActionError as exc:
        return f"unknown ({exc})"
    return "ready" if ready else "not ready"


def repository_index(endpoint: TritonEndpoint, timeout_s: float = DEFAULT_TIMEOUT_S) -> list[ModelState]:
    """Every model of the repository with its state (``POST /v2/repository/index``)."""
    entries = _ask_triton(endpoint, triton.repository_index(), timeout_s)
    return [
        ModelState(str(entry.get("name") or ""), str(entry.get("state") or ""), str(entry.get("reason") or ""))
        for entry in entries
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

    def _repository_call(self) -> TritonCall[None]:
        return triton.load_model(self.model) if self.wanted_state == READY else triton.unload_model(self.model)

    def request(self) -> Request:
        call = self._repository_call()
        return Request(call.method, self.endpoint.url(call.path), call.body)

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
        call = self._repository_call()
        if self.client.readonly:
            raise ActionError(f"read-only session: {call.method} {call.path} was not sent")
        _ask_triton(self.endpoint, call, self.timeout_s)
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
