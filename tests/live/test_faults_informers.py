"""The informers against the simulator's injected faults: exact after 410s and dropped watches, quiet under 429s and
500s, stale while the API server is down and live again once it is back."""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest

from nimify_tui.kube.client import KubeClient, interrupt_stream
from nimify_tui.kube.records import DECODERS
from nimify_tui.live.informer import KINDS, ApiServerReach, Informer
from nimify_tui.live.keys import PODS
from nimify_tui.live.store import Store
from nimify_tui.sim.faults import FaultPlan, parse_faults
from nimify_tui.sim.k8s.api import RequestRecord
from nimify_tui.sim.k8s.kubeconfig import write_kubeconfig
from nimify_tui.sim.server import SimThread

from ..waiting import wait_for

NAMESPACES = ("nimify-system", "triton-system")
STORM_NAMESPACE = "nimify-system"


def admin_client(sim: SimThread, folder: Path) -> KubeClient:
    path = write_kubeconfig(sim, folder / "kubeconfig")
    return KubeClient.from_kubeconfig(str(path), "sim-admin")


@pytest.fixture
def sim() -> Iterator[SimThread]:
    with SimThread(scenario="healthy") as running:
        yield running


def start_informers(client: KubeClient, store: Store, kinds: tuple[str, ...], **options: float) -> list[Informer]:
    reach = ApiServerReach()
    informers = [
        Informer(client, KINDS[kind], namespace, store, DECODERS[kind], reach=reach, **options)  # type: ignore[arg-type]
        for kind in kinds
        for namespace in NAMESPACES
    ]
    for informer in informers:
        informer.start()
    wait_for(lambda: all(informer.relists for informer in informers), "the first lists")
    return informers


def stop(informers: list[Informer]) -> None:
    for informer in informers:
        informer.stop()
    for informer in informers:
        informer.join(5)


def server_pods(client: KubeClient, namespace: str) -> tuple[int, dict[tuple[str, str], str]]:
    """The server's pods of ``namespace`` (key -> resourceVersion) and the list's resourceVersion."""
    body = client.get_json(f"/api/v1/namespaces/{namespace}/pods")
    pods = {
        (p["metadata"]["namespace"], p["metadata"]["name"]): p["metadata"]["resourceVersion"] for p in body["items"]
    }
    return int(body["metadata"]["resourceVersion"]), pods


def store_pods(store: Store, namespace: str) -> dict[tuple[str, str], str]:
    return {(p.namespace, p.name): p.resource_version for p in store.items(PODS) if p.namespace == namespace}


def assert_store_is_the_server(client: KubeClient, store: Store, informer: Informer) -> None:
    """The store's pods are exactly the server's, each at the server's resourceVersion.

    Compared at a moment both sides agree on: the informer has caught up with one list, and a second list shows
    that no pod changed since, while the informer has not gone past the second list either.
    """
    for _ in range(50):
        first_rv, first = server_pods(client, STORM_NAMESPACE)
        wait_for(
            lambda rv=first_rv: int(informer.resource_version or 0) >= rv, "the informer to catch up with the list"
        )
        seen_before = int(informer.resource_version)
        held = store_pods(store, STORM_NAMESPACE)
        seen_after = int(informer.resource_version)
        second_rv, second = server_pods(client, STORM_NAMESPACE)
        if first == second and seen_before >= first_rv and seen_after <= second_rv:
            ghosts = sorted(set(held) - set(first))
            missed = sorted(set(first) - set(held))
            assert not ghosts, f"pods the server no longer has: {ghosts}"
            assert not missed, f"pods the server has that the store lacks: {missed}"
            behind = sorted(key for key in first if held[key] != first[key])
            assert not behind, f"pods at another resourceVersion than the server's: {behind}"
            return
    raise AssertionError("the server's pods never held still long enough to compare")


def bare_pod(name: str) -> dict[str, object]:
    return {
        "metadata": {"name": name, "labels": {"storm": "yes"}},
        "spec": {"containers": [{"name": "c", "image": "busybox"}]},
    }


def test_after_410s_and_dropped_watches_the_store_is_exactly_the_servers(sim: SimThread, tmp_path: Path) -> None:
    client = admin_client(sim, tmp_path)
    store = Store()
    informers = start_informers(client, store, ("pods",), watch_idle_s=2.0)
    pods_informer = next(i for i in informers if i.namespace == STORM_NAMESPACE)
    try:
        sim.set_faults(parse_faults("watch-410=1s,watch-drop=0.05,watch-end=3s"))
        path = f"/api/v1/namespaces/{STORM_NAMESPACE}/pods"
        alive: list[str] = []
        for n in itertools.count():  # a storm of creates and deletes until each fault has hit the informer
            name = f"storm-{n}"
            client.send_json("POST", path, bare_pod(name))
            alive.append(name)
            if n % 3 != 2:  # two of three are deleted again, some at once, some later
                victim = alive.pop(0 if n % 2 else -1)
                client.request("DELETE", f"{path}/{victim}", {"gracePeriodSeconds": 0})
            if pods_informer.relists >= 3 and pods_informer.silent_watches >= 1:
                break
            assert n < 5000, (pods_informer.relists, pods_informer.silent_watches)
        sim.set_faults(FaultPlan())
        assert_store_is_the_server(client, store, pods_informer)
        assert {p.name for p in store.items(PODS) if p.name.startswith("storm-")} == set(alive)
    finally:
        stop(informers)


def requests_by_path(log: list[RequestRecord], start: float, end: float, statuses: set[int]) -> dict[str, int]:
    """How many requests each informer path sent between ``start`` and ``end`` that were answered ``statuses``."""
    counts: dict[str, int] = defaultdict(int)
    for record in log:
        if start <= record.at <= end and record.status in statuses and "/proxy" not in record.path:
            counts[record.path] += 1
    return counts


def refuse_for_a_while(sim: SimThread, store: Store, informers: list[Informer], spec: str, each: int) -> float:
    """Put ``spec`` in force, cut the open watches so that every informer has to ask again, and wait until the
    server refused ``each`` requests of every informer and every informer's source is stale; then lift it. Returns
    how long it was in force (the server's own clock)."""
    log = sim.request_log
    sim.set_faults(parse_faults(spec))
    start = log[-1].at if log else 0.0
    for informer in informers:
        for response in list(informer._live_response):
            interrupt_stream(response)
    paths = {informer.kind.path(informer.namespace) for informer in informers}

    def refused_enough() -> bool:
        counts = requests_by_path(list(log), start, float("inf"), {429, 500})
        return all(counts.get(path, 0) >= each for path in paths)

    wait_for(refused_enough, f"{each} refusals of every informer", timeout_s=60)
    for informer in informers:
        wait_for(lambda informer=informer: store.health()[informer.source].state == "stale", "each source stale")
    sim.set_faults(FaultPlan())
    end = max(r.at for r in list(log))
    return end - start


def test_429_is_honoured_with_its_retry_after(sim: SimThread, tmp_path: Path) -> None:
    client = admin_client(sim, tmp_path)
    store = Store()
    informers = start_informers(client, store, ("pods",))
    try:
        log = sim.request_log
        before = len(log)
        start = log[-1].at
        window = refuse_for_a_while(sim, store, informers, "429=1:retry-after=2", each=3)
        counts = requests_by_path(log[before:], start, start + window, {429})
        allowed = window / 2.0 + 1  # one request each Retry-After, at most
        assert counts, "the informers were refused"
        assert max(counts.values()) <= allowed, (counts, window)
        assert sum(counts.values()) <= len(informers) * allowed, (counts, window)
        for informer in informers:
            wait_for(lambda informer=informer: store.health()[informer.source].state == "live", "live again")
    finally:
        stop(informers)


def test_500s_back_off_exponentially_with_a_cap(sim: SimThread, tmp_path: Path) -> None:
    client = admin_client(sim, tmp_path)
    store = Store()
    informers = start_informers(client, store, ("pods",))
    try:
        log = sim.request_log
        before = len(log)
        start = log[-1].at
        window = refuse_for_a_while(sim, store, informers, "500=1", each=5)
        counts = requests_by_path(log[before:], start, start + window, {500})
        # waits of 0.5, 1, 2, 4, 8, 10, 10... s (each give or take a fifth): this many fit in the window at most
        waits = [min(0.4 * 2**k, Informer.MAX_ERROR_BACKOFF * 0.8) for k in range(64)]
        fit = next(k for k in range(64) if sum(waits[:k]) > window) + 1
        assert counts and max(counts.values()) <= fit, (counts, window)
        for informer in informers:
            wait_for(lambda informer=informer: store.health()[informer.source].state == "live", "live again")
    finally:
        stop(informers)


def test_api_down_marks_every_source_stale_then_all_recover(sim: SimThread, tmp_path: Path) -> None:
    client = admin_client(sim, tmp_path)
    store = Store()
    informers = start_informers(client, store, ("pods", "events"))
    reach = informers[0].reach
    try:
        sim.set_faults(parse_faults("api-down=4s"))
        wait_for(lambda: not sim.server.listening, "the API server to go")
        for informer in informers:
            wait_for(lambda informer=informer: store.health()[informer.source].state == "stale", "stale")
        problem = reach.problem()
        assert problem is not None
        assert "refused the connection" in problem[0] or "connection to" in problem[0], problem
        held = store_pods(store, "nimify-system")
        assert held, "the data is kept while stale"
        wait_for(lambda: sim.server.listening, "the API server to come back")
        for informer in informers:
            wait_for(lambda informer=informer: store.health()[informer.source].state == "live", "live again")
        assert reach.problem() is None
    finally:
        stop(informers)


def test_a_silent_watch_is_given_up_after_three_times_the_servers_quiet_and_resumed(
    sim: SimThread, tmp_path: Path
) -> None:
    client = admin_client(sim, tmp_path)
    store = Store()
    informers = start_informers(client, store, ("pods",))  # the default silence limit: 90 s until quiet is seen
    pods_informer = next(i for i in informers if i.namespace == STORM_NAMESPACE)
    try:
        assert pods_informer.silence_limit() == Informer.WATCH_IDLE_SECONDS
        # the simulator sends a bookmark each second: the limit comes down to its floor
        wait_for(lambda: pods_informer.silence_limit() == Informer.MIN_WATCH_IDLE_SECONDS, "the quiet learned")
        for response in list(pods_informer._live_response):  # a watch keeps the limit it started with: a new one
            interrupt_stream(response)
        wait_for(lambda: pods_informer.watches_started >= 2, "the next watch")
        sim.set_faults(parse_faults("watch-drop=1"))  # the next event silences the watch
        client.send_json("POST", f"/api/v1/namespaces/{STORM_NAMESPACE}/pods", bare_pod("after-silence"))
        wait_for(lambda: sim.server.faults.silenced >= 1, "the watch to go silent")
        sim.set_faults(FaultPlan())  # the silenced watch stays silent; the next one will not be
        assert store.get(PODS, (STORM_NAMESPACE, "after-silence")) is None, "the event was lost with the watch"
        wait_for(lambda: pods_informer.silent_watches >= 1, "the silent watch to be given up")
        wait_for(lambda: store.get(PODS, (STORM_NAMESPACE, "after-silence")), "the pod, from the resumed watch")
        assert pods_informer.relists == 1, "resumed from its resourceVersion, not relisted"
    finally:
        stop(informers)
