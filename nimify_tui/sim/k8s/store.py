"""The simulated cluster's object store: one global resourceVersion and a bounded change history, like etcd.

Stored objects are plain JSON dictionaries in wire format. They are never changed in place once stored
(watchers and the history hold references to them): to change one, ``clone`` it, edit the copy and ``put`` it.
"""

from __future__ import annotations

import asyncio
import bisect
import builtins
from dataclasses import dataclass
from typing import Any

import orjson

Obj = dict[str, Any]


def clone(obj: Obj) -> Obj:
    """A deep copy of a JSON object."""
    copied: Obj = orjson.loads(orjson.dumps(obj))
    return copied


@dataclass(frozen=True)
class Change:
    """One write to the store, as a watch reports it."""

    rv: int
    resource: str  # store key ("pods", "deployments.apps")
    type: str  # ADDED, MODIFIED or DELETED
    obj: Obj
    old: Obj | None


class Pulse:
    """Wakes every waiter when something happened (a tick of the clock, a write through the API)."""

    def __init__(self) -> None:
        self._waiters: list[asyncio.Future[None]] = []

    def fire(self) -> None:
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def wait(self, timeout: float) -> None:
        """Return at the next ``fire`` or after ``timeout`` seconds, whichever comes first."""
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await asyncio.wait_for(asyncio.shield(waiter), timeout)
        except asyncio.TimeoutError:
            pass
        finally:
            if waiter in self._waiters:
                self._waiters.remove(waiter)


class ObjectStore:
    """Objects per resource type and namespace ("" for cluster-scoped ones)."""

    def __init__(self, history_limit: int = 50_000) -> None:
        self._rv = 0
        self._objects: dict[str, dict[str, dict[str, Obj]]] = {}
        self._history: list[Change] = []
        self._history_rvs: list[int] = []
        self._history_limit = history_limit
        self._compacted_rv = 0  # changes at or below this were dropped

    @property
    def resource_version(self) -> int:
        return self._rv

    def get(self, resource: str, namespace: str, name: str) -> Obj | None:
        return self._objects.get(resource, {}).get(namespace, {}).get(name)

    def list(self, resource: str, namespace: str | None = None) -> list[Obj]:
        """Objects sorted by namespace then name; ``namespace=None`` means all namespaces."""
        by_namespace = self._objects.get(resource, {})
        if namespace is not None:
            names = by_namespace.get(namespace, {})
            return [names[name] for name in sorted(names)]
        return [by_namespace[ns][name] for ns in sorted(by_namespace) for name in sorted(by_namespace[ns])]

    def put(self, resource: str, obj: Obj) -> Obj:
        """Create or replace ``obj`` under a new resourceVersion; returns the stored object.

        The stored object is ``obj`` with a fresh metadata dictionary, so metadata shared with an older
        version is never changed; nothing else in ``obj`` may be changed afterwards.
        """
        self._rv += 1
        stored = {**obj, "metadata": {**obj["metadata"], "resourceVersion": str(self._rv)}}
        meta = stored["metadata"]
        names = self._objects.setdefault(resource, {}).setdefault(meta.get("namespace", ""), {})
        old = names.get(meta["name"])
        names[meta["name"]] = stored
        self._record(Change(self._rv, resource, "MODIFIED" if old is not None else "ADDED", stored, old))
        return stored

    def delete(self, resource: str, namespace: str, name: str) -> Obj | None:
        names = self._objects.get(resource, {}).get(namespace, {})
        old = names.pop(name, None)
        if old is None:
            return None
        self._rv += 1
        gone = {**old, "metadata": {**old["metadata"], "resourceVersion": str(self._rv)}}
        self._record(Change(self._rv, resource, "DELETED", gone, old))
        return gone

    @property
    def compacted_rv(self) -> int:
        """The history no longer reaches back to this resourceVersion or before it (0: it reaches the start)."""
        return self._compacted_rv

    def changes_since(self, rv: int) -> builtins.list[Change] | None:
        """Every change after ``rv``, oldest first; None when the history no longer reaches back that far."""
        if rv < self._compacted_rv:
            return None
        start = bisect.bisect_right(self._history_rvs, rv)
        return self._history[start:]

    def compact(self) -> None:
        """Forget the whole history, as etcd's compaction does: older resourceVersions become too old."""
        self._history.clear()
        self._history_rvs.clear()
        self._compacted_rv = self._rv

    def _record(self, change: Change) -> None:
        self._history.append(change)
        self._history_rvs.append(change.rv)
        if len(self._history) > 2 * self._history_limit:
            drop = len(self._history) - self._history_limit
            self._compacted_rv = self._history_rvs[drop - 1]
            del self._history[:drop]
            del self._history_rvs[:drop]
