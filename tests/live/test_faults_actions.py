"""Actions when the API server does not answer in time: the outcome is unknown, not failed nor done; the journal says
so, and the next refresh shows what the server did."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from nimify_tui.actions.kube_actions import plan_scale
from nimify_tui.actions.plan import ActionError
from nimify_tui.actions.runner import ActionOutcomeUnknown, ActionRunner
from nimify_tui.journal.journal import Journal, read_journal
from nimify_tui.kube.client import KubeClient
from nimify_tui.kube.records import DECODERS
from nimify_tui.live.informer import KINDS, Informer
from nimify_tui.live.keys import DEPLOYMENTS
from nimify_tui.live.store import Store
from nimify_tui.sim.faults import FaultPlan, parse_faults
from nimify_tui.sim.k8s.kubeconfig import write_kubeconfig
from nimify_tui.sim.server import SimThread

from ..waiting import wait_for

NS = "nimify-system"
ACTION_TIMEOUT_S = 1.0
SCALE = f"/apis/apps/v1/namespaces/{NS}/deployments/nimify-worker/scale"


@pytest.fixture
def sim() -> Iterator[SimThread]:
    with SimThread(scenario="healthy") as running:
        yield running


def actions_journaled(folder: Path) -> list[dict[str, Any]]:
    return [entry for entry in read_journal(folder / "journal.jsonl") if entry["kind"] == "action"]


def test_a_change_whose_answer_times_out_is_unknown_and_the_next_refresh_shows_it(
    sim: SimThread, tmp_path: Path
) -> None:
    client = KubeClient.from_kubeconfig(str(write_kubeconfig(sim, tmp_path / "kubeconfig")), "sim-admin")
    journal = Journal.open(tmp_path / "journal")
    runner = ActionRunner(client, journal)
    store = Store()
    informer = Informer(client, KINDS["deployments"], NS, store, DECODERS["deployments"])
    informer.start()
    try:
        action = plan_scale(client, NS, "nimify-worker")
        (replicas,) = action.parameters()
        wanted = int(replicas.current) + 1
        prepared = runner.prepare(action.with_values({"replicas": str(wanted)}))

        sim.set_faults(parse_faults(f"api-latency={ACTION_TIMEOUT_S * 3:g}s"))
        client.read_timeout = ACTION_TIMEOUT_S  # the action's request gives up before the answer comes
        with pytest.raises(ActionOutcomeUnknown) as caught:
            runner.execute(prepared)
        said = str(caught.value)
        assert said.startswith("outcome unknown: ") and "did not answer in time" in said
        assert "may have been made" in said and "Deployment nimify-worker" in said
        (entry,) = actions_journaled(tmp_path / "journal")
        assert entry["result"] == "unknown", "the journal says neither done nor failed"
        assert entry["error"] == said
        assert (entry["request"]["method"], entry["request"]["path"]) == ("PATCH", SCALE), "with the request sent"

        client.read_timeout = 30.0
        sim.set_faults(FaultPlan())
        # the server carried the change out after all: a fresh read and the live store both show it
        wait_for(lambda: client.get_json(SCALE)["spec"]["replicas"] == wanted, "the server's answer")
        wait_for(
            lambda: (record := store.get(DEPLOYMENTS, (NS, "nimify-worker"))) is not None and record.desired == wanted,
            "the refreshed deployment",
        )
    finally:
        informer.stop()
        journal.close()


def test_a_change_the_server_refuses_is_failed_not_unknown(sim: SimThread, tmp_path: Path) -> None:
    client = KubeClient.from_kubeconfig(str(write_kubeconfig(sim, tmp_path / "kubeconfig")), "sim-admin")
    journal = Journal.open(tmp_path / "journal")
    runner = ActionRunner(client, journal)
    try:
        action = plan_scale(client, NS, "nimify-worker")
        (replicas,) = action.parameters()
        prepared = runner.prepare(action.with_values({"replicas": str(int(replicas.current) + 1)}))
        sim.set_faults(parse_faults("500=1"))
        with pytest.raises(ActionError) as caught:
            runner.execute(prepared)
        assert not isinstance(caught.value, ActionOutcomeUnknown), "an answer came: it failed"
        (entry,) = actions_journaled(tmp_path / "journal")
        assert entry["result"] == "error"
        sim.set_faults(FaultPlan())
        assert client.get_json(SCALE)["spec"]["replicas"] == int(replicas.current), "nothing changed"
    finally:
        journal.close()
