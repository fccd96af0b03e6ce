"""What a session's journal says happened: the outage's times, the diagnoses, the actions and the recovery.

The journal records changes of each check's state (findings) and each of the TUI's diagnoses when it appeared and
when it cleared. The root cause is the TUI's first diagnosis (as the detection snapshot's ``triage.json`` holds it,
else as the journal does); the failures seen are ordered a cause before its symptoms (a crash loop before the 503s
it makes), as the runbook orders them; the draft says so, for people to confirm.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from nimify_tui.postmortem.kubectl_equivalent import kubectl_equivalent
from nimify_tui.text import sanitize

SERIES_FILE_NAME = "latency-series.json"  # written beside the journal when a TUI session ends

# checks that name a cause, most specific first; the symptoms (an empty service, failing health) come last
CAUSE_ORDER = (
    "pods-crashloop",
    "storage",
    "network-policies",
    "service-selectors",
    "tls",
    "models",
    "gpus",
    "nodes",
    "pods-pending",
    "triton-ready",
    "latency",
    "deployments",
    "prometheus",
    "endpoints",
    "ingress",
    "api-ready",
    "api-health",
    "alerts",
)
USERS_PATH_CHECKS = {"api-health": "nimify-api /health", "api-ready": "nimify-api /ready"}
SEVERITY_RANK = {"SEV-1": 1, "SEV-2": 2, "SEV-3": 3, "SEV-4": 4}
_ALERT_SINCE = re.compile(r"(?:pending|firing) since (\d\d:\d\d:\d\d) UTC")
_P95 = re.compile(r"p95 (\d+(?:\.\d+)?) ms")
_FIVE_XX = re.compile(r"5xx (\d+(?:\.\d+)?)%")


def clean(text: object) -> str:
    """Text from the journal, every line without escape sequences and with control characters made visible."""
    return "\n".join(sanitize(line, 4) for line in str(text).split("\n"))


def parse_ts(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)


@dataclass(frozen=True, slots=True)
class Event:
    at: datetime
    kind: str  # first failure, detection, diagnosis, action, note, mitigation, recovery, escalation, ...
    text: str
    detail: str = ""  # the evidence, or the action's kubectl equivalent and result


@dataclass(frozen=True, slots=True)
class Failure:
    at: datetime
    check: str
    subject: str
    evidence: str


@dataclass(frozen=True, slots=True)
class Diagnosed:
    """The TUI's top diagnosis, as a snapshot's ``triage.json`` recorded it (or the journal: ``snapshot`` "")."""

    at: datetime
    snapshot: str
    runbook: str
    cause: str
    evidence: tuple[str, ...]
    kubectl: str | None


@dataclass(frozen=True, slots=True)
class Point:
    at: datetime
    p95_ms: float | None
    error_ratio: float | None


@dataclass(frozen=True, slots=True)
class Snapshot:
    at: datetime
    folder: str  # relative to the session folder
    files: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Incident:
    session: Path
    context: str | None
    namespaces: tuple[str, ...]
    started: datetime | None
    ended: datetime | None
    severity: str | None  # the worst seen
    first_failure: datetime | None
    detected: datetime | None
    mitigated: datetime | None
    resolved: datetime | None
    root_cause: Failure | None
    symptoms: tuple[Failure, ...]
    contributing: tuple[Failure, ...]  # prevention gaps (warnings) still open at the end
    events: tuple[Event, ...]
    series: tuple[Point, ...]
    screenshots: tuple[str, ...]
    snapshots: tuple[Snapshot, ...]
    load_test: Mapping[str, Any] | None = None
    # what users met: (check, from, to or None while still failing at the end) of /health and /ready failing
    unavailable: tuple[tuple[str, datetime, datetime | None], ...] = ()
    diagnosis: Diagnosed | None = None  # from the first snapshot whose triage found one

    @property
    def outage(self) -> bool:
        return self.first_failure is not None

    def outage_series(self) -> tuple[Point, ...]:
        """The points between the first failure and the resolution (or the end), with a minute either side."""
        if self.first_failure is None:
            return self.series
        start = self.first_failure.timestamp() - 60
        last = self.resolved or self.ended
        end = last.timestamp() + 60 if last is not None else float("inf")
        return tuple(p for p in self.series if start <= p.at.timestamp() <= end)


def session_href(session: Path, out_dir: Path) -> str:
    """The session folder as a relative link prefix from ``out_dir`` ("" when they are the same folder)."""
    relative = os.path.relpath(session.resolve(), out_dir.resolve())
    return "" if relative == "." else Path(relative).as_posix() + "/"


CLOCK_SKEW = timedelta(hours=1)  # a time of day this little after the entry's is another clock's, not yesterday's


def _clock_before(at: datetime, hh_mm_ss: str) -> datetime:
    """The latest time of day ``hh_mm_ss`` (UTC) at or before ``at``; ``at`` itself when ``hh_mm_ss`` comes less
    than :data:`CLOCK_SKEW` after it (the alerting side's clock runs ahead: it dates nothing earlier)."""
    hour, minute, second = (int(part) for part in hh_mm_ss.split(":"))
    candidate = at.replace(hour=hour, minute=minute, second=second, microsecond=0)
    if candidate <= at:
        return candidate
    return at if candidate - at < CLOCK_SKEW else candidate - timedelta(days=1)


def _since(later: datetime | None, earlier: datetime | None) -> float | None:
    return None if later is None or earlier is None else max(0.0, (later - earlier).total_seconds())


def duration_text(seconds: float | None) -> str:
    if seconds is None:
        return "n/a"
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {secs:02d} s"
    return f"{secs} s"


def time_to_detect(incident: Incident) -> float | None:
    return _since(incident.detected, incident.first_failure)


def time_to_mitigate(incident: Incident) -> float | None:
    return _since(incident.mitigated, incident.first_failure)


def time_to_resolve(incident: Incident) -> float | None:
    return _since(incident.resolved, incident.first_failure)


def _rank(check: str) -> int:
    return CAUSE_ORDER.index(check) if check in CAUSE_ORDER else CAUSE_ORDER.index("latency")


def _load_series(session: Path, entries: Sequence[Mapping[str, Any]]) -> tuple[Point, ...]:
    points: list[Point] = []
    path = session / SERIES_FILE_NAME
    if path.is_file():
        try:
            raw = json.loads(path.read_text())
        except (OSError, ValueError):
            raw = []
        for item in raw if isinstance(raw, list) else []:
            if isinstance(item, dict) and isinstance(item.get("at"), int | float):
                p95 = item.get("p95_ms")
                ratio = item.get("error_ratio")
                points.append(
                    Point(
                        datetime.fromtimestamp(item["at"], timezone.utc),
                        float(p95) if isinstance(p95, int | float) else None,
                        float(ratio) if isinstance(ratio, int | float) else None,
                    )
                )
    if not points:  # no series recorded: the latency check's figures, at each change of its state
        for entry in entries:
            if entry.get("kind") == "finding" and entry.get("check") == "latency":
                evidence = str(entry.get("evidence", ""))
                p95 = _P95.search(evidence)
                five = _FIVE_XX.search(evidence)
                if p95 or five:
                    points.append(
                        Point(
                            parse_ts(entry["ts"]),
                            float(p95.group(1)) if p95 else None,
                            float(five.group(1)) / 100 if five else None,
                        )
                    )
    return tuple(sorted(points, key=lambda p: p.at))


def _snapshot_files(session: Path, folder: str) -> tuple[str, ...]:
    manifest = session / folder / "manifest.json"
    try:
        data = json.loads(manifest.read_text())
    except (OSError, ValueError):
        return ()
    files = data.get("files") if isinstance(data, dict) else None
    names: list[str] = []
    if isinstance(files, dict):
        names = [str(name) for name in files]
    elif isinstance(files, list):
        names = [str(f.get("path") or f.get("name")) for f in files if isinstance(f, dict)]
    return tuple(sorted(n for n in names if n and n != "None"))


def _diagnosed(session: Path, snapshot: Snapshot) -> Diagnosed | None:
    try:
        data = json.loads((session / snapshot.folder / "triage.json").read_text())
    except (OSError, ValueError):
        return None
    diagnoses = data.get("diagnoses") if isinstance(data, dict) else None
    if not isinstance(diagnoses, list) or not diagnoses or not isinstance(diagnoses[0], dict):
        return None
    top = diagnoses[0]
    fix = top.get("fix")
    kubectl = fix.get("kubectl") if isinstance(fix, dict) else None
    evidence = top.get("evidence")
    return Diagnosed(
        snapshot.at,
        snapshot.folder,
        clean(top.get("runbook") or top.get("scenario") or ""),
        clean(top.get("cause") or ""),
        tuple(clean(e) for e in evidence) if isinstance(evidence, list) else (),
        clean(kubectl) if isinstance(kubectl, str) else None,
    )


def _relative(session: Path, folder: str) -> str:
    path = Path(folder)
    if path.is_absolute():
        try:
            return path.resolve().relative_to(session.resolve()).as_posix()
        except ValueError:
            return path.as_posix()
    return path.as_posix()


def _event(at: datetime, kind: str, text: str, detail: str = "") -> Event:
    return Event(at, kind, clean(text), clean(detail))


class _Reader:
    """Reads one journal's entries in order, each kind by its own method, and keeps what the draft needs."""

    def __init__(self, session: Path) -> None:
        self.session = session
        self.events: list[Event] = []
        self.failing: dict[str, Failure] = {}  # check -> its failure, while it fails
        self.failures: list[Failure] = []
        self.last_state: dict[str, tuple[str, Failure]] = {}
        self.down_since: dict[str, datetime] = {}
        self.unavailable: list[tuple[str, datetime, datetime | None]] = []
        self.alert_since: list[tuple[datetime, Failure]] = []  # when the alerts say their condition began
        self.detected: datetime | None = None
        self.resolved: datetime | None = None
        self.worst: str | None = None
        self.ok_actions: list[datetime] = []
        self.screenshots: list[str] = []
        self.snapshots: list[Snapshot] = []
        self.load_test: Mapping[str, Any] | None = None
        self.diagnosis: Diagnosed | None = None
        self.journaled: list[Diagnosed] = []  # the diagnoses the journal recorded as they appeared

    def read(self, entry: Mapping[str, Any]) -> None:
        at = parse_ts(str(entry.get("ts")))
        kind = str(entry.get("kind"))
        if kind == "finding":
            self.finding(at, entry)
        elif kind == "severity":
            self.severity(at, entry)
        elif kind == "action":
            self.action(at, entry)
        elif kind == "recovery":
            self.recovery(at, entry)
        elif kind == "snapshot":
            self.snapshot(at, entry)
        elif kind == "diagnosis":
            self.diagnosed(at, entry)
        elif kind == "screenshot":
            self.screenshots.append(clean(entry.get("path", "")))
        elif kind == "note":
            self.events.append(_event(at, "note", str(entry.get("text", ""))))
        elif kind == "escalation":
            text = f"{entry.get('event')}: {entry.get('prompt', '')}"
            self.events.append(_event(at, "escalation", text, str(entry.get("why", ""))))
        elif kind == "escalation_criterion" and entry.get("ticked"):
            text = f"criterion met: {entry.get('text', '')}"
            self.events.append(_event(at, "escalation", text, str(entry.get("who"))))
        elif kind == "status_update" and entry.get("event") != "reminder":
            self.events.append(_event(at, "status update", str(entry.get("text", ""))))

    def finding(self, at: datetime, entry: Mapping[str, Any]) -> None:
        check = str(entry.get("check", ""))
        state = str(entry.get("state", ""))
        failure = Failure(at, check, clean(entry.get("object", "")), clean(entry.get("evidence", "")))
        self.last_state[check] = (state, failure)
        if check in USERS_PATH_CHECKS:
            if state == "fail" and check not in self.failing:
                self.down_since.setdefault(check, at)
            elif state != "fail" and check in self.down_since:
                self.unavailable.append((check, self.down_since.pop(check), at))
        if check == "alerts" and state == "fail":
            for since in _ALERT_SINCE.findall(failure.evidence):
                self.alert_since.append((_clock_before(at, since), failure))
        if state == "fail" and check not in self.failing:
            self.failing[check] = failure
            self.failures.append(failure)
            kind = "check failed" if self.detected is not None else "detection"
            self.detected = self.detected or at
            self.events.append(_event(at, kind, failure.subject, failure.evidence))
        elif state != "fail" and check in self.failing:
            del self.failing[check]
            self.events.append(_event(at, "cleared", failure.subject, failure.evidence))

    def severity(self, at: datetime, entry: Mapping[str, Any]) -> None:
        level = entry.get("level")
        if level:
            reasons = ", ".join(str(r) for r in entry.get("reasons") or [])
            self.events.append(_event(at, "severity", f"{level} declared", reasons))
            if self.worst is None or SEVERITY_RANK.get(str(level), 9) < SEVERITY_RANK.get(self.worst, 9):
                self.worst = str(level)
        elif self.detected is not None:
            self.events.append(_event(at, "severity", "no outage: severity cleared"))

    def action(self, at: datetime, entry: Mapping[str, Any]) -> None:
        target = entry.get("target") or {}
        where = "/".join(str(target.get(k)) for k in ("namespace", "name") if target.get(k))
        result = str(entry.get("result", ""))
        detail = f"$ {kubectl_equivalent(entry)}\nresult: {result}"
        if entry.get("error"):
            detail += f": {entry['error']}"
        if entry.get("dry_run_diff"):
            detail += f"\nchange: {entry['dry_run_diff']}"
        self.events.append(_event(at, "action", f"{entry.get('verb')} {target.get('kind', '')} {where}", detail))
        if result == "ok" and self.detected is not None and self.resolved is None and not _supporting(entry):
            self.ok_actions.append(at)

    def recovery(self, at: datetime, entry: Mapping[str, Any]) -> None:
        outcome = str(entry.get("outcome", ""))
        steps = entry.get("steps") or {}
        detail = ", ".join(f"{step} {state}" for step, state in steps.items())
        self.events.append(_event(at, "recovery", f"recovery {outcome} ({entry.get('trigger', '')})", detail))
        if outcome == "verified" and self.detected is not None and self.resolved is None:
            self.resolved = at
            self.load_test = entry.get("load_test")

    def snapshot(self, at: datetime, entry: Mapping[str, Any]) -> None:
        folder = _relative(self.session, str(entry.get("folder") or ""))
        if not folder:
            return
        snapshot = Snapshot(at, folder, _snapshot_files(self.session, folder))
        self.snapshots.append(snapshot)
        trigger = entry.get("trigger")
        self.events.append(_event(at, "snapshot", f"{folder} ({trigger})" if trigger else folder))
        found = _diagnosed(self.session, snapshot) if self.diagnosis is None else None
        if found is not None:
            self.diagnosis = found
            if not self.journaled:  # a journal from before diagnoses were journaled: the snapshot's is the row
                text = f"{found.runbook}: {found.cause}"
                self.events.append(_event(at, "diagnosis", text, "\n".join(found.evidence)))

    def diagnosed(self, at: datetime, entry: Mapping[str, Any]) -> None:
        """A diagnosis appeared (its evidence and fix then) or cleared."""
        runbook = clean(entry.get("runbook") or entry.get("scenario") or "")
        cause = clean(entry.get("cause") or "")
        evidence = entry.get("evidence")
        lines = tuple(clean(e) for e in evidence) if isinstance(evidence, list) else ()
        kubectl = entry.get("kubectl")
        if entry.get("event") == "cleared":
            self.events.append(_event(at, "diagnosis cleared", f"{runbook}: {cause}"))
            return
        fix = f"\n$ {kubectl}" if isinstance(kubectl, str) and kubectl else ""
        self.events.append(_event(at, "diagnosis", f"{runbook}: {cause}", "\n".join(lines) + fix))
        found = Diagnosed(at, "", runbook, cause, lines, clean(kubectl) if isinstance(kubectl, str) else None)
        self.journaled.append(found)

    def mitigation(self) -> datetime | None:
        """The last successful action before the verified recovery (or the last one, when none was verified)."""
        before = [a for a in self.ok_actions if self.resolved is None or a <= self.resolved]
        return before[-1] if before else None

    def first_failure(self) -> tuple[datetime | None, Event | None]:
        """The detection, or earlier when the runbook's alert dates its condition earlier (pending/firing since),
        with the timeline's row for it then."""
        if self.detected is None:
            return None, None
        earlier = [(since, f) for since, f in self.alert_since if since < self.detected]
        if not earlier:
            return self.detected, None
        since, alert = min(earlier, key=lambda pair: pair[0])
        return since, _event(since, "first failure", "as the runbook's alert dates it", alert.evidence)


def _supporting(entry: Mapping[str, Any]) -> bool:
    """An action that is no attempt at a fix: a read-only in-pod step or a shell (``changes_nothing``), a helper
    pod's creation or deletion (``helper_pod``). It stays in the timeline; it is never the mitigation."""
    parameters = entry.get("parameters") or {}
    return any(str(parameters.get(name)) == "true" for name in ("changes_nothing", "helper_pod"))


def build_incident(session: Path, entries: Sequence[Mapping[str, Any]]) -> Incident:
    """Read the story of one session out of its journal's entries (in the journal's order)."""
    reader = _Reader(session)
    for entry in entries:
        reader.read(entry)
    start = next((e for e in entries if e.get("kind") == "session_start"), None)
    end = next((e for e in reversed(entries) if e.get("kind") == "session_end"), None)
    mitigated = reader.mitigation()
    events = [
        Event(e.at, "mitigation", e.text, e.detail) if e.kind == "action" and e.at == mitigated else e
        for e in reader.events
    ]
    first_failure, first_failure_row = reader.first_failure()
    events += [first_failure_row] if first_failure_row is not None else []
    events.sort(key=lambda event: event.at)  # stable: entries of one instant keep the journal's order
    causes = sorted(reader.failures, key=lambda f: (_rank(f.check), f.at))
    still_down = [(check, since, None) for check, since in reader.down_since.items()]
    return Incident(
        session=session,
        context=clean(start["context"]) if start and start.get("context") else None,
        namespaces=tuple(start.get("namespaces") or ()) if start else (),
        started=parse_ts(start["ts"]) if start else None,
        ended=parse_ts(end["ts"]) if end else None,
        severity=reader.worst,
        first_failure=first_failure,
        detected=reader.detected,
        mitigated=mitigated,
        resolved=reader.resolved,
        root_cause=causes[0] if causes else None,
        symptoms=tuple(causes[1:]),
        contributing=tuple(f for state, f in reader.last_state.values() if state == "warn"),
        events=tuple(events),
        series=_load_series(session, entries),
        screenshots=tuple(reader.screenshots),
        snapshots=tuple(reader.snapshots),
        load_test=reader.load_test,
        unavailable=(*reader.unavailable, *still_down),
        diagnosis=reader.diagnosis or (reader.journaled[0] if reader.journaled else None),
    )
