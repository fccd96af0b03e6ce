"""Write a session's post-mortem draft: ``postmortem.md`` and ``report.html``."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from nimify_tui.journal.journal import JOURNAL_FILE_NAME, JournalError, read_journal
from nimify_tui.postmortem.html import render_html
from nimify_tui.postmortem.incident import SERIES_FILE_NAME, Incident, build_incident
from nimify_tui.postmortem.markdown import render_markdown

MARKDOWN_FILE_NAME = "postmortem.md"
HTML_FILE_NAME = "report.html"


class ReportError(Exception):
    """The session folder holds no readable journal, or the report cannot be written."""


@dataclass(frozen=True, slots=True)
class Written:
    incident: Incident
    markdown: Path
    html: Path


def read_incident(session: Path) -> Incident:
    journal = session / JOURNAL_FILE_NAME
    if not journal.is_file():
        raise ReportError(f"{session}: no {JOURNAL_FILE_NAME} (not a session folder)")
    try:
        entries = read_journal(journal)
    except (OSError, JournalError) as exc:
        raise ReportError(str(exc)) from None
    return build_incident(session, entries)


def _write(path: Path, text: str) -> None:
    """Write ``text`` whole or not at all (a reader never sees half a report); mode 0600, like the journal."""
    partial = path.with_name(f".{path.name}.partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    partial.replace(path)


def write_report(session: Path, out_dir: Path | None = None) -> Written:
    """Write ``postmortem.md`` and ``report.html`` into ``out_dir`` (the session folder when None)."""
    session = session.expanduser().resolve()
    incident = read_incident(session)
    out = (out_dir or session).expanduser().resolve()
    try:
        out.mkdir(parents=True, exist_ok=True)
        markdown = out / MARKDOWN_FILE_NAME
        html = out / HTML_FILE_NAME
        _write(markdown, render_markdown(incident, links_from=out))
        _write(html, render_html(incident, out))
    except OSError as exc:
        raise ReportError(f"cannot write the report into {out}: {exc.strerror or exc}") from None
    return Written(incident, markdown, html)


def write_series(session: Path, points: Iterable[tuple[float, float | None, float | None]]) -> Path:
    """Keep the latency series the TUI saw (time, p95 in ms, 5xx ratio) beside the journal, for the report."""
    rows = [{"at": round(at, 3), "p95_ms": p95, "error_ratio": ratio} for at, p95, ratio in points]
    path = session / SERIES_FILE_NAME
    _write(path, json.dumps(rows, separators=(",", ":")))
    return path


def report_command(session: Path, out_dir: Path | None, prog: str) -> int:
    """``report SESSION_DIR [--out DIR]``: write the draft, print where; exit status 0, or 2 with the reason."""
    try:
        written = write_report(session, out_dir)
    except ReportError as exc:
        print(f"{prog} report: {exc}", file=sys.stderr, flush=True)
        return 2
    outage = "an outage" if written.incident.outage else "no outage"
    print(f"{written.markdown}\n{written.html}\n({outage} in {written.incident.session.name})", flush=True)
    return 0
