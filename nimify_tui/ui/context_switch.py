"""``:ctx NAME``: the session moves to another kubeconfig context, as k9s does; ``:ctx`` alone lists them.

The new context's client is loaded and asked once (credentials, certificate) before anything changes; then every
source stops, the store is emptied, and the sources start again on the new cluster. The journal has an entry of its
own for the switch, and the header names the new context. A name the kubeconfig does not have, or a context the
server refuses, leaves the session where it was and says why.
"""

from __future__ import annotations

import os
from functools import partial
from typing import Any

from nimify_tui.config import ContextPolicy
from nimify_tui.kube.client import KubeClient, KubeConfigError
from nimify_tui.kube.first_contact import refusal
from nimify_tui.kube.kubeconfig_check import context_names


class ContextSwitch:
    """Lists the kubeconfig's contexts and switches the app's runtime, session and policy to one of them."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def kubeconfig(self) -> str | None:
        """The kubeconfig file(s) the session's client came from (None: the default ones)."""
        files = self.app.runtime.client.kubeconfig_files
        if files:
            return str(os.pathsep.join(files))
        configured = self.app.settings.kubeconfig
        return str(configured) if configured else None

    def jump(self, name: str | None) -> None:
        """``:ctx [NAME]``: off the event loop (a switch stops and starts every source)."""
        self.app.run_worker(partial(self._run, name), thread=True, group="context", exclusive=True)

    def _say(self, text: str, severity: str = "information") -> None:
        self.app.call_from_thread(self.app.notify, text, severity=severity, markup=False)

    def _run(self, name: str | None) -> None:
        current = self.app.runtime.client.identity.context
        kubeconfig = self.kubeconfig()
        try:
            names, _ = context_names(kubeconfig)
        except Exception as exc:  # the file changed under us, or never was one (in a cluster)
            self._say(f"The kubeconfig's contexts cannot be read: {' '.join(str(exc).split())}", "warning")
            return
        if name is None:
            listing = ", ".join(f"{known} (current)" if known == current else known for known in names)
            self._say(f"Contexts: {listing}. :ctx NAME switches to one.")
            return
        if name == current:
            self._say(f"Already on context {name!r}.")
            return
        if name not in names:
            self._say(f"No context {name!r} in the kubeconfig (contexts: {', '.join(names)}).", "warning")
            return
        policy: ContextPolicy = self.app.settings.context_policy(name)
        try:
            client = KubeClient.from_kubeconfig(
                kubeconfig, name, namespace=self.app.settings.namespace, readonly=policy.readonly
            )
        except KubeConfigError as exc:
            self._say(f"Staying on {current!r}: {exc}", "warning")
            return
        refused = refusal(client)
        if refused is not None:
            client.close()
            self._say(f"Staying on {current!r}: {refused}", "warning")
            return
        self._say(f"Switching to context {name!r} ({client.identity.server})...")
        self.app.runtime.switch_client(client)
        self.app.call_from_thread(self._switched, client, policy)

    def _switched(self, client: KubeClient, policy: ContextPolicy) -> None:
        app = self.app
        app.policy = policy
        app.session.switch_client(client)
        app.forget_context_state()
        if not policy.readonly:
            app.check_permissions(app.settings.watched_namespaces, announce=True)
        app.notify(f"Context {client.identity.context!r}: {client.identity.server}", markup=False)
