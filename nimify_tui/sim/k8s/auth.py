"""Who may do what on the simulated API server: two users, bound like cluster-admin and view."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

ADMIN_USER = "sim-admin"
READONLY_USER = "sim-readonly"
READ_VERBS = frozenset({"get", "list", "watch"})
REVIEW_RESOURCES = frozenset({"selfsubjectaccessreviews", "selfsubjectrulesreviews"})

Obj = dict[str, Any]


@dataclass(frozen=True)
class Request:
    """An API request as the authorizer sees it."""

    verb: str
    group: str
    resource: str
    subresource: str = ""
    namespace: str = ""
    name: str = ""


def allowed(user: str, request: Request) -> bool:
    if user == ADMIN_USER:
        return True
    if user != READONLY_USER:
        return False
    if request.verb in READ_VERBS:
        return True
    return request.verb == "create" and request.group == "authorization.k8s.io" and request.resource in REVIEW_RESOURCES


def _reason(user: str) -> str:
    role = "cluster-admin" if user == ADMIN_USER else "view"
    return f'RBAC: allowed by ClusterRoleBinding "{user}" of ClusterRole "{role}" to User "{user}"'


def forbidden_message(user: str, request: Request) -> str:
    """``pods "x" is forbidden: User "sim-readonly" cannot delete resource "pods" in API group "" in the
    namespace "nimify-system"``, as RBAC words it."""
    qualified = f"{request.resource}.{request.group}" if request.group else request.resource
    subject = f'{qualified} "{request.name}"' if request.name else qualified
    resource = f"{request.resource}/{request.subresource}" if request.subresource else request.resource
    where = f'in the namespace "{request.namespace}"' if request.namespace else "at the cluster scope"
    return (
        f'{subject} is forbidden: User "{user}" cannot {request.verb} resource "{resource}" '
        f'in API group "{request.group}" {where}'
    )


def access_review(user: str, body: Obj) -> Obj:
    """The answer to a SelfSubjectAccessReview."""
    spec = body.get("spec") or {}
    attributes = spec.get("resourceAttributes")
    if attributes is not None:
        request = Request(
            verb=attributes.get("verb", ""),
            group=attributes.get("group", ""),
            resource=attributes.get("resource", ""),
            subresource=attributes.get("subresource", ""),
            namespace=attributes.get("namespace", ""),
            name=attributes.get("name", ""),
        )
        yes = allowed(user, request)
    else:
        verb = (spec.get("nonResourceAttributes") or {}).get("verb", "get")
        yes = user == ADMIN_USER or verb == "get"
    status: Obj = {"allowed": yes}
    if yes:
        status["reason"] = _reason(user)
    return {
        "kind": "SelfSubjectAccessReview",
        "apiVersion": "authorization.k8s.io/v1",
        "metadata": {"creationTimestamp": None},
        "spec": spec,
        "status": status,
    }


def rules_review(user: str, body: Obj) -> Obj:
    """The answer to a SelfSubjectRulesReview (what ``kubectl auth can-i --list`` shows)."""
    if user == ADMIN_USER:
        resource_rules = [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}]
        non_resource = [{"verbs": ["*"], "nonResourceURLs": ["*"]}]
    else:
        resource_rules = [
            {"verbs": ["create"], "apiGroups": ["authorization.k8s.io"], "resources": sorted(REVIEW_RESOURCES)},
            {"verbs": sorted(READ_VERBS), "apiGroups": ["*"], "resources": ["*"]},
        ]
        non_resource = [{"verbs": ["get"], "nonResourceURLs": ["/api", "/api/*", "/apis", "/apis/*", "/version"]}]
    return {
        "kind": "SelfSubjectRulesReview",
        "apiVersion": "authorization.k8s.io/v1",
        "metadata": {"creationTimestamp": None},
        "spec": body.get("spec") or {},
        "status": {"resourceRules": resource_rules, "nonResourceRules": non_resource, "incomplete": False},
    }
