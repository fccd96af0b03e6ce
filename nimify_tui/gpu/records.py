"""One record per GPU, whichever source it came from, and the outcome of asking one source."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

GpuSource = Literal["dcgm", "triton", "nvml"]


@dataclass(frozen=True, slots=True)
class GpuProcess:
    """A process holding GPU memory (NVML only); ``used_mib`` is None where the driver cannot tell."""

    pid: int
    used_mib: float | None


@dataclass(frozen=True, slots=True)
class GpuRecord:
    """One GPU: identity, load, memory (MiB), temperature (C), power (W), last XID, and the pod using it.

    Every measurement is None when the source does not report it (Triton has no temperature, say).
    ``last_xid`` 0 means no XID error seen.
    """

    node: str
    index: int | None
    uuid: str
    name: str
    util_pct: float | None
    mem_used_mib: float | None
    mem_total_mib: float | None
    temp_c: float | None
    power_w: float | None
    power_limit_w: float | None
    last_xid: int | None
    pod: str | None
    namespace: str | None
    container: str | None
    source: GpuSource
    processes: tuple[GpuProcess, ...] = ()


@dataclass(frozen=True, slots=True)
class GpuReading:
    """What one source gave: its GPUs, or why it gave none (``error``: "exporter unreachable: ...")."""

    source: GpuSource
    gpus: tuple[GpuRecord, ...] = ()
    error: str | None = None
