"""Lists in pages (``limit`` and ``continue``): the simulator serves them as the API server does, and an informer
that lists in pages ends with exactly the server's state, its first page shown before the rest."""

from __future__ import annotations

import gc
import itertools
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from nimify_tui.kube.errors import KubeError
from nimify_tui.kube.records import DECODERS
from nimify_tui.live.informer import KINDS, CollectorPause, Informer, ListTurns
from nimify_tui.live.keys import PODS
from nimify_tui.live.store import Store
from nimify_tui.sim.faults import FaultPlan, parse_faults
from nimify_tui.sim.server import SimThread

from ..waiting import wait_for
from .test_faults_informers import STORM_NAMESPACE, admin_client, assert_store_is_the_server, bare_pod

PATH = f"/api/v1/namespaces/{STORM_NAMESPACE}/pods"


@pytest.fixture(scope="module")
def sim() -> Iterator[SimThread]:
    with SimThread(scenario="healthy", pods=120) as running:
        yield running


def keys_and_versions(items: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    return [(p["metadata"]["namespace"], p["metadata"]["name"], p["metadata"]["resourceVersion"]) for p in items]


def test_the_pages_are_exactly_the_whole_list(sim: SimThread, tmp_path: Path) -> None:
    client = admin_client(sim, tmp_path)
    for path in (PATH, "/api/v1/pods"):
        whole = client.get_json(path)
        assert "continue" not in whole["metadata"]
        paged: list[dict[str, Any]] = []
        token, pages, remaining = "", 0, []
        while True:
            query: dict[str, Any] = {"limit": 7} | ({"continue": token} if token else {})
            body = client.get_json(path, query)
            assert len(body["items"]) <= 7
            assert body["metadata"]["resourceVersion"] == whole["metadata"]["resourceVersion"], "the first page's"
            paged += body["items"]
            pages += 1
            token = body["metadata"].get("continue", "")
            if not token:
                break
            remaining.append(body["metadata"]["remainingItemCount"])
        assert keys_and_versions(paged) == keys_and_versions(whole["items"])
        assert pages == -(-len(whole["items"]) // 7) > 10
        assert remaining == sorted(remaining, reverse=True) and remaining[-1] == len(whole["items"]) - 7 * (pages - 1)


def test_a_bad_or_expired_continue_token_is_refused(sim: SimThread, tmp_path: Path) -> None:
    client = admin_client(sim, tmp_path)
    with pytest.raises(KubeError) as bad:
        client.get_json(PATH, {"limit": 5, "continue": "not a token"})
    assert bad.value.status == 400
    token = client.get_json(PATH, {"limit": 5})["metadata"]["continue"]
    client.send_json("POST", PATH, bare_pod("after-the-first-page"))
    sim.call(lambda world: world.store.compact())
    with pytest.raises(KubeError) as expired:
        client.get_json(PATH, {"limit": 5, "continue": token})
    assert expired.value.status == 410
    client.request("DELETE", f"{PATH}/after-the-first-page", {"gracePeriodSeconds": 0})


def test_an_informer_listing_in_pages_through_a_storm_ends_with_the_servers_pods(
    sim: SimThread, tmp_path: Path
) -> None:
    client = admin_client(sim, tmp_path)
    store = Store()
    informer = Informer(client, KINDS["pods"], STORM_NAMESPACE, store, DECODERS["pods"], watch_idle_s=2.0)
    informer.LIST_PAGE = 9  # many pages, each read while the storm changes what is left to list
    stopping = threading.Event()
    alive: list[str] = []

    def storm() -> None:
        for n in itertools.count():
            if stopping.is_set():
                return
            name = f"paged-storm-{n}"
            client.send_json("POST", PATH, bare_pod(name))
            alive.append(name)
            if n % 3 != 2:  # two of three are deleted again
                victim = alive.pop(0 if n % 2 else -1)
                client.request("DELETE", f"{PATH}/{victim}", {"gracePeriodSeconds": 0})

    storming = threading.Thread(target=storm, daemon=True)
    storming.start()
    informer.start()
    try:
        sim.set_faults(parse_faults("watch-410=1s"))  # each 410 lists again, in pages, during the storm
        wait_for(lambda: informer.relists >= 3, "three lists during the storm", timeout_s=60)
        stopping.set()
        storming.join(10)
        sim.set_faults(FaultPlan())
        assert_store_is_the_server(client, store, informer)
        assert {p.name for p in store.items(PODS) if p.name.startswith("paged-storm-")} == set(alive)
    finally:
        stopping.set()
        informer.stop()
        informer.join(5)


def test_the_first_list_shows_its_first_page_before_the_rest(sim: SimThread, tmp_path: Path) -> None:
    client = admin_client(sim, tmp_path)
    store = Store()
    seen: list[int] = []
    replace = store.replace

    def counted_replace(*args: Any) -> None:
        seen.append(len(store.items(PODS)))  # what the store held before the whole list replaced it
        replace(*args)

    store.replace = counted_replace  # type: ignore[method-assign]
    informer = Informer(client, KINDS["pods"], STORM_NAMESPACE, store, DECODERS["pods"])
    informer.LIST_PAGE = 10
    informer.start()
    try:
        wait_for(lambda: informer.relists >= 1, "the first list")
        listed = client.get_json(PATH)["items"]
        assert len(listed) > 10
        assert seen[0] == 10, "the first page was in the store before the rest of the list"
        assert {p.name for p in store.items(PODS)} == {p["metadata"]["name"] for p in listed}
    finally:
        informer.stop()
        informer.join(5)


def test_the_list_that_started_first_decodes_first() -> None:
    turns = ListTurns()
    tickets = [turns.ticket() for _ in range(4)]  # the first list holds the decoder while the others queue
    order: list[int] = []
    queued = threading.Barrier(4)

    def decode(ticket: int) -> None:
        queued.wait()
        with turns.turn(ticket):
            order.append(ticket)

    with turns.turn(tickets[0]):
        waiters = [threading.Thread(target=decode, args=(t,)) for t in (tickets[3], tickets[1], tickets[2])]
        for waiter in waiters:
            waiter.start()
        queued.wait()
        wait_for(lambda: len(turns._waiting) == 3, "the three later lists waiting")
    for waiter in waiters:
        waiter.join(5)
    assert order == tickets[1:], "the earliest list first, whatever order they came in"


def test_informers_take_their_places_in_the_order_they_are_started(
    sim: SimThread, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The runtime starts the main namespace's informer first: its list goes first whichever thread runs first."""
    monkeypatch.setattr(Informer, "_run", lambda self: None)  # the threads do nothing: only the places are looked at
    client = admin_client(sim, tmp_path)
    informers = [Informer(client, KINDS["pods"], ns, Store(), DECODERS["pods"]) for ns in ("c", "a", "b")]
    for informer in informers:
        informer.start()
    places = [informer._first_place for informer in informers]
    assert None not in places and places == sorted(places)  # type: ignore[type-var]


def test_an_informer_stopped_between_two_pages_keeps_what_it_had(sim: SimThread, tmp_path: Path) -> None:
    client = admin_client(sim, tmp_path)
    store = Store()
    informer = Informer(client, KINDS["pods"], STORM_NAMESPACE, store, DECODERS["pods"])
    informer.LIST_PAGE = 10
    pages = 0
    request = client.request

    def stop_after_two_pages(*args: Any, **kwargs: Any) -> bytes:
        nonlocal pages
        pages += 1
        if pages == 2:
            informer.stop()
        return request(*args, **kwargs)

    client.request = stop_after_two_pages  # type: ignore[method-assign]
    informer._list()
    assert pages == 2 and informer.relists == 0
    assert len(store.items(PODS)) == 10, "the first page shown; the partial list replaced nothing"


def test_the_collector_is_off_while_lists_are_decoded_and_as_it_was_after() -> None:
    was = gc.isenabled()
    try:
        pause = CollectorPause()
        gc.enable()
        with pause.listing():
            assert not gc.isenabled()
            with pause.listing():  # a second list in progress at once
                assert not gc.isenabled()
            assert not gc.isenabled(), "on again only when the last list ends"
        assert gc.isenabled()
        gc.disable()  # turned off by the launcher for the start: the lists leave it off
        with pause.listing():
            assert not gc.isenabled()
        assert not gc.isenabled()
        gc.enable()
        with pause.listing():
            gc.enable()  # turned on meanwhile (the main screen once its first data is in): left on
        assert gc.isenabled()
    finally:
        (gc.enable if was else gc.disable)()
