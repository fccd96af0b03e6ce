"""The control plane's controllers: deployments, replicasets, daemonsets, endpoints, volume resize,
ingress status, quota and disruption-budget status, node lifecycle and taint eviction, and garbage collection.

Each runs as a level-triggered pass over the store on every step of the world's clock, writing only
what changed, with the reasons and messages the real controllers use.
"""

from __future__ import annotations

import functools
import math
from typing import TYPE_CHECKING, Any

from nimify_tui.sim.k8s import objects
from nimify_tui.sim.k8s.pods import Condition, PodRun
from nimify_tui.sim.k8s.quantity import byte_count, cpu_millis, format_bytes, format_millis
from nimify_tui.sim.k8s.scheduler import node_filter, tolerates
from nimify_tui.sim.k8s.selectors import labels_match

if TYPE_CHECKING:
    from nimify_tui.sim.k8s.world import World

Obj = dict[str, Any]
DEPLOYMENTS = "deployments.apps"
REPLICASETS = "replicasets.apps"
DAEMONSETS = "daemonsets.apps"
SLICES = "endpointslices.discovery.k8s.io"
CREATE_BURST = 500  # pods a replicaset creates per step at most
RESIZE_STEP_S = 2.0
NODE_MONITOR_GRACE_S = 50.0  # node-monitor-grace-period: a node whose Lease is older than this is Unknown
NODE_MONITOR_PERIOD_S = 5.0  # the node lifecycle controller's pass: the NoExecute taint comes one pass later
UNREACHABLE_TAINT = "node.kubernetes.io/unreachable"
KUBELET_CONDITIONS = ("Ready", "MemoryPressure", "DiskPressure", "PIDPressure")  # the node conditions it posts


def _annotation(obj: Obj, key: str) -> str | None:
    value = (obj["metadata"].get("annotations") or {}).get(key)
    return None if value is None else str(value)


def _revision(rs: Obj) -> int:
    text = _annotation(rs, objects.REVISION)
    return int(text) if text and text.isdigit() else 0


def _int_or_percent(value: Any, total: int, round_up: bool) -> int:
    if isinstance(value, int):
        return value
    text = str(value)
    if text.endswith("%"):
        share = total * int(text[:-1]) / 100
        return math.ceil(share) if round_up else math.floor(share)
    return int(text)


def rolling_limits(deployment: Obj) -> tuple[int, int]:
    """(maxSurge, maxUnavailable) of a deployment, resolved against its replicas."""
    desired = deployment["spec"].get("replicas", 1)
    rolling = (deployment["spec"].get("strategy") or {}).get("rollingUpdate") or {}
    surge = _int_or_percent(rolling.get("maxSurge", "25%"), desired, round_up=True)
    unavailable = _int_or_percent(rolling.get("maxUnavailable", "25%"), desired, round_up=False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable


def _nonzero(status: Obj) -> Obj:
    """Drop zero counters, as the API's omitempty does."""
    return {key: value for key, value in status.items() if value != 0 or key == "replicas"}


def _condition(ctype: str, status: str, reason: str, message: str, now: float, old: Obj | None) -> Obj:
    stamp = objects.rfc3339(now)
    keep_transition = old is not None and old.get("status") == status
    return {
        "type": ctype,
        "status": status,
        "lastUpdateTime": stamp,
        "lastTransitionTime": old["lastTransitionTime"] if keep_transition and old else stamp,
        "reason": reason,
        "message": message,
    }


class Controllers:
    """Every controller of the simulated control plane."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.garbage = False  # an owner was deleted: collect its dependents
        self._resizing: dict[tuple[str, str], tuple[str, float]] = {}  # pvc -> (stage, since)
        self._pods_seen = -1  # the kubelet's pod version the pod-derived objects were last written at
        # the pods by owner, and the active ones and the ready count by owner, as of the kubelet's version
        # _owned_at (a cluster of 50,000 pods would otherwise walk every pod twice a tick)
        self._owned: dict[str, list[PodRun]] = {}
        self._owned_at = -1
        self._counted: dict[str, tuple[list[PodRun], int]] = {}
        self._rs_by_owner: dict[str, list[Obj]] = {}  # replicasets by owner uid, as of the store's version
        self._rs_at = -1

    def reconcile(self) -> None:
        if self.garbage:
            self._collect_garbage()
        self._node_lifecycle()
        for deployment in self.world.store.list(DEPLOYMENTS):
            self._sync_deployment(deployment)
        owned = self._pods_by_owner()
        for rs in self.world.store.list(REPLICASETS):
            self._sync_replicaset(rs, owned.get(rs["metadata"]["uid"], []))
        for ds in self.world.store.list(DAEMONSETS):
            self._sync_daemonset(ds, owned.get(ds["metadata"]["uid"], []))
        self.world.scheduler.schedule_pending()
        self.world.kubelet.flush()
        owned = self._pods_by_owner()
        for rs in self.world.store.list(REPLICASETS):
            self._replicaset_status(rs, owned.get(rs["metadata"]["uid"], []))
        for deployment in self.world.store.list(DEPLOYMENTS):
            self._deployment_status(deployment)
        if self.world.kubelet.version != self._pods_seen:
            self._pods_seen = self.world.kubelet.version
            self._endpoints()
            self._quotas_and_budgets()
        self._volumes()
        self._ingresses()

    # --- helpers --------------------------------------------------------------------------------

    def _pods_by_owner(self) -> dict[str, list[PodRun]]:
        kubelet = self.world.kubelet
        if kubelet.version != self._owned_at or not kubelet.settled:
            owned: dict[str, list[PodRun]] = {}
            for run in kubelet.runs.values():
                if run.owner_uid:
                    owned.setdefault(run.owner_uid, []).append(run)
            self._owned, self._owned_at, self._counted = owned, kubelet.version, {}
        return self._owned

    def _active_and_ready(self, owner_uid: str, pods: list[PodRun]) -> tuple[list[PodRun], int]:
        """The owner's active pods and how many are ready (kept until the pods change)."""
        counted = self._counted.get(owner_uid)
        if counted is None or not self.world.kubelet.settled or self.world.kubelet.version != self._owned_at:
            active = [run for run in pods if run.active]
            counted = (active, sum(1 for run in active if run.ready))
            if self.world.kubelet.settled and self.world.kubelet.version == self._owned_at:
                self._counted[owner_uid] = counted
        return counted

    def _put_if_changed(self, resource: str, old: Obj, new: Obj) -> Obj:
        if new != old:
            return self.world.store.put(resource, new)
        return old

    def _owned_replicasets(self, deployment: Obj) -> list[Obj]:
        store = self.world.store
        if store.resource_version != self._rs_at:
            by_owner: dict[str, list[Obj]] = {}
            for rs in store.list(REPLICASETS):
                owner = objects.owner_uid(rs)
                if owner:
                    by_owner.setdefault(owner, []).append(rs)
            self._rs_by_owner, self._rs_at = by_owner, store.resource_version
        namespace = deployment["metadata"]["namespace"]
        owned = self._rs_by_owner.get(deployment["metadata"]["uid"], [])
        return [rs for rs in owned if rs["metadata"]["namespace"] == namespace]

    # --- deployments ----------------------------------------------------------------------------

    def _sync_deployment(self, deployment: Obj) -> None:
        spec = deployment["spec"]
        if spec.get("paused"):
            return
        owned = self._owned_replicasets(deployment)
        template = spec["template"]
        newest = max((_revision(rs) for rs in owned), default=0)
        new = next((rs for rs in owned if objects.templates_equal(rs["spec"]["template"], template)), None)
        if new is None:
            new = self.world.store.put(
                REPLICASETS,
                objects.replicaset(deployment, template, newest + 1, 0, self.world.now(), self.world.new_uid()),
            )
        elif _revision(new) < newest:
            # a rollback: the old template becomes the newest revision
            new = _moved_to_revision(new, deployment, newest + 1)
            new = self.world.store.put(REPLICASETS, new)
        if _annotation(deployment, objects.REVISION) != _annotation(new, objects.REVISION):
            annotations = {
                **(deployment["metadata"].get("annotations") or {}),
                objects.REVISION: _annotation(new, objects.REVISION) or "1",
            }
            deployment = self.world.store.put(
                DEPLOYMENTS, {**deployment, "metadata": {**deployment["metadata"], "annotations": annotations}}
            )
        old = [rs for rs in owned if rs["metadata"]["name"] != new["metadata"]["name"]]
        desired = spec.get("replicas", 1)
        replicas = {rs["metadata"]["name"]: rs["spec"].get("replicas", 0) for rs in [*old, new]}
        new_name = new["metadata"]["name"]
        if all(replicas[rs["metadata"]["name"]] == 0 for rs in old):
            self._scale(deployment, new, desired)
        else:
            self._roll(deployment, new, old, replicas, desired)
        self._prune_history(deployment, [rs for rs in owned if rs["metadata"]["name"] != new_name])

    def _roll(self, deployment: Obj, new: Obj, old: list[Obj], replicas: dict[str, int], desired: int) -> None:
        """One pass of the rolling update: scale the new replicaset up within maxSurge, then the old ones
        down within maxUnavailable, unhealthy ones first."""
        surge, unavailable = rolling_limits(deployment)
        new_name = new["metadata"]["name"]
        total = sum(replicas.values())
        target = replicas[new_name]
        if target > desired:
            target = desired
        elif total < desired + surge:
            target = min(target + desired + surge - total, desired)
        if target != replicas[new_name]:
            self._scale(deployment, new, target)
            replicas[new_name] = target
        min_available = desired - unavailable
        new_unavailable = replicas[new_name] - new.get("status", {}).get("availableReplicas", 0)
        budget = sum(replicas.values()) - min_available - new_unavailable
        if budget <= 0:
            return
        old_sorted = sorted(old, key=lambda rs: (rs["metadata"]["creationTimestamp"], rs["metadata"]["name"]))
        for rs in old_sorted:  # unhealthy replicas first
            name = rs["metadata"]["name"]
            unhealthy = replicas[name] - rs.get("status", {}).get("availableReplicas", 0)
            cut = min(budget, max(unhealthy, 0))
            if cut > 0:
                replicas[name] -= cut
                budget -= cut
                self._scale(deployment, rs, replicas[name])
        available = new.get("status", {}).get("availableReplicas", 0) + sum(
            rs.get("status", {}).get("availableReplicas", 0) for rs in old
        )
        room = available - min_available
        for rs in old_sorted:
            name = rs["metadata"]["name"]
            cut = min(replicas[name], room)
            if cut > 0:
                replicas[name] -= cut
                room -= cut
                self._scale(deployment, rs, replicas[name])

    def _scale(self, deployment: Obj, rs: Obj, replicas: int) -> None:
        current = self.world.store.get(REPLICASETS, rs["metadata"]["namespace"], rs["metadata"]["name"]) or rs
        before = current["spec"].get("replicas", 0)
        desired = deployment["spec"].get("replicas", 1)
        annotations = {
            **(current["metadata"].get("annotations") or {}),
            "deployment.kubernetes.io/desired-replicas": str(desired),
            "deployment.kubernetes.io/max-replicas": str(desired + rolling_limits(deployment)[0]),
        }
        if before == replicas and annotations == current["metadata"].get("annotations"):
            return
        updated = {
            **current,
            "metadata": {**current["metadata"], "annotations": annotations},
            "spec": {**current["spec"], "replicas": replicas},
        }
        if before != replicas:
            updated["metadata"]["generation"] = current["metadata"].get("generation", 1) + 1
        self.world.store.put(REPLICASETS, updated)
        if before != replicas:
            direction = "up" if replicas > before else "down"
            self.world.record_event(
                deployment,
                "Normal",
                "ScalingReplicaSet",
                f"Scaled {direction} replica set {rs['metadata']['name']} from {before} to {replicas}",
                "deployment-controller",
            )

    def _prune_history(self, deployment: Obj, old: list[Obj]) -> None:
        limit = deployment["spec"].get("revisionHistoryLimit", 10)
        idle = [rs for rs in old if rs["spec"].get("replicas", 0) == 0 and rs.get("status", {}).get("replicas", 0) == 0]
        idle.sort(key=_revision)
        for rs in idle[: max(0, len(idle) - limit)]:
            self.world.store.delete(REPLICASETS, rs["metadata"]["namespace"], rs["metadata"]["name"])

    def _deployment_status(self, deployment: Obj) -> None:
        owned = self._owned_replicasets(deployment)
        template = deployment["spec"]["template"]
        new = next((rs for rs in owned if objects.templates_equal(rs["spec"]["template"], template)), None)
        desired = deployment["spec"].get("replicas", 1)
        statuses = [rs.get("status", {}) for rs in owned]
        available = sum(s.get("availableReplicas", 0) for s in statuses)
        total_spec = sum(rs["spec"].get("replicas", 0) for rs in owned)
        status: Obj = {
            "observedGeneration": deployment["metadata"].get("generation", 1),
            "replicas": sum(s.get("replicas", 0) for s in statuses),
            "updatedReplicas": new.get("status", {}).get("replicas", 0) if new else 0,
            "readyReplicas": sum(s.get("readyReplicas", 0) for s in statuses),
            "availableReplicas": available,
            "unavailableReplicas": max(total_spec - available, 0),
        }
        status = _nonzero(status)
        if status["replicas"] == 0:
            del status["replicas"]
        old_status = deployment.get("status") or {}
        old_conditions = {c["type"]: c for c in old_status.get("conditions") or []}
        now = self.world.now()
        _, unavailable = rolling_limits(deployment)
        if available >= desired - unavailable:
            available_cond = ("True", "MinimumReplicasAvailable", "Deployment has minimum availability.")
        else:
            available_cond = ("False", "MinimumReplicasUnavailable", "Deployment does not have minimum availability.")
        conditions = {"Available": self._keep_or_set(old_conditions.get("Available"), "Available", available_cond, now)}
        conditions["Progressing"] = self._progressing(
            deployment, new, status, old_status, old_conditions.get("Progressing"), now
        )
        status["conditions"] = [conditions["Available"], conditions["Progressing"]]
        if status != old_status:
            self.world.store.put(DEPLOYMENTS, {**deployment, "status": status})

    @staticmethod
    def _keep_or_set(old: Obj | None, ctype: str, wanted: tuple[str, str, str], now: float) -> Obj:
        status, reason, message = wanted
        if old is not None and (old["status"], old["reason"], old["message"]) == wanted:
            return old
        return _condition(ctype, status, reason, message, now, old)

    def _progressing(
        self, deployment: Obj, new: Obj | None, status: Obj, old_status: Obj, old: Obj | None, now: float
    ) -> Obj:
        """The Progressing condition, as the deployment controller's rollout-status sync sets it."""
        name = new["metadata"]["name"] if new else ""
        desired = deployment["spec"].get("replicas", 1)
        same_rs = old is not None and old["message"].startswith(f'ReplicaSet "{name}"')
        if (
            same_rs
            and old
            and old["reason"] == "NewReplicaSetAvailable"
            and (status.get("replicas", 0) == status.get("updatedReplicas", 0))
        ):
            return old
        if all(status.get(key, 0) == desired for key in ("updatedReplicas", "replicas", "availableReplicas")):
            wanted = ("True", "NewReplicaSetAvailable", f'ReplicaSet "{name}" has successfully progressed.')
            return self._keep_or_set(old, "Progressing", wanted, now)
        progressing = ("True", "ReplicaSetUpdated", f'ReplicaSet "{name}" is progressing.')
        progressed = any(
            status.get(key, 0) != old_status.get(key, 0)
            for key in ("updatedReplicas", "readyReplicas", "availableReplicas")
        )
        if old is None or not same_rs or progressed:
            return _condition("Progressing", *progressing, now, old)
        deadline = deployment["spec"].get("progressDeadlineSeconds", 600)
        if old["status"] == "True" and now - objects.parse_time(old["lastUpdateTime"]) > deadline:
            timed_out = ("False", "ProgressDeadlineExceeded", f'ReplicaSet "{name}" has timed out progressing.')
            return _condition("Progressing", *timed_out, now, old)
        return old

    # --- replicasets ----------------------------------------------------------------------------

    def _sync_replicaset(self, rs: Obj, pods: list[PodRun]) -> None:
        active, _ = self._active_and_ready(rs["metadata"]["uid"], pods)
        desired = rs["spec"].get("replicas", 1)
        if len(active) < desired:
            for _ in range(min(desired - len(active), CREATE_BURST)):
                pod = self.world.create_pod(rs, rs["spec"]["template"], rs["metadata"]["name"])
                self.world.record_event(
                    rs, "Normal", "SuccessfulCreate", f"Created pod: {pod['metadata']['name']}", "replicaset-controller"
                )
        elif len(active) > desired:
            for run in sorted(active, key=_deletion_rank)[: len(active) - desired]:
                self.world.delete_pod(run.namespace, run.name, None)
                self.world.record_event(
                    rs, "Normal", "SuccessfulDelete", f"Deleted pod: {run.name}", "replicaset-controller"
                )

    def _replicaset_status(self, rs: Obj, pods: list[PodRun]) -> None:
        active, ready = self._active_and_ready(rs["metadata"]["uid"], pods)
        status = _nonzero(
            {
                "replicas": len(active),
                "fullyLabeledReplicas": len(active),
                "readyReplicas": ready,
                "availableReplicas": ready,
                "observedGeneration": rs["metadata"].get("generation", 1),
            }
        )
        self._put_if_changed(REPLICASETS, rs, {**rs, "status": status})

    # --- daemonsets -----------------------------------------------------------------------------

    def _sync_daemonset(self, ds: Obj, pods: list[PodRun]) -> None:
        template = ds["spec"]["template"]
        tolerations = template["spec"].get("tolerations") or []
        selector = template["spec"].get("nodeSelector") or {}
        eligible = [
            node["metadata"]["name"]
            for node in self.world.store.list("nodes")
            if not node_filter(node, tolerations, selector, daemon=True)
        ]
        active = [run for run in pods if run.active]
        on_node = {run.node: run for run in active}
        for node_name in eligible:
            if node_name not in on_node:
                pod = self.world.create_pod(ds, template, ds["metadata"]["name"], node_name=node_name)
                self.world.record_event(
                    ds, "Normal", "SuccessfulCreate", f"Created pod: {pod['metadata']['name']}", "daemonset-controller"
                )
        for run in active:
            if run.node not in eligible:
                self.world.delete_pod(run.namespace, run.name, None)
        ready = sum(1 for run in active if run.ready and run.node in eligible)
        scheduled = sum(1 for name in eligible if name in on_node)
        status = {
            "currentNumberScheduled": scheduled,
            "desiredNumberScheduled": len(eligible),
            "numberMisscheduled": 0,
            "numberReady": ready,
            "numberAvailable": ready,
            "updatedNumberScheduled": scheduled,
            "observedGeneration": ds["metadata"].get("generation", 1),
        }
        if ready < len(eligible):
            status["numberUnavailable"] = len(eligible) - ready
        self._put_if_changed(DAEMONSETS, ds, {**ds, "status": status})

    # --- endpoints ------------------------------------------------------------------------------

    def _endpoints(self) -> None:
        pods_by_ns: dict[str, list[Obj]] = {}
        for service in self.world.store.list("services"):
            selector = service["spec"].get("selector")
            if not selector:
                continue
            namespace = service["metadata"]["namespace"]
            if namespace not in pods_by_ns:
                pods_by_ns[namespace] = self.world.store.list("pods", namespace)
            members = []
            for pod in pods_by_ns[namespace]:
                labels = pod["metadata"].get("labels") or {}
                run = self.world.kubelet.runs.get((namespace, pod["metadata"]["name"]))
                if run is None or not run.ip or not run.active or run.phase != "Running":
                    continue
                if all(labels.get(key) == value for key, value in selector.items()):
                    members.append((run, pod))
            members.sort(key=lambda member: tuple(int(part) for part in member[0].ip.split(".")))
            self._write_endpoints(service, members)
            self._write_slice(service, members)

    @staticmethod
    def _target(run: PodRun, pod: Obj) -> Obj:
        return {"kind": "Pod", "namespace": run.namespace, "name": run.name, "uid": pod["metadata"]["uid"]}

    def _write_endpoints(self, service: Obj, members: list[tuple[PodRun, Obj]]) -> None:
        meta = service["metadata"]
        ports = [
            {"name": p["name"], "port": p["targetPort"], "protocol": p.get("protocol", "TCP")}
            for p in service["spec"]["ports"]
        ]
        ready = [{"ip": r.ip, "nodeName": r.node, "targetRef": self._target(r, p)} for r, p in members if r.ready]
        unready = [{"ip": r.ip, "nodeName": r.node, "targetRef": self._target(r, p)} for r, p in members if not r.ready]
        subset: Obj = {"ports": ports}
        if ready:
            subset["addresses"] = ready
        if unready:
            subset["notReadyAddresses"] = unready
        old = self.world.store.get("endpoints", meta["namespace"], meta["name"])
        body: Obj = {
            "apiVersion": "v1",
            "kind": "Endpoints",
            "metadata": old["metadata"]
            if old
            else objects.metadata(
                meta["name"], meta["namespace"], _created(service), self.world.new_uid(), labels=meta.get("labels")
            ),
        }
        if members:
            body["subsets"] = [subset]
        if old is None or old.get("subsets") != body.get("subsets"):
            self.world.store.put("endpoints", body)

    def _write_slice(self, service: Obj, members: list[tuple[PodRun, Obj]]) -> None:
        meta = service["metadata"]
        name = f"{meta['name']}-{objects.safe_encode(meta['uid'][:5])}"
        endpoints = [
            {
                "addresses": [r.ip],
                "conditions": {"ready": r.ready, "serving": r.ready, "terminating": False},
                "nodeName": r.node,
                "targetRef": self._target(r, p),
            }
            for r, p in members
        ]
        ports = [
            {"name": p["name"], "port": p["targetPort"], "protocol": p.get("protocol", "TCP")}
            for p in service["spec"]["ports"]
        ]
        old = self.world.store.get(SLICES, meta["namespace"], name)
        labels = {
            "kubernetes.io/service-name": meta["name"],
            "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io",
        }
        body: Obj = {
            "apiVersion": "discovery.k8s.io/v1",
            "kind": "EndpointSlice",
            "metadata": old["metadata"]
            if old
            else objects.metadata(
                name, meta["namespace"], _created(service), self.world.new_uid(), labels=labels, owner=service
            ),
            "addressType": "IPv4",
            "endpoints": endpoints,
            "ports": ports,
        }
        if old is None or old.get("endpoints") != endpoints:
            self.world.store.put(SLICES, body)

    # --- volumes --------------------------------------------------------------------------------

    def _volumes(self) -> None:
        for pvc in self.world.store.list("persistentvolumeclaims"):
            key = (pvc["metadata"]["namespace"], pvc["metadata"]["name"])
            requested = byte_count(pvc["spec"]["resources"]["requests"]["storage"])
            capacity = byte_count((pvc.get("status", {}).get("capacity") or {}).get("storage", "0"))
            if requested > capacity and key not in self._resizing:
                self._resize_stage(pvc, "Resizing")
            elif key in self._resizing:
                stage, since = self._resizing[key]
                if self.world.now() - since >= RESIZE_STEP_S:
                    self._resize_stage(pvc, "FileSystemResizePending" if stage == "Resizing" else "done")

    def _resize_stage(self, pvc: Obj, stage: str) -> None:
        """Expansion: the CSI resizer grows the volume, then the kubelet grows the file system online."""
        meta = pvc["metadata"]
        key = (meta["namespace"], meta["name"])
        now = self.world.now()
        requested = pvc["spec"]["resources"]["requests"]["storage"]
        volume = pvc["spec"].get("volumeName", "")
        status = dict(pvc.get("status") or {})
        condition = {"lastProbeTime": None, "lastTransitionTime": objects.rfc3339(now), "status": "True"}
        if stage == "Resizing":
            status["conditions"] = [{**condition, "type": "Resizing"}]
            status["allocatedResources"] = {"storage": requested}
            self.world.record_event(
                pvc,
                "Normal",
                "Resizing",
                f"External resizer is resizing volume {volume}",
                "external-resizer cephfs.csi.ceph.com",
            )
            self._resizing[key] = (stage, now)
        elif stage == "FileSystemResizePending":
            status["conditions"] = [
                {
                    **condition,
                    "type": "FileSystemResizePending",
                    "message": "Waiting for user to (re-)start a pod to finish file system resize of volume on node.",
                }
            ]
            pv = self.world.store.get("persistentvolumes", "", volume)
            if pv is not None:
                self.world.store.put(
                    "persistentvolumes", {**pv, "spec": {**pv["spec"], "capacity": {"storage": requested}}}
                )
            self.world.record_event(
                pvc,
                "Normal",
                "FileSystemResizeRequired",
                "Require file system resize of volume on node",
                "external-resizer cephfs.csi.ceph.com",
            )
            self._resizing[key] = (stage, now)
        else:
            status.pop("conditions", None)
            status["capacity"] = {"storage": requested}
            self.world.record_event(
                pvc,
                "Normal",
                "FileSystemResizeSuccessful",
                f'MountVolume.NodeExpandVolume succeeded for volume "{volume}"',
                "kubelet",
            )
            del self._resizing[key]
        self.world.store.put("persistentvolumeclaims", {**pvc, "status": status})

    # --- ingresses ------------------------------------------------------------------------------

    def _ingresses(self) -> None:
        serving = any(
            run.ready and not run.wedged
            for run in self.world.kubelet.app_runs("ingress-nginx", "nginx-ingress-controller")
        )
        for ing in self.world.store.list("ingresses.networking.k8s.io"):
            current = (ing.get("status") or {}).get("loadBalancer") or {}
            if serving and not current.get("ingress"):
                balancer = {"ingress": [{"hostname": self.world.load_balancer_hostname}]}
                self.world.store.put("ingresses.networking.k8s.io", {**ing, "status": {"loadBalancer": balancer}})
                self.world.record_event(ing, "Normal", "Sync", "Scheduled for sync", "nginx-ingress-controller")

    # --- node lifecycle and taint eviction ------------------------------------------------------

    def _node_lifecycle(self) -> None:
        """A node whose kubelet stopped renewing its Lease becomes Unknown: its conditions, the unreachable
        taints, its pods marked not ready; later the taint eviction controller deletes its pods."""
        now = self.world.now()
        for node in self.world.store.list("nodes"):
            lease = self.world.store.get("leases.coordination.k8s.io", "kube-node-lease", node["metadata"]["name"])
            if lease is None or now - objects.parse_time(lease["spec"]["renewTime"]) <= NODE_MONITOR_GRACE_S:
                continue
            ready = next((c for c in node["status"].get("conditions") or [] if c["type"] == "Ready"), None)
            if ready is not None and ready["status"] != "Unknown":
                self._node_unreachable(node, now)

    def _runs_on(self, node_name: str) -> list[PodRun]:
        return [run for run in self.world.kubelet.runs.values() if run.node == node_name and run.active]

    def _node_unreachable(self, node: Obj, now: float) -> None:
        name = node["metadata"]["name"]
        stamp = objects.rfc3339(now)
        unknown = {
            "status": "Unknown",
            "reason": "NodeStatusUnknown",
            "message": "Kubelet stopped posting node status.",
        }
        conditions = [
            {**c, **unknown, "lastTransitionTime": stamp} if c["type"] in KUBELET_CONDITIONS else c
            for c in node["status"]["conditions"]
        ]
        taints = [
            *(node["spec"].get("taints") or []),
            {"key": UNREACHABLE_TAINT, "effect": "NoSchedule", "timeAdded": stamp},
        ]
        node = self.world.store.put(
            "nodes",
            {
                **node,
                "spec": {**node["spec"], "taints": taints},
                "status": {**node["status"], "conditions": conditions},
            },
        )
        self.world.record_event(
            node, "Normal", "NodeNotReady", f"Node {name} status is now: NodeNotReady", "node-controller"
        )
        for run in self._runs_on(name):
            run.unreachable = True
            run.conditions["Ready"] = Condition("False", now)
            self.world.kubelet.mark(run)
            pod = self.world.store.get("pods", *run.key)
            if pod is not None:
                self.world.record_event(pod, "Warning", "NodeNotReady", "Node is not ready", "node-controller")
        self.world.after(NODE_MONITOR_PERIOD_S, lambda: self._taint_no_execute(name))

    def _taint_no_execute(self, name: str) -> None:
        """The NoExecute taint: each pod on the node is evicted when its toleration of it runs out."""
        node = self.world.store.get("nodes", "", name)
        if node is None or not any(t["key"] == UNREACHABLE_TAINT for t in node["spec"].get("taints") or []):
            return
        now = self.world.now()
        taint = {"key": UNREACHABLE_TAINT, "effect": "NoExecute", "timeAdded": objects.rfc3339(now)}
        taints = [*node["spec"]["taints"], taint]
        self.world.store.put("nodes", {**node, "spec": {**node["spec"], "taints": taints}})
        for run in self._runs_on(name):
            pod = self.world.store.get("pods", *run.key)
            tolerated = _tolerated_for(pod["spec"].get("tolerations") or [] if pod else [], taint)
            if tolerated is not None:
                self.world.at(now + tolerated, functools.partial(self._evict, run, name))

    def _evict(self, run: PodRun, node_name: str) -> None:
        if self.world.kubelet.runs.get(run.key) is not run or not run.active or run.node != node_name:
            return
        node = self.world.store.get("nodes", "", node_name)
        tainted = any(
            t["key"] == UNREACHABLE_TAINT and t["effect"] == "NoExecute"
            for t in (node or {}).get("spec", {}).get("taints") or []
        )
        pod = self.world.store.get("pods", *run.key)
        if not tainted or pod is None:
            return
        run.conditions["DisruptionTarget"] = Condition(
            "True", self.world.now(), "DeletionByTaintManager", "Taint manager: deleting due to NoExecute taint"
        )
        self.world.record_event(
            pod,
            "Normal",
            "TaintManagerEviction",
            f"Marking for deletion Pod {run.namespace}/{run.name}",
            "taint-eviction-controller",
        )
        self.world.delete_pod(run.namespace, run.name, None)

    # --- quotas and budgets ---------------------------------------------------------------------

    def _quotas_and_budgets(self) -> None:
        for quota in self.world.store.list("resourcequotas"):
            namespace = quota["metadata"]["namespace"]
            used = self._namespace_usage(namespace)
            hard = quota["spec"].get("hard") or {}
            status = {"hard": dict(hard), "used": {key: used.get(key, "0") for key in hard}}
            self._put_if_changed("resourcequotas", quota, {**quota, "status": status})
        for pdb in self.world.store.list("poddisruptionbudgets.policy"):
            self._budget_status(pdb)

    def _namespace_usage(self, namespace: str) -> dict[str, str]:
        """What a ResourceQuota counts in ``namespace``: requests (limits where unset) and limits."""
        millis = {"requests.cpu": 0, "limits.cpu": 0}
        memory = {"requests.memory": 0, "limits.memory": 0}
        pods = 0
        for pod in self.world.store.list("pods", namespace):
            if pod.get("status", {}).get("phase") in ("Failed", "Succeeded"):
                continue
            pods += 1
            for c in pod["spec"].get("containers") or []:
                resources = c.get("resources") or {}
                limits = resources.get("limits") or {}
                requests = {**limits, **(resources.get("requests") or {})}
                for kind, values in (("requests", requests), ("limits", limits)):
                    millis[f"{kind}.cpu"] += cpu_millis(values.get("cpu", 0))
                    memory[f"{kind}.memory"] += byte_count(values.get("memory", 0))
        used = {key: format_millis(value) for key, value in millis.items()}
        used |= {key: format_bytes(value) if value else "0" for key, value in memory.items()}
        used |= {"cpu": used["requests.cpu"], "memory": used["requests.memory"], "pods": str(pods)}
        return used

    def _budget_status(self, pdb: Obj) -> None:
        namespace = pdb["metadata"]["namespace"]
        selector = pdb["spec"].get("selector")
        expected = healthy = 0
        for pod in self.world.store.list("pods", namespace):
            if not labels_match(selector, pod["metadata"].get("labels") or {}):
                continue
            run = self.world.kubelet.runs.get((namespace, pod["metadata"]["name"]))
            if run is None or not run.active:
                continue
            expected += 1
            healthy += run.ready
        min_available = pdb["spec"].get("minAvailable", 0)
        desired = (
            min_available
            if isinstance(min_available, int)
            else math.ceil(expected * int(str(min_available).rstrip("%")) / 100)
        )
        allowed = max(0, healthy - desired)
        old = pdb.get("status") or {}
        old_condition = next(iter(old.get("conditions") or []), None)
        wanted = "True" if allowed > 0 else "False"
        reason = "SufficientPods" if allowed > 0 else "InsufficientPods"
        generation = pdb["metadata"].get("generation", 1)
        if old_condition is None or old_condition["status"] != wanted:
            old_condition = {
                "type": "DisruptionAllowed",
                "status": wanted,
                "reason": reason,
                "message": "",
                "observedGeneration": generation,
                "lastTransitionTime": objects.rfc3339(self.world.now()),
            }
        status = {
            "observedGeneration": generation,
            "currentHealthy": healthy,
            "desiredHealthy": desired,
            "disruptionsAllowed": allowed,
            "expectedPods": expected,
            "conditions": [old_condition],
        }
        self._put_if_changed("poddisruptionbudgets.policy", pdb, {**pdb, "status": status})

    # --- garbage collection ---------------------------------------------------------------------

    def _collect_garbage(self) -> None:
        self.garbage = False
        alive = {
            obj["metadata"]["uid"]
            for resource in (DEPLOYMENTS, REPLICASETS, DAEMONSETS, "services")
            for obj in self.world.store.list(resource)
        }
        for resource in (REPLICASETS, SLICES):
            for obj in self.world.store.list(resource):
                owner = objects.owner_uid(obj)
                if owner is not None and owner not in alive:
                    self.world.store.delete(resource, obj["metadata"]["namespace"], obj["metadata"]["name"])
                    self.garbage = True
        for run in list(self.world.kubelet.runs.values()):
            if run.owner_uid and run.owner_uid not in alive:
                self.world.delete_pod(run.namespace, run.name, None)


def _moved_to_revision(rs: Obj, deployment: Obj, revision: int) -> Obj:
    """A replicaset moved to a newer revision (rollback), carrying the deployment's change-cause."""
    annotations = {**(rs["metadata"].get("annotations") or {}), objects.REVISION: str(revision)}
    cause = (deployment["metadata"].get("annotations") or {}).get(objects.CHANGE_CAUSE)
    if cause:
        annotations[objects.CHANGE_CAUSE] = cause
    else:
        annotations.pop(objects.CHANGE_CAUSE, None)
    history = _annotation(rs, objects.REVISION)
    if history:
        previous = _annotation(rs, "deployment.kubernetes.io/revision-history")
        annotations["deployment.kubernetes.io/revision-history"] = f"{previous},{history}" if previous else history
    return {**rs, "metadata": {**rs["metadata"], "annotations": annotations}}


def _tolerated_for(tolerations: list[Obj], taint: Obj) -> float | None:
    """How long a pod with ``tolerations`` stays on a node with the NoExecute ``taint``: 0 when it does not
    tolerate it, None when it does for ever."""
    matching = [tol for tol in tolerations if tolerates([tol], taint)]
    if not matching:
        return 0.0
    if any(tol.get("tolerationSeconds") is None for tol in matching):
        return None
    return float(min(tol["tolerationSeconds"] for tol in matching))


def _created(obj: Obj) -> float:
    return objects.parse_time(obj["metadata"]["creationTimestamp"])


def _deletion_rank(run: PodRun) -> tuple[int, int, int, int, float]:
    """Which pods a replicaset deletes first: unscheduled, pending, not ready, restarted most, newest."""
    return (
        0 if run.node is None else 1,
        0 if run.phase == "Pending" else 1,
        0 if not run.ready else 1,
        -sum(c.restart_count for c in run.containers),
        -run.created,
    )
