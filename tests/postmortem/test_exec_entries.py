"""Exec in the post-mortem: a read-only in-pod step, a shell and a helper pod stay in the timeline as the kubectl
commands that do the same, and none of them is ever the mitigation; the cache cleanup, a fix, can be."""

from __future__ import annotations

import time
from pathlib import Path

from nimify_tui.actions.exec_steps import STEP_BY_ID, StepResult, Verdict, journal_step
from nimify_tui.journal.journal import Journal, read_journal
from nimify_tui.kube.exec import ExecResult, ExecTarget
from nimify_tui.postmortem.incident import build_incident, parse_ts

NS = "nimify-system"


def action(journal: Journal, verb: str, name: str, parameters: dict[str, str], path: str) -> None:
    journal.action(
        who="sim-admin",
        verb=verb,
        target_kind="Pod" if verb != "scale" else "Deployment",
        target_namespace=NS,
        target_name=name,
        parameters=parameters,
        dry_run_diff=None,
        result="ok",
        error=None,
        duration_ms=12.0,
        request_method="POST",
        request_path=path,
        request_body=None,
    )


def step(journal: Journal, step_id: str, pod: str, stdout: str) -> None:
    target = ExecTarget(NS, pod, "nimify-api")
    command = STEP_BY_ID[step_id].command
    done = StepResult(
        step_id, target, ExecResult(command, stdout, "", 0), Verdict("pass", "ok"), time.time(), False, command
    )
    journal_step(journal, "sim-admin", done)


def test_read_only_steps_and_helper_pods_are_never_the_mitigation(tmp_path: Path) -> None:
    with Journal.open(tmp_path) as journal:
        journal.start(
            context="sim-admin", server="https://sim", user="sim-admin", namespaces=[NS], readonly=False, argv=[]
        )
        journal.finding(check="api-ready", state="fail", previous=None, object_name="nimify-api", evidence="503")
        step(journal, "step-database", "nimify-api-1", "psql: error: connection refused")
        action(journal, "scale", "postgres", {"replicas": "1"}, f"/apis/apps/v1/namespaces/{NS}/deployments/postgres")
        step(journal, "step-database", "nimify-api-1", "(1 row)")  # checked again after the fix
        action(journal, "create", "nimify-volume-helper-1", {"for_step": "df -h", "helper_pod": "true"}, "/pods")
        action(journal, "delete", "nimify-volume-helper-1", {"helper_pod": "true"}, "/pods/nimify-volume-helper-1")
        journal.end("quit")
    entries = read_journal(tmp_path / "journal.jsonl")
    incident = build_incident(tmp_path, entries)
    (scale,) = [e for e in entries if e.get("verb") == "scale"]
    assert incident.mitigated == parse_ts(str(scale["ts"])), "the scale, not a later step or the helper pod"
    steps = [event for event in incident.events if event.text.startswith("exec Pod")]
    assert len(steps) == 2
    assert steps[0].detail.startswith(
        '$ kubectl -n nimify-system exec nimify-api-1 -c nimify-api -- psql -h postgres -U nimify -c "SELECT 1;"'
    ), steps[0].detail


def test_the_cleanup_is_a_fix_and_may_be_the_mitigation(tmp_path: Path) -> None:
    with Journal.open(tmp_path) as journal:
        journal.start(
            context="sim-admin", server="https://sim", user="sim-admin", namespaces=[NS], readonly=False, argv=[]
        )
        journal.finding(check="storage", state="fail", previous=None, object_name="model-storage", evidence="full")
        action(journal, "create", "nimify-volume-helper-1", {"helper_pod": "true"}, "/pods")
        cleanup = STEP_BY_ID["step-cleanup"].shell_text()
        action(journal, "exec", "nimify-volume-helper-1", {"command": cleanup, "container": "helper"}, "/exec")
        action(journal, "delete", "nimify-volume-helper-1", {"helper_pod": "true"}, "/pods/nimify-volume-helper-1")
        journal.end("quit")
    entries = read_journal(tmp_path / "journal.jsonl")
    incident = build_incident(tmp_path, entries)
    (cleaned,) = [e for e in entries if e.get("verb") == "exec"]
    assert incident.mitigated == parse_ts(str(cleaned["ts"])), "the cleanup, not the helper pod's deletion after it"
    (row,) = [event for event in incident.events if event.text.startswith("exec Pod")]
    assert row.detail.startswith(
        "$ kubectl -n nimify-system exec nimify-volume-helper-1 -c helper -- find /cache -type f -mtime +7 -delete"
    ), row.detail
