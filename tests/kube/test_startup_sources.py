"""How the runtime starts: the main screen's sources first, and the Triton poller's first round still asks before it
POSTs through the API server's proxy (or never POSTs, read-only)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from nimify_tui.kube.client import KubeClient
from nimify_tui.live.keys import TRITON
from nimify_tui.live.pollers import sources_loaded
from nimify_tui.live.runtime import Runtime, RuntimeOptions
from nimify_tui.live.store import SourceHealth, Store
from nimify_tui.sim.k8s.kubeconfig import write_kubeconfig
from nimify_tui.sim.server import SimThread
from nimify_tui.triton.poller import TritonView

from ..waiting import wait_for as wait

NAMESPACES = ("nimify-system", "triton-system")
HANG_GUARD_S = 30.0  # only so that a waiter that never returns fails instead of hanging the run
INDEX = "/v2/repository/index"
REVIEWS = "/selfsubjectaccessreviews"


def client_for(sim: SimThread, folder: Path, context: str = "sim-admin", *, readonly: bool = False) -> KubeClient:
    path = folder / f"kubeconfig-{context}"
    write_kubeconfig(sim, path)
    return KubeClient.from_kubeconfig(str(path), context, readonly=readonly)


def settle_and_stop(runtime: Runtime) -> None:
    """Stop once every poller has had its first round (stopped while it connects, httpx leaves a warning)."""
    try:
        wait(lambda: runtime.store.have_loaded(("probes", "metrics", "metrics-api")), "the pollers' first round")
    finally:
        runtime.stop()


def models_polled(runtime: Runtime) -> TritonView | None:
    view = runtime.store.value(TRITON)
    return view if isinstance(view, TritonView) and view.models else None


def test_first_poll_reviews_access_before_posting_the_index(healthy_sim: SimThread, tmp_path: Path) -> None:
    before = len(healthy_sim.request_log)
    options = RuntimeOptions(kinds=("pods",), namespaces=NAMESPACES, triton_interval=0.2)
    runtime = Runtime(client_for(healthy_sim, tmp_path), options)
    runtime.start()
    try:
        first = wait(lambda: models_polled(runtime), "the first Triton poll")
        # the next polls ask one request after the other: the same answers
        later = wait(lambda: (view := models_polled(runtime)) and view.checked_at > first.checked_at and view, "more")
    finally:
        settle_and_stop(runtime)
    posts = [r.path for r in healthy_sim.request_log[before:] if r.method == "POST"]
    reviews = [i for i, path in enumerate(posts) if path.endswith(REVIEWS)]
    indexes = [i for i, path in enumerate(posts) if path.endswith(INDEX)]
    assert reviews and indexes, posts
    assert reviews[0] < indexes[0], f"the index was POSTed before the access review: {posts}"
    for view in (first, later):
        assert any(model.state == "READY" for model in view.models), view.models
        assert view.servers and all(server.live and server.ready for server in view.servers), view.servers


def test_readonly_first_poll_posts_nothing(healthy_sim: SimThread, tmp_path: Path) -> None:
    before = len(healthy_sim.request_log)
    client = client_for(healthy_sim, tmp_path, readonly=True)
    runtime = Runtime(client, RuntimeOptions(kinds=("pods",), namespaces=NAMESPACES))
    runtime.start()
    try:
        view = wait(lambda: models_polled(runtime), "the first Triton poll")
    finally:
        settle_and_stop(runtime)
    sent = [f"{r.method} {r.path}" for r in healthy_sim.request_log[before:] if r.method != "GET"]
    assert sent == [] and client.sent_mutations == 0
    # the statistics list the loaded models, and each one's readiness GET says READY
    assert {(model.name, model.state) for model in view.models} == {
        ("nimify-model", "READY"),
        ("nimify-embedder", "READY"),
    }


def test_refused_review_means_no_index_post(healthy_sim: SimThread, tmp_path: Path) -> None:
    before = len(healthy_sim.request_log)
    runtime = Runtime(
        client_for(healthy_sim, tmp_path, "sim-readonly"), RuntimeOptions(kinds=("pods",), namespaces=NAMESPACES)
    )
    runtime.start()
    try:
        wait(lambda: models_polled(runtime), "the first Triton poll")
    finally:
        settle_and_stop(runtime)
    posts = [r.path for r in healthy_sim.request_log[before:] if r.method == "POST"]
    assert posts and all(path.endswith(REVIEWS) for path in posts), posts


FIRST = ("pods", "events", "nodes", "triton")


class NotingStore(Store):
    """Notes the state of every source when the first of the later sources starts (a poller's source appears, or
    an informer's has its first list)."""

    def __init__(self) -> None:
        super().__init__()
        self.when_later_started: dict[str, str] | None = None

    def set_health(self, source: str, health: SourceHealth) -> None:
        later = source.split("/")[0] not in FIRST
        if later and self.when_later_started is None and (health.state != "syncing" or "/" not in source):
            self.when_later_started = {name: h.state for name, h in self.health().items()}
        super().set_health(source, health)


def test_the_main_screen_sources_start_first(healthy_sim: SimThread, tmp_path: Path) -> None:
    options: dict[str, Any] = {"namespaces": NAMESPACES, "first_sources_wait_s": 60.0}
    runtime = Runtime(client_for(healthy_sim, tmp_path), RuntimeOptions(**options))
    store = runtime.store = NotingStore()
    runtime.start()
    try:
        wait(lambda: store.when_later_started, "the later sources to start")
        wait(lambda: store.health().get("deployments/nimify-system", SourceHealth("syncing")).state == "live", "")
        wait(lambda: "probes" in store.health(), "the probes")
    finally:
        settle_and_stop(runtime)
    states = store.when_later_started or {}
    first = {name: state for name, state in states.items() if name.split("/")[0] in FIRST}
    assert len(first) == 2 * len(NAMESPACES) + 2 and set(first.values()) == {"live"}, states
    later = {name: state for name, state in states.items() if name.split("/")[0] not in FIRST}
    assert later and set(later.values()) == {"syncing"}, "shown as loading until they start"


def test_the_main_namespaces_pods_are_listed_before_the_others(healthy_sim: SimThread, tmp_path: Path) -> None:
    """Lists taken at once share the API server and the interpreter and all complete at the end: the main
    namespace's pods (what the pods pane shows first) are listed alone, the other namespaces' after them."""
    client = client_for(healthy_sim, tmp_path)
    request = client.request
    main_list = f"/api/v1/namespaces/{NAMESPACES[0]}/pods"
    other_list = f"/api/v1/namespaces/{NAMESPACES[1]}/pods"
    main_answered: list[float] = []
    other_asked: list[float] = []

    def slow_main_list(method: str, path: str, *args: Any, **kwargs: Any) -> bytes:
        if path == other_list:
            other_asked.append(time.monotonic())
        if path != main_list or main_answered:
            return request(method, path, *args, **kwargs)
        time.sleep(0.5)  # the main namespace's first list takes half a second
        answer = request(method, path, *args, **kwargs)
        main_answered.append(time.monotonic())
        return answer

    client.request = slow_main_list  # type: ignore[method-assign]
    runtime = Runtime(client, RuntimeOptions(namespaces=NAMESPACES, kinds=("pods",), first_sources_wait_s=30.0))
    runtime.start()
    try:
        wait(lambda: runtime.store.have_loaded(("pods",)), "both namespaces' pods")
    finally:
        runtime.stop()
    assert main_answered and other_asked and other_asked[0] >= main_answered[0], "listed once the main list was in"


def test_loaded_means_every_source_of_each_kind_past_its_first_load() -> None:
    store = Store()
    assert not store.have_loaded(("pods",)), "no pods source yet: not loaded"
    for namespace in ("a", "b"):
        store.set_health(f"pods/{namespace}", SourceHealth("syncing"))
    store.set_health("pods/a", SourceHealth("live"))
    assert not store.have_loaded(("pods",))
    store.mark_stale("pods/b", "refused")  # failed counts as done: the poll says what it found
    assert store.have_loaded(("pods",))
    assert not store.have_loaded(("pods", "triton"))
    store.set_health("triton", SourceHealth("unavailable", error="no running triton-server pod"))
    assert store.have_loaded(("pods", "triton"))


class AskedStore(Store):
    """Counts how often a waiter asked whether the sources have loaded."""

    def __init__(self) -> None:
        super().__init__()
        self.asked = 0

    def have_loaded(self, prefixes: Sequence[str]) -> bool:
        self.asked += 1
        return super().have_loaded(prefixes)


def syncing_pods_store() -> AskedStore:
    store = AskedStore()
    store.set_health("pods/a", SourceHealth("syncing"))
    return store


async def asked_at_least(store: AskedStore, times: int) -> None:
    while store.asked < times:
        await asyncio.sleep(0.01)


async def test_sources_loaded_waits_until_the_sources_have_loaded() -> None:
    store = syncing_pods_store()
    waiting = asyncio.ensure_future(sources_loaded(store, ("pods",), 600.0))
    await asyncio.wait_for(asked_at_least(store, 3), HANG_GUARD_S)
    assert not waiting.done(), "it returned while the pods were still syncing"
    store.set_health("pods/a", SourceHealth("live"))
    await asyncio.wait_for(waiting, HANG_GUARD_S)


async def test_sources_loaded_gives_up_after_its_timeout() -> None:
    store = syncing_pods_store()
    started = time.monotonic()
    await asyncio.wait_for(sources_loaded(store, ("pods",), 0.3), HANG_GUARD_S)
    waited_s = time.monotonic() - started
    assert waited_s >= 0.3, f"it gave up after {waited_s:.3f} s, before its 0.3 s"
    assert store.asked > 1 and not store.have_loaded(("pods",))
