"""The store every source writes into and every pane reads from, with each source's freshness.

Writers are background threads (informers, pollers); readers are the UI's refresh timers. A version counter per
kind lets a reader skip work when nothing changed since its last look.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

HealthState = Literal["syncing", "live", "stale", "unavailable"]


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
        self._items: dict[str, dict[tuple[str, str], Any]] = {}
        self._versions: dict[str, int] = {}
        self._health: dict[str, SourceHealth] = {}
        self._changes = 0  # any record, value or freshness change
        self._extras: dict[str, Any] = {}

    # --- records --------------------------------------------------------------------------------------------
    def replace(self, kind: str, namespace: str | None, items: Mapping[tuple[str, str], Any]) -> None:
        """A fresh list: drop what the namespace had (all of it for a cluster-wide list), keep the new items."""
        with self._lock:
            current = self._items.setdefault(kind, {})
            if namespace is None:
                current.clear()
            else:
                for key in [k for k in current if k[0] == namespace]:
                    del current[key]
            current.update(items)
            self._bump(kind)

    def upsert(self, kind: str, key: tuple[str, str], record: Any) -> None:
        with self._lock:
            self._items.setdefault(kind, {})[key] = record
            self._bump(kind)

    def remove(self, kind: str, key: tuple[str, str]) -> None:
        with self._lock:
            if self._items.get(kind, {}).pop(key, None) is not None:
                self._bump(kind)

    def items(self, kind: str) -> list[Any]:
        with self._lock:
            return list(self._items.get(kind, {}).values())

    def get(self, kind: str, key: tuple[str, str]) -> Any:
        with self._lock:
            return self._items.get(kind, {}).get(key)

    def version(self, kind: str) -> int:
        with self._lock:
            return self._versions.get(kind, 0)

    def _bump(self, kind: str) -> None:
        self._versions[kind] = self._versions.get(kind, 0) + 1
        self._changes += 1

    # --- single values (probe results, Triton, GPUs, metrics) ------------------------------------------------
    def put(self, name: str, value: Any) -> None:
        with self._lock:
            self._extras[name] = value
            self._bump(name)

    def value(self, name: str, default: Any = None) -> Any:
        with self._lock:
            return self._extras.get(name, default)

    # --- freshness ----------------------------------------------------------------------------------------
    def set_health(self, source: str, health: SourceHealth) -> None:
        with self._lock:
            previous = self._health.get(source)
            since = previous.since if previous is not None and previous.state == health.state else time.time()
            self._health[source] = replace(health, since=since)
            self._changes += 1

    def touch(self, source: str) -> None:
        """The source heard from its server just now."""
        with self._lock:
            previous = self._health.get(source)
            now = time.time()
            if previous is None or previous.state != "live":
                self._health[source] = SourceHealth("live", last_ok=now, since=now)
                self._changes += 1
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

    @property
    def changes(self) -> int:
        """Grows with every change of anything in the store: a reader can skip work when it has not moved."""
        with self._lock:
            return self._changes
