"""The data layer against the simulator: informers, pollers, and what they do when the cluster misbehaves."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from nimify_tui.kube.client import KubeClient
from nimify_tui.kube.errors import KubeError
from nimify_tui.kube.records import DECODERS
from nimify_tui.live.informer import KINDS, Informer
from nimify_tui.live.keys import EVENTS, POD_USAGE, PODS, PROBES
from nimify_tui.live.runtime import Runtime, RuntimeOptions
from nimify_tui.live.store import Store
from nimify_tui.sim.k8s.kubeconfig import write_kubeconfig
from nimify_tui.sim.server import SimThread

from ..faulty_proxy import FaultyProxy, faulty_proxy, write_proxy_kubeconfig
from ..waiting import wait_for as wait

# Reconnects to wait for while the API server is gone: the informer's backoff doubles from 0.5 s, so after this
# many an uncapped one would wait 32 s before the next; the capped one (5 s) has long reached its cap.
OUTAGE_RECONNECTS = 7
FAST = dict(probe_interval=0.3, triton_interval=0.3, scrape_interval=0.3, metrics_api_interval=0.3)


def admin_client(sim: SimThread, folder: Path, context: str = "sim-admin") -> KubeClient:
    path = folder / "kubeconfig"
    write_kubeconfig(sim, path)
    return KubeClient.from_kubeconfig(str(path), context)


@pytest.fixture
def proxy(healthy_sim: SimThread) -> Iterator[FaultyProxy]:
    with faulty_proxy(healthy_sim.url) as running:
        yield running


def runtime_through(proxy: FaultyProxy, token: str, folder: Path, **options: Any) -> Runtime:
    path = write_proxy_kubeconfig(proxy, token, folder / "proxied")
    return Runtime(KubeClient.from_kubeconfig(str(path)), RuntimeOptions(**{**FAST, **options}))


def test_informer_follows_deletes_and_replacements(healthy_sim: SimThread, tmp_path: Path) -> None:
    client = admin_client(healthy_sim, tmp_path)
    store = Store()
    informer = Informer(client, KINDS["pods"], "nimify-system", store, DECODERS["pods"])
    informer.start()
    try:
        pods = wait(lambda: [p for p in store.items(PODS) if p.name.startswith("nimify-worker-")], "pods")
        victim = pods[0].name
        client.request("DELETE", f"/api/v1/namespaces/nimify-system/pods/{victim}", {"gracePeriodSeconds": 0})
        wait(lambda: store.get(PODS, ("nimify-system", victim)) is None, "the deleted pod to leave the store")
        wait(
            lambda: len([p for p in store.items(PODS) if p.name.startswith("nimify-worker-")]) == len(pods),
            "the ReplicaSet's replacement",
        )
        assert store.health()["pods/nimify-system"].state == "live"
    finally:
        informer.stop()


def test_expired_resource_version_relists(healthy_sim: SimThread, tmp_path: Path) -> None:
    client = admin_client(healthy_sim, tmp_path)
    store = Store()
    informer = Informer(client, KINDS["events"], "nimify-system", store, DECODERS["events"])
    informer.start()
    try:
        wait(lambda: informer.relists == 1 and store.items(EVENTS), "the first list")
        informer.resource_version = "1"  # far older than the server keeps
        for response in list(informer._live_response):  # end the current watch; the next one starts from "1"
            response.connection.sock.shutdown(2)
        wait(lambda: informer.relists >= 2, "a relist after the 410")
        wait(lambda: store.health()["events/nimify-system"].state == "live", "live again")
        assert int(informer.resource_version) > 1
    finally:
        informer.stop()


class FailureCountingStore(Store):
    """Counts the failures each source reported."""

    def __init__(self) -> None:
        super().__init__()
        self.failures: Counter[str] = Counter()

    def mark_stale(self, source: str, error: str) -> None:
        super().mark_stale(source, error)
        self.failures[source] += 1


def test_api_server_gone_then_back_marks_stale_and_recovers(
    healthy_sim: SimThread, proxy: FaultyProxy, tmp_path: Path
) -> None:
    runtime = runtime_through(proxy, healthy_sim.admin_token, tmp_path, kinds=("pods",), namespaces=("nimify-system",))
    store = runtime.store = FailureCountingStore()
    runtime.start()
    try:
        wait(lambda: runtime.store.items(PODS), "pods")
        proxy.go_away()
        # the first failure is the watch that broke, or a reconnect; from the second on, every one is a reconnect
        wait(lambda: store.failures["pods/nimify-system"] >= 2, "a reconnect while the API server is gone")
        stale = runtime.store.health()["pods/nimify-system"]
        assert stale.state == "stale"
        assert stale.error == (
            "GET /api/v1/namespaces/nimify-system/pods: "
            f"the API server at {proxy.url} refused the connection (is it up?)"
        )
        # while it is gone, the world changes: a pod is deleted behind the informer's back
        direct = admin_client(healthy_sim, tmp_path)
        victim = next(p.name for p in runtime.store.items(PODS) if p.name.startswith("nimify-worker-"))
        direct.request("DELETE", f"/api/v1/namespaces/nimify-system/pods/{victim}", {"gracePeriodSeconds": 0})
        assert runtime.store.get(PODS, ("nimify-system", victim)) is not None, "the stale copy is kept"
        wait(
            lambda: store.failures["pods/nimify-system"] >= OUTAGE_RECONNECTS,
            f"{OUTAGE_RECONNECTS} reconnects while the API server is gone",
            timeout_s=60,
        )
        assert runtime.store.health()["pods/nimify-system"].state == "stale"
        proxy.come_back()
        # the next reconnect comes within the capped backoff (5 s); uncapped, it would be 32 s away
        wait(lambda: runtime.store.health()["pods/nimify-system"].state == "live", "live again")
        wait(lambda: runtime.store.get(PODS, ("nimify-system", victim)) is None, "the missed delete", timeout_s=30)
    finally:
        runtime.stop()


def test_unauthorized_token_is_a_clear_stale_reason(proxy: FaultyProxy, tmp_path: Path) -> None:
    runtime = runtime_through(proxy, "not-a-valid-token", tmp_path, kinds=("pods",), namespaces=("nimify-system",))
    runtime.start()
    try:
        health = wait(
            lambda: runtime.store.health()["pods/nimify-system"].state == "stale" and runtime.store.health(),
            "stale",
        )
        error = health["pods/nimify-system"].error or ""
        assert "HTTP 401" in error and "not authenticated" in error
    finally:
        runtime.stop()


def test_forbidden_mutation_says_who_and_what(healthy_sim: SimThread, tmp_path: Path) -> None:
    client = admin_client(healthy_sim, tmp_path, context="sim-readonly")
    with pytest.raises(KubeError) as failure:
        client.request("DELETE", "/api/v1/namespaces/nimify-system/pods/does-not-matter")
    assert failure.value.status == 403
    assert "forbidden" in failure.value.message and "sim-readonly" in failure.value.message


def test_missing_metrics_api_is_reported_not_raised(healthy_sim: SimThread, proxy: FaultyProxy, tmp_path: Path) -> None:
    proxy.missing_prefixes.append("/apis/metrics.k8s.io")
    runtime = runtime_through(proxy, healthy_sim.admin_token, tmp_path, kinds=("pods",))
    runtime.start()
    try:
        health = wait(
            lambda: (
                runtime.store.health().get("metrics-api")
                and runtime.store.health()["metrics-api"].state == "unavailable"
                and runtime.store.health()
            ),
            "metrics API unavailable",
        )
        assert health["metrics-api"].error == "metrics not available (metrics.k8s.io is not served: no metrics-server?)"
        assert runtime.store.value(POD_USAGE) is None
    finally:
        runtime.stop()


def test_garbage_json_marks_the_source_stale(healthy_sim: SimThread, proxy: FaultyProxy, tmp_path: Path) -> None:
    proxy.garbage_prefixes.append("/api/v1/namespaces/nimify-system/events")
    runtime = runtime_through(
        proxy, healthy_sim.admin_token, tmp_path, kinds=("events", "pods"), namespaces=("nimify-system",)
    )
    runtime.start()
    try:
        wait(lambda: runtime.store.items(PODS), "pods still load")
        health = wait(
            lambda: runtime.store.health()["events/nimify-system"].state == "stale" and runtime.store.health(),
            "events stale",
        )
        assert health["events/nimify-system"].error == (
            "/api/v1/namespaces/nimify-system/events: the API server sent data that is not JSON "
            r"('<html>\x00\x1b[2J not json')"  # the answer's first bytes, with their control characters escaped
        )
    finally:
        runtime.stop()


def test_unreachable_triton_and_prometheus_are_red_with_reasons(healthy_sim: SimThread, tmp_path: Path) -> None:
    client = admin_client(healthy_sim, tmp_path)
    dead = "http://127.0.0.1:9"  # discard port: nothing listens
    runtime = Runtime(client, RuntimeOptions(**FAST, kinds=("pods",), triton_url=dead, prometheus_url=dead))
    runtime.start()
    try:
        probes = wait(lambda: {p.name: p for p in runtime.store.value(PROBES) or []}, "probes")
        for name in ("triton live", "triton ready", "prometheus"):
            assert not probes[name].ok and probes[name].status == 0
            assert "Connect" in probes[name].error
        assert probes["api /health"].ok, "nimify-api through the proxy is fine"
        triton = wait(
            lambda: (health := runtime.store.health().get("triton")) and health.state == "stale" and health, "stale"
        )
        assert triton.error == f"cannot reach Triton at {dead}: All connection attempts failed"
    finally:
        runtime.stop()
