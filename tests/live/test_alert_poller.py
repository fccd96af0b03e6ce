"""The alerts poller on a Runtime against the simulator: the cluster's Prometheus' own states when it has the
rules loaded (through the service proxy, no --prometheus-url), built in from each nimify-api pod otherwise.

The simulated clock stands still (speed 0) and moves only when the test advances it, so the ``for:`` holds of the
simulated Prometheus are passed without sleeping.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from nimify_tui.kube.client import KubeClient
from nimify_tui.live.keys import ALERT_STATES
from nimify_tui.live.runtime import Runtime, RuntimeOptions
from nimify_tui.metrics.alert_states import RuleState
from nimify_tui.sim.k8s.kubeconfig import write_kubeconfig
from nimify_tui.sim.server import SimThread

from ..waiting import wait_for

NS = "nimify-system"


@contextmanager
def runtime_on(sim: SimThread, folder: Path) -> Iterator[Runtime]:
    write_kubeconfig(sim, folder / "kubeconfig")
    options = RuntimeOptions(namespaces=(NS, "monitoring"), kinds=("pods",), alerts_interval=0.2)
    runtime = Runtime(KubeClient.from_kubeconfig(str(folder / "kubeconfig"), "sim-admin"), options)
    runtime.start()
    try:
        yield runtime
    finally:
        runtime.stop()


def states(runtime: Runtime) -> dict[str, RuleState]:
    return {state.name: state for state in runtime.store.value(ALERT_STATES) or ()}


def one_more_poll(runtime: Runtime) -> None:
    def last_ok() -> float:
        return runtime.store.health()["alerts"].last_ok or 0.0

    before = last_ok()
    wait_for(lambda: last_ok() > before, "a poll of the alerts")


def test_the_clusters_prometheus_holds_nimify_api_down_then_fires_it(tmp_path: Path) -> None:
    with SimThread(scenario="crashloop-oom", speed=0.0) as sim, runtime_on(sim, tmp_path) as runtime:
        sim.call(lambda world: world.advance(10.0))
        pending = wait_for(
            lambda: (s := states(runtime).get("NimifyAPIDown")) and s.state == "pending" and s,
            "NimifyAPIDown pending, as the simulated Prometheus holds it",
        )
        assert pending.source == "prometheus" and pending.value == 0.0
        assert pending.labels["job"] == "nimify-api" and pending.labels["pod"].startswith("nimify-api-")
        assert {s.source for s in states(runtime).values()} == {"prometheus"}
        # five simulated seconds at a time (a crash-looping pod answers now and then, which ends its hold)
        seen = [pending]
        for _ in range(12):
            sim.call(lambda world: world.advance(5.0))
            one_more_poll(runtime)
            one_more_poll(runtime)
            seen.append(states(runtime)["NimifyAPIDown"])
            if seen[-1].state == "firing":
                break
        fired = seen[-1]
        assert fired.state == "firing", [s.state for s in seen]
        assert fired.since == (fired.active_at or 0.0) + 30.0
        assert all(s.state == "pending" for s in seen if s.active_at == fired.active_at and s is not fired)
        gets = [r for r in sim.request_log if "/services/prometheus:9090/proxy/api/v1/" in r.path]
        assert gets and {r.method for r in gets} == {"GET"}


def test_without_rules_in_prometheus_the_rules_are_evaluated_built_in(tmp_path: Path) -> None:
    with SimThread(scenario="crashloop-oom", speed=0.0) as sim:
        sim.call(lambda world: setattr(world.prometheus_rules, "loaded", "none"))
        with runtime_on(sim, tmp_path) as runtime:
            down = wait_for(
                lambda: (s := states(runtime).get("NimifyAPIDown")) and s.state == "pending" and s,
                "NimifyAPIDown pending, built in",
            )
            assert down.source == "built-in" and down.value == 0.0
            assert down.labels["instance"].startswith("nimify-api-")
            assert {s.source for s in states(runtime).values()} == {"built-in"}
