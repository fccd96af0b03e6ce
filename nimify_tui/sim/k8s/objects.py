"""Builders of schema-complete Kubernetes objects, in wire format (camelCase JSON dictionaries).

Every builder fills the fields the API server itself would fill (defaults, ownerReferences, status
skeletons), so the official client's models accept every object the simulator serves.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from typing import Any

import orjson

from nimify_tui.sim.k8s.quantity import format_bytes

Obj = dict[str, Any]

# what utilrand.String uses for generated names: no vowels, no confusable characters
NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
POD_TEMPLATE_HASH = "pod-template-hash"
REVISION = "deployment.kubernetes.io/revision"
CHANGE_CAUSE = "kubernetes.io/change-cause"
DEFAULT_CONTAINER = "kubectl.kubernetes.io/default-container"


# --- time ---------------------------------------------------------------------------------------


def rfc3339(t: float) -> str:
    """Seconds precision, as metav1.Time serializes."""
    return _rfc3339_seconds(int(t))


@functools.lru_cache(maxsize=4096)
def _rfc3339_seconds(seconds: int) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def rfc3339_micro(t: float) -> str:
    """Microsecond precision, as metav1.MicroTime serializes."""
    return dt.datetime.fromtimestamp(t, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def rfc3339_nano(t: float) -> str:
    """Nanosecond precision, as the kubelet prefixes log lines."""
    whole = int(t)
    nanos = round((t - whole) * 1e9)
    if nanos >= 1_000_000_000:
        whole, nanos = whole + 1, nanos - 1_000_000_000
    stamp = dt.datetime.fromtimestamp(whole, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{stamp}.{nanos:09d}Z"


def parse_time(text: str) -> float:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


# --- names --------------------------------------------------------------------------------------


def safe_encode(text: str) -> str:
    """apimachinery's SafeEncodeString: each byte mapped onto the name alphabet."""
    return "".join(NAME_ALPHABET[ord(char) % len(NAME_ALPHABET)] for char in text)


def _fnv32a(data: bytes) -> int:
    value = 0x811C9DC5
    for byte in data:
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    return value


def _without_hash_label(template: Obj) -> Obj:
    """A template as the controllers compare them: no hash label, unset (null) metadata left out."""
    meta = {k: v for k, v in (template.get("metadata") or {}).items() if v is not None}
    labels = {k: v for k, v in (meta.get("labels") or {}).items() if k != POD_TEMPLATE_HASH}
    return {**template, "metadata": {**meta, "labels": labels}}


def template_hash(template: Obj) -> str:
    """The pod-template-hash of a pod template (its own hash label left out)."""
    comparable = orjson.dumps(_without_hash_label(template), option=orjson.OPT_SORT_KEYS)
    return safe_encode(str(_fnv32a(comparable)))


def templates_equal(a: Obj, b: Obj) -> bool:
    """Equal pod templates, ignoring the pod-template-hash label (as rollout undo compares them)."""
    return _without_hash_label(a) == _without_hash_label(b)


# --- metadata -----------------------------------------------------------------------------------


def metadata(
    name: str,
    namespace: str | None,
    created: float,
    uid: str,
    labels: dict[str, str] | None = None,
    annotations: dict[str, str] | None = None,
    owner: Obj | None = None,
    generation: int | None = None,
) -> Obj:
    meta: Obj = {"name": name, "uid": uid, "creationTimestamp": rfc3339(created)}
    if namespace:
        meta["namespace"] = namespace
    if labels:
        meta["labels"] = dict(labels)
    if annotations:
        meta["annotations"] = dict(annotations)
    if owner is not None:
        meta["ownerReferences"] = [controller_ref(owner)]
    if generation is not None:
        meta["generation"] = generation
    return meta


def controller_ref(owner: Obj) -> Obj:
    return {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def object_ref(obj: Obj, field_path: str | None = None) -> Obj:
    """An ObjectReference to ``obj``, as events carry it."""
    meta = obj["metadata"]
    ref: Obj = {
        "apiVersion": obj["apiVersion"],
        "kind": obj["kind"],
        "name": meta["name"],
        "uid": meta["uid"],
        "resourceVersion": meta.get("resourceVersion", ""),
    }
    if meta.get("namespace"):
        ref["namespace"] = meta["namespace"]
    if field_path:
        ref["fieldPath"] = field_path
    return ref


def owner_uid(obj: Obj) -> str | None:
    for ref in obj["metadata"].get("ownerReferences") or []:
        if ref.get("controller"):
            return str(ref["uid"])
    return None


# --- pods and templates -------------------------------------------------------------------------


def container(
    name: str,
    image: str,
    ports: Sequence[tuple[str, int]] = (),
    requests: dict[str, str] | None = None,
    limits: dict[str, str] | None = None,
    env: dict[str, str] | None = None,
    readiness_path: str | None = None,
    liveness_path: str | None = None,
    mounts: dict[str, str] | None = None,
    args: list[str] | None = None,
) -> Obj:
    """A container spec; ``ports`` are (name, number), ``mounts`` volume name -> mount path."""
    spec: Obj = {"name": name, "image": image}
    if args:
        spec["args"] = list(args)
    if ports:
        spec["ports"] = [{"name": pname, "containerPort": port, "protocol": "TCP"} for pname, port in ports]
    if env:
        spec["env"] = [{"name": key, "value": value} for key, value in env.items()]
    resources: Obj = {}
    if limits:
        resources["limits"] = dict(limits)
    if requests:
        resources["requests"] = dict(requests)
    spec["resources"] = resources
    probe_port = ports[0][1] if ports else 8080
    if liveness_path:
        spec["livenessProbe"] = _http_probe(liveness_path, probe_port, initial=30, period=30, failures=3)
    if readiness_path:
        spec["readinessProbe"] = _http_probe(readiness_path, probe_port, initial=5, period=10, failures=2)
    if mounts:
        spec["volumeMounts"] = [{"name": vol, "mountPath": path} for vol, path in mounts.items()]
    return spec


def _http_probe(path: str, port: int, initial: int, period: int, failures: int) -> Obj:
    return {
        "httpGet": {"path": path, "port": port, "scheme": "HTTP"},
        "initialDelaySeconds": initial,
        "periodSeconds": period,
        "timeoutSeconds": 1,
        "successThreshold": 1,
        "failureThreshold": failures,
    }


def default_container(spec: Obj) -> Obj:
    """The defaults the API server adds to a container."""
    result = {
        "imagePullPolicy": "Always" if str(spec.get("image", "")).endswith(":latest") else "IfNotPresent",
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
        "resources": {},
        **spec,
    }
    if result.get("ports"):
        result["ports"] = [{"protocol": "TCP", **port} for port in result["ports"]]
    return result


def default_pod_spec(spec: Obj) -> Obj:
    """The defaults the API server adds to a pod spec (also inside templates)."""
    result = {
        "restartPolicy": "Always",
        "terminationGracePeriodSeconds": 30,
        "dnsPolicy": "ClusterFirst",
        "securityContext": {},
        "schedulerName": "default-scheduler",
        "serviceAccountName": "default",
        "serviceAccount": spec.get("serviceAccountName", "default"),
        "enableServiceLinks": True,
        **spec,
    }
    result["containers"] = [default_container(c) for c in result.get("containers") or []]
    return result


def pod_template(
    labels: dict[str, str],
    containers: list[Obj],
    volumes: list[Obj] | None = None,
    node_selector: dict[str, str] | None = None,
    tolerations: list[Obj] | None = None,
    annotations: dict[str, str] | None = None,
    grace_seconds: int = 30,
) -> Obj:
    spec: Obj = {"containers": containers, "terminationGracePeriodSeconds": grace_seconds}
    if volumes:
        spec["volumes"] = volumes
    if node_selector:
        spec["nodeSelector"] = dict(node_selector)
    if tolerations:
        spec["tolerations"] = tolerations
    meta: Obj = {"creationTimestamp": None, "labels": dict(labels)}
    if annotations:
        meta["annotations"] = dict(annotations)
    return {"metadata": meta, "spec": default_pod_spec(spec)}


def pod(name: str, namespace: str, created: float, uid: str, template: Obj, owner: Obj | None) -> Obj:
    """A new pod from a template (status is filled by the kubelet side of the world)."""
    tmeta = template.get("metadata", {})
    spec = default_pod_spec(orjson.loads(orjson.dumps(template["spec"])))
    spec.setdefault("tolerations", [])
    for key in ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"):
        if not any(t.get("key") == key for t in spec["tolerations"]):
            spec["tolerations"].append(
                {"key": key, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}
            )
    spec.setdefault("priority", 0)
    spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": metadata(
            name,
            namespace,
            created,
            uid,
            labels=tmeta.get("labels"),
            annotations=tmeta.get("annotations"),
            owner=owner,
        ),
        "spec": spec,
        "status": {"phase": "Pending", "qosClass": qos_class(spec)},
    }


def qos_class(spec: Obj) -> str:
    containers = spec.get("containers") or []
    resources = [c.get("resources") or {} for c in containers]
    if all(not (r.get("requests") or r.get("limits")) for r in resources):
        return "BestEffort"
    guaranteed = all(
        {"cpu", "memory"} <= set(r.get("limits") or {})
        and all((r.get("requests") or {}).get(k, r["limits"][k]) == r["limits"][k] for k in ("cpu", "memory"))
        for r in resources
    )
    return "Guaranteed" if guaranteed else "Burstable"


# --- workloads ----------------------------------------------------------------------------------


def deployment(
    name: str,
    namespace: str,
    created: float,
    uid: str,
    replicas: int,
    template: Obj,
    annotations: dict[str, str] | None = None,
) -> Obj:
    labels = {"app": template["metadata"]["labels"]["app"]}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": metadata(name, namespace, created, uid, labels=labels, annotations=annotations, generation=1),
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": template,
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}},
            "revisionHistoryLimit": 10,
            "progressDeadlineSeconds": 600,
        },
        "status": {},
    }


def replicaset(owner: Obj, template: Obj, revision: int, replicas: int, created: float, uid: str) -> Obj:
    """A deployment's ReplicaSet for ``template`` (the template without its hash label)."""
    pod_hash = template_hash(template)
    labels = {**template["metadata"]["labels"], POD_TEMPLATE_HASH: pod_hash}
    tmpl = {**template, "metadata": {**template["metadata"], "labels": labels}}
    annotations = {
        REVISION: str(revision),
        "deployment.kubernetes.io/desired-replicas": str(owner["spec"]["replicas"]),
        "deployment.kubernetes.io/max-replicas": str(owner["spec"]["replicas"] + 1),
    }
    cause = (owner["metadata"].get("annotations") or {}).get(CHANGE_CAUSE)
    if cause:
        annotations[CHANGE_CAUSE] = cause
    name = f"{owner['metadata']['name']}-{pod_hash}"
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": metadata(
            name,
            owner["metadata"]["namespace"],
            created,
            uid,
            labels=labels,
            annotations=annotations,
            owner=owner,
            generation=1,
        ),
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {**owner["spec"]["selector"]["matchLabels"], POD_TEMPLATE_HASH: pod_hash}},
            "template": tmpl,
        },
        "status": {"replicas": 0, "observedGeneration": 1},
    }


def daemonset(name: str, namespace: str, created: float, uid: str, template: Obj) -> Obj:
    labels = {"app": template["metadata"]["labels"]["app"]}
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": metadata(
            name,
            namespace,
            created,
            uid,
            labels=labels,
            annotations={"deprecated.daemonset.template.generation": "1"},
            generation=1,
        ),
        "spec": {
            "selector": {"matchLabels": labels},
            "template": template,
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}},
            "revisionHistoryLimit": 10,
        },
        "status": {
            "currentNumberScheduled": 0,
            "desiredNumberScheduled": 0,
            "numberMisscheduled": 0,
            "numberReady": 0,
        },
    }


def scale(obj: Obj) -> Obj:
    """The autoscaling/v1 Scale of a deployment or replicaset."""
    meta = obj["metadata"]
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": meta["name"],
            "namespace": meta["namespace"],
            "uid": meta["uid"],
            "resourceVersion": meta.get("resourceVersion", ""),
            "creationTimestamp": meta["creationTimestamp"],
        },
        "spec": {"replicas": obj["spec"].get("replicas", 1)},
        "status": {
            "replicas": obj.get("status", {}).get("replicas", 0),
            "selector": ",".join(f"{k}={v}" for k, v in sorted(obj["spec"]["selector"].get("matchLabels", {}).items())),
        },
    }


# --- cluster objects ----------------------------------------------------------------------------


def namespace(name: str, created: float, uid: str) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": metadata(name, None, created, uid, labels={"kubernetes.io/metadata.name": name}),
        "spec": {"finalizers": ["kubernetes"]},
        "status": {"phase": "Active"},
    }


NODE_CONDITIONS = (
    ("NetworkUnavailable", "False", "RouteCreated", "RouteController created a route"),
    ("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
    ("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
    ("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
    ("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
)


def node(
    name: str,
    created: float,
    uid: str,
    ip: str,
    pod_cidr: str,
    capacity: dict[str, str],
    allocatable: dict[str, str],
    labels: dict[str, str],
    taints: list[Obj],
    machine_id: str,
    heartbeat: float,
) -> Obj:
    stamp = rfc3339(created)
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": metadata(
            name,
            None,
            created,
            uid,
            labels=labels,
            annotations={
                "node.alpha.kubernetes.io/ttl": "0",
                "volumes.kubernetes.io/controller-managed-attach-detach": "true",
            },
        ),
        "spec": {"podCIDR": pod_cidr, "podCIDRs": [pod_cidr], "providerID": f"aws:///us-east-1a/{machine_id}"}
        | ({"taints": taints} if taints else {}),
        "status": {
            "capacity": dict(capacity),
            "allocatable": dict(allocatable),
            "conditions": [
                {
                    "type": ctype,
                    "status": status,
                    "reason": reason,
                    "message": message,
                    "lastHeartbeatTime": rfc3339(heartbeat),
                    "lastTransitionTime": stamp,
                }
                for ctype, status, reason, message in NODE_CONDITIONS
            ],
            "addresses": [
                {"type": "InternalIP", "address": ip},
                {"type": "Hostname", "address": name},
                {"type": "InternalDNS", "address": f"{name}.ec2.internal"},
            ],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {
                "machineID": machine_id.replace("-", ""),
                "systemUUID": f"ec2{machine_id[2:10]}-0000-0000-0000-000000000000",
                "bootID": f"{machine_id[2:10]}-b007-4d1d-9e5a-000000000000",
                "kernelVersion": "6.1.119-129.201.amzn2023.x86_64",
                "osImage": "Amazon Linux 2023.6.20250107",
                "containerRuntimeVersion": "containerd://1.7.25",
                "kubeletVersion": "v1.32.4-eks-0a21954",
                "kubeProxyVersion": "v1.32.4-eks-0a21954",
                "operatingSystem": "linux",
                "architecture": "amd64",
            },
        },
    }


def node_lease(node_obj: Obj, renewed: float, uid: str) -> Obj:
    """The kubelet's heartbeat Lease for a node, in kube-node-lease."""
    name = node_obj["metadata"]["name"]
    return {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": metadata(name, "kube-node-lease", parse_time(node_obj["metadata"]["creationTimestamp"]), uid)
        | {"ownerReferences": [{"apiVersion": "v1", "kind": "Node", "name": name, "uid": node_obj["metadata"]["uid"]}]},
        "spec": {"holderIdentity": name, "leaseDurationSeconds": 40, "renewTime": rfc3339_micro(renewed)},
    }


def service(
    name: str,
    namespace: str,
    created: float,
    uid: str,
    cluster_ip: str,
    selector: dict[str, str],
    ports: list[tuple[str, int]],
    labels: dict[str, str] | None = None,
) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": metadata(name, namespace, created, uid, labels=labels or {"app": name}),
        "spec": {
            "type": "ClusterIP",
            "clusterIP": cluster_ip,
            "clusterIPs": [cluster_ip],
            "ipFamilies": ["IPv4"],
            "ipFamilyPolicy": "SingleStack",
            "internalTrafficPolicy": "Cluster",
            "sessionAffinity": "None",
            "selector": dict(selector),
            "ports": [{"name": pname, "port": port, "targetPort": port, "protocol": "TCP"} for pname, port in ports],
        },
        "status": {"loadBalancer": {}},
    }


def configmap(name: str, namespace: str, created: float, uid: str, data: dict[str, str]) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": metadata(name, namespace, created, uid, labels={"app": "nimify"}),
        "data": dict(data),
    }


def secret(name: str, namespace: str, created: float, uid: str, kind: str, data: dict[str, str]) -> Obj:
    """``data`` values are already base64."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": metadata(name, namespace, created, uid),
        "type": kind,
        "data": dict(data),
    }


def storage_class(name: str, created: float, uid: str, provisioner: str) -> Obj:
    return {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": metadata(
            name, None, created, uid, annotations={"storageclass.kubernetes.io/is-default-class": "true"}
        ),
        "provisioner": provisioner,
        "parameters": {"clusterID": "rook-ceph", "fsName": "models-fs"},
        "reclaimPolicy": "Delete",
        "volumeBindingMode": "Immediate",
        "allowVolumeExpansion": True,
    }


def persistent_volume_claim(
    name: str,
    namespace: str,
    created: float,
    uid: str,
    storage_class_name: str,
    size_bytes: int,
    access_mode: str,
) -> Obj:
    size = format_bytes(size_bytes)
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": metadata(
            name,
            namespace,
            created,
            uid,
            labels={"app": "nimify"},
            annotations={
                "pv.kubernetes.io/bind-completed": "yes",
                "pv.kubernetes.io/bound-by-controller": "yes",
                "volume.beta.kubernetes.io/storage-provisioner": "cephfs.csi.ceph.com",
                "volume.kubernetes.io/storage-provisioner": "cephfs.csi.ceph.com",
            },
        )
        | {"finalizers": ["kubernetes.io/pvc-protection"]},
        "spec": {
            "accessModes": [access_mode],
            "resources": {"requests": {"storage": size}},
            "storageClassName": storage_class_name,
            "volumeMode": "Filesystem",
            "volumeName": f"pvc-{uid}",
        },
        "status": {"phase": "Bound", "accessModes": [access_mode], "capacity": {"storage": size}},
    }


def persistent_volume(claim: Obj, created: float, uid: str) -> Obj:
    spec = claim["spec"]
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": metadata(
            spec["volumeName"],
            None,
            created,
            uid,
            annotations={"pv.kubernetes.io/provisioned-by": "cephfs.csi.ceph.com"},
        )
        | {"finalizers": ["kubernetes.io/pv-protection"]},
        "spec": {
            "accessModes": list(spec["accessModes"]),
            "capacity": {"storage": spec["resources"]["requests"]["storage"]},
            "claimRef": {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "name": claim["metadata"]["name"],
                "namespace": claim["metadata"]["namespace"],
                "uid": claim["metadata"]["uid"],
            },
            "csi": {
                "driver": "cephfs.csi.ceph.com",
                "volumeHandle": f"0001-0009-rook-ceph-0000000000000001-{uid}",
                "fsType": "",
            },
            "persistentVolumeReclaimPolicy": "Delete",
            "storageClassName": spec["storageClassName"],
            "volumeMode": "Filesystem",
        },
        "status": {"phase": "Bound", "lastPhaseTransitionTime": rfc3339(created)},
    }


def ingress_class(name: str, created: float, uid: str) -> Obj:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "IngressClass",
        "metadata": metadata(
            name, None, created, uid, annotations={"ingressclass.kubernetes.io/is-default-class": "true"}
        ),
        "spec": {"controller": "k8s.io/ingress-nginx"},
    }


def ingress(
    name: str, namespace: str, created: float, uid: str, host: str, tls_secret: str, backend: tuple[str, int]
) -> Obj:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": metadata(
            name,
            namespace,
            created,
            uid,
            labels={"app": "nimify"},
            annotations={"nginx.ingress.kubernetes.io/proxy-body-size": "64m"},
            generation=1,
        ),
        "spec": {
            "ingressClassName": "nginx",
            "tls": [{"hosts": [host], "secretName": tls_secret}],
            "rules": [
                {
                    "host": host,
                    "http": {
                        "paths": [
                            {
                                "path": "/",
                                "pathType": "Prefix",
                                "backend": {"service": {"name": backend[0], "port": {"number": backend[1]}}},
                            }
                        ]
                    },
                }
            ],
        },
        "status": {"loadBalancer": {}},
    }


def network_policy(name: str, namespace: str, created: float, uid: str) -> Obj:
    """Lets the ingress controller and Prometheus reach nimify-api, and nothing else in."""
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": metadata(name, namespace, created, uid, generation=1),
        "spec": {
            "podSelector": {"matchLabels": {"app": "nimify-api"}},
            "policyTypes": ["Ingress"],
            "ingress": [
                {
                    "from": [
                        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}},
                        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}},
                    ],
                    "ports": [{"protocol": "TCP", "port": 8000}, {"protocol": "TCP", "port": 9090}],
                }
            ],
        },
    }


def pod_disruption_budget(name: str, namespace: str, created: float, uid: str, app: str, min_available: int) -> Obj:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": metadata(name, namespace, created, uid, generation=1),
        "spec": {"minAvailable": min_available, "selector": {"matchLabels": {"app": app}}},
        "status": {"currentHealthy": 0, "desiredHealthy": min_available, "disruptionsAllowed": 0, "expectedPods": 0},
    }


def resource_quota(name: str, namespace: str, created: float, uid: str, hard: dict[str, str]) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": metadata(name, namespace, created, uid),
        "spec": {"hard": dict(hard)},
        "status": {"hard": dict(hard), "used": {key: "0" for key in hard}},
    }


def event(
    name: str,
    involved: Obj,
    created: float,
    uid: str,
    event_type: str,
    reason: str,
    message: str,
    component: str,
    host: str | None,
) -> Obj:
    namespace = involved.get("namespace") or "default"
    stamp = rfc3339(created)
    source: Obj = {"component": component}
    if host:
        source["host"] = host
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": metadata(name, namespace, created, uid),
        "involvedObject": involved,
        "reason": reason,
        "message": message,
        "source": source,
        "firstTimestamp": stamp,
        "lastTimestamp": stamp,
        "count": 1,
        "type": event_type,
        "eventTime": None,
        "reportingComponent": component,
        "reportingInstance": host or "",
    }


def pod_metrics(pod_obj: Obj, t: float, usage: list[tuple[str, str, str]]) -> Obj:
    """PodMetrics; ``usage`` is (container, cpu, memory) already formatted."""
    meta = pod_obj["metadata"]
    return {
        "kind": "PodMetrics",
        "apiVersion": "metrics.k8s.io/v1beta1",
        "metadata": {
            "name": meta["name"],
            "namespace": meta["namespace"],
            "creationTimestamp": rfc3339(t),
            "labels": dict(meta.get("labels") or {}),
        },
        "timestamp": rfc3339(t - 7),
        "window": "15s",
        "containers": [{"name": name, "usage": {"cpu": cpu, "memory": mem}} for name, cpu, mem in usage],
    }


def node_metrics(node_obj: Obj, t: float, cpu: str, memory: str) -> Obj:
    meta = node_obj["metadata"]
    return {
        "kind": "NodeMetrics",
        "apiVersion": "metrics.k8s.io/v1beta1",
        "metadata": {
            "name": meta["name"],
            "creationTimestamp": rfc3339(t),
            "labels": dict(meta.get("labels") or {}),
        },
        "timestamp": rfc3339(t - 9),
        "window": "20s",
        "usage": {"cpu": cpu, "memory": memory},
    }
