"""The pods pane: kubectl's `get pods -o wide` columns plus CPU, MEM and GPU; faulty pods first, highlighted."""

from __future__ import annotations

import bisect
import time

from nimify_tui.gpu.records import GpuRecord
from nimify_tui.kube.records import PodRecord
from nimify_tui.live.keys import GPUS, POD_USAGE, PODS
from nimify_tui.live.store import Store
from nimify_tui.render.pods import POD_COLUMNS, USAGE_COLUMNS, compile_filter, pod_columns, usage_cells, usage_widths
from nimify_tui.render.row import Column, Row
from nimify_tui.ui.panes.pod_row_cache import PodRowCache
from nimify_tui.ui.panes.table_pane import OverflowTitledPane
from nimify_tui.ui.widgets.record_table import LateCells


class PodsPane(OverflowTitledPane):
    TABLE_COLUMNS = POD_COLUMNS
    SOURCES = (PODS, POD_USAGE, GPUS)
    HEALTH = ("pods", "metrics-api")  # CPU/MEM say "n/a"; the border says why
    MOST_CHANGED = 20_000  # pods changed since the last refresh that are looked up one by one; more: all are read
    LISTING_REFRESH_S = 1.0

    def __init__(self, namespace: str | None) -> None:
        super().__init__("Pods", id="pods-pane")
        self.namespace = namespace  # None: every watched namespace
        self.filter_text = ""
        self.faulty_only = False
        self.filter_note = ""
        self._rows = PodRowCache(namespace)
        self._usage_shown: tuple[object, ...] | None = None  # the usage the table's CPU and MEM are filled from
        self._listing_shown_at = float("-inf")  # when rows were last shown while a pods list came in (monotonic)

    def refresh_from(self, store: Store, now: float, *, force: bool = False) -> None:
        """While a pods list is still coming in, the rows are shown again at most every ``LISTING_REFRESH_S``
        (each refresh sorts and shows every row listed so far: at 50,000 pods, the refreshes every half second
        took 0.4 s more of the interpreter than the rows themselves); a forced refresh (a filter typed, a namespace
        switched) and the refresh once a list is in are never held back."""
        listing = not all(health.loaded for health in store.health_of("pods"))
        clock = time.monotonic()
        if listing and not force and self.table.row_count and clock - self._listing_shown_at < self.LISTING_REFRESH_S:
            return
        if listing:
            self._listing_shown_at = clock
        super().refresh_from(store, now, force=force)

    def update_view(self, store: Store, now: float) -> None:
        pattern, inverted, self.filter_note = compile_filter(self.filter_text)
        gpus_by_pod: dict[tuple[str, str], list[GpuRecord]] = {}
        gpus_version = store.version(GPUS)  # read before the value: a change in between is seen next time
        view = store.value(GPUS)
        if view is not None:
            for node in view.nodes:
                for gpu in node.gpus:
                    if gpu.pod:
                        gpus_by_pod.setdefault((gpu.namespace or "", gpu.pod), []).append(gpu)
        columns = pod_columns(self.namespace)
        self.table.set_columns(columns)
        if self._rows.namespace != self.namespace:
            self._rows = PodRowCache(self.namespace)
        pods_version, changed = store.changed_records(PODS, self._rows.pods_version, self.MOST_CHANGED)
        pods: list[PodRecord] = store.items(PODS) if changed is None else []
        rows = self._rows.rows(
            pods,
            now,
            gpus_by_pod=gpus_by_pod,
            pattern=pattern,
            inverted=inverted,
            faulty_only=self.faulty_only,
            sources=(pods_version, gpus_version),
            changed=changed,
        )
        self.table.show_rows(rows)
        self._show_usage(store, columns)
        faulty = bisect.bisect_left(rows, True, key=_healthy)  # the faulty rows come first, styled (any filter too)
        scope = self.namespace or "all namespaces"
        extras = []
        if self.filter_text:
            extras.append(f"/{self.filter_text}")
        if self.faulty_only:
            extras.append("faulty only")
        title = f"Pods · {scope} · {len(rows)}" + (f", {faulty} faulty" if faulty else "")
        self.set_title(title + (f" ({', '.join(extras)})" if extras else ""))

    def _show_usage(self, store: Store, columns: tuple[Column, ...]) -> None:
        """CPU and MEM are filled when a line is drawn: a metrics poll redraws the lines on screen only."""
        usage = store.value(POD_USAGE)
        shown = (store.version(POD_USAGE), columns)
        if shown == self._usage_shown and self.table.has_late_cells:
            return
        self._usage_shown = shown
        names = [column.name for column in columns]

        def fill(key: str) -> tuple[str, str]:
            namespace, _, name = key.partition("/")
            return usage_cells(usage, (namespace, name))

        where = tuple(names.index(name) for name in USAGE_COLUMNS)
        self.table.set_late_cells(LateCells(where, fill, usage_widths(usage)))

    def selected_pod(self) -> tuple[str, str] | None:
        key = self.table.selected_key
        if key is None:
            return None
        namespace, _, name = key.partition("/")
        return namespace, name


def _healthy(row: Row) -> bool:
    return not row.style
