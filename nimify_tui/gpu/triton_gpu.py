"""GPUs from Triton's own metrics (``nv_gpu_*`` per ``gpu_uuid``; absent on CPU-only servers)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nimify_tui.gpu.records import GpuRecord

if TYPE_CHECKING:
    from nimify_tui.metrics.scrape import Scrape

_MIB = 1024 * 1024
_METRICS = (
    "nv_gpu_utilization",
    "nv_gpu_memory_used_bytes",
    "nv_gpu_memory_total_bytes",
    "nv_gpu_power_usage",
    "nv_gpu_power_limit",
)


def gpus_from_triton(
    scrape: Scrape, node: str, pod: str | None = None, namespace: str | None = None
) -> tuple[GpuRecord, ...]:
    """One record per GPU a Triton server reports; ``node``/``pod``/``namespace`` are where that server runs.

    Triton gives no index, model name, temperature or XID: those stay empty.
    """
    uuids = sorted(
        {
            sample.labels["gpu_uuid"]
            for metric in _METRICS
            for sample in scrape.select(metric)
            if "gpu_uuid" in sample.labels
        }
    )
    records = []
    for uuid in uuids:
        labels = {"gpu_uuid": uuid}
        utilization = scrape.value("nv_gpu_utilization", labels)
        used = scrape.value("nv_gpu_memory_used_bytes", labels)
        total = scrape.value("nv_gpu_memory_total_bytes", labels)
        records.append(
            GpuRecord(
                node=node,
                index=None,
                uuid=uuid,
                name="",
                util_pct=None if utilization is None else utilization * 100,
                mem_used_mib=None if used is None else used / _MIB,
                mem_total_mib=None if total is None else total / _MIB,
                temp_c=None,
                power_w=scrape.value("nv_gpu_power_usage", labels),
                power_limit_w=scrape.value("nv_gpu_power_limit", labels),
                last_xid=None,
                pod=pod,
                namespace=namespace,
                container=None,
                source="triton",
            )
        )
    return tuple(records)
