"""A deployment: describe with its rollout history, the revisions, its pods, YAML; and the runbook's fixes for it
(scale, limits, undo to a revision, restart) on the same keys as on the main screen."""

from __future__ import annotations

from nimify_tui.ui.remediation import DEPLOYMENT_BINDINGS, offer
from nimify_tui.ui.screens.detail import DetailScreen, Loader


class DeploymentScreen(DetailScreen):
    BINDINGS = DEPLOYMENT_BINDINGS

    def __init__(
        self, namespace: str, name: str, tabs: dict[str, tuple[str, Loader]], initial: str = "describe"
    ) -> None:
        super().__init__(f"Deployment {namespace}/{name}", tabs, initial)
        self.namespace = namespace
        self.deployment_name = name

    def action_remedy(self, remedy: str) -> None:
        offer(self.nimify, remedy, self.namespace, self.deployment_name)
