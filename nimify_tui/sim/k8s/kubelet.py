"""The kubelet: runs the containers of the pods bound to nodes, and writes the pods' status.

Container steps (pull, create, start, readiness, crash, back-off, restart) are timers on the world's
clock, each tagged with the container instance (``epoch``) it belongs to, so stale ones do nothing.
Where a container's process ends (OOM, a bad configuration) the world decides as it starts (its :class:`Fate`).
The kubelet of a node can stop (:attr:`Kubelet.stopped`): its pods then stay as it last reported them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nimify_tui.sim.k8s import objects
from nimify_tui.sim.k8s.pods import GPU_RESOURCE, Condition, ContainerRun, Fate, PodRun, pod_requests, pod_status
from nimify_tui.sim.k8s.quantity import byte_count
from nimify_tui.sim.k8s.workloads import ContainerLog, workload

if TYPE_CHECKING:
    from nimify_tui.sim.k8s.world import World

Obj = dict[str, Any]
MAX_BACKOFF_S = 300.0
BACKOFF_RESET_S = 600.0  # a container that ran this long starts its back-off afresh
MOUNT_RETRY_S = 16.0
IMAGE_BACKOFF_S = 10.0  # the first image pull back-off; it doubles up to MAX_BACKOFF_S
CONFIGMAP_SYNC_S = 60.0  # a mounted ConfigMap follows an edit within the kubelet's sync period
PROBE_PERIOD_S = 10.0


def go_duration(seconds: float) -> str:
    """Go's time.Duration formatting for whole seconds: 10s, 1m20s, 5m0s."""
    whole = int(seconds)
    if whole < 60:
        return f"{whole}s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes}m{secs}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes}m{secs}s"


class Kubelet:
    """Keeps every pod's simulation state, runs the containers of bound pods, and writes the pods' status."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.runs: dict[tuple[str, str], PodRun] = {}
        self._by_app: dict[tuple[str, str], dict[str, PodRun]] = {}
        self._by_namespace: dict[str, dict[str, PodRun]] = {}
        self._dirty: set[tuple[str, str]] = set()
        self._node_images: dict[str, set[str]] = {}
        self._next_ip: dict[str, int] = {}
        self.stopped: set[str] = set()  # nodes whose kubelet stopped: no heartbeat, no status, containers frozen
        self.version = 0  # bumped whenever a pod is added, removed or its status written

    # --- bookkeeping ----------------------------------------------------------------------------

    def adopt(self, pod: Obj, running_since: float | None = None) -> PodRun:
        """Start simulating a stored pod; ``running_since`` places it already running on its node."""
        meta, spec = pod["metadata"], pod["spec"]
        run = PodRun(
            namespace=meta["namespace"],
            name=meta["name"],
            uid=meta["uid"],
            app=(meta.get("labels") or {}).get("app", meta["name"]),
            created=objects.parse_time(meta["creationTimestamp"]),
            containers=[self._container_run(c) for c in spec.get("containers") or []],
            requests=pod_requests(spec),
            owner_uid=objects.owner_uid(pod),
        )
        self.runs[run.key] = run
        self._by_app.setdefault((run.namespace, run.app), {})[run.name] = run
        self._by_namespace.setdefault(run.namespace, {})[run.name] = run
        self.world.scheduler.capacity_changed = True
        self.version += 1
        if running_since is not None:
            node_name = spec.get("nodeName") or self.world.scheduler.place(run, spec, self.world.store.list("nodes"))[0]
            if node_name is None:
                raise ValueError(f"no node has room for {run.namespace}/{run.name}")
            self.world.scheduler.bind(run, node_name, quiet=True, at=running_since)
            for c in run.containers:
                self._node_images.setdefault(node_name, set()).add(c.image)
                self._start(run, c, at=running_since, quiet=True)
        elif spec.get("nodeName"):
            self.world.scheduler.bind(run, spec["nodeName"])
        self._dirty.add(run.key)
        return run

    @staticmethod
    def _container_run(spec: Obj) -> ContainerRun:
        limit = ((spec.get("resources") or {}).get("limits") or {}).get("memory")
        return ContainerRun(spec["name"], spec["image"], byte_count(limit) if limit else None)

    def app_runs(self, namespace: str, app: str) -> list[PodRun]:
        return list(self._by_app.get((namespace, app), {}).values())

    def namespace_runs(self, namespace: str) -> list[PodRun]:
        return list(self._by_namespace.get(namespace, {}).values())

    def mark(self, run: PodRun) -> None:
        self._dirty.add(run.key)

    @property
    def settled(self) -> bool:
        """No pod changed since the last flush: every change to a pod's run is in ``version`` now."""
        return not self._dirty

    def flush(self) -> None:
        """Write the status of every pod that changed since the last flush."""
        dirty, self._dirty = self._dirty, set()
        for key in sorted(dirty):
            run = self.runs.get(key)
            stored = self.world.store.get("pods", *key)
            if run is None or stored is None:
                continue
            status = pod_status(run, stored["spec"])
            meta = stored["metadata"]
            if run.deletion_at is not None and "deletionTimestamp" not in meta:
                grace = max(0, round(run.deletion_at - self.world.now()))
                meta = {
                    **meta,
                    "deletionTimestamp": objects.rfc3339(run.deletion_at),
                    "deletionGracePeriodSeconds": grace,
                }
            spec = stored["spec"]
            if run.node and spec.get("nodeName") != run.node:
                spec = {**spec, "nodeName": run.node}
            if status != stored.get("status") or meta is not stored["metadata"] or spec is not stored["spec"]:
                self.world.store.put("pods", {**stored, "metadata": meta, "spec": spec, "status": status})
                self.version += 1

    # --- admission ------------------------------------------------------------------------------

    def admit(self, run: PodRun, at: float, quiet: bool) -> None:
        """The pod was bound to its node at ``at``: its addresses, start time, conditions and GPUs.

        Its containers start after a moment; ``quiet``: the caller starts them, running since ``at``."""
        node_name = run.node
        assert node_name is not None
        node = self.world.store.get("nodes", "", node_name)
        run.host_ip = next(
            (a["address"] for a in (node or {}).get("status", {}).get("addresses", []) if a["type"] == "InternalIP"),
            "",
        )
        run.ip = self._allocate_ip(node_name, node)
        run.start_time = at
        run.conditions["PodReadyToStartContainers"] = Condition("True" if quiet else "False", at)
        run.conditions["Initialized"] = Condition("True", at)
        run.refresh_ready(at)
        if run.requests.get(GPU_RESOURCE):
            free = [g for g in self.world.gpus_on(node_name) if g.healthy and g.pod is None]
            for gpu in free[: run.requests[GPU_RESOURCE]]:
                gpu.pod, gpu.namespace, gpu.container = run.name, run.namespace, run.containers[0].name
                run.gpus.append(gpu)
        self.mark(run)
        if not quiet:
            self.world.after(0.4, lambda: self._begin(run))

    def _allocate_ip(self, node_name: str, node: Obj | None) -> str:
        cidr = (node or {}).get("spec", {}).get("podCIDR", "10.244.0.0/24")
        prefix = cidr.rsplit(".", 1)[0]
        last = self._next_ip.get(node_name, 1) % 253 + 1
        self._next_ip[node_name] = last
        return f"{prefix}.{last + 1}"

    # --- containers -----------------------------------------------------------------------------

    def _begin(self, run: PodRun) -> None:
        if not self._alive(run):
            return
        stored = self.world.store.get("pods", *run.key)
        failure = self._mount_failure(stored) if stored is not None else None
        if stored is not None and failure:
            self.world.record_event(stored, "Warning", "FailedMount", failure, "kubelet", run.node)
            self.world.after(MOUNT_RETRY_S, lambda: self._begin(run))
            return
        run.conditions["PodReadyToStartContainers"] = Condition("True", self.world.now())
        for c in run.containers:
            self._pull_then_start(run, c)
        self.mark(run)

    def _mount_failure(self, pod: Obj) -> str:
        """Why the kubelet cannot set up one of the pod's ConfigMap or Secret volumes; "" when it can."""
        namespace = pod["metadata"]["namespace"]
        for volume in pod["spec"].get("volumes") or []:
            for source, resource, kind, key in (
                ("configMap", "configmaps", "configmap", "name"),
                ("secret", "secrets", "secret", "secretName"),
            ):
                ref = volume.get(source)
                if ref and not ref.get("optional") and self.world.store.get(resource, namespace, ref[key]) is None:
                    return f'MountVolume.SetUp failed for volume "{volume["name"]}" : {kind} "{ref[key]}" not found'
        return ""

    def _alive(self, run: PodRun) -> bool:
        return (
            self.runs.get(run.key) is run
            and run.deletion_at is None
            and run.phase not in ("Failed", "Succeeded")
            and run.node not in self.stopped
        )

    def mounted_file(self, run: PodRun, container: str, path: str) -> str | None:
        """The text of the file at ``path`` in a container, where a ConfigMap volume holds it (else None).

        The kubelet writes a ConfigMap volume when it first needs it and rewrites it from the ConfigMap at most
        ``CONFIGMAP_SYNC_S`` later, so an edit reaches a running pod within a sync period."""
        pod = self.world.store.get("pods", *run.key)
        if pod is None:
            return None
        directory, _, key = path.rpartition("/")
        spec: Obj = next((c for c in pod["spec"].get("containers") or [] if c["name"] == container), {})
        mount = next((m for m in spec.get("volumeMounts") or [] if m["mountPath"].rstrip("/") == directory), None)
        volume: Obj = next((v for v in pod["spec"].get("volumes") or [] if mount and v["name"] == mount["name"]), {})
        source = volume.get("configMap")
        if source is None:
            return None
        now = self.world.now()
        projected = run.projected.get(volume["name"])
        if projected is None or now - projected[0] >= CONFIGMAP_SYNC_S:
            configmap = self.world.store.get("configmaps", run.namespace, source["name"])
            projected = (now, dict((configmap or {}).get("data") or {}))
            run.projected[volume["name"]] = projected
        return projected[1].get(key)

    def _pull_then_start(self, run: PodRun, c: ContainerRun) -> None:
        assert run.node is not None
        stored = self.world.store.get("pods", *run.key)
        if stored is None:
            return
        path = f"spec.containers{{{c.name}}}"
        images = self._node_images.setdefault(run.node, set())
        failure = self.world.pull_failure(c.image)
        if failure:
            self.world.record_event(
                stored, "Normal", "Pulling", f'Pulling image "{c.image}"', "kubelet", run.node, path
            )
            epoch = c.epoch
            self.world.after(self.world.rng.uniform(0.4, 1.5), lambda: self._pull_failed(run, c, epoch, failure))
            return
        if c.image in images:
            self.world.record_event(
                stored,
                "Normal",
                "Pulled",
                f'Container image "{c.image}" already present on machine',
                "kubelet",
                run.node,
                path,
            )
            self._create(run, c, c.epoch)
            return
        self.world.record_event(stored, "Normal", "Pulling", f'Pulling image "{c.image}"', "kubelet", run.node, path)
        took = self.world.rng.uniform(1.5, 6.0)
        epoch = c.epoch

        def pulled() -> None:
            if not self._alive(run) or c.epoch != epoch:
                return
            images.add(c.image)
            size = self.world.rng.randint(80_000_000, 2_400_000_000)
            self.world.record_event(
                stored,
                "Normal",
                "Pulled",
                f'Successfully pulled image "{c.image}" in {took:.3f}s ({took:.3f}s including waiting). '
                f"Image size: {size} bytes.",
                "kubelet",
                run.node,
                path,
            )
            self._create(run, c, epoch)

        self.world.after(took, pulled)

    def _pull_failed(self, run: PodRun, c: ContainerRun, epoch: int, error: str) -> None:
        """The registry refused the image: ErrImagePull, then ImagePullBackOff until the next try."""
        if not self._alive(run) or c.epoch != epoch:
            return
        stored = self.world.store.get("pods", *run.key)
        if stored is None:
            return
        path = f"spec.containers{{{c.name}}}"
        c.pull_failures += 1
        c.state, c.reason, c.message = "waiting", "ErrImagePull", error
        for message in (f'Failed to pull image "{c.image}": {error}', "Error: ErrImagePull"):
            self.world.record_event(stored, "Warning", "Failed", message, "kubelet", run.node, path)
        self.mark(run)
        delay = min(IMAGE_BACKOFF_S * 2 ** (c.pull_failures - 1), MAX_BACKOFF_S)

        def back_off() -> None:
            if not self._alive(run) or c.epoch != epoch:
                return
            back_off_message = f'Back-off pulling image "{c.image}"'
            c.reason, c.message = "ImagePullBackOff", f"{back_off_message}: ErrImagePull: {error}"
            self.world.record_event(stored, "Normal", "BackOff", back_off_message, "kubelet", run.node, path)
            self.world.record_event(stored, "Warning", "Failed", "Error: ImagePullBackOff", "kubelet", run.node, path)
            self.mark(run)
            self.world.after(delay, lambda: self._retry_pull(run, c, epoch))

        self.world.after(1.0, back_off)

    def _retry_pull(self, run: PodRun, c: ContainerRun, epoch: int) -> None:
        if self._alive(run) and c.epoch == epoch:
            self._pull_then_start(run, c)

    def _create(self, run: PodRun, c: ContainerRun, epoch: int) -> None:
        if not self._alive(run) or c.epoch != epoch:
            return
        stored = self.world.store.get("pods", *run.key)
        if stored is None:
            return
        path = f"spec.containers{{{c.name}}}"
        self.world.record_event(stored, "Normal", "Created", f"Created container {c.name}", "kubelet", run.node, path)
        self.world.record_event(stored, "Normal", "Started", f"Started container {c.name}", "kubelet", run.node, path)
        self._start(run, c, at=self.world.now())

    def _start(self, run: PodRun, c: ContainerRun, at: float, quiet: bool = False) -> None:
        """The container process starts at ``at``: running, its start-up lines, its fate and readiness."""
        c.epoch += 1
        epoch = c.epoch
        c.state, c.reason, c.message = "running", "", ""
        c.started_at, c.finished_at, c.ready = at, None, False
        c.container_id = f"containerd://{self.world.rng.getrandbits(256):064x}"
        c.pull_failures = 0
        run.phase = "Running"
        fate = self.world.container_fate(run, c)
        if fate is None or not fate.replaces_startup:
            for line in workload(run.app).startup(self.world.log_context(run, at)):
                c.log.write(at, line)
        self.world.container_started(run, c, quiet)
        work = workload(run.app)
        now = self.world.now()
        if fate is not None:
            self.world.at(max(now, at + fate.after_s), lambda: self._exit(run, c, epoch, fate))
        ready_at = at + work.ready_after_s
        if fate is None or fate.after_s > work.ready_after_s:
            if ready_at <= now and not self.world.readiness_failure(run):
                c.ready = True  # started long ago: ready since then
            else:
                self.world.at(max(now, ready_at), lambda: self._become_ready(run, c, epoch))
        if work.periodic is not None:
            self.world.at(max(now, at + work.period_s), lambda: self._periodic(run, c, epoch))
        run.refresh_ready(ready_at if c.ready else at)
        self.mark(run)

    def refate(self, run: PodRun, c: ContainerRun) -> None:
        """Decide a running container's fate again (the world changed under it)."""
        fate = self.world.container_fate(run, c)
        if fate is None or c.state != "running":
            return
        epoch = c.epoch
        self.world.after(self.world.rng.uniform(0.5, 3.0), lambda: self._exit(run, c, epoch, fate))

    def _become_ready(self, run: PodRun, c: ContainerRun, epoch: int) -> None:
        self._probe(run, c, epoch)

    def wedge(self, run: PodRun) -> None:
        """The pod's app hangs: its readiness probe fails from now on."""
        run.wedged = True
        self.probe_soon(run)

    def probe_soon(self, run: PodRun) -> None:
        """Probe the readiness of the pod's running containers within a probe period (what they depend on
        changed)."""
        for c in run.containers:
            if c.state == "running":
                self._probe_after(run, c, self.world.rng.uniform(1.0, PROBE_PERIOD_S))

    def _probe_after(self, run: PodRun, c: ContainerRun, delay: float) -> None:
        epoch = c.epoch
        self.world.after(delay, lambda: self._probe(run, c, epoch))

    def _probe(self, run: PodRun, c: ContainerRun, epoch: int) -> None:
        """The readiness probe: ready when it passes; while it fails, not ready and probed every period, the
        app logging why. Passing probes are not simulated beyond the first."""
        if not self._alive(run) or c.epoch != epoch or c.state != "running":
            return
        failure = self.world.readiness_failure(run)
        if not failure:
            if not c.ready:
                c.ready = True
                run.refresh_ready(self.world.now())
                self.mark(run)
            return
        stored = self.world.store.get("pods", *run.key)
        if stored is None:
            return
        if c.ready:
            c.ready = False
            run.refresh_ready(self.world.now())
            self.mark(run)
        self.world.record_event(
            stored,
            "Warning",
            "Unhealthy",
            f"Readiness probe failed: {failure}",
            "kubelet",
            run.node,
            f"spec.containers{{{c.name}}}",
        )
        for line in self.world.wedged_lines(run):
            c.log.write(self.world.now(), line)
        self._probe_after(run, c, PROBE_PERIOD_S)

    def _periodic(self, run: PodRun, c: ContainerRun, epoch: int) -> None:
        if self.runs.get(run.key) is not run or c.epoch != epoch or c.state != "running" or run.node in self.stopped:
            return
        now = self.world.now()
        work = workload(run.app)
        if work.periodic is None:
            return
        if not run.wedged:
            for line in work.periodic(self.world.log_context(run, now)):
                c.log.write(now, line)
        self.world.after(work.period_s * self.world.rng.uniform(0.8, 1.2), lambda: self._periodic(run, c, epoch))

    def _exit(self, run: PodRun, c: ContainerRun, epoch: int, fate: Fate) -> None:
        if not self._alive(run) or c.epoch != epoch or c.state != "running":
            return
        now = self.world.now()
        for line in fate.lines(now):
            c.log.write(now, line)
        assert c.started_at is not None
        if now - c.started_at > BACKOFF_RESET_S:
            c.failures = 0
        c.failures += 1
        c.state, c.ready, c.finished_at, c.exit_code = "terminated", False, now, fate.exit_code
        c.reason, c.message = fate.reason, ""
        c.last_terminated = {
            "containerID": c.container_id,
            "exitCode": fate.exit_code,
            "reason": fate.reason,
            "startedAt": objects.rfc3339(c.started_at),
            "finishedAt": objects.rfc3339(now),
        }
        if fate.reason == "OOMKilled" and run.node:
            node = self.world.store.get("nodes", "", run.node)
            if node is not None:
                self.world.record_event(
                    node,
                    "Warning",
                    "SystemOOM",
                    f"System OOM encountered, victim process: python, pid: {self.world.rng.randint(2000, 60000)}",
                    "kubelet",
                    run.node,
                )
        run.refresh_ready(now)
        self.mark(run)
        delay = 0.0 if c.failures == 1 else min(10.0 * 2 ** (c.failures - 2), MAX_BACKOFF_S)
        if delay == 0.0:
            self.world.after(1.0, lambda: self._restart(run, c, epoch))
            return
        self.world.after(1.0, lambda: self._back_off(run, c, epoch, delay))

    def _back_off(self, run: PodRun, c: ContainerRun, epoch: int, delay: float) -> None:
        if not self._alive(run) or c.epoch != epoch:
            return
        stored = self.world.store.get("pods", *run.key)
        if stored is None:
            return
        c.state, c.reason = "waiting", "CrashLoopBackOff"
        c.message = (
            f"back-off {go_duration(delay)} restarting failed container={c.name} "
            f"pod={run.name}_{run.namespace}({run.uid})"
        )
        self.world.record_event(
            stored,
            "Warning",
            "BackOff",
            f"Back-off restarting failed container {c.name} in pod {run.name}_{run.namespace}({run.uid})",
            "kubelet",
            run.node,
            f"spec.containers{{{c.name}}}",
        )
        self.mark(run)
        self.world.after(delay - 1.0, lambda: self._restart(run, c, epoch))

    def _restart(self, run: PodRun, c: ContainerRun, epoch: int) -> None:
        if not self._alive(run) or c.epoch != epoch:
            return
        c.restart_count += 1
        c.previous_log, c.log = c.log, ContainerLog()
        self._pull_then_start(run, c)

    # --- deletion and eviction ------------------------------------------------------------------

    def delete(self, run: PodRun, grace: float) -> None:
        """Graceful deletion: Terminating for ``grace`` seconds, then gone (at once when 0 or unbound).

        On a node whose kubelet stopped, nothing confirms the deletion: the pod stays Terminating."""
        if run.deletion_at is not None and run.deletion_at <= self.world.now() + grace:
            return
        if grace <= 0 or run.node is None or run.phase in ("Failed", "Succeeded"):
            self.remove(run)
            return
        now = self.world.now()
        run.deletion_at = now + grace
        if run.node in self.stopped:
            self.mark(run)
            return
        stored = self.world.store.get("pods", *run.key)
        for c in run.containers:
            c.ready = False
            if c.state == "running" and stored is not None:
                self.world.record_event(
                    stored,
                    "Normal",
                    "Killing",
                    f"Stopping container {c.name}",
                    "kubelet",
                    run.node,
                    f"spec.containers{{{c.name}}}",
                )
        run.refresh_ready(now)
        self.mark(run)
        self.world.at(run.deletion_at, lambda: self.remove(run))

    def remove(self, run: PodRun) -> None:
        if self.runs.get(run.key) is not run:
            return
        del self.runs[run.key]
        self._by_app.get((run.namespace, run.app), {}).pop(run.name, None)
        self._by_namespace.get(run.namespace, {}).pop(run.name, None)
        self._release_gpus(run)
        self.world.scheduler.release(run)
        self.world.scheduler.capacity_changed = True
        self.version += 1
        self.world.store.delete("pods", *run.key)

    def evict(self, run: PodRun, message: str) -> None:
        """The kubelet evicts the pod: Failed/Evicted, its containers stopped, its resources freed."""
        now = self.world.now()
        stored = self.world.store.get("pods", *run.key)
        run.phase, run.reason, run.message = "Failed", "Evicted", message
        for c in run.containers:
            if c.state == "running":
                c.epoch += 1
                c.state, c.ready, c.reason, c.exit_code = "terminated", False, "Error", 137
                c.finished_at = now
        self._release_gpus(run)
        self.world.scheduler.release(run)
        run.refresh_ready(now)
        self.mark(run)
        if stored is not None:
            self.world.record_event(stored, "Warning", "Evicted", message, "kubelet", run.node)

    def _release_gpus(self, run: PodRun) -> None:
        for gpu in run.gpus:
            gpu.pod = gpu.namespace = gpu.container = None
        run.gpus = []

    # --- readings -------------------------------------------------------------------------------

    def memory_bytes(self, run: PodRun, c: ContainerRun, t: float) -> float:
        """Working-set memory of a running container: ramps up to the app's steady use in ~10 s."""
        if c.state != "running" or c.started_at is None:
            return 0.0
        steady = self.world.steady_memory_mib(run.app) * 2**20
        ramp = 0.3 + 0.7 * min(1.0, max(0.0, t - c.started_at) / 10.0)
        used = steady * ramp
        if c.memory_limit is not None:
            used = min(used, 0.995 * c.memory_limit)
        return used
