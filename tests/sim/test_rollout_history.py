"""Rollout history after three rollouts made with the real kubectl, as the deployment screen and the undo dialog
show it, against ``kubectl rollout history`` on the same simulated cluster."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

from nimify_tui.actions.kube_actions import plan_rollout_undo
from nimify_tui.actions.rollout import rollout_history
from nimify_tui.kube.client import KubeClient
from nimify_tui.kube.records import ReplicaSetRecord
from nimify_tui.render.describe import rollout_history_lines
from nimify_tui.sim.server import SimThread

if TYPE_CHECKING:
    from tests.sim.conftest import Kubectl

pytestmark = pytest.mark.kubectl
NS = "nimify-system"
DEPLOYMENT = "nimify-worker"
IMAGE = "ghcr.io/nimify/nimify-worker"
CAUSE = "kubernetes.io/change-cause"


def template_patch(cause: str, container: dict[str, Any]) -> str:
    """A strategic merge patch: a new change cause, and a change to the worker container (a new template)."""
    return json.dumps(
        {
            "metadata": {"annotations": {CAUSE: cause}},
            "spec": {"template": {"spec": {"containers": [{"name": DEPLOYMENT, **container}]}}},
        }
    )


def roll_out_three_times(kubectl: Kubectl) -> None:
    """Three rollouts on top of the simulator's revision 1 (release 1.8.2), each one finished before the next."""
    changes = [
        (
            "patch",
            f"deployment/{DEPLOYMENT}",
            "-p",
            template_patch("worker concurrency 8", {"env": [{"name": "CONCURRENCY", "value": "8"}]}),
        ),
        ("patch", f"deployment/{DEPLOYMENT}", "-p", template_patch("release 1.8.3", {"image": f"{IMAGE}:1.8.3"})),
        ("set", "env", f"deployment/{DEPLOYMENT}", "LOG_LEVEL=debug"),  # keeps the deployment's change cause
    ]
    for change in changes:
        kubectl.run("-n", NS, *change)
        kubectl.run("-n", NS, "rollout", "status", f"deployment/{DEPLOYMENT}", "--timeout=25s")


def kubectl_history(kubectl: Kubectl) -> list[tuple[int, str, str]]:
    """(revision, change cause, image) of each revision, as ``kubectl rollout history`` prints them."""
    listing = kubectl.run("-n", NS, "rollout", "history", f"deployment/{DEPLOYMENT}").stdout.splitlines()
    assert listing[:2] == [f"deployment.apps/{DEPLOYMENT} ", "REVISION  CHANGE-CAUSE"], listing
    rows = [line.split(None, 1) for line in listing[2:] if line.strip()]
    history = []
    for number, cause in rows:
        detail = kubectl.run("-n", NS, "rollout", "history", f"deployment/{DEPLOYMENT}", f"--revision={number}")
        [image] = [
            line.split(":", 1)[1].strip() for line in detail.stdout.splitlines() if line.strip().startswith("Image:")
        ]
        history.append((int(number), cause, image))
    return history


def history_tab(client: KubeClient) -> list[str]:
    """The deployment screen's "Rollout history" tab: the lines of the deployment's ReplicaSets, as the informer
    decodes them."""
    listing = client.get_json(f"/apis/apps/v1/namespaces/{NS}/replicasets")
    records = [ReplicaSetRecord.from_raw(item) for item in listing["items"]]
    owned = [rs for rs in records if rs.owner_kind == "Deployment" and rs.owner_name == DEPLOYMENT]
    return rollout_history_lines(owned)


def test_three_rollouts_show_as_kubectl_lists_them(
    sim_factory: Callable[..., SimThread], kubectl_for: Callable[[SimThread], Kubectl]
) -> None:
    sim = sim_factory(scenario="healthy", speed=10.0)
    kubectl = kubectl_for(sim)
    roll_out_three_times(kubectl)
    client = KubeClient.from_kubeconfig(str(kubectl.kubeconfig), "sim-admin")

    expected = [
        (1, "release 1.8.2", f"{IMAGE}:1.8.2"),
        (2, "worker concurrency 8", f"{IMAGE}:1.8.2"),
        (3, "release 1.8.3", f"{IMAGE}:1.8.3"),
        (4, "release 1.8.3", f"{IMAGE}:1.8.3"),
    ]
    assert kubectl_history(kubectl) == expected

    revisions = rollout_history(client, NS, DEPLOYMENT)
    assert [(r.number, r.change_cause, *r.images) for r in revisions] == expected

    assert history_tab(client) == [
        "REVISION  CHANGE-CAUSE                            REPLICAS  IMAGES",
        f"1         release 1.8.2                           0/0       {IMAGE}:1.8.2",
        f"2         worker concurrency 8                    0/0       {IMAGE}:1.8.2",
        f"3         release 1.8.3                           0/0       {IMAGE}:1.8.3",
        f"4         release 1.8.3                           2/2       {IMAGE}:1.8.3",
    ]

    undo = plan_rollout_undo(client, NS, DEPLOYMENT)
    [to_revision] = undo.parameters()
    assert (to_revision.name, to_revision.value, to_revision.choices) == ("to_revision", "0", ("0", "4", "3", "2", "1"))
    assert (undo.current_revision, undo.plan.revision) == (4, 3), "0 rolls back to the revision before the newest"
    assert undo.with_values({"to_revision": "2"}).plan.revision == 2
