"""Each outage scenario: unhealthy at start with its own symptom, as the API shows it; its runbook fix,
applied through the API, brings the world back to healthy within one minute of simulated time."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest

from nimify_tui.sim.scenarios import SCENARIOS, build_world, health_problems, is_healthy, scenario_lines
from nimify_tui.sim.server import SimServer

NS = "nimify-system"
SPEED = 30.0  # simulated seconds per wall second: one simulated minute is two seconds
FIX_WITHIN_S = 60.0
STRATEGIC = {"Content-Type": "application/strategic-merge-patch+json"}
MERGE = {"Content-Type": "application/merge-patch+json"}
JSON_PATCH = {"Content-Type": "application/json-patch+json"}
RUNBOOK_PATCH = {
    "spec": {"template": {"spec": {"containers": [{"name": "nimify-api", "resources": {"limits": {"memory": "2Gi"}}}]}}}
}
TRITON = "/api/v1/namespaces/triton-system/services/triton-server:8000/proxy"
Start = Callable[..., Awaitable[SimServer]]
WaitForSim = Callable[..., Awaitable[Any]]


@pytest.fixture
async def cluster(
    async_sim_factory: Start,
) -> AsyncIterator[Callable[[str], Awaitable[tuple[SimServer, httpx.AsyncClient]]]]:
    """``await cluster(scenario)``: a simulator in this test's loop, and an admin HTTP client for it."""
    clients: list[httpx.AsyncClient] = []

    async def start(scenario: str) -> tuple[SimServer, httpx.AsyncClient]:
        sim = await async_sim_factory(scenario=scenario, speed=SPEED)
        clients.append(
            httpx.AsyncClient(base_url=sim.url, headers={"Authorization": f"Bearer {sim.admin_token}"}, timeout=20)
        )
        return sim, clients[-1]

    yield start
    for client in clients:
        await client.aclose()


async def _get(http: httpx.AsyncClient, path: str, **params: str) -> Any:
    response = await http.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def _pods(http: httpx.AsyncClient, selector: str, namespace: str = NS) -> list[dict[str, Any]]:
    pods: list[dict[str, Any]] = (await _get(http, f"/api/v1/namespaces/{namespace}/pods", labelSelector=selector))[
        "items"
    ]
    return [pod for pod in pods if "deletionTimestamp" not in pod["metadata"]]


async def _events(http: httpx.AsyncClient, namespace: str, **selectors: str) -> list[dict[str, Any]]:
    field_selector = ",".join(f"{key}={value}" for key, value in selectors.items())
    events: list[dict[str, Any]] = (
        await _get(http, f"/api/v1/namespaces/{namespace}/events", fieldSelector=field_selector)
    )["items"]
    return events


async def _patch(http: httpx.AsyncClient, path: str, body: Any, headers: dict[str, str]) -> Any:
    response = await http.patch(path, json=body, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def _scale(http: httpx.AsyncClient, namespace: str, name: str, replicas: int) -> None:
    path = f"/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale"
    await _patch(http, path, {"spec": {"replicas": replicas}}, MERGE)


async def _rollout_restart(http: httpx.AsyncClient, namespace: str, name: str) -> None:
    """What ``kubectl rollout restart`` sends."""
    stamp = {"kubectl.kubernetes.io/restartedAt": "2026-01-01T00:00:00Z"}
    body = {"spec": {"template": {"metadata": {"annotations": stamp}}}}
    await _patch(http, f"/apis/apps/v1/namespaces/{namespace}/deployments/{name}", body, STRATEGIC)


async def _rollout_undo(http: httpx.AsyncClient, namespace: str, name: str) -> None:
    """What ``kubectl rollout undo`` does: the previous revision's template, copied by a JSON patch."""
    deployment = await _get(http, f"/apis/apps/v1/namespaces/{namespace}/deployments/{name}")
    selector = ",".join(f"{k}={v}" for k, v in deployment["spec"]["selector"]["matchLabels"].items())
    sets = (await _get(http, f"/apis/apps/v1/namespaces/{namespace}/replicasets", labelSelector=selector))["items"]
    owned = [rs for rs in sets if rs["metadata"]["ownerReferences"][0]["uid"] == deployment["metadata"]["uid"]]
    owned.sort(key=lambda rs: int(rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"]))
    previous = owned[-2]
    template = previous["spec"]["template"]
    labels = {k: v for k, v in template["metadata"]["labels"].items() if k != "pod-template-hash"}
    template = {**template, "metadata": {**template["metadata"], "labels": labels}}
    annotations = {
        k: v for k, v in previous["metadata"]["annotations"].items() if not k.startswith("deployment.kubernetes.io/")
    }
    body = [
        {"op": "replace", "path": "/spec/template", "value": template},
        {"op": "replace", "path": "/metadata/annotations", "value": annotations},
    ]
    await _patch(http, f"/apis/apps/v1/namespaces/{namespace}/deployments/{name}", body, JSON_PATCH)


async def _becomes_healthy(sim: SimServer, wait_for_sim: WaitForSim) -> None:
    await wait_for_sim(sim, lambda: not health_problems(sim.world), "a healthy world", FIX_WITHIN_S)


def test_every_scenario_has_its_line() -> None:
    lines = scenario_lines()
    assert len(lines) == len(SCENARIOS) == 15
    assert all(line.startswith(f"{name}: ") for name, line in zip(SCENARIOS, lines, strict=True))
    assert "kubectl rollout undo deployment/nimify-api -n nimify-system" in SCENARIOS["bad-rollout"].fix
    with pytest.raises(KeyError, match="unknown scenario"):
        build_world("no-such-outage")


async def test_healthy_stays_healthy(cluster: Any, wait_for_sim: WaitForSim) -> None:
    sim, http = await cluster("healthy")
    assert health_problems(sim.world) == [] and is_healthy(sim.world)
    start = sim.world.now()
    await wait_for_sim(sim, lambda: sim.world.now() - start >= 60, "a simulated minute", 120)
    assert health_problems(sim.world) == []
    assert len(await _pods(http, "app=nimify-api")) == 3


async def test_crashloop_oom_fixed_by_the_runbook_patch(cluster: Any, wait_for_sim: WaitForSim) -> None:
    sim, http = await cluster("crashloop-oom")
    pods = await _pods(http, "app=nimify-api")
    assert len(pods) == 3
    for pod in pods:
        status = pod["status"]["containerStatuses"][0]
        assert status["lastState"]["terminated"]["reason"] == "OOMKilled"
        assert status["lastState"]["terminated"]["exitCode"] == 137
        assert status["restartCount"] >= 2
    waiting = [p["status"]["containerStatuses"][0]["state"].get("waiting") for p in pods]
    back_off = [w for w in waiting if w and w["reason"] == "CrashLoopBackOff"]
    assert back_off and re.match(
        r"back-off (10|20|40)s restarting failed container=nimify-api pod=nimify-api-", back_off[0]["message"]
    )
    assert "deployment nimify-system/nimify-api: 0/3 available, 3 updated, 3 total" in health_problems(sim.world)
    assert not is_healthy(sim.world)

    await _patch(http, f"/apis/apps/v1/namespaces/{NS}/deployments/nimify-api", RUNBOOK_PATCH, STRATEGIC)
    await _becomes_healthy(sim, wait_for_sim)
    pods = await _pods(http, "app=nimify-api")
    assert {p["spec"]["containers"][0]["resources"]["limits"]["memory"] for p in pods} == {"2Gi"}


async def test_bad_rollout_fixed_by_rollout_undo(cluster: Any, wait_for_sim: WaitForSim) -> None:
    sim, http = await cluster("bad-rollout")
    sets = (await _get(http, f"/apis/apps/v1/namespaces/{NS}/replicasets", labelSelector="app=nimify-api"))["items"]
    by_revision = {rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"]: rs for rs in sets}
    assert by_revision["4"]["spec"]["template"]["spec"]["containers"][0]["image"].endswith(":1.9.0")
    assert by_revision["4"]["spec"]["replicas"] == 1
    assert by_revision["3"]["status"]["readyReplicas"] == 3
    new_hash = by_revision["4"]["metadata"]["labels"]["pod-template-hash"]
    crashing = (await _pods(http, f"pod-template-hash={new_hash}"))[0]
    terminated = crashing["status"]["containerStatuses"][0]["lastState"]["terminated"]
    assert (terminated["reason"], terminated["exitCode"]) == ("Error", 1)
    logs = await http.get(
        f"/api/v1/namespaces/{NS}/pods/{crashing['metadata']['name']}/log", params={"previous": "true"}
    )
    assert "1 validation error for Settings" in logs.text

    await _rollout_undo(http, NS, "nimify-api")
    await _becomes_healthy(sim, wait_for_sim)
    deployment = await _get(http, f"/apis/apps/v1/namespaces/{NS}/deployments/nimify-api")
    assert deployment["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "5"
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"].endswith(":1.8.2")


async def test_resource_exhaustion_fixed_by_scaling_the_worker_down(cluster: Any, wait_for_sim: WaitForSim) -> None:
    sim, http = await cluster("resource-exhaustion")
    all_api = (await _get(http, f"/api/v1/namespaces/{NS}/pods", labelSelector="app=nimify-api"))["items"]
    evicted = [p for p in all_api if p["status"].get("reason") == "Evicted"]
    pending = [p for p in all_api if p["status"]["phase"] == "Pending"]
    assert len(evicted) == 3 and all(p["status"]["phase"] == "Failed" for p in evicted)
    assert len(pending) == 3
    scheduled = next(c for c in pending[0]["status"]["conditions"] if c["type"] == "PodScheduled")
    assert (scheduled["status"], scheduled["reason"]) == ("False", "Unschedulable")
    events = await _events(
        http, NS, **{"involvedObject.name": pending[0]["metadata"]["name"], "reason": "FailedScheduling"}
    )
    assert events[0]["message"] == (
        "0/4 nodes are available: 2 Insufficient cpu, 2 node(s) had untolerated taint {nvidia.com/gpu: present}. "
        "preemption: 0/4 nodes are available: 2 No preemption victims found for incoming pod, "
        "2 Preemption is not helpful for scheduling."
    )

    await _scale(http, NS, "nimify-worker", 1)
    await _becomes_healthy(sim, wait_for_sim)
    assert len(await _pods(http, "app=nimify-worker")) == 1


async def test_storage_full_fixed_by_expanding_the_claim(cluster: Any, wait_for_sim: WaitForSim) -> None:
    sim, http = await cluster("storage-full")
    claim_events = await _events(http, NS, **{"involvedObject.name": "model-storage"})
    assert [e["reason"] for e in claim_events] == ["VolumeConditionAbnormal"]
    pod = (await _pods(http, "app=nimify-api"))[0]["metadata"]["name"]
    logs = await http.get(f"/api/v1/namespaces/{NS}/pods/{pod}/log", params={"previous": "true"})
    assert "OSError: [Errno 28] No space left on device" in logs.text

    expansion = {"spec": {"resources": {"requests": {"storage": "200Gi"}}}}
    await _patch(http, f"/api/v1/namespaces/{NS}/persistentvolumeclaims/model-storage", expansion, STRATEGIC)
    await _becomes_healthy(sim, wait_for_sim)
    claim = await _get(http, f"/api/v1/namespaces/{NS}/persistentvolumeclaims/model-storage")
    assert claim["status"]["capacity"]["storage"] == "200Gi" and "conditions" not in claim["status"]
    volume = await _get(http, f"/api/v1/persistentvolumes/{claim['spec']['volumeName']}")
    assert volume["spec"]["capacity"]["storage"] == "200Gi"
    reasons = [e["reason"] for e in await _events(http, NS, **{"involvedObject.name": "model-storage"})]
    assert {"Resizing", "FileSystemResizeRequired", "FileSystemResizeSuccessful"} <= set(reasons)
    shrink = await http.patch(
        f"/api/v1/namespaces/{NS}/persistentvolumeclaims/model-storage",
        json={"spec": {"resources": {"requests": {"storage": "50Gi"}}}},
        headers=MERGE,
    )
    assert shrink.status_code == 422 and "field can not be less than previous value" in shrink.json()["message"]


async def test_ingress_broken_fixed_by_restarting_the_controller(cluster: Any, wait_for_sim: WaitForSim) -> None:
    sim, http = await cluster("ingress-broken")
    ingress = await _get(http, f"/apis/networking.k8s.io/v1/namespaces/{NS}/ingresses/nimify-ingress")
    assert ingress["status"]["loadBalancer"] == {}
    controller = await _pods(http, "app=nginx-ingress-controller", "ingress-nginx")
    ready = next(c for c in controller[0]["status"]["conditions"] if c["type"] == "Ready")
    assert ready["status"] == "False"
    name = controller[0]["metadata"]["name"]
    unhealthy = await _events(http, "ingress-nginx", **{"involvedObject.name": name, "reason": "Unhealthy"})
    assert unhealthy[0]["message"] == "Readiness probe failed: HTTP probe failed with statuscode: 500"
    logs = await http.get(f"/api/v1/namespaces/ingress-nginx/pods/{name}/log")
    assert "dial tcp 10.96.0.1:443: i/o timeout" in logs.text

    await _rollout_restart(http, "ingress-nginx", "nginx-ingress-controller")
    await _becomes_healthy(sim, wait_for_sim)
    ingress = await _get(http, f"/apis/networking.k8s.io/v1/namespaces/{NS}/ingresses/nimify-ingress")
    assert ingress["status"]["loadBalancer"]["ingress"][0]["hostname"].endswith(".elb.us-east-1.amazonaws.com")


@pytest.mark.parametrize("fix", ["load the model", "rollout restart"])
async def test_triton_down_fixed_by_loading_the_model_or_restarting(
    cluster: Any, wait_for_sim: WaitForSim, fix: str
) -> None:
    sim, http = await cluster("triton-down")
    assert (await http.get(f"{TRITON}/v2/health/ready")).status_code == 400
    assert (await http.get(f"{TRITON}/v2/health/live")).status_code == 200
    index = (await http.post(f"{TRITON}/v2/repository/index", json={})).json()
    model = next(entry for entry in index if entry["name"] == "nimify-model")
    assert model["state"] == "UNAVAILABLE" and "out of memory" in model["reason"]
    predict = await http.post(
        f"/api/v1/namespaces/{NS}/services/nimify-api:8000/proxy/v1/predict", json={"input": [1, 2, 3]}
    )
    assert predict.status_code >= 500

    if fix == "load the model":
        loaded = await http.post(f"{TRITON}/v2/repository/models/nimify-model/load")
        assert loaded.status_code == 200
    else:
        await _rollout_restart(http, "triton-system", "triton-server")
    await _becomes_healthy(sim, wait_for_sim)
    assert (await http.get(f"{TRITON}/v2/health/ready")).status_code == 200


async def test_gpu_xid_fixed_by_scaling_triton_to_fit(cluster: Any, wait_for_sim: WaitForSim) -> None:
    sim, http = await cluster("gpu-xid")
    node = await _get(http, "/api/v1/nodes/gpu-node-2")
    assert (node["status"]["capacity"]["nvidia.com/gpu"], node["status"]["allocatable"]["nvidia.com/gpu"]) == ("4", "3")
    assert [(g.node, g.last_xid, g.healthy) for g in sim.world.gpus() if g.last_xid] == [("gpu-node-2", 79, False)]
    pending = [p for p in await _pods(http, "app=triton-server", "triton-system") if p["status"]["phase"] == "Pending"]
    assert len(pending) == 1
    events = await _events(
        http, "triton-system", **{"involvedObject.name": pending[0]["metadata"]["name"], "reason": "FailedScheduling"}
    )
    assert events[0]["message"].startswith(
        "0/4 nodes are available: 2 Insufficient nvidia.com/gpu, 2 node(s) didn't match Pod's node affinity/selector."
    )

    await _scale(http, "triton-system", "triton-server", 7)
    await _becomes_healthy(sim, wait_for_sim)
    assert len(await _pods(http, "app=triton-server", "triton-system")) == 7


async def test_latency_spike_fixed_by_scaling_triton_up(cluster: Any, wait_for_sim: WaitForSim) -> None:
    sim, http = await cluster("latency-spike")
    stats_path = f"{TRITON}/v2/models/nimify-model/stats"

    def split(stats: dict[str, Any]) -> dict[str, int]:
        inference = stats["model_stats"][0]["inference_stats"]
        return {key: inference[key]["ns"] for key in ("queue", "compute_infer")} | {
            "count": inference["success"]["count"]
        }

    before = split((await http.get(stats_path)).json())
    start = sim.world.now()
    await wait_for_sim(sim, lambda: sim.world.now() - start >= 10, "ten simulated seconds", 30)
    after = split((await http.get(stats_path)).json())
    served = after["count"] - before["count"]
    assert served > 0
    queue_ms = (after["queue"] - before["queue"]) / served / 1e6
    compute_ms = (after["compute_infer"] - before["compute_infer"]) / served / 1e6
    assert queue_ms > 5 * compute_ms  # queueing dominates
    assert sim.world.traffic().gpu_saturation > 0

    await _scale(http, "triton-system", "triton-server", 6)
    await _becomes_healthy(sim, wait_for_sim)
    assert sim.world.load() < 0.8


def test_each_triton_pod_serves_its_share_of_the_fleets_counters(sim_factory: Any) -> None:
    """Summed over the pod proxies, the statistics equal the fleet's (not the fleet's once per pod)."""
    sim = sim_factory(scenario="latency-spike", speed=5.0)
    headers = {"Authorization": f"Bearer {sim.admin_token}"}
    with httpx.Client(base_url=sim.url, headers=headers, timeout=10) as http:
        pods = http.get("/api/v1/namespaces/triton-system/pods", params={"labelSelector": "app=triton-server"}).json()
        names = [p["metadata"]["name"] for p in pods["items"] if p["status"].get("phase") == "Running"]
        assert len(names) >= 2

        def success(path: str) -> int:
            stats = http.get(path + "/v2/models/nimify-model/stats").json()
            return int(stats["model_stats"][0]["inference_stats"]["success"]["count"])

        per_pod = sum(success(f"/api/v1/namespaces/triton-system/pods/{name}:8000/proxy") for name in names)
        fleet = success("/api/v1/namespaces/triton-system/services/triton-server:8000/proxy")  # asked after
        assert per_pod <= fleet, "summing the pods must not count the fleet once per pod"
        assert per_pod >= 0.8 * fleet
