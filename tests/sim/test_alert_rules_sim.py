"""The simulated Prometheus' rule manager, read as the app reads a real one, on the simulation's clock.

A simulated nimify-api is ticked with a clock the test moves; the rule manager evaluates every few simulated
seconds and its ``/api/v1/rules`` and ``/api/v1/alerts`` answers go through the app's own reader.
"""

from __future__ import annotations

import json

from nimify_tui.metrics.alert_states import RuleState
from nimify_tui.metrics.prom_alerts import states_from_prometheus
from nimify_tui.sim.nimify_api import NimifyApiSim
from nimify_tui.sim.prom_rules import EVAL_INTERVAL_S, Loaded, SimAlertRules
from nimify_tui.sim.triton.models import PER_REPLICA_CAPACITY_RPS
from nimify_tui.sim.triton.server import TritonSim

from ..plain_world import PlainWorld, steady_traffic

START = 1_800_000_000.0
TICK_S = 0.5
TARGET = {"instance": "10.0.1.7:9090", "job": "nimify-api", "namespace": "nimify-system", "pod": "nimify-api-0"}


class Lab:
    def __init__(self, loaded: Loaded = "corrected") -> None:
        self.world = PlainWorld(START, steady_traffic())
        self.triton = TritonSim(self.world)
        self.api = NimifyApiSim(self.world, self.triton)
        self.up = True
        self.rules = SimAlertRules(self.world, self.api.metrics_text, lambda: [(TARGET, self.up)], loaded)

    def run(self, seconds: float) -> dict[str, RuleState]:
        for _ in range(round(seconds / TICK_S)):
            self.world.clock += TICK_S
            for server in (self.triton, self.api, self.rules):
                server.tick(TICK_S)
        rules = json.loads(self.rules.rules_reply().body)
        alerts = json.loads(self.rules.alerts_reply().body)
        assert rules["status"] == alerts["status"] == "success"
        return states_from_prometheus(rules["data"], alerts["data"])


def test_the_corrected_rules_are_read_back_unchanged_and_inactive_when_calm() -> None:
    states = Lab().run(60.0)
    assert {name: (s.state, s.source, s.detail) for name, s in states.items()} == {
        "NimifyAPIDown": ("inactive", "prometheus", ""),
        "NimifyHighErrorRate": ("inactive", "prometheus", ""),
        "NimifyHighLatency": ("inactive", "prometheus", ""),
    }


def test_no_rules_file_means_no_rules() -> None:
    lab = Lab("none")
    assert lab.run(30.0) == {}
    assert json.loads(lab.rules.rules_reply().body)["data"] == {"groups": []}


def test_an_overload_is_pending_then_firing_after_two_minutes() -> None:
    lab = Lab()
    lab.run(60.0)
    lab.world.load.offered_rps = 3 * PER_REPLICA_CAPACITY_RPS
    pending = lab.run(2 * EVAL_INTERVAL_S)["NimifyHighErrorRate"]
    assert pending.state == "pending" and pending.active_at is not None
    assert START + 60.0 < pending.active_at <= lab.world.clock
    assert (
        lab.run(pending.active_at + 120.0 - EVAL_INTERVAL_S - lab.world.clock)["NimifyHighErrorRate"].state == "pending"
    )
    fired = lab.run(EVAL_INTERVAL_S)["NimifyHighErrorRate"]
    assert (fired.state, fired.since) == ("firing", pending.active_at + 120.0)
    assert 0.3 < (fired.value or 0.0) < 2 / 3


def test_the_runbooks_error_rate_is_one_on_any_5xx() -> None:
    lab = Lab("runbook")
    lab.run(60.0)
    lab.world.load.offered_rps = 1.1 * PER_REPLICA_CAPACITY_RPS
    state = lab.run(3 * EVAL_INTERVAL_S)["NimifyHighErrorRate"]
    assert (state.state, state.value, state.labels["status"]) == ("pending", 1.0, "503")
    assert state.detail.startswith("Prometheus runs the runbook's expression, which is wrong")


def test_a_target_down_fires_after_thirty_seconds_and_clears_when_it_answers() -> None:
    lab = Lab()
    lab.run(30.0)
    lab.up = False
    first = lab.run(EVAL_INTERVAL_S)["NimifyAPIDown"]
    assert (first.state, first.value, first.labels) == ("pending", 0.0, TARGET)
    fired = lab.run(30.0)["NimifyAPIDown"]
    assert (fired.state, fired.since) == ("firing", (first.active_at or 0.0) + 30.0)
    lab.up = True
    assert lab.run(EVAL_INTERVAL_S)["NimifyAPIDown"].state == "inactive"


def test_latency_above_half_a_second_fires_after_five_minutes() -> None:
    lab = Lab()
    lab.run(60.0)
    lab.world.load.extra_queue_ms = 600.0
    pending = lab.run(30.0)["NimifyHighLatency"]
    assert pending.state == "pending" and (pending.value or 0.0) > 0.5
    fired = lab.run(300.0)["NimifyHighLatency"]
    assert (fired.state, fired.since) == ("firing", (pending.active_at or 0.0) + 300.0)
