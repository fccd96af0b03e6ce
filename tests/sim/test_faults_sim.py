"""The simulator's injected faults: the plan's syntax, the control endpoint, and each fault as a client sees it."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import orjson
import pytest
import yaml

from nimify_tui.sim.faults import FaultPlan, FaultSpecError, parse_faults
from nimify_tui.sim.process import SimProcess
from nimify_tui.sim.server import SimThread

from ..waiting import wait_for

Http = Callable[[SimThread, str | None], httpx.Client]
TRITON_READY = "/api/v1/namespaces/triton-system/services/triton-server:8000/proxy/v2/health/ready"
PROM_READY = "/api/v1/namespaces/monitoring/services/prometheus:9090/proxy/-/ready"
PODS = "/api/v1/namespaces/nimify-system/pods"


def test_the_plan_reads_every_fault_and_writes_itself_back() -> None:
    spec = (
        "api-latency=2s,429=0.1:retry-after=3,500=0.05,watch-end=30s,watch-drop=0.1,watch-410=1m,"
        "api-down=20s@40s,triton-flap=10s,nimify-api-flap=500ms,prom-slow=3s"
    )
    plan = parse_faults(spec)
    assert plan == FaultPlan(
        api_latency_s=2.0,
        throttled_share=0.1,
        retry_after_s=3,
        error_share=0.05,
        watch_end_s=30.0,
        watch_drop_share=0.1,
        watch_expire_s=60.0,
        api_down_s=20.0,
        api_down_after_s=40.0,
        triton_flap_s=10.0,
        nimify_api_flap_s=0.5,
        prom_slow_s=3.0,
    )
    assert parse_faults(plan.spec()) == plan
    assert parse_faults("none") == parse_faults("") == FaultPlan()
    assert FaultPlan().spec() == "none"


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ("api-latency=fast", "api-latency: 'fast' is not a duration"),
        ("429=1.5", "429: '1.5' is not a share between 0 and 1"),
        ("429=0.1:retry-after=soon", "retry-after 'soon' is not a whole number"),
        ("429=0.1:wait=3", "unknown option 'wait'"),
        ("watch-end=0s", "watch-end: must be more than 0"),
        ("api-down=10s@later", "api-down's @: 'later' is not a duration"),
        ("latency=2s", "unknown fault 'latency'"),
        ("500", "'500' is not NAME=VALUE"),
        ("500=0.1,500=0.2", "500 is given twice"),
        ("prom-slow=3s:x=1", "prom-slow takes no options"),
    ],
)
def test_a_bad_plan_says_what_is_wrong(spec: str, says: str) -> None:
    with pytest.raises(FaultSpecError) as caught:
        parse_faults(spec)
    assert says in str(caught.value)
    assert "\n" not in str(caught.value)


def test_sim_with_a_bad_plan_is_one_line_and_exit_2() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "nimify_tui", "sim", "--faults", "api-latency=2s,429=3"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert "invalid fault plan" in lines[0] and "429: '3' is not a share" in lines[0]


def test_the_control_endpoint_shows_and_replaces_the_plan(http_for: Http) -> None:
    with SimThread(faults=parse_faults("prom-slow=1s")) as sim:
        http = http_for(sim, None)  # no credentials needed: it is the simulator's, not the API server's
        assert http.get("/sim/faults").json()["spec"] == "prom-slow=1s"
        answer = http.post("/sim/faults", content="500=1")
        assert answer.status_code == 200 and answer.json()["spec"] == "500=1"
        assert sim.server.faults.plan == FaultPlan(error_share=1.0)
        answer = http.post("/sim/faults", json={"spec": "none"})
        assert answer.json()["spec"] == "none" and sim.server.faults.plan.empty
        bad = http.post("/sim/faults", content="500=2")
        assert bad.status_code == 400 and "500: '2' is not a share" in bad.json()["error"]
        assert sim.server.faults.plan.empty, "a bad plan changes nothing"


def test_throttling_and_errors_are_answered_as_the_api_server_would(http_for: Http) -> None:
    with SimThread(faults=parse_faults("429=1:retry-after=7")) as sim:
        http = http_for(sim, sim.admin_token)
        answer = http.get(PODS)
        assert answer.status_code == 429
        assert answer.headers["Retry-After"] == "7"
        assert answer.json()["reason"] == "TooManyRequests"
        sim.set_faults(parse_faults("500=1"))
        answer = http.get(PODS)
        assert answer.status_code == 500 and answer.json()["reason"] == "InternalError"
        assert [record.status for record in sim.request_log[-2:]] == [429, 500]
        sim.set_faults(FaultPlan())
        assert http.get(PODS).status_code == 200


def test_api_down_refuses_connections_then_listens_again_on_the_same_port(http_for: Http) -> None:
    with SimThread() as sim:
        http = http_for(sim, sim.admin_token)
        assert http.get("/version").status_code == 200  # a kept-alive connection, cut when the server goes
        sim.set_faults(parse_faults("api-down=3s"))
        wait_for(lambda: not sim.server.listening, "the API server to stop listening")
        with pytest.raises(httpx.TransportError):
            http.get("/version")
        with pytest.raises(httpx.ConnectError):
            httpx.get(sim.url + "/version", timeout=2)
        wait_for(lambda: sim.server.listening, "the API server to listen again")
        assert http.get("/version").status_code == 200
        assert httpx.get(sim.https_url + "/version", verify=False, timeout=5).status_code == 200


def watch_lines(http: httpx.Client, path: str, rv: str, seconds: float) -> list[dict[str, object]]:
    """Every event of one watch from ``rv`` until the server ends it (or ``seconds`` without a line)."""
    query = {"watch": "true", "resourceVersion": rv, "timeoutSeconds": "60", "allowWatchBookmarks": "true"}
    events: list[dict[str, object]] = []
    with http.stream("GET", path, params=query, timeout=httpx.Timeout(10, read=seconds)) as stream:
        for line in stream.iter_lines():
            if line.strip():
                events.append(orjson.loads(line))
    return events


def test_watch_410_expires_open_watches_and_old_resource_versions(http_for: Http) -> None:
    with SimThread() as sim:
        http = http_for(sim, sim.admin_token)
        rv = http.get(PODS).json()["metadata"]["resourceVersion"]
        sim.set_faults(parse_faults("watch-410=1s"))
        events = watch_lines(http, PODS, rv, 10)
        error = events[-1]
        assert error["type"] == "ERROR"
        assert isinstance(error["object"], dict) and error["object"]["code"] == 410
        assert sim.server.faults.compactions >= 1
        stale = watch_lines(http, PODS, rv, 10)  # the history no longer reaches back to the old version
        assert [event["type"] for event in stale] == ["ERROR"]


def test_watch_end_closes_watches_early(http_for: Http) -> None:
    with SimThread(faults=parse_faults("watch-end=1s")) as sim:
        http = http_for(sim, sim.admin_token)
        rv = http.get(PODS).json()["metadata"]["resourceVersion"]
        events = watch_lines(http, PODS, rv, 10)  # asked for 60 s; ends cleanly long before the read timeout
        assert all(event["type"] == "BOOKMARK" for event in events)


def test_watch_drop_goes_silent_with_the_connection_open(http_for: Http) -> None:
    with SimThread(faults=parse_faults("watch-drop=1")) as sim:
        http = http_for(sim, sim.admin_token)
        rv = http.get(PODS).json()["metadata"]["resourceVersion"]
        pod = {"metadata": {"name": "silent-1"}, "spec": {"containers": [{"name": "c", "image": "busybox"}]}}
        assert http.post(PODS, json=pod).status_code == 201
        with pytest.raises(httpx.ReadTimeout):  # no event, no bookmark: nothing at all comes
            watch_lines(http, PODS, rv, 3)


def test_flapping_servers_and_a_slow_prometheus_behind_the_proxies(http_for: Http) -> None:
    with SimThread(faults=parse_faults("triton-flap=1s,prom-slow=1s")) as sim:
        http = http_for(sim, sim.admin_token)
        answers: set[int] = set()
        wait_for(lambda: answers.add(http.get(TRITON_READY).status_code) or answers >= {200, 503}, "Triton to flap")
        refused = sim.server.request_log
        assert any(r.status == 503 and r.path.startswith(TRITON_READY.split("/v2")[0]) for r in refused)
        slow = http.get(PROM_READY)
        assert slow.status_code == 200
        assert slow.elapsed.total_seconds() >= 1.0, "answered after the plan's delay, not before"


def test_sim_serves_with_the_plan_given_on_its_command_line(tmp_path: Path) -> None:
    with SimProcess(tmp_path, extra_args=["--faults", "triton-flap=1m,prom-slow=500ms"]) as process:
        kubeconfig = process.wait_ready()
        server = yaml.safe_load(kubeconfig.read_text())["clusters"][0]["cluster"]["server"]
        shown = httpx.get(server + "/sim/faults", verify=False, timeout=10).json()
        assert shown["spec"] == "triton-flap=60s,prom-slow=500ms"
        assert shown["triton_flap_s"] == 60.0 and shown["prom_slow_s"] == 0.5
