"""What is wrong: the top diagnosis with its evidence and its fix, the other diagnoses, then the runbook's checks
(failing ones first with their evidence and the suggested fix)."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.css.scalar import Unit

from nimify_tui.text import one_line
from nimify_tui.triage.checks import Finding
from nimify_tui.triage.diagnosis import Diagnosis, Fix
from nimify_tui.ui.widgets.quiet_static import QuietStatic

_MARK = {"fail": ("✖", "bold red"), "pass": ("✔", "green"), "unknown": ("?", "dim")}
LINE_WIDTH = 300  # QuietStatic cuts each line at the pane's edge; this only bounds the text kept
MAX_EVIDENCE_LINES = 3
CHECK_LINES = 8  # the checks' lines (the pane's height in a wide terminal; a narrower one shows the first)
NO_FIX_WHY = "the cause is not certain, or no key here applies it"  # a diagnosis with no fix


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


def fix_in_words(fix: Fix) -> str:
    """The action, its target and its parameters: ``scale nimify-system/deployment/nimify-worker replicas=1``."""
    parameters = " ".join(f"{name}={value}" for name, value in fix.parameters.items())
    return " ".join(part for part in (fix.action, fix.target, parameters) if part)


def _fix_line(fix: Fix | None, fix_key: str, width: int) -> Text:
    """How to apply the fix: its key; or why none is offered."""
    if fix is None:
        return Text(f"  no fix offered: {NO_FIX_WHY}", style="dim")
    line = Text(f"  {fix_key}: ", style="bold cyan")
    line.append(one_line(fix_in_words(fix), width), style="cyan")
    return line


def render_diagnoses(diagnoses: Sequence[Diagnosis], fix_key: str, width: int, max_lines: int) -> list[Text]:
    """The top diagnosis (its cause, its fix, up to three lines of evidence as the room allows), then the others one
    line each; no more than ``max_lines`` lines (two at least: the cause and its fix)."""
    top, *others = diagnoses
    # the cause and what to press come first, so that the smallest pane still shows both; the evidence follows
    lines = [
        Text.assemble(("▶ ", "bold red"), (one_line(top.cause, width), "bold")),
        _fix_line(top.fix, fix_key, width),
    ]
    room_for_evidence = max(0, min(MAX_EVIDENCE_LINES, max_lines - 2))
    lines.extend(Text(f"  {one_line(line, width)}") for line in top.evidence[:room_for_evidence])
    lines.extend(Text.assemble(("▷ ", "red"), one_line(other.cause, width)) for other in others)
    return lines[: max(max_lines, 2)]


class RunbookPane(QuietStatic):
    """Shows what is wrong, why, and what to do: the diagnoses first, then the runbook's checks."""

    def __init__(self) -> None:
        super().__init__(id="runbook-pane", classes="pane")
        self.border_title = "Runbook checks"

    def room(self) -> int:
        """The lines the pane may show: its max-height less its border and padding."""
        max_height = self.styles.max_height
        if max_height is None or max_height.unit != Unit.CELLS:
            return CHECK_LINES
        return max(1, int(max_height.value) - self.styles.gutter.height)

    def show(self, findings: Sequence[Finding], diagnoses: Sequence[Diagnosis] = (), fix_key: str = "f") -> None:
        """``fix_key``: the key that applies the top diagnosis's fix, as the keymap in effect binds it."""
        failing = sum(1 for f in findings if f.state == "fail")
        title = f"Runbook checks · {failing} failing" if failing else "Runbook checks"
        if title != self.border_title:
            self.border_title = title
        checks = render_findings(findings, LINE_WIDTH, CHECK_LINES)  # what the pane's height leaves is shown
        if not diagnoses:
            self.show_text(checks)
            return
        lines = render_diagnoses(diagnoses, fix_key, LINE_WIDTH, self.room())
        self.show_text(Text("\n").join([*lines, checks]))
