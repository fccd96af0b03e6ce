"""At the end of a TUI session: keep the latency series it saw, and write the post-mortem draft if it saw an
outage (a session that saw none leaves no draft)."""

from __future__ import annotations

from pathlib import Path

from nimify_tui.metrics.api_latency import LatencyHistory
from nimify_tui.postmortem.writer import ReportError, Written, read_incident, write_report, write_series


def write_after_session(folder: Path, history: LatencyHistory | None) -> Written | None:
    """The draft written into the session ``folder``, or None when there was no outage or it cannot be written
    (``nimify-tui report`` can write it later from the same folder)."""
    try:
        if history is not None and history.points:
            points = [
                (p.at, None if p.api_p95_s is None else round(p.api_p95_s * 1000, 1), p.api_error_ratio)
                for p in history.points
            ]
            write_series(folder, points)
        if not read_incident(folder).outage:
            return None
        return write_report(folder)
    except (ReportError, OSError):
        return None
