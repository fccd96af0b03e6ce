"""The header: where we are (context, cluster, namespace), how bad it is, since when, and whether we record."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rich.text import Text

from nimify_tui.kube.duration import human_duration
from nimify_tui.ui.widgets.quiet_static import QuietStatic

_STATE_STYLE = {"OK": "bold black on green", "DEGRADED": "bold black on yellow", "DOWN": "bold white on red"}


@dataclass(frozen=True)
class HeaderInfo:
    context: str
    cluster: str
    namespace: str
    overall: str
    first_failure_at: float | None
    recording: str | None  # the journal's folder
    readonly: bool
    scenario: str | None


def render_header(info: HeaderInfo, now: float) -> Text:
    text = Text()
    text.append(" nimify-tui ", style="bold reverse")
    text.append(f" {info.overall} ", style=_STATE_STYLE.get(info.overall, "bold reverse dim"))
    if info.readonly:  # before anything a narrow terminal could cut
        text.append(" READ-ONLY ", style="bold cyan")
    if info.first_failure_at is not None:
        text.append(f" first failure {human_duration(now - info.first_failure_at)} ago ", style="red")
    for label, value in (("ctx", info.context), ("cluster", info.cluster), ("ns", info.namespace)):
        text.append(f"  {label} ", style="dim")
        text.append(value)
    if info.scenario:
        text.append(f"  scenario {info.scenario}", style="magenta")
    if info.recording:
        text.append("  ● REC ", style="bold red")
        home = str(Path.home())
        shown = "~" + info.recording[len(home) :] if info.recording.startswith(home + "/") else info.recording
        text.append(shown, style="dim")
    return text


class StatusHeader(QuietStatic):
    DEFAULT_CSS = "StatusHeader { height: 1; background: $panel; }"

    def show(self, info: HeaderInfo, now: float) -> None:
        self.show_text(render_header(info, now))
