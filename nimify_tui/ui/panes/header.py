"""The header: where we are (context, cluster, namespace), how bad it is, since when, and whether we record."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from rich.text import Text

from nimify_tui.kube.duration import human_duration
from nimify_tui.recovery.result import RecoveryResult
from nimify_tui.triage.outages import Outage
from nimify_tui.ui.widgets.quiet_static import QuietStatic

_STATE_STYLE = {"OK": "bold black on green", "DEGRADED": "bold black on yellow", "DOWN": "bold white on red"}
_SEVERITY_STYLE = {"SEV-1": "bold white on dark_red", "SEV-2": "bold black on dark_orange"}


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
    failing_since: float | None = None  # the outage going on now began then
    last_outage: Outage | None = None  # the last one that ended
    severity: str | None = None  # "SEV-1", "SEV-2"; None: no incident
    outage_started_at: float | None = None  # the outage clock's start: earlier when the cluster proves it
    recovery: RecoveryResult | None = None  # the latest recovery verification
    replay: bool = False  # a recorded session played back: no cluster behind it
    api_unreachable: tuple[str, float] | None = None  # the API server does not answer: the last error, since when


def _clock(at: float) -> str:
    """The time of day in UTC, as the rest of the app and the journal write times."""
    return datetime.fromtimestamp(at, timezone.utc).strftime("%H:%M")


def outage_note(info: HeaderInfo, now: float) -> tuple[str, str]:
    """The header's words about outages and their style: red while some check fails, dim once all pass again."""
    if info.failing_since is not None:
        since = min(info.failing_since, info.outage_started_at or info.failing_since)
        return f" failing since {_clock(since)} UTC ({human_duration(now - since)}) ", "red"
    outage = info.last_outage
    if outage is None:
        return "", ""
    started_at = min(outage.started_at, info.outage_started_at or outage.started_at)
    start, end = _clock(started_at), _clock(outage.ended_at)
    span = start if start == end else f"{start}-{end}"
    ago = human_duration(now - outage.ended_at)
    lasted = human_duration(outage.ended_at - started_at)
    return f" last outage {span} UTC ({lasted}), recovered {ago} ago ", "dim"


_RECOVERY_STYLE = {"verified": "bold black on green", "failed": "bold red", "incomplete": "cyan", "running": "yellow"}


def recovery_note(info: HeaderInfo) -> tuple[str, str]:
    """The latest recovery verification, unless an outage began after it ended."""
    result = info.recovery
    if result is None:
        return "", ""
    ended = result.finished_at
    if ended is not None and info.failing_since is not None and info.failing_since > ended:
        return "", ""
    words = {"verified": "recovery verified", "failed": "recovery not verified", "incomplete": "recovery unverified"}
    word = words.get(result.outcome) or result.headline()
    when = f" {_clock(ended)} UTC" if ended is not None and result.outcome == "verified" else ""
    return f" {word}{when} ", _RECOVERY_STYLE.get(result.outcome, "")


def render_header(info: HeaderInfo, now: float) -> Text:
    text = Text()
    text.append(" nimify-tui ", style="bold reverse")
    if info.replay:
        text.append(" REPLAY ", style="bold black on yellow")
    unreachable = info.api_unreachable is not None  # the overall state is as old as the data it was judged on
    text.append(
        f" {info.overall} ",
        style="bold reverse dim" if unreachable else _STATE_STYLE.get(info.overall, "bold reverse dim"),
    )
    if info.api_unreachable is not None:  # everything else on screen is as old as this: say it first
        _error, since = info.api_unreachable
        text.append(f" API SERVER UNREACHABLE {human_duration(max(0.0, now - since))} ", style="bold white on red")
    if info.readonly:  # before anything a narrow terminal could cut
        text.append(" READ-ONLY ", style="bold cyan")
    if info.severity:
        text.append(f" {info.severity} ", style=_SEVERITY_STYLE.get(info.severity, "bold reverse"))
    recovery, style = recovery_note(info)  # before the outage's words: a narrow terminal cuts those first
    if recovery:
        text.append(recovery, style=style)
    note, style = outage_note(info, now)
    if note:
        text.append(note, style=style)
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
