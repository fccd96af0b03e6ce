"""The health strip: each runbook probe green or red, with its latency and, when red, why."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text

from nimify_tui.probes import ProbeResult
from nimify_tui.text import one_line
from nimify_tui.ui.widgets.quiet_static import QuietStatic


def render_strip(results: Sequence[ProbeResult], width: int) -> Text:
    text = Text(no_wrap=True, overflow="ellipsis")
    if not results:
        text.append("probes: waiting for the first check…", style="dim")
        return text
    for result in results:
        if result.ok:
            text.append("● ", style="bold green")
            text.append(result.name)
            text.append(f" {result.latency_ms:.0f}ms  ", style="green")
        else:
            text.append("✖ ", style="bold red")
            text.append(result.name, style="bold red")
            code = f" {result.status}" if result.status else " down"
            text.append(f"{code}  ", style="red")
    failing = [r for r in results if not r.ok]
    if failing:
        text.append("\n")
        errors = "  ".join(f"{r.name}: {r.error or f'HTTP {r.status}'}" for r in failing)
        text.append(one_line(errors, max(20, width - 2)), style="red")
    return text


class HealthStrip(QuietStatic):
    """One line of probe chips; a second line with the errors while any is red."""

    DEFAULT_CSS = """
    HealthStrip { height: auto; max-height: 2; padding: 0 1; background: $boost; }
    """

    def show(self, results: Sequence[ProbeResult]) -> None:
        self.show_text(render_strip(results, 300))  # the Text cuts the line at the edge
