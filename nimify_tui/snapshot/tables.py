"""``kubectl get`` as kubectl prints it: the API server's own Tables (``meta.k8s.io/v1``), laid out as kubectl's
tab writer lays them out.

The server decides the columns and cells (as it does for kubectl), so the text matches kubectl's on any cluster;
this module only asks for them and prints them: the columns of priority 0 (and the others with ``-o wide``), the
name prefixed with the kind where several kinds are printed together (``kubectl get all``), cells separated by at
least three spaces, the last one unpadded.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from nimify_tui.text import literal

TABLE_ACCEPT = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
_MIN_WIDTH = 6  # kubectl's tab writer: minimal cell width, padding included
_PADDING = 3


@dataclass(frozen=True)
class Resource:
    """One kind ``kubectl get`` can list: its API path and the prefix ``kubectl get all`` gives its names."""

    group_version: str  # "v1" for the core group, else "apps/v1"...
    plural: str
    prefix: str  # "pod", "deployment.apps"
    namespaced: bool = True

    def path(self, namespace: str | None) -> str:
        base = "/api/v1" if self.group_version == "v1" else f"/apis/{self.group_version}"
        if self.namespaced and namespace:
            return f"{base}/namespaces/{namespace}/{self.plural}"
        return f"{base}/{self.plural}"


PODS = Resource("v1", "pods", "pod")
SERVICES = Resource("v1", "services", "service")
DAEMONSETS = Resource("apps/v1", "daemonsets", "daemonset.apps")
DEPLOYMENTS = Resource("apps/v1", "deployments", "deployment.apps")
REPLICASETS = Resource("apps/v1", "replicasets", "replicaset.apps")
STATEFULSETS = Resource("apps/v1", "statefulsets", "statefulset.apps")
JOBS = Resource("batch/v1", "jobs", "job.batch")
NODES = Resource("v1", "nodes", "node", namespaced=False)
PVCS = Resource("v1", "persistentvolumeclaims", "persistentvolumeclaim")
PVS = Resource("v1", "persistentvolumes", "persistentvolume", namespaced=False)
INGRESSES = Resource("networking.k8s.io/v1", "ingresses", "ingress.networking.k8s.io")

# what `kubectl get all` lists, in kubectl's order
ALL: tuple[Resource, ...] = (PODS, SERVICES, DAEMONSETS, DEPLOYMENTS, REPLICASETS, STATEFULSETS, JOBS)


def cell_text(value: object) -> str:
    """One cell as kubectl prints it: text up to its first line break (then ``...``), numbers as numbers."""
    if isinstance(value, str) and value.isprintable():  # most cells: nothing to cut or make visible
        return value
    if value is None:
        return "<none>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value)
    cut = min((i for i in (text.find(c) for c in "\n\r\f") if i >= 0), default=-1)
    if cut >= 0:
        text = text[:cut] + "..."
    return literal(text)


def table_lines(table: Mapping[str, Any], *, wide: bool, prefix: str = "") -> list[str]:
    """The lines kubectl prints for one server-side Table; none for a Table without rows."""
    columns: Sequence[Mapping[str, Any]] = table.get("columnDefinitions") or []
    shown = [i for i, column in enumerate(columns) if wide or not column.get("priority")]
    rows: Sequence[Mapping[str, Any]] = table.get("rows") or []
    if not rows:
        return []
    grid = [[str(columns[i].get("name", "")).upper() for i in shown]]
    last = len(shown)
    leading = shown == list(range(last))  # the first columns, as with -o wide: no picking
    for row in rows:
        cells = row.get("cells") or []
        if leading and len(cells) >= last:
            texts = [cell_text(cell) for cell in cells[:last]]
        else:
            texts = [cell_text(cells[i]) if i < len(cells) else "" for i in shown]
        if prefix and texts:
            texts[0] = f"{prefix}/{texts[0]}"
        grid.append(texts)
    return aligned(grid)


def aligned(grid: Sequence[Sequence[str]]) -> list[str]:
    """Rows of cells aligned as kubectl's tab writer aligns them."""
    if not grid:
        return []
    count = max(len(row) for row in grid)
    widths = [0] * max(count - 1, 0)
    for row in grid:
        for i, cell in enumerate(row[: count - 1]):
            if len(cell) > widths[i]:
                widths[i] = len(cell)
    widths = [max(_MIN_WIDTH, width + _PADDING) for width in widths]
    lines = []
    for row in grid:
        padded = [cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=False)]
        lines.append("".join(padded) + (row[-1] if row else ""))
    return lines


def no_resources_line(namespace: str | None) -> str:
    """What kubectl says for an empty list."""
    return f"No resources found in {namespace} namespace." if namespace else "No resources found"
