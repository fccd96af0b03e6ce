"""The pods table: kubectl's `get pods -o wide` columns plus CPU, MEM and GPU; faulty pods first.

Every namespace at once (``namespace`` None) puts a NAMESPACE column first, as ``kubectl get pods -A`` does.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from operator import attrgetter
from typing import NamedTuple

from nimify_tui.gpu.records import GpuRecord
from nimify_tui.kube.faults import pod_fault
from nimify_tui.kube.metrics_api import Usage
from nimify_tui.kube.records import PodRecord
from nimify_tui.render.kubectl import pod_row
from nimify_tui.render.row import Column, Row
from nimify_tui.text import literal

# NAME, READY, STATUS, RESTARTS and AGE first; NODE, then CPU, MEM and GPU; IP goes first when the pane is narrow
POD_COLUMNS = (
    Column("NAME", pinned=True, cut_to=16, cut_middle=True),
    Column("READY"),
    Column("STATUS"),
    Column("RESTARTS", stable_width=len("10 (2m40s ago)")),
    Column("AGE", stable_width=len("2m40s")),
    Column("IP", priority=4),
    Column("NODE", priority=1),
    Column("CPU", priority=2),
    Column("MEM", priority=2),
    Column("GPU", priority=3),
)
ALL_NAMESPACES_POD_COLUMNS = (Column("NAMESPACE", pinned=True, cut_to=8, cut_middle=True), *POD_COLUMNS)


def pod_columns(namespace: str | None) -> tuple[Column, ...]:
    """The columns of the pods of one namespace, or of all of them (``None``)."""
    return POD_COLUMNS if namespace is not None else ALL_NAMESPACES_POD_COLUMNS


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


def usage_cells(usage: Mapping[tuple[str, str], Usage] | None, key: tuple[str, str]) -> tuple[str, str]:
    """The CPU and MEM cells of the pod ``key``: ``n/a`` without metrics, or without the pod's."""
    if usage is None:
        return ("n/a", "n/a")
    pod_usage = usage.get(key)
    return (format_cpu(pod_usage), format_mem(pod_usage))


def usage_widths(usage: Mapping[tuple[str, str], Usage] | None) -> tuple[int, int]:
    """The width of the widest CPU and MEM cell of ``usage`` (``n/a`` at least)."""
    if not usage:
        return (3, 3)
    values = usage.values()  # the largest value is the widest cell (read at C speed: 50,000 pods at each poll)
    widest = Usage(max(map(_CPU_MILLICORES, values)), max(map(_MEMORY_BYTES, values)))
    return (max(3, len(format_cpu(widest))), max(3, len(format_mem(widest))))


_CPU_MILLICORES = attrgetter("cpu_millicores")
_MEMORY_BYTES = attrgetter("memory_bytes")


USAGE_COLUMNS = ("CPU", "MEM")
LATE_CELL = ""  # what a row holds in the CPU and MEM columns when they are filled when drawn (``usage_late``)


def gpu_cell(pod: PodRecord, gpus_by_pod: Mapping[tuple[str, str], list[GpuRecord]]) -> str:
    requested = sum(int(c.gpu_limit or c.gpu_request or 0) for c in pod.containers)
    held = gpus_by_pod.get((pod.namespace, pod.name), [])
    if not requested and not held:
        return ""
    utils = [g.util_pct for g in held if g.util_pct is not None]
    if utils:
        return f"{max(requested, len(held))} {sum(utils) / len(utils):.0f}%"
    return str(requested or len(held))


class PodEntry(NamedTuple):
    """One pod's row with what the pods pane orders and filters it by."""

    row: Row
    sort_key: tuple[int, str]  # faulty first (0), then the name shown
    match_text: str  # what the filter's pattern is searched in: the name shown, STATUS and NODE


def pod_entry(
    pod: PodRecord,
    now: float,
    *,
    namespace: str | None,
    usage: Mapping[tuple[str, str], Usage] | None = None,
    gpus_by_pod: Mapping[tuple[str, str], list[GpuRecord]] | None = None,
    usage_late: bool = False,
) -> PodEntry:
    """The row of ``pod`` as :func:`pod_rows` shows it; the name shown is ``namespace/name`` when ``namespace`` is
    None (every namespace). ``usage_late``: CPU and MEM are left to the table (``LATE_CELL``), filled when drawn."""
    cells = pod_row(pod, now)
    name = cells.name if namespace is not None else f"{pod.namespace}/{cells.name}"
    fault = pod_fault(pod, now)
    cpu, mem = (LATE_CELL, LATE_CELL) if usage_late else usage_cells(usage, (pod.namespace, pod.name))
    style = ""
    if fault is not None:
        style = "bold red" if pod.status not in ("Running", "ContainerCreating", "Terminating") else "yellow"
    row = Row(
        f"{pod.namespace}/{pod.name}",
        (
            *((literal(pod.namespace),) if namespace is None else ()),
            cells.name,
            cells.ready,
            cells.status,
            cells.restarts,
            cells.age,
            cells.ip,
            cells.node,
            cpu,
            mem,
            gpu_cell(pod, gpus_by_pod or {}),
        ),
        style,
    )
    return PodEntry(row, (0 if fault is not None else 1, name), f"{name} {cells.status} {cells.node}")


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
    usage_late: bool = False,
) -> list[Row]:
    """The rows to show, faulty first (then by namespace and name); ``namespace`` None shows every watched
    namespace, with a NAMESPACE cell first (:func:`pod_columns`). The filter matches ``namespace/name`` then.
    ``usage_late``: the CPU and MEM cells are ``LATE_CELL``, for a table that fills them when drawing."""
    entries = [
        pod_entry(pod, now, namespace=namespace, usage=usage, gpus_by_pod=gpus_by_pod, usage_late=usage_late)
        for pod in pods
        if namespace is None or pod.namespace == namespace
    ]
    if pattern is not None:
        entries = [entry for entry in entries if bool(pattern.search(entry.match_text)) != inverted]
    if faulty_only:
        entries = [entry for entry in entries if entry.sort_key[0] == 0]
    entries.sort(key=lambda entry: entry.sort_key)
    return [entry.row for entry in entries]
