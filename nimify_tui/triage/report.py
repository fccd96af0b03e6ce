"""The triage as a report: the JSON document of ``nimify-tui triage --json``, its human summary and its exit status.

The JSON document is a contract read by scripts and alerting::

    {"state": "OK" | "DEGRADED" | "DOWN", "checked_at": "<RFC 3339 UTC>", "context": "<kubeconfig context>",
     "diagnoses": [{"scenario", "runbook", "component", "cause", "evidence": [...], "objects": [...],
                    "fix": null | {"action", "target", "parameters": {...}, "key", "kubectl"}}],
     "checks": [{"id", "title", "state": "pass" | "warn" | "fail" | "unknown", "evidence", "runbook"}]}

Values from the cluster stay as they are in JSON (its escaping keeps control characters off the terminal); the
human summary shows them literally through ``nimify_tui.text``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any, Literal

import orjson

from nimify_tui.actions.registry import REMEDY_BY_ID
from nimify_tui.text import one_line
from nimify_tui.triage.checks import Finding
from nimify_tui.triage.diagnosis import Diagnosis, Fix
from nimify_tui.triage.source import Triage

ReportState = Literal["OK", "DEGRADED", "DOWN"]

EXIT_HEALTHY = 0  # no diagnosis, state OK
EXIT_PROBLEM = 1  # a diagnosis, or a check failing
EXIT_NOT_CHECKED = 2  # the cluster could not be checked

_PROBLEM_CHECK_STATES = ("fail", "warn")


def rfc3339(timestamp: float) -> str:
    """``2026-12-07T03:25:00Z``: seconds since the epoch as an RFC 3339 UTC time, to the second."""
    return datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def fix_key(fix: Fix, keymap: Mapping[str, str]) -> str:
    """The key that applies ``fix`` in the TUI: the ``[keymap]`` entry of its remedy, else the remedy's default."""
    return keymap.get(fix.remedy, REMEDY_BY_ID[fix.remedy].key)


def report_state(triage: Triage) -> ReportState | None:
    """The report's state; None when no check could be answered (the cluster was not checked)."""
    overall = triage.overall
    return None if overall == "UNKNOWN" else overall


def exit_status(triage: Triage) -> int:
    state = report_state(triage)
    if state is None:
        return EXIT_NOT_CHECKED
    return EXIT_HEALTHY if state == "OK" and not triage.diagnoses else EXIT_PROBLEM


def _fix_document(fix: Fix, keymap: Mapping[str, str]) -> dict[str, Any]:
    return {
        "action": fix.action,
        "target": fix.target,
        "parameters": dict(fix.parameters),
        "key": fix_key(fix, keymap),
        "kubectl": fix.kubectl,
    }


def _diagnosis_document(diagnosis: Diagnosis, keymap: Mapping[str, str]) -> dict[str, Any]:
    return {
        "scenario": diagnosis.scenario,
        "runbook": diagnosis.runbook,
        "component": diagnosis.component,
        "cause": diagnosis.cause,
        "evidence": list(diagnosis.evidence),
        "objects": list(diagnosis.objects),
        "fix": _fix_document(diagnosis.fix, keymap) if diagnosis.fix is not None else None,
    }


def _check_document(finding: Finding) -> dict[str, Any]:
    return {
        "id": finding.check,
        "title": finding.title,
        "state": finding.state,
        "evidence": finding.evidence,
        "runbook": finding.runbook,
    }


def report_document(triage: Triage, *, context: str, keymap: Mapping[str, str]) -> dict[str, Any]:
    """The JSON document of one triage (a cluster that could be checked: see :func:`report_state`)."""
    state = report_state(triage)
    if state is None:
        raise ValueError("no check could be answered: there is no report to write")
    return {
        "state": state,
        "checked_at": rfc3339(triage.checked_at),
        "context": context,
        "diagnoses": [_diagnosis_document(d, keymap) for d in triage.diagnoses],
        "checks": [_check_document(f) for f in triage.findings],
    }


def json_report(triage: Triage, *, context: str, keymap: Mapping[str, str]) -> bytes:
    """The document as one line of JSON (one line per report: ``--watch`` writes JSON Lines)."""
    return orjson.dumps(report_document(triage, context=context, keymap=keymap))


def _fix_lines(fix: Fix, keymap: Mapping[str, str]) -> list[str]:
    parameters = " ".join(f"{one_line(name)}={one_line(value)}" for name, value in fix.parameters.items())
    key = fix_key(fix, keymap)
    lines = [f"  fix: {fix.action} {one_line(fix.target)}" + (f" ({parameters})" if parameters else "")]
    lines.append(f"    in the TUI: {key} on {one_line(fix.name)}" if key else "    in the TUI: no key applies it")
    lines.append(f"    kubectl: {one_line(fix.kubectl)}" if fix.kubectl else "    kubectl: no equivalent command")
    return lines


def _diagnosis_lines(diagnosis: Diagnosis, keymap: Mapping[str, str]) -> list[str]:
    lines = [
        f"Cause: {one_line(diagnosis.cause)}",
        f"  {diagnosis.scenario} in {one_line(diagnosis.component)} ({one_line(diagnosis.runbook)})",
    ]
    lines += [f"  evidence: {one_line(line)}" for line in diagnosis.evidence]
    if diagnosis.fix is None:
        lines.append("  fix: none certain enough to apply: see the evidence")
    else:
        lines += _fix_lines(diagnosis.fix, keymap)
    return lines


def summary_lines(triage: Triage, *, context: str, keymap: Mapping[str, str]) -> list[str]:
    """The human summary: the state, the most likely cause with its fix, then each failing check on one line."""
    state = report_state(triage) or "UNKNOWN"
    lines = [f"{state} (context {one_line(context)}, checked {rfc3339(triage.checked_at)})"]
    if triage.diagnoses:
        lines += _diagnosis_lines(triage.diagnoses[0], keymap)
        more = len(triage.diagnoses) - 1
        if more:
            lines.append(f"  {more} more diagnos{'is' if more == 1 else 'es'}: see --json")
    failing = [f for f in triage.findings if f.state in _PROBLEM_CHECK_STATES]
    unknown = [f.check for f in triage.findings if f.state == "unknown"]
    if failing:
        lines.append("Failing checks:")
        width = max(len(f.check) for f in failing)
        lines += [f"  {f.state:<4} {f.check:<{width}}  {f.title}: {one_line(f.evidence)}" for f in failing]
    else:
        lines.append(f"All {len(triage.findings) - len(unknown)} answered checks pass.")
    if unknown:
        lines.append(f"Not answered: {', '.join(unknown)}")
    return lines
