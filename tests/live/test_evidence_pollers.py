"""The evidence pollers on a Runtime against the simulator: previous logs of crashed containers (read once per
restart), claims' volume use from the kubelet summaries, and both when RBAC forbids them."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from nimify_tui.kube.client import KubeClient
from nimify_tui.kube.records import PodRecord
from nimify_tui.live.keys import LOG_SIGNATURES, POD_USAGE, PODS, PVC_USAGE
from nimify_tui.live.pollers import crashed_containers, log_signature_loop, metrics_api_loop, pvc_usage_loop
from nimify_tui.live.runtime import Runtime, RuntimeOptions
from nimify_tui.live.store import SourceHealth, Store
from nimify_tui.sim.k8s import auth
from nimify_tui.sim.k8s.kubeconfig import write_kubeconfig
from nimify_tui.sim.server import SimThread

from ..waiting import wait_for

NS = "nimify-system"
INTERVAL = 0.1
MODEL_STORAGE = (NS, "model-storage")


@contextmanager
def runtime_on(sim: SimThread, folder: Path) -> Iterator[Runtime]:
    write_kubeconfig(sim, folder / "kubeconfig")
    options = RuntimeOptions(
        namespaces=(NS,),
        kinds=("pods",),
        log_signature_interval=INTERVAL,
        pvc_usage_interval=INTERVAL,
    )
    runtime = Runtime(KubeClient.from_kubeconfig(str(folder / "kubeconfig"), "sim-admin"), options)
    runtime.start()
    try:
        yield runtime
    finally:
        runtime.stop()


def crash_looping(runtime: Runtime) -> dict[str, int]:
    """The nimify-api pods whose container restarted, with its restart count."""
    pods: list[PodRecord] = [p for p in runtime.store.items(PODS) if p.name.startswith("nimify-api-")]
    return {p.name: p.containers[0].restart_count for p in pods if p.containers and p.containers[0].restart_count}


def previous_log_reads(sim: SimThread) -> Counter[str]:
    """The previous-log requests the API server received, by pod."""
    reads: Counter[str] = Counter()
    for request in sim.request_log:
        if request.path.endswith("/log") and request.query.get("previous") == "true":
            assert request.query.get("tailLines") == "200" and request.query.get("container") == "nimify-api"
            reads[request.path.split("/")[-2]] += 1
    return reads


def polls_after(runtime: Runtime, source: str, count: int) -> None:
    """Wait until the source has finished ``count`` more polls."""

    def last_ok() -> float:
        return runtime.store.health()[source].last_ok or 0.0

    for _ in range(count):
        before = last_ok()
        wait_for(lambda before=before: last_ok() > before, f"a poll of {source}")


def test_crash_loop_signatures_are_read_once_per_restart(tmp_path: Path) -> None:
    # the clock stands still until the test moves it: no restart happens behind the test's back
    with SimThread(scenario="crashloop-oom", speed=0.0) as sim, runtime_on(sim, tmp_path) as runtime:

        def signatures_match_restarts() -> bool:
            signatures = runtime.store.value(LOG_SIGNATURES) or {}
            restarts = crash_looping(runtime)
            read = {pod: signatures.get((NS, pod, "nimify-api")) for pod in restarts}
            seen = {pod: signature.restart_count for pod, signature in read.items() if signature is not None}
            return bool(restarts) and seen == restarts

        wait_for(signatures_match_restarts, "a signature for every crash-looping pod")
        signatures = runtime.store.value(LOG_SIGNATURES) or {}
        assert {s.kinds for s in signatures.values()} == {("out-of-memory",)}
        line = next(iter(signatures.values())).matches[0].line
        assert "resident memory" in line and "container limit 1024 MiB" in line
        first = crash_looping(runtime)
        polls_after(runtime, LOG_SIGNATURES.name, 5)
        assert previous_log_reads(sim) == Counter(dict.fromkeys(first, 1)), "each restart read once"

        sim.call(lambda world: world.advance(400.0))  # past the back-off: every pod restarts again
        wait_for(lambda: all(crash_looping(runtime)[p] > first[p] for p in first), "the next restarts")
        wait_for(signatures_match_restarts, "the signatures of the new restarts")
        polls_after(runtime, LOG_SIGNATURES.name, 5)
        # a pod early in its back-off may restart more than once in 400 s, and the watch shows each restart: at
        # most one read per restart, and none for the polls that followed with the clock still
        now = crash_looping(runtime)
        reads = previous_log_reads(sim)
        assert set(reads) == set(first)
        assert all(2 <= reads[p] <= 1 + now[p] - first[p] for p in first), (reads, first, now)
        polls_after(runtime, LOG_SIGNATURES.name, 5)
        assert previous_log_reads(sim) == reads, "one read per restart, not one per poll"


def test_a_bad_rollout_names_the_missing_key(tmp_path: Path) -> None:
    with SimThread(scenario="bad-rollout", speed=0.0) as sim, runtime_on(sim, tmp_path) as runtime:
        signatures = wait_for(lambda: runtime.store.value(LOG_SIGNATURES), "the signatures")
        assert [(s.kinds, s.matches[0].detail) for s in signatures.values()] == [(("config-error",), "triton.grpc_url")]


def test_a_full_claim_is_full_and_its_pods_say_why(tmp_path: Path) -> None:
    with SimThread(scenario="storage-full", speed=0.0) as sim, runtime_on(sim, tmp_path) as runtime:
        usage = wait_for(lambda: (runtime.store.value(PVC_USAGE) or {}).get(MODEL_STORAGE), "the claim's use")
        assert usage.used_ratio is not None and usage.used_ratio >= 0.99 and usage.available_bytes == 0
        assert runtime.store.health()[PVC_USAGE.name].state == "live"
        signatures = wait_for(lambda: runtime.store.value(LOG_SIGNATURES), "the signatures")
        assert {s.kinds for s in signatures.values()} == {("disk-full",)}


def test_a_healthy_claim_and_no_crash(healthy_sim: SimThread, tmp_path: Path) -> None:
    with runtime_on(healthy_sim, tmp_path) as runtime:
        usage = wait_for(lambda: (runtime.store.value(PVC_USAGE) or {}).get(MODEL_STORAGE), "the claim's use")
        assert usage.used_ratio == 0.61
        polls_after(runtime, LOG_SIGNATURES.name, 2)
        assert runtime.store.value(LOG_SIGNATURES) == {}


@pytest.fixture
def no_kubelet_proxy_nor_logs(monkeypatch: pytest.MonkeyPatch) -> None:
    """The simulator's admin may not reach the kubelets (get nodes/proxy) nor read logs, as many roles may not."""
    allowed = auth.allowed

    def restricted(user: str, request: auth.Request) -> bool:
        if (request.resource, request.subresource) in (("nodes", "proxy"), ("pods", "log")):
            return False
        return allowed(user, request)

    monkeypatch.setattr(auth, "allowed", restricted)


@pytest.mark.usefixtures("no_kubelet_proxy_nor_logs")
def test_forbidden_evidence_is_unknown_with_the_reason(tmp_path: Path) -> None:
    with SimThread(scenario="storage-full", speed=0.0) as sim, runtime_on(sim, tmp_path) as runtime:
        health = wait_for(
            lambda: (found := runtime.store.health().get(PVC_USAGE.name)) and found.state == "unavailable" and found,
            "the volume source to be unavailable",
        )
        assert health.error is not None
        assert 'cannot get resource "nodes/proxy" in API group "" at the cluster scope' in health.error
        assert runtime.store.value(PVC_USAGE) is None
        crashed = wait_for(lambda: crash_looping(runtime), "the crash-looping pods")
        signatures = wait_for(
            lambda: (found := runtime.store.value(LOG_SIGNATURES)) and len(found) == len(crashed) and found,
            "an entry for every crash-looping pod",
        )
        for signature in signatures.values():
            assert signature.matches == () and signature.summary.startswith("unknown: GET /api/v1/namespaces/")
            assert 'cannot get resource "pods/log"' in signature.summary
        assert runtime.store.health()[LOG_SIGNATURES.name].state == "live", "a forbidden log is no failure"
        polls_after(runtime, LOG_SIGNATURES.name, 3)
        assert previous_log_reads(sim) == Counter(dict.fromkeys(crashed, 1)), "a refusal is not asked again"


def listed_pods(client: KubeClient) -> Store:
    """A store holding the namespace's pods as the simulator lists them now."""
    store = Store()
    items = client.get_json(f"/api/v1/namespaces/{NS}/pods")["items"]
    store.replace(PODS, NS, {(NS, raw["metadata"]["name"]): PodRecord.from_raw(raw) for raw in items})
    return store


async def polled(store: Store, loop: Coroutine[Any, Any, None], source: str, polls: int) -> None:
    """Run a poller until it has finished ``polls`` polls, then stop it."""
    task = asyncio.create_task(loop)
    seen: list[float] = []
    try:
        while len(seen) < polls:
            health = store.health().get(source)
            if health is not None and health.last_ok is not None and health.last_ok not in seen:
                seen.append(health.last_ok)
            await asyncio.sleep(0.01)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_a_few_logs_per_poll(tmp_path: Path) -> None:
    with SimThread(scenario="crashloop-oom", speed=0.0) as sim:
        write_kubeconfig(sim, tmp_path / "kubeconfig")
        client = KubeClient.from_kubeconfig(str(tmp_path / "kubeconfig"), "sim-admin")
        store = listed_pods(client)
        crashed = len(crashed_containers(store, (NS,)))
        assert crashed == 3
        await polled(store, log_signature_loop(store, client, (NS,), 3600.0, reads_per_poll=2), LOG_SIGNATURES.name, 1)
        assert sum(previous_log_reads(sim).values()) == 2, "the first poll reads two of the three"
        client.close()


async def test_a_few_kubelets_per_poll_each_in_turn(healthy_sim: SimThread, tmp_path: Path) -> None:
    write_kubeconfig(healthy_sim, tmp_path / "kubeconfig")
    client = KubeClient.from_kubeconfig(str(tmp_path / "kubeconfig"), "sim-admin")
    store = listed_pods(client)
    running = [p for p in store.items(PODS) if p.phase == "Running"]
    nodes = sorted({p.node for p in running if p.claims})
    # a pod that mounts no claim, running on a node no claimed pod runs on
    other = next(
        n["metadata"]["name"] for n in client.get_json("/api/v1/nodes")["items"] if n["metadata"]["name"] not in nodes
    )
    raw = client.get_json(f"/api/v1/namespaces/{NS}/pods")["items"][0]
    raw["metadata"]["name"], raw["spec"]["nodeName"], raw["spec"]["volumes"] = "no-claim", other, []
    store.upsert_many(PODS, [((NS, "no-claim"), PodRecord.from_raw(raw))])
    unclaimed = {p.node for p in store.items(PODS) if p.phase == "Running"} - set(nodes)
    assert len(nodes) >= 2 and unclaimed == {other}, (nodes, unclaimed)
    before = len(healthy_sim.request_log)
    polls = 2 * len(nodes)
    await polled(store, pvc_usage_loop(store, client, (NS,), 0.01, nodes_per_poll=1), PVC_USAGE.name, polls)
    asked = [r.path.split("/")[4] for r in healthy_sim.request_log[before:] if r.path.endswith("/stats/summary")]
    assert asked[: len(nodes)] == nodes, "one node per poll, each in turn"
    assert not unclaimed & set(asked), "a node running no pod that mounts a claim is not asked"
    client.close()


async def test_the_metrics_poll_waits_for_the_pod_lists(healthy_sim: SimThread, tmp_path: Path) -> None:
    """Reading every pod's usage while the pods are still being listed slows the list down: the first metrics poll
    waits until the pods informers have listed."""
    write_kubeconfig(healthy_sim, tmp_path / "kubeconfig")
    client = KubeClient.from_kubeconfig(str(tmp_path / "kubeconfig"), "sim-admin")
    store = listed_pods(client)
    store.set_health(f"pods/{NS}", SourceHealth("syncing"))
    before = len(healthy_sim.request_log)

    def metrics_asked() -> bool:
        return any("metrics.k8s.io" in r.path for r in healthy_sim.request_log[before:])

    task = asyncio.create_task(metrics_api_loop(store, client, (NS,), 0.05))
    try:
        await asyncio.sleep(0.5)  # ten intervals: no poll while the list is syncing (nothing to wait for here)
        assert not metrics_asked() and store.value(POD_USAGE) is None
        store.set_health(f"pods/{NS}", SourceHealth("live", last_ok=1.0))

        async def usage_stored() -> None:
            while store.value(POD_USAGE) is None:
                await asyncio.sleep(0.01)

        await asyncio.wait_for(usage_stored(), 10)
        assert metrics_asked()
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        client.close()
