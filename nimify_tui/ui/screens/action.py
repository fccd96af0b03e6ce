"""One guarded action, start to end, in a modal: permission, parameters, dry-run diff, confirmation, the call,
its result and (for rollouts) its progress. Every network step runs in a worker thread; the screen stays usable."""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.notifications import SeverityLevel
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static, TextArea

from nimify_tui.actions import Action, ActionError, ActionRunner, Outcome, Prepared
from nimify_tui.actions.runner import ActionOutcomeUnknown
from nimify_tui.kube.errors import KubeError
from nimify_tui.text import literal
from nimify_tui.ui.late_answer import dropped_once_closed
from nimify_tui.ui.screens.detail import literal_block

if TYPE_CHECKING:
    from nimify_tui.ui.app import NimifyApp

Planner = Callable[[], Action]


class ActionScreen(ModalScreen[None]):
    """States: planning -> editing -> (dry run) -> confirming -> running -> done. ``esc`` backs out at any point;
    backing out of a prepared action journals it as cancelled. ``dry_run_at_open``: the planner filled the values
    in (a diagnosis's fix), so the dry run runs as soon as the plan is allowed, and ``y`` is the next key."""

    BINDINGS = [
        Binding("escape", "close", "Close / cancel"),
        Binding("ctrl+r", "dry_run", "Dry run", id="action-dry-run"),
        Binding("ctrl+e", "editor", "Open $EDITOR", show=False),
        Binding("y", "confirm", "Yes, do it", show=False),
        Binding("n", "close", "No", show=False),
    ]
    DEFAULT_CSS = """
    ActionScreen { align: center middle; }
    ActionScreen > Vertical {
        width: 90%; max-width: 120; height: auto; max-height: 90%; border: thick $warning; background: $panel;
        padding: 0 1;
    }
    ActionScreen #action-title { text-style: bold; }
    ActionScreen #action-permission { color: $text-muted; }
    ActionScreen #action-params { height: auto; max-height: 16; }
    ActionScreen #action-params Input { margin-bottom: 0; }
    ActionScreen #action-params TextArea { height: 12; }
    ActionScreen #action-diff { height: auto; max-height: 20; border: round $primary; }
    ActionScreen #action-diff.-empty { display: none; }
    ActionScreen #action-typed { display: none; }
    ActionScreen #action-typed.-shown { display: block; }
    ActionScreen #action-status { height: auto; max-height: 6; }
    /* following a rollout: one status line at the bottom, the panes visible above it */
    ActionScreen.-following { align: center bottom; background: $background 0%; }
    ActionScreen.-following > Vertical { width: 100%; max-width: 100%; height: 3; border: tall $warning; }
    ActionScreen.-following #action-title, ActionScreen.-following #action-permission,
    ActionScreen.-following #action-params, ActionScreen.-following #action-diff,
    ActionScreen.-following #action-typed { display: none; }
    ActionScreen.-following #action-status { max-height: 1; }
    """

    def __init__(self, title: str, planner: Planner, *, dry_run_at_open: bool = False) -> None:
        super().__init__()
        self.title_text = title
        self.planner = planner
        self.dry_run_at_open = dry_run_at_open
        self.action_plan: Action | None = None
        self.prepared: Prepared | None = None
        self.state = "planning"
        self._stop_follow = threading.Event()
        self._fields: list[tuple[str, Input | TextArea]] = []  # (parameter name, its field)

    @property
    def nimify(self) -> NimifyApp:
        return self.app  # type: ignore[return-value]

    @property
    def runner(self) -> ActionRunner:
        return self.nimify.action_runner()

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Text(self.title_text), id="action-title")
            yield Label("checking permission…", id="action-permission")
            yield VerticalScroll(id="action-params")
            with VerticalScroll(id="action-diff", classes="-empty", can_focus=True):
                yield Static("", id="action-diff-text")
            yield Input(placeholder="type the name to confirm", id="action-typed")
            yield Static("", id="action-status")

    def on_mount(self) -> None:
        self.plan()

    # --- 1. plan and permission ---------------------------------------------------------------------------
    @work(thread=True, exclusive=True, group="action")
    def plan(self) -> None:
        try:
            action = self.planner()
            permission = self.runner.allowed(action)
        except (ActionError, KubeError) as exc:
            self.app.call_from_thread(self._status, f"Cannot plan this action: {_message(exc)}", "error")
            return
        self.app.call_from_thread(self._planned, action, permission.allowed, permission.reason)

    @dropped_once_closed
    def _planned(self, action: Action, allowed: bool, reason: str) -> None:
        self.action_plan = action
        permission = self.query_one("#action-permission", Label)
        if not allowed:
            permission.update(Text(f"✖ not allowed: {reason}", style="bold red"))
            self._status("Nothing was sent. esc closes.", "error")
            self.state = "refused"
            return
        self._show_summary(action.summary())
        params = self.query_one("#action-params", VerticalScroll)
        for parameter in action.parameters():
            label = parameter.label + (f" (now: {parameter.current})" if parameter.current else "")
            if parameter.help:
                label += f" — {parameter.help}"
            if parameter.choices:
                label += f" [{' | '.join(parameter.choices)}]"
            params.mount(Label(Text(label)))
            field: Input | TextArea
            if parameter.multiline:
                field = TextArea(parameter.value, id=f"param-{len(self._fields)}", soft_wrap=False)
            else:
                field = Input(parameter.value, id=f"param-{len(self._fields)}", select_on_focus=False, compact=True)
            self._fields.append((parameter.name, field))
            params.mount(field)
        self.state = "editing"
        if self.dry_run_at_open:
            self.query_one("#action-diff").focus()  # not a field: `y` must reach the dialog however soon it answers
            self.action_dry_run()
            return
        editor = " · ctrl+e edits in $EDITOR" if any(p.multiline for p in action.parameters()) else ""
        self._status(f"Edit the values, then ctrl+r for the server-side dry run and its diff{editor}.", "info")
        self.call_after_refresh(self._focus_first_parameter)

    def _focus_first_parameter(self) -> None:
        """The value that matters: the first field that is not a pick among fixed choices (the container), the
        cursor at the end of its value."""
        if not self._fields:
            self.query_one("#action-diff").focus()
            return
        assert self.action_plan is not None
        choices = {parameter.name for parameter in self.action_plan.parameters() if parameter.choices}
        field = next((f for name, f in self._fields if name not in choices), self._fields[0][1])
        field.focus()
        if isinstance(field, Input):
            field.cursor_position = len(field.value)

    def _show_summary(self, summary: str, problem: str = "") -> None:
        line = Text(f"✔ allowed · {summary}", style="green")
        if problem:
            line.append(f"  ({problem})", style="yellow")
        self.query_one("#action-permission", Label).update(line)

    @on(Input.Changed, "#action-params Input")
    @on(TextArea.Changed, "#action-params TextArea")
    def _edited(self) -> None:
        """The summary follows the values as they are typed (``expand … from 100Gi to 150Gi``)."""
        if self.action_plan is None or self.state != "editing":
            return
        try:
            self._show_summary(self.action_plan.with_values(self._values()).summary())
        except ActionError as exc:
            self._show_summary(self.action_plan.summary(), str(exc))

    def _values(self) -> dict[str, str]:
        return {name: field.text if isinstance(field, TextArea) else field.value for name, field in self._fields}

    # --- 2. dry run ---------------------------------------------------------------------------------------
    @on(Input.Submitted, "#action-params Input")
    def _submitted(self) -> None:
        self.action_dry_run()

    def action_dry_run(self) -> None:
        if self.state not in ("editing", "confirming") or self.action_plan is None:
            return
        self._status("Dry run (dryRun=All) on the API server…", "info")
        self.dry_run(self._values())

    @work(thread=True, exclusive=True, group="action")
    def dry_run(self, values: dict[str, str]) -> None:
        assert self.action_plan is not None
        try:
            action = self.action_plan.with_values(values) if values else self.action_plan
            prepared = self.runner.prepare(action)
        except (ActionError, KubeError) as exc:
            self.app.call_from_thread(self._status, _message(exc), "error")
            return
        self.app.call_from_thread(self._prepared, prepared)

    @dropped_once_closed
    def _prepared(self, prepared: Prepared) -> None:
        self.prepared = prepared
        self.state = "confirming"
        self._show_summary(prepared.action.summary())
        preview = prepared.preview
        diff = preview.text or "(no change)"
        if preview.yaml_diff:
            diff += "\n\n" + preview.yaml_diff
        self.query_one("#action-diff-text", Static).update(Text(literal_block(diff)))
        self.query_one("#action-diff").remove_class("-empty")
        typed = self.query_one("#action-typed", Input)
        if prepared.confirmation.typed_name:
            typed.add_class("-shown")
            typed.value = ""
            typed.focus()
            self._status(prepared.confirmation.prompt + " enter confirms, esc cancels.", "warning")
        else:
            typed.remove_class("-shown")
            self.query_one("#action-diff").focus()
            self._status(prepared.confirmation.prompt + "  y: do it · n/esc: cancel", "warning")

    # --- 3. confirm and run -------------------------------------------------------------------------------
    def action_confirm(self) -> None:
        if self.state != "confirming" or self.prepared is None or self.prepared.confirmation.typed_name:
            return
        self._start(None)

    @on(Input.Submitted, "#action-typed")
    def _typed(self, event: Input.Submitted) -> None:
        if self.state == "confirming" and self.prepared is not None:
            if not self.prepared.confirmation.accepts(event.value):
                self._status(f"That is not {self.prepared.confirmation.typed_name}; nothing sent.", "error")
                return
            self._start(event.value)

    def _start(self, typed: str | None) -> None:
        self.state = "running"
        self._status("Sending…", "info")
        self.execute(typed)

    @work(thread=True, exclusive=True, group="action")
    def execute(self, typed: str | None) -> None:
        assert self.prepared is not None
        try:
            outcome = self.runner.execute(self.prepared, typed)
        except ActionOutcomeUnknown as exc:  # sent, no answer: neither done nor failed until a refresh says
            self.app.call_from_thread(self._finished, f"? {_message(exc)}", "warning")
            return
        except (ActionError, KubeError) as exc:
            self.app.call_from_thread(self._finished, f"✖ {_message(exc)}", "error")
            return
        self.app.call_from_thread(self._finished, f"✔ {outcome.message}", "success")
        self._follow(outcome)

    def _follow(self, outcome: Outcome) -> None:
        if outcome.follow is None:
            return
        self.app.call_from_thread(self.add_class, "-following")
        try:
            for progress in outcome.follow(stop=self._stop_follow, timeout_s=600.0, poll_s=1.0):
                style = "error" if progress.failed else ("success" if progress.done else "info")
                self.app.call_from_thread(self._status, progress.message, style)
                if progress.done or progress.failed:
                    return
        except (ActionError, KubeError) as exc:
            self.app.call_from_thread(self._status, f"following the rollout: {_message(exc)}", "error")

    def _finished(self, message: str, style: str) -> None:
        self.state = "done"
        self._status(message + "  (journaled; esc closes)", style)
        severity: SeverityLevel = "error" if style == "error" else "warning" if style == "warning" else "information"
        self.nimify.notify(message, severity=severity, markup=False)

    # --- leaving ------------------------------------------------------------------------------------------
    def action_close(self) -> None:
        if self.state == "confirming" and self.prepared is not None:
            prepared = self.prepared
            self.prepared = None
            self.state = "cancelled"
            self._cancel(prepared)
        self._stop_follow.set()
        self.dismiss(None)

    @work(thread=True, group="action-cancel")
    def _cancel(self, prepared: Prepared) -> None:
        self.runner.cancel(prepared)

    def action_editor(self) -> None:
        """The multiline parameter (the configmap's data) in $EDITOR; without one, the built-in editor is it."""
        areas = self.query("#action-params TextArea")
        editor = os.environ.get("VISUAL") or os.environ.get("EDITOR")
        if not areas or not editor:
            self._status("No $EDITOR set: edit in the box above.", "warning")
            return
        area = areas.first(TextArea)
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "nimify-config.yaml"
            path.write_text(area.text)
            with self.app.suspend():
                completed = subprocess.run([*shlex.split(editor), str(path)], check=False)
            if completed.returncode == 0:
                area.load_text(path.read_text())
                self._status("Edited. ctrl+r for the dry run.", "info")
            else:
                self._status(f"{editor} exited with {completed.returncode}; kept the text as it was.", "error")

    @dropped_once_closed  # closed (esc) while a worker still reported: a rollout followed, a late answer
    def _status(self, message: str, style: str) -> None:
        colors = {"error": "bold red", "warning": "bold yellow", "success": "bold green", "info": ""}
        if self.has_class("-following"):
            message += "  · esc closes (the rollout goes on)"
        self.query_one("#action-status", Static).update(Text(literal(message), style=colors.get(style, "")))


def _message(exc: Exception) -> str:
    return exc.message if isinstance(exc, KubeError) else str(exc)
