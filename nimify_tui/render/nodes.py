"""The nodes & GPUs table: conditions, CPU/MEM use against allocatable, nvidia.com/gpu requested vs allocatable,
and each GPU's utilization, memory, temperature, power and last XID as bars."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from nimify_tui.gpu.merge import GpuView
from nimify_tui.gpu.records import GpuRecord
from nimify_tui.kube.metrics_api import Usage
from nimify_tui.kube.quantity import quantity_or_none
from nimify_tui.kube.records import NodeRecord, PodRecord
from nimify_tui.render.kubectl import node_status
from nimify_tui.render.row import Column, Row

NODE_COLUMNS = (
    Column("NODE / GPU", pinned=True, cut_to=10, cut_middle=True),
    Column("STATUS", cut_to=12),
    Column("CPU", priority=1),
    Column("MEM", priority=1),
    Column("GPU", priority=1),
    Column("DETAIL", priority=2, cut_to=8),
)


PRESSURES = ("MemoryPressure", "DiskPressure", "PIDPressure", "NetworkUnavailable")


def bar(fraction: float | None, width: int = 8) -> str:
    """``█████░░░ 63%``; ``n/a`` when unknown."""
    if fraction is None:
        return "n/a"
    clamped = min(max(fraction, 0.0), 1.0)
    filled = round(clamped * width)
    return "█" * filled + "░" * (width - filled) + f" {fraction * 100:3.0f}%"


def _gpus_held(pod: PodRecord) -> int:
    """The GPUs a pod holds on its node: its containers' limits (or requests); none once it ended or unplaced."""
    if not pod.node or pod.phase in ("Succeeded", "Failed"):
        return 0
    return sum(int(c.gpu_limit or c.gpu_request or 0) for c in pod.containers)


def gpus_requested_by_node(pods: Sequence[PodRecord]) -> dict[str, int]:
    requested: dict[str, int] = {}
    for pod in pods:
        count = _gpus_held(pod)
        if count:
            requested[pod.node] = requested.get(pod.node, 0) + count
    return requested


class GpuRequests:
    """``gpus_requested_by_node`` kept per version of the pods, and moved by the pods that changed when they are
    known: at 50,000 pods a walk takes tens of milliseconds, and the nodes pane redraws whenever a pod changes."""

    def __init__(self) -> None:
        self._version: int | None = None
        self._held: dict[tuple[str, str], tuple[str, int]] = {}  # the pods holding GPUs: (node, count)
        self._requested: dict[str, int] = {}

    def of(
        self,
        pods: Callable[[], Sequence[PodRecord]],
        version: int,
        changed: Mapping[tuple[str, str], PodRecord | None] | None = None,
    ) -> dict[str, int]:
        """The GPUs requested on each node by the store's pods at ``version``. ``changed``: the pods changed since
        the version given last time (None for one gone), when known; else ``pods()`` gives them all."""
        if version == self._version:
            return self._requested
        if changed is None or self._version is None:
            self._held = {(p.namespace, p.name): (p.node, n) for p in pods() if (n := _gpus_held(p))}
        else:
            for key, pod in changed.items():
                count = _gpus_held(pod) if pod is not None else 0
                if pod is not None and count:
                    self._held[key] = (pod.node, count)
                else:
                    self._held.pop(key, None)
        requested: dict[str, int] = {}
        for node, count in self._held.values():
            requested[node] = requested.get(node, 0) + count
        self._requested = requested
        self._version = version
        return requested


def _fraction(used: float, total_text: str, scale: float = 1.0) -> float | None:
    total = quantity_or_none(total_text)
    if total is None or float(total) == 0:
        return None
    return used / (float(total) * scale)


def node_rows(
    nodes: Sequence[NodeRecord],
    pods: Sequence[PodRecord],
    usage: Mapping[str, Usage] | None,
    gpus: GpuView | None,
    requested: Mapping[str, int] | None = None,
) -> list[Row]:
    """The rows of ``nodes``; ``requested``: the GPUs requested on each node, when already worked out from
    ``pods`` (:class:`GpuRequests`)."""
    if requested is None:
        requested = gpus_requested_by_node(pods)
    gpus_by_node: dict[str, tuple[GpuRecord, ...]] = {}
    notes: dict[str, str] = {}
    if gpus is not None:
        for entry in gpus.nodes:
            gpus_by_node[entry.node] = entry.gpus
            notes[entry.node] = entry.note
    rows: list[Row] = []
    for node in sorted(nodes, key=lambda n: (n.gpu_capacity == 0, n.name)):
        status = node_status(node.conditions, node.unschedulable)
        pressures = [c.type for c in node.conditions if c.type in PRESSURES and c.status == "True"]
        if pressures:
            status += "," + ",".join(pressures)
        node_usage = usage.get(node.name) if usage else None
        cpu = _fraction(node_usage.cpu_millicores / 1000, node.cpu_allocatable) if node_usage else None
        mem = _fraction(node_usage.memory_bytes, node.memory_allocatable) if node_usage else None
        gpu = ""
        if node.gpu_capacity:
            gpu = f"{requested.get(node.name, 0)}/{node.gpu_allocatable} req"
            if node.gpu_allocatable < node.gpu_capacity:
                gpu += f" (cap {node.gpu_capacity})"
        bad = status != "Ready" or (node.gpu_capacity and node.gpu_allocatable < node.gpu_capacity)
        detail = node.instance_type or ""
        if node.gpu_capacity and node.name in notes:
            detail = f"{detail} {notes[node.name]}".strip()
        rows.append(
            Row(
                f"node/{node.name}",
                (node.name, status, bar(cpu), bar(mem), gpu, detail),
                "bold red" if bad else "bold",
            )
        )
        for g in sorted(gpus_by_node.get(node.name, ()), key=lambda g: (g.index is None, g.index or 0, g.uuid)):
            rows.append(gpu_row(g))
    return rows


def gpu_row(gpu: GpuRecord) -> Row:
    label = f" └ GPU{gpu.index if gpu.index is not None else '?'}"
    util = bar(gpu.util_pct / 100 if gpu.util_pct is not None else None)
    mem = bar(gpu.mem_used_mib / gpu.mem_total_mib) if gpu.mem_used_mib is not None and gpu.mem_total_mib else "n/a"
    parts = []
    if gpu.temp_c is not None:
        parts.append(f"{gpu.temp_c:.0f}°C")
    if gpu.power_w is not None:
        parts.append(f"{gpu.power_w:.0f}W" + (f"/{gpu.power_limit_w:.0f}W" if gpu.power_limit_w else ""))
    if gpu.pod:
        parts.append(f"{gpu.namespace}/{gpu.pod}")
    parts.append(gpu.source)
    xid = f"XID {gpu.last_xid}" if gpu.last_xid else "ok"
    return Row(
        f"gpu/{gpu.node}/{gpu.uuid}",
        (label, xid, util, mem, gpu.name.replace("NVIDIA ", ""), " ".join(parts)),
        "red" if gpu.last_xid else "",
    )
