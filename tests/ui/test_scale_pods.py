"""The pods pane over many pods in many namespaces: the kept rows are exactly pod_rows' rows (order, faulty first,
filter), made again only when a pod or the time shown changed; in the app, ``:ns all`` and the filter."""

from __future__ import annotations

import dataclasses
import random
import re
from collections.abc import Callable, Mapping
from dataclasses import replace

import pytest
from textual.app import App, ComposeResult

from nimify_tui.gpu.records import GpuRecord
from nimify_tui.kube.metrics_api import Usage
from nimify_tui.kube.records import DECODERS, PodRecord
from nimify_tui.live.keys import POD_USAGE, PODS
from nimify_tui.live.store import SourceHealth, Store
from nimify_tui.render.pods import compile_filter, pod_columns, pod_rows, usage_cells, usage_widths
from nimify_tui.sim.scenarios import build_world
from nimify_tui.sim.server import SimThread
from nimify_tui.text import literal
from nimify_tui.ui.app import NimifyApp
from nimify_tui.ui.panes.pod_row_cache import BULK_CHANGES, EXPIRY_SLACK, PodRowCache, text_valid_until
from nimify_tui.ui.panes.pods import PodsPane
from nimify_tui.ui.widgets.record_table import LateCells, RecordTable

from .conftest import until

SPREAD = "nimify-system,triton-system,monitoring,ingress-nginx"  # the namespaces the app watches


@pytest.fixture(scope="module")
def crashing_pods() -> tuple[list[PodRecord], float]:
    """The crash loop's pods and 400 load pods spread over the watched namespaces, decoded as the app does."""
    world = build_world("crashloop-oom", pods=400, namespaces=tuple(SPREAD.split(",")))
    decode = DECODERS["pods"]
    return [decode(pod) for pod in world.store.list("pods")], world.now()


@pytest.mark.parametrize("namespace", [None, "nimify-system", "monitoring"])
@pytest.mark.parametrize(
    ("text", "faulty_only"),
    [
        ("", False),
        ("load-gen-2", False),  # a literal word: found as a substring of the lowered text
        ("LOAD-gen-3", False),
        ("crashloop", True),
        ("!load-gen", False),
        ("", True),
        ("(", False),
        ("load-gen-[25]", False),
    ],
)
def test_kept_rows_are_pod_rows_rows(
    crashing_pods: tuple[list[PodRecord], float], namespace: str | None, text: str, faulty_only: bool
) -> None:
    pods, now = crashing_pods
    pattern, inverted, _ = compile_filter(text)
    cache = PodRowCache(namespace)
    for at in (now, now + 1.0, now + 700.0, now + 4 * 3600.0):
        options = {"pattern": pattern, "inverted": inverted, "faulty_only": faulty_only}
        expected = pod_rows(pods, at, namespace=namespace, gpus_by_pod={}, usage_late=True, **options)
        assert cache.rows(pods, at, gpus_by_pod={}, **options) == expected
    assert any(row.style for row in pod_rows(pods, now, namespace="nimify-system")), "the crash loop is faulty"


def test_rows_are_made_again_only_for_what_changed(crashing_pods: tuple[list[PodRecord], float]) -> None:
    pods, now = crashing_pods
    cache = PodRowCache(None)
    first = cache.rows(pods, now, gpus_by_pod={})
    assert cache.remade == len(pods)
    again = cache.rows(pods, now + 0.2, gpus_by_pod={})
    # the volatile rows are made again and may cross a second ("10s ago" -> "11s ago"): compare at that time
    assert again == pod_rows(pods, now + 0.2, namespace=None, usage_late=True)
    assert [row.key for row in again] == [row.key for row in first]
    volatile = sum(1 for pod in pods if pod.status == "Terminating" or pod.last_restart_at is not None)
    assert cache.remade <= volatile, "only the pods whose faultiness follows the clock"
    # one pod restarted: its row changes and moves up among the faulty ones
    index = next(i for i, pod in enumerate(pods) if pod.name.startswith("load-gen-3-"))
    restarted = replace(pods[index], restarts=1, last_restart_at=now, ready=0, status="CrashLoopBackOff")
    changed = [*pods[:index], restarted, *pods[index + 1 :]]
    rows = cache.rows(changed, now + 0.4, gpus_by_pod={})
    assert rows == pod_rows(changed, now + 0.4, namespace=None, usage_late=True)
    assert cache.remade <= volatile + 1
    assert rows.index(next(r for r in rows if r.key.endswith(restarted.name))) < rows.index(
        next(r for r in rows if r.key.startswith("nimify-system/load-gen-"))
    ), "faulty first"
    # a pod gone
    fewer = [pod for pod in changed if pod is not restarted]
    assert cache.rows(fewer, now + 0.6, gpus_by_pod={}) == pod_rows(fewer, now + 0.6, namespace=None, usage_late=True)


@pytest.mark.parametrize(
    ("elapsed", "next_change"),
    [
        (5.0, 6.0),
        (599.5, 600.0),
        (600.0, 660.0),
        (7000.0, 7020.0),
        (8 * 3600.0 + 1, 9 * 3600.0),
        (9 * 86400.0, 10 * 86400.0),
    ],
)
def test_a_duration_text_is_kept_until_its_next_whole_unit(elapsed: float, next_change: float) -> None:
    from nimify_tui.kube.duration import human_duration

    since, now = 1000.0, 1000.0 + elapsed
    until_t = text_valid_until(since, now)
    assert until_t == since + next_change
    assert human_duration(until_t - 1e-6 - since) == human_duration(elapsed)


async def test_all_namespaces_sorts_faulty_first_and_filters_over_every_namespace(
    sim_factory: Callable[..., SimThread], app_factory: Callable[..., NimifyApp]
) -> None:
    sim = sim_factory(scenario="crashloop-oom", pods=600, namespaces=SPREAD)
    app = app_factory(sim)
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.press("colon", *"ns all", "enter")
        table = app.screen.query_one("#pods-table", RecordTable)
        listed = sim.call(
            lambda world: {
                f"{p['metadata']['namespace']}/{p['metadata']['name']}"
                for ns in SPREAD.split(",")
                for p in world.store.list("pods", ns)
            }
        )
        await until(pilot, lambda: table.row_count >= len(listed), "every watched namespace's pods")
        keys = [table.row_at(i).key for i in range(table.row_count)]
        assert set(keys) == listed
        faulty = [table.row_at(i).style != "" for i in range(table.row_count)]
        assert any(faulty) and faulty == sorted(faulty, reverse=True), "the faulty pods first"
        first_healthy = faulty.index(False)
        assert keys[first_healthy:] == sorted(keys[first_healthy:]), "then by namespace and name"
        assert keys[:first_healthy] == sorted(keys[:first_healthy])
        assert {key.split("/")[0] for key in keys} == set(SPREAD.split(","))
        title = str(app.screen.query_one(PodsPane).border_title)
        assert f"Pods · all namespaces · {len(keys)}, {first_healthy} faulty" in title, title
        await pilot.press("slash", *"load-gen-[25]-")
        wanted = {key for key in listed if re.search("load-gen-[25]-", key)}
        assert wanted and len(wanted) < len(listed)
        await until(pilot, lambda: {table.row_at(i).key for i in range(table.row_count)} == wanted, "the filter")
        await pilot.press("escape", "escape")  # the prompt closes, then the filter is cleared
        await until(pilot, lambda: table.row_count == len(listed), "the filter cleared")


def test_with_the_store_unchanged_only_expired_and_volatile_rows_are_made_again(
    crashing_pods: tuple[list[PodRecord], float],
) -> None:
    pods, now = crashing_pods
    cache = PodRowCache(None)
    sources = (1, 0, 0)
    cache.rows(pods, now, gpus_by_pod={}, sources=sources)
    volatile = sum(1 for pod in pods if pod.status == "Terminating" or pod.last_restart_at is not None)
    pattern, inverted, _ = compile_filter("load-gen-4")
    for at in (now + 0.1, now + 0.3, now + 700.0, now + 9 * 86400.0):
        rows = cache.rows(pods, at, gpus_by_pod={}, pattern=pattern, inverted=inverted, sources=sources)
        assert rows == pod_rows(pods, at, namespace=None, pattern=pattern, inverted=inverted, usage_late=True)
    cache.rows(pods, now + 9 * 86400.0 + 0.2, gpus_by_pod={}, sources=sources)
    assert cache.remade <= volatile


async def test_a_usage_poll_remakes_no_row_and_the_table_shows_its_values(
    crashing_pods: tuple[list[PodRecord], float],
) -> None:
    pods, now = crashing_pods
    cache = PodRowCache(None)
    rows = cache.rows(pods, now, gpus_by_pod={}, sources=(1, 0))
    again = cache.rows(pods, now, gpus_by_pod={}, sources=(1, 0))
    volatile = sum(1 for pod in pods if pod.status == "Terminating" or pod.last_restart_at is not None)
    assert sum(1 for a, b in zip(rows, again, strict=True) if a is not b) <= volatile, "the rows kept as they were"

    class One(App[None]):
        def compose(self) -> ComposeResult:
            yield RecordTable(pod_columns(None), id="t")

    names = [column.name for column in pod_columns(None)]
    where = (names.index("CPU"), names.index("MEM"))
    app = One()
    async with app.run_test(size=(200, 30)) as pilot:
        table = app.query_one(RecordTable)
        table.show_rows(rows)
        for usage in (
            None,
            {(p.namespace, p.name): Usage(1.2, 4.1 * 2**20) for p in pods},
            {(p.namespace, p.name): Usage(12345.0, 70000 * 2**20) for p in pods[::2]},
        ):

            def fill(key: str, usage: Mapping[tuple[str, str], Usage] | None = usage) -> tuple[str, str]:
                namespace, _, name = key.partition("/")
                return usage_cells(usage, (namespace, name))

            table.set_late_cells(LateCells(where, fill, usage_widths(usage)))
            await pilot.pause()
            expected = pod_rows(pods, now, namespace=None, usage=usage, gpus_by_pod={})
            shown = [table.get_row_at(i) for i in range(table.row_count)]
            assert shown == [tuple(literal(cell) for cell in row.cells) for row in expected]
            drawn_line = table.render_line(1).text
            assert expected[0].cells[where[0]] in drawn_line and expected[0].cells[where[1]] in drawn_line


@pytest.mark.parametrize("namespace", [None, "monitoring"])
def test_rows_kept_from_the_stores_changes_are_pod_rows_rows(
    crashing_pods: tuple[list[PodRecord], float], namespace: str | None
) -> None:
    """The cache fed only the pods the store says changed (as the pane feeds it) ends each step with exactly the
    rows of every pod: pods added, changed, restarted and removed, GPUs taken and given back, the clock moving."""
    pods, now = crashing_pods
    rng = random.Random(12)
    store = Store()
    store.replace(PODS, None, {(p.namespace, p.name): p for p in pods})
    cache = PodRowCache(namespace)
    gpus: dict[tuple[str, str], list[GpuRecord]] = {}
    gpus_version = 0
    looked_up = []
    for step in range(40):
        at = now + step * 7.3 + (3600.0 if step > 30 else 0.0)
        current = store.items(PODS)
        action = step % 5
        if step in (13, 27):  # a relist: every record a new object, some restarted (13: every namespace, sorted in)
            relisted = [p for p in current if step == 13 or p.namespace == "monitoring"]
            assert (len(relisted) > BULK_CHANGES) == (step == 13)
            for pod in relisted:
                again = (
                    replace(pod, restarts=pod.restarts + 1, last_restart_at=at) if rng.random() < 0.1 else replace(pod)
                )
                store.upsert(PODS, (pod.namespace, pod.name), again)
        elif action == 0:  # one pod changed: restarted just now
            pod = rng.choice(current)
            store.upsert(PODS, (pod.namespace, pod.name), replace(pod, restarts=pod.restarts + 1, last_restart_at=at))
        elif action == 1:  # a few removed
            for pod in rng.sample(current, 3):
                store.remove(PODS, (pod.namespace, pod.name))
        elif action == 2:  # a few added, with new names
            for n, pod in enumerate(rng.sample(current, 4)):
                added = replace(pod, name=f"{pod.name}-x{step}-{n}")
                store.upsert(PODS, (added.namespace, added.name), added)
        elif action == 3:  # a GPU taken by a pod, or given back
            pod = rng.choice(current)
            key = (pod.namespace, pod.name)
            if gpus:
                gpus.pop(next(iter(gpus)))
            gpu = GpuRecord(
                pod.node, 0, f"GPU-{step}", "L40S", float(step), *(None,) * 6, pod.name, pod.namespace, None, "dcgm"
            )
            gpus[key] = [gpu]
            gpus_version += 1
        version, names = store.changed_since(PODS, cache.pods_version)
        changed = None if names is None else {name: store.get(PODS, name) for name in names}
        looked_up.append(changed is not None)
        rows = cache.rows(
            store.items(PODS) if changed is None else [],
            at,
            gpus_by_pod=gpus,
            sources=(version, gpus_version),
            changed=changed,
        )
        expected = pod_rows(store.items(PODS), at, namespace=namespace, gpus_by_pod=gpus, usage_late=True)
        assert rows == expected, f"step {step}"
        if changed is not None and step % 5 == 4:
            volatile = sum(1 for r in store.items(PODS) if r.status == "Terminating" or r.last_restart_at is not None)
            assert cache.remade <= volatile, "nothing changed: only the rows whose time came"
    assert looked_up[0] is False and all(looked_up[1:]), "every pod at first, then the changes only"


async def test_the_pods_table_shows_each_pods_usage_from_the_newest_metrics_poll(
    sim_factory: Callable[..., SimThread], app_factory: Callable[..., NimifyApp]
) -> None:
    sim = sim_factory(scenario="healthy", pods=60, namespaces=SPREAD)
    app = app_factory(sim)
    async with app.run_test(size=(200, 45)) as pilot:
        table = app.screen.query_one("#pods-table", RecordTable)
        names = [column.name for column in table.columns]
        cpu, mem = names.index("CPU"), names.index("MEM")
        store = app.runtime.store

        def shows_the_stores_usage() -> bool:
            usage = store.value(POD_USAGE)
            if not usage or table.row_count < 10:
                return False
            for index in range(table.row_count):
                namespace, _, name = table.row_at(index).key.partition("/")
                cells = table.get_row_at(index)
                if (cells[cpu], cells[mem]) != usage_cells(usage, (namespace, name)):
                    return False
            return True

        await until(pilot, shows_the_stores_usage, "every row's CPU and MEM as the metrics poll gave them")
        version = store.version(POD_USAGE)
        await until(pilot, lambda: store.version(POD_USAGE) > version, "the next metrics poll", timeout_s=30)
        await until(pilot, shows_the_stores_usage, "the next poll's values")


def test_a_storm_of_updates_leaves_no_pile_of_outdated_expiries(crashing_pods: tuple[list[PodRecord], float]) -> None:
    """Each pod made again under a storm pushes a new expiry; the outdated ones (hours ahead, for an AGE) must not
    pile up: the heap stays within twice the rows and a slack, and the rows stay pod_rows' rows."""
    pods, now = crashing_pods
    cache = PodRowCache(None)
    version = 1
    cache.rows(pods, now, gpus_by_pod={}, sources=(version, 0))
    for round_ in range(30):
        # a new record object for a tenth of the pods, as the informers publish an update
        changed = {(p.namespace, p.name): dataclasses.replace(p) for p in pods[round_ % 10 :: 10]}
        pods = [changed.get((p.namespace, p.name), p) for p in pods]
        version += 1
        rows = cache.rows(pods, now + round_, gpus_by_pod={}, sources=(version, 0), changed=changed)
    assert len(cache._expiry) <= 2 * len(pods) + EXPIRY_SLACK, len(cache._expiry)
    assert rows == pod_rows(pods, now + 29, namespace=None, usage_late=True)


async def test_while_a_pods_list_comes_in_rows_are_shown_at_most_every_second_and_at_once_when_it_is_in(
    crashing_pods: tuple[list[PodRecord], float],
) -> None:
    pods, now = crashing_pods

    class Pods(App[None]):
        def compose(self) -> ComposeResult:
            yield PodsPane(None)

    store = Store()
    store.set_health("pods/nimify-system", SourceHealth("live", last_ok=now))
    store.set_health("pods/monitoring", SourceHealth("syncing"))  # its pages still coming in
    app = Pods()
    async with app.run_test(size=(160, 30)):
        pane = app.query_one(PodsPane)
        table = pane.table
        first, second = pods[:100], pods[100:200]
        store.upsert_many(PODS, [((p.namespace, p.name), p) for p in first])
        pane.refresh_from(store, now)
        assert table.row_count == 100, "the first page is shown at once"
        store.upsert_many(PODS, [((p.namespace, p.name), p) for p in second])
        pane.refresh_from(store, now)
        assert table.row_count == 100, "the next page waits for the next second"
        pane.filter_text = "load-gen"
        pane.refresh_from(store, now, force=True)  # a key (the filter): never held back
        expected = sum(1 for p in pods[:200] if "load-gen" in p.name)
        assert table.row_count == expected
        pane.filter_text = ""
        pane.refresh_from(store, now, force=True)
        store.upsert_many(PODS, [((p.namespace, p.name), p) for p in pods[200:]])
        pane.refresh_from(store, now)
        assert table.row_count == 200, "still within the second"
        store.set_health("pods/monitoring", SourceHealth("live", last_ok=now))  # the list is in
        pane.refresh_from(store, now)
        assert table.row_count == len(pods), "shown at once when the list is in"
        pane.LISTING_REFRESH_S = 0.0  # as if a second had gone by, while another list comes in
        store.set_health("pods/monitoring", SourceHealth("syncing"))
        store.remove(PODS, (pods[0].namespace, pods[0].name))
        pane.refresh_from(store, now)
        assert table.row_count == len(pods) - 1, "a second after the last rows: shown"
