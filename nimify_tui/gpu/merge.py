"""One GPU view from every source: per node, DCGM exporter > Triton metrics > local NVML, and why.

A node's GPUs come from the best source that reports any for it; a note names that source, or says why
there is no GPU data at all (each source's reason), so absence is shown, never an error.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from nimify_tui.gpu.records import GpuReading, GpuRecord, GpuSource

SOURCE_PRIORITY: tuple[GpuSource, ...] = ("dcgm", "triton", "nvml")
SOURCE_NAMES: dict[GpuSource, str] = {
    "dcgm": "DCGM exporter",
    "triton": "Triton metrics",
    "nvml": "local NVML",
}
_NOTHING_REPORTED: dict[GpuSource, str] = {
    "dcgm": "no GPU series",
    "triton": "no nv_gpu_* series (CPU-only server or GPU metrics off)",
    "nvml": "no local GPU",
}


@dataclass(frozen=True, slots=True)
class NodeGpus:
    """The GPUs of one node, the source they came from (None: no data), and a note saying which or why not."""

    node: str
    source: GpuSource | None
    gpus: tuple[GpuRecord, ...]
    note: str


@dataclass(frozen=True, slots=True)
class GpuView:
    """Every node with GPUs or GPU data, and a one-line summary of where the data came from or why none."""

    nodes: tuple[NodeGpus, ...]
    summary: str


@dataclass(slots=True)
class _Source:
    gpus: list[GpuRecord]
    errors: list[str]

    def reason(self, source: GpuSource, node: str) -> str:
        if self.errors:
            return "; ".join(self.errors)
        if self.gpus:
            return f"nothing for node {node}"
        return _NOTHING_REPORTED[source]


def _collect(readings: Iterable[GpuReading]) -> dict[GpuSource, _Source]:
    sources: dict[GpuSource, _Source] = {}
    for reading in readings:
        source = sources.setdefault(reading.source, _Source([], []))
        known = {gpu.uuid for gpu in source.gpus if gpu.uuid}
        source.gpus.extend(gpu for gpu in reading.gpus if not gpu.uuid or gpu.uuid not in known)
        if reading.error:
            source.errors.append(reading.error)
    return sources


def _why_not(sources: dict[GpuSource, _Source], node: str, above: GpuSource | None = None) -> str:
    reasons = []
    for source in SOURCE_PRIORITY:
        if source == above:
            break
        found = sources.get(source)
        reasons.append(f"{SOURCE_NAMES[source]}: {'not asked' if found is None else found.reason(source, node)}")
    return "; ".join(reasons)


def merge_gpu_readings(readings: Iterable[GpuReading], gpu_nodes: Iterable[str] = ()) -> GpuView:
    """Merge the readings of all sources; ``gpu_nodes`` (``nvidia.com/gpu`` capacity) are always listed."""
    sources = _collect(readings)
    names = sorted(set(gpu_nodes) | {gpu.node for source in sources.values() for gpu in source.gpus})
    nodes: list[NodeGpus] = []
    for node in names:
        for source in SOURCE_PRIORITY:
            found = sources.get(source)
            gpus = tuple(gpu for gpu in found.gpus if gpu.node == node) if found else ()
            if gpus:
                skipped = _why_not(sources, node, above=source)
                note = f"from {SOURCE_NAMES[source]}" + (f" ({skipped})" if skipped else "")
                nodes.append(NodeGpus(node, source, gpus, note))
                break
        else:
            nodes.append(NodeGpus(node, None, (), "no GPU data: " + _why_not(sources, node)))
    used = [source for source in SOURCE_PRIORITY if any(n.source == source for n in nodes)]
    if used:
        summary = "GPU data from " + ", ".join(
            f"{SOURCE_NAMES[s]} ({sum(1 for n in nodes if n.source == s)} node(s))" for s in used
        )
    else:
        summary = "no GPU data: " + _why_not(sources, "any node")
    return GpuView(tuple(nodes), summary)
