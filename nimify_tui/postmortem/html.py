"""``report.html``: the post-mortem draft as one self-contained page that works offline: the same content as
``postmortem.md``, the latency and error-rate graphs as inline SVG, the session's screenshots embedded, and links
to the snapshot files. No script, no external font or style; every text from the cluster is escaped."""

from __future__ import annotations

import base64
from datetime import datetime
from html import escape
from pathlib import Path

from nimify_tui.postmortem.charts import line_chart
from nimify_tui.postmortem.incident import (
    Incident,
    duration_text,
    session_href,
    time_to_detect,
    time_to_mitigate,
    time_to_resolve,
)
from nimify_tui.postmortem.markdown import action_items_plain, impact_lines, probable_cause, utc
from nimify_tui.triage.checks import ERROR_RATIO_THRESHOLD, LATENCY_THRESHOLD_S

MAX_SCREENSHOT_BYTES = 8 * 1024 * 1024


# the colour strip of each timeline row's kind (a test finds them in a browser's screenshot)
TIMELINE_COLOURS = {"failure": "#b00020", "detection": "#a35200", "action": "#1565c0", "recovery": "#006b2d"}
_STRIP_ROWS = {
    "failure": "tr.k-first-failure td.time, tr.k-check-failed td.time, tr.k-diagnosis td.time",
    "detection": "tr.k-detection td.time",
    "action": "tr.k-mitigation td.time, tr.k-action td.time",
    "recovery": "tr.k-recovery td.time",
}
STRIPS = "".join(f"{rows} {{ border-left: 6px solid {TIMELINE_COLOURS[k]}; }}\n" for k, rows in _STRIP_ROWS.items())

STYLE = (
    STRIPS
    + """
body { font-family: sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #1b1b1b; }
h1 { font-size: 1.6rem; } h2 { border-bottom: 1px solid #ccc; padding-bottom: .2rem; margin-top: 2rem; }
pre { background: #f4f4f4; padding: .5rem; white-space: pre-wrap; word-break: break-all; }
table.timeline { border-collapse: collapse; width: 100%; }
table.timeline td, table.timeline th { border-bottom: 1px solid #ddd; padding: .3rem .5rem; vertical-align: top;
  text-align: left; }
table.timeline td.time { font-family: monospace; white-space: nowrap; }
tr.k-first-failure td.kind, tr.k-check-failed td.kind, tr.k-diagnosis td.kind { color: #b00020; }
tr.k-mitigation td.kind, tr.k-recovery td.kind { color: #006b2d; font-weight: bold; }
tr.k-detection td.kind, tr.k-escalation td.kind { color: #a35200; font-weight: bold; }
.chart text { font: 11px sans-serif; fill: #333; } .chart .chart-title { font-weight: bold; }
.chart-frame { fill: #fafafa; stroke: #bbb; } .chart-line { fill: none; stroke: #c62828; stroke-width: 2; }
.chart-dot { fill: #c62828; } .chart-threshold { stroke: #999; stroke-dasharray: 4 3; }
.chart-mark { stroke: #1565c0; stroke-dasharray: 2 2; } .chart .chart-mark-label { fill: #1565c0; }
img.screenshot { max-width: 100%; border: 1px solid #ccc; }
.fill { color: #777; font-style: italic; }
"""
)


def _clock(at: datetime) -> str:
    return at.strftime("%H:%M:%S")


def _link(session_href: str, relative: str) -> str:
    return escape(f"{session_href}{relative}", quote=True)


def _screenshot(session: Path, relative: str) -> str:
    path = (session / relative).resolve()
    if not path.is_relative_to(session.resolve()) or not path.is_file():
        return f"<p>Screenshot {escape(relative)}: missing.</p>"
    data = path.read_bytes()
    if len(data) > MAX_SCREENSHOT_BYTES:
        return f"<p>Screenshot {escape(relative)}: too large to embed.</p>"
    kind = "image/svg+xml" if path.suffix == ".svg" else "image/png"
    encoded = base64.b64encode(data).decode("ascii")
    return (
        f'<figure><img class="screenshot" alt="{escape(relative, quote=True)}" src="data:{kind};base64,{encoded}">'
        f"<figcaption>{escape(relative)}</figcaption></figure>"
    )


def render_html(incident: Incident, out_dir: Path) -> str:
    """The page; links to the session's files are relative to ``out_dir``, where the page is written."""
    href = session_href(incident.session, out_dir)
    title = f"Post-mortem (draft): {incident.context or 'in-cluster'}"
    body: list[str] = [f"<h1>{escape(title)}</h1>"]
    add = body.append
    add(
        "<p class='fill'>Blameless: this document describes what happened and what the system allowed, "
        "not who did what wrong.</p>"
    )
    add(f"<p>Session {escape(incident.session.name)}, from {utc(incident.started)} to {utc(incident.ended)}.</p>")
    add("<h2 id='summary'>Summary</h2>")
    root = incident.root_cause
    if not incident.outage:
        add("<p>No check failed during this session: no outage was seen.</p>")
    else:
        state = (
            f"recovery was verified at {utc(incident.resolved)}"
            if incident.resolved
            else ("recovery was not verified before the session ended")
        )
        add(
            f"<p>An outage of severity {escape(incident.severity or 'unrated')} began at "
            f"{utc(incident.first_failure)}; {state}.</p>"
        )
        add(f"<p>Probable cause: {escape(probable_cause(incident))}.</p>")
    add("<h2 id='impact'>Impact</h2><ul>")
    end = incident.resolved or incident.ended
    duration = None if incident.first_failure is None or end is None else (end - incident.first_failure).total_seconds()
    add(f"<li>Severity: {escape(incident.severity or 'not rated')}</li><li>Duration: {duration_text(duration)}</li>")
    for line in impact_lines(incident):
        add(f"<li>{escape(line.removeprefix('- '))}</li>")
    add("</ul>")
    points = incident.outage_series()
    marks = [(at, label) for at, label in ((incident.first_failure, "failure"), (incident.resolved, "recovered")) if at]
    add(
        line_chart(
            "nimify-api latency p95",
            [(p.at, p.p95_ms) for p in points if p.p95_ms is not None],
            unit="ms",
            marks=marks,
            threshold=LATENCY_THRESHOLD_S * 1000,
        )
    )
    add(
        line_chart(
            "nimify-api 5xx ratio",
            [(p.at, p.error_ratio * 100) for p in points if p.error_ratio is not None],
            unit="%",
            marks=marks,
            threshold=ERROR_RATIO_THRESHOLD * 100,
        )
    )
    add("<h2 id='timeline'>Timeline (UTC)</h2>")
    add("<table class='timeline'><thead><tr><th>Time</th><th>Event</th><th>What</th></tr></thead><tbody>")
    for event in incident.events:
        detail = f"<pre>{escape(event.detail)}</pre>" if event.detail else ""
        css = "k-" + event.kind.replace(" ", "-")
        add(
            f"<tr class='{css}'><td class='time'>{_clock(event.at)}</td><td class='kind'>{escape(event.kind)}</td>"
            f"<td>{escape(event.text)}{detail}</td></tr>"
        )
    add("</tbody></table>")
    add("<h2 id='response'>Response times</h2><ul>")
    add(f"<li>Time to detect: {duration_text(time_to_detect(incident))}</li>")
    add(f"<li>Time to mitigate: {duration_text(time_to_mitigate(incident))}</li>")
    add(f"<li>Time to resolve: {duration_text(time_to_resolve(incident))}</li></ul>")
    add("<h2 id='root-cause'>Root cause</h2>")
    diagnosis = incident.diagnosis
    if diagnosis is not None:
        add(f"<p><strong>{escape(diagnosis.cause)}</strong></p>")
        link = _link(href, diagnosis.snapshot + "/triage.json")
        where = (
            f", in snapshot <a href='{link}'>{escape(diagnosis.snapshot)}</a>"
            if diagnosis.snapshot
            else ", as the journal recorded it"
        )
        add(
            f"<p class='fill'>{escape(diagnosis.runbook)}: the TUI's diagnosis at {_clock(diagnosis.at)} UTC"
            f"{where}.</p>"
        )
        add(f"<pre>{escape(chr(10).join(diagnosis.evidence))}</pre>")
        if diagnosis.kubectl:
            add(f"<p>The runbook's fix:</p><pre>$ {escape(diagnosis.kubectl)}</pre>")
        failed = [f for f in (root, *incident.symptoms) if f is not None]
        if failed:
            add("<p>Checks that failed:</p><ul>")
            add("".join(f"<li>{escape(f.subject)}: {escape(f.evidence)}</li>" for f in failed))
            add("</ul>")
    elif root is None:
        add("<p>Not determined from the journal.</p>")
    else:
        add(f"<p>{escape(root.subject)} (check {escape(root.check)}, first failed at {_clock(root.at)} UTC).</p>")
        add(f"<pre>{escape(root.evidence)}</pre>")
        if incident.symptoms:
            add("<p>Symptoms that followed from it:</p><ul>")
            for failure in incident.symptoms:
                add(f"<li>{escape(failure.subject)}: {escape(failure.evidence)}</li>")
            add("</ul>")
        add("<p class='fill'>Chosen from the checks that failed, a cause before its symptoms; confirm it.</p>")
    add("<h2 id='contributing'>Contributing factors</h2><ul>")
    if not incident.contributing:
        add("<li>No prevention finding was open at the end of the session.</li>")
    for failure in incident.contributing:
        add(f"<li>{escape(failure.subject)}: {escape(failure.evidence)}</li>")
    add("</ul>")
    add("<h2>What went well</h2><p class='fill'>(to fill in)</p>")
    add("<h2>What went badly</h2><p class='fill'>(to fill in)</p>")
    add("<h2 id='action-items'>Action items</h2><ul>")
    for item in action_items_plain(incident):
        add(f"<li>&#9744; {escape(item)}</li>")
    add("</ul>")
    if incident.snapshots:
        add("<h2 id='snapshots'>Snapshots</h2><ul>")
        for snapshot in incident.snapshots:
            files = "".join(
                f"<li><a href='{_link(href, snapshot.folder + '/' + name)}'>{escape(name)}</a></li>"
                for name in snapshot.files
            )
            add(
                f"<li>{_clock(snapshot.at)} UTC: <a href='{_link(href, snapshot.folder + '/')}'>"
                f"{escape(snapshot.folder)}</a><ul>{files}</ul></li>"
            )
        add("</ul>")
    if incident.screenshots:
        add("<h2 id='screenshots'>Screenshots</h2>")
        for shot in incident.screenshots:
            add(_screenshot(incident.session, shot))
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; img-src data:; "
        "style-src 'unsafe-inline'\">"
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n"
    )
