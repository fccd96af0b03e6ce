"""What ``kubectl get`` prints for services (``-o wide``), endpoints, ingresses, claims, volumes and network policies,
and a describe-like text of each: the objects the runbook's "Assess scope" and "Network" steps look at.

The cells follow kubectl's printers (the API server's ``printService``, ``printEndpoints``, ``printIngress``,
``printPersistentVolumeClaim``, ``printPersistentVolume`` and ``printNetworkPolicy``); the layout is kubectl's
tabwriter: each column as wide as its widest cell plus three spaces (six at least), the last one unpadded. Listing
every namespace (``namespace`` None) adds kubectl's NAMESPACE column, as ``-A`` does. Text from the cluster passes
through :func:`nimify_tui.text.literal`; the result is plain text, never markup.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar

import yaml

from nimify_tui.kube.duration import age, parse_timestamp
from nimify_tui.kube.kubelet_stats import VolumeUsage
from nimify_tui.kube.quantity import QuantityError, format_quantity, parse_quantity
from nimify_tui.kube.records import (
    EndpointsRecord,
    IngressRecord,
    NetworkPolicyRecord,
    ObjectRecord,
    PodRecord,
    PVCRecord,
    ServiceRecord,
    selects,
)
from nimify_tui.kube.status import selector_text
from nimify_tui.render.kubectl import pvc_resize
from nimify_tui.text import literal

NONE = "<none>"
UNSET = "<unset>"
SERVICE_COLUMNS = ("NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE", "SELECTOR")
ENDPOINTS_COLUMNS = ("NAME", "ENDPOINTS", "AGE")
INGRESS_COLUMNS = ("NAME", "CLASS", "HOSTS", "ADDRESS", "PORTS", "AGE")
PVC_COLUMNS = (
    "NAME", "STATUS", "VOLUME", "CAPACITY", "ACCESS MODES", "STORAGECLASS", "VOLUMEATTRIBUTESCLASS", "AGE",
)  # fmt: skip
PV_COLUMNS = (
    "NAME", "CAPACITY", "ACCESS MODES", "RECLAIM POLICY", "STATUS", "CLAIM", "STORAGECLASS", "VOLUMEATTRIBUTESCLASS",
    "REASON", "AGE",
)  # fmt: skip
NETWORK_POLICY_COLUMNS = ("NAME", "POD-SELECTOR", "AGE")

_PADDING = 3
_MIN_WIDTH = 6
_SHOWN_HOSTS = 3
_ADDRESS_WIDTH = 16  # kubectl's loadBalancerWidth: a longer ADDRESS is cut to 13 characters and "..."
_ACCESS_MODES = (
    ("ReadWriteOnce", "RWO"),
    ("ReadOnlyMany", "ROX"),
    ("ReadWriteMany", "RWX"),
    ("ReadWriteOncePod", "RWOP"),
)
_STORAGE_CLASS_ANNOTATION = "volume.beta.kubernetes.io/storage-class"
_NEAR_MISSES_SHOWN = 5
_KEY_WIDTH = 24  # the describe texts' keys: "VolumeAttributesClass:" and a space
_EMPTY: Mapping[str, Any] = {}

R = TypeVar("R", bound=ObjectRecord)
Cells = tuple[str, ...]


# --- layout -------------------------------------------------------------------------------------------------------
def layout(header: Cells, rows: Sequence[Cells]) -> str:
    """Lines as kubectl's tabwriter lays them out (minimum width 6, padding 3, the last cell unpadded)."""
    lines = [header, *rows]
    widths = [max(_MIN_WIDTH, max(len(line[i]) for line in lines) + _PADDING) for i in range(len(header) - 1)]
    return "\n".join("".join(cell.ljust(width) for cell, width in zip(line, widths, strict=False)) + line[-1]
                     for line in lines)  # fmt: skip


def _listing(columns: Cells, rows: Sequence[tuple[str, Cells]], namespace: str | None) -> str:
    """``kubectl get``'s text of (namespace, cells) rows: in one namespace, or in all with a NAMESPACE column."""
    if not rows:
        return f"No resources found in {namespace} namespace." if namespace else "No resources found"
    if namespace is None:
        return layout(("NAMESPACE", *columns), [(literal(ns), *cells) for ns, cells in rows])
    return layout(columns, [cells for _, cells in rows])


def _in(records: Iterable[R], namespace: str | None) -> list[R]:
    """The records of ``namespace`` (all when None), in the API server's order: by namespace, then name."""
    return sorted(
        (r for r in records if namespace is None or r.namespace == namespace), key=lambda r: (r.namespace, r.name)
    )


def _labels(labels: Mapping[str, str]) -> str:
    """apimachinery's ``FormatLabels``: ``k=v`` sorted by key, comma-separated; ``<none>`` when empty."""
    return ",".join(f"{key}={value}" for key, value in sorted(labels.items())) or NONE


def _canonical(quantity: str) -> str:
    """A quantity as ``Quantity.String()`` writes it (an absent one is 0); text that is no quantity, as it is."""
    try:
        return format_quantity(parse_quantity(quantity or "0"))
    except QuantityError:
        return literal(quantity)


def access_modes_text(modes: Iterable[str]) -> str:
    """kubectl's ACCESS MODES: RWO, ROX, RWX, RWOP in that order, each once."""
    present = set(modes)
    return ",".join(short for mode, short in _ACCESS_MODES if mode in present)


# --- services -----------------------------------------------------------------------------------------------------
def external_ip_text(service: ServiceRecord) -> str:
    """The EXTERNAL-IP cell of ``-o wide`` (so a load balancer's addresses are not cut)."""
    if service.type in ("ClusterIP", "NodePort"):
        return ",".join(service.external_ips) or NONE
    if service.type == "LoadBalancer":
        balancer = _balancer_addresses(service.load_balancer)
        if service.external_ips:
            return ",".join([balancer, *service.external_ips] if balancer else service.external_ips)
        return balancer or "<pending>"
    if service.type == "ExternalName":
        return service.external_name
    return "<unknown>"


def service_cells(service: ServiceRecord, now: float) -> Cells:
    """A service as ``kubectl get svc -o wide`` prints it."""
    return (
        literal(service.name),
        literal(service.type),
        literal(service.cluster_ip) or NONE,
        literal(external_ip_text(service)),
        ",".join(service.ports) or NONE,
        age(service.created_at, now),
        literal(_labels(service.selector)),
    )


def services_table(services: Iterable[ServiceRecord], now: float, namespace: str | None) -> str:
    return _listing(
        SERVICE_COLUMNS, [(s.namespace, service_cells(s, now)) for s in _in(services, namespace)], namespace
    )


def _one_label_off(selector: Mapping[str, str], labels: Mapping[str, str]) -> str | None:
    """``key=value`` of the pod for the one selector label it does not match (``key`` missing: ``no key``); None
    when it matches or misses more than one."""
    missed = [key for key, value in sorted(selector.items()) if labels.get(key) != value]
    if len(missed) != 1:
        return None
    key = missed[0]
    return f"{key}={labels[key]}" if key in labels else f"no {key}"


def describe_services(
    services: Iterable[ServiceRecord],
    endpoints: Iterable[EndpointsRecord],
    pods: Iterable[PodRecord],
    namespace: str | None,
) -> str:
    """Each service: selector, ports, the endpoints behind it and their pods, and the pods its selector matches; a
    selector that matches no pod names the pods that miss it by one label (a label changed by a deploy)."""
    behind = {(e.namespace, e.name): e for e in endpoints}
    live_pods = [p for p in pods if p.deleted_at is None]
    blocks = []
    for service in _in(services, namespace):
        lines: list[str] = []
        _field(lines, "Name", service.name)
        _field(lines, "Namespace", service.namespace)
        _field(lines, "Labels", _labels(service.labels))
        _field(lines, "Selector", _labels(service.selector))
        _field(lines, "Type", service.type)
        _field(lines, "IP", service.cluster_ip)
        if service.type == "ExternalName":
            _field(lines, "External Name", service.external_name)
        if service.external_ips:
            _field(lines, "External IPs", ",".join(service.external_ips))
        if service.load_balancer:
            _field(lines, "LoadBalancer Ingress", ", ".join(service.load_balancer))
        _field(lines, "Port(s)", ",".join(service.ports))
        found = behind.get((service.namespace, service.name))
        _field(lines, "Endpoints", found.ready_text if found is not None else "<no endpoints object>")
        if found is not None:
            lines += _address_lines(found)
        if service.selector:
            lines += _selected_pods_lines(service, [p for p in live_pods if p.namespace == service.namespace])
        else:
            lines.append("No selector: its endpoints are managed by hand or by another controller.")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) or _nothing(namespace)


def _selected_pods_lines(service: ServiceRecord, pods: Sequence[PodRecord]) -> list[str]:
    selector = {"matchLabels": service.selector}
    selected = [p for p in pods if selects(selector, p.labels)]
    if selected:
        ready = sum(1 for p in selected if p.total and p.ready == p.total)
        lines = [f"Pods its selector matches: {len(selected)} ({ready} ready)"]
        lines += [f"  {literal(p.name)}  {p.ready}/{p.total} {literal(p.status)}  {literal(p.ip) or NONE}"
                  for p in sorted(selected, key=lambda p: p.name)]  # fmt: skip
        return lines
    lines = [
        f"!! Its selector matches no pod in {literal(service.namespace)}: the service has nowhere to send traffic."
    ]
    near = [(p, off) for p in sorted(pods, key=lambda p: p.name) if (off := _one_label_off(service.selector, p.labels))]
    if near:
        lines.append("   Pods that miss it by one label:")
        lines += [f"     {literal(p.name)}  has {literal(off)}" for p, off in near[:_NEAR_MISSES_SHOWN]]
        if len(near) > _NEAR_MISSES_SHOWN:
            lines.append(f"     and {len(near) - _NEAR_MISSES_SHOWN} more")
    return lines


def _address_lines(endpoints: EndpointsRecord) -> list[str]:
    """The addresses behind a service: ready or not, and the pod and node of each."""
    if not endpoints.addresses:
        return []
    lines = ["Addresses:"]
    for address in endpoints.addresses:
        state = "ready" if address.ready else "NOT READY"
        pod = f"pod {literal(address.pod)}" if address.pod else "no pod"
        node = f"on {literal(address.node)}" if address.node else ""
        lines.append(f"  {literal(address.ip):<16} {state:<10} {pod} {node}".rstrip())
    return lines


# --- endpoints ----------------------------------------------------------------------------------------------------
def endpoints_table(endpoints: Iterable[EndpointsRecord], now: float, namespace: str | None) -> str:
    rows = [
        (e.namespace, (literal(e.name), literal(e.ready_text), age(e.created_at, now)))
        for e in _in(endpoints, namespace)
    ]
    return _listing(ENDPOINTS_COLUMNS, rows, namespace)


def describe_endpoints(endpoints: Iterable[EndpointsRecord], namespace: str | None) -> str:
    blocks = []
    for found in _in(endpoints, namespace):
        lines: list[str] = []
        _field(lines, "Name", found.name)
        _field(lines, "Namespace", found.namespace)
        _field(lines, "Ready", f"{found.ready_count} of {len(found.addresses)} addresses")
        _field(lines, "Ports", ", ".join(str(port) for port in dict.fromkeys(found.ports)))
        lines += _address_lines(found) or [_line("Addresses", "")]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) or _nothing(namespace)


# --- ingresses ----------------------------------------------------------------------------------------------------
def hosts_text(rule_hosts: Sequence[str]) -> str:
    """kubectl's HOSTS: the rules' hosts, the first three then ``+ N more...`` (N counts rules), ``*`` for none."""
    shown = [host for host in rule_hosts[:_SHOWN_HOSTS] if host]
    if not shown:
        return "*"
    text = ",".join(shown)
    return f"{text} + {len(rule_hosts) - _SHOWN_HOSTS} more..." if len(rule_hosts) > _SHOWN_HOSTS else text


def _balancer_addresses(addresses: Iterable[str]) -> str:
    """The load balancer's IPs or hostnames, sorted, once each."""
    return ",".join(sorted({address for address in addresses if address}))


def address_text(addresses: Iterable[str]) -> str:
    """kubectl's ADDRESS: the load balancer's addresses, cut at 16 characters."""
    text = _balancer_addresses(addresses)
    return text[: _ADDRESS_WIDTH - 3] + "..." if len(text) > _ADDRESS_WIDTH else text


def ingress_cells(ingress: IngressRecord, now: float) -> Cells:
    return (
        literal(ingress.name),
        NONE if ingress.class_name is None else literal(ingress.class_name),
        literal(hosts_text(ingress.rule_hosts)),
        literal(address_text(ingress.addresses)),
        "80, 443" if ingress.tls else "80",
        age(ingress.created_at, now),
    )


def ingresses_table(ingresses: Iterable[IngressRecord], now: float, namespace: str | None) -> str:
    rows = [(i.namespace, ingress_cells(i, now)) for i in _in(ingresses, namespace)]
    return _listing(INGRESS_COLUMNS, rows, namespace)


def describe_ingresses(
    ingresses: Iterable[IngressRecord],
    services: Iterable[ServiceRecord],
    endpoints: Iterable[EndpointsRecord],
    namespace: str | None,
) -> str:
    """Each ingress: class, address, TLS secrets, and each rule's backend with whether its service exists and how
    many ready addresses it has."""
    known = {(s.namespace, s.name) for s in services}
    ready = {(e.namespace, e.name): e.ready_count for e in endpoints}
    blocks = []
    for ingress in _in(ingresses, namespace):
        lines: list[str] = []
        _field(lines, "Name", ingress.name)
        _field(lines, "Namespace", ingress.namespace)
        _field(lines, "Class", ingress.ingress_class)
        _field(lines, "Address", _balancer_addresses(ingress.addresses) or "<none>: no load balancer address yet")
        _field(lines, "TLS secrets", ", ".join(ingress.tls_secrets))
        lines.append("Rules:")
        for backend in ingress.backends:
            key = (ingress.namespace, backend.service)
            if key not in known:
                state = "service not found"
            elif key not in ready:
                state = "no endpoints object"
            else:
                state = f"{ready[key]} ready addresses" if ready[key] else "NO ready address"
            where = f"{backend.host or '*'}{backend.path or '/'}"
            lines.append(f"  {literal(where)} -> {literal(backend.service)}:{literal(backend.port)} ({state})")
        if not ingress.backends:
            lines.append("  <none>")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) or _nothing(namespace)


# --- claims -------------------------------------------------------------------------------------------------------
def pvc_cells(pvc: PVCRecord, now: float) -> Cells:
    """A claim as ``kubectl get pvc`` prints it: capacity and access modes only once it is bound to a volume."""
    bound = bool(pvc.volume_name)
    return (
        literal(pvc.name),
        "Terminating" if pvc.deleted_at is not None else literal(pvc.phase),
        literal(pvc.volume_name),
        _canonical(pvc.capacity) if bound else "",
        access_modes_text(pvc.access_modes) if bound else "",
        literal(pvc.storage_class),
        literal(pvc.volume_attributes_class) or UNSET,
        age(pvc.created_at, now),
    )


def pvcs_table(pvcs: Iterable[PVCRecord], now: float, namespace: str | None) -> str:
    return _listing(PVC_COLUMNS, [(p.namespace, pvc_cells(p, now)) for p in _in(pvcs, namespace)], namespace)


def describe_pvcs(
    pvcs: Iterable[PVCRecord], usage: Mapping[tuple[str, str], VolumeUsage], now: float, namespace: str | None
) -> str:
    """Each claim: class, status, volume, sizes, a resize in progress, how full the kubelet measured its volume
    (the runbook's ``df -h``), and its conditions."""
    blocks = []
    for pvc in _in(pvcs, namespace):
        lines: list[str] = []
        _field(lines, "Name", pvc.name)
        _field(lines, "Namespace", pvc.namespace)
        _field(lines, "StorageClass", pvc.storage_class)
        _field(lines, "Status", f"Terminating (for {age(pvc.deleted_at, now)})" if pvc.deleted_at else pvc.phase)
        _field(lines, "Volume", pvc.volume_name)
        _field(lines, "Labels", _labels(pvc.labels))
        _field(lines, "Requested", pvc.requested)
        _field(lines, "Capacity", pvc.capacity)
        _field(lines, "Access Modes", access_modes_text(pvc.access_modes))
        _field(lines, "VolumeMode", pvc.volume_mode)
        _field(lines, "Resize", pvc_resize(pvc) or "none in progress")
        lines += _usage_lines(usage.get((pvc.namespace, pvc.name)))
        lines += _condition_lines(pvc)
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) or _nothing(namespace)


def _usage_lines(measured: VolumeUsage | None) -> list[str]:
    if measured is None:
        return [
            _line("Volume use", "not measured (no running pod mounts it, or the kubelets' summaries are not readable)")
        ]
    ratio = measured.used_ratio
    used = "?" if ratio is None else f"{ratio * 100:.1f}%"
    lines = [
        _line(
            "Volume use",
            f"{used} used: {_bytes(measured.used_bytes)} of {_bytes(measured.capacity_bytes)}, "
            f"{_bytes(measured.available_bytes)} available",
        ),
    ]
    if measured.inodes_used_ratio is not None:
        lines.append(_line("Inodes used", f"{measured.inodes_used_ratio * 100:.1f}% of {measured.inodes}"))
    lines.append(_line("Measured by", f"the kubelet of {measured.node}, through pod {measured.pod}"))
    return lines


def _condition_lines(pvc: PVCRecord) -> list[str]:
    if not pvc.conditions:
        return [_line("Conditions", "")]
    header: Cells = ("  TYPE", "STATUS", "LAST TRANSITION", "REASON", "MESSAGE")
    rows = [
        (f"  {literal(c.type)}", literal(c.status), literal(c.last_transition_time), literal(c.reason) or NONE,
         literal(c.message) or NONE)
        for c in pvc.conditions
    ]  # fmt: skip
    return ["Conditions:", layout(header, rows)]


def _bytes(count: int) -> str:
    """A byte count in binary units with one decimal (``99.9Gi``), as ``df -h`` would show it."""
    value, unit = float(count), "B"
    for bigger in ("Ki", "Mi", "Gi", "Ti"):
        if abs(value) < 1024:
            break
        value, unit = value / 1024, bigger
    return f"{count}B" if unit == "B" else f"{value:.1f}{unit}"


# --- volumes (raw objects: volumes are read on demand, not watched) -----------------------------------------------
def pv_cells(volume: Mapping[str, Any], now: float) -> Cells:
    """A PersistentVolume (its raw object) as ``kubectl get pv`` prints it."""
    metadata = volume.get("metadata") or _EMPTY
    spec = volume.get("spec") or _EMPTY
    status = volume.get("status") or _EMPTY
    claim = spec.get("claimRef")
    annotations = metadata.get("annotations") or _EMPTY
    return (
        literal(str(metadata.get("name") or "")),
        _canonical(str((spec.get("capacity") or _EMPTY).get("storage") or "")),
        access_modes_text(spec.get("accessModes") or ()),
        literal(str(spec.get("persistentVolumeReclaimPolicy") or "")),
        "Terminating" if metadata.get("deletionTimestamp") else literal(str(status.get("phase") or "")),
        literal(f"{claim.get('namespace') or ''}/{claim.get('name') or ''}") if claim else "",
        literal(str(annotations.get(_STORAGE_CLASS_ANNOTATION) or spec.get("storageClassName") or "")),
        literal(str(spec.get("volumeAttributesClassName") or "")) or UNSET,
        literal(str(status.get("reason") or "")),
        age(parse_timestamp(metadata.get("creationTimestamp")), now),
    )


def pvs_table(volumes: Iterable[Mapping[str, Any]], now: float) -> str:
    rows = sorted(pv_cells(volume, now) for volume in volumes)
    return layout(PV_COLUMNS, rows) if rows else "No resources found"


def describe_pvs(volumes: Iterable[Mapping[str, Any]], now: float) -> str:
    """Each volume: its claim, class, policy, size, modes, phase and why, and where its data lives."""
    blocks = []
    for volume in sorted(volumes, key=lambda v: str((v.get("metadata") or _EMPTY).get("name") or "")):
        spec = volume.get("spec") or _EMPTY
        status = volume.get("status") or _EMPTY
        name, capacity, modes, policy, phase, claim, storage_class, attributes, reason, created = pv_cells(volume, now)
        lines: list[str] = []
        _field(lines, "Name", name)
        _field(lines, "Claim", claim)
        _field(lines, "StorageClass", storage_class)
        _field(lines, "Status", phase)
        _field(lines, "Reason", reason)
        _field(lines, "Message", status.get("message"))
        _field(lines, "Reclaim Policy", policy)
        _field(lines, "Access Modes", modes)
        _field(lines, "VolumeMode", spec.get("volumeMode"))
        _field(lines, "Capacity", capacity)
        _field(lines, "VolumeAttributesClass", attributes)
        _field(lines, "Source", _volume_source(spec))
        _field(lines, "Age", created)
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) or "No resources found"


_SOURCE_DETAIL = {"csi": ("driver", "volumeHandle"), "nfs": ("server", "path"), "hostPath": ("path",),
                  "local": ("path",)}  # fmt: skip


def _volume_source(spec: Mapping[str, Any]) -> str:
    """Where the volume's data lives: the kind of source and what names it (a CSI driver and handle, an NFS
    server and path...)."""
    for kind, keys in _SOURCE_DETAIL.items():
        source = spec.get(kind)
        if isinstance(source, Mapping):
            return " ".join([kind, *(f"{key}={source.get(key)}" for key in keys if source.get(key))])
    known = {"capacity", "accessModes", "claimRef", "persistentVolumeReclaimPolicy", "storageClassName",
             "volumeMode", "mountOptions", "nodeAffinity", "volumeAttributesClassName"}  # fmt: skip
    return ", ".join(key for key in spec if key not in known)


# --- network policies ---------------------------------------------------------------------------------------------
def network_policy_cells(policy: NetworkPolicyRecord, now: float) -> Cells:
    return (literal(policy.name), literal(selector_text(policy.pod_selector)) or NONE, age(policy.created_at, now))


def network_policies_table(policies: Iterable[NetworkPolicyRecord], now: float, namespace: str | None) -> str:
    rows = [(p.namespace, network_policy_cells(p, now)) for p in _in(policies, namespace)]
    return _listing(NETWORK_POLICY_COLUMNS, rows, namespace)


def describe_network_policies(
    policies: Iterable[NetworkPolicyRecord], api_pods: Sequence[PodRecord], namespace: str | None
) -> str:
    """Each policy: the pods it selects, its types and rule counts (an Ingress policy without a rule denies all
    ingress), and which of nimify-api's pods it selects."""
    blocks = []
    for policy in _in(policies, namespace):
        lines: list[str] = []
        _field(lines, "Name", policy.name)
        _field(lines, "Namespace", policy.namespace)
        _field(lines, "PodSelector", selector_text(policy.pod_selector) or "<none> (every pod of the namespace)")
        _field(lines, "Policy Types", ", ".join(policy.policy_types))
        if "Ingress" in policy.policy_types:
            denies = " (denies all ingress to the pods it selects)" if policy.ingress_rules == 0 else ""
            _field(lines, "Ingress rules", f"{policy.ingress_rules}{denies}")
        if "Egress" in policy.policy_types:
            denies = " (denies all egress from the pods it selects)" if policy.egress_rules == 0 else ""
            _field(lines, "Egress rules", f"{policy.egress_rules}{denies}")
        here = [p for p in api_pods if p.namespace == policy.namespace]
        selected = sorted(p.name for p in here if selects(policy.pod_selector, p.labels))
        if not here:
            _field(lines, "nimify-api pods", "none in this namespace")
        else:
            _field(lines, "nimify-api pods", f"selects {len(selected)} of {len(here)}")
            lines += [f"  {literal(name)}" for name in selected]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) or _nothing(namespace)


# --- config maps --------------------------------------------------------------------------------------------------
class _BlockDumper(yaml.SafeDumper):
    """Multi-line strings as literal blocks (``|``), as kubectl shows a config file held in a ConfigMap."""


def _str_block(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style="|" if "\n" in text else None)


_BlockDumper.add_representer(str, _str_block)


def config_map_data_yaml(config_map: Mapping[str, Any]) -> str:
    """A ConfigMap's ``data`` (and ``binaryData``'s keys, whose base64 values are left out) as YAML."""
    shown: dict[str, Any] = {"data": dict(config_map.get("data") or {})}
    binary = config_map.get("binaryData") or {}
    if binary:
        shown["binaryData"] = {key: f"<{len(str(value))} base64 characters>" for key, value in binary.items()}
    return yaml.dump(
        shown, Dumper=_BlockDumper, sort_keys=True, default_flow_style=False, allow_unicode=True, width=200
    )


# --- describe helpers ---------------------------------------------------------------------------------------------
def _line(key: str, value: object) -> str:
    """``Key:`` then the value in a column, as kubectl describe writes it; ``<none>`` when empty."""
    text = literal(str(value)) if value not in (None, "") else NONE
    return f"{key + ':':<{_KEY_WIDTH}}{text}"


def _field(lines: list[str], key: str, value: object) -> None:
    lines.append(_line(key, value))


def _nothing(namespace: str | None) -> str:
    return f"No resources found in {namespace} namespace." if namespace else "No resources found"
