"""``postmortem.md``: a blameless post-mortem draft in the usual shape, from an :class:`Incident`.

Every text that came from the cluster or the operator is escaped, so that Markdown never interprets it."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

from nimify_tui.postmortem.incident import (
    USERS_PATH_CHECKS,
    Incident,
    duration_text,
    session_href,
    time_to_detect,
    time_to_mitigate,
    time_to_resolve,
)

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|~&])")  # enough for inline text: no emphasis, link, tag or cell

# the runbook's prevention section: the check that watches each item, and the action item when it is missing
PREVENTION_ITEMS = (
    ("pdb", "Add a PodDisruptionBudget for nimify-api (minAvailable 2), so that a drain never takes every replica."),
    ("quota", "Add a ResourceQuota to the namespace, so that one runaway deployment cannot take the nodes."),
    ("probes", "Give every nimify-api container readiness and liveness probes."),
    ("alerts", "Keep the runbook's alert rules (NimifyAPIDown, high latency, high error rate, GPU memory) loaded."),
)


def md_escape(text: str) -> str:
    """``text`` as literal Markdown: one line, every special character escaped."""
    one_line = " ".join(text.split())
    return _MARKDOWN_SPECIAL.sub(r"\\\1", one_line)


def utc(at: datetime | None) -> str:
    return "n/a" if at is None else at.strftime("%Y-%m-%d %H:%M:%S UTC")


def clock(at: datetime) -> str:
    return at.strftime("%H:%M:%S")


def code_block(text: str) -> list[str]:
    fence = "```"
    while fence in text:
        fence += "`"
    return [fence + "text", text, fence]


def impact_lines(incident: Incident) -> list[str]:
    points = incident.outage_series()
    p95s = [p.p95_ms for p in points if p.p95_ms is not None]
    ratios = [p.error_ratio for p in points if p.error_ratio is not None]
    lines = []
    for check, since, until in incident.unavailable:
        end = f"to {clock(until)} UTC" if until else "until the session ended"
        seconds = ((until or incident.ended or since) - since).total_seconds()
        lines.append(f"- {USERS_PATH_CHECKS[check]} failed from {clock(since)} {end} ({duration_text(seconds)})")
    if ratios:
        lines.append(
            f"- 5xx ratio (as nimify-api's pods counted it: not the requests that reached no pod): "
            f"peak {max(ratios) * 100:.1f}%, last {ratios[-1] * 100:.1f}%"
        )
    else:
        lines.append("- 5xx ratio: not recorded during the outage")
    if p95s:
        lines.append(f"- Latency p95: peak {max(p95s):.0f} ms, last {p95s[-1]:.0f} ms")
    else:
        lines.append("- Latency p95: not recorded during the outage")
    if incident.load_test:
        t = incident.load_test
        lines.append(
            f"- Load test at recovery: {t.get('requests')} requests, {t.get('errors')} errors, "
            f"p50 {t.get('p50_ms')} ms, p95 {t.get('p95_ms')} ms"
        )
    return lines


def probable_cause(incident: Incident) -> str:
    if incident.diagnosis is not None:
        return incident.diagnosis.cause
    root = incident.root_cause
    return f"{root.subject}: {root.evidence}" if root else "not determined"


def render_markdown(incident: Incident, links_from: Path | None = None) -> str:
    """The draft; links to the session's files are relative to ``links_from`` (the session folder when None)."""
    href = session_href(incident.session, links_from) if links_from is not None else ""
    lines: list[str] = []
    add = lines.append
    context = md_escape(incident.context or "in-cluster")
    add(f"# Post-mortem (draft): {context}")
    add("")
    add("*Blameless: this document describes what happened and what the system allowed, not who did what wrong.*")
    add("")
    add(f"Session: `{incident.session.name}` · from {utc(incident.started)} to {utc(incident.ended)}")
    add("")
    add("## Summary")
    add("")
    root = incident.root_cause
    if not incident.outage:
        add("No check failed during this session: no outage was seen.")
    else:
        cause = md_escape(probable_cause(incident))
        state = (
            f"recovery was verified at {utc(incident.resolved)}"
            if incident.resolved
            else "recovery was not verified before the session ended"
        )
        add(f"An outage of severity {incident.severity or 'unrated'} began at {utc(incident.first_failure)}; {state}.")
        add(f"Probable cause: {cause}.")
    add("")
    add("## Impact")
    add("")
    add(f"- Severity: {incident.severity or 'not rated'}")
    end = incident.resolved or incident.ended
    duration = None if incident.first_failure is None or end is None else (end - incident.first_failure).total_seconds()
    ongoing = "" if incident.resolved or not incident.outage else " (still open when the session ended)"
    add(f"- Duration: {duration_text(duration)}{ongoing}")
    lines += impact_lines(incident)
    add("")
    add("## Timeline (UTC)")
    add("")
    if not incident.events:
        add("Nothing recorded.")
    for event in incident.events:
        add(f"- **{clock(event.at)}** {event.kind}: {md_escape(event.text)}")
        if event.kind in ("action", "mitigation"):
            add("")
            lines += ["  " + line for block in code_block(event.detail) for line in block.splitlines()]
            add("")
        elif event.detail:
            add(f"  {md_escape(event.detail)}")
    add("")
    add("## Response times")
    add("")
    add(f"- Time to detect: {duration_text(time_to_detect(incident))}")
    add(f"- Time to mitigate: {duration_text(time_to_mitigate(incident))}")
    add(f"- Time to resolve: {duration_text(time_to_resolve(incident))}")
    add("")
    add("## Root cause")
    add("")
    diagnosis = incident.diagnosis
    if diagnosis is not None:
        add(f"**Cause:** {md_escape(diagnosis.cause)}")
        add("")
        where = (
            f", in snapshot [{md_escape(diagnosis.snapshot)}](<{href}{diagnosis.snapshot}/triage.json>)"
            if diagnosis.snapshot
            else ", as the journal recorded it"
        )
        add(f"*{md_escape(diagnosis.runbook)}: the TUI's diagnosis at {clock(diagnosis.at)} UTC{where}.*")
        add("")
        add("Evidence:")
        add("")
        lines += code_block("\n".join(diagnosis.evidence))
        if diagnosis.kubectl:
            add("")
            add("The runbook's fix:")
            add("")
            lines += code_block(f"$ {diagnosis.kubectl}")
        failed = [f for f in (root, *incident.symptoms) if f is not None]
        if failed:
            add("")
            add("Checks that failed:")
            add("")
            lines += [f"- {md_escape(f.subject)}: {md_escape(f.evidence)}" for f in failed]
    elif root is None:
        add("Not determined from the journal.")
    else:
        add(f"{md_escape(root.subject)} (check `{root.check}`, first failed at {clock(root.at)} UTC).")
        add("")
        add("Evidence:")
        add("")
        lines += code_block(root.evidence)
        if incident.symptoms:
            add("")
            add("Symptoms that followed from it:")
            add("")
            for failure in incident.symptoms:
                add(f"- {md_escape(failure.subject)}: {md_escape(failure.evidence)}")
        add("")
        add("*Chosen from the checks that failed, a cause before its symptoms; confirm it.*")
    add("")
    add("## Contributing factors")
    add("")
    if not incident.contributing:
        add("No prevention finding was open at the end of the session.")
    for failure in incident.contributing:
        add(f"- {md_escape(failure.subject)}: {md_escape(failure.evidence)}")
    add("")
    add("## What went well")
    add("")
    add("- *(to fill in)*")
    add("")
    add("## What went badly")
    add("")
    add("- *(to fill in)*")
    add("")
    add("## Action items")
    add("")
    lines += [f"- [ ] {item}" for item in action_items(incident)]
    if incident.snapshots or incident.screenshots:
        add("")
        add("## Evidence")
        add("")
        for snapshot in incident.snapshots:
            add(f"- Snapshot at {clock(snapshot.at)} UTC: [{md_escape(snapshot.folder)}](<{href}{snapshot.folder}/>)")
        for shot in incident.screenshots:
            add(f"- Screenshot: [{md_escape(shot)}](<{href}{shot}>)")
    add("")
    return "\n".join(lines)


def action_items_plain(incident: Incident) -> list[str]:
    """The open prevention findings, the runbook's prevention items, and the root cause's recurrence."""
    open_gaps = {f.check for f in incident.contributing}
    items = [f"{f.subject}: {f.evidence}" for f in incident.contributing]
    for check, text in PREVENTION_ITEMS:
        state = "missing in this cluster" if check in open_gaps else "check that it is in place"
        items.append(f"{text} ({state})")
    if incident.root_cause is not None:
        items.append(f"Prevent a recurrence of: {incident.root_cause.subject}")
    return items


def action_items(incident: Incident) -> list[str]:
    return [md_escape(item) for item in action_items_plain(incident)]
