"""The incident journal: an append-only JSON Lines file, one entry a line, durable once a call returns.

Each entry is ``{"ts": RFC 3339 UTC with milliseconds, "seq": 1, 2, ..., "kind": ..., <fields>}``; every
string in it has passed through a :class:`~nimify_tui.journal.redact.Redactor` first. A call writes its line
with one ``write(2)`` and ``fsync(2)``s it before returning: that blocks for a few milliseconds on a local
disk, short enough to call from the asyncio loop (use ``asyncio.to_thread`` on slow network storage).
Calls are thread-safe.
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
import time
import warnings
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, get_args

import orjson

from nimify_tui import __version__
from nimify_tui.journal.redact import REDACTED, JsonValue, Redactor, redact_argv

JOURNAL_FILE_NAME = "journal.jsonl"

FindingState = Literal["fail", "warn", "pass", "unknown"]
ActionResult = Literal["ok", "error", "cancelled", "unknown"]  # unknown: sent, no answer (may have been done)
JournalEntry = dict[str, JsonValue]

_SECRETS_PATH = re.compile(r"/secrets(?:[/?]|$)")


class JournalError(Exception):
    """The journal cannot be opened, written or read."""


class TornLineWarning(UserWarning):
    """The journal's last line is incomplete: the writer stopped in the middle of it."""


def _timestamp() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _check_choice(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}, not {value!r}")


def _fsync_directory(directory: Path) -> None:
    """Make a new directory entry durable; best effort, as some filesystems refuse fsync on directories."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _request_body(body: object, secret_payload: bool) -> object:
    """A body to record: JSON text is decoded so that it is scrubbed as a structure."""
    if isinstance(body, bytes):
        body = body.decode("utf-8", errors="replace")
    if not isinstance(body, str):
        return body
    try:
        decoded: object = orjson.loads(body)
    except orjson.JSONDecodeError:
        return REDACTED if secret_payload else body
    return decoded


class Journal:
    """One session's journal. Create it with :meth:`open`; every entry method returns the entry as written."""

    def __init__(self, directory: Path, fd: int, redactor: Redactor) -> None:
        self.directory = directory
        self.path = directory / JOURNAL_FILE_NAME
        self.redactor = redactor
        self._fd: int | None = fd
        self._seq = 0
        self._lock = threading.Lock()
        self._opened_at = time.monotonic()

    @classmethod
    def open(cls, directory: Path, redactor: Redactor | None = None) -> Journal:
        """Create ``directory/journal.jsonl`` (mode 0600); an existing journal there is never appended to."""
        directory = directory.expanduser().resolve()
        path = directory / JOURNAL_FILE_NAME
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise JournalError(f"cannot create {directory}: {exc.strerror or exc}") from None
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
        except FileExistsError:
            raise JournalError(f"{path} already exists: each session records into a directory of its own") from None
        except OSError as exc:
            raise JournalError(f"cannot create {path}: {exc.strerror or exc}") from None
        _fsync_directory(directory)
        return cls(directory, fd, redactor or Redactor())

    def register_secret(self, value: str) -> None:
        """Never write ``value`` (a token, a password) anywhere in later entries."""
        self.redactor.register(value)

    def start(
        self,
        *,
        context: str | None,
        server: str | None,
        user: str | None,
        namespaces: Sequence[str],
        readonly: bool,
        argv: Sequence[str],
    ) -> JournalEntry:
        """Record the start of the session: where it points and how it was started."""
        return self._append(
            "session_start",
            {
                "version": __version__,
                "context": context,
                "server": server,
                "user": user,
                "namespaces": list(namespaces),
                "readonly": readonly,
                "argv": redact_argv(argv),
            },
        )

    def finding(
        self,
        *,
        check: str,
        state: FindingState,
        previous: FindingState | None,
        object_name: str,
        evidence: str,
    ) -> JournalEntry:
        """Record a change of a check's state on one object (``previous`` None: first seen)."""
        allowed = get_args(FindingState)
        _check_choice("state", state, allowed)
        if previous is not None:
            _check_choice("previous", previous, allowed)
        return self._append(
            "finding",
            {
                "check": check,
                "state": state,
                "previous": previous,
                "object": object_name,
                "evidence": evidence,
            },
        )

    def diagnosis(
        self,
        *,
        event: Literal["appeared", "cleared"],
        scenario: str,
        component: str,
        runbook: str,
        cause: str,
        evidence: Sequence[str],
        objects: Sequence[str],
        kubectl: str | None,
    ) -> JournalEntry:
        """Record a diagnosis of the triage when it first appears and when it clears, with its evidence and the
        runbook's fix (its kubectl command) as they were then."""
        _check_choice("event", event, ("appeared", "cleared"))
        fields = {
            "event": event,
            "scenario": scenario,
            "component": component,
            "runbook": runbook,
            "cause": cause,
            "evidence": list(evidence),
            "objects": list(objects),
            "kubectl": kubectl,
        }
        return self._append("diagnosis", fields)

    def action(
        self,
        *,
        who: str,
        verb: str,
        target_kind: str,
        target_namespace: str | None,
        target_name: str,
        parameters: Mapping[str, object],
        dry_run_diff: str | None,
        result: ActionResult,
        error: str | None,
        duration_ms: float,
        request_method: str,
        request_path: str,
        request_body: object,
    ) -> JournalEntry:
        """Record a remediation action and the exact request it made (or would have made, when cancelled).

        ``request_body`` may be a structure or JSON text/bytes. For a Secret (by kind or by path) the body's
        values and the whole dry-run diff are redacted.
        """
        _check_choice("result", result, get_args(ActionResult))
        secret_payload = target_kind == "Secret" or _SECRETS_PATH.search(request_path) is not None
        fields = {
            "who": who,
            "verb": verb,
            "target": {"kind": target_kind, "namespace": target_namespace, "name": target_name},
            "parameters": parameters,
            "dry_run_diff": REDACTED if secret_payload and dry_run_diff is not None else dry_run_diff,
            "result": result,
            "error": error,
            "duration_ms": duration_ms,
            "request": {
                "method": request_method,
                "path": request_path,
                "body": _request_body(request_body, secret_payload),
            },
        }
        return self._append("action", fields, secret_payload=secret_payload)

    def context_switch(self, *, previous: str, context: str, server: str, user: str, readonly: bool) -> JournalEntry:
        """The session now points at another kubeconfig context (``:ctx``): every later entry is about it."""
        return self._append(
            "context_switch",
            {"previous": previous, "context": context, "server": server, "user": user, "readonly": readonly},
        )

    def note(self, text: str) -> JournalEntry:
        """Record the operator's free text."""
        return self._append("note", {"text": text})

    def recovery_check(
        self, *, step: str, check: str, state: str, detail: str, duration_ms: float, started_at: float
    ) -> JournalEntry:
        """Record one check of a recovery verification (``started_at``: the verification's start, naming it)."""
        fields = {"step": step, "check": check, "state": state, "detail": detail, "duration_ms": duration_ms}
        return self._append("recovery_check", {**fields, "verification": started_at})

    def recovery(
        self,
        *,
        outcome: str,
        trigger: str,
        after_action: str | None,
        started_at: float,
        duration_ms: float,
        steps: Mapping[str, str],
        load_test: Mapping[str, object] | None,
    ) -> JournalEntry:
        """Record a recovery verification's outcome: each step's state and the load test's figures."""
        fields = {
            "outcome": outcome,
            "trigger": trigger,
            "after_action": after_action,
            "verification": started_at,
            "duration_ms": duration_ms,
            "steps": steps,
            "load_test": load_test,
        }
        return self._append("recovery", fields)

    def screenshot(self, path: Path | str) -> JournalEntry:
        """Record a saved screenshot: a path in the journal's directory, stored relative to it."""
        full = (self.directory / path).resolve()
        if not full.is_relative_to(self.directory):
            raise ValueError(f"screenshot {path} is outside the session directory {self.directory}")
        return self._append("screenshot", {"path": full.relative_to(self.directory).as_posix()})

    def snapshot(self, folder: Path | str, *, trigger: str, files: int, errors: Sequence[str] = ()) -> JournalEntry:
        """Record a snapshot taken (``trigger``: "detection", "recovery" or "key"): its folder, relative to the
        journal's directory when inside it, how many files it holds and what could not be taken."""
        full = (self.directory / folder).resolve()
        where = full.relative_to(self.directory).as_posix() if full.is_relative_to(self.directory) else str(full)
        return self._append("snapshot", {"folder": where, "trigger": trigger, "files": files, "errors": list(errors)})

    def severity(self, *, level: str | None, reasons: Sequence[str]) -> JournalEntry:
        """Record a change of the incident's severity ("SEV-1", "SEV-2", None) and what gave it."""
        return self._append("severity", {"level": level, "reasons": list(reasons)})

    def escalation(self, *, event: Literal["raised", "acknowledged"], prompt: str, who: str, why: str) -> JournalEntry:
        """Record an escalation prompt raised by its criterion, or acknowledged by the operator."""
        _check_choice("event", event, ("raised", "acknowledged"))
        return self._append("escalation", {"event": event, "prompt": prompt, "who": who, "why": why})

    def escalation_criterion(self, *, criterion: str, text: str, who: str, ticked: bool) -> JournalEntry:
        """Record the operator ticking (or unticking) one of the runbook's escalation criteria."""
        return self._append(
            "escalation_criterion", {"criterion": criterion, "text": text, "who": who, "ticked": ticked}
        )

    def resolution_attempt(self, *, action: str, action_at: float, outcome: str, why: str) -> JournalEntry:
        """Record how a resolution attempt (an action taken during the outage) turned out."""
        fields = {"action": action, "action_at": action_at, "outcome": outcome, "why": why}
        return self._append("resolution_attempt", fields)

    def status_update(self, *, text: str, resolution: bool, copied: bool, event: str = "copied") -> JournalEntry:
        """Record a status update as the operator sent it (``event`` "copied"), or a reminder that one is due
        (``event`` "reminder", ``text`` empty)."""
        fields = {"event": event, "text": text, "resolution": resolution, "copied": copied}
        return self._append("status_update", fields)

    def end(self, reason: str) -> JournalEntry:
        """Record the end of the session and how long it lasted."""
        duration_s = round(time.monotonic() - self._opened_at, 3)
        return self._append("session_end", {"reason": reason, "duration_s": duration_s})

    def close(self) -> None:
        """Close the file; later entries raise :class:`JournalError`. Closing twice is harmless."""
        with self._lock:
            self._close_locked()

    def __enter__(self) -> Journal:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _close_locked(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def _append(self, kind: str, fields: Mapping[str, object], secret_payload: bool = False) -> JournalEntry:
        scrubbed = self.redactor.scrub_mapping(fields, secret_payload=secret_payload)
        with self._lock:
            if self._fd is None:
                raise JournalError(f"{self.path} is closed")
            self._seq += 1
            entry: JournalEntry = {"ts": _timestamp(), "seq": self._seq, "kind": kind, **scrubbed}
            line = orjson.dumps(entry, option=orjson.OPT_APPEND_NEWLINE)
            try:
                written = 0
                while written < len(line):
                    written += os.write(self._fd, line[written:])
                os.fsync(self._fd)
            except OSError as exc:
                # A partly written line must stay the last one, so the journal stops here.
                self._close_locked()
                raise JournalError(f"cannot write {self.path}: {exc.strerror or exc}") from exc
        return entry


def read_journal(path: Path) -> list[dict[str, Any]]:
    """The entries of a journal file, in order.

    An incomplete last line (the writer died while writing it) is skipped with a :class:`TornLineWarning`;
    any other line that is not a JSON object raises :class:`JournalError`.
    """
    lines = path.read_bytes().split(b"\n")
    torn_tail = lines.pop()  # empty when the file ends with a newline, as a complete journal does
    entries: list[dict[str, Any]] = []
    for number, line in enumerate(lines, start=1):
        try:
            entry = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise JournalError(f"{path}:{number}: not a JSON object: {exc}") from None
        if not isinstance(entry, dict):
            raise JournalError(f"{path}:{number}: not a JSON object")
        entries.append(entry)
    if torn_tail:
        warnings.warn(
            f"{path}: last line incomplete ({len(torn_tail)} bytes after entry {len(entries)}); skipped",
            TornLineWarning,
            stacklevel=2,
        )
    return entries
