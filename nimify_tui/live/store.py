"""The store every source writes into and every pane reads from, with each source's freshness.

Writers are background threads (informers, pollers); readers are the UI's refresh timers and the triage. Entries are
reached by typed keys (``keys.py``), so a reader gets the type its writer put. A version counter per key lets a
reader skip work when nothing changed since its last look.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal, TypeVar

from nimify_tui.live.keys import RecordsKey, ValueKey

HealthState = Literal["syncing", "live", "stale", "unavailable"]
R = TypeVar("R")
V = TypeVar("V")


class SourceUnavailable(Exception):
    """The source does not exist here (no metrics API, no GPU): shown as absent, not as an error."""


@dataclass(frozen=True)
class SourceHealth:
    """How fresh one source is. ``error`` is the last problem, kept while stale so the UI can say why."""

    state: HealthState
    last_ok: float | None = None
    error: str | None = None
    since: float = 0.0

    @property
    def loaded(self) -> bool:
        """Past its first load: it has data, or failed to get it (stale, unavailable)."""
        return self.state != "syncing"


class Store:
    """Records by kind and (namespace, name) key; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)  # notified on every change: see wait_for_change
        self._items: dict[str, dict[tuple[str, str], Any]] = {}
        self._versions: dict[str, int] = {}
        self._health: dict[str, SourceHealth] = {}
        self._changes = 0  # any record, value or freshness change
        self._values: dict[str, Any] = {}
        # the names each record key's newest versions changed, (version, name); name None: a whole list replaced
        self._journal: dict[str, deque[tuple[int, tuple[str, str] | None]]] = {}

    JOURNAL = 8192  # changes remembered per record key: a reader further behind looks at every record

    # --- records --------------------------------------------------------------------------------------------
    def replace(self, key: RecordsKey[R], namespace: str | None, items: Mapping[tuple[str, str], R]) -> None:
        """A fresh list: drop what the namespace had (all of it for a cluster-wide list), keep the new items."""
        with self._lock:
            current = self._items.setdefault(key.name, {})
            if namespace is None:
                current.clear()
            else:
                for name in [k for k in current if k[0] == namespace]:
                    del current[name]
            current.update(items)
            self._bump(key.name)
            self._note(key.name, None)

    def upsert(self, key: RecordsKey[R], name: tuple[str, str], record: R) -> None:
        with self._lock:
            self._items.setdefault(key.name, {})[name] = record
            self._bump(key.name)
            self._note(key.name, name)

    def upsert_many(self, key: RecordsKey[R], records: Sequence[tuple[tuple[str, str], R]]) -> None:
        """Several records at once: one new version (the first page of a long list, shown before the rest)."""
        with self._lock:
            self._items.setdefault(key.name, {}).update(records)
            self._bump(key.name)
            for name, _ in records:
                self._note(key.name, name)

    def remove(self, key: RecordsKey[R], name: tuple[str, str]) -> None:
        with self._lock:
            if self._items.get(key.name, {}).pop(name, None) is not None:
                self._bump(key.name)
                self._note(key.name, name)

    def _note(self, key_name: str, name: tuple[str, str] | None) -> None:
        journal = self._journal.get(key_name)
        if journal is None:
            journal = self._journal[key_name] = deque(maxlen=self.JOURNAL)
        journal.append((self._versions[key_name], name))

    def changed_since(self, key: RecordsKey[Any], version: int | None) -> tuple[int, set[tuple[str, str]] | None]:
        """The version of ``key`` now, and the names of the records changed (added, replaced or removed) since
        ``version``; None instead of names when the store cannot say (a list replaced, a reader too far behind,
        ``version`` None): the reader then looks at every record. A reader that keeps the version returned and
        asks again with it misses no change."""
        with self._lock:
            current = self._versions.get(key.name, 0)
            if version == current:
                return current, set()
            journal = self._journal.get(key.name)
            if version is None or version > current or not journal or journal[0][0] > version:
                return current, None
            names: set[tuple[str, str]] = set()
            for changed_at, name in reversed(journal):
                if changed_at <= version:
                    break
                if name is None:
                    return current, None
                names.add(name)
            return current, names

    def changed_records(
        self, key: RecordsKey[R], version: int | None, most: int | None = None
    ) -> tuple[int, dict[tuple[str, str], R | None] | None]:
        """``changed_since`` with each changed record as it is now (None for one removed); None instead of the
        records when the store cannot say, or when more than ``most`` changed (the reader then reads them all)."""
        current, names = self.changed_since(key, version)
        if names is None or (most is not None and len(names) > most):
            return current, None
        with self._lock:
            held = self._items.get(key.name, {})
            return current, {name: held.get(name) for name in names}

    def items(self, key: RecordsKey[R]) -> list[R]:
        with self._lock:
            return list(self._items.get(key.name, {}).values())

    def names(self, key: RecordsKey[Any]) -> set[tuple[str, str]]:
        """The (namespace, name) keys held for ``key`` now."""
        with self._lock:
            return set(self._items.get(key.name, {}))

    def get(self, key: RecordsKey[R], name: tuple[str, str]) -> R | None:
        with self._lock:
            found: R | None = self._items.get(key.name, {}).get(name)
            return found

    def version(self, key: RecordsKey[Any] | ValueKey[Any]) -> int:
        with self._lock:
            return self._versions.get(key.name, 0)

    def _bump(self, name: str) -> None:
        self._versions[name] = self._versions.get(name, 0) + 1
        self._changes += 1
        self._changed.notify_all()

    def clear(self) -> None:
        """Forget every record, value and source (another cluster's sources start next: ``:ctx``)."""
        with self._lock:
            for name in [*self._items, *self._values]:
                self._bump(name)
            self._items.clear()
            self._values.clear()
            self._health.clear()
            self._journal.clear()

    # --- single values (probe results, Triton, GPUs, metrics): immutable snapshots, replaced whole ------------
    def put(self, key: ValueKey[V], value: V | None) -> None:
        """The source's newest value; None: it has none now (e.g. no Triton server answers)."""
        with self._lock:
            self._values[key.name] = value
            self._bump(key.name)

    def value(self, key: ValueKey[V]) -> V | None:
        with self._lock:
            found: V | None = self._values.get(key.name)
            return found

    # --- freshness ----------------------------------------------------------------------------------------
    def set_health(self, source: str, health: SourceHealth) -> None:
        with self._lock:
            previous = self._health.get(source)
            since = previous.since if previous is not None and previous.state == health.state else time.time()
            self._health[source] = replace(health, since=since)
            self._changes += 1
            self._changed.notify_all()

    def touch(self, source: str) -> None:
        """The source heard from its server just now."""
        with self._lock:
            previous = self._health.get(source)
            now = time.time()
            if previous is None or previous.state != "live":
                self._health[source] = SourceHealth("live", last_ok=now, since=now)
                self._changes += 1
                self._changed.notify_all()
            else:
                self._health[source] = replace(previous, last_ok=now)

    def mark_stale(self, source: str, error: str) -> None:
        with self._lock:
            previous = self._health.get(source)
            now = time.time()
            last_ok = previous.last_ok if previous is not None else None
            since = previous.since if previous is not None and previous.state == "stale" else now
            self._health[source] = SourceHealth("stale", last_ok=last_ok, error=error, since=since)
            self._changes += 1
            self._changed.notify_all()

    def health(self) -> dict[str, SourceHealth]:
        with self._lock:
            return dict(self._health)

    def health_of(self, prefix: str) -> list[SourceHealth]:
        """Health of every source whose name starts with ``prefix`` ("pods" covers "pods/nimify-system", ...)."""
        with self._lock:
            return [h for name, h in self._health.items() if name == prefix or name.startswith(prefix + "/")]

    def have_loaded(self, prefixes: Sequence[str]) -> bool:
        """Every source named by one of ``prefixes`` exists and is past its first load."""
        healths = [self.health_of(prefix) for prefix in prefixes]
        return all(sources and all(h.loaded for h in sources) for sources in healths)

    def wait_for_change(self, since: int, timeout_s: float) -> int:
        """Block until ``changes`` differs from ``since`` (or ``timeout_s`` passed); return ``changes``."""
        with self._changed:
            self._changed.wait_for(lambda: self._changes != since, timeout_s)
            return self._changes

    @property
    def changes(self) -> int:
        """Grows with every change of anything in the store: a reader can skip work when it has not moved."""
        with self._lock:
            return self._changes
