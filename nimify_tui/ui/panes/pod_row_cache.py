"""The pods pane's rows, kept between refreshes: at 50,000 pods, making every row again on each refresh (and on each
key typed into the filter) would take the UI thread for most of a second.

A pod's row is made by :func:`~nimify_tui.render.pods.pod_entry`, as ``pod_rows(..., usage_late=True)`` makes it
(its CPU and MEM are filled by the table when drawn: a metrics poll brings new values for every pod and remakes no
row), and kept while the pod's record is the same object, its GPUs are equal, and none of its texts that depend on
the time can have changed yet: its AGE and its RESTARTS' "ago" change at the next whole unit that
``human_duration`` shows (a second under 10 minutes, a minute under 8 hours, an hour under 8 days, a day after); a
pod whose faultiness depends on the time (Terminating, or restarted in the last ``recent_restart_s``) is made again
on every refresh. The sorted list, faulty first, is kept while no row changed; the filter then only runs its pattern
over the kept texts.
"""

from __future__ import annotations

import bisect
import heapq
import operator
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from nimify_tui.gpu.records import GpuRecord
from nimify_tui.kube.records import PodRecord
from nimify_tui.render.pods import pod_entry
from nimify_tui.render.row import Row

VOLATILE_RESTART_S = 600.0 + 120.0  # pod_fault's recent_restart_s and settle_s: faultiness may change with time
_UNITS = ((600.0, 1.0), (8 * 3600.0, 60.0), (8 * 86400.0, 3600.0))


def text_valid_until(since: float | None, now: float) -> float:
    """Until when ``human_duration(now - since)`` keeps its text (it may change at the next whole unit shown)."""
    if since is None:
        return float("inf")
    elapsed = now - since
    if elapsed < 0:
        return now  # a clock ahead of ours: made again each time
    unit = next((unit for limit, unit in _UNITS if elapsed < limit), 86400.0)
    return since + (elapsed // unit + 1) * unit


@dataclass(frozen=True, slots=True)
class _Made:
    pod: PodRecord
    gpus: tuple[GpuRecord, ...]
    until: float
    row: Row
    sort_key: tuple[int, str]
    text: str  # what the filter matches: the name (namespace/name for every namespace), STATUS and NODE
    folded: str | None  # ``text`` in lower case when it is ASCII (a literal filter is a substring of it)


class PodRowCache:
    """The rows of one pods pane (one namespace, or all of them: ``namespace`` None)."""

    def __init__(self, namespace: str | None) -> None:
        self.namespace = namespace
        self._made: dict[tuple[str, str], _Made] = {}
        self._sorted: list[_Made] = []  # by sort_key (each row's is its own: the name shown is unique)
        self._sort_keys: list[tuple[int, str]] = []  # the same order, for bisect
        self._expiry: list[tuple[float, tuple[str, str]]] = []  # (until, key), a heap; an entry whose row was
        # made again since (another until) is skipped
        self._sources: tuple[int, ...] | None = None  # the store's versions of the pods and GPUs last seen
        self._gpus: dict[tuple[str, str], tuple[GpuRecord, ...]] = {}  # the GPUs of each pod at the last call
        self.remade = 0  # rows made at the last refresh (what a benchmark or a test may look at)
        # the last rows given, with the filter asked for: given again while no row changed (not to be changed)
        self._given: tuple[tuple[object, ...], list[Row]] | None = None

    @property
    def pods_version(self) -> int | None:
        """The store's version of the pods at the last call (None before one, or when not given)."""
        return self._sources[0] if self._sources is not None else None

    def rows(
        self,
        pods: Sequence[PodRecord],
        now: float,
        *,
        gpus_by_pod: Mapping[tuple[str, str], list[GpuRecord]],
        pattern: re.Pattern[str] | None = None,
        inverted: bool = False,
        faulty_only: bool = False,
        sources: tuple[int, ...] | None = None,
        changed: Mapping[tuple[str, str], PodRecord | None] | None = None,
    ) -> list[Row]:
        """The rows ``pod_rows(..., usage_late=True)`` gives for these arguments, in its order. ``sources``: the
        store's versions of the pods and their GPUs. ``changed``: the pods changed since the last call's pods
        version (each key's record now, None for one gone), when known: then ``pods`` is not read, and only those
        rows, the rows whose time has come and those whose GPUs changed are made again (a refresh after one pod
        changed, or typing into the filter, does not walk 50,000 pods). Without it every pod is looked at."""
        if sources is None or self._sources is None or changed is None:
            touched = self._update(pods, now, gpus_by_pod)
        else:
            touched = self._update_some(changed, sources[1:] != self._sources[1:], now, gpus_by_pod)
        self._sources = sources
        self._gpus = {key: tuple(gpus) for key, gpus in gpus_by_pod.items()}  # a copy: the caller's may change
        asked = (pattern, inverted, faulty_only)
        if not touched and self._given is not None and self._given[0] == asked:
            return self._given[1]  # no row changed: the list given last time (a table shown it already)
        shown = self._sorted
        if faulty_only:
            shown = [made for made in shown if made.sort_key[0] == 0]
        if pattern is not None:
            search = pattern.search
            needle = literal_needle(pattern)
            if needle is not None:  # a plain word, as most filters are: a substring test, not a regex search
                shown = [
                    made
                    for made in shown
                    if (needle in made.folded if made.folded is not None else bool(search(made.text))) != inverted
                ]
            else:
                shown = [made for made in shown if bool(search(made.text)) != inverted]
        rows = [made.row for made in shown]
        self._given = (asked, rows)
        return rows

    def _update(
        self,
        pods: Sequence[PodRecord],
        now: float,
        gpus_by_pod: Mapping[tuple[str, str], list[GpuRecord]],
    ) -> bool:
        """Every pod looked at: the rows kept while their pod, GPUs and time allow, the others made again. Whether
        a row changed, came or went."""
        made = self._made
        fresh: dict[tuple[str, str], _Made] = {}
        changed = False
        remade = 0
        namespace = self.namespace
        for pod in pods:
            if namespace is not None and pod.namespace != namespace:
                continue
            key = (pod.namespace, pod.name)
            gpus = gpus_by_pod.get(key)
            before = made.get(key)
            if (
                before is not None
                and before.pod is pod
                and now < before.until
                and before.gpus == (tuple(gpus) if gpus else ())
            ):
                fresh[key] = before
                continue
            entry = self._make(pod, now, gpus_by_pod, gpus)
            remade += 1
            if before is None or entry.row != before.row:
                changed = True
            fresh[key] = entry
        if changed or len(fresh) != len(made):
            self._sorted = sorted(fresh.values(), key=_SORT_KEY)
        elif remade:
            self._sorted = [fresh[key] for key in ((e.pod.namespace, e.pod.name) for e in self._sorted)]
        self._sort_keys = [entry.sort_key for entry in self._sorted]
        self._made = fresh
        self.remade = remade
        self._rebuild_expiry()
        return changed or remade > 0 or len(fresh) != len(made)

    def _rebuild_expiry(self) -> None:
        """The heap of the rows' expiries, from the rows kept now (its outdated entries gone)."""
        self._expiry = [(entry.until, key) for key, entry in self._made.items() if entry.until != float("inf")]
        heapq.heapify(self._expiry)

    def _update_some(
        self,
        changed: Mapping[tuple[str, str], PodRecord | None],
        gpus_moved: bool,
        now: float,
        gpus_by_pod: Mapping[tuple[str, str], list[GpuRecord]],
    ) -> bool:
        """Only the pods in ``changed``, those whose time has come, and (``gpus_moved``) those whose GPUs differ.
        Whether any was looked at."""
        made = self._made
        todo: dict[tuple[str, str], PodRecord | None] = {}
        expiry = self._expiry
        while expiry and expiry[0][0] <= now:
            until, key = heapq.heappop(expiry)
            entry = made.get(key)
            if entry is not None and entry.until == until:
                todo[key] = entry.pod
        if gpus_moved:
            before = self._gpus
            for key in {*before, *gpus_by_pod}:
                if before.get(key, ()) != tuple(gpus_by_pod.get(key, ())) and key in made:
                    todo[key] = made[key].pod
        namespace = self.namespace
        for key, pod in changed.items():
            if namespace is None or key[0] == namespace:
                todo[key] = pod
        remade = 0
        # a namespace's whole list (12,500 pods) moved one by one costs two list shifts each: sorted again instead
        in_place = len(todo) <= max(BULK_CHANGES, len(made) // 16)
        for key, pod in todo.items():
            old = made.pop(key, None)
            if old is not None and in_place:
                index = bisect.bisect_left(self._sort_keys, old.sort_key)
                del self._sorted[index]
                del self._sort_keys[index]
            if pod is None:
                continue
            entry = old if old is not None and old.pod is pod and now < old.until else None
            if entry is None or entry.gpus != tuple(gpus_by_pod.get(key) or ()):
                entry = self._make(pod, now, gpus_by_pod, gpus_by_pod.get(key))
                remade += 1
                if entry.until != float("inf"):
                    heapq.heappush(expiry, (entry.until, key))
            made[key] = entry
            if in_place:
                index = bisect.bisect_left(self._sort_keys, entry.sort_key)
                self._sorted.insert(index, entry)
                self._sort_keys.insert(index, entry.sort_key)
        if not in_place:
            self._sorted = sorted(made.values(), key=_SORT_KEY)
            self._sort_keys = [entry.sort_key for entry in self._sorted]
        self.remade = remade
        if len(expiry) > 2 * len(made) + EXPIRY_SLACK:
            # a row made again leaves its old entry behind until that one's time comes (hours, for an AGE): under
            # a storm of updates they piled up (about 2 MB a minute at 100 updates/s)
            self._rebuild_expiry()
        return bool(todo)

    def _make(
        self,
        pod: PodRecord,
        now: float,
        gpus_by_pod: Mapping[tuple[str, str], list[GpuRecord]],
        gpus: list[GpuRecord] | None,
    ) -> _Made:
        entry = pod_entry(pod, now, namespace=self.namespace, gpus_by_pod=gpus_by_pod, usage_late=True)
        until = min(text_valid_until(pod.created_at, now), text_valid_until(pod.last_restart_at, now))
        volatile = pod.status == "Terminating" or (
            pod.last_restart_at is not None and now - pod.last_restart_at < VOLATILE_RESTART_S
        )
        if volatile:
            until = now  # made again at the next refresh
        text = entry.match_text
        folded = text.lower() if text.isascii() else None
        return _Made(pod, tuple(gpus) if gpus else (), until, entry.row, entry.sort_key, text, folded)


_SORT_KEY = operator.attrgetter("sort_key")
BULK_CHANGES = 256  # more changed pods than this (and than a sixteenth of the rows) are sorted in, not inserted
EXPIRY_SLACK = 64  # outdated expiry entries allowed beyond twice the rows, before the heap is made again
_REGEX_SYNTAX = frozenset(".^$*+?{}[]\\|()")


def literal_needle(pattern: re.Pattern[str]) -> str | None:
    """What a case-insensitive ``pattern`` without regex syntax finds, in lower case, to be looked for in ASCII
    text lowered (the same answer as its search there); None for any other pattern."""
    text = pattern.pattern
    if not (pattern.flags & re.IGNORECASE) or not text.isascii() or _REGEX_SYNTAX.intersection(text):
        return None
    return text.lower()
