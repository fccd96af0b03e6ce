"""The post-mortem draft from a journal written through the real Journal: the timeline's order and times, the
response times, the kubectl equivalents, the links to snapshots, escaping of hostile text, and `nimify-tui report`."""

from __future__ import annotations

import json
import re
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from nimify_tui.cli import main
from nimify_tui.journal.journal import Journal
from nimify_tui.metrics.api_latency import LatencyHistory, LatencyPoint
from nimify_tui.postmortem.after_session import write_after_session
from nimify_tui.postmortem.incident import build_incident
from nimify_tui.postmortem.kubectl_equivalent import kubectl_equivalent
from nimify_tui.postmortem.writer import read_incident, write_report

HOSTILE = "[bold red]boom[/] <script>alert(1)</script> *x* | `y` \x1b[31m"


def _action(journal: Journal, *, result: str = "ok") -> None:
    journal.action(
        who="alice",
        verb="set-resources",
        target_kind="Deployment",
        target_namespace="nimify-system",
        target_name="nimify-api",
        parameters={"container": "nimify-api", "limits.memory": "2Gi", "requests.memory": "512Mi"},
        dry_run_diff="limits.memory: 1Gi -> 2Gi",
        result=result,  # type: ignore[arg-type]
        error=None,
        duration_ms=20.0,
        request_method="PATCH",
        request_path="/apis/apps/v1/namespaces/nimify-system/deployments/nimify-api",
        request_body={"spec": {}},
    )


def _diagnosis(journal: Journal, event: str) -> None:
    journal.diagnosis(
        event=event,  # type: ignore[arg-type]
        scenario="crash-loop",
        component="nimify-api",
        runbook="Scenario 1: Pod Crash Loop",
        cause="nimify-api needs more memory than its limit (1Gi): OOMKilled",
        evidence=["last termination OOMKilled (exit code 137)", HOSTILE],
        objects=["nimify-system/pod/nimify-api-1"],
        kubectl="kubectl -n nimify-system set resources deployment/nimify-api --limits=memory=2Gi",
    )


def record_outage(
    folder: Path, *, note: str = "restarted by hand? no", snapshot: bool = False, diagnoses: bool = False
) -> Path:
    """A session's journal: crash loop, SEV-1, a fix, recovery verified; with short pauses so times differ."""
    with Journal.open(folder) as journal:
        journal.start(context="prod", server=None, user=None, namespaces=["nimify-system"], readonly=False, argv=[])
        journal.finding(check="quota", state="warn", previous=None, object_name="q", evidence="no ResourceQuota")
        time.sleep(0.01)
        journal.finding(
            check="api-health", state="fail", previous="pass", object_name="nimify-api /health", evidence="HTTP 503"
        )
        journal.finding(
            check="pods-crashloop",
            state="fail",
            previous="pass",
            object_name="nimify-system/pod/nimify-api-1",
            evidence="nimify-api-1 CrashLoopBackOff restarts=4 (OOMKilled)",
        )
        pending = datetime.now(timezone.utc) - timedelta(seconds=40)
        journal.finding(
            check="alerts",
            state="fail",
            previous=None,
            object_name="Runbook alerts",
            evidence=f"NimifyAPIDown pending since {pending:%H:%M:%S} UTC (fires at ...)",
        )
        time.sleep(0.01)
        if diagnoses:
            _diagnosis(journal, "appeared")
        journal.severity(level="SEV-1", reasons=["/health fails"])
        if snapshot:
            shot = folder / "snapshots" / "20260101-000000"
            shot.mkdir(parents=True)
            (shot / "state.txt").write_text("NAME READY\n")
            (shot / "manifest.json").write_text(json.dumps({"files": [{"path": "state.txt", "size": 11}]}))
            diagnosis = {
                "runbook": "Scenario 1: Pod Crash Loop",
                "cause": "needs more memory than its limit (1Gi): OOMKilled",
                "evidence": ["last termination OOMKilled (exit code 137)", HOSTILE],
                "fix": {"kubectl": "kubectl set resources deployment/nimify-api --limits=memory=2Gi"},
            }
            (shot / "triage.json").write_text(json.dumps({"diagnoses": [diagnosis], "checks": []}))
            journal.snapshot("snapshots/20260101-000000", trigger="detection", files=1)
        journal.note(note)
        journal.escalation(event="raised", prompt="Call the Engineering Manager", who="EM", why="30 min of outage")
        time.sleep(0.01)
        _action(journal)
        time.sleep(0.01)
        journal.finding(check="pods-crashloop", state="pass", previous="fail", object_name="p", evidence="ok")
        journal.finding(check="api-health", state="pass", previous="fail", object_name="h", evidence="HTTP 200")
        if diagnoses:
            _diagnosis(journal, "cleared")
        journal.severity(level=None, reasons=[])
        time.sleep(0.01)
        journal.recovery(
            outcome="verified",
            trigger="auto",
            after_action="set resources",
            started_at=time.time(),
            duration_ms=100.0,
            steps={"Health checks": "pass"},
            load_test={"requests": 10, "errors": 0, "p50_ms": 5.0, "p95_ms": 9.0},
        )
        journal.end("quit")
    return folder


def timeline(markdown: str) -> list[tuple[str, str]]:
    """(time, kind) of each timeline line of postmortem.md."""
    section = markdown.split("## Timeline (UTC)", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^- \*\*(\d\d:\d\d:\d\d)\*\* ([a-z -]+):", section, flags=re.MULTILINE)


def test_the_timeline_has_detection_then_the_action_then_verified_recovery(tmp_path: Path) -> None:
    written = write_report(record_outage(tmp_path / "s"))
    markdown = written.markdown.read_text()
    kinds = [kind for _, kind in timeline(markdown)]
    assert kinds[:2] == ["first failure", "detection"], kinds  # the alert's pending time, then the first check
    order = [kinds.index(k) for k in ("detection", "note", "escalation", "mitigation", "recovery")]
    assert order == sorted(order), kinds
    times = [t for t, _ in timeline(markdown)]
    assert times == sorted(times)
    incident = written.incident
    assert incident.first_failure and incident.detected and incident.mitigated and incident.resolved
    assert incident.first_failure < incident.detected <= incident.mitigated <= incident.resolved
    assert 39 <= (incident.detected - incident.first_failure).total_seconds() <= 42
    assert incident.severity == "SEV-1"


def test_the_root_cause_is_the_crash_loop_not_its_503_symptom(tmp_path: Path) -> None:
    markdown = write_report(record_outage(tmp_path / "s")).markdown.read_text()
    root = markdown.split("## Root cause", 1)[1].split("\n## ", 1)[0]
    assert "pods-crashloop" in root and "OOMKilled" in root
    assert "Symptoms that followed" in root and "HTTP 503" in root
    assert "kubectl -n nimify-system set resources deployment/nimify-api" in markdown
    assert "--limits=memory=2Gi --requests=memory=512Mi" in markdown


def test_response_times_and_contributing_factors_and_action_items(tmp_path: Path) -> None:
    markdown = write_report(record_outage(tmp_path / "s")).markdown.read_text()
    for line in ("- Time to detect: ", "- Time to mitigate: ", "- Time to resolve: "):
        assert line in markdown
        assert f"{line}n/a" not in markdown
    factors = markdown.split("## Contributing factors", 1)[1].split("\n## ", 1)[0]
    assert "no ResourceQuota" in factors
    items = markdown.split("## Action items", 1)[1]
    assert "ResourceQuota" in items and "missing in this cluster" in items and "PodDisruptionBudget" in items
    impact = markdown.split("## Impact", 1)[1].split("\n## ", 1)[0]
    assert re.search(r"- nimify-api /health failed from \d\d:\d\d:\d\d to \d\d:\d\d:\d\d UTC", impact)
    for section in ("## What went well", "## What went badly"):
        assert section in markdown


def test_hostile_text_is_literal_in_both_files(tmp_path: Path) -> None:
    written = write_report(record_outage(tmp_path / "s", note=HOSTILE))
    html = written.html.read_text()
    assert "<script>" not in html.lower().replace("&lt;script&gt;", "")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    markdown = written.markdown.read_text()
    assert "\\<script\\>" in markdown and "\\*x\\*" in markdown and "\\|" in markdown and "\x1b" not in markdown


def test_the_html_is_self_contained_and_links_the_snapshots(tmp_path: Path) -> None:
    session = record_outage(tmp_path / "s", snapshot=True)
    written = write_report(session, tmp_path / "out")
    html = written.html.read_text()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", html)
    assert "<svg" in html and "nimify-api latency p95" in html and "nimify-api 5xx ratio" in html
    assert "href='../s/snapshots/20260101-000000/state.txt'" in html
    assert (tmp_path / "out" / "../s/snapshots/20260101-000000/state.txt").is_file()
    markdown = written.markdown.read_text()
    assert "](<../s/snapshots/20260101-000000/>)" in markdown
    assert "snapshot: snapshots/20260101-000000 (detection)" in markdown


def test_a_session_without_an_outage_says_so() -> None:
    incident = build_incident(Path("/nowhere"), [])
    assert not incident.outage and incident.root_cause is None and incident.events == ()


def test_kubectl_equivalents_of_other_actions() -> None:
    target = {"kind": "Deployment", "namespace": "ns", "name": "api"}
    assert kubectl_equivalent({"verb": "scale", "target": target, "parameters": {"replicas": "3"}}) == (
        "kubectl -n ns scale deployment/api --replicas=3"
    )
    assert kubectl_equivalent({"verb": "restart", "target": target}) == "kubectl -n ns rollout restart deployment/api"
    node = {"kind": "Node", "name": "gpu-1"}
    assert kubectl_equivalent({"verb": "cordon", "target": node}) == "kubectl cordon gpu-1"
    load = {"verb": "load-model", "target": {"kind": "Model", "name": "m"}, "request": {"method": "POST",
            "path": "/v2/repository/models/m/load", "body": None}}  # fmt: skip
    assert kubectl_equivalent(load) == "curl -X POST /v2/repository/models/m/load"
    hostile = {"verb": "delete", "target": {"kind": "Pod", "namespace": "ns", "name": "x; rm -rf /"}}
    assert kubectl_equivalent(hostile) == "kubectl -n ns delete pod 'x; rm -rf /'"


def test_report_command_writes_both_files_and_refuses_a_folder_without_journal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    session = record_outage(tmp_path / "s")
    assert main(["report", str(session), "--out", str(tmp_path / "o")]) == 0
    assert (tmp_path / "o" / "postmortem.md").is_file() and (tmp_path / "o" / "report.html").is_file()
    assert "an outage" in capsys.readouterr().out
    assert main(["report", str(tmp_path)]) == 2
    assert "no journal.jsonl" in capsys.readouterr().err
    assert read_incident(session).resolved is not None


def test_the_end_of_a_session_writes_a_draft_only_after_an_outage(tmp_path: Path) -> None:
    now = time.time()
    history = LatencyHistory(
        (LatencyPoint(now, 0.25, 0.5, 3.0, None, None), LatencyPoint(now + 1, None, None, 0, None, None))
    )
    calm = tmp_path / "calm"
    with Journal.open(calm) as journal:
        journal.start(context="c", server=None, user=None, namespaces=[], readonly=True, argv=[])
        journal.finding(check="api-health", state="pass", previous=None, object_name="h", evidence="HTTP 200")
        journal.end("quit")
    assert write_after_session(calm, history) is None
    assert not (calm / "postmortem.md").exists() and not (calm / "report.html").exists()
    written = write_after_session(record_outage(tmp_path / "outage"), history)
    assert written is not None and written.markdown.is_file() and written.html.is_file()
    series = json.loads((tmp_path / "outage" / "latency-series.json").read_text())
    assert series[0] == {"at": round(now, 3), "p95_ms": 250.0, "error_ratio": 0.5}
    assert series[1]["p95_ms"] is None


def test_the_root_cause_is_the_tuis_diagnosis_when_a_snapshot_recorded_it(tmp_path: Path) -> None:
    written = write_report(record_outage(tmp_path / "s", snapshot=True))
    markdown = written.markdown.read_text()
    root = markdown.split("## Root cause", 1)[1].split("\n## ", 1)[0]
    assert root.strip().startswith("**Cause:** needs more memory than its limit (1Gi): OOMKilled")
    assert "Scenario 1: Pod Crash Loop" in root and "(<snapshots/20260101-000000/triage.json>)" in root
    assert "last termination OOMKilled (exit code 137)" in root and "$ kubectl set resources" in root
    assert "Checks that failed:" in root and "HTTP 503" in root
    assert "\x1b" not in markdown and "\x1b" not in written.html.read_text()
    assert "Probable cause: needs more memory than its limit" in markdown
    kinds = [kind for _, kind in timeline(markdown)]
    assert kinds[kinds.index("snapshot") + 1] == "diagnosis"
    assert "diagnosis: Scenario 1: Pod Crash Loop: needs more memory" in markdown


def test_each_journaled_diagnosis_is_in_the_timeline_when_it_appeared_and_when_it_cleared(tmp_path: Path) -> None:
    written = write_report(record_outage(tmp_path / "s", diagnoses=True))
    markdown = written.markdown.read_text()
    kinds = [kind for _, kind in timeline(markdown)]
    order = [kinds.index(k) for k in ("detection", "diagnosis", "mitigation", "diagnosis cleared", "recovery")]
    assert order == sorted(order), kinds
    assert "diagnosis: Scenario 1: Pod Crash Loop: nimify-api needs more memory" in markdown
    assert "diagnosis cleared: Scenario 1: Pod Crash Loop" in markdown
    root = markdown.split("## Root cause", 1)[1].split("\n## ", 1)[0]
    assert root.strip().startswith("**Cause:** nimify-api needs more memory than its limit (1Gi)")
    assert "as the journal recorded it" in root and "last termination OOMKilled" in root
    html = written.html.read_text()
    assert "k-diagnosis-cleared" in html and "as the journal recorded it" in html
    assert "\x1b" not in markdown and "<script>alert" not in html


def test_a_journaled_diagnosis_and_the_snapshots_make_one_row(tmp_path: Path) -> None:
    markdown = write_report(record_outage(tmp_path / "s", snapshot=True, diagnoses=True)).markdown.read_text()
    kinds = [kind for _, kind in timeline(markdown)]
    assert kinds.count("diagnosis") == 1 and kinds.count("diagnosis cleared") == 1, kinds
    assert "(<snapshots/20260101-000000/triage.json>)" in markdown, "the snapshot's triage.json stays the cause's"


def test_an_alert_dated_by_a_clock_ahead_of_the_journals_dates_nothing_earlier(tmp_path: Path) -> None:
    """Prometheus' "pending since" a few seconds after the finding that quotes it: its clock runs ahead (a
    simulated one, a skewed one); it is not taken for the day before."""
    folder = tmp_path / "s"
    with Journal.open(folder) as journal:
        journal.start(context="prod", server=None, user=None, namespaces=["nimify-system"], readonly=False, argv=[])
        ahead = datetime.now(timezone.utc) + timedelta(seconds=20)
        journal.finding(
            check="alerts",
            state="fail",
            previous=None,
            object_name="Runbook alerts",
            evidence=f"NimifyAPIDown pending since {ahead:%H:%M:%S} UTC (fires at ...)",
        )
        journal.end("quit")
    incident = write_report(folder).incident
    assert incident.first_failure == incident.detected
    kinds = [kind for _, kind in timeline(write_report(folder).markdown.read_text())]
    assert kinds[0] == "detection", kinds
