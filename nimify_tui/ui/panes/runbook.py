"""What is wrong: the top diagnosis with its evidence and its fix, the other diagnoses, then the runbook's checks
(failing ones first with their evidence and the suggested fix)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.css.scalar import Unit

from nimify_tui.text import one_line
from nimify_tui.triage.checks import Finding
from nimify_tui.triage.diagnosis import Diagnosis, Fix
from nimify_tui.ui.widgets.quiet_static import QuietStatic

_MARK = {"fail": ("✖", "bold red"), "pass": ("✔", "green"), "unknown": ("?", "dim")}
LINE_WIDTH = 300  # QuietStatic cuts each line at the pane's edge; this only bounds the text kept
MAX_EVIDENCE_LINES = 3
CHECK_LINES = 60  # the failing checks' lines kept (two each: the check and its fix); the pane scrolls
NARROW_ROWS = 7  # the pane's rows in a narrow terminal during an outage: the cause, its fix, three of evidence
WIDE_MIN_ROWS = 10
NO_FIX_WHY = "the cause is not certain, or no key here applies it"  # a diagnosis with no fix


_KEY_HINT = re.compile(r" ?\((?P<key>[A-Za-z]|ctrl\+[a-z])\)")


def without_unusable(hint: str, unusable: frozenset[str]) -> str:
    """The hint without the keys in ``unusable`` (``raise it on the deployment (m)`` in a read-only session)."""
    return _KEY_HINT.sub(lambda m: "" if m.group("key") in unusable else m.group(0), hint) if unusable else hint


def render_findings(
    findings: Sequence[Finding], width: int, max_lines: int, unusable: frozenset[str] = frozenset()
) -> Text:
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
            text.append(one_line(without_unusable(finding.fix, unusable), width), style="cyan")
            lines += 1
    return text


def fix_in_words(fix: Fix) -> str:
    """The action, its target and its parameters: ``scale nimify-system/deployment/nimify-worker replicas=1``."""
    parameters = " ".join(f"{name}={value}" for name, value in fix.parameters.items())
    return " ".join(part for part in (fix.action, fix.target, parameters) if part)


def _fix_line(fix: Fix | None, fix_key: str, width: int, unusable: frozenset[str]) -> Text:
    """How to apply the fix: its key (or why the session cannot use it); or why none is offered."""
    if fix is None:
        return Text(f"  no fix offered: {NO_FIX_WHY}", style="dim")
    if fix_key in unusable:
        line = Text("  fix (not here: read-only): ", style="dim")
        line.append(one_line(fix_in_words(fix), width), style="dim cyan")
        return line
    line = Text(f"  {fix_key}: ", style="bold cyan")
    line.append(one_line(fix_in_words(fix), width), style="cyan")
    return line


def render_diagnoses(
    diagnoses: Sequence[Diagnosis], fix_key: str, width: int, max_lines: int, unusable: frozenset[str] = frozenset()
) -> list[Text]:
    """The top diagnosis (its cause, its fix, up to three lines of evidence as the room allows), then the others one
    line each; no more than ``max_lines`` lines (two at least: the cause and its fix)."""
    top, *others = diagnoses
    # the cause and what to press come first, so that the smallest pane still shows both; the evidence follows
    lines = [
        Text.assemble(("▶ ", "bold red"), (one_line(top.cause, width), "bold")),
        _fix_line(top.fix, fix_key, width, unusable),
    ]
    room_for_evidence = max(0, min(MAX_EVIDENCE_LINES, max_lines - 2))
    lines.extend(Text(f"  {one_line(line, width)}") for line in top.evidence[:room_for_evidence])
    lines = lines[: max(max_lines, 2)]
    lines.extend(Text.assemble(("▷ ", "red"), one_line(other.cause, width)) for other in others)
    return lines


class RunbookPane(QuietStatic, can_focus=True):
    """Shows what is wrong, why, and what to do: the diagnoses first, then the runbook's checks. It takes the rows
    its lines need (within a share of the screen; during an outage it does not shrink back, so the panes below do
    not jump), and scrolls (``0`` focuses it) when they do not all fit: its title says how many lines are hidden."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "scroll_lines(-1)", "Up", show=False),
        Binding("down,j", "scroll_lines(1)", "Down", show=False),
        Binding("pageup", "scroll_lines(-10)", "Page up", show=False),
        Binding("pagedown", "scroll_lines(10)", "Page down", show=False),
        Binding("home,g", "scroll_lines(-1000000)", "Top", show=False),
        Binding("end,G", "scroll_lines(1000000)", "Bottom", show=False),
    ]

    def __init__(self) -> None:
        super().__init__(id="runbook-pane", classes="pane")
        self.border_title = "Runbook checks"
        self._all_lines: list[Text] = []
        self._offset = 0  # the first line shown
        self._held = 0  # the height reached during this outage: kept until it is over
        self._incident = False
        self.spare_rows = 0  # rows the shown table does not need (narrow terminals): the pane may take them

    def room(self) -> int:
        """The lines the pane may show: its max-height less its border and padding."""
        max_height = self.styles.max_height
        if max_height is None or max_height.unit != Unit.CELLS:
            return CHECK_LINES
        return max(1, int(max_height.value) - self.styles.gutter.height)

    def _cap(self, incident: bool) -> int:
        """The most rows the pane takes: in a narrow terminal the top diagnosis (cause, fix, three lines of
        evidence) and the rows the table below leaves empty; in a wide one two fifths of the screen below the
        header."""
        height = self.screen.size.height
        if self.screen.has_class("-zoom-runbook"):
            return height - 2  # all but the header and the footer
        if self.screen.has_class("-narrow"):
            return NARROW_ROWS + self.spare_rows if incident else 3
        return max(WIDE_MIN_ROWS, (height - 3) * 2 // 5)

    def _fit(self, needed: int, incident: bool) -> None:
        rows = needed + self.styles.gutter.height
        if self.screen.has_class("-zoom-runbook"):
            rows = self._cap(incident)
        if incident:
            rows = self._held = max(rows, self._held)
        else:
            self._held = 0
        rows = max(3, min(rows, self._cap(incident)))
        current = self.styles.max_height
        if current is None or current.unit != Unit.CELLS or int(current.value) != rows:
            self.styles.max_height = rows
            self.styles.height = rows  # held: not the content's height, which may shrink meanwhile

    def show(
        self,
        findings: Sequence[Finding],
        diagnoses: Sequence[Diagnosis] = (),
        fix_key: str = "f",
        unusable: frozenset[str] = frozenset(),
        steps: Text | None = None,
    ) -> None:
        """``fix_key``: the key that applies the top diagnosis's fix, as the keymap in effect binds it;
        ``unusable``: the keys the session may not use (read-only), never named as a hint; ``steps``: the in-pod
        steps called for, with their keys (shown under the diagnoses)."""
        failing = sum(1 for f in findings if f.state == "fail")
        title = f"Runbook checks · {failing} failing" if failing else "Runbook checks"
        if title != self.border_title:
            self.border_title = title
        all_pass = bool(findings) and not failing and not diagnoses
        self.set_class(all_pass, "-all-pass")
        checks = render_findings(findings, LINE_WIDTH, CHECK_LINES, unusable)
        lines = render_diagnoses(diagnoses, fix_key, LINE_WIDTH, 2 + MAX_EVIDENCE_LINES, unusable) if diagnoses else []
        if steps is not None:
            lines.insert(2 if diagnoses else 0, steps)  # under the cause and its fix
        self._all_lines = [*lines, *checks.split("\n")]
        self._incident = bool(failing or diagnoses)
        self.refit()

    def refit(self) -> None:
        """Take the rows the lines need now (the screen zoomed, or resized), and draw them."""
        self._fit(len(self._all_lines), self._incident)
        self._draw()

    def _draw(self) -> None:
        room = self.room()
        self._offset = max(0, min(self._offset, len(self._all_lines) - room))
        below = len(self._all_lines) - self._offset - room
        marks = [f"↑{self._offset}" if self._offset else "", f"↓{below} more (0, then ↓)" if below > 0 else ""]
        subtitle = " ".join(mark for mark in marks if mark)
        if subtitle != self.border_subtitle:
            self.border_subtitle = subtitle
        self.show_text(Text("\n").join(self._all_lines[self._offset :]))

    def action_scroll_lines(self, lines: int) -> None:
        self._offset += lines
        self._draw()
