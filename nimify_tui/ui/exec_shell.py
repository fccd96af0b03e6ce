"""``!``: a shell in a pod's container, the TUI suspended meanwhile.

Guarded as every action is: nothing at all in a read-only session; an access review for ``create pods/exec`` first
(refused: the key says why); on a context marked production, the pod's name typed to confirm. The start and the end
of the session are journaled (the pod, the container, the duration and how it ended; never what was typed).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Sequence
from functools import partial
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from nimify_tui.actions.exec_steps import CHANGES_NOTHING, SHELL_ID
from nimify_tui.journal.journal import ActionResult
from nimify_tui.kube.access import READ_ONLY_REASON
from nimify_tui.kube.exec import ExecClient, ExecResult, ExecTarget, ShellSession, Terminal
from nimify_tui.live.keys import PODS

if TYPE_CHECKING:
    from nimify_tui.ui.app import NimifyApp

SHELL_COMMAND = ("sh",)
SHELL_KEY = "exclamation_mark"


def shell_refusal(app: NimifyApp, namespace: str) -> str | None:
    """Why the shell may not be opened in ``namespace`` (None: allowed, or not asked yet)."""
    return app.remedy_refusal(SHELL_ID, namespace)


def open_shell(app: NimifyApp, namespace: str, pod: str, container: str | None = None) -> None:
    """``!`` on a pod: refused with a reason, or (after the container is chosen and, on production, the pod's name
    typed) the TUI suspended and the terminal given to ``sh`` in the container until it ends."""
    if app.policy.readonly or app.runtime.client.readonly:
        app.notify(f"Shell: not available: {READ_ONLY_REASON}", severity="warning", markup=False)
        return
    if not app.permissions_known(namespace):
        app.check_permissions((namespace,), then=partial(open_shell, app, namespace, pod, container))
        return
    refusal = shell_refusal(app, namespace)
    if refusal:
        app.notify(f"Shell: not available: {refusal}", severity="warning", markup=False)
        return
    record = app.runtime.store.get(PODS, (namespace, pod))
    containers = [c.name for c in record.containers] if record is not None else []
    if container is None and len(containers) > 1:
        default = record.default_container if record is not None else containers[0]
        ordered = [default, *(name for name in containers if name != default)]
        app.push_screen(
            ShellScreen(namespace, pod, ordered, app.policy.production), partial(_chosen, app, namespace, pod)
        )
        return
    chosen = container or (containers[0] if containers else None)
    if app.policy.production:
        app.push_screen(
            ShellScreen(namespace, pod, [chosen] if chosen else [], True), partial(_chosen, app, namespace, pod)
        )
        return
    start_shell(app, ExecTarget(namespace, pod, chosen))


def _chosen(app: NimifyApp, namespace: str, pod: str, container: str | None) -> None:
    if container is not None:
        start_shell(app, ExecTarget(namespace, pod, container or None))


def start_shell(app: NimifyApp, target: ExecTarget) -> ExecResult:
    """Suspend the TUI, run the session (blocking: the terminal belongs to it), resume where it was; journaled.
    A headless app (tests) has no terminal to give: the session then uses ``app.exec_terminal``."""
    started = time.monotonic()
    _journal(app, target, "start", "ok", None, 0.0)
    session = ShellSession(ExecClient(app.runtime.client), target, SHELL_COMMAND, app.exec_terminal or Terminal())
    suspended = contextlib.nullcontext() if app.is_headless else app.suspend()
    with suspended:
        result = session.run()
    duration = time.monotonic() - started
    ending = result.outcome
    _journal(app, target, "end", "ok" if result.exit_code is not None else "error", result.error or None, duration)
    message = f"Shell in {target} ended: {ending} after {duration:.0f} s (journaled)."
    if result.exit_code is None:
        app.notify(message, severity="error", markup=False)
    else:
        app.notify(message, markup=False)
    return result


def _journal(
    app: NimifyApp, target: ExecTarget, event: str, result: ActionResult, error: str | None, duration_s: float
) -> None:
    journal = app.session.journal
    if journal is None:
        return
    journal.action(
        who=app.runtime.client.identity.user,
        verb="exec",
        target_kind="Pod",
        target_namespace=target.namespace,
        target_name=target.pod,
        parameters={
            "session": event,  # start | end
            "container": target.container or "",
            "command": " ".join(SHELL_COMMAND),
            "interactive": "true",
            CHANGES_NOTHING: "true",  # for the post-mortem: no attempt at a fix (what was typed is not known)
        },
        dry_run_diff=None,
        result=result,
        error=error,
        duration_ms=round(duration_s * 1000, 1),
        request_method="GET",
        request_path=target.path_with_query(SHELL_COMMAND, stdin=True, tty=True),
        request_body=None,
    )


class ShellScreen(ModalScreen[str | None]):
    """Which container (when the pod has several) and, on a production context, the pod's name typed to confirm.
    Dismissed with the container's name ("" for the pod's default), or None to cancel."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]
    DEFAULT_CSS = """
    ShellScreen { align: center middle; }
    ShellScreen > Vertical {
        width: 80; max-width: 95%; height: auto; border: thick $warning; background: $panel; padding: 0 1;
    }
    ShellScreen OptionList { height: auto; max-height: 10; }
    ShellScreen #shell-typed { display: none; }
    ShellScreen #shell-typed.-shown { display: block; }
    """

    def __init__(self, namespace: str, pod: str, containers: Sequence[str], production: bool) -> None:
        super().__init__()
        self.namespace = namespace
        self.pod = pod
        self.containers = list(containers)
        self.production = production
        self.container = self.containers[0] if self.containers else ""

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Text(f"Shell in pod {self.namespace}/{self.pod}", style="bold"))
            if len(self.containers) > 1:
                yield Label("Container (enter picks):")
                yield OptionList(*(Option(Text(name), id=name) for name in self.containers), id="shell-containers")
            if self.production:
                yield Label(Text(f"Production context: type {self.pod} to confirm, then enter.", style="bold yellow"))
            yield Input(placeholder=f"type {self.pod}", id="shell-typed")

    def on_mount(self) -> None:
        if len(self.containers) > 1:
            self.query_one(OptionList).focus()
        else:
            self._ask_typed()

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.container = event.option.id or ""
        if self.production:
            self._ask_typed()
        else:
            self.dismiss(self.container)

    def _ask_typed(self) -> None:
        typed = self.query_one("#shell-typed", Input)
        typed.add_class("-shown")
        typed.focus()

    @on(Input.Submitted, "#shell-typed")
    def _typed(self, event: Input.Submitted) -> None:
        if event.value.strip() != self.pod:
            self.notify(f"That is not {self.pod}; no shell opened.", severity="error", markup=False)
            return
        self.dismiss(self.container)

    def action_cancel(self) -> None:
        self.dismiss(None)
