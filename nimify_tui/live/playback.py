"""Plays a flight recording back into a store: the store holds what it held at any chosen moment of the session.

The panes and the triage read the store as they read a live one. Moving forward applies the frames in between;
moving back starts again from the first frame (the raw objects are patched, and only the objects touched are
decoded again).
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from nimify_tui.live.flight_recorder import Recording, apply_frame, store_key
from nimify_tui.live.informer import Decoder
from nimify_tui.live.keys import RECORDS
from nimify_tui.live.store import SourceHealth, Store

EVENT_KINDS = ("finding", "action", "note", "escalation", "recovery", "severity")  # what [ and ] jump between


@dataclass(frozen=True)
class JournalMark:
    """A journal entry on the time bar."""

    at: float
    kind: str
    text: str


def journal_marks(entries: Sequence[Mapping[str, Any]]) -> tuple[JournalMark, ...]:
    """The journal's events (findings, actions, notes, escalations, recoveries), oldest first."""
    marks: list[JournalMark] = []
    for entry in entries:
        kind = str(entry.get("kind") or "")
        if kind not in EVENT_KINDS:
            continue
        if kind == "finding" and entry.get("previous") is None and entry.get("state") == "pass":
            continue  # a check seen passing for the first time: nothing happened
        try:
            at = datetime.fromisoformat(str(entry.get("ts")).replace("Z", "+00:00")).timestamp()
        except ValueError:
            continue
        marks.append(JournalMark(at, kind, _mark_text(kind, entry)))
    return tuple(sorted(marks, key=lambda mark: mark.at))


def _mark_text(kind: str, entry: Mapping[str, Any]) -> str:
    if kind == "finding":
        return f"{entry.get('check')}: {entry.get('previous')} -> {entry.get('state')} ({entry.get('object')})"
    if kind == "action":
        target = entry.get("target") or {}
        name = f"{target.get('kind')}/{target.get('name')}" if isinstance(target, Mapping) else ""
        return f"{entry.get('verb') or 'action'} {name}: {entry.get('result')}"
    if kind == "note":
        return str(entry.get("text") or "")
    if kind == "recovery":
        return f"recovery {entry.get('outcome')}"
    if kind == "severity":
        return f"severity {entry.get('level')}"
    return str(entry.get("event") or entry.get("prompt") or kind)


class Playback:
    """The store at ``position`` (epoch seconds) of the recording."""

    def __init__(
        self,
        recording: Recording,
        store: Store,
        decoders: Mapping[str, Decoder],
        marks: Sequence[JournalMark] = (),
    ) -> None:
        self.recording = recording
        self.store = store
        self.decoders = decoders
        self.marks = tuple(marks)
        self._times = [frame.at for frame in recording.frames]
        self._applied = 0  # frames applied so far
        self._objects: dict[str, dict[str, dict[str, Any]]] = {}
        self.position = recording.started  # where a replay opens: the first frame
        for kind in RECORDS:
            store.set_health(kind, SourceHealth("live", last_ok=self.position))

    @property
    def start(self) -> float:
        """The first frame, or the first journal event when it came before it (the store is empty then)."""
        return min(self.recording.started, self.marks[0].at if self.marks else self.recording.started)

    @property
    def end(self) -> float:
        return max(self.recording.ended, self.marks[-1].at if self.marks else self.recording.ended)

    def seek(self, at: float) -> None:
        """Make the store hold what it held at ``at`` (clamped to the recording)."""
        at = min(max(at, self.start), self.end)
        upto = bisect.bisect_right(self._times, at)
        if upto < self._applied:
            self._reset()
        touched: dict[str, set[str]] = {}
        for frame in self.recording.frames[self._applied : upto]:
            touched.setdefault(frame.kind, set()).update(apply_frame(self._objects.setdefault(frame.kind, {}), frame))
        self._applied = max(self._applied, upto)
        for kind, names in touched.items():
            self._update_store(kind, names)
        self.position = at

    def _reset(self) -> None:
        for kind, objects in self._objects.items():
            key = RECORDS.get(kind)
            if key is not None and objects:
                self.store.replace(key, None, {})
        self._objects = {}
        self._applied = 0

    def _update_store(self, kind: str, names: set[str]) -> None:
        key, decode = RECORDS.get(kind), self.decoders.get(kind)
        if key is None or decode is None:
            return
        objects = self._objects.get(kind, {})
        for name in names:
            raw = objects.get(name)
            if raw is None:
                self.store.remove(key, store_key(name))
            else:
                self.store.upsert(key, store_key(name), decode(raw))

    # --- journal events -------------------------------------------------------------------------------------
    def next_mark(self) -> JournalMark | None:
        """The first journal event after the position."""
        return next((mark for mark in self.marks if mark.at > self.position), None)

    def previous_mark(self) -> JournalMark | None:
        """The last journal event before the position."""
        return next((mark for mark in reversed(self.marks) if mark.at < self.position), None)
