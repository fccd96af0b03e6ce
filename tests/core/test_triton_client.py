"""Triton's HTTP client against the simulated cluster over loopback: through the API server's service and pod
proxies with the kubeconfig's token and CA, straight to a URL, and every way a call fails, each with its message."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from nimify_tui.endpoints import pod_proxy_url
from nimify_tui.kube.client import KubeClient
from nimify_tui.sim.k8s.kubeconfig import write_kubeconfig
from nimify_tui.sim.server import SimThread
from nimify_tui.triton import client as triton
from nimify_tui.triton.client import AsyncTritonClient, TritonClient, TritonEndpoint, TritonError
from nimify_tui.triton.model_text import model_config_text
from nimify_tui.triton.poller import TritonPoller

from ..waiting import wait_for

SERVED_MODEL = "nimify-model"
SERVICE_PROXY = "/api/v1/namespaces/triton-system/services/triton-server:8000/proxy"


@pytest.fixture
def sim(sim_factory: Callable[..., SimThread]) -> SimThread:
    return sim_factory(scenario="healthy")


@pytest.fixture
def kube(sim: SimThread, tmp_path: Path) -> Iterator[Callable[[str], KubeClient]]:
    """``kube(context)``: a client from the simulator's kubeconfig (``sim-admin`` or ``sim-readonly``)."""
    path = write_kubeconfig(sim, tmp_path / "kubeconfig")
    made: list[KubeClient] = []

    def make(context: str) -> KubeClient:
        made.append(KubeClient.from_kubeconfig(str(path), context))
        return made[-1]

    yield make
    for client in made:
        client.close()


def triton_pods(client: KubeClient) -> list[str]:
    pods = client.get_json("/api/v1/namespaces/triton-system/pods")["items"]
    return sorted(
        pod["metadata"]["name"]
        for pod in pods
        if pod["metadata"].get("labels", {}).get("app") == "triton-server" and pod["status"].get("phase") == "Running"
    )


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A loopback port that accepts connections (the kernel's backlog) and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"


def test_the_service_proxy_carries_the_kubeconfig_token_over_tls(
    sim: SimThread, kube: Callable[[str], KubeClient]
) -> None:
    client = kube("sim-admin")
    endpoint = TritonEndpoint.through_api_server(client)
    assert endpoint.base_url == sim.https_url + SERVICE_PROXY
    sent = len(sim.request_log)
    with TritonClient(endpoint) as triton_client:
        assert triton_client.call(triton.server_live()) is True
        assert triton_client.call(triton.server_ready()) is True
        assert triton_client.call(triton.model_ready(SERVED_MODEL)) is True
        assert triton_client.call(triton.model_ready(SERVED_MODEL, "7")) is False
        assert triton_client.call(triton.server_metadata())["name"] == "triton"
        assert triton_client.call(triton.model_config(SERVED_MODEL))["max_batch_size"] == 32
        stats = triton_client.call(triton.model_statistics())
        index = triton_client.call(triton.repository_index())
    assert SERVED_MODEL in {entry["name"] for entry in stats["model_stats"]}
    assert {"name": SERVED_MODEL, "version": "1", "state": "READY"} in index
    received = sim.request_log[sent:]
    assert [(r.method, r.path.removeprefix(SERVICE_PROXY)) for r in received] == [
        ("GET", "/v2/health/live"),
        ("GET", "/v2/health/ready"),
        ("GET", f"/v2/models/{SERVED_MODEL}/ready"),
        ("GET", f"/v2/models/{SERVED_MODEL}/versions/7/ready"),
        ("GET", "/v2"),
        ("GET", f"/v2/models/{SERVED_MODEL}/config"),
        ("GET", "/v2/models/stats"),
        ("POST", "/v2/repository/index"),
    ]
    assert {r.user for r in received} == {"sim-admin"}

    without_token = TritonEndpoint(endpoint.base_url, True, {}, endpoint.verify)
    with TritonClient(without_token) as anonymous, pytest.raises(TritonError) as refused:
        anonymous.call(triton.server_live())
    assert refused.value.status == 401
    assert str(refused.value) == "the API server refused GET /v2/health/live: Unauthorized (HTTP 401)"


async def test_the_pod_proxy_from_the_event_loop(sim: SimThread, kube: Callable[[str], KubeClient]) -> None:
    client = kube("sim-admin")
    pods = wait_for(lambda: triton_pods(client), "running Triton pods")
    for pod in pods:
        url = pod_proxy_url(client.identity.server, "triton-system", pod, 8000)
        async with AsyncTritonClient(TritonEndpoint.proxied(url, client.auth_headers(), client.ssl_context())) as a:
            assert await a.call(triton.server_ready()) is True
            assert SERVED_MODEL in {e["name"] for e in (await a.call(triton.model_statistics()))["model_stats"]}


def test_tritons_error_body_is_shown_literally(kube: Callable[[str], KubeClient]) -> None:
    model = "no\x1b[2Jsuch[bold]\x07model"
    with TritonClient(TritonEndpoint.through_api_server(kube("sim-admin"))) as triton_client:
        with pytest.raises(TritonError) as not_found:
            triton_client.call(triton.model_config(model))
        assert model_config_text(triton_client, model) == f"Could not load: {not_found.value}"
    assert not_found.value.status == 404
    assert str(not_found.value) == (
        "Triton refused GET /v2/models/no%1B%5B2Jsuch%5Bbold%5D%07model/config: "
        "Request for unknown model: 'nosuch[bold]␇model' is not found (HTTP 404)"
    )


def test_a_role_without_create_on_the_proxy_gets_the_api_servers_403(
    sim: SimThread, kube: Callable[[str], KubeClient]
) -> None:
    with TritonClient(TritonEndpoint.through_api_server(kube("sim-readonly"))) as triton_client:
        assert triton_client.call(triton.server_live()) is True, "reading through the proxy is allowed"
        with pytest.raises(TritonError) as forbidden:
            triton_client.call(triton.repository_index())
    assert forbidden.value.status == 403
    assert str(forbidden.value) == (
        'the API server refused POST /v2/repository/index: services "triton-server:8000" is forbidden: '
        'User "sim-readonly" cannot create resource "services/proxy" in API group "" '
        'in the namespace "triton-system" (HTTP 403)'
    )


async def test_the_poller_stops_asking_the_index_after_a_403_and_reads_states_instead(
    sim: SimThread, kube: Callable[[str], KubeClient]
) -> None:
    client = kube("sim-readonly")
    pods = wait_for(lambda: triton_pods(client), "running Triton pods")
    headers, context = client.auth_headers(), client.ssl_context()
    targets = {
        pod: TritonEndpoint.proxied(pod_proxy_url(client.identity.server, "triton-system", pod, 8000), headers, context)
        for pod in pods
    }
    async with TritonPoller(allow_index_post=True) as poller:
        first = await poller.poll(targets)
        sent = len(sim.request_log)
        second = await poller.poll(targets)
    assert not poller.allow_index_post
    for view in (first, second):
        assert [(s.name, s.live, s.ready, s.error) for s in view.servers] == [(pod, True, True, "") for pod in pods]
        assert {(m.name, m.state) for m in view.models} >= {(SERVED_MODEL, "READY")}
    second_round = [f"{r.method} {r.path}" for r in sim.request_log[sent:]]
    assert second_round and all(request.startswith("GET ") for request in second_round), second_round


def test_no_answer_in_time_says_where_and_what(silent_server: str) -> None:
    client = TritonClient(TritonEndpoint.direct(silent_server), timeout_s=0.2)
    with client, pytest.raises(TritonError) as timed_out:
        client.call(triton.server_ready())
    assert timed_out.value.status == 0
    assert str(timed_out.value) == f"Triton at {silent_server} did not answer GET /v2/health/ready within 0.2s"


async def test_no_answer_in_time_from_the_event_loop(silent_server: str) -> None:
    async with AsyncTritonClient(TritonEndpoint.direct(silent_server), timeout_s=0.2) as triton_client:
        with pytest.raises(TritonError) as timed_out:
            await triton_client.call(triton.load_model(SERVED_MODEL), timeout_s=0.3)
    assert str(timed_out.value) == (
        f"Triton at {silent_server} did not answer POST /v2/repository/models/{SERVED_MODEL}/load within 0.3s"
    )


def test_nothing_listening_is_a_connection_error() -> None:
    with socket.socket() as placeholder:  # a port nothing listens on
        placeholder.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{placeholder.getsockname()[1]}"
    with TritonClient(TritonEndpoint.direct(url)) as triton_client, pytest.raises(TritonError) as refused:
        triton_client.call(triton.server_live())
    assert refused.value.status == 0
    assert str(refused.value).startswith(f"cannot reach Triton at {url}: ")
    assert "refused" in str(refused.value).lower()
