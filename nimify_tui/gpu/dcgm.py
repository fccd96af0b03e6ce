"""GPUs from a DCGM exporter scrape (``DCGM_FI_*`` gauges, port 9400).

Accepts both generations of labels: ``Hostname`` and ``hostname``; ``pod``/``namespace``/``container`` and the
old ``pod_name``/``pod_namespace``/``container_name``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from nimify_tui.gpu.records import GpuRecord

if TYPE_CHECKING:
    from nimify_tui.metrics.scrape import Scrape

_FIELDS = frozenset(
    (
        "DCGM_FI_DEV_GPU_UTIL",
        "DCGM_FI_PROF_GR_ENGINE_ACTIVE",
        "DCGM_FI_DEV_FB_USED",
        "DCGM_FI_DEV_FB_FREE",
        "DCGM_FI_DEV_FB_RESERVED",
        "DCGM_FI_DEV_FB_TOTAL",
        "DCGM_FI_DEV_GPU_TEMP",
        "DCGM_FI_DEV_POWER_USAGE",
        "DCGM_FI_DEV_POWER_MGMT_LIMIT",
        "DCGM_FI_DEV_ENFORCED_POWER_LIMIT",
        "DCGM_FI_DEV_XID_ERRORS",
    )
)
_XID_WINDOW_COUNT = "DCGM_EXP_XID_ERRORS_COUNT"


def _label(labels: Mapping[str, str], *names: str) -> str | None:
    return next((labels[name] for name in names if labels.get(name)), None)


def _gpu_key(labels: Mapping[str, str]) -> tuple[str, str] | None:
    gpu = labels.get("UUID") or labels.get("gpu")
    return None if gpu is None else (_label(labels, "Hostname", "hostname") or "", gpu)


def _last_xid(values: Mapping[str, float], xid_counts: list[tuple[Mapping[str, str], float]]) -> int | None:
    if "DCGM_FI_DEV_XID_ERRORS" in values:
        return int(values["DCGM_FI_DEV_XID_ERRORS"])
    if not xid_counts:
        return None
    # dcgm-exporter 4.x counts XIDs in a window, one series per XID code: take the most frequent one.
    seen = [(count, int(labels["xid"])) for labels, count in xid_counts if count > 0 and "xid" in labels]
    return max(seen)[1] if seen else 0


def _sum_of(values: Mapping[str, float], *names: str) -> float | None:
    present = [values[name] for name in names if name in values]
    return sum(present) if present else None


def gpus_from_dcgm(scrape: Scrape, node: str | None = None) -> tuple[GpuRecord, ...]:
    """One record per GPU with any ``DCGM_*`` series; ``node`` overrides the exporter's hostname label.

    Fields the exporter does not export stay None. A GPU shared by several pods takes the first pod's labels.
    """
    values: dict[tuple[str, str], dict[str, float]] = {}
    labels_of: dict[tuple[str, str], Mapping[str, str]] = {}
    xid_counts: dict[tuple[str, str], list[tuple[Mapping[str, str], float]]] = {}
    for name, samples in scrape.by_name.items():
        if not name.startswith("DCGM_"):
            continue
        for sample in samples:
            key = _gpu_key(sample.labels)
            if key is None:
                continue
            if key not in labels_of or (
                _label(sample.labels, "pod", "pod_name") and not _label(labels_of[key], "pod", "pod_name")
            ):
                labels_of[key] = sample.labels
            if name in _FIELDS:
                values.setdefault(key, {})[name] = sample.value
    for sample in scrape.select(_XID_WINDOW_COUNT):
        key = _gpu_key(sample.labels)
        if key is not None:
            xid_counts.setdefault(key, []).append((sample.labels, sample.value))
    records = []
    for key in sorted(labels_of):
        labels, fields = labels_of[key], values.get(key, {})
        util = fields.get("DCGM_FI_DEV_GPU_UTIL")
        if util is None and "DCGM_FI_PROF_GR_ENGINE_ACTIVE" in fields:
            util = fields["DCGM_FI_PROF_GR_ENGINE_ACTIVE"] * 100
        total = fields.get("DCGM_FI_DEV_FB_TOTAL")
        if total is None and "DCGM_FI_DEV_FB_FREE" in fields:
            total = _sum_of(fields, "DCGM_FI_DEV_FB_USED", "DCGM_FI_DEV_FB_FREE", "DCGM_FI_DEV_FB_RESERVED")
        limit = fields.get("DCGM_FI_DEV_POWER_MGMT_LIMIT", fields.get("DCGM_FI_DEV_ENFORCED_POWER_LIMIT"))
        index = labels.get("gpu", "")
        records.append(
            GpuRecord(
                node=node or key[0],
                index=int(index) if index.isdigit() else None,
                uuid=labels.get("UUID", ""),
                name=_label(labels, "modelName", "DCGM_FI_DEV_NAME") or "",
                util_pct=util,
                mem_used_mib=fields.get("DCGM_FI_DEV_FB_USED"),
                mem_total_mib=total,
                temp_c=fields.get("DCGM_FI_DEV_GPU_TEMP"),
                power_w=fields.get("DCGM_FI_DEV_POWER_USAGE"),
                power_limit_w=limit,
                last_xid=_last_xid(fields, xid_counts.get(key, [])),
                pod=_label(labels, "pod", "pod_name"),
                namespace=_label(labels, "namespace", "pod_namespace"),
                container=_label(labels, "container", "container_name"),
                source="dcgm",
            )
        )
    return tuple(records)
