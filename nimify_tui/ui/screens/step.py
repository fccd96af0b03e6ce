"""One in-pod step in a modal: where it runs, the exact command, its bounded output and what it says.

States: locating -> (helper: confirm its creation) -> running -> done; a fix (the cache cleanup) goes through its dry
run (the files it would delete) and a confirmation before it runs, then df shows the space it freed. A helper pod is
created and deleted on the guarded path of every action (permission, dry run, journal). Every network step runs in a
worker thread.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import ScrollableContainer, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from nimify_tui.actions import ActionError, ActionRunner, Prepared
from nimify_tui.actions.exec_steps import (
    STEP_BY_ID,
    CleanupAction,
    HelperPodAction,
    InPodStep,
    Place,
    StepResult,
    exec_access,
    journal_step,
    locate,
    plan_delete_helper,
    run_step,
)
from nimify_tui.kube.errors import KubeError
from nimify_tui.kube.exec import ExecClient
from nimify_tui.text import literal
from nimify_tui.triage.in_pod import record_step
from nimify_tui.ui.late_answer import dropped_once_closed
from nimify_tui.ui.screens.detail import literal_block

if TYPE_CHECKING:
    from nimify_tui.ui.app import NimifyApp

_VERDICT_STYLE = {"pass": "bold green", "fail": "bold red", "info": ""}
_VERDICT_MARK = {"pass": "✔", "fail": "✖", "info": "·"}


class StepScreen(ModalScreen[None]):
    """``y`` goes ahead where a confirmation is asked (a helper pod, the cleanup); ``esc`` closes (a prepared helper
    or cleanup is journaled as cancelled; a helper already created is deleted first); ``r``, after the cleanup,
    offers the restart of nimify-api."""

    BINDINGS = [
        Binding("escape", "close", "Close / cancel"),
        Binding("y", "confirm", "Yes, do it", show=False),
        Binding("n", "close", "No", show=False),
        Binding("r", "restart", "Restart nimify-api", show=False),
    ]
    DEFAULT_CSS = """
    StepScreen { align: center middle; }
    StepScreen > Vertical {
        width: 90%; max-width: 120; height: auto; max-height: 90%; border: thick $accent; background: $panel;
        padding: 0 1;
    }
    StepScreen #step-title { text-style: bold; }
    StepScreen #step-where { color: $text-muted; height: auto; }
    StepScreen #step-command { color: $accent; }
    StepScreen #step-output { height: auto; max-height: 45vh; border: round $primary; overflow-x: auto; }
    StepScreen #step-output-text { width: auto; }
    StepScreen #step-output.-empty { display: none; }
    StepScreen #step-typed { display: none; }
    StepScreen #step-typed.-shown { display: block; }
    StepScreen #step-status { height: auto; max-height: 6; }
    """

    def __init__(self, step_id: str) -> None:
        super().__init__()
        self.step: InPodStep = STEP_BY_ID[step_id]
        self.place: Place | None = None
        self.state = "locating"
        self.prepared: Prepared | None = None  # the helper's creation or the cleanup, waiting for y
        self.helper_created = False
        self.results: list[StepResult] = []
        self.closed = False  # esc: what runs still finishes (and deletes its helper pod), nothing more is asked

    @property
    def nimify(self) -> NimifyApp:
        """The app, kept from the mount: the workers go on after esc, when the screen no longer finds it."""
        return self._nimify

    @property
    def runner(self) -> ActionRunner:
        return self.nimify.action_runner()

    @property
    def helper_runner(self) -> ActionRunner:
        """The helper pod's creation and deletion: guarded and journaled like any action, but no attempt at a fix
        (the escalation's count of attempts and the recovery verification do not hear of them)."""
        shared = self.runner
        return ActionRunner(shared.client, shared.journal, shared.policy, reviewer=shared.reviewer)

    @property
    def exec_client(self) -> ExecClient:
        return ExecClient(self.nimify.runtime.client)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Text(f"{self.step.title} · {self.step.runbook}"), id="step-title")
            yield Static("finding the pod to run it in…", id="step-where")
            yield Label(Text(f"$ {self.step.shell_text()}"), id="step-command")
            with ScrollableContainer(id="step-output", classes="-empty", can_focus=True):
                yield Static("", id="step-output-text")
            yield Input(placeholder="type the name to confirm", id="step-typed")
            yield Static("", id="step-status")

    def on_mount(self) -> None:
        self._nimify: NimifyApp = self.app  # type: ignore[assignment]
        self.query_one("#step-output").focus()
        self.locate()

    # --- 1. where, and may we -------------------------------------------------------------------------------
    @work(thread=True, exclusive=True, group="step")
    def locate(self) -> None:
        try:
            place = locate(self.nimify.runtime.client, self.step, self.nimify.settings.namespace)
            permission = self.runner.reviewer.check(exec_access(place.target.namespace))
        except (ActionError, KubeError) as exc:
            self.nimify.call_from_thread(self._failed, f"Cannot run it: {_message(exc)}")
            return
        if not permission.allowed:
            self.nimify.call_from_thread(self._failed, f"✖ not allowed: {permission.reason}. Nothing was sent.")
            return
        self.nimify.call_from_thread(self._located, place)
        if place.helper is not None:
            self._prepare(HelperPodAction(self.nimify.runtime.client, place.helper, self.step.shell_text()))
        elif self.step.is_fix:
            self._prepare(CleanupAction(self.exec_client, place))
        else:
            self._run(place)

    def _located(self, place: Place) -> None:
        self.place = place
        if self.is_attached:
            self.query_one("#step-where", Static).update(Text(f"in {place.target}: {literal(place.why)}"))

    # --- 2. the guarded part: a helper pod, the cleanup ------------------------------------------------------
    def _runner_of(self, action: object) -> ActionRunner:
        return self.helper_runner if isinstance(action, HelperPodAction) else self.runner

    def _prepare(self, action: HelperPodAction | CleanupAction) -> None:
        """(worker) Permission and dry run of ``action``, then ask."""
        self.nimify.call_from_thread(self._status, "Dry run…", "info")
        try:
            prepared = self._runner_of(action).prepare(action)
        except (ActionError, KubeError) as exc:
            self.nimify.call_from_thread(self._failed, f"✖ {_message(exc)}")
            self._delete_helper()
            return
        if self.closed:  # esc while it ran: nothing to ask; a helper created meanwhile goes
            self._runner_of(action).cancel(prepared)
            self._delete_helper()
            return
        self.nimify.call_from_thread(self._ask, prepared)

    def _ask(self, prepared: Prepared) -> None:
        if not self.is_attached:
            self._cancel(prepared)
            return
        self.prepared = prepared
        self.state = "confirming"
        preview = prepared.preview
        shown = preview.text
        if preview.yaml_diff:
            shown += "\n\n" + preview.yaml_diff
        self._output(shown)
        typed = self.query_one("#step-typed", Input)
        if prepared.confirmation.typed_name:
            typed.add_class("-shown")
            typed.value = ""
            typed.focus()
            self._status(prepared.confirmation.prompt + " enter confirms, esc cancels.", "warning")
        else:
            self._status(prepared.confirmation.prompt + "  y: do it · n/esc: cancel", "warning")

    def action_confirm(self) -> None:
        if self.state == "confirming" and self.prepared is not None and not self.prepared.confirmation.typed_name:
            self._go(None)

    @on(Input.Submitted, "#step-typed")
    def _typed(self, event: Input.Submitted) -> None:
        if self.state == "confirming" and self.prepared is not None:
            if not self.prepared.confirmation.accepts(event.value):
                self._status(f"That is not {self.prepared.confirmation.typed_name}; nothing sent.", "error")
                return
            self.query_one("#step-typed", Input).remove_class("-shown")
            self.query_one("#step-output").focus()
            self._go(event.value)

    def _go(self, typed: str | None) -> None:
        assert self.prepared is not None
        prepared, self.prepared = self.prepared, None
        self.state = "running"
        self._status("Running…", "info")
        self.execute(prepared, typed)

    @work(thread=True, exclusive=True, group="step")
    def execute(self, prepared: Prepared, typed: str | None) -> None:
        try:
            outcome = self._runner_of(prepared.action).execute(prepared, typed)
        except (ActionError, KubeError) as exc:
            self.nimify.call_from_thread(self._failed, f"✖ {_message(exc)}")
            self.helper_created = isinstance(prepared.action, HelperPodAction)  # created, maybe not running
            self._delete_helper()
            return
        assert self.place is not None
        if isinstance(prepared.action, HelperPodAction):
            self.helper_created = True
            self.nimify.call_from_thread(self._status, f"✔ {outcome.message}", "success")
            if self.step.is_fix:
                self._prepare(CleanupAction(self.exec_client, self.place))
            else:
                self._run(self.place)
            return
        done = outcome.reply
        if isinstance(done, StepResult):
            self.nimify.call_from_thread(self._show_result, done)
        disk = STEP_BY_ID["step-disk"]
        self._run(self.place, disk, after_fix=True)

    # --- 3. the command ---------------------------------------------------------------------------------------
    def _run(self, place: Place, step: InPodStep | None = None, *, after_fix: bool = False) -> None:
        """(worker) Run a read-only step (``step``: another one, df after the cleanup), show, journal and publish
        its result; then delete the helper pod, if there is one."""
        running = step or self.step
        self.nimify.call_from_thread(self._status, f"Running {running.shell_text()}…", "info")
        done = run_step(self.exec_client, running, place)
        journal_step(self.nimify.session.journal, self.nimify.runtime.client.identity.user, done)
        record_step(self.nimify.runtime.store, done)
        self.nimify.call_from_thread(self._show_result, done)
        self._delete_helper()
        self.nimify.call_from_thread(self._done, after_fix)

    def _show_result(self, done: StepResult) -> None:
        self.results.append(done)
        if not self.is_attached:  # closed while it ran: journaled and published all the same
            return
        text = Text()
        for shown in self.results:
            if text:
                text.append("\n\n")
            text.append(f"$ {STEP_BY_ID[shown.step].shell_text(shown.command)}\n", style="bold")
            text.append(literal_block(shown.result.output or "(no output)"))
            if shown.result.truncated:
                text.append("\n… (output cut)", style="dim")
            text.append(f"\n{shown.result.outcome}", style="dim")
            if shown.verdict.line != shown.result.outcome:
                mark = _VERDICT_MARK[shown.verdict.state]
                text.append(f"\n{mark} {literal(shown.verdict.line)}", style=_VERDICT_STYLE[shown.verdict.state])
        text.no_wrap = True  # df's long sources, ls's columns: scrolled sideways, never folded
        self.query_one("#step-output-text", Static).update(text)
        output = self.query_one("#step-output", ScrollableContainer)
        output.remove_class("-empty")
        output.call_after_refresh(output.scroll_end, animate=False)

    def _done(self, after_fix: bool) -> None:
        self.state = "done"
        if not self.is_attached:
            return
        deleted = " · helper pod deleted" if self.place is not None and self.place.helper is not None else ""
        if after_fix:
            self._status(
                f"Done (journaled){deleted}. r: restart nimify-api so its pods start on the freed volume · esc closes",
                "success",
            )
        else:
            self._status(f"Done (journaled){deleted}. esc closes.", "success")

    def _delete_helper(self) -> None:
        """(worker) The helper pod deleted on the guarded path (journaled), if one was created."""
        if not self.helper_created or self.place is None or self.place.helper is None:
            return
        self.helper_created = False
        target = self.place.target
        try:
            action = plan_delete_helper(self.nimify.runtime.client, target.namespace, target.pod)
            self.helper_runner.run(action, lambda prepared: prepared.confirmation.typed_name or True)
        except (ActionError, KubeError) as exc:
            self.nimify.call_from_thread(
                self._status, f"✖ deleting the helper pod {target.pod}: {_message(exc)}", "error"
            )

    # --- leaving ----------------------------------------------------------------------------------------------
    def action_restart(self) -> None:
        if self.state != "done" or not self.step.is_fix:
            return
        from nimify_tui.ui.remediation import offer

        self.dismiss(None)
        offer(self.nimify, "restart", self.nimify.settings.namespace, "nimify-api")

    def action_close(self) -> None:
        self.closed = True
        if self.state == "confirming" and self.prepared is not None:
            prepared, self.prepared = self.prepared, None
            self.state = "cancelled"
            self._cancel(prepared)
        self.dismiss(None)

    @work(thread=True, group="step-cancel")
    def _cancel(self, prepared: Prepared) -> None:
        self._runner_of(prepared.action).cancel(prepared)
        self._delete_helper()

    def _failed(self, message: str) -> None:
        self.state = "done"
        self._status(message + "  (esc closes)", "error")

    @dropped_once_closed
    def _output(self, text: str) -> None:
        self.query_one("#step-output-text", Static).update(Text(literal_block(text), no_wrap=True))
        self.query_one("#step-output").remove_class("-empty")

    @dropped_once_closed
    def _status(self, message: str, style: str) -> None:
        colors = {"error": "bold red", "warning": "bold yellow", "success": "bold green", "info": ""}
        self.query_one("#step-status", Static).update(Text(literal(message), style=colors.get(style, "")))


def _message(exc: Exception) -> str:
    return exc.message if isinstance(exc, KubeError) else str(exc)
