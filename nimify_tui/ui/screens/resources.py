"""The views of the ``:svc :ep :ing :pvc :pv :netpol`` jump words, and ``:config`` (nimify-config, with ``e`` to
edit it through the guarded dialog)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from nimify_tui.ui.remediation import offer, remedy_bindings
from nimify_tui.ui.screens.detail import DetailScreen, Loader
from nimify_tui.ui.screens.resource_text import CONFIG_MAP, SharedRead


class ResourceScreen(DetailScreen):
    """A kind's table and describe tabs; ``R`` reloads both, and sends again the request they share (if any)."""

    def __init__(self, title: str, tabs: dict[str, tuple[str, Loader]], shared: Sequence[SharedRead[Any]]) -> None:
        super().__init__(title, tabs)
        self.shared = shared

    def action_reload(self) -> None:
        for read in self.shared:
            read.forget()
        for tab_id in self.tabs:
            self.load(tab_id)


class ConfigMapScreen(DetailScreen):
    """nimify-config as read just now; ``e`` opens its guarded edit, as on the main screen."""

    BINDINGS = remedy_bindings("configmap")

    def __init__(self, namespace: str, tabs: dict[str, tuple[str, Loader]]) -> None:
        super().__init__(f"ConfigMap {namespace}/{CONFIG_MAP}", tabs)
        self.namespace = namespace

    def action_remedy(self, remedy: str) -> None:
        offer(self.nimify, remedy, self.namespace, CONFIG_MAP)
