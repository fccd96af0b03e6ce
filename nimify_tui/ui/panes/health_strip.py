"""The health strip: each runbook probe green or red, with its latency and, when red, why."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text

from nimify_tui.probes import ProbeResult
from nimify_tui.text import one_line
from nimify_tui.ui.widgets.quiet_static import QuietStatic


def _chip(result: ProbeResult, latency: bool = True) -> Text:
    if result.ok:
        took = f" {result.latency_ms:.0f}ms" if latency else ""
        return Text.assemble(("● ", "bold green"), result.name, (took, "green"))
    code = f" {result.status}" if result.status else " down"
    return Text.assemble(("✖ ", "bold red"), (result.name, "bold red"), (code, "red"))


def _chips(results: Sequence[ProbeResult], width: int) -> list[Text]:
    """Every probe with its latency; where that is too wide, the green ones without it; then only the red ones by
    name, the green ones counted."""
    for chips in (
        [_chip(result) for result in results],
        [_chip(result, latency=False) for result in results],
    ):
        if sum(chip.cell_len + 2 for chip in chips) - 2 <= width:
            return chips
    chips = [_chip(result) for result in results if not result.ok]
    green = sum(1 for result in results if result.ok)
    if green:
        chips.append(Text.assemble(("● ", "bold green"), (f"{green} ok", "green")))
    return chips


def render_strip(results: Sequence[ProbeResult], width: int) -> Text:
    """The probes on one line of ``width`` cells and, while any is red, a second line that says why."""
    text = Text()
    if not results:
        text.append("probes: waiting for the first check…", style="dim")
        return text
    text.append(Text("  ").join(_chips(results, width)))
    failing = [r for r in results if not r.ok]
    if failing:
        text.append("\n")
        errors = "  ".join(f"{r.name}: {r.error or f'HTTP {r.status}'}" for r in failing)
        text.append(one_line(errors, max(20, width)), style="red")
    return text


class HealthStrip(QuietStatic):
    """One line of probe chips, fitted to the width; a second line with the errors while any is red."""

    DEFAULT_CSS = """
    HealthStrip { height: auto; max-height: 2; padding: 0 1; background: $boost; }
    """

    _results: Sequence[ProbeResult] = ()

    def show(self, results: Sequence[ProbeResult]) -> None:
        self._results = results
        self.show_text(render_strip(results, self.content_region.width or 300))

    def on_resize(self) -> None:
        self.show(self._results)  # the chips that fit depend on the width
