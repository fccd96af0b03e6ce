"""The simulated API server read and written by the official ``kubernetes`` client, over loopback HTTP."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from kubernetes import client, watch
from kubernetes.client.exceptions import ApiException

from nimify_tui.sim.scenarios import SCENARIOS
from nimify_tui.sim.server import SimThread

NS = "nimify-system"
KubeClient = Callable[[SimThread, "str | None"], client.ApiClient]
HttpFor = Callable[[SimThread, "str | None"], httpx.Client]
Wait = Callable[..., Any]
JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_PATCH = "application/strategic-merge-patch+json"
RFC3339_NANO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z ")


@pytest.fixture
def admin(healthy_sim: SimThread, kube_client: KubeClient) -> client.ApiClient:
    return kube_client(healthy_sim, healthy_sim.admin_token)


@pytest.fixture
def readonly(healthy_sim: SimThread, kube_client: KubeClient) -> client.ApiClient:
    return kube_client(healthy_sim, healthy_sim.readonly_token)


@pytest.fixture
def fresh_sim(sim_factory: Callable[..., SimThread]) -> SimThread:
    """A cluster of its own, for tests that change it, ten times faster than real time."""
    return sim_factory(scenario="healthy", speed=10.0)


@pytest.fixture
def fresh_admin(fresh_sim: SimThread, kube_client: KubeClient) -> client.ApiClient:
    return kube_client(fresh_sim, fresh_sim.admin_token)


def _status(err: ApiException) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(err.body)
    return body


def _typed_lists(api: client.ApiClient) -> dict[str, Callable[[], Any]]:
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    networking, policy = client.NetworkingV1Api(api), client.PolicyV1Api(api)
    return {
        "pods": core.list_pod_for_all_namespaces,
        "events": core.list_event_for_all_namespaces,
        "nodes": core.list_node,
        "services": core.list_service_for_all_namespaces,
        "endpoints": core.list_endpoints_for_all_namespaces,
        "configmaps": core.list_config_map_for_all_namespaces,
        "secrets": core.list_secret_for_all_namespaces,
        "persistentvolumeclaims": core.list_persistent_volume_claim_for_all_namespaces,
        "persistentvolumes": core.list_persistent_volume,
        "namespaces": core.list_namespace,
        "resourcequotas": core.list_resource_quota_for_all_namespaces,
        "deployments": apps.list_deployment_for_all_namespaces,
        "replicasets": apps.list_replica_set_for_all_namespaces,
        "daemonsets": apps.list_daemon_set_for_all_namespaces,
        "ingresses": networking.list_ingress_for_all_namespaces,
        "ingressclasses": networking.list_ingress_class,
        "networkpolicies": networking.list_network_policy_for_all_namespaces,
        "poddisruptionbudgets": policy.list_pod_disruption_budget_for_all_namespaces,
        "storageclasses": client.StorageV1Api(api).list_storage_class,
        "endpointslices": client.DiscoveryV1Api(api).list_endpoint_slice_for_all_namespaces,
        "leases": client.CoordinationV1Api(api).list_lease_for_all_namespaces,
    }


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_every_served_object_deserializes_into_the_client_models(
    sim_factory: Callable[..., SimThread], kube_client: KubeClient, http_for: HttpFor, scenario: str
) -> None:
    sim = sim_factory(scenario=scenario)
    sim.call(lambda world: setattr(world, "speed", 0.0))  # the typed and the raw list see the same world
    raw, api = http_for(sim, sim.admin_token), kube_client(sim, sim.admin_token)
    for resource, list_all in _typed_lists(api).items():
        typed = list_all()
        served = raw.get(_path_of(resource)).json()
        assert len(typed.items) == len(served["items"]) > 0, resource
        assert typed.metadata.resource_version == served["metadata"]["resourceVersion"]
    pods = client.CoreV1Api(api).list_namespaced_pod(NS).items
    statuses = [s for pod in pods for s in pod.status.container_statuses or []]
    assert statuses and all(s.image and s.name and s.restart_count is not None for s in statuses)


_GROUPS = {
    "deployments": "apps/v1",
    "replicasets": "apps/v1",
    "daemonsets": "apps/v1",
    "ingresses": "networking.k8s.io/v1",
    "ingressclasses": "networking.k8s.io/v1",
    "networkpolicies": "networking.k8s.io/v1",
    "poddisruptionbudgets": "policy/v1",
    "storageclasses": "storage.k8s.io/v1",
    "endpointslices": "discovery.k8s.io/v1",
    "leases": "coordination.k8s.io/v1",
}


def _path_of(resource: str) -> str:
    group = _GROUPS.get(resource)
    return f"/apis/{group}/{resource}" if group else f"/api/v1/{resource}"


# fields the real captures have that a v1.32 API server does not serve (added in later releases)
NEWER_FIELDS = {"allocatedResources", "resources", "user", "volumeMounts", "observedGeneration"}


def test_served_objects_carry_the_fields_of_real_captures(
    real_fixtures: Path, sim_factory: Callable[..., SimThread], http_for: HttpFor
) -> None:
    def real(name: str) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads((real_fixtures / "k8s" / name).read_text())
        return loaded

    sim = sim_factory(scenario="crashloop-oom")
    http = http_for(sim, sim.readonly_token)
    pod = http.get(f"/api/v1/namespaces/{NS}/pods", params={"labelSelector": "app=nimify-api"}).json()["items"][0]
    listed_event = http.get("/api/v1/events").json()["items"][0]["metadata"]
    event = http.get(f"/api/v1/namespaces/{listed_event['namespace']}/events/{listed_event['name']}").json()
    deployment = http.get(f"/apis/apps/v1/namespaces/{NS}/deployments/nimify-worker").json()
    listed = http.get(f"/apis/apps/v1/namespaces/{NS}/replicasets", params={"labelSelector": "app=nimify-worker"})
    replicaset = listed.json()["items"][0]
    node = http.get("/api/v1/nodes/cpu-node-1").json()

    real_pod = real("01_pod_oomkilled_restarted__kuberay_issue4356.converted.json")["status"]
    real_status = real_pod["containerStatuses"][0]
    served_status = pod["status"]["containerStatuses"][0]
    assert set(real_status) - NEWER_FIELDS <= set(served_status)
    assert set(real_status["lastState"]["terminated"]) == set(served_status["lastState"]["terminated"])
    assert set(real_pod) - NEWER_FIELDS <= set(pod["status"])
    assert set(real_pod["conditions"][0]) - NEWER_FIELDS == set(pod["status"]["conditions"][0]) - {"reason", "message"}
    assert set(real("04_event_corev1__k9s_ev.json")) == set(event)
    real_deployment = real("05_deployment_healthy__k9s_dp.json")["status"]
    assert set(real_deployment) <= set(deployment["status"])
    assert set(real_deployment["conditions"][0]) == set(deployment["status"]["conditions"][0])
    real_rs = real("06_replicaset_revision__k9s_rs.json")
    assert set(real_rs["metadata"]["annotations"]) <= set(replicaset["metadata"]["annotations"])
    assert set(real_rs["status"]) <= set(replicaset["status"])
    real_node = real("03_node_minikube__k9s_no.json")["status"]
    assert set(real_node) - {"images"} <= set(node["status"])
    assert set(real_node["conditions"][0]) == set(node["status"]["conditions"][0])


def test_label_selectors_filter_lists(admin: client.ApiClient) -> None:
    core = client.CoreV1Api(admin)

    def names(selector: str) -> set[str]:
        return {pod.metadata.labels["app"] for pod in core.list_namespaced_pod(NS, label_selector=selector).items}

    assert names("app=nimify-api") == {"nimify-api"}
    assert names("app in (postgres, nimify-worker)") == {"postgres", "nimify-worker"}
    assert names("app notin (nimify-api),tier") == {"postgres", "nimify-worker"}
    assert names("app!=nimify-api,tier!=batch") == {"postgres"}
    assert names("!tier") == set()
    assert len(core.list_namespaced_pod(NS, label_selector="app=nimify-api").items) == 3


def test_field_selectors_filter_lists(admin: client.ApiClient) -> None:
    core = client.CoreV1Api(admin)
    on_gpu = core.list_pod_for_all_namespaces(field_selector="spec.nodeName=gpu-node-1").items
    assert {pod.spec.node_name for pod in on_gpu} == {"gpu-node-1"}
    assert {pod.metadata.labels["app"] for pod in on_gpu} == {"triton-server", "dcgm-exporter"}
    running = core.list_pod_for_all_namespaces(field_selector="status.phase=Running,metadata.namespace=monitoring")
    assert {pod.metadata.namespace for pod in running.items} == {"monitoring"}
    one = core.list_namespaced_pod(NS, field_selector=f"metadata.name={on_gpu[0].metadata.name}").items
    assert one == []  # that pod lives in another namespace
    not_failed = core.list_pod_for_all_namespaces(field_selector="status.phase!=Failed,status.phase!=Succeeded")
    assert len(not_failed.items) == len(core.list_pod_for_all_namespaces().items)
    with pytest.raises(ApiException) as err:
        core.list_namespaced_pod(NS, field_selector="spec.image=x")
    assert err.value.status == 400
    assert _status(err.value)["message"] == "field label not supported: spec.image"


def test_event_field_selectors(fresh_admin: client.ApiClient, wait_for: Wait) -> None:
    api = fresh_admin
    core = client.CoreV1Api(api)
    pod = core.list_namespaced_pod(NS, label_selector="app=postgres").items[0]
    core.delete_namespaced_pod(pod.metadata.name, NS, grace_period_seconds=5)
    selector = f"involvedObject.name={pod.metadata.name},involvedObject.kind=Pod,involvedObject.namespace={NS}"
    events = wait_for(lambda: core.list_namespaced_event(NS, field_selector=selector).items, "a Killing event")
    assert {(e.reason, e.involved_object.uid) for e in events} == {("Killing", pod.metadata.uid)}
    warnings = core.list_event_for_all_namespaces(field_selector="type=Warning").items
    assert all(e.type == "Warning" for e in warnings)


def test_missing_config_map_fails_the_mount_until_it_is_back(
    fresh_sim: SimThread, fresh_admin: client.ApiClient, wait_for: Wait
) -> None:
    core = client.CoreV1Api(fresh_admin)
    saved = core.read_namespaced_config_map("nimify-config", NS)
    core.delete_namespaced_config_map("nimify-config", NS)
    victim = core.list_namespaced_pod(NS, label_selector="app=nimify-worker").items[0].metadata.name
    core.delete_namespaced_pod(victim, NS, grace_period_seconds=0)

    def stuck() -> list[Any]:
        pods = core.list_namespaced_pod(NS, label_selector="app=nimify-worker").items
        return [p for p in pods if p.status.container_statuses and not p.status.container_statuses[0].started]

    replacement = wait_for(stuck, "a worker pod that cannot start")[0]
    assert replacement.status.container_statuses[0].state.waiting.reason == "ContainerCreating"
    selector = f"involvedObject.name={replacement.metadata.name},reason=FailedMount"
    events = wait_for(lambda: core.list_namespaced_event(NS, field_selector=selector).items, "a FailedMount event")
    assert events[0].message == 'MountVolume.SetUp failed for volume "config" : configmap "nimify-config" not found'
    core.create_namespaced_config_map(
        NS, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="nimify-config"), data=saved.data)
    )
    wait_for(
        lambda: core.read_namespaced_pod(replacement.metadata.name, NS).status.phase == "Running", "the pod running"
    )


def test_get_missing_object_answers_a_404_status(admin: client.ApiClient) -> None:
    with pytest.raises(ApiException) as err:
        client.AppsV1Api(admin).read_namespaced_deployment("nope", NS)
    assert err.value.status == 404
    status = _status(err.value)
    assert status["kind"] == "Status" and status["reason"] == "NotFound"
    assert status["message"] == 'deployments.apps "nope" not found'
    assert status["details"] == {"name": "nope", "group": "apps", "kind": "deployments"}


def test_watch_replays_changes_and_sends_bookmarks(fresh_admin: client.ApiClient) -> None:
    api = fresh_admin
    core = client.CoreV1Api(api)
    listed = core.list_namespaced_pod(NS, label_selector="app=postgres")
    victim = listed.items[0].metadata.name
    core.delete_namespaced_pod(victim, NS, grace_period_seconds=0)
    seen: list[tuple[str, str]] = []
    stream = watch.Watch()
    for event in stream.stream(
        core.list_namespaced_pod,
        NS,
        label_selector="app=postgres",
        resource_version=listed.metadata.resource_version,
        allow_watch_bookmarks=True,
        timeout_seconds=10,
    ):
        name = event["raw_object"]["metadata"].get("name", "")
        seen.append((event["type"], name))
        if event["type"] == "BOOKMARK" and ("DELETED", victim) in seen:
            stream.stop()
    assert ("DELETED", victim) in seen
    assert any(kind == "ADDED" and name != victim for kind, name in seen)  # the replicaset's replacement
    bookmark_index = next(i for i, (kind, _) in enumerate(seen) if kind == "BOOKMARK")
    assert bookmark_index > seen.index(("DELETED", victim))


def test_watch_from_a_compacted_resource_version_gets_410_in_the_stream(
    healthy_sim: SimThread, admin: client.ApiClient
) -> None:
    headers = {"Authorization": f"Bearer {healthy_sim.admin_token}"}
    with httpx.stream(
        "GET", f"{healthy_sim.url}/api/v1/namespaces/{NS}/pods?watch=1&resourceVersion=1", headers=headers
    ) as response:
        assert response.status_code == 200
        lines = [json.loads(line) for line in response.iter_lines() if line]
    assert len(lines) == 1 and lines[0]["type"] == "ERROR"
    assert lines[0]["object"]["code"] == 410 and lines[0]["object"]["reason"] == "Expired"
    assert lines[0]["object"]["message"].startswith("too old resource version: 1 (")
    with pytest.raises(ApiException) as err:
        list(
            watch.Watch().stream(
                client.CoreV1Api(admin).list_namespaced_pod, NS, resource_version="1", timeout_seconds=5
            )
        )
    assert err.value.status == 410


def test_watch_honours_timeout_seconds(healthy_sim: SimThread) -> None:
    headers = {"Authorization": f"Bearer {healthy_sim.admin_token}"}
    url = f"{healthy_sim.url}/apis/apps/v1/deployments?watch=true&timeoutSeconds=1"
    with httpx.stream("GET", url, headers=headers, timeout=10) as response:
        events = [json.loads(line) for line in response.iter_lines() if line]
    assert {event["type"] for event in events} == {"ADDED"}  # the initial state, then a clean close
    assert len(events) == 6


def test_logs_previous_tail_and_timestamps(
    admin: client.ApiClient, sim_factory: Callable[..., SimThread], kube_client: KubeClient
) -> None:
    core = client.CoreV1Api(admin)
    pod = core.list_namespaced_pod(NS, label_selector="app=nimify-api").items[0].metadata.name
    with pytest.raises(ApiException) as err:
        core.read_namespaced_pod_log(pod, NS, previous=True)
    assert err.value.status == 400
    assert _status(err.value)["message"] == f'previous terminated container "nimify-api" in pod "{pod}" not found'
    full = core.read_namespaced_pod_log(pod, NS).splitlines()
    assert "Application startup complete." in " ".join(full)
    assert core.read_namespaced_pod_log(pod, NS, tail_lines=2).splitlines() == full[-2:]
    stamped = core.read_namespaced_pod_log(pod, NS, timestamps=True, tail_lines=3).splitlines()
    assert len(stamped) == 3 and all(RFC3339_NANO.match(line) for line in stamped)
    assert core.read_namespaced_pod_log(pod, NS, limit_bytes=10) == "\n".join(full)[:10]

    crashing = sim_factory(scenario="crashloop-oom")
    crash_core = client.CoreV1Api(kube_client(crashing, crashing.admin_token))
    oom = crash_core.list_namespaced_pod(NS, label_selector="app=nimify-api").items[0]
    previous = crash_core.read_namespaced_pod_log(oom.metadata.name, NS, previous=True)
    assert "resident memory" in previous and "container limit 1024 MiB" in previous


def test_log_follow_streams_new_lines_until_the_container_ends(
    sim_factory: Callable[..., SimThread], http_for: HttpFor, wait_for: Wait
) -> None:
    sim = sim_factory(scenario="healthy", speed=20.0)
    http = http_for(sim, sim.admin_token)
    pods = http.get(f"/api/v1/namespaces/{NS}/pods", params={"labelSelector": "app=nimify-api"}).json()["items"]
    pod = pods[0]["metadata"]["name"]
    path = f"/api/v1/namespaces/{NS}/pods/{pod}/log"
    received: list[str] = []
    with http.stream("GET", path, params={"follow": "true", "tailLines": "1"}) as response:
        lines = response.iter_lines()
        received.append(next(lines))
        received.append(next(lines))  # written after the request: the api logs every few simulated seconds
        http.delete(f"/api/v1/namespaces/{NS}/pods/{pod}", params={"gracePeriodSeconds": "0"})
        received.extend(lines)  # ends when the container does
    # the api writes its periodic lines together, so the first one after the request opens a round of them
    client_address = r"10\.244\.\d+\.\d+:\d+"
    assert re.fullmatch(rf'INFO:     {client_address} - "GET /ready HTTP/1\.1" 200 OK', received[1]), received
    assert re.fullmatch(rf'INFO:     {client_address} - "POST /v1/predict HTTP/1\.1" 200 OK', received[2]), received


def test_scale_knobs_add_pods_and_events(
    sim_factory: Callable[..., SimThread], http_for: HttpFor, wait_for: Wait
) -> None:
    sim = sim_factory(scenario="healthy", pods=250, event_rate=40.0, speed=5.0)
    http = http_for(sim, sim.readonly_token)
    pods = http.get(f"/api/v1/namespaces/{NS}/pods").json()["items"]
    load = [p for p in pods if p["metadata"]["name"].startswith("load-gen-")]
    assert len(load) == 250 and all(p["status"]["phase"] == "Running" for p in load)
    deployments = http.get(f"/apis/apps/v1/namespaces/{NS}/deployments").json()["items"]
    assert sorted(d["metadata"]["name"] for d in deployments if d["metadata"]["name"].startswith("load-gen-")) == [
        "load-gen-1",
        "load-gen-2",
        "load-gen-3",
    ]

    def events() -> int:
        listed = http.get(f"/api/v1/namespaces/{NS}/events").json()["items"]
        return sum(event["count"] for event in listed)

    first = events()
    wait_for(lambda: events() >= first + 100, "a hundred more events")


def test_patch_in_all_three_formats(fresh_admin: client.ApiClient) -> None:
    api = fresh_admin
    apps = client.AppsV1Api(api)
    before = apps.read_namespaced_deployment("nimify-api", NS)
    runbook = {
        "spec": {
            "template": {"spec": {"containers": [{"name": "nimify-api", "resources": {"limits": {"memory": "2Gi"}}}]}}
        }
    }
    patched = apps.patch_namespaced_deployment("nimify-api", NS, runbook, _content_type=STRATEGIC_PATCH)
    container = patched.spec.template.spec.containers[0]
    assert container.resources.limits == {"cpu": "1", "memory": "2Gi"}
    assert container.image == before.spec.template.spec.containers[0].image  # merged by name, not replaced
    assert patched.metadata.generation == before.metadata.generation + 1
    assert int(patched.metadata.resource_version) > int(before.metadata.resource_version)

    labelled = apps.patch_namespaced_deployment(
        "nimify-api", NS, {"metadata": {"labels": {"team": "inference"}}}, _content_type=MERGE_PATCH
    )
    assert labelled.metadata.labels == {"app": "nimify-api", "team": "inference"}
    assert labelled.metadata.generation == patched.metadata.generation  # metadata only: no new generation

    replaced = apps.patch_namespaced_deployment(
        "nimify-api", NS, [{"op": "replace", "path": "/spec/replicas", "value": 4}], _content_type=JSON_PATCH
    )
    assert replaced.spec.replicas == 4
    with pytest.raises(ApiException) as err:
        apps.patch_namespaced_deployment(
            "nimify-api", NS, [{"op": "test", "path": "/spec/replicas", "value": 9}], _content_type=JSON_PATCH
        )
    assert err.value.status == 422


def test_invalid_quantity_is_rejected_with_422(fresh_admin: client.ApiClient) -> None:
    api = fresh_admin
    bad = {
        "spec": {
            "template": {"spec": {"containers": [{"name": "nimify-api", "resources": {"limits": {"memory": "2Gx"}}}]}}
        }
    }
    with pytest.raises(ApiException) as err:
        client.AppsV1Api(api).patch_namespaced_deployment("nimify-api", NS, bad, _content_type=STRATEGIC_PATCH)
    assert err.value.status == 422
    status = _status(err.value)
    assert status["reason"] == "Invalid"
    assert status["message"].startswith(
        'Deployment.apps "nimify-api" is invalid: spec.template.spec.containers[0].resources.limits[memory]: '
        'Invalid value: "2Gx": quantities must match the regular expression'
    )
    assert status["details"]["causes"][0]["field"] == "spec.template.spec.containers[0].resources.limits[memory]"


def test_scale_subresource(fresh_admin: client.ApiClient, wait_for: Wait) -> None:
    api = fresh_admin
    apps = client.AppsV1Api(api)
    scale = apps.read_namespaced_deployment_scale("nimify-worker", NS)
    assert (scale.spec.replicas, scale.status.replicas, scale.status.selector) == (2, 2, "app=nimify-worker")
    scaled = apps.patch_namespaced_deployment_scale(
        "nimify-worker", NS, {"spec": {"replicas": 3}}, _content_type=MERGE_PATCH
    )
    assert scaled.kind == "Scale" and scaled.spec.replicas == 3
    wait_for(lambda: apps.read_namespaced_deployment("nimify-worker", NS).status.ready_replicas == 3, "3 ready workers")
    body = client.V1Scale(metadata=client.V1ObjectMeta(name="nimify-worker"), spec=client.V1ScaleSpec(replicas=1))
    assert apps.replace_namespaced_deployment_scale("nimify-worker", NS, body).spec.replicas == 1


def test_dry_run_changes_nothing(fresh_sim: SimThread, fresh_admin: client.ApiClient) -> None:
    sim, api = fresh_sim, fresh_admin
    apps, core = client.AppsV1Api(api), client.CoreV1Api(api)
    sim.call(lambda world: setattr(world, "speed", 0.0))  # stop the clock: only requests could change things
    version = sim.call(lambda world: world.store.resource_version)
    events = len(core.list_event_for_all_namespaces().items)
    answer = apps.patch_namespaced_deployment_scale(
        "nimify-api", NS, {"spec": {"replicas": 7}}, dry_run="All", _content_type=MERGE_PATCH
    )
    assert answer.spec.replicas == 7
    patched = apps.patch_namespaced_deployment(
        "nimify-api", NS, {"metadata": {"labels": {"x": "y"}}}, dry_run="All", _content_type=MERGE_PATCH
    )
    assert patched.metadata.labels["x"] == "y"
    pod = core.list_namespaced_pod(NS, label_selector="app=postgres").items[0].metadata.name
    core.delete_namespaced_pod(pod, NS, dry_run="All")
    assert apps.read_namespaced_deployment("nimify-api", NS).spec.replicas == 3
    assert core.read_namespaced_pod(pod, NS).metadata.deletion_timestamp is None
    assert sim.call(lambda world: world.store.resource_version) == version
    assert len(core.list_event_for_all_namespaces().items) == events


def test_update_with_a_stale_resource_version_conflicts(fresh_admin: client.ApiClient) -> None:
    api = fresh_admin
    core = client.CoreV1Api(api)
    config = core.read_namespaced_config_map("nimify-config", NS)
    config.data["log_level"] = "debug"
    updated = core.replace_namespaced_config_map("nimify-config", NS, config)
    assert updated.data["log_level"] == "debug"
    with pytest.raises(ApiException) as err:
        core.replace_namespaced_config_map("nimify-config", NS, config)  # still the old resourceVersion
    assert err.value.status == 409
    assert _status(err.value)["reason"] == "Conflict"


def test_graceful_pod_deletion(fresh_admin: client.ApiClient, wait_for: Wait) -> None:
    api = fresh_admin
    core = client.CoreV1Api(api)
    pod = core.list_namespaced_pod(NS, label_selector="app=nimify-worker").items[0].metadata.name
    deleted = core.delete_namespaced_pod(pod, NS, grace_period_seconds=2)
    assert deleted.metadata.deletion_timestamp is not None and deleted.metadata.deletion_grace_period_seconds == 2

    def gone() -> bool:
        return pod not in {p.metadata.name for p in core.list_namespaced_pod(NS).items}

    wait_for(gone, f"{pod} to go")
    workers = core.list_namespaced_pod(NS, label_selector="app=nimify-worker").items
    assert len(workers) == 2  # replaced by its replicaset


def test_access_reviews_and_permissions(
    healthy_sim: SimThread, admin: client.ApiClient, readonly: client.ApiClient, kube_client: KubeClient
) -> None:
    def can(api: client.ApiClient, verb: str, resource: str, group: str = "") -> bool:
        review = client.V1SelfSubjectAccessReview(
            spec=client.V1SelfSubjectAccessReviewSpec(
                resource_attributes=client.V1ResourceAttributes(namespace=NS, verb=verb, resource=resource, group=group)
            )
        )
        answer = client.AuthorizationV1Api(api).create_self_subject_access_review(review)
        return bool(answer.status.allowed)

    assert can(admin, "delete", "pods") and can(admin, "patch", "deployments", "apps")
    assert can(readonly, "list", "pods") and can(readonly, "watch", "events")
    assert not can(readonly, "delete", "pods") and not can(readonly, "patch", "deployments", "apps")

    pod = client.CoreV1Api(readonly).list_namespaced_pod(NS).items[0].metadata.name
    with pytest.raises(ApiException) as err:
        client.CoreV1Api(readonly).delete_namespaced_pod(pod, NS)
    assert err.value.status == 403
    assert _status(err.value)["message"] == (
        f'pods "{pod}" is forbidden: User "sim-readonly" cannot delete resource "pods" in API group "" '
        f'in the namespace "{NS}"'
    )
    with pytest.raises(ApiException) as err:
        client.AppsV1Api(readonly).patch_namespaced_deployment_scale(
            "nimify-api", NS, {"spec": {"replicas": 1}}, _content_type=MERGE_PATCH
        )
    assert 'cannot patch resource "deployments/scale" in API group "apps"' in _status(err.value)["message"]

    with pytest.raises(ApiException) as err:
        client.CoreV1Api(kube_client(healthy_sim, None)).list_namespaced_pod(NS)
    assert err.value.status == 401 and _status(err.value)["reason"] == "Unauthorized"
    users = {(record.user, record.status) for record in healthy_sim.request_log if record.method == "DELETE"}
    assert users == {("sim-readonly", 403)}


def test_metrics_api(admin: client.ApiClient) -> None:
    metrics = client.CustomObjectsApi(admin)
    pods = metrics.list_namespaced_custom_object("metrics.k8s.io", "v1beta1", NS, "pods")
    assert pods["kind"] == "PodMetricsList" and len(pods["items"]) == 6
    usage = pods["items"][0]["containers"][0]["usage"]
    assert usage["cpu"].endswith("n") and usage["memory"].endswith("Ki")
    nodes = metrics.list_cluster_custom_object("metrics.k8s.io", "v1beta1", "nodes")
    assert sorted(item["metadata"]["name"] for item in nodes["items"]) == [
        "cpu-node-1",
        "cpu-node-2",
        "gpu-node-1",
        "gpu-node-2",
    ]


def test_service_proxy_reaches_the_in_cluster_servers(
    healthy_sim: SimThread, sim_factory: Callable[..., SimThread], http_for: HttpFor
) -> None:
    http = http_for(healthy_sim, healthy_sim.readonly_token)
    live = http.get("/api/v1/namespaces/triton-system/services/triton-server:8000/proxy/v2/health/live")
    assert live.status_code == 200
    by_name = http.get("/api/v1/namespaces/triton-system/services/http:triton-server:http/proxy/v2")
    assert by_name.json()["name"] == "triton"
    healthy = http.get("/api/v1/namespaces/monitoring/services/prometheus:9090/proxy/-/healthy")
    assert healthy.text == "Prometheus Server is Healthy.\n"
    pod = http.get("/api/v1/namespaces/monitoring/pods", params={"labelSelector": "app=dcgm-exporter"})
    name = pod.json()["items"][0]["metadata"]["name"]
    scraped = http.get(f"/api/v1/namespaces/monitoring/pods/{name}:9400/proxy/metrics")
    assert "DCGM_FI_DEV_GPU_UTIL" in scraped.text
    load = http.post("/api/v1/namespaces/triton-system/services/triton-server:8000/proxy/v2/repository/index")
    assert load.status_code == 403  # a POST through the proxy is a create: not for a read-only user

    broken = sim_factory(scenario="crashloop-oom")
    down = http_for(broken, broken.admin_token).get(
        "/api/v1/namespaces/nimify-system/services/nimify-api:8000/proxy/health"
    )
    assert down.status_code == 503
    assert down.json()["message"] == 'no endpoints available for service "nimify-api:8000"'


def test_robustness_answers(healthy_sim: SimThread, http_for: HttpFor) -> None:
    http = http_for(healthy_sim, healthy_sim.admin_token)
    unknown_path = http.get("/nothing/here")
    unknown_resource = http.get("/api/v1/namespaces/nimify-system/widgets")
    not_allowed = http.put("/apis/metrics.k8s.io/v1beta1/nodes/cpu-node-1", json={})
    openapi = http.get("/openapi/v2")
    bad_patch = http.patch(
        "/apis/apps/v1/namespaces/nimify-system/deployments/nimify-api",
        content=b"{}",
        headers={"Content-Type": "application/apply-patch+yaml"},
    )
    for response, code in ((unknown_path, 404), (unknown_resource, 404), (not_allowed, 405), (openapi, 404)):
        assert response.status_code == code
        assert response.json()["kind"] == "Status" and response.json()["code"] == code
    assert bad_patch.status_code == 415


def test_discovery_documents(healthy_sim: SimThread, http_for: HttpFor) -> None:
    http = http_for(healthy_sim, healthy_sim.readonly_token)
    groups = {g["name"] for g in http.get("/apis").json()["groups"]}
    core = {r["name"] for r in http.get("/api/v1").json()["resources"]}
    apps = {r["name"] for r in http.get("/apis/apps/v1").json()["resources"]}
    version = httpx.get(f"{healthy_sim.url}/version").json()
    assert {"apps", "networking.k8s.io", "policy", "metrics.k8s.io", "authorization.k8s.io"} <= groups
    assert {"pods", "pods/log", "events", "nodes", "services/proxy", "persistentvolumeclaims"} <= core
    assert {"deployments", "deployments/scale", "replicasets"} <= apps
    assert version["major"] == "1"
