"""The runbook pane's diagnosis lines: the top cause, its evidence as the room allows, how to apply its fix, the
other causes one line each; text from the cluster shown literally."""

from __future__ import annotations

from types import MappingProxyType

from nimify_tui.triage.diagnosis import Diagnosis, Fix
from nimify_tui.ui.panes.runbook import render_diagnoses

SCALE = Fix(
    "scale",
    "nimify-system",
    "deployment",
    "nimify-worker",
    MappingProxyType({"replicas": "1"}),
    "kubectl scale deployment nimify-worker --replicas=1 -n nimify-system",
)
CORDON = Fix("cordon", "", "node", "gpu-node-2", MappingProxyType({}), "kubectl cordon gpu-node-2")


def diagnosis(cause: str, evidence: tuple[str, ...], fix: Fix | None) -> Diagnosis:
    return Diagnosis("resource-exhaustion", "Scenario 2", "nimify-worker", cause, evidence, (), fix)


def plain(diagnoses: list[Diagnosis], max_lines: int, key: str = "f") -> list[str]:
    return [line.plain for line in render_diagnoses(diagnoses, key, 300, max_lines)]


def test_the_top_cause_its_fix_its_evidence_as_the_room_allows_then_the_others() -> None:
    top = diagnosis("nimify-worker takes the cpu", ("e1", "e2", "e3", "e4"), SCALE)
    other = diagnosis("a GPU failed", ("x",), CORDON)
    assert plain([top, other], 8, "K") == [
        "▶ nimify-worker takes the cpu",
        "  K: scale nimify-system/deployment/nimify-worker replicas=1",
        "  e1",
        "  e2",
        "  e3",
        "▷ a GPU failed",
    ]
    assert plain([top, other], 3) == [
        "▶ nimify-worker takes the cpu",
        "  f: scale nimify-system/deployment/nimify-worker replicas=1",
        "  e1",
        "▷ a GPU failed",
    ], "less evidence, the cause and the fix first; the other causes follow (the pane scrolls to them)"
    assert plain([top, other], 2) == [
        "▶ nimify-worker takes the cpu",
        "  f: scale nimify-system/deployment/nimify-worker replicas=1",
        "▷ a GPU failed",
    ]


def test_the_cordon_fix_has_its_key_and_no_fix_says_so() -> None:
    assert plain([diagnosis("a GPU failed", (), CORDON)], 8)[1] == "  f: cordon node/gpu-node-2"
    assert plain([diagnosis("unknown", (), None)], 8)[1] == (
        "  no fix offered: the cause is not certain, or no key here applies it"
    )


def test_text_from_the_cluster_is_literal() -> None:
    lines = render_diagnoses(
        [diagnosis("[bold]OOM[/bold]\x1b]0;title\x07 killed", ("line\none\x1b[31m red",), SCALE)], "f", 300, 8
    )
    assert lines[0].plain == "▶ [bold]OOM[/bold] killed", "no markup read, no escape sequence kept"
    assert lines[2].plain == "  line one red", "one line, no colour codes"
    assert all("\x1b" not in line.plain for line in lines)
