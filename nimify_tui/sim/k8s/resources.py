"""The resource types the simulated API server serves, and the discovery documents that describe them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
SERVER_VERSION = {
    "major": "1",
    "minor": "32",
    "gitVersion": "v1.32.4",
    "gitCommit": "59526cd4867447956156ae3a602fcbac10a2c335",
    "gitTreeState": "clean",
    "buildDate": "2025-04-22T16:02:27Z",
    "goVersion": "go1.23.6",
    "compiler": "gc",
    "platform": "linux/amd64",
}


@dataclass(frozen=True)
class Subresource:
    name: str
    kind: str
    verbs: tuple[str, ...]
    group: str | None = None  # set when the subresource's kind lives in another group (Scale)
    version: str | None = None


@dataclass(frozen=True)
class ResourceType:
    """One served resource: how it is named in URLs, in objects, and in discovery."""

    plural: str
    singular: str
    kind: str
    group: str
    version: str
    namespaced: bool
    verbs: tuple[str, ...] = ALL_VERBS
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    subresources: tuple[Subresource, ...] = ()
    # field selectors the real server accepts beyond metadata.name / metadata.namespace
    field_labels: tuple[str, ...] = ()
    has_status: bool = False
    stored: bool = True  # False for computed (metrics) and create-only review resources

    @property
    def key(self) -> str:
        """Store key: the plural, qualified by the group outside core ("deployments.apps")."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def group_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def list_kind(self) -> str:
        return f"{self.kind}List"

    def subresource(self, name: str) -> Subresource | None:
        return next((sub for sub in self.subresources if sub.name == name), None)


def _status(kind: str) -> Subresource:
    return Subresource("status", kind, ("get", "patch", "update"))


_SCALE_VERBS = ("get", "patch", "update")
_POD_FIELDS = (
    "spec.nodeName",
    "spec.restartPolicy",
    "spec.schedulerName",
    "spec.serviceAccountName",
    "spec.hostNetwork",
    "status.phase",
    "status.podIP",
    "status.nominatedNodeName",
)
_EVENT_FIELDS = (
    "involvedObject.kind",
    "involvedObject.namespace",
    "involvedObject.name",
    "involvedObject.uid",
    "involvedObject.apiVersion",
    "involvedObject.resourceVersion",
    "involvedObject.fieldPath",
    "reason",
    "reportingComponent",
    "source",
    "type",
)

RESOURCES: tuple[ResourceType, ...] = (
    ResourceType(
        "pods",
        "pod",
        "Pod",
        "",
        "v1",
        True,
        short_names=("po",),
        categories=("all",),
        subresources=(
            Subresource("exec", "PodExecOptions", ("create", "get")),
            Subresource("log", "Pod", ("get",)),
            Subresource("status", "Pod", ("get", "patch", "update")),
            Subresource("proxy", "PodProxyOptions", ("create", "delete", "get", "patch", "update")),
        ),
        field_labels=_POD_FIELDS,
        has_status=True,
    ),
    ResourceType("events", "event", "Event", "", "v1", True, short_names=("ev",), field_labels=_EVENT_FIELDS),
    ResourceType(
        "nodes",
        "node",
        "Node",
        "",
        "v1",
        False,
        short_names=("no",),
        subresources=(
            _status("Node"),
            Subresource("proxy", "NodeProxyOptions", ("create", "delete", "get", "patch", "update")),
        ),
        field_labels=("spec.unschedulable",),
        has_status=True,
    ),
    ResourceType(
        "services",
        "service",
        "Service",
        "",
        "v1",
        True,
        short_names=("svc",),
        categories=("all",),
        subresources=(
            _status("Service"),
            Subresource("proxy", "ServiceProxyOptions", ("create", "delete", "get", "patch", "update")),
        ),
        has_status=True,
    ),
    ResourceType("endpoints", "endpoints", "Endpoints", "", "v1", True, short_names=("ep",)),
    ResourceType("configmaps", "configmap", "ConfigMap", "", "v1", True, short_names=("cm",)),
    ResourceType("secrets", "secret", "Secret", "", "v1", True, field_labels=("type",)),
    ResourceType(
        "persistentvolumeclaims",
        "persistentvolumeclaim",
        "PersistentVolumeClaim",
        "",
        "v1",
        True,
        short_names=("pvc",),
        subresources=(_status("PersistentVolumeClaim"),),
        has_status=True,
    ),
    ResourceType(
        "persistentvolumes",
        "persistentvolume",
        "PersistentVolume",
        "",
        "v1",
        False,
        short_names=("pv",),
        subresources=(_status("PersistentVolume"),),
        has_status=True,
    ),
    ResourceType(
        "namespaces",
        "namespace",
        "Namespace",
        "",
        "v1",
        False,
        verbs=("create", "delete", "get", "list", "patch", "update", "watch"),
        short_names=("ns",),
        subresources=(_status("Namespace"),),
        field_labels=("status.phase",),
        has_status=True,
    ),
    ResourceType(
        "resourcequotas",
        "resourcequota",
        "ResourceQuota",
        "",
        "v1",
        True,
        short_names=("quota",),
        subresources=(_status("ResourceQuota"),),
        has_status=True,
    ),
    ResourceType(
        "deployments",
        "deployment",
        "Deployment",
        "apps",
        "v1",
        True,
        short_names=("deploy",),
        categories=("all",),
        subresources=(
            Subresource("scale", "Scale", _SCALE_VERBS, "autoscaling", "v1"),
            _status("Deployment"),
        ),
        has_status=True,
    ),
    ResourceType(
        "replicasets",
        "replicaset",
        "ReplicaSet",
        "apps",
        "v1",
        True,
        short_names=("rs",),
        categories=("all",),
        subresources=(
            Subresource("scale", "Scale", _SCALE_VERBS, "autoscaling", "v1"),
            _status("ReplicaSet"),
        ),
        field_labels=("status.replicas",),
        has_status=True,
    ),
    ResourceType(
        "daemonsets",
        "daemonset",
        "DaemonSet",
        "apps",
        "v1",
        True,
        short_names=("ds",),
        categories=("all",),
        subresources=(_status("DaemonSet"),),
        has_status=True,
    ),
    ResourceType(
        "ingresses",
        "ingress",
        "Ingress",
        "networking.k8s.io",
        "v1",
        True,
        short_names=("ing",),
        subresources=(_status("Ingress"),),
        has_status=True,
    ),
    ResourceType(
        "ingressclasses",
        "ingressclass",
        "IngressClass",
        "networking.k8s.io",
        "v1",
        False,
    ),
    ResourceType(
        "networkpolicies",
        "networkpolicy",
        "NetworkPolicy",
        "networking.k8s.io",
        "v1",
        True,
        short_names=("netpol",),
    ),
    ResourceType(
        "endpointslices",
        "endpointslice",
        "EndpointSlice",
        "discovery.k8s.io",
        "v1",
        True,
    ),
    ResourceType(
        "poddisruptionbudgets",
        "poddisruptionbudget",
        "PodDisruptionBudget",
        "policy",
        "v1",
        True,
        short_names=("pdb",),
        subresources=(_status("PodDisruptionBudget"),),
        has_status=True,
    ),
    ResourceType(
        "leases",
        "lease",
        "Lease",
        "coordination.k8s.io",
        "v1",
        True,
    ),
    ResourceType(
        "storageclasses",
        "storageclass",
        "StorageClass",
        "storage.k8s.io",
        "v1",
        False,
        short_names=("sc",),
    ),
    ResourceType(
        "pods",
        "",
        "PodMetrics",
        "metrics.k8s.io",
        "v1beta1",
        True,
        verbs=("get", "list"),
        stored=False,
    ),
    ResourceType(
        "nodes",
        "",
        "NodeMetrics",
        "metrics.k8s.io",
        "v1beta1",
        False,
        verbs=("get", "list"),
        stored=False,
    ),
    ResourceType(
        "selfsubjectaccessreviews",
        "",
        "SelfSubjectAccessReview",
        "authorization.k8s.io",
        "v1",
        False,
        verbs=("create",),
        stored=False,
    ),
    ResourceType(
        "selfsubjectrulesreviews",
        "",
        "SelfSubjectRulesReview",
        "authorization.k8s.io",
        "v1",
        False,
        verbs=("create",),
        stored=False,
    ),
)

_BY_URL: dict[tuple[str, str], ResourceType] = {(res.group_version, res.plural): res for res in RESOURCES}


def find_resource(group_version: str, plural: str) -> ResourceType | None:
    return _BY_URL.get((group_version, plural))


def group_versions() -> dict[str, list[str]]:
    """Served versions per group ("" is the core group), in registration order."""
    groups: dict[str, list[str]] = {}
    for res in RESOURCES:
        versions = groups.setdefault(res.group, [])
        if res.version not in versions:
            versions.append(res.version)
    return groups


def api_versions(server_address: str) -> dict[str, Any]:
    """``GET /api``."""
    return {
        "kind": "APIVersions",
        "versions": group_versions()[""],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
    }


def api_group(name: str) -> dict[str, Any] | None:
    """``GET /apis/<group>``, or None for a group that is not served."""
    versions = group_versions().get(name)
    if not name or versions is None:
        return None
    listed = [{"groupVersion": f"{name}/{version}", "version": version} for version in versions]
    return {
        "kind": "APIGroup",
        "apiVersion": "v1",
        "name": name,
        "versions": listed,
        "preferredVersion": listed[0],
    }


def api_group_list() -> dict[str, Any]:
    """``GET /apis``."""
    groups = [api_group(name) for name in group_versions() if name]
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def _openapi_path(group_version: str) -> str:
    return f"api/{group_version}" if "/" not in group_version else f"apis/{group_version}"


def openapi_v3_index() -> dict[str, Any]:
    """``GET /openapi/v3``: where each group-version's document is."""
    served = {res.group_version for res in RESOURCES if res.stored}
    paths = {
        _openapi_path(gv): {"serverRelativeURL": f"/openapi/v3/{_openapi_path(gv)}?hash={SERVER_VERSION['gitCommit']}"}
        for gv in sorted(served)
    }
    return {"paths": paths}


def openapi_v3_document(path: str) -> dict[str, Any] | None:
    """``GET /openapi/v3/<api/v1 | apis/group/version>``, reduced to what kubectl reads: each resource's PATCH
    operation with its group-version-kind and the ``fieldValidation`` parameter, which tells kubectl that
    this server validates fields itself."""
    served = [res for res in RESOURCES if res.stored and _openapi_path(res.group_version) == path]
    if not served:
        return None
    paths = {}
    for res in served:
        scope = "/namespaces/{namespace}" if res.namespaced else ""
        patch = {
            "operationId": f"patch{res.kind}",
            "parameters": [{"name": "fieldValidation", "in": "query", "schema": {"type": "string"}}],
            "responses": {"200": {"description": "OK"}},
            "x-kubernetes-action": "patch",
            "x-kubernetes-group-version-kind": {"group": res.group, "version": res.version, "kind": res.kind},
        }
        paths[f"/{path}{scope}/{res.plural}/{{name}}"] = {"patch": patch}
    return {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": SERVER_VERSION["gitVersion"]},
        "paths": paths,
        "components": {},
    }


def api_resource_list(group_version: str) -> dict[str, Any] | None:
    """``GET /api/v1`` or ``GET /apis/<group>/<version>``, or None when not served."""
    served = [res for res in RESOURCES if res.group_version == group_version]
    if not served:
        return None
    resources: list[dict[str, Any]] = []
    for res in served:
        entry: dict[str, Any] = {
            "name": res.plural,
            "singularName": res.singular or res.kind.lower(),
            "namespaced": res.namespaced,
            "kind": res.kind,
            "verbs": list(res.verbs),
        }
        if res.short_names:
            entry["shortNames"] = list(res.short_names)
        if res.categories:
            entry["categories"] = list(res.categories)
        resources.append(entry)
        for sub in res.subresources:
            sub_entry: dict[str, Any] = {
                "name": f"{res.plural}/{sub.name}",
                "singularName": "",
                "namespaced": res.namespaced,
                "kind": sub.kind,
                "verbs": list(sub.verbs),
            }
            if sub.group is not None:
                sub_entry["group"] = sub.group
                sub_entry["version"] = sub.version
            resources.append(sub_entry)
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": group_version,
        "resources": resources,
    }
