"""The pods the pollers ask (Triton servers, nimify-api, DCGM exporters): running pods by app label, looked up in
one index per version of the store's pods, and seen anew once the pods change."""

from __future__ import annotations

from dataclasses import replace

from nimify_tui.kube.records import DECODERS, PodRecord
from nimify_tui.live.keys import PODS
from nimify_tui.live.pollers import running_pods
from nimify_tui.live.store import Store
from nimify_tui.sim.scenarios import build_world


def _store() -> tuple[Store, list[PodRecord]]:
    world = build_world("healthy")
    pods: list[PodRecord] = [DECODERS["pods"](pod) for pod in world.store.list("pods")]
    store = Store()
    store.replace(PODS, None, {(p.namespace, p.name): p for p in pods})
    return store, pods


def walked(pods: list[PodRecord], namespace: str | None, apps: tuple[str, ...]) -> list[str]:
    """What a walk of every pod picks, by name."""
    picked = [
        p.name
        for p in pods
        if (namespace is None or p.namespace == namespace)
        and (p.labels.get("app") or p.labels.get("app.kubernetes.io/name") or "") in apps
        and p.phase == "Running"
        and p.deleted_at is None
    ]
    return sorted(picked)


def test_running_pods_by_app_label_and_namespace_as_a_walk_picks_them() -> None:
    store, pods = _store()
    for namespace, apps in (
        ("triton-system", ("triton-server", "triton")),
        ("nimify-system", ("nimify-api",)),
        (None, ("dcgm-exporter", "nvidia-dcgm-exporter")),
        ("nimify-system", ("triton-server",)),
    ):
        found = [p.name for p in running_pods(store, namespace, apps)]
        assert found == walked(pods, namespace, apps)
    assert running_pods(store, "nimify-system", ("nimify-api",)), "the healthy scenario runs nimify-api"


def test_a_pod_that_stops_running_or_goes_is_left_out_at_the_next_version() -> None:
    store, _pods = _store()
    api = running_pods(store, "nimify-system", ("nimify-api",))
    assert len(api) >= 2
    store.upsert(PODS, (api[0].namespace, api[0].name), replace(api[0], phase="Failed"))
    store.remove(PODS, (api[1].namespace, api[1].name))
    now = [p.name for p in running_pods(store, "nimify-system", ("nimify-api",))]
    assert now == sorted(p.name for p in api[2:])
