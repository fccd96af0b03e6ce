"""What a node's pods asked for: the "Allocated resources" of ``kubectl describe node``.

For each node, the CPU, memory and ``nvidia.com/gpu`` requests and limits of its non-terminated pods (phase neither
Succeeded nor Failed), summed and set against the node's allocatable, with kubectl's numbers: ``cpu 3750m (93%)
4 (100%)``. A pod's own request follows the scheduler: the sum of its app containers and its sidecars (init
containers that keep running), or its largest init container while it runs next to the sidecars started before it,
whichever is more; plus its RuntimeClass ``overhead``. Sums keep the format of the first non-zero quantity, as
apimachinery's ``Quantity.Add`` does, so ``1Gi + 512Mi`` reads ``1536Mi``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Literal

from nimify_tui.kube.quantity import Quantity, format_quantity, quantity_or_none
from nimify_tui.kube.records import GPU_RESOURCE, ContainerRecord, NodeRecord, PodRecord

if TYPE_CHECKING:
    from nimify_tui.kube.client import KubeClient

RESOURCES = ("cpu", "memory", GPU_RESOURCE)
TERMINATED_PHASES = frozenset({"Succeeded", "Failed"})
_ZERO = Quantity(Fraction(0), "DecimalSI")

Part = Literal["requests", "limits"]


@dataclass(frozen=True, slots=True)
class Allocated:
    """The requests and limits of one resource on one node, against its allocatable."""

    resource: str
    requests: Quantity
    limits: Quantity
    allocatable: Quantity

    def percent(self, part: Part) -> int | None:
        """kubectl's whole percent of allocatable (truncated); None for an extended resource such as
        ``nvidia.com/gpu``, which kubectl shows without one."""
        if self.resource not in ("cpu", "memory"):
            return None
        scale = 1000 if self.resource == "cpu" else 1  # kubectl divides millicores for cpu, bytes for memory
        whole = _ceil(self.allocatable.value * scale)
        if whole == 0:
            return 0
        return int(_ceil((self.requests if part == "requests" else self.limits).value * scale) / whole * 100)

    def text(self, part: Part) -> str:
        """The cell as kubectl prints it: ``3750m (93%)``, or ``1`` for an extended resource."""
        quantity = self.requests if part == "requests" else self.limits
        percent = self.percent(part)
        return format_quantity(quantity) if percent is None else f"{format_quantity(quantity)} ({percent}%)"


@dataclass(frozen=True, slots=True)
class NodeAllocation:
    """A node's allocated resources: cpu and memory always, ``nvidia.com/gpu`` where the node has GPUs or a pod
    asks for one."""

    node: str
    pods: int  # the non-terminated pods counted
    resources: tuple[Allocated, ...]

    def of(self, resource: str) -> Allocated | None:
        return next((allocated for allocated in self.resources if allocated.resource == resource), None)


def _ceil(value: Fraction) -> int:
    return -(-value.numerator // value.denominator)


def _add(totals: dict[str, Quantity], resource: str, quantity: Quantity) -> None:
    """``Quantity.Add``: the sum keeps the format of the total unless the total is zero."""
    known = totals.get(resource)
    if known is None:
        totals[resource] = quantity
    else:
        totals[resource] = Quantity(known.value + quantity.value, quantity.format if known.value == 0 else known.format)


def _add_all(totals: dict[str, Quantity], values: Mapping[str, Quantity]) -> None:
    for resource, quantity in values.items():
        _add(totals, resource, quantity)


def _raise_to(totals: dict[str, Quantity], values: Mapping[str, Quantity]) -> None:
    """Each resource becomes the larger of the two (a copy of the larger one, with its format)."""
    for resource, quantity in values.items():
        known = totals.get(resource)
        if known is None or quantity.value > known.value:
            totals[resource] = quantity


def _container(container: ContainerRecord, part: Part) -> dict[str, Quantity]:
    if part == "requests":
        texts = (container.cpu_request, container.memory_request, container.gpu_request)
    else:
        texts = (container.cpu_limit, container.memory_limit, container.gpu_limit)
    values = {}
    for resource, text in zip(RESOURCES, texts, strict=True):
        quantity = quantity_or_none(text)
        if quantity is not None:
            values[resource] = quantity
    return values


def pod_resources(pod: PodRecord, part: Part) -> dict[str, Quantity]:
    """One pod's effective requests (or limits) of cpu, memory and GPUs, as the scheduler and kubectl count them."""
    totals: dict[str, Quantity] = {}
    for container in pod.containers:
        _add_all(totals, _container(container, part))
    sidecars: dict[str, Quantity] = {}
    largest_init: dict[str, Quantity] = {}
    for container in pod.init_containers:
        own = _container(container, part)
        if container.sidecar:
            _add_all(totals, own)
            _add_all(sidecars, own)
            _raise_to(largest_init, sidecars)
        else:
            running = dict(own)
            _add_all(running, sidecars)
            _raise_to(largest_init, running)
    _raise_to(totals, largest_init)
    for resource, text in pod.overhead.items():
        overhead = quantity_or_none(text)
        if resource not in RESOURCES or overhead is None:
            continue
        if part == "requests" or resource in totals:  # overhead raises limits only where the pod has one
            _add(totals, resource, overhead)
    return totals


def _allocatable(node: NodeRecord, resource: str) -> Quantity:
    """The node's allocatable ``resource`` (its capacity where the kubelet reported no allocatable)."""
    if resource == GPU_RESOURCE:
        return Quantity(Fraction(node.gpu_allocatable), "DecimalSI")
    if resource == "cpu":
        text = node.cpu_allocatable or node.cpu_capacity
    else:
        text = node.memory_allocatable or node.memory_capacity
    return quantity_or_none(text) or _ZERO


def node_allocation(node: NodeRecord, pods: Iterable[PodRecord]) -> NodeAllocation:
    """The allocated resources of ``node`` from ``pods`` (any pods: those bound elsewhere or terminated are left
    out). Pods only of some namespaces give only their share."""
    requests: dict[str, Quantity] = {}
    limits: dict[str, Quantity] = {}
    counted = 0
    for pod in pods:
        if pod.node != node.name or pod.phase in TERMINATED_PHASES:
            continue
        counted += 1
        _add_all(requests, pod_resources(pod, "requests"))
        _add_all(limits, pod_resources(pod, "limits"))
    shown = [
        Allocated(resource, requests.get(resource, _ZERO), limits.get(resource, _ZERO), _allocatable(node, resource))
        for resource in RESOURCES
    ]
    gpus = shown[2]
    if not (node.gpu_capacity or node.gpu_allocatable or gpus.requests.value or gpus.limits.value):
        shown.pop()
    return NodeAllocation(node.name, counted, tuple(shown))


def allocation_by_node(nodes: Iterable[NodeRecord], pods: Iterable[PodRecord]) -> dict[str, NodeAllocation]:
    """:func:`node_allocation` for every node, by node name, in one pass over the pods."""
    by_node: dict[str, list[PodRecord]] = {}
    for pod in pods:
        if pod.node:
            by_node.setdefault(pod.node, []).append(pod)
    return {node.name: node_allocation(node, by_node.get(node.name, ())) for node in nodes}


def read_node_pods(client: KubeClient, node: str) -> list[PodRecord]:
    """The node's non-terminated pods in every namespace, as ``kubectl describe node`` lists them."""
    selector = f"spec.nodeName={node},status.phase!=Succeeded,status.phase!=Failed"
    body = client.get_json("/api/v1/pods", {"fieldSelector": selector})
    return [PodRecord.from_raw(item) for item in body.get("items") or ()]
