"""The runbook's checks: failing ones first with their evidence and the suggested fix."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text

from nimify_tui.text import one_line
from nimify_tui.triage.checks import Finding
from nimify_tui.ui.widgets.quiet_static import QuietStatic

_MARK = {"fail": ("✖", "bold red"), "pass": ("✔", "green"), "unknown": ("?", "dim")}


def render_findings(findings: Sequence[Finding], width: int, max_lines: int) -> Text:
    text = Text()
    failing = [f for f in findings if f.state == "fail"]
    if not failing:
        passed = sum(1 for f in findings if f.state == "pass")
        text.append("✔ ", style="bold green")
        text.append(f"{passed}/{len(findings)} runbook checks pass", style="green")
        unknown = [f.title for f in findings if f.state == "unknown"]
        if unknown:
            text.append(f" · not known yet: {', '.join(unknown)}", style="dim")
        return text
    lines = 0
    for finding in failing:
        if lines >= max_lines:
            text.append(f"\n… {len(failing) - lines // 2} more failing checks", style="red")
            break
        mark, style = _MARK[finding.state]
        if lines:
            text.append("\n")
        text.append(f"{mark} {finding.title}: ", style=style)
        text.append(one_line(finding.evidence, width))
        text.append(f"  [{finding.runbook}]", style="dim")
        lines += 1
        if finding.fix:
            text.append("\n   → ", style="cyan")
            text.append(one_line(finding.fix, width), style="cyan")
            lines += 1
    return text


class RunbookPane(QuietStatic):
    """Shows what is wrong, in the runbook's words, and what to do."""

    def __init__(self) -> None:
        super().__init__(id="runbook-pane", classes="pane")
        self.border_title = "Runbook checks"

    def show(self, findings: Sequence[Finding]) -> None:
        failing = sum(1 for f in findings if f.state == "fail")
        title = f"Runbook checks · {failing} failing" if failing else "Runbook checks"
        if title != self.border_title:
            self.border_title = title
        self.show_text(render_findings(findings, 300, 8))  # QuietStatic cuts each line at the pane's edge
