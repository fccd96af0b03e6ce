"""What every action is made of: a target, parameters with their current values, the exact request, a dry run.

An :class:`Action` is an immutable plan. ``parameters()`` lists what the operator may change (each with the
value now in the cluster as its default); ``with_values`` validates edited values and returns a new plan;
``request()`` is the exact request the real call sends; ``preview()`` runs it as a server-side dry run and
diffs the object before against the dry-run reply; ``execute()`` sends it for real.
"""

from __future__ import annotations

import re
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol
from urllib.parse import urlencode

from nimify_tui.actions.diff import FieldChange, changes_text, object_changes, yaml_diff
from nimify_tui.kube.access import AccessCheck
from nimify_tui.kube.client import KubeClient, decode_json
from nimify_tui.kube.errors import KubeError
from nimify_tui.kube.quantity import Quantity, QuantityError, parse_quantity
from nimify_tui.text import one_line

if TYPE_CHECKING:
    from typing_extensions import Self

DRY_RUN_ALL = ("dryRun", "All")


class ActionError(Exception):
    """An action that cannot go on; the message is one line meant for the operator."""


class ParameterError(ActionError):
    """A parameter value that is refused before anything is sent."""


@dataclass(frozen=True)
class Target:
    """The object an action changes (``kind`` as the API names it: Deployment, Pod, TritonModel)."""

    kind: str
    namespace: str | None
    name: str

    def __str__(self) -> str:
        where = f"{self.namespace}/{self.name}" if self.namespace else self.name
        return f"{self.kind} {where}"


@dataclass(frozen=True)
class Parameter:
    """One value the operator may change; ``current`` is what the cluster has now ("" when unset)."""

    name: str
    label: str
    value: str
    current: str
    choices: tuple[str, ...] = ()
    help: str = ""
    multiline: bool = False


@dataclass(frozen=True)
class Request:
    """One HTTP request to the API server, exactly as it is sent."""

    method: str
    path: str
    body: Any = None
    content_type: str | None = None
    query: tuple[tuple[str, str], ...] = ()

    def dry_run(self) -> Request:
        """The same request as a server-side dry run (``dryRun=All``): the reply is the object as it would be."""
        return Request(self.method, self.path, self.body, self.content_type, (*self.query, DRY_RUN_ALL))

    @property
    def path_with_query(self) -> str:
        return self.path + ("?" + urlencode(self.query) if self.query else "")

    def send(self, client: KubeClient) -> Any:
        """Send it and decode the JSON reply; failures raise :class:`KubeError`."""
        data = client.request(
            self.method, self.path, dict(self.query) or None, self.body, content_type=self.content_type
        )
        return decode_json(data, self.path) if data.strip() else None


@dataclass(frozen=True)
class Preview:
    """The dry run's result: the object now, the object as it would be, and what differs."""

    before: Any
    after: Any
    changes: tuple[FieldChange, ...]
    yaml_diff: str = ""
    note: str = ""

    @property
    def text(self) -> str:
        """The changed paths, one a line, then the note (if any)."""
        lines = [changes_text(self.changes)]
        if self.note:
            lines.append(self.note)
        return "\n".join(lines)

    @classmethod
    def of_objects(cls, before: Any, after: Any, note: str = "") -> Preview:
        return cls(before, after, tuple(object_changes(before, after)), yaml_diff(before, after), note)


@dataclass(frozen=True)
class Progress:
    """One step of a change that takes time (a rollout): what is happening, and whether it is over."""

    message: str
    done: bool = False
    failed: bool = False


class ProgressFollower(Protocol):
    """Follows a change until it is done, fails or ``timeout_s`` passes; ``stop`` ends it early."""

    def __call__(
        self, *, stop: threading.Event | None = None, timeout_s: float = 600.0, poll_s: float = 1.0
    ) -> Iterator[Progress]: ...


@dataclass(frozen=True)
class Outcome:
    """The real call's result. ``sent`` is False when there was nothing to do (a skipped rollback)."""

    message: str
    reply: Any = None
    sent: bool = True
    follow: ProgressFollower | None = None


class Action(ABC):
    """A remediation action, planned against what the cluster holds now."""

    verb: ClassVar[str]
    destructive: ClassVar[bool] = False

    @property
    @abstractmethod
    def target(self) -> Target:
        """The object the action changes."""

    @abstractmethod
    def summary(self) -> str:
        """One line: what the action will do, with the values chosen."""

    @abstractmethod
    def parameters(self) -> tuple[Parameter, ...]:
        """What the operator may change, each with its current value."""

    @abstractmethod
    def with_values(self, values: Mapping[str, str]) -> Self:
        """A new plan with edited parameter values; refused values raise :class:`ParameterError`."""

    @abstractmethod
    def access_checks(self) -> tuple[AccessCheck, ...]:
        """The permissions the real call needs."""

    def blocked_reason(self) -> str | None:
        """Why the action cannot be done at all (a paused deployment), known from the plan; None when it can."""
        return None

    @abstractmethod
    def request(self) -> Request:
        """The exact mutating request of the real call."""

    def dry_run_request(self) -> Request:
        """The request :meth:`preview` sends: the real one as a server-side dry run, for an API request."""
        request = self.request()
        return request.dry_run() if request.path.startswith("/") else request

    @abstractmethod
    def preview(self) -> Preview:
        """The dry run and its diff; nothing changes in the cluster."""

    @abstractmethod
    def execute(self) -> Outcome:
        """The real call."""

    def journal_parameters(self) -> dict[str, str]:
        """The parameters as the journal records them."""
        return {parameter.name: parameter.value for parameter in self.parameters()}


@dataclass(frozen=True)
class KubeAction(Action):
    """An action that is one request to the API server: read the object, dry-run the request, diff, send."""

    client: KubeClient = field(repr=False, compare=False)

    @property
    @abstractmethod
    def object_path(self) -> str:
        """Where the object the request changes is read from (for the diff's "before")."""

    def check_current(self, current: Any) -> None:
        """Refuse (raise :class:`ActionError`) when the object as read now makes the action wrong."""

    def make_preview(self, before: Any, after: Any) -> Preview:
        """The diff of the object before and the dry-run reply."""
        return Preview.of_objects(before, after)

    @abstractmethod
    def done_message(self, reply: Any) -> str:
        """The line kubectl prints for the real call's success (``deployment.apps/x scaled``)."""

    def follower(self) -> ProgressFollower | None:
        """Follows what the real call started (a rollout), if anything."""
        return None

    def preview(self) -> Preview:
        blocked = self.blocked_reason()
        if blocked:
            raise ActionError(blocked)
        before = self.client.get_json(self.object_path)
        self.check_current(before)
        after = self.request().dry_run().send(self.client)
        return self.make_preview(before, after)

    def execute(self) -> Outcome:
        blocked = self.blocked_reason()
        if blocked:
            raise ActionError(blocked)
        reply = self.request().send(self.client)
        return Outcome(self.done_message(reply), reply, follow=self.follower())


_REQUEST_PREFIX = re.compile(r"^[A-Z]+ \S+: (?:HTTP \d+: )?")


def explain_kube_error(exc: KubeError) -> str:
    """One line for the operator: the API server's own message, then the HTTP status."""
    detail = _REQUEST_PREFIX.sub("", exc.message, count=1) or exc.reason
    if exc.status == 0:
        return one_line(detail)
    return one_line(f"{detail} (HTTP {exc.status})")


def parse_count(label: str, text: str) -> int:
    """A whole number of 0 or more (replicas)."""
    cleaned = text.strip()
    if not re.fullmatch(r"\+?\d+", cleaned):
        raise ParameterError(f"{label}: {one_line(text, 40)!r} is not a whole number of 0 or more")
    return int(cleaned)


def parse_quantity_value(label: str, text: str) -> Quantity:
    """A Kubernetes quantity of 0 or more (``512Mi``, ``2Gi``, ``500m``), with a hint for common slips."""
    cleaned = text.strip()
    shown = one_line(text, 40)
    if not cleaned:
        raise ParameterError(f"{label}: a value is needed (examples: 512Mi, 2Gi, 500m)")
    if re.search(r"\s", cleaned):
        raise ParameterError(
            f"{label}: {shown!r} is not a quantity: no space between the number and its unit (e.g. 2Gi)"
        )
    try:
        quantity = parse_quantity(cleaned)
    except QuantityError:
        raise ParameterError(f"{label}: {shown!r} is not a quantity (examples: 512Mi, 2Gi, 1.5, 500m)") from None
    if quantity.value < 0:
        raise ParameterError(f"{label}: {shown!r} is negative; it must be 0 or more")
    return quantity
