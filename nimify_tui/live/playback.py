"""Plays a flight recording back into a store: the store holds what it held at any chosen moment of the session.

The panes and the triage read the store as they read a live one: the Kubernetes objects, the live sources' values
(probes, Triton, the latency series, alert states, GPUs, the recovery verification's state, ...) and each source's
freshness. Moving forward applies the frames in between; moving back starts again from the first frame (the raw
objects and the values' JSON are patched, and only what was touched is decoded again).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import orjson

from nimify_tui.kube.client import ClusterIdentity, KubeClient
from nimify_tui.kube.errors import KubeError
from nimify_tui.kube.transport import no_transport
from nimify_tui.live.flight_recorder import HEALTH, VALUES, Frame, Recording, apply_frame, store_key
from nimify_tui.live.informer import KINDS, Decoder
from nimify_tui.live.keys import RECORDS
from nimify_tui.live.recorded_values import RecordedValue, from_json, live_values, value_apply
from nimify_tui.live.store import SourceHealth, Store

# what [ and ] jump between
EVENT_KINDS = ("finding", "diagnosis", "action", "note", "escalation", "recovery", "severity")


@dataclass(frozen=True)
class JournalMark:
    """A journal entry on the time bar."""

    at: float
    kind: str
    text: str


def journal_marks(entries: Sequence[Mapping[str, Any]]) -> tuple[JournalMark, ...]:
    """The journal's events (findings, diagnoses, actions, notes, escalations, recoveries), oldest first."""
    marks: list[JournalMark] = []
    for entry in entries:
        kind = str(entry.get("kind") or "")
        if kind not in EVENT_KINDS:
            continue
        if kind == "finding" and entry.get("previous") in (None, "unknown") and entry.get("state") == "pass":
            continue  # a check seen passing for the first time (or once its data came in): nothing happened
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
    if kind == "diagnosis":
        return f"diagnosis {entry.get('event')}: {entry.get('runbook')}: {entry.get('cause')}"
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
        values: Sequence[RecordedValue[Any]] | None = None,
    ) -> None:
        self.recording = recording
        self.store = store
        self.decoders = decoders
        self.marks = tuple(marks)
        self.values = {v.name: v for v in (live_values() if values is None else values)}
        self._times = [frame.at for frame in recording.frames]
        self._applied = 0  # frames applied so far
        self._objects: dict[str, dict[str, dict[str, Any]]] = {}
        self._values: dict[str, Any] = {}  # name -> the value's JSON at the position
        self.position = recording.started  # where a replay opens: the first frame
        if not any(frame.kind == HEALTH for frame in recording.frames):  # recorded before freshness was
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
        values: set[str] = set()
        health: dict[str, Mapping[str, Any]] = {}
        for frame in self.recording.frames[self._applied : upto]:
            if frame.kind == VALUES:
                values.update(self._apply_values(frame))
            elif frame.kind == HEALTH:
                health.update(frame.put)
            else:
                objects = self._objects.setdefault(frame.kind, {})
                touched.setdefault(frame.kind, set()).update(apply_frame(objects, frame))
        self._applied = max(self._applied, upto)
        for kind, names in touched.items():
            self._update_store(kind, names)
        for name in values:
            self._put_value(name)
        for source, state in health.items():
            self._set_health(source, state)
        self.position = at

    def _reset(self) -> None:
        for kind, objects in self._objects.items():
            key = RECORDS.get(kind)
            if key is not None and objects:
                self.store.replace(key, None, {})
        for name in self._values:
            recorded = self.values.get(name)
            if recorded is not None:
                self.store.put(recorded.key, None)
        self._objects = {}
        self._values = {}
        self._applied = 0

    def _apply_values(self, frame: Frame) -> set[str]:
        for name, data in frame.put.items():
            self._values[name] = data
        for name, diff in frame.patch.items():
            self._values[name] = value_apply(self._values.get(name), diff)
        return {*frame.put, *frame.patch}

    def _put_value(self, name: str) -> None:
        recorded = self.values.get(name)
        if recorded is None:
            return  # a value this version does not read
        try:
            value = from_json(self._values.get(name), recorded.type)
        except (TypeError, ValueError, KeyError, AttributeError):
            return  # written by a version whose value had another shape: left out
        self.store.put(recorded.key, value)

    def _set_health(self, source: str, state: Mapping[str, Any]) -> None:
        health = SourceHealth(
            state=state.get("state") or "live",
            last_ok=state.get("last_ok"),
            error=state.get("error"),
        )
        self.store.set_health(source, health)

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

    def raw(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        """The recorded object as it was at the position (None: not there then)."""
        return self._objects.get(kind, {}).get(f"{namespace}/{name}")

    def raw_list(self, kind: str, namespace: str | None) -> list[dict[str, Any]]:
        objects = self._objects.get(kind, {})
        return [obj for key, obj in objects.items() if namespace is None or key.startswith(f"{namespace}/")]


_OBJECT_PATH = re.compile(
    r"^/(?:api/v1|apis/[^/]+/[^/]+)(?:/namespaces/(?P<namespace>[^/]+))?/(?P<plural>[^/]+)(?:/(?P<name>[^/]+))?$"
)
_KIND_OF_PLURAL = {kind.plural: kind.name for kind in KINDS.values()}


_LOG_PATH = re.compile(r"^/api/v1/namespaces/(?P<namespace>[^/]+)/pods/(?P<pod>[^/]+)/log$")


def snapshot_times(snapshots: Path) -> list[tuple[float, Path]]:
    """The session's snapshot folders (``snapshots/<YYYYmmdd-HHMMSS>``, UTC) by the time in their names, oldest
    first."""
    found: list[tuple[float, Path]] = []
    if snapshots.is_dir():
        for folder in snapshots.iterdir():
            try:
                taken = datetime.strptime(folder.name[:15], "%Y%m%d-%H%M%S").replace(tzinfo=timezone.utc)
            except ValueError:
                continue
            found.append((taken.timestamp(), folder))
    return sorted(found)


class RecordedClient(KubeClient):
    """A client that never connects: a GET of an object (or a list) that the recording holds is answered from the
    playback's position, a pod's logs from the session's snapshots (the last one taken by then, else the first);
    anything else fails with a reason, as an unreachable server would."""

    def __init__(self, identity: ClusterIdentity, snapshots: Path | None = None) -> None:
        super().__init__(no_transport(identity.server), identity, readonly=True)
        self.playback: Playback | None = None
        self.snapshots = snapshot_times(snapshots) if snapshots is not None else []

    def stream_lines(
        self,
        path: str,
        query: Mapping[str, Any] | None = None,
        *,
        read_timeout: float | None = None,
        closer: list[Any] | None = None,
        max_line_chars: int | None = None,
    ) -> Iterator[bytes]:
        match = _LOG_PATH.match(path)
        if match is None:
            raise KubeError(0, "NotRecorded", f"GET {path}: a replay holds only the recorded objects and logs")
        container = str((query or {}).get("container") or "")
        suffix = ".previous.log" if (query or {}).get("previous") else ".log"
        relative = Path("logs", match["namespace"], match["pod"], container + suffix)
        position = self.playback.position if self.playback is not None else 0.0
        before = [folder for taken, folder in self.snapshots if taken <= position]
        after = [folder for taken, folder in self.snapshots if taken > position]
        for folder in [*reversed(before), *after]:
            if (folder / relative).is_file():
                return iter((folder / relative).read_bytes().splitlines())
        raise KubeError(404, "NotRecorded", f"no snapshot of this session holds {relative}")

    def request(
        self,
        method: str,
        path: str,
        query: Mapping[str, Any] | None = None,
        body: Any = None,
        *,
        content_type: str | None = None,
        timeout: float | tuple[float, float] | None = None,
        accept: str = "application/json",
    ) -> bytes:
        match = _OBJECT_PATH.match(path)
        kind = _KIND_OF_PLURAL.get(match["plural"]) if match else None
        if method != "GET" or self.playback is None or match is None or kind is None or query:
            raise KubeError(0, "NotRecorded", f"{method} {path}: a replay holds only the recorded objects")
        namespace, name = match["namespace"], match["name"]
        if name is None:
            return orjson.dumps({"kind": "List", "items": self.playback.raw_list(kind, namespace)})
        found = self.playback.raw(kind, namespace or "", name)
        if found is None:
            raise KubeError(404, "NotFound", f"{kind} {name} was not there at this point of the recording")
        return orjson.dumps(found)

    def close(self) -> None:
        """Nothing to close."""
