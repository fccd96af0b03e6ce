"""The banner that cannot be missed: each escalation prompt not acknowledged yet (red, below the header), and a
status update that is due (yellow). Hidden when there is nothing to say."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text

from nimify_tui.incident.escalation import Prompt
from nimify_tui.ui.widgets.quiet_static import QuietStatic


def banner_text(prompts: Sequence[Prompt], reminder_due: bool, ack_key: str, update_key: str) -> Text:
    text = Text()
    for prompt in prompts:
        if text:
            text.append("\n")
        text.append(f" ESCALATE to {prompt.who} ", style="bold white on red")
        text.append(f" {prompt.why} ", style="bold white on dark_red")
        text.append(f" {ack_key} acknowledges ", style="reverse")
    if reminder_due:
        if text:
            text.append("\n")
        text.append(" STATUS UPDATE DUE ", style="bold black on yellow")
        text.append(" keep stakeholders informed ", style="yellow")
        text.append(f" {update_key} drafts it ", style="reverse")
    return text


class EscalationBanner(QuietStatic):
    DEFAULT_CSS = "EscalationBanner { height: auto; background: $panel; } EscalationBanner.-empty { display: none; }"

    def on_mount(self) -> None:
        self.add_class("-empty")  # no row taken until there is something to say

    def show(self, prompts: Sequence[Prompt], reminder_due: bool, ack_key: str, update_key: str) -> None:
        text = banner_text(prompts, reminder_due, ack_key, update_key)
        self.set_class(not text, "-empty")
        self.show_text(text)
