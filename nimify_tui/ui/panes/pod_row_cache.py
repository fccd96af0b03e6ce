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


class PodRowCache:
    """The rows of one pods pane (one namespace, or all of them: ``namespace`` None)."""

    def __init__(self, namespace: str | None) -> None:
        self.namespace = namespace
        self._made: dict[tuple[str, str], _Made] = {}
        self._sorted: list[_Made] = []
        self._sources: tuple[int, ...] | None = None  # the store's versions of the pods and GPUs last seen
        self._expires = 0.0  # the first time a kept row's text may change (the volatile rows aside)
        self._volatile: list[tuple[str, str]] = []  # made again on every refresh
        self.remade = 0  # rows made at the last refresh (what a benchmark or a test may look at)

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
    ) -> list[Row]:
        """The rows ``pod_rows(..., usage_late=True)`` gives for these arguments, in its order. ``sources``: the
        store's versions of the pods and their GPUs; while they are the same as at the last call, only the rows
        whose time has come are looked at again (typing into the filter does not walk 50,000 pods)."""
        if sources is None or sources != self._sources or now >= self._expires:
            self._update(pods, now, gpus_by_pod)
            self._sources = sources
        else:
            self._update_volatile(now, gpus_by_pod)
        shown = self._sorted
        if faulty_only:
            shown = [made for made in shown if made.sort_key[0] == 0]
        if pattern is not None:
            search = pattern.search
            shown = [made for made in shown if bool(search(made.text)) != inverted]
        return [made.row for made in shown]

    def _update(
        self,
        pods: Sequence[PodRecord],
        now: float,
        gpus_by_pod: Mapping[tuple[str, str], list[GpuRecord]],
    ) -> None:
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
            self._sorted = sorted(fresh.values(), key=lambda entry: entry.sort_key)
        elif remade:
            self._sorted = [fresh[key] for key in ((e.pod.namespace, e.pod.name) for e in self._sorted)]
        self._made = fresh
        self.remade = remade
        self._volatile = [key for key, entry in fresh.items() if entry.until <= now]
        self._expires = min((entry.until for entry in fresh.values() if entry.until > now), default=float("inf"))

    def _update_volatile(
        self,
        now: float,
        gpus_by_pod: Mapping[tuple[str, str], list[GpuRecord]],
    ) -> None:
        """Nothing in the store changed: make the volatile rows again (their faultiness follows the clock)."""
        changed = False
        for key in self._volatile:
            before = self._made[key]
            entry = self._make(before.pod, now, gpus_by_pod, gpus_by_pod.get(key))
            changed = changed or entry.row != before.row
            self._made[key] = entry
        if changed:
            self._sorted = sorted(self._made.values(), key=lambda entry: entry.sort_key)
        elif self._volatile:
            self._sorted = [self._made[(e.pod.namespace, e.pod.name)] for e in self._sorted]
        self.remade = len(self._volatile)

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
        return _Made(pod, tuple(gpus) if gpus else (), until, entry.row, entry.sort_key, entry.match_text)
