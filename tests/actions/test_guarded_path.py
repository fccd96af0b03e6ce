"""The guarded path against the simulated cluster: read-only sessions, permission checks, errors, the journal."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from nimify_tui.actions.kube_actions import (
    ScaleAction,
    plan_configmap_edit,
    plan_delete_pod,
    plan_expand_volume,
    plan_resources,
    plan_restart,
    plan_rollout_undo,
    plan_scale,
)
from nimify_tui.actions.plan import Action, ActionError, explain_kube_error
from nimify_tui.actions.runner import ActionRunner
from nimify_tui.actions.triton_actions import plan_model_action
from nimify_tui.config import ContextPolicy
from nimify_tui.journal.journal import Journal, read_journal
from nimify_tui.kube.access import READ_ONLY_REASON, AccessCheck, AccessReviewer, Permission
from nimify_tui.kube.client import KubeClient
from nimify_tui.kube.errors import KubeError

NS = "nimify-system"
REVIEWS = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"
WORKER_SCALE = f"/apis/apps/v1/namespaces/{NS}/deployments/nimify-worker/scale"


def every_action(client: KubeClient) -> list[Action]:
    """One of each action, planned (planning only reads) and given values that would change something."""
    pod = client.get_json(f"/api/v1/namespaces/{NS}/pods", {"labelSelector": "app=nimify-api"})["items"][0]
    configmap = plan_configmap_edit(client, NS)
    (data,) = configmap.parameters()
    return [
        plan_scale(client, NS, "nimify-worker").with_values({"replicas": "1"}),
        plan_resources(client, NS, "nimify-api").with_values({"limits.memory": "2Gi"}),
        plan_rollout_undo(client, NS, "nimify-api"),
        plan_restart(client, "ingress-nginx", "nginx-ingress-controller"),
        plan_delete_pod(client, NS, pod["metadata"]["name"]).with_values({"force": "yes"}),
        configmap.with_values({"data": data.value + "LOG_LEVEL: debug\n"}),
        plan_expand_volume(client, NS, "model-storage").with_values({"storage": "200Gi"}),
        plan_model_action(client, "nimify-model", load=True),
        plan_model_action(client, "nimify-model", load=False),
    ]


def test_a_readonly_session_refuses_every_action_and_sends_nothing(start_cluster: Callable[..., Any]) -> None:
    cluster = start_cluster()
    client = cluster.client(readonly=True)
    actions = every_action(client)
    runner = ActionRunner(client, cluster.journal())
    sent = len(cluster.requests())
    for action in actions:
        assert runner.allowed(action) == Permission(False, READ_ONLY_REASON)
        with pytest.raises(ActionError, match=f"^{READ_ONLY_REASON}$"):
            runner.prepare(action)
        with pytest.raises((ActionError, KubeError), match="read-only session"):
            action.execute()  # even called directly, past the runner
    received = cluster.requests()[sent:]
    assert [r for r in received if r.method != "GET"] == []  # not even a permission review
    entries = cluster.journal_entries()
    assert [(e["verb"], e["result"], e["error"]) for e in entries] == [
        (action.verb, "error", READ_ONLY_REASON) for action in actions
    ]


def test_a_readonly_policy_refuses_without_asking_the_api_server(start_cluster: Callable[..., Any]) -> None:
    cluster = start_cluster()
    client = cluster.client()
    action = plan_scale(client, NS, "nimify-worker")
    runner = ActionRunner(client, None, ContextPolicy(readonly=True, production=False))
    sent = len(cluster.requests())
    assert runner.allowed(action) == Permission(False, READ_ONLY_REASON)
    with pytest.raises(ActionError, match=READ_ONLY_REASON):
        runner.prepare(action)
    assert cluster.requests()[sent:] == []


def test_the_readonly_user_is_told_not_allowed_by_the_api_server(start_cluster: Callable[..., Any]) -> None:
    cluster = start_cluster()
    client = cluster.client("sim-readonly")
    actions = every_action(client)
    runner = ActionRunner(client, cluster.journal())
    sent = len(cluster.requests())
    for action in actions:
        permission = runner.allowed(action)
        assert not permission.allowed
        assert permission.reason.startswith(f"not allowed: {action.access_checks()[0]}")
        with pytest.raises(ActionError, match=r"^not allowed: "):
            runner.prepare(action)
    received = cluster.requests()[sent:]
    reviews = [r for r in received if r.path == REVIEWS]
    assert reviews and all(r.method == "POST" and r.user == "sim-readonly" for r in reviews)
    assert cluster.mutations(sent) == []
    assert all(entry["result"] == "error" for entry in cluster.journal_entries())
    assert str(actions[0].access_checks()[0]) == "patch deployments.apps/scale nimify-worker in nimify-system"


def test_a_forbidden_request_reads_as_the_api_servers_one_line(start_cluster: Callable[..., Any]) -> None:
    cluster = start_cluster()
    action = plan_scale(cluster.client("sim-readonly"), NS, "nimify-worker").with_values({"replicas": "1"})
    with pytest.raises(KubeError) as refused:
        action.preview()  # past the permission check: the API server itself refuses
    assert refused.value.status == 403
    assert explain_kube_error(refused.value) == (
        'deployments.apps "nimify-worker" is forbidden: User "sim-readonly" cannot patch resource '
        '"deployments/scale" in API group "apps" in the namespace "nimify-system" (HTTP 403)'
    )


def test_permission_answers_are_cached_for_a_while(start_cluster: Callable[..., Any]) -> None:
    cluster = start_cluster()
    now = [1000.0]
    reviewer = AccessReviewer(cluster.client(), ttl_s=30.0, clock=lambda: now[0])
    question = AccessCheck("patch", "apps", "deployments", "scale", NS, "nimify-worker")

    def reviews() -> int:
        return sum(1 for r in cluster.requests() if r.path == REVIEWS)

    first = reviewer.check(question)
    assert first.allowed and first.reason.startswith("allowed: ")
    assert reviewer.check(question) == first
    assert reviews() == 1
    now[0] += 31.0
    reviewer.check(question)
    assert reviews() == 2


def test_a_missing_deployment_is_a_clear_404(start_cluster: Callable[..., Any]) -> None:
    cluster = start_cluster()
    client = cluster.client()
    with pytest.raises(ActionError) as unread:
        plan_scale(client, NS, "nope")
    not_found = 'deployments.apps "nope" not found (HTTP 404)'
    assert str(unread.value) == f"cannot read deployment nimify-system/nope: {not_found}"
    runner = ActionRunner(client, cluster.journal())
    with pytest.raises(ActionError) as failed:
        runner.prepare(ScaleAction(client, "deployments", NS, "nope", 1, 1))
    assert str(failed.value) == f"dry run failed: {not_found}"
    (entry,) = cluster.journal_entries()
    assert entry["result"] == "error"
    assert entry["request"]["path"] == f"/apis/apps/v1/namespaces/{NS}/deployments/nope/scale?dryRun=All"


def test_an_invalid_quantity_is_refused_by_the_server_with_its_reason(start_cluster: Callable[..., Any]) -> None:
    cluster = start_cluster()
    client = cluster.client()
    path = f"/apis/apps/v1/namespaces/{NS}/deployments/nimify-api"
    before = client.get_json(path)["spec"]
    action = plan_resources(client, NS, "nimify-api").with_values({"requests.memory": "4Gi"})  # limit is 1Gi
    with pytest.raises(ActionError) as invalid:
        ActionRunner(client, None).prepare(action)
    message = str(invalid.value)
    assert message.startswith('dry run failed: Deployment.apps "nimify-api" is invalid: ')
    assert "must be less than or equal to memory limit of 1Gi" in message and message.endswith("(HTTP 422)")
    assert client.get_json(path)["spec"] == before


def test_a_stale_configmap_edit_is_a_conflict_and_applies_nothing(start_cluster: Callable[..., Any]) -> None:
    cluster = start_cluster()
    client = cluster.client()
    runner = ActionRunner(client, cluster.journal())
    mine = plan_configmap_edit(client, NS)
    theirs = plan_configmap_edit(client, NS)  # read at the same resourceVersion
    (text,) = mine.parameters()
    runner.execute(runner.prepare(theirs.with_values({"data": text.value + "OWNER: them\n"})))
    stale = mine.with_values({"data": text.value + "OWNER: me\n"})
    with pytest.raises(ActionError) as conflict:
        runner.prepare(stale)
    expected = (
        f"ConfigMap nimify-system/nimify-config changed since it was read (resourceVersion "
        f"{mine.resource_version}); nothing was applied: read it again and redo the edit"
    )
    assert str(conflict.value).startswith(f"dry run failed: {expected}")
    assert "(HTTP 409)" in str(conflict.value)
    with pytest.raises(ActionError, match="nothing was applied"):
        stale.execute()  # the real call is guarded by the same resourceVersion
    stored = client.get_json(f"/api/v1/namespaces/{NS}/configmaps/nimify-config")["data"]
    assert stored["OWNER"] == "them"
    fresh = plan_configmap_edit(client, NS)  # the caller's state stays usable: read again, edit again
    (fresh_text,) = fresh.parameters()
    runner.execute(runner.prepare(fresh.with_values({"data": fresh_text.value.replace("them", "me")})))
    assert client.get_json(f"/api/v1/namespaces/{NS}/configmaps/nimify-config")["data"]["OWNER"] == "me"
    assert [e["result"] for e in cluster.journal_entries()] == ["ok", "error", "ok"]


def test_an_unreachable_api_server_is_one_line_and_the_runner_stays_usable(
    start_cluster: Callable[..., Any],
) -> None:
    cluster = start_cluster()
    client = cluster.client()
    action = plan_scale(client, NS, "nimify-worker").with_values({"replicas": "1"})
    runner = ActionRunner(client, None)
    cluster.sim.stop()
    for _ in range(2):
        with pytest.raises(ActionError) as down:
            runner.prepare(action)
        assert "refused the connection (is it up?)" in str(down.value)
        assert "\n" not in str(down.value)


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A loopback server that accepts connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    thread.join()
    for connection in accepted:
        connection.close()
    listener.close()


def test_an_api_server_that_does_not_answer_times_out_clearly(silent_server: str, tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "silent", "cluster": {"server": silent_server}}],
                "users": [{"name": "oncall", "user": {"token": "t0ken"}}],
                "contexts": [{"name": "silent", "context": {"cluster": "silent", "user": "oncall"}}],
                "current-context": "silent",
            }
        )
    )
    client = KubeClient.from_kubeconfig(str(kubeconfig), "silent")
    client.read_timeout = 0.3
    journal = Journal.open(tmp_path / "session")
    action = ScaleAction(client, "deployments", NS, "nimify-worker", 1, 3)
    with pytest.raises(ActionError) as slow:
        ActionRunner(client, journal).prepare(action)
    assert str(slow.value) == (
        "cannot check whether patch deployments.apps/scale nimify-worker in nimify-system is allowed: "
        f"POST {REVIEWS}: the API server at {silent_server} did not answer in time"
    )
    (entry,) = read_journal(journal.path)
    assert (entry["who"], entry["result"], entry["error"]) == ("oncall", "error", str(slow.value))


def test_the_journal_records_ok_error_and_cancelled_with_the_exact_request(
    start_cluster: Callable[..., Any],
) -> None:
    cluster = start_cluster()
    client = cluster.client()
    runner = ActionRunner(client, cluster.journal())
    runner.execute(runner.prepare(plan_scale(client, NS, "nimify-worker").with_values({"replicas": "1"})))

    before_cancel = len(cluster.requests())
    answer = runner.run(plan_scale(client, NS, "nimify-worker").with_values({"replicas": "0"}), lambda p: False)
    assert answer is None
    assert [r.query for r in cluster.mutations(before_cancel)] == [{"dryRun": "All"}]  # only the dry run
    assert client.get_json(WORKER_SCALE)["spec"]["replicas"] == 1

    with pytest.raises(ActionError):
        runner.prepare(ScaleAction(client, "deployments", NS, "gone", 1, 1))

    ok, cancelled, error = cluster.journal_entries()
    assert ok == {
        **ok,
        "who": "sim-admin",
        "verb": "scale",
        "target": {"kind": "Deployment", "namespace": NS, "name": "nimify-worker"},
        "parameters": {"replicas": "1"},
        "dry_run_diff": "spec.replicas: 2 -> 1",
        "result": "ok",
        "error": None,
        "request": {"method": "PATCH", "path": WORKER_SCALE, "body": {"spec": {"replicas": 1}}},
    }
    assert isinstance(ok["duration_ms"], float) and ok["duration_ms"] >= 0
    assert (cancelled["result"], cancelled["dry_run_diff"], cancelled["error"]) == (
        "cancelled",
        "spec.replicas: 1 -> 0",
        None,
    )
    assert cancelled["request"] == {"method": "PATCH", "path": WORKER_SCALE, "body": {"spec": {"replicas": 0}}}
    assert (error["result"], error["error"]) == (
        "error",
        'dry run failed: deployments.apps "gone" not found (HTTP 404)',
    )


def test_a_production_context_asks_for_the_name_to_be_typed(start_cluster: Callable[..., Any]) -> None:
    cluster = start_cluster()
    client = cluster.client()
    runner = ActionRunner(client, None, ContextPolicy(readonly=False, production=True))
    prepared = runner.prepare(plan_scale(client, NS, "nimify-worker").with_values({"replicas": "1"}))
    assert prepared.confirmation.typed_name == "nimify-worker"
    assert "production context" in prepared.confirmation.prompt
    sent = len(cluster.requests())
    with pytest.raises(ActionError, match=r"^not confirmed: type nimify-worker exactly"):
        runner.execute(prepared, "nimify")
    with pytest.raises(ActionError, match="not confirmed"):
        runner.execute(prepared)
    assert cluster.mutations(sent) == []
    assert runner.execute(prepared, " nimify-worker ").message == "deployment.apps/nimify-worker scaled"
    assert client.get_json(WORKER_SCALE)["spec"]["replicas"] == 1
