"""How full each claim's volume is, from the kubelet's summary: the runbook's ``df -h`` without exec.

``GET /api/v1/nodes/NODE/proxy/stats/summary`` reaches one node's kubelet through the API server (it needs ``get
nodes/proxy``, which many roles lack). Its ``pods[].volume[]`` entries carry a volume's ``capacityBytes``,
``usedBytes``, ``availableBytes`` and inodes, and ``pvcRef {name, namespace}`` when the volume is a claim. The
kubelet reports only the mounted volumes of its running pods.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from nimify_tui.kube.client import KubeClient
from nimify_tui.kube.shape import TEXT, ListOf, clean, obj


@dataclass(frozen=True, slots=True)
class VolumeUsage:
    """The use of one claim's volume as a kubelet measured it, with the node and pod it was measured through."""

    namespace: str
    pvc: str
    node: str
    pod: str
    capacity_bytes: int
    used_bytes: int
    available_bytes: int
    inodes: int | None = None
    inodes_used: int | None = None

    @property
    def used_ratio(self) -> float | None:
        """Used over capacity (0..1); None when the kubelet gave no capacity."""
        return self.used_bytes / self.capacity_bytes if self.capacity_bytes else None

    @property
    def inodes_used_ratio(self) -> float | None:
        """Inodes used over inodes (a volume out of inodes is full too: ``No space left on device``)."""
        return self.inodes_used / self.inodes if self.inodes and self.inodes_used is not None else None


def summary_path(node: str) -> str:
    return f"/api/v1/nodes/{node}/proxy/stats/summary"


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


_REFERENCE = obj(name=TEXT, namespace=TEXT)
SUMMARY_SHAPE = obj(
    node=obj(nodeName=TEXT),
    pods=ListOf(obj(podRef=_REFERENCE, volume=ListOf(obj(name=TEXT, pvcRef=_REFERENCE)))),
)
"""What :func:`volume_usage` reads of a kubelet summary (the byte and inode counts are read as numbers or not at
all)."""


def volume_usage(summary: Mapping[str, Any]) -> dict[tuple[str, str], VolumeUsage]:
    """Every claim's volume in one node's summary, by (namespace, claim). A claim mounted by several pods of the
    node (ReadWriteMany) is measured once per pod: the fullest measurement is kept. It never raises: what does not
    have a summary's shape is left out."""
    summary = clean(summary, SUMMARY_SHAPE, [])
    node = str((summary.get("node") or {}).get("nodeName") or "")
    found: dict[tuple[str, str], VolumeUsage] = {}
    for pod in summary.get("pods") or ():
        pod_name = str((pod.get("podRef") or {}).get("name") or "")
        for volume in pod.get("volume") or ():
            claim = volume.get("pvcRef")
            if not claim or not claim.get("name"):
                continue
            usage = VolumeUsage(
                str(claim.get("namespace") or ""),
                str(claim["name"]),
                node,
                pod_name,
                _count(volume.get("capacityBytes")) or 0,
                _count(volume.get("usedBytes")) or 0,
                _count(volume.get("availableBytes")) or 0,
                _count(volume.get("inodes")),
                _count(volume.get("inodesUsed")),
            )
            key = (usage.namespace, usage.pvc)
            known = found.get(key)
            if known is None or usage.used_bytes > known.used_bytes:
                found[key] = usage
    return found


def read_volume_usage(client: KubeClient, node: str) -> dict[tuple[str, str], VolumeUsage]:
    """One node's claims, from its kubelet's summary; a refusal (403: no ``get nodes/proxy``) raises KubeError."""
    return volume_usage(client.get_json(summary_path(node)))
