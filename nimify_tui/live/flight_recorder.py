"""The flight recorder: the store's Kubernetes objects as they changed, to play a session back without a cluster.

The informers' decoders are wrapped (:meth:`FlightRecorder.decoders`) so that each raw object they decode is noted;
once a second (at most) the recorder writes one frame per kind that moved: the objects new since the last frame in
full, the others as merge-patch diffs against their last recorded state, and the names that left the store. Every
string passes through the journal's redactor before it is diffed, so the file holds nothing the journal would not.

The file (``flight.jsonl.gz``, beside ``journal.jsonl``) is one gzip stream of JSON lines: a header
``{"flight": 1, "started": <epoch s>, ...}``, then frames ``{"t": <epoch s>, "kind": "pods", "put": {"ns/name":
{...}}, "patch": {"ns/name": {...}}, "del": ["ns/name", ...]}``. Each frame is flushed whole (a sync flush), so a
session that ends abruptly leaves every frame written before its last second readable.
"""

from __future__ import annotations

import os
import threading
import time
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from nimify_tui.journal.redact import Redactor
from nimify_tui.live.informer import Decoder, object_key
from nimify_tui.live.json_diff import merge_apply, merge_diff
from nimify_tui.live.keys import RECORDS
from nimify_tui.live.store import Store

FLIGHT_FILE_NAME = "flight.jsonl.gz"
FORMAT_VERSION = 1


def object_name(key: tuple[str, str]) -> str:
    """A store key as the recording writes it: ``namespace/name`` (``/name`` for a cluster-wide object)."""
    return f"{key[0]}/{key[1]}"


def store_key(name: str) -> tuple[str, str]:
    namespace, _, rest = name.partition("/")
    return (namespace, rest)


class FlightRecorder:
    """Writes the frames of one session. ``tick`` writes what changed; ``start`` runs it once a second."""

    def __init__(
        self,
        path: Path,
        store: Store,
        *,
        redactor: Redactor | None = None,
        interval_s: float = 1.0,
        clock: Callable[[], float] = time.time,
        header: Mapping[str, object] | None = None,
    ) -> None:
        self.path = path
        self.store = store
        self.redactor = redactor or Redactor()
        self.interval_s = interval_s
        self.clock = clock
        self._lock = threading.Lock()
        self._pending: dict[str, dict[tuple[str, str], dict[str, Any]]] = {}
        self._recorded: dict[str, dict[tuple[str, str], dict[str, Any]]] = {}  # kind -> key -> state as written
        self._versions: dict[str, int] = {}
        self._compressor = zlib.compressobj(6, zlib.DEFLATED, 31)  # 31: a gzip stream
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self._file: BinaryIO | None = os.fdopen(fd, "wb")
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.frames = 0
        self.cpu_s = 0.0  # the recorder thread's CPU time in its ticks (the decoders' noting is the informers')
        self._write_line({"flight": FORMAT_VERSION, "started": self.clock(), **(header or {})})

    # --- what the informers decode ------------------------------------------------------------------------
    def decoders(self, base: Mapping[str, Decoder]) -> dict[str, Decoder]:
        """``base`` with each decoder noting the raw object it decodes (kept by reference, not copied)."""
        return {kind: self._noting(kind, decode) for kind, decode in base.items()}

    def _noting(self, kind: str, decode: Decoder) -> Decoder:
        def noted(obj: dict[str, Any]) -> Any:
            with self._lock:
                self._pending.setdefault(kind, {})[object_key(obj)] = obj
            return decode(obj)

        return noted

    # --- frames -------------------------------------------------------------------------------------------
    def tick(self) -> int:
        """Write one frame per kind that changed since the last tick; return how many were written."""
        with self._lock:
            pending, self._pending = self._pending, {}
        now = self.clock()
        written = 0
        for kind in sorted(set(pending) | set(self._recorded)):
            frame = self._frame(kind, pending.get(kind, {}))
            if frame:
                self._write_line({"t": now, "kind": kind, **frame})
                written += 1
        self.frames += written
        return written

    def _frame(self, kind: str, seen: dict[tuple[str, str], dict[str, Any]]) -> dict[str, Any]:
        recorded = self._recorded.setdefault(kind, {})
        put: dict[str, Any] = {}
        patch: dict[str, Any] = {}
        for key, raw in seen.items():
            scrubbed = self.redactor.scrub(raw)
            assert isinstance(scrubbed, dict)
            before = recorded.get(key)
            if before is None:
                put[object_name(key)] = scrubbed
            else:
                change = merge_diff(before, scrubbed)
                if not change:
                    continue
                patch[object_name(key)] = change
            recorded[key] = scrubbed
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
        while not self._stop.wait(self.interval_s):
            started = time.thread_time()
            self.tick()
            self.cpu_s += time.thread_time() - started

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
    put: Mapping[str, dict[str, Any]] = field(default_factory=dict)
    patch: Mapping[str, dict[str, Any]] = field(default_factory=dict)
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
