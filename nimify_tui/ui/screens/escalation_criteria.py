"""`E`: the runbook's escalation criteria. The app raises the timed ones by itself (30 min, 2 failed attempts,
2 h); the others only a person can judge: ticked here, each tick journaled."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import SelectionList, Static
from textual.widgets.selection_list import Selection

from nimify_tui.incident.escalation import CRITERIA

if TYPE_CHECKING:
    from nimify_tui.ui.app import NimifyApp


class EscalationCriteriaScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape", "close", "Close", id="criteria-close")]
    DEFAULT_CSS = """
    EscalationCriteriaScreen { align: center middle; }
    EscalationCriteriaScreen > Vertical {
        width: 90%; max-width: 90; height: auto; max-height: 90%;
        border: round $accent; background: $panel; padding: 0 1;
    }
    EscalationCriteriaScreen SelectionList { height: auto; max-height: 11; }
    EscalationCriteriaScreen Static { height: auto; }
    """

    def __init__(self) -> None:
        super().__init__(id="escalation-criteria")

    @property
    def nimify(self) -> NimifyApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        ticked = self.nimify.incident.tracker.checklist.ticked
        with Vertical() as box:
            box.border_title = "Escalation criteria (space ticks, journaled; esc closes)"
            yield Static(self._timed(), id="criteria-timed")
            yield SelectionList[str](
                *(Selection(f"{c.text} → {c.who}", c.id, c.id in ticked) for c in CRITERIA), id="criteria-list"
            )
            yield Static(self._whom(), id="criteria-whom")

    def _timed(self) -> Text:
        escalations = self.nimify.incident.tracker.escalations
        policy = escalations.policy
        text = Text("By themselves: ", style="dim")
        text.append(
            f"Engineering Manager at {policy.em_outage_s / 60:g} min or {policy.em_failed_attempts} failed attempts; "
            f"VP Engineering at {policy.vp_outage_s / 3600:g} h.",
            style="dim",
        )
        for prompt in escalations.raised.values():
            state = "acknowledged" if prompt.id in escalations.acknowledged else "OPEN"
            text.append(f"\n{prompt.who}: {prompt.why} ({state})", style="bold" if state == "OPEN" else "")
        return text

    def _whom(self) -> Text:
        whom = self.nimify.incident.tracker.checklist.escalate_to()
        if not whom:
            return Text("Nothing ticked.", style="dim")
        return Text("Escalate to: " + ", ".join(whom), style="bold red")

    def on_mount(self) -> None:
        self.query_one(SelectionList).focus()

    def on_selection_list_selection_toggled(self, event: SelectionList.SelectionToggled[str]) -> None:
        self.nimify.incident.toggle_criterion(event.selection.value)
        self.query_one("#criteria-whom", Static).update(self._whom())

    def action_close(self) -> None:
        self.dismiss(None)
