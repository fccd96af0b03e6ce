"""Rollout history, undo and restart against the simulated cluster, side by side with the real kubectl."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from typing import Any

import pytest

from nimify_tui.actions.kube_actions import RolloutUndoAction, plan_restart, plan_rollout_undo
from nimify_tui.actions.plan import ActionError
from nimify_tui.actions.rollout import PAUSED_UNDO_MESSAGE, follow_rollout, rollout_history
from nimify_tui.actions.runner import ActionRunner
from nimify_tui.kube.client import MERGE_PATCH, KubeClient

NS = "nimify-system"
API = f"/apis/apps/v1/namespaces/{NS}/deployments/nimify-api"

needs_kubectl = pytest.mark.skipif(shutil.which("kubectl") is None, reason="the kubectl binary is not installed")


def kubectl(cluster: Any, *args: str) -> subprocess.CompletedProcess[str]:
    command = ["kubectl", "--kubeconfig", str(cluster.kubeconfig), "-n", NS, *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


def rolled_out(client: KubeClient) -> None:
    steps = list(follow_rollout(client, NS, "nimify-api", timeout_s=30, poll_s=0.05))
    assert steps[-1].done and not steps[-1].failed, steps


def undo(client: KubeClient, to_revision: int) -> str:
    outcome = ActionRunner(client, None).run(plan_rollout_undo(client, NS, "nimify-api", to_revision), lambda p: True)
    assert outcome is not None
    return outcome.message


@pytest.mark.kubectl
@needs_kubectl
def test_history_is_what_kubectl_shows(start_cluster: Callable[..., Any]) -> None:
    cluster = start_cluster()
    history = rollout_history(cluster.client(), NS, "nimify-api")
    shown = kubectl(cluster, "rollout", "history", "deployment/nimify-api")
    assert shown.returncode == 0, shown.stderr
    rows = [line.split(None, 1) for line in shown.stdout.splitlines()[2:] if line.strip()]
    assert [(r.number, r.change_cause or "<none>") for r in history] == [(int(n), cause) for n, cause in rows]
    assert [r.images for r in history] == [
        ("ghcr.io/nimify/nimify-api:1.8.0",),
        ("ghcr.io/nimify/nimify-api:1.8.1",),
        ("ghcr.io/nimify/nimify-api:1.8.2",),
    ]


@pytest.mark.kubectl
@needs_kubectl
def test_undo_to_the_previous_and_to_a_chosen_revision_does_what_kubectl_does(
    start_cluster: Callable[..., Any],
) -> None:
    ours, theirs = start_cluster(), start_cluster()  # the same world twice
    ours_client, theirs_client = ours.client(), theirs.client()
    for to_revision in (0, 1):
        assert undo(ours_client, to_revision).startswith("deployment.apps/nimify-api rolled back to revision ")
        done = kubectl(theirs, "rollout", "undo", "deployment/nimify-api", f"--to-revision={to_revision}")
        assert done.stdout.strip() == "deployment.apps/nimify-api rolled back", done.stderr
        rolled_out(ours_client)
        rolled_out(theirs_client)
        mine, kubectls = ours_client.get_json(API), theirs_client.get_json(API)
        assert mine["spec"]["template"] == kubectls["spec"]["template"]
        assert mine["metadata"]["annotations"] == kubectls["metadata"]["annotations"]
    image = ours_client.get_json(API)["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image == "ghcr.io/nimify/nimify-api:1.8.0"
    history = rollout_history(ours_client, NS, "nimify-api")
    assert [(r.number, r.images[0].rsplit(":", 1)[1]) for r in history] == [(3, "1.8.2"), (4, "1.8.1"), (5, "1.8.0")]
    assert history == rollout_history(theirs_client, NS, "nimify-api")


@pytest.mark.kubectl
@needs_kubectl
def test_skipped_rollback_sends_nothing_and_says_what_kubectl_says(start_cluster: Callable[..., Any]) -> None:
    cluster = start_cluster()
    client = cluster.client()
    runner = ActionRunner(client, None)
    action = plan_rollout_undo(client, NS, "nimify-api", 3)
    sent = len(cluster.requests())
    prepared = runner.prepare(action)
    assert prepared.preview.changes == ()
    assert prepared.preview.note == "skipped rollback (current template already matches revision 3)"
    outcome = runner.execute(prepared)
    assert not outcome.sent
    assert cluster.mutations(sent) == []  # neither a dry run nor a patch
    said = kubectl(cluster, "rollout", "undo", "deployment/nimify-api", "--to-revision=3")
    assert outcome.message == said.stdout.strip()


@pytest.mark.kubectl
@needs_kubectl
def test_no_history_and_unknown_revisions_are_refused_as_kubectl_refuses(start_cluster: Callable[..., Any]) -> None:
    cluster = start_cluster()
    client = cluster.client()
    for deployment, revision in (("nimify-worker", 0), ("nimify-api", 9)):
        with pytest.raises(ActionError) as refused:
            plan_rollout_undo(client, NS, deployment, revision)
        said = kubectl(cluster, "rollout", "undo", f"deployment/{deployment}", f"--to-revision={revision}")
        assert said.returncode == 1
        assert f"error: {refused.value}" == said.stderr.strip()
    assert cluster.mutations() == []


@pytest.mark.kubectl
@needs_kubectl
def test_a_paused_deployment_is_neither_rolled_back_nor_restarted(start_cluster: Callable[..., Any]) -> None:
    cluster = start_cluster()
    client = cluster.client()
    client.send_json("PATCH", API, {"spec": {"paused": True}}, content_type=MERGE_PATCH)
    runner = ActionRunner(client, cluster.journal())
    sent = len(cluster.requests())
    undo_action = plan_rollout_undo(client, NS, "nimify-api")
    restart_action = plan_restart(client, NS, "nimify-api")
    for action, kubectl_args in (
        (undo_action, ("rollout", "undo", "deployment/nimify-api")),
        (restart_action, ("rollout", "restart", "deployment/nimify-api")),
    ):
        reason = action.blocked_reason()
        assert reason is not None
        with pytest.raises(ActionError) as refused:
            runner.prepare(action)
        assert str(refused.value) == reason
        assert kubectl(cluster, *kubectl_args).stderr.strip() == f"error: {reason}"
    assert undo_action.blocked_reason() == PAUSED_UNDO_MESSAGE
    assert cluster.mutations(sent) == []
    assert [e["result"] for e in cluster.journal_entries()] == ["error", "error"]


def test_an_undo_planned_before_someone_else_changed_the_deployment_is_refused(
    start_cluster: Callable[..., Any],
) -> None:
    cluster = start_cluster()
    client = cluster.client()
    runner = ActionRunner(client, None)
    stale: RolloutUndoAction = plan_rollout_undo(client, NS, "nimify-api")  # to revision 2
    prepared = runner.prepare(stale)
    undo(client, 1)  # meanwhile, another operator rolls back to revision 1
    with pytest.raises(ActionError, match="changed since the preview; preview the rollback again"):
        runner.execute(prepared)
    image = client.get_json(API)["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image == "ghcr.io/nimify/nimify-api:1.8.0"
