"""Each diagnosis journaled once when it appears and once when it clears, with its evidence redacted as every
journal entry is."""

from __future__ import annotations

from pathlib import Path

from nimify_tui.journal.journal import Journal, read_journal
from nimify_tui.triage.diagnosis import Diagnosis, Fix
from nimify_tui.triage.source import diagnosis_changes


def a_diagnosis(component: str, cause: str = "OOMKilled at its memory limit (1Gi)") -> Diagnosis:
    return Diagnosis(
        scenario="crash-loop",
        runbook="Scenario 1: Pod Crash Loop",
        component=component,
        cause=cause,
        evidence=("last termination OOMKilled (exit code 137)",),
        objects=(f"nimify-system/pod/{component}-1",),
        fix=Fix("set-resources", "nimify-system", "deployment", component, kubectl="kubectl set resources ..."),
    )


def test_a_diagnosis_is_reported_when_it_appears_and_when_it_clears_not_while_it_stays() -> None:
    api, worker = a_diagnosis("nimify-api"), a_diagnosis("nimify-worker")
    assert diagnosis_changes({}, [api]) == [(api, True)]
    seen = {("crash-loop", "nimify-api"): api}
    reworded = a_diagnosis("nimify-api", cause="OOMKilled: needs more memory")
    assert diagnosis_changes(seen, [reworded, worker]) == [(worker, True)], "the same cause reworded: no change"
    assert diagnosis_changes(seen, []) == [(api, False)], "cleared, as it was last seen"


def test_a_journaled_diagnosis_keeps_its_evidence_and_fix_and_never_a_secret(tmp_path: Path) -> None:
    with Journal.open(tmp_path) as journal:
        journal.register_secret("canary-3b9e1f")
        journal.diagnosis(
            event="appeared",
            scenario="crash-loop",
            component="nimify-api",
            runbook="Scenario 1: Pod Crash Loop",
            cause="OOMKilled",
            evidence=["last termination OOMKilled", "env HF_TOKEN=canary-3b9e1f"],
            objects=["nimify-system/pod/nimify-api-1"],
            kubectl="kubectl set resources deployment/nimify-api --limits=memory=2Gi",
        )
    (entry,) = [e for e in read_journal(tmp_path / "journal.jsonl") if e["kind"] == "diagnosis"]
    assert entry["event"] == "appeared" and entry["scenario"] == "crash-loop"
    assert entry["evidence"][0] == "last termination OOMKilled"
    assert entry["kubectl"].endswith("--limits=memory=2Gi")
    assert "canary-3b9e1f" not in (tmp_path / "journal.jsonl").read_text()
