"""The flight recorder: what the store held as it changed, to play a session back without a cluster.

It records every key of the store that the panes and the triage read: the Kubernetes objects (the informers'
decoders are wrapped, :meth:`FlightRecorder.decoders`, so that each raw object they decode is noted; pods and events
are read with the fields their records need alone, ``kube/pruned_decode.py``, and recorded so), the live
sources' single values (probes, Triton's models and stats, the latency series, the alert states, GPUs, the metrics
API's usage, log signatures, volume use, certificates, and any value the session adds, such as the recovery
verification's state; :mod:`nimify_tui.live.recorded_values`), and each source's freshness. At most once a second
it writes what moved: one frame per kind of object (the objects new since the last frame in full, the others as
merge-patch diffs against their last recorded state, and the names that left the store), one frame of the values
that moved (diffs of their JSON), one of the sources whose freshness changed. Every string passes through the
journal's redactor before it is diffed, so the file holds nothing the journal would not.

The first frame is written as soon as the first lists have come in (every source past its first load, or a second
after the first change), stamped with the time of that first change: a replay opens on the state at the start. Each
later frame is stamped with the time of the first change it holds.

The file (``flight.jsonl.gz``, beside ``journal.jsonl``) is one gzip stream of JSON lines: a header
``{"flight": 1, "started": <epoch s>, ...}``, then frames ``{"t": <epoch s>, "kind": "pods", "put": {"ns/name":
{...}}, "patch": {"ns/name": {...}}, "del": ["ns/name", ...]}``; values are frames of kind ``values`` (``put``: a
value in full, ``patch``: a value's diff, by the store key's name), freshness frames of kind ``health`` (``put``:
source -> ``{"state", "error", "last_ok"}``). Each frame is flushed whole (a sync flush), so a session that ends
abruptly leaves every frame written before its last second readable.
"""

from __future__ import annotations

import os
import threading
import time
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from nimify_tui.journal.redact import Redactor
from nimify_tui.live.informer import Decoder, object_key
from nimify_tui.live.json_diff import merge_apply, merge_diff
from nimify_tui.live.keys import RECORDS
from nimify_tui.live.recorded_values import RecordedValue, live_values, scrub_strings, to_json, value_diff
from nimify_tui.live.store import Store

FLIGHT_FILE_NAME = "flight.jsonl.gz"
FORMAT_VERSION = 1
VALUES = "values"  # the kind of the frames of single values
HEALTH = "health"  # the kind of the frames of the sources' freshness
NOT_OBJECTS = frozenset({VALUES, HEALTH})
WAKE_S = 0.25  # how often the thread looks at the store when nothing changes (and how soon it sees close())


def object_name(key: tuple[str, str]) -> str:
    """A store key as the recording writes it: ``namespace/name`` (``/name`` for a cluster-wide object)."""
    return f"{key[0]}/{key[1]}"


def store_key(name: str) -> tuple[str, str]:
    namespace, _, rest = name.partition("/")
    return (namespace, rest)


class FlightRecorder:
    """Writes the frames of one session. ``tick`` writes what changed; ``start`` runs it as the store changes, at
    most once every ``interval_s``."""

    def __init__(
        self,
        path: Path,
        store: Store,
        *,
        redactor: Redactor | None = None,
        interval_s: float = 1.0,
        clock: Callable[[], float] = time.time,
        header: Mapping[str, object] | None = None,
        values: Sequence[RecordedValue[Any]] | None = None,
    ) -> None:
        self.path = path
        self.store = store
        self.redactor = redactor or Redactor()
        self.interval_s = interval_s
        self.clock = clock
        self.values = tuple(live_values() if values is None else values)
        self._lock = threading.Lock()
        self._pending: dict[str, dict[tuple[str, str], dict[str, Any]]] = {}
        self._pending_since: float | None = None  # when the first change not yet written was seen
        # kind -> key -> the state as written, as its JSON compressed: every object of the session is here for as
        # long as it lives (50,000 pods; thousands of events, kept an hour), and a parsed pod takes about 17 KB,
        # its JSON 6 KB, compressed 2.4 KB (zlib lets go of the interpreter lock while it works)
        self._recorded: dict[str, dict[tuple[str, str], bytes]] = {}
        self._versions: dict[str, int] = {}
        self._value_versions: dict[str, int] = {}
        self._recorded_values: dict[str, Any] = {}  # name -> JSON as written
        self._recorded_health: dict[str, tuple[str, str | None]] = {}  # source -> (state, error) as written
        self._compressor = zlib.compressobj(6, zlib.DEFLATED, 31)  # 31: a gzip stream
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self._file: BinaryIO | None = os.fdopen(fd, "wb")
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.frames = 0
        self.cpu_s = 0.0  # the recorder thread's CPU time in its ticks (the decoders' noting is the informers')
        started = self.clock()
        self._write_line({"flight": FORMAT_VERSION, "started": started, **(header or {})})

    # --- what the informers decode ------------------------------------------------------------------------
    def decoders(self, base: Mapping[str, Decoder]) -> dict[str, Decoder]:
        """``base`` with each decoder noting the raw object it decodes (kept by reference, not copied)."""
        return {kind: self._noting(kind, decode) for kind, decode in base.items()}

    def _noting(self, kind: str, decode: Decoder) -> Decoder:
        def noted(obj: dict[str, Any]) -> Any:
            with self._lock:
                self._pending.setdefault(kind, {})[object_key(obj)] = obj
                if self._pending_since is None:
                    self._pending_since = self.clock()
            return decode(obj)

        return noted

    def _changed_since(self) -> None:
        """A change was seen now (unless one not yet written was seen earlier)."""
        with self._lock:
            if self._pending_since is None:
                self._pending_since = self.clock()

    # --- frames -------------------------------------------------------------------------------------------
    def tick(self) -> int:
        """Write one frame per kind that changed since the last tick; return how many were written."""
        with self._lock:
            pending, self._pending = self._pending, {}
            since, self._pending_since = self._pending_since, None
        at = since if since is not None else self.clock()
        lines: list[dict[str, Any]] = []
        for kind in sorted(set(pending) | set(self._recorded)):
            frame = self._frame(kind, pending.get(kind, {}))
            if frame:
                lines.append({"t": at, "kind": kind, **frame})
        values = self._values_frame()
        if values:
            lines.append({"t": at, "kind": VALUES, **values})
        health = self._health_frame()
        if health:
            lines.append({"t": at, "kind": HEALTH, "put": health})
        for line in lines:
            self._write_line(line)
        self.frames += len(lines)
        return len(lines)

    def _frame(self, kind: str, seen: dict[tuple[str, str], dict[str, Any]]) -> dict[str, Any]:
        recorded = self._recorded.setdefault(kind, {})
        put: dict[str, Any] = {}
        patch: dict[str, Any] = {}
        for key, raw in seen.items():
            scrubbed = self.redactor.scrub(raw)
            assert isinstance(scrubbed, dict)
            state = zlib.compress(orjson.dumps(scrubbed), 1)
            before = recorded.get(key)
            if before is None:
                put[object_name(key)] = scrubbed
            else:
                if state == before:
                    continue
                change = merge_diff(orjson.loads(zlib.decompress(before)), scrubbed)
                if not change:
                    continue
                patch[object_name(key)] = change
            recorded[key] = state
        gone: list[str] = []
        records_key = RECORDS.get(kind)
        version = self.store.version(records_key) if records_key is not None else 0
        if records_key is not None and version != self._versions.get(kind):
            self._versions[kind] = version
            present = self.store.names(records_key)
            for key in [k for k in recorded if k not in present and k not in seen]:
                del recorded[key]
                gone.append(object_name(key))
        frame: dict[str, Any] = {}
        if put:
            frame["put"] = put
        if patch:
            frame["patch"] = patch
        if gone:
            frame["del"] = gone
        return frame

    def _values_frame(self) -> dict[str, Any]:
        """The values whose store version moved: in full the first time, else as a diff of their JSON."""
        put: dict[str, Any] = {}
        patch: dict[str, Any] = {}
        for recorded in self.values:
            version = self.store.version(recorded.key)
            if version == self._value_versions.get(recorded.name, 0):
                continue
            self._value_versions[recorded.name] = version
            data = scrub_strings(to_json(self.store.value(recorded.key)), self.redactor.scrub_text)
            if recorded.name not in self._recorded_values:
                put[recorded.name] = data
            else:
                change = value_diff(self._recorded_values[recorded.name], data)
                if change is None:
                    continue
                patch[recorded.name] = change
            self._recorded_values[recorded.name] = data
        frame: dict[str, Any] = {}
        if put:
            frame["put"] = put
        if patch:
            frame["patch"] = patch
        return frame

    def _health_frame(self) -> dict[str, Any]:
        """The sources whose state (or error) changed: their state, error and last good answer."""
        changed: dict[str, Any] = {}
        for source, health in sorted(self.store.health().items()):
            error = self.redactor.scrub_text(health.error) if health.error else None
            if self._recorded_health.get(source) == (health.state, error):
                continue
            self._recorded_health[source] = (health.state, error)
            changed[source] = {"state": health.state, "error": error, "last_ok": health.last_ok}
        return changed

    def _due(self) -> bool:
        """Whether there is something to write: an object decoded, a list changed, a value moved (and once the
        first frame is written, a source's freshness)."""
        with self._lock:
            if self._pending:
                return True
        for kind in self._recorded:
            records_key = RECORDS.get(kind)
            if records_key is not None and self.store.version(records_key) != self._versions.get(kind):
                return True
        if any(self.store.version(v.key) != self._value_versions.get(v.name, 0) for v in self.values):
            return True
        if self.frames:
            health = self.store.health()
            return any(self._recorded_health.get(s, (h.state,))[0] != h.state for s, h in health.items())
        return False

    def _write_line(self, line: Mapping[str, object]) -> None:
        if self._file is None:
            return
        data = self._compressor.compress(orjson.dumps(line) + b"\n")
        data += self._compressor.flush(zlib.Z_SYNC_FLUSH)
        self._file.write(data)
        self._file.flush()

    # --- the thread ---------------------------------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="flight-recorder", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        seen = self.store.changes
        last_write = float("-inf")
        first_change: float | None = None
        while not self._stop.is_set():
            seen = self.store.wait_for_change(seen, WAKE_S)
            if self._stop.is_set() or not self._due():
                continue
            self._changed_since()
            now = time.monotonic()
            if not self.frames:  # the first frame: once the first lists are in, or a second after the first change
                first_change = now if first_change is None else first_change
                if not self._first_lists_in() and now - first_change < self.interval_s:
                    continue
            wait = last_write + self.interval_s - now
            if wait > 0 and self._stop.wait(wait):
                break
            started = time.thread_time()
            self.tick()
            self.cpu_s += time.thread_time() - started
            last_write = time.monotonic()

    def _first_lists_in(self) -> bool:
        health = self.store.health()
        return bool(health) and all(h.loaded for h in health.values())

    def close(self) -> None:
        """Stop the thread, write what is left and end the gzip stream."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._file is None:
            return
        self.tick()
        self._file.write(self._compressor.flush(zlib.Z_FINISH))
        self._file.close()
        self._file = None


# --- reading --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Frame:
    at: float
    kind: str
    put: Mapping[str, Any] = field(default_factory=dict)  # objects (values, freshness) by name, in full
    patch: Mapping[str, Any] = field(default_factory=dict)  # by name: a merge patch (a value's diff)
    deleted: tuple[str, ...] = ()


@dataclass(frozen=True)
class Recording:
    """A flight recording read back: its header and its frames, oldest first."""

    header: Mapping[str, Any]
    frames: tuple[Frame, ...]

    @property
    def started(self) -> float:
        """The first frame's time (the store was empty before it)."""
        return self.frames[0].at if self.frames else float(self.header.get("started") or 0.0)

    @property
    def ended(self) -> float:
        return self.frames[-1].at if self.frames else self.started


def _lines(path: Path) -> Iterator[bytes]:
    """The complete lines of the gzip stream; a stream cut short (the session ended abruptly) ends early."""
    decompressor = zlib.decompressobj(31)
    buffered = b""
    with path.open("rb") as source:
        while chunk := source.read(1 << 16):
            try:
                buffered += decompressor.decompress(chunk)
            except zlib.error:
                break
            *complete, buffered = buffered.split(b"\n")
            yield from complete


def read_recording(path: Path) -> Recording:
    header: dict[str, Any] = {}
    frames: list[Frame] = []
    for line in _lines(path):
        try:
            entry = orjson.loads(line)
        except orjson.JSONDecodeError:
            break
        if not isinstance(entry, dict):
            continue
        if "flight" in entry:
            header = entry
            continue
        frames.append(
            Frame(
                at=float(entry.get("t") or 0.0),
                kind=str(entry.get("kind") or ""),
                put=entry.get("put") or {},
                patch=entry.get("patch") or {},
                deleted=tuple(entry.get("del") or ()),
            )
        )
    return Recording(header, tuple(frames))


def replay_objects(frames: Iterator[Frame] | tuple[Frame, ...]) -> dict[str, dict[str, dict[str, Any]]]:
    """The raw objects after ``frames``: kind -> ``namespace/name`` -> object."""
    state: dict[str, dict[str, dict[str, Any]]] = {}
    for frame in frames:
        if frame.kind in NOT_OBJECTS:
            continue
        apply_frame(state.setdefault(frame.kind, {}), frame)
    return state


def apply_frame(objects: dict[str, dict[str, Any]], frame: Frame) -> set[str]:
    """Apply one frame to one kind's objects; return the names it touched."""
    objects.update(frame.put)
    for name, change in frame.patch.items():
        objects[name] = merge_apply(objects.get(name, {}), change)
    for name in frame.deleted:
        objects.pop(name, None)
    return {*frame.put, *frame.patch, *frame.deleted}
