"""The texts of the ``:svc :ep :ing :pvc :pv :netpol`` and ``:config`` views: kubectl's table and a describe-like
detail of each object, from the store; volumes (not watched) and nimify-config are read with one GET when shown."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from nimify_tui.kube.client import KubeClient
from nimify_tui.kube.errors import KubeError
from nimify_tui.live.keys import ENDPOINTS, INGRESSES, NETWORK_POLICIES, PODS, PVC_USAGE, PVCS, SERVICES
from nimify_tui.live.runtime import Runtime
from nimify_tui.live.store import Store
from nimify_tui.render import resources
from nimify_tui.triage.checks import api_pods
from nimify_tui.ui.screens.detail import Loader

T = TypeVar("T")
VOLUMES_PATH = "/api/v1/persistentvolumes"
CONFIG_MAP = "nimify-config"


Render = Callable[[Store, float, str | None, str], str]  # (store, now, namespace shown, main namespace)


@dataclass(frozen=True)
class ResourceKind:
    """A kind of object a jump word shows: its title, the kubectl command its table repeats, the informers' name
    of its kind, and its two texts from the store (the table; the describe-like detail)."""

    title: str
    command: str
    watched_as: str
    table: Render
    describe: Render


WATCHED_KINDS: Mapping[str, ResourceKind] = {
    "services": ResourceKind(
        "Services",
        "kubectl get svc -o wide",
        SERVICES.name,
        lambda store, now, namespace, _: resources.services_table(store.items(SERVICES), now, namespace),
        lambda store, now, namespace, _: resources.describe_services(
            store.items(SERVICES), store.items(ENDPOINTS), store.items(PODS), namespace
        ),
    ),
    "endpoints": ResourceKind(
        "Endpoints",
        "kubectl get endpoints",
        ENDPOINTS.name,
        lambda store, now, namespace, _: resources.endpoints_table(store.items(ENDPOINTS), now, namespace),
        lambda store, now, namespace, _: resources.describe_endpoints(store.items(ENDPOINTS), namespace),
    ),
    "ingresses": ResourceKind(
        "Ingresses",
        "kubectl get ingress",
        INGRESSES.name,
        lambda store, now, namespace, _: resources.ingresses_table(store.items(INGRESSES), now, namespace),
        lambda store, now, namespace, _: resources.describe_ingresses(
            store.items(INGRESSES), store.items(SERVICES), store.items(ENDPOINTS), namespace
        ),
    ),
    "pvcs": ResourceKind(
        "PersistentVolumeClaims",
        "kubectl get pvc",
        PVCS.name,
        lambda store, now, namespace, _: resources.pvcs_table(store.items(PVCS), now, namespace),
        lambda store, now, namespace, _: resources.describe_pvcs(
            store.items(PVCS), store.value(PVC_USAGE) or {}, now, namespace
        ),
    ),
    "networkpolicies": ResourceKind(
        "NetworkPolicies",
        "kubectl get networkpolicy",
        NETWORK_POLICIES.name,
        lambda store, now, namespace, _: resources.network_policies_table(
            store.items(NETWORK_POLICIES), now, namespace
        ),
        lambda store, now, namespace, main: resources.describe_network_policies(
            store.items(NETWORK_POLICIES), api_pods(store, main), namespace
        ),
    ),
}
VOLUMES = "pvs"  # the kind read on demand: volumes are cluster-wide and not watched


class SharedRead(Generic[T]):
    """One request whose answer the tabs of a screen share: the first tab to ask sends it, the others (in their own
    worker threads) wait for that answer; after :meth:`forget` the next ask sends it again."""

    def __init__(self, read: Callable[[], T]) -> None:
        self._read = read
        self._lock = threading.Lock()
        self._answer: tuple[T] | None = None
        self._error: KubeError | None = None

    def get(self) -> T:
        with self._lock:
            if self._answer is None and self._error is None:
                try:
                    self._answer = (self._read(),)
                except KubeError as exc:
                    self._error = exc
            if self._error is not None:
                raise self._error
            assert self._answer is not None
            return self._answer[0]

    def forget(self) -> None:
        with self._lock:
            self._answer, self._error = None, None


def resource_title(kind: str, namespace: str | None) -> str:
    if kind == VOLUMES:
        return "PersistentVolumes (cluster-wide)  ·  kubectl get pv"
    about = WATCHED_KINDS[kind]
    where = f"-n {namespace}" if namespace else "-A"
    return f"{about.title} in {namespace or 'all watched namespaces'}  ·  {about.command} {where}"


def resource_tabs(
    runtime: Runtime, kind: str, namespace: str | None, main_namespace: str
) -> tuple[dict[str, tuple[str, Loader]], list[SharedRead[Any]]]:
    """The two tabs of a kind's view (kubectl's table; the describe-like detail) in ``namespace`` (None: every
    watched namespace), and the shared reads a reload must forget."""
    if kind == VOLUMES:
        return volume_tabs(runtime.client)
    watched = runtime.options.namespaces
    if namespace is not None and namespace not in watched:
        note = (
            f"{namespace} is not a watched namespace (watched: {', '.join(watched)}): its objects are not known here."
        )
        return {"table": ("Table", lambda: note), "describe": ("Describe", lambda: note)}, []
    about = WATCHED_KINDS[kind]

    def shown(render: Render) -> Loader:
        def load() -> str:
            text = render(runtime.store, time.time(), namespace, main_namespace)
            return text + freshness_note(runtime.store, about.watched_as, namespace)

        return load

    return {"table": ("Table", shown(about.table)), "describe": ("Describe", shown(about.describe))}, []


def freshness_note(store: Store, source: str, namespace: str | None) -> str:
    """Below the text, what is not live about it: a watch still loading, or stale and why; "" when all is live."""
    notes = []
    for name, health in sorted(store.health().items()):
        kind, _, where = name.partition("/")
        if kind != source or (namespace is not None and where != namespace) or health.state == "live":
            continue
        why = "still loading" if health.state == "syncing" else f"{health.state}: {health.error or 'no answer'}"
        notes.append(f"-- {name}: {why}")
    return "\n\n" + "\n".join(notes) if notes else ""


def volume_tabs(client: KubeClient) -> tuple[dict[str, tuple[str, Loader]], list[SharedRead[Any]]]:
    read: SharedRead[list[dict[str, Any]]] = SharedRead(lambda: client.get_json(VOLUMES_PATH).get("items") or [])

    def shown(render: Callable[[Sequence[dict[str, Any]], float], str]) -> Loader:
        def load() -> str:
            try:
                volumes = read.get()
            except KubeError as exc:
                if exc.status != 403:
                    raise
                return volumes_forbidden(exc)
            return render(volumes, time.time())

        return load

    tabs = {"table": ("Table", shown(resources.pvs_table)), "describe": ("Describe", shown(resources.describe_pvs))}
    return tabs, [read]


def volumes_forbidden(exc: KubeError) -> str:
    return (
        "These credentials may not list PersistentVolumes: they are cluster-wide objects, and roles bound to a "
        "namespace (view, edit) do not cover them.\n"
        "Each claim's volume, capacity and use are in :pvc.\n\n"
        f"The API server said: {exc.message}"
    )


def config_map_text(client: KubeClient, namespace: str, readonly: bool) -> str:
    """nimify-config's data as YAML, from one GET, with how to edit it; a missing or forbidden ConfigMap said so."""
    path = f"/api/v1/namespaces/{namespace}/configmaps/{CONFIG_MAP}"
    try:
        config_map = client.get_json(path)
    except KubeError as exc:
        if exc.status == 404:
            return (
                f"ConfigMap {CONFIG_MAP} does not exist in namespace {namespace}.\n\nThe API server said: {exc.message}"
            )
        if exc.status == 403:
            return (
                f"These credentials may not read ConfigMap {CONFIG_MAP} in namespace {namespace} (get configmaps)."
                f"\n\nThe API server said: {exc.message}"
            )
        raise
    how = (
        "# read-only session: it cannot be edited from here"
        if readonly
        else "# e edits it (guarded: the change is shown as a dry run's diff and applied only once confirmed)"
    )
    version = (config_map.get("metadata") or {}).get("resourceVersion") or "?"
    return f"# ConfigMap {namespace}/{CONFIG_MAP} (resourceVersion {version}), read just now\n{how}\n\n" + (
        resources.config_map_data_yaml(config_map)
    )
