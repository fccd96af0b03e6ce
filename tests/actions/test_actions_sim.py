"""Each action end to end against the simulated cluster over HTTPS: the dry run changes nothing, the real call
changes the world, and the outage it is the runbook's fix for recovers."""

from __future__ import annotations

import re
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from nimify_tui.actions.kube_actions import (
    plan_configmap_edit,
    plan_delete_pod,
    plan_expand_volume,
    plan_resources,
    plan_restart,
    plan_rollout_undo,
    plan_scale,
)
from nimify_tui.actions.plan import Action, ActionError, ParameterError
from nimify_tui.actions.runner import ActionRunner, Prepared
from nimify_tui.actions.triton_actions import TritonEndpoint, plan_model_action, readiness, repository_index
from nimify_tui.journal.journal import Journal, read_journal
from nimify_tui.kube.access import Permission
from nimify_tui.kube.client import KubeClient
from nimify_tui.kube.errors import KubeError

NS = "nimify-system"
API = f"/apis/apps/v1/namespaces/{NS}/deployments/nimify-api"


def dry_run(cluster: Any, client: KubeClient, runner: ActionRunner, action: Action, path: str) -> Prepared:
    """Prepare the action with the clock stopped and check that nothing at all was written."""
    with cluster.clock_stopped():
        before = client.get_json(path)
        version = cluster.store_version()
        sent = len(cluster.requests())
        prepared = runner.prepare(action)
        after = client.get_json(path)
        assert after == before
        assert after["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]
        assert cluster.store_version() == version
        dry_runs = [r for r in cluster.mutations(sent) if r.query.get("dryRun") == "All"]
        assert len(dry_runs) == 1, cluster.mutations(sent)
    return prepared


def journaled(cluster: Any, verb: str) -> dict[str, Any]:
    (entry,) = [entry for entry in cluster.journal_entries() if entry["verb"] == verb]
    return entry


def test_raising_the_memory_limit_ends_the_oom_crash_loop(start_cluster: Callable[..., Any]) -> None:
    cluster = start_cluster("crashloop-oom")
    client = cluster.client()
    runner = ActionRunner(client, cluster.journal())
    assert any("nimify-api" in problem for problem in cluster.problems())

    action = plan_resources(client, NS, "nimify-api")
    assert {p.name: p.current for p in action.parameters()}["limits.memory"] == "1Gi"
    action = action.with_values({"limits.memory": "2Gi"})
    runbook_patch = {
        "spec": {
            "template": {"spec": {"containers": [{"name": "nimify-api", "resources": {"limits": {"memory": "2Gi"}}}]}}
        }
    }
    assert action.request().body == runbook_patch
    assert action.request().content_type == "application/strategic-merge-patch+json"

    prepared = dry_run(cluster, client, runner, action, API)
    assert prepared.preview.text == "spec.template.spec.containers[nimify-api].resources.limits.memory: 1Gi -> 2Gi"
    reply_container = prepared.preview.after["spec"]["template"]["spec"]["containers"][0]
    assert reply_container["resources"]["limits"]["memory"] == "2Gi"  # the diff comes from the dry-run reply
    assert prepared.confirmation.typed_name is None

    outcome = runner.execute(prepared)
    assert outcome.message == "deployment.apps/nimify-api patched"
    live = client.get_json(API)["spec"]["template"]["spec"]["containers"][0]
    assert live["resources"]["limits"]["memory"] == "2Gi"
    assert outcome.follow is not None
    steps = list(outcome.follow(timeout_s=30, poll_s=0.05))
    assert steps[-1].message == 'deployment "nimify-api" successfully rolled out'
    assert steps[-1].done and not steps[-1].failed
    cluster.wait_healthy()
    entry = journaled(cluster, "set-resources")
    assert (entry["result"], entry["request"]["method"], entry["request"]["body"]) == ("ok", "PATCH", runbook_patch)


def test_undoing_the_bad_rollout_brings_the_good_release_back(start_cluster: Callable[..., Any]) -> None:
    cluster = start_cluster("bad-rollout")
    client = cluster.client()
    runner = ActionRunner(client, cluster.journal())
    action = plan_rollout_undo(client, NS, "nimify-api")
    assert (action.current_revision, action.plan.revision) == (4, 3)
    assert action.summary() == "roll back Deployment nimify-system/nimify-api from revision 4 to revision 3"
    (revision,) = action.parameters()
    assert revision.choices[:3] == ("0", "4", "3")

    prepared = dry_run(cluster, client, runner, action, API)
    assert (
        "spec.template.spec.containers[nimify-api].image: ghcr.io/nimify/nimify-api:1.9.0 -> "
        "ghcr.io/nimify/nimify-api:1.8.2"
    ) in prepared.preview.text.splitlines()

    outcome = runner.execute(prepared)
    assert outcome.message == "deployment.apps/nimify-api rolled back to revision 3"
    patches = [r for r in cluster.mutations() if r.method == "PATCH" and not r.query.get("dryRun")]
    assert [r.path for r in patches] == [API]  # one JSON patch, nothing else
    image = client.get_json(API)["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image == "ghcr.io/nimify/nimify-api:1.8.2"
    assert outcome.follow is not None
    assert list(outcome.follow(timeout_s=30, poll_s=0.05))[-1].done
    cluster.wait_healthy()


def test_scaling_the_worker_down_ends_the_resource_exhaustion(start_cluster: Callable[..., Any]) -> None:
    cluster = start_cluster("resource-exhaustion")
    client = cluster.client()
    runner = ActionRunner(client, cluster.journal())
    action = plan_scale(client, NS, "nimify-worker")
    (replicas,) = action.parameters()
    assert (replicas.value, replicas.current) == ("30", "30")
    with pytest.raises(ParameterError, match="not a whole number"):
        action.with_values({"replicas": "-1"})
    with pytest.raises(ParameterError, match="30 is the current count; nothing to change"):
        action.with_values({"replicas": "30"})
    action = action.with_values({"replicas": "1"})
    assert action.request().body == {"spec": {"replicas": 1}}
    assert action.request().path.endswith("/deployments/nimify-worker/scale")

    scale_path = f"/apis/apps/v1/namespaces/{NS}/deployments/nimify-worker/scale"
    prepared = dry_run(cluster, client, runner, action, scale_path)
    assert prepared.preview.text == "spec.replicas: 30 -> 1"

    assert runner.execute(prepared).message == "deployment.apps/nimify-worker scaled"
    assert client.get_json(scale_path)["spec"]["replicas"] == 1
    cluster.wait_healthy()


def test_expanding_the_full_volume_lets_the_api_start_again(start_cluster: Callable[..., Any]) -> None:
    cluster = start_cluster("storage-full", speed=60.0)
    client = cluster.client()
    runner = ActionRunner(client, cluster.journal())
    action = plan_expand_volume(client, NS, "model-storage")
    assert (action.current_size, action.expansion_allowed, action.blocked_reason()) == ("100Gi", True, None)
    with pytest.raises(ParameterError, match="smaller than the current 100Gi; a PVC cannot shrink"):
        action.with_values({"storage": "50Gi"})
    with pytest.raises(ParameterError, match="is the current size"):
        action.with_values({"storage": "100Gi"})
    with pytest.raises(ParameterError, match="no space between"):
        action.with_values({"storage": "200 Gi"})
    action = action.with_values({"storage": "200Gi"})

    pvc_path = f"/api/v1/namespaces/{NS}/persistentvolumeclaims/model-storage"
    prepared = dry_run(cluster, client, runner, action, pvc_path)
    assert prepared.preview.text == "spec.resources.requests.storage: 100Gi -> 200Gi"

    assert runner.execute(prepared).message == "persistentvolumeclaim/model-storage patched"
    assert client.get_json(pvc_path)["spec"]["resources"]["requests"]["storage"] == "200Gi"
    cluster.wait_healthy(timeout_s=60)


def test_a_storage_class_without_expansion_blocks_the_action_up_front(start_cluster: Callable[..., Any]) -> None:
    cluster = start_cluster()
    client = cluster.client()
    pvc = client.get_json(f"/api/v1/namespaces/{NS}/persistentvolumeclaims/model-storage")
    storage_class = pvc["spec"]["storageClassName"]
    client.send_json(
        "PATCH",
        f"/apis/storage.k8s.io/v1/storageclasses/{storage_class}",
        {"allowVolumeExpansion": False},
        content_type="application/merge-patch+json",
    )
    action = plan_expand_volume(client, NS, "model-storage").with_values({"storage": "200Gi"})
    assert action.expansion_allowed is False
    runner = ActionRunner(client, cluster.journal())
    sent = len(cluster.requests())
    with pytest.raises(Exception, match=f"storage class '{storage_class}' does not allow volume expansion"):
        runner.prepare(action)
    assert cluster.mutations(sent) == []


def test_loading_the_model_brings_triton_back(start_cluster: Callable[..., Any]) -> None:
    cluster = start_cluster("triton-down")
    client = cluster.client()
    runner = ActionRunner(client, cluster.journal())
    action = plan_model_action(client, "nimify-model")
    assert action.readiness == "not ready"
    (check,) = action.access_checks()
    assert (check.verb, check.resource, check.subresource, check.namespace) == (
        "create",
        "services",
        "proxy",
        "triton-system",
    )
    assert action.request().path.endswith(
        "/api/v1/namespaces/triton-system/services/triton-server:8000/proxy/v2/repository/models/nimify-model/load"
    )

    prepared = runner.prepare(action)
    assert prepared.preview.before["state"] == "UNAVAILABLE"
    assert "CUDA failure 2: out of memory" in prepared.preview.before["reason"]
    assert prepared.preview.after["state"] == "READY"
    assert "Triton has no dry run" in prepared.preview.text
    endpoint = TritonEndpoint.through_api_server(client)
    state = {m.name: m.state for m in repository_index(endpoint)}
    assert state["nimify-model"] == "UNAVAILABLE"  # the preview only read

    outcome = runner.execute(prepared)
    assert outcome.message == "Triton model nimify-model: loaded, now READY"
    cluster.wait_healthy()
    assert journaled(cluster, "load-model")["result"] == "ok"


def test_unloading_the_served_model_makes_it_unavailable(start_cluster: Callable[..., Any]) -> None:
    cluster = start_cluster()
    client = cluster.client()
    action = plan_model_action(client, "nimify-model", load=False)
    assert action.readiness == "ready"
    outcome = ActionRunner(client, None).run(action, lambda prepared: True)
    assert outcome is not None
    assert outcome.message == "Triton model nimify-model: unloaded, now UNAVAILABLE (unloaded)"
    assert readiness(action.endpoint, "nimify-model") == "not ready"


def test_a_direct_triton_url_needs_no_kubernetes_permission_and_says_when_unreachable(
    start_cluster: Callable[..., Any], tmp_path: Path
) -> None:
    cluster = start_cluster()
    client = cluster.client()
    with socket.socket() as placeholder:  # a port nothing listens on
        placeholder.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{placeholder.getsockname()[1]}"
    action = plan_model_action(client, "nimify-model", triton_url=url)
    assert action.readiness.startswith(f"unknown (cannot reach Triton at {url}")
    assert action.access_checks() == ()
    journal = Journal.open(tmp_path / "direct")
    runner = ActionRunner(client, journal)
    sent = len(cluster.requests())
    assert runner.allowed(action) == Permission(True, "no permission needed")
    with pytest.raises(ActionError, match=f"^dry run failed: cannot reach Triton at {url}: "):
        runner.prepare(action)
    assert cluster.requests()[sent:] == []  # the API server was not involved
    (entry,) = read_journal(journal.path)
    assert (entry["result"], entry["request"]["path"]) == ("error", f"{url}/v2/repository/models/nimify-model/load")


def test_restarting_the_wedged_ingress_controller_brings_the_ingress_back(start_cluster: Callable[..., Any]) -> None:
    cluster = start_cluster("ingress-broken")
    client = cluster.client()
    runner = ActionRunner(client, cluster.journal())
    action = plan_restart(client, "ingress-nginx", "nginx-ingress-controller")
    path = "/apis/apps/v1/namespaces/ingress-nginx/deployments/nginx-ingress-controller"
    prepared = dry_run(cluster, client, runner, action, path)
    (change,) = prepared.preview.changes
    assert change.path == "spec.template.metadata.annotations.kubectl.kubernetes.io/restartedAt"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)", str(change.new))

    outcome = runner.execute(prepared)
    assert outcome.message == "deployment.apps/nginx-ingress-controller restarted"
    annotations = client.get_json(path)["spec"]["template"]["metadata"]["annotations"]
    assert annotations["kubectl.kubernetes.io/restartedAt"] == change.new
    assert outcome.follow is not None
    assert list(outcome.follow(timeout_s=30, poll_s=0.05))[-1].message.endswith("successfully rolled out")
    cluster.wait_healthy()


def _api_pods(client: KubeClient) -> list[str]:
    listing = client.get_json(f"/api/v1/namespaces/{NS}/pods", {"labelSelector": "app=nimify-api"})
    return sorted(p["metadata"]["name"] for p in listing["items"] if not p["metadata"].get("deletionTimestamp"))


def test_deleting_pods_gracefully_and_by_force(start_cluster: Callable[..., Any]) -> None:
    cluster = start_cluster()
    client = cluster.client()
    runner = ActionRunner(client, cluster.journal())
    first, second = _api_pods(client)[:2]

    graceful = plan_delete_pod(client, NS, first)
    assert graceful.grace_period_s == 30 and not graceful.force
    assert graceful.request().body == {"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Background"}
    prepared = dry_run(cluster, client, runner, graceful, f"/api/v1/namespaces/{NS}/pods/{first}")
    assert prepared.confirmation.typed_name == first  # a delete always asks for the name
    assert prepared.preview.changes[0].path == f"pods/{first}"
    assert str(prepared.preview.changes[0].new) == "deleted (graceful, 30s grace period)"
    with pytest.raises(Exception, match=f"type {first} exactly"):
        runner.execute(prepared, "nimify-api")
    assert runner.execute(prepared, first).message == f'pod "{first}" deleted'
    assert client.get_json(f"/api/v1/namespaces/{NS}/pods/{first}")["metadata"]["deletionTimestamp"]

    forced = plan_delete_pod(client, NS, second).with_values({"force": "yes"})
    assert forced.request().body["gracePeriodSeconds"] == 0
    outcome = runner.execute(runner.prepare(forced), second)
    assert outcome.message == f'pod "{second}" force deleted'
    with pytest.raises(KubeError) as gone:
        client.get_json(f"/api/v1/namespaces/{NS}/pods/{second}")
    assert gone.value.status == 404
    cluster.wait_healthy()
    assert [entry["result"] for entry in cluster.journal_entries()] == ["ok", "ok"]


def test_editing_the_configmap_applies_the_new_data(start_cluster: Callable[..., Any]) -> None:
    cluster = start_cluster()
    client = cluster.client()
    runner = ActionRunner(client, cluster.journal())
    action = plan_configmap_edit(client, NS)
    assert list(action.current_data) == ["config.yaml"]
    (data,) = action.parameters()
    assert data.multiline and data.value == data.current
    with pytest.raises(ParameterError, match="nothing to change"):
        action.with_values({"data": data.value})
    edited = action.with_values({"data": data.value + "LOG_LEVEL: debug\n"})
    assert edited.request().method == "PUT"
    assert edited.request().body["metadata"]["resourceVersion"] == action.resource_version

    path = f"/api/v1/namespaces/{NS}/configmaps/nimify-config"
    prepared = dry_run(cluster, client, runner, edited, path)
    assert prepared.preview.text == "data.LOG_LEVEL: <none> -> debug"
    assert "\n+  LOG_LEVEL: debug\n" in prepared.preview.yaml_diff

    assert runner.execute(prepared).message == "configmap/nimify-config edited"
    stored = client.get_json(path)["data"]
    assert stored == {**action.current_data, "LOG_LEVEL": "debug"}


def test_restarting_a_daemonset_stamps_its_pod_template(start_cluster: Callable[..., Any]) -> None:
    cluster = start_cluster()
    client = cluster.client()
    action = plan_restart(client, "monitoring", "dcgm-exporter", resource="daemonsets")
    assert str(action.access_checks()[0]) == "patch daemonsets.apps dcgm-exporter in monitoring"
    outcome = ActionRunner(client, None).run(action, lambda prepared: True)
    assert outcome is not None and outcome.message == "daemonset.apps/dcgm-exporter restarted"
    assert outcome.follow is None  # rollout status is followed for deployments
    template = client.get_json(action.object_path)["spec"]["template"]
    assert template["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"] == action.restarted_at


def test_a_key_the_app_does_not_know_is_taken_out_then_the_app_restarted(start_cluster: Callable[..., Any]) -> None:
    cluster = start_cluster("config-error")
    client = cluster.client()
    runner = ActionRunner(client, cluster.journal())
    path = f"/api/v1/namespaces/{NS}/configmaps/nimify-config"
    written = client.get_json(path)["data"]["config.yaml"]
    assert "  max_batch_sise: 32\n" in written
    action = plan_configmap_edit(client, NS).with_values(
        {"remove-key": "triton.max_batch_sise", "restart": "nimify-api"}
    )
    assert action.summary() == (
        "edit ConfigMap nimify-system/nimify-config: triton.max_batch_sise taken out of config.yaml, "
        "then restart Deployment nimify-system/nimify-api (rolling)"
    )
    assert [str(check) for check in action.access_checks()] == [
        "update configmaps nimify-config in nimify-system",
        "patch deployments.apps nimify-api in nimify-system",
    ]
    with cluster.clock_stopped():
        version, sent = cluster.store_version(), len(cluster.requests())
        prepared = runner.prepare(action)
        assert cluster.store_version() == version, "the dry runs wrote nothing"
        dry_runs = [(r.method, r.path) for r in cluster.mutations(sent) if r.query.get("dryRun") == "All"]
        assert dry_runs == [("PUT", path), ("PATCH", API)]
    removed = [line for line in prepared.preview.yaml_diff.splitlines() if line.startswith("-") and line != "--- now"]
    assert [line.replace(" ", "") for line in removed] == ["-max_batch_sise:32"], "that line only"
    assert "then: restart every pod of Deployment nimify-system/nimify-api (rolling)" in prepared.preview.text

    outcome = runner.execute(prepared)
    assert outcome.message == "configmap/nimify-config edited; deployment.apps/nimify-api restarted"
    assert outcome.follow is not None, "the restart's rollout is followed"
    assert client.get_json(path)["data"]["config.yaml"] == written.replace("  max_batch_sise: 32\n", "", 1)
    template = client.get_json(API)["spec"]["template"]
    assert template["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"] == action.restart.restarted_at
    entry = journaled(cluster, "edit")
    assert entry["parameters"]["remove-key"] == "triton.max_batch_sise"
    assert entry["parameters"]["restart"] == "nimify-api"
    cluster.wait_healthy(timeout_s=60)


def test_a_key_that_is_not_in_the_config_is_refused_before_any_request(start_cluster: Callable[..., Any]) -> None:
    cluster = start_cluster()
    client = cluster.client()
    action = plan_configmap_edit(client, NS)
    sent = len(cluster.requests())
    with pytest.raises(ParameterError, match=r"no entry of the configmap holds the key triton\.nope"):
        action.with_values({"remove-key": "triton.nope"})
    assert cluster.mutations(sent) == []
