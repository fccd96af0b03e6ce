"""The pods pane: kubectl's `get pods -o wide` columns plus CPU, MEM and GPU; faulty pods first, highlighted."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from nimify_tui.gpu.records import GpuRecord
from nimify_tui.kube.metrics_api import Usage
from nimify_tui.kube.records import PodRecord
from nimify_tui.kube.status import pod_fault, pod_row
from nimify_tui.sources import Store
from nimify_tui.ui.panes.base import TablePane
from nimify_tui.ui.widgets.record_table import Row

POD_COLUMNS = ("NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE", "CPU", "MEM", "GPU")


def compile_filter(text: str) -> tuple[re.Pattern[str] | None, bool, str]:
    """k9s-style filter: a regex (case-insensitive), ``!`` in front inverts; a bad regex is matched literally."""
    inverted = text.startswith("!")
    body = text[1:] if inverted else text
    if not body:
        return None, False, ""
    try:
        return re.compile(body, re.IGNORECASE), inverted, ""
    except re.error as exc:
        return (
            re.compile(re.escape(body), re.IGNORECASE),
            inverted,
            f"not a regex ({exc}); matching literally",
        )


def format_cpu(usage: Usage | None) -> str:
    return f"{usage.cpu_millicores:.0f}m" if usage is not None else "n/a"


def format_mem(usage: Usage | None) -> str:
    return f"{usage.memory_bytes / 2**20:.0f}Mi" if usage is not None else "n/a"


def gpu_cell(pod: PodRecord, gpus_by_pod: Mapping[tuple[str, str], list[GpuRecord]]) -> str:
    requested = sum(int(c.gpu_limit or c.gpu_request or 0) for c in pod.containers)
    held = gpus_by_pod.get((pod.namespace, pod.name), [])
    if not requested and not held:
        return ""
    utils = [g.util_pct for g in held if g.util_pct is not None]
    if utils:
        return f"{max(requested, len(held))} {sum(utils) / len(utils):.0f}%"
    return str(requested or len(held))


def pod_rows(
    pods: Sequence[PodRecord],
    now: float,
    *,
    namespace: str | None,
    pattern: re.Pattern[str] | None = None,
    inverted: bool = False,
    faulty_only: bool = False,
    usage: Mapping[tuple[str, str], Usage] | None = None,
    gpus_by_pod: Mapping[tuple[str, str], list[GpuRecord]] | None = None,
) -> list[Row]:
    """The rows to show, faulty first (then by name); ``namespace`` None shows every watched namespace."""
    rows: list[tuple[int, str, Row]] = []
    for pod in pods:
        if namespace is not None and pod.namespace != namespace:
            continue
        cells = pod_row(pod, now)
        name = cells.name if namespace is not None else f"{pod.namespace}/{cells.name}"
        if pattern is not None and bool(pattern.search(name + " " + cells.status + " " + cells.node)) == inverted:
            continue
        fault = pod_fault(pod, now)
        if faulty_only and fault is None:
            continue
        key = (pod.namespace, pod.name)
        pod_usage = usage.get(key) if usage is not None else None
        style = ""
        if fault is not None:
            style = "bold red" if pod.status not in ("Running", "ContainerCreating", "Terminating") else "yellow"
        row = Row(
            f"{pod.namespace}/{pod.name}",
            (
                name,
                cells.ready,
                cells.status,
                cells.restarts,
                cells.age,
                cells.ip,
                cells.node,
                format_cpu(pod_usage) if usage is not None else "n/a",
                format_mem(pod_usage) if usage is not None else "n/a",
                gpu_cell(pod, gpus_by_pod or {}),
            ),
            style,
        )
        rows.append((0 if fault is not None else 1, name, row))
    rows.sort(key=lambda item: (item[0], item[1]))
    return [row for _, _, row in rows]


class PodsPane(TablePane):
    COLUMNS = POD_COLUMNS
    SOURCES = ("pods", "podmetrics", "gpus")
    HEALTH = ("pods", "metrics-api")  # CPU/MEM say "n/a"; the border says why

    def __init__(self) -> None:
        super().__init__("Pods", id="pods-pane")
        self.namespace: str | None = "nimify-system"
        self.filter_text = ""
        self.faulty_only = False
        self.filter_note = ""

    def update_view(self, store: Store, now: float) -> None:
        pattern, inverted, self.filter_note = compile_filter(self.filter_text)
        gpus_by_pod: dict[tuple[str, str], list[GpuRecord]] = {}
        view = store.value("gpus")
        if view is not None:
            for node in view.nodes:
                for gpu in node.gpus:
                    if gpu.pod:
                        gpus_by_pod.setdefault((gpu.namespace or "", gpu.pod), []).append(gpu)
        pods = store.items("pods")
        rows = pod_rows(
            pods,
            now,
            namespace=self.namespace,
            pattern=pattern,
            inverted=inverted,
            faulty_only=self.faulty_only,
            usage=store.value("podmetrics"),
            gpus_by_pod=gpus_by_pod,
        )
        self.table.show_rows(rows)
        faulty = sum(1 for r in rows if r.style)
        scope = self.namespace or "all namespaces"
        extras = []
        if self.filter_text:
            extras.append(f"/{self.filter_text}")
        if self.faulty_only:
            extras.append("faulty only")
        title = f"Pods · {scope} · {len(rows)}" + (f", {faulty} faulty" if faulty else "")
        self.set_title(title + (f" ({', '.join(extras)})" if extras else ""))

    def selected_pod(self) -> tuple[str, str] | None:
        key = self.table.selected_key
        if key is None:
            return None
        namespace, _, name = key.partition("/")
        return namespace, name
