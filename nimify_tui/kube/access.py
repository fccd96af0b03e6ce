"""Permission checks: may this user do that? Asked of the API server with a SelfSubjectAccessReview.

Answers are cached for a short while per (verb, group, resource, subresource, namespace, name), so that a
menu of actions can be offered without a burst of requests. A read-only session is refused every action
without asking anything.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from nimify_tui.kube.client import KubeClient
from nimify_tui.kube.errors import KubeError
from nimify_tui.text import one_line

SELF_SUBJECT_ACCESS_REVIEWS = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"
READ_ONLY_REASON = "read-only session"


@dataclass(frozen=True)
class AccessCheck:
    """One question for the API server, as ``kubectl auth can-i VERB RESOURCE[/SUBRESOURCE] [NAME] -n NS`` asks."""

    verb: str
    group: str
    resource: str
    subresource: str = ""
    namespace: str = ""
    name: str = ""

    def __str__(self) -> str:
        resource = f"{self.resource}.{self.group}" if self.group else self.resource
        if self.subresource:
            resource += f"/{self.subresource}"
        text = f"{self.verb} {resource}"
        if self.name:
            text += f" {self.name}"
        if self.namespace:
            text += f" in {self.namespace}"
        return text

    def review(self) -> dict[str, Any]:
        """The SelfSubjectAccessReview that asks this question."""
        attributes = {
            "namespace": self.namespace,
            "verb": self.verb,
            "group": self.group,
            "resource": self.resource,
            "subresource": self.subresource,
            "name": self.name,
        }
        return {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SelfSubjectAccessReview",
            "spec": {"resourceAttributes": {key: value for key, value in attributes.items() if value}},
        }


@dataclass(frozen=True)
class Permission:
    """The answer: allowed or not, and why not (the API server's reason when it gave one)."""

    allowed: bool
    reason: str


class AccessReviewer:
    """Asks and caches SelfSubjectAccessReviews for one client. Thread-safe."""

    def __init__(
        self,
        client: KubeClient,
        *,
        ttl_s: float = 30.0,
        readonly: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._ttl_s = ttl_s
        self._readonly = readonly
        self._clock = clock
        self._cache: dict[AccessCheck, tuple[float, Permission]] = {}
        self._lock = threading.Lock()

    @property
    def readonly(self) -> bool:
        return self._readonly or self._client.readonly

    def check(self, question: AccessCheck) -> Permission:
        """The answer to one question; a failure to ask is a refusal that says why."""
        if self.readonly:
            return Permission(False, READ_ONLY_REASON)
        now = self._clock()
        with self._lock:
            cached = self._cache.get(question)
        if cached is not None and now - cached[0] < self._ttl_s:
            return cached[1]
        permission = ask(self._client, question)
        with self._lock:
            self._cache[question] = (now, permission)
        return permission

    def check_all(self, questions: Iterable[AccessCheck]) -> Permission:
        """Allowed when every question is; otherwise the first refusal."""
        answered: list[str] = []
        for question in questions:
            permission = self.check(question)
            if not permission.allowed:
                return permission
            answered.append(str(question))
        if self.readonly:
            return Permission(False, READ_ONLY_REASON)
        return Permission(True, "allowed: " + "; ".join(answered) if answered else "no permission needed")


def ask(client: KubeClient, question: AccessCheck) -> Permission:
    """The API server's answer to one question, whether or not this session may act on it (a review changes
    nothing); a failure to ask is a refusal that says why."""
    try:
        reply = client.send_json("POST", SELF_SUBJECT_ACCESS_REVIEWS, question.review())
    except KubeError as exc:
        return Permission(False, f"cannot check whether {question} is allowed: {one_line(exc.message)}")
    return _permission(question, reply)


def _permission(question: AccessCheck, reply: Any) -> Permission:
    status = reply.get("status") if isinstance(reply, dict) else None
    if not isinstance(status, dict):
        return Permission(False, f"cannot check whether {question} is allowed: the reply has no status")
    if status.get("allowed") is True:
        return Permission(True, f"allowed: {question}")
    reason = one_line(str(status.get("reason") or "").strip())
    error = one_line(str(status.get("evaluationError") or "").strip())
    detail = reason or error or "no RBAC rule allows it"
    return Permission(False, f"not allowed: {question}: {detail}")
