"""A pod: describe (containers, states, last termination, limits, probes, conditions, events) and YAML; `l`/`p` open
its logs, `o` its deployment."""

from __future__ import annotations

from textual.binding import Binding

from nimify_tui.actions.registry import REMEDY_BY_ID
from nimify_tui.kube.records import DeploymentRecord
from nimify_tui.live.keys import PODS
from nimify_tui.ui.exec_shell import open_shell
from nimify_tui.ui.in_pod_steps import shell_binding
from nimify_tui.ui.navigation import owning_deployment
from nimify_tui.ui.remediation import offer, remedy_bindings
from nimify_tui.ui.screens.detail import DetailScreen, Loader


class PodScreen(DetailScreen):
    BINDINGS = [
        Binding("l", "logs", "Logs", id="pod-logs"),
        Binding("p", "previous_logs", "Prev logs", id="pod-previous-logs"),
        Binding("o", "owner", "Deployment", id="pod-owner"),
        Binding("d", "tab('describe')", "Describe", id="pod-describe"),
        Binding("y", "tab('yaml')", "YAML", id="pod-yaml"),
        *remedy_bindings("pod", "deployment"),
        shell_binding(),
    ]

    def __init__(
        self, namespace: str, name: str, title: str, tabs: dict[str, tuple[str, Loader]], initial: str
    ) -> None:
        super().__init__(title, tabs, initial)
        self.namespace = namespace
        self.pod_name = name

    def action_tab(self, tab: str) -> None:
        self.show_tab(tab)

    def action_logs(self) -> None:
        self.nimify.open_logs(self.namespace, self.pod_name)

    def action_previous_logs(self) -> None:
        self.nimify.open_logs(self.namespace, self.pod_name, previous=True)

    def action_owner(self) -> None:
        deployment = self._deployment()
        if deployment is not None:
            self.nimify.open_deployment(deployment.namespace, deployment.name)

    def action_shell(self) -> None:
        open_shell(self.nimify, self.namespace, self.pod_name)

    def action_remedy(self, remedy: str) -> None:
        if REMEDY_BY_ID[remedy].target == "pod":
            offer(self.nimify, remedy, self.namespace, self.pod_name)
            return
        deployment = self._deployment()
        if deployment is not None:
            pod = self.nimify.runtime.store.get(PODS, (self.namespace, self.pod_name))
            offer(
                self.nimify,
                remedy,
                deployment.namespace,
                deployment.name,
                container=pod.default_container if pod else None,
            )

    def _deployment(self) -> DeploymentRecord | None:
        pod = self.nimify.runtime.store.get(PODS, (self.namespace, self.pod_name))
        deployment = owning_deployment(self.nimify.runtime, pod) if pod is not None else None
        if deployment is None:
            self.notify("This pod is not owned by a deployment.", severity="warning")
        return deployment
