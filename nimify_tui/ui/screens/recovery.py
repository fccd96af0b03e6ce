"""`V`: the runbook's Recovery Verification as a checklist: its three steps, each check with its state, timing and
what it saw, the load test's latency histogram, and the outcome. It shows the latest verification (one started by
itself after a fix, or by this key) and follows it while it runs."""

from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from nimify_tui.recovery.result import STEPS, CheckState, LoadFigures, RecoveryResult
from nimify_tui.recovery.verifier import RECOVERY

if TYPE_CHECKING:
    from nimify_tui.ui.app import NimifyApp

_MARK = {"pending": ("·", "dim"), "running": ("…", "yellow"), "pass": ("✓", "green"), "fail": ("✗", "red")}
_MARK["not-run"] = ("–", "cyan")
_OUTCOME_STYLE = {"verified": "bold green", "failed": "bold red", "incomplete": "bold cyan", "running": "bold yellow"}
BAR_WIDTH = 30


def _utc(at: float) -> str:
    return datetime.fromtimestamp(at, timezone.utc).strftime("%H:%M:%S")


def _mark(state: CheckState) -> tuple[str, str]:
    return _MARK.get(state, ("?", "dim"))


def histogram_lines(load: LoadFigures) -> list[Text]:
    """One line a bucket that holds a request: its range, a bar and the count."""
    lines = []
    biggest = max((count for _, count in load.buckets), default=0)
    lower = 0.0
    for bound, count in load.buckets:
        label = f"> {lower:g} ms" if math.isinf(bound) else f"≤ {bound:g} ms"
        lower = bound
        if not count:
            continue
        line = Text(f"      {label:>10} ")
        line.append("█" * max(1, round(BAR_WIDTH * count / biggest)), style="green" if bound <= 500 else "yellow")
        line.append(f" {count}")
        lines.append(line)
    return lines


def checklist_text(result: RecoveryResult | None) -> Text:
    """The whole checklist; cluster text (details, errors) is shown literally."""
    if result is None:
        return Text("No recovery verification yet: V runs one (it starts by itself once a fix clears the diagnosis).")
    text = Text()
    text.append(result.headline(), style=_OUTCOME_STYLE.get(result.outcome, "bold"))
    when = f"  started {_utc(result.started_at)} UTC"
    if result.finished_at is not None:
        when += f", took {result.finished_at - result.started_at:.1f} s"
    text.append(when, style="dim")
    text.append("\n")
    how = "by itself, after the diagnosis cleared" if result.trigger == "auto" else "by the V key"
    text.append(f"Started {how}", style="dim")
    if result.after_action:
        text.append("; last action: ", style="dim")
        text.append(result.after_action)
    text.append("\n")
    for number, step in enumerate(STEPS, start=1):
        mark, style = _mark(result.step_state(step))
        text.append("\n")
        text.append(f"{mark} {number}. {step}\n", style=f"bold {style}")
        for check in (c for c in result.checks if c.step == step):
            mark, style = _mark(check.state)
            text.append(f"   {mark} ", style=style)
            text.append(f"{check.name:<21}", style="bold" if check.state == "fail" else "")
            timing = f"{check.duration_ms:6.0f} ms " if check.finished and check.state != "not-run" else " " * 10
            text.append(timing, style="dim")
            text.append(check.detail, style="red" if check.state == "fail" else "")
            text.append("\n")
            if check.name == "load test" and result.load is not None and result.load.requests:
                for line in histogram_lines(result.load):
                    text.append_text(line)
                    text.append("\n")
    return text


class RecoveryScreen(ModalScreen[None]):
    """The checklist of the latest verification; ``V`` runs one again (when none is running)."""

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="back"),
        Binding("V", "again", "Verify again", id="verify-again"),
    ]
    DEFAULT_CSS = """
    RecoveryScreen { align: center middle; }
    RecoveryScreen > Vertical {
        width: 90%; max-width: 120; height: auto; max-height: 90%; border: round $accent; background: $panel;
        padding: 0 1;
    }
    RecoveryScreen #recovery-title { text-style: bold; }
    RecoveryScreen VerticalScroll { height: auto; max-height: 40; }
    """

    @property
    def nimify(self) -> NimifyApp:
        from nimify_tui.ui.app import NimifyApp

        assert isinstance(self.app, NimifyApp)
        return self.app

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Recovery verification · V again · esc back", id="recovery-title")
            with VerticalScroll():
                yield Static(id="recovery-checklist")

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).focus()  # the arrows scroll a checklist taller than the screen
        self.refresh_checklist()
        self.set_interval(0.25, self.refresh_checklist)

    def refresh_checklist(self) -> None:
        result = self.nimify.runtime.store.value(RECOVERY)
        self.query_one("#recovery-checklist", Static).update(checklist_text(result))

    def action_again(self) -> None:
        verify_now(self.nimify)
        self.refresh_checklist()


def verify_now(app: NimifyApp) -> None:
    """Start a verification, or say that one is running."""
    if not app.start_sources:
        app.notify("No live sources in this session: nothing to verify.", severity="warning")
    elif not app.recovery.start("key"):
        app.notify("A recovery verification is running already.")
