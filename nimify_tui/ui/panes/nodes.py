"""Nodes & GPUs: conditions, CPU/MEM use against allocatable, nvidia.com/gpu allocatable vs requested, and each
GPU's utilization, memory, temperature, power and last XID as bars."""

from __future__ import annotations

from nimify_tui.gpu.merge import GpuView
from nimify_tui.live.keys import GPUS, NODE_USAGE, NODES, PODS
from nimify_tui.live.store import Store
from nimify_tui.render.nodes import NODE_COLUMNS, GpuRequests, node_rows
from nimify_tui.ui.panes.table_pane import OverflowTitledPane


class NodesPane(OverflowTitledPane):
    TABLE_COLUMNS = NODE_COLUMNS
    SOURCES = (NODES, PODS, NODE_USAGE, GPUS)
    HEALTH = ("nodes", "metrics-api")

    def __init__(self) -> None:
        super().__init__("Nodes & GPUs", id="nodes-pane")
        self._requested = GpuRequests()
        self._pods_version: int | None = None

    def update_view(self, store: Store, now: float) -> None:
        gpus: GpuView | None = store.value(GPUS)
        # the pods changed since the last refresh are read, not all of them (a change in between is seen next time)
        pods_version, changed = store.changed_records(PODS, self._pods_version)
        requested = self._requested.of(lambda: store.items(PODS), pods_version, changed)
        self._pods_version = pods_version
        rows = node_rows(store.items(NODES), (), store.value(NODE_USAGE), gpus, requested)
        self.table.show_rows(rows)
        summary = f" · {gpus.summary}" if gpus is not None and gpus.summary else ""
        self.set_title(f"Nodes & GPUs · {sum(1 for r in rows if r.key.startswith('node/'))}{summary}")

    def selected_node(self) -> str | None:
        key = self.table.selected_key
        if key is None:
            return None
        kind, _, rest = key.partition("/")
        return rest if kind == "node" else rest.split("/", 1)[0]
