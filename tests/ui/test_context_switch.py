"""``:ctx``: the contexts listed, an unknown one refused with the reason, and a switch to another cluster at runtime
(the header names it, the pods are the new cluster's and only those, the journal has an entry for it). Two real
simulated clusters, one kubeconfig with a context for each."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from nimify_tui.journal.journal import read_journal
from nimify_tui.live.keys import PODS
from nimify_tui.sim.k8s.kubeconfig import kubeconfig
from nimify_tui.sim.server import SimThread
from nimify_tui.ui.app import NimifyApp
from nimify_tui.ui.panes.header import StatusHeader

from .conftest import drawn, make_app, until

SIZE = (160, 45)


def two_cluster_kubeconfig(first: SimThread, second: SimThread, path: Path) -> None:
    """``sim-admin`` on ``first`` (current), ``other`` on ``second``; each with its own cluster and user."""
    config: dict[str, Any] = kubeconfig(first)
    other = kubeconfig(second)
    config["clusters"].append({**other["clusters"][0], "name": "other-cluster"})  # type: ignore[attr-defined]
    config["users"].append({"name": "other-admin", "user": {"token": second.admin_token}})  # type: ignore[attr-defined]
    config["contexts"].append(  # type: ignore[attr-defined]
        {"name": "other", "context": {"cluster": "other-cluster", "user": "other-admin", "namespace": "nimify-system"}}
    )
    path.write_text(yaml.safe_dump(config))


def notices(app: NimifyApp) -> list[str]:
    return [notice.message for notice in app._notifications]


def pod_uids(app: NimifyApp) -> set[str]:
    return {pod.uid for pod in app.runtime.store.items(PODS)}


def served_pods(sim: SimThread) -> set[str]:
    """The uids of the pods a simulator serves (the two clusters' pods share their names, never their uids)."""
    return {pod["metadata"]["uid"] for pod in sim.world.store.list("pods")}


async def test_ctx_lists_refuses_an_unknown_name_and_switches_to_another_cluster(
    sim_factory: Callable[..., SimThread], tmp_path: Path
) -> None:
    first = sim_factory(scenario="healthy")
    second = sim_factory(scenario="crashloop-oom")
    two_cluster_kubeconfig(first, second, tmp_path / "kubeconfig")
    app = make_app(first, tmp_path, record=True)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: pod_uids(app) and pod_uids(app) <= served_pods(first), "the first cluster's pods")

        await pilot.press("colon", *"ctx", "enter")
        listing = await until(pilot, lambda: [n for n in notices(app) if n.startswith("Contexts:")], "the list")
        assert listing == ["Contexts: other, sim-admin (current), sim-readonly. :ctx NAME switches to one."]

        await pilot.press("colon", *"ctx nope", "enter")
        refused = await until(pilot, lambda: [n for n in notices(app) if "nope" in n], "the refusal")
        assert refused == ["No context 'nope' in the kubeconfig (contexts: other, sim-admin, sim-readonly)."]
        assert app.runtime.client.identity.context == "sim-admin"

        await pilot.press("colon", *"ctx other", "enter")
        await until(pilot, lambda: app.runtime.client.identity.context == "other", "the switch")
        await until(
            pilot,
            lambda: pod_uids(app) and pod_uids(app) <= served_pods(second),
            "the second cluster's pods, and none of the first's",
        )
        header = app.screen.query_one(StatusHeader)
        await until(pilot, lambda: any("other" in line for line in drawn(header)), "the header to name it")
        assert not any("sim-admin" in line for line in drawn(header))
        assert any(n == f"Context 'other': {second.https_url}" for n in notices(app))

        assert app.session.folder is not None
        entries = read_journal(app.session.folder / "journal.jsonl")
        switches = [entry for entry in entries if entry["kind"] == "context_switch"]
        assert len(switches) == 1
        assert switches[0]["previous"] == "sim-admin" and switches[0]["context"] == "other"
        assert switches[0]["server"] == second.https_url
        assert second.admin_token not in (app.session.folder / "journal.jsonl").read_text()
