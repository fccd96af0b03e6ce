"""Drill-down: from a row to its pod, logs, deployment, node or model, and the `:` resource jump."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

from textual.app import App

from nimify_tui.kube.allocation import NodeAllocation, node_allocation, read_node_pods
from nimify_tui.kube.errors import KubeError
from nimify_tui.kube.records import DeploymentRecord, EventRecord, NodeRecord, PodRecord, ReplicaSetRecord
from nimify_tui.live.keys import DEPLOYMENTS, EVENTS, GPUS, PODS, REPLICASETS
from nimify_tui.render.describe import (
    describe_deployment,
    describe_node,
    describe_pod,
    object_yaml,
    rollout_history_lines,
)
from nimify_tui.render.kubectl import pod_row

if TYPE_CHECKING:
    from nimify_tui.config import ContextPolicy, Settings
    from nimify_tui.live.runtime import Runtime

JUMPS = {
    "po": 0, "pod": 0, "pods": 0,
    "ev": 1, "event": 1, "events": 1,
    "no": 2, "node": 2, "nodes": 2, "gpu": 2, "gpus": 2,
    "mo": 3, "model": 3, "models": 3, "triton": 3,
    "lat": 4, "latency": 4,
}  # fmt: skip
# the words of the kinds shown in their own view (kubectl's table and a describe of each), by that view's kind
RESOURCE_JUMPS = {
    "svc": "services", "service": "services", "services": "services",
    "ep": "endpoints", "endpoint": "endpoints", "endpoints": "endpoints",
    "ing": "ingresses", "ingress": "ingresses", "ingresses": "ingresses",
    "pvc": "pvcs", "pvcs": "pvcs", "persistentvolumeclaims": "pvcs",
    "pv": "pvs", "pvs": "pvs", "persistentvolumes": "pvs",
    "netpol": "networkpolicies", "networkpolicy": "networkpolicies", "networkpolicies": "networkpolicies",
}  # fmt: skip
JUMP_WORDS = (
    ":pods :events :nodes :models :deploy NAME :ns NAME :ctx NAME :svc :ep :ing :pvc :pv :netpol :config :alerts"
)


def events_for(runtime: Runtime, namespace: str, kind: str, name: str) -> list[EventRecord]:
    return [
        e
        for e in runtime.store.items(EVENTS)
        if e.object_kind == kind and e.object_name == name and (not namespace or e.object_namespace == namespace)
    ]


def owning_deployment(runtime: Runtime, pod: PodRecord) -> DeploymentRecord | None:
    """Pod -> its ReplicaSet -> the Deployment that controls it."""
    if pod.owner_kind != "ReplicaSet":
        return None
    rs: ReplicaSetRecord | None = runtime.store.get(REPLICASETS, (pod.namespace, pod.owner_name))
    if rs is None or rs.owner_kind != "Deployment":
        return None
    found: DeploymentRecord | None = runtime.store.get(DEPLOYMENTS, (pod.namespace, rs.owner_name))
    return found


def no_deployment_why(runtime: Runtime, pod: PodRecord) -> str:
    """Why ``owning_deployment`` found none: the pod has no deployment, or its ReplicaSet or its Deployment is not
    loaded yet."""
    if pod.owner_kind != "ReplicaSet":
        return f"{pod.name} is not run by a deployment ({pod.owner_kind or 'no owner'})"
    rs: ReplicaSetRecord | None = runtime.store.get(REPLICASETS, (pod.namespace, pod.owner_name))
    if rs is None:
        return f"the ReplicaSet {pod.owner_name} is not loaded yet: try again in a moment"
    if rs.owner_kind != "Deployment":
        return f"{pod.name} is not run by a deployment (its ReplicaSet {rs.name} has {rs.owner_kind or 'no owner'})"
    return f"the Deployment {rs.owner_name} is not loaded yet: try again in a moment"


def allocation_of(runtime: Runtime, node: dict[str, Any]) -> tuple[NodeAllocation, str]:
    """The node's allocated resources from all its pods, listed as kubectl lists them; where that list is refused,
    from the watched namespaces' pods, with a note that says so."""
    record = NodeRecord.from_raw(node)
    try:
        return node_allocation(record, read_node_pods(runtime.client, record.name)), ""
    except KubeError as exc:
        return node_allocation(record, runtime.store.items(PODS)), f"pods of the watched namespaces only: {exc}"


class Navigation(App[int]):
    """The App's drill-down half: every method pushes a screen fed from the runtime."""

    runtime: Runtime
    settings: Settings
    policy: ContextPolicy
    namespace_shown: str

    def action_help(self) -> None:
        """``?`` and ``:help``."""
        from nimify_tui.ui.screens.help import HelpScreen

        # made once and kept: building its widgets and styling them was half of the time `?` took (about 65 of
        # 135 ms at 160x45); its keys do not change during a session
        if not self.is_screen_installed("help"):
            self.install_screen(HelpScreen(), "help")
        self.push_screen("help")

    # --- pods -----------------------------------------------------------------------------------------------
    def open_pod(self, namespace: str, name: str, tab: str = "describe") -> None:
        from nimify_tui.ui.screens.pod import PodScreen

        runtime = self.runtime
        path = f"/api/v1/namespaces/{namespace}/pods/{name}"

        def describe() -> str:
            pod = runtime.client.get_json(path)
            return describe_pod(pod, events_for(runtime, namespace, "Pod", name), time.time())

        def yaml_text() -> str:
            return object_yaml(runtime.client.get_json(path))

        tabs = {"describe": ("Describe", describe), "yaml": ("YAML", yaml_text)}
        self.push_screen(PodScreen(namespace, name, f"Pod {namespace}/{name}", tabs, tab))

    def pod_containers(self, namespace: str, name: str) -> tuple[list[str], str]:
        pod: PodRecord | None = self.runtime.store.get(PODS, (namespace, name))
        if pod is None:
            return [], ""
        names = [c.name for c in pod.init_containers] + [c.name for c in pod.containers]
        return names, pod.default_container or (pod.containers[0].name if pod.containers else "")

    def open_logs(self, namespace: str, name: str, *, previous: bool = False) -> None:
        from nimify_tui.ui.screens.logs import LogsScreen

        containers, default = self.pod_containers(namespace, name)
        if not default:
            self.notify(f"Pod {namespace}/{name} is gone.", severity="warning", markup=False)
            return
        self.push_screen(LogsScreen(namespace, name, containers, default, previous))

    # --- deployments ----------------------------------------------------------------------------------------
    def open_deployment(self, namespace: str, name: str, tab: str = "describe") -> None:
        from nimify_tui.ui.screens.deployment import DeploymentScreen

        runtime = self.runtime
        path = f"/apis/apps/v1/namespaces/{namespace}/deployments/{name}"

        def owned_replicasets() -> list[ReplicaSetRecord]:
            return [
                rs
                for rs in runtime.store.items(REPLICASETS)
                if rs.namespace == namespace and rs.owner_kind == "Deployment" and rs.owner_name == name
            ]

        def describe() -> str:
            deployment = runtime.client.get_json(path)
            events = events_for(runtime, namespace, "Deployment", name)
            return describe_deployment(deployment, owned_replicasets(), events, time.time())

        def history() -> str:
            return "\n".join(rollout_history_lines(owned_replicasets()))

        def pods() -> str:
            now = time.time()
            hashes = {rs.name for rs in owned_replicasets()}
            rows = [
                pod_row(p, now)
                for p in runtime.store.items(PODS)
                if p.namespace == namespace and p.owner_kind == "ReplicaSet" and p.owner_name in hashes
            ]
            lines = [f"{'NAME':<50} {'READY':<6} {'STATUS':<20} {'RESTARTS':<14} {'AGE':<8} NODE"]
            lines += [f"{r.name:<50} {r.ready:<6} {r.status:<20} {r.restarts:<14} {r.age:<8} {r.node}" for r in rows]
            return "\n".join(lines)

        tabs = {
            "describe": ("Describe", describe),
            "history": ("Rollout history", history),
            "pods": ("Pods", pods),
            "yaml": ("YAML", lambda: object_yaml(runtime.client.get_json(path))),
        }
        self.push_screen(DeploymentScreen(namespace, name, tabs, tab))

    # --- nodes ----------------------------------------------------------------------------------------------
    def open_node(self, name: str, tab: str = "describe") -> None:
        from nimify_tui.ui.screens.detail import DetailScreen

        runtime = self.runtime

        path = f"/api/v1/nodes/{name}"

        def describe() -> str:
            node = runtime.client.get_json(path)
            pods = sorted(f"{p.namespace}/{p.name}  {p.status}" for p in runtime.store.items(PODS) if p.node == name)
            allocation, note = allocation_of(runtime, node)
            return describe_node(node, pods, time.time(), allocation, note)

        def gpus() -> str:
            view = runtime.store.value(GPUS)
            if view is None:
                return "no GPU data yet"
            lines = [f"source: {view.summary}"]
            for entry in view.nodes:
                if entry.node != name:
                    continue
                lines.append(entry.note)
                for g in entry.gpus:
                    lines.append(f"GPU{g.index} {g.name} {g.uuid}")
                    lines.append(f"  util {g.util_pct}%  mem {g.mem_used_mib}/{g.mem_total_mib} MiB  temp {g.temp_c} C")
                    lines.append(f"  power {g.power_w}/{g.power_limit_w} W  last XID {g.last_xid or '-'}")
                    lines.append(f"  pod {g.namespace}/{g.pod} container {g.container}  (from {g.source})")
            return "\n".join(lines)

        tabs = {
            "describe": ("Describe", describe),
            "yaml": ("YAML", lambda: object_yaml(runtime.client.get_json(path))),
            "gpus": ("GPUs", gpus),
        }
        self.push_screen(DetailScreen(f"Node {name}", tabs, tab))

    # --- models ---------------------------------------------------------------------------------------------
    def open_model(self, model: str, tab: str = "stats") -> None:
        from nimify_tui.ui.screens.detail import DetailScreen
        from nimify_tui.ui.screens.model_text import model_config_text, model_stats_text

        runtime = self.runtime
        tabs = {
            "stats": ("Stats", lambda: model_stats_text(runtime, model)),
            "config": ("Config", lambda: model_config_text(runtime, model)),
        }
        self.push_screen(DetailScreen(f"Triton model {model}", tabs, tab))

    # --- from an event to its object ------------------------------------------------------------------------
    def open_event_object(self, event_key: str, tab: str | None = None, *, previous: bool = False) -> None:
        """enter (``tab`` None): the object's view (a ReplicaSet's: its deployment's); d, y, l (``tab`` "describe",
        "yaml", "logs"): that of the object itself, logs for a pod only."""
        namespace, _, name = event_key.partition("/")
        event: EventRecord | None = self.runtime.store.get(EVENTS, (namespace, name))
        if event is None:
            return
        ns, kind, name = event.object_namespace or namespace, event.object_kind, event.object_name
        if tab == "logs":
            if kind == "Pod":
                self.open_logs(ns, name, previous=previous)
            else:
                self.notify(f"{kind or 'This'} objects have no logs: l is for pods.", severity="warning", markup=False)
            return
        rs: ReplicaSetRecord | None = self.runtime.store.get(REPLICASETS, (ns, name)) if kind == "ReplicaSet" else None
        if kind == "Pod":
            self.open_pod(ns, name, tab or "describe")
        elif kind == "Deployment":
            self.open_deployment(ns, name, tab or "describe")
        elif kind == "Node":
            self.open_node(name, tab or "describe")
        elif tab is None and rs is not None and rs.owner_kind == "Deployment":
            self.open_deployment(ns, rs.owner_name)
        else:
            self.open_object(kind, ns, name, tab or "describe")

    def open_object(self, kind: str, namespace: str, name: str, tab: str = "describe") -> None:
        """Describe and YAML of an object of a kind with no view of its own (never a Secret)."""
        from nimify_tui.ui.screens.detail import DetailScreen
        from nimify_tui.ui.screens.object_text import describe_object, object_path

        path = object_path(kind, namespace, name)
        if path is None:
            self.notify(f"No view for {kind or 'this object'} yet.", markup=False)
            return
        runtime = self.runtime

        def describe() -> str:
            return describe_object(
                runtime.client.get_json(path), events_for(runtime, namespace, kind, name), time.time()
            )

        tabs = {
            "describe": ("Describe", describe),
            "yaml": ("YAML", lambda: object_yaml(runtime.client.get_json(path))),
        }
        where = f"{namespace}/{name}" if namespace else name
        self.push_screen(DetailScreen(f"{kind} {where}", tabs, tab))

    # --- services, endpoints, ingresses, claims, volumes, network policies; nimify-config ----------------------
    def open_resources(self, kind: str) -> None:
        """A kind's kubectl table and describe in the namespace shown (every watched one when "all")."""
        from nimify_tui.ui.screens.resource_text import resource_tabs, resource_title
        from nimify_tui.ui.screens.resources import ResourceScreen

        namespace = None if self.namespace_shown == "all" else self.namespace_shown
        tabs, shared = resource_tabs(self.runtime, kind, namespace, self.settings.namespace)
        self.push_screen(ResourceScreen(resource_title(kind, namespace), tabs, shared))

    def open_config(self) -> None:
        """nimify-config of the main namespace, read with one GET (so a read-only session shows it too)."""
        from nimify_tui.ui.screens.resource_text import config_map_text
        from nimify_tui.ui.screens.resources import ConfigMapScreen

        client, namespace = self.runtime.client, self.settings.namespace
        readonly = self.policy.readonly or client.readonly
        tabs = {"data": ("Data", lambda: config_map_text(client, namespace, readonly))}
        self.push_screen(ConfigMapScreen(namespace, tabs))

    def open_alerts(self) -> None:
        """The runbook's alert rules: each one's state and since when, and the rules file."""
        from nimify_tui.live.keys import ALERT_STATES
        from nimify_tui.metrics.alerts import rules_file_text
        from nimify_tui.render.alerts import alerts_text
        from nimify_tui.ui.screens.detail import DetailScreen

        store = self.runtime.store
        tabs = {
            "states": ("States", lambda: alerts_text(store.value(ALERT_STATES), now=time.time())),
            "rules": ("Rules file", rules_file_text),
        }
        self.push_screen(DetailScreen("Runbook alerts", tabs))

    # --- `:` jump ----------------------------------------------------------------------------------------------
    def jump(self, text: str) -> None:
        words = text.lstrip(":").split()
        if not words:
            return
        word, rest = words[0].lower(), words[1:]
        screen = self.main_screen()
        if word in JUMPS and screen is not None:
            screen.action_pane(JUMPS[word])
        elif word in ("ns", "namespace") and screen is not None:
            self.jump_namespace(rest[0] if rest else "all")
        elif word in ("ctx", "context", "contexts"):
            from nimify_tui.ui.context_switch import ContextSwitch

            ContextSwitch(self).jump(rest[0] if rest else None)
        elif word in ("deploy", "deployment", "deployments", "dp"):
            self.jump_deployment(rest[0] if rest else None)
        elif word in RESOURCE_JUMPS:
            self.open_resources(RESOURCE_JUMPS[word])
        elif word in ("config", "configmap", "cm"):
            self.open_config()
        elif word in ("alerts", "alert", "rules"):
            self.open_alerts()
        elif word in ("help", "h", "?"):
            self.action_help()  # the help screen made once and kept
        else:
            self.notify(f"Unknown jump {text!r}: try {JUMP_WORDS}", markup=False)

    def jump_namespace(self, target: str) -> None:
        """`:ns NAME`: a watched namespace (or all of them) is shown at once; any other name is looked up in the
        cluster's namespaces, off the event loop, and the notice says why it is not shown."""
        screen = self.main_screen()
        if target in ("all", "-A"):
            screen.set_namespace(None)
        elif target in self.runtime.options.namespaces:
            screen.set_namespace(target)
        else:
            self.run_worker(self._why_namespace_not_shown(target), group="namespace-lookup", exclusive=True)

    async def _why_namespace_not_shown(self, target: str) -> None:
        watched = ", ".join(self.runtime.options.namespaces)
        try:
            listed = await asyncio.to_thread(self.runtime.client.get_json, "/api/v1/namespaces")
        except KubeError as exc:
            why = f"Unknown namespace {target!r}: the cluster's namespaces cannot be listed ({exc})."
        else:
            names = {(item.get("metadata") or {}).get("name") for item in listed.get("items") or ()}
            if target in names:
                why = f"Namespace {target!r} is not watched, so its pods are not loaded: start with -n {target}."
            else:
                why = f"No namespace {target!r} in the cluster."
        self.notify(f"{why} Watched: {watched}.", severity="warning", markup=False)

    def main_screen(self) -> Any:
        from nimify_tui.ui.screens.main import MainScreen

        for screen in self.screen_stack:
            if isinstance(screen, MainScreen):
                return screen
        return None

    def jump_deployment(self, name: str | None) -> None:
        deployments: list[DeploymentRecord] = self.runtime.store.items(DEPLOYMENTS)
        if name:
            matches = [d for d in deployments if d.name == name] or [d for d in deployments if name in d.name]
        else:
            matches = [d for d in deployments if d.available < d.desired] or deployments
            matches = [d for d in matches if d.name == "nimify-api"] or matches
        if not matches:
            self.notify(f"No deployment matches {name!r}.", severity="warning", markup=False)
            return
        self.open_deployment(matches[0].namespace, matches[0].name)
