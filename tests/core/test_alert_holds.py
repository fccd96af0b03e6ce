"""The runbook's alert rules evaluated built in, from scrapes of the simulated nimify-api, on a simulated clock.

The clock is the simulation's: the sim is ticked and scraped every ``SCRAPE_S`` simulated seconds, and each rule's
state is read at that moment; nothing sleeps. The ``for:`` holds decide pending and firing, as in Prometheus.
"""

from __future__ import annotations

import math

from nimify_tui.metrics.alert_states import AlertHolds, RuleState
from nimify_tui.metrics.alerts import API_DOWN, HIGH_ERROR_RATE, HIGH_LATENCY
from nimify_tui.metrics.builtin_alerts import BuiltinAlerts
from nimify_tui.metrics.scrape import parse_metrics
from nimify_tui.sim.nimify_api import NimifyApiSim
from nimify_tui.sim.triton.models import PER_REPLICA_CAPACITY_RPS
from nimify_tui.sim.triton.server import TritonSim

from ..plain_world import PlainWorld, steady_traffic

START = 1_800_000_000.0
SCRAPE_S = 10.0
TICK_S = 0.5
POD = "10.0.1.7:9090"


class Lab:
    """One simulated nimify-api scraped every ``SCRAPE_S`` simulated seconds into the built-in evaluator."""

    def __init__(self) -> None:
        self.world = PlainWorld(START, steady_traffic())
        self.triton = TritonSim(self.world)
        self.api = NimifyApiSim(self.world, self.triton)
        self.alerts = BuiltinAlerts()
        self.answering = True

    def run(self, seconds: float) -> dict[str, RuleState]:
        """Advance ``seconds`` (whole scrape intervals); the states at the last scrape."""
        states: dict[str, RuleState] = {}
        for _ in range(round(seconds / SCRAPE_S)):
            for _ in range(round(SCRAPE_S / TICK_S)):
                self.world.clock += TICK_S
                self.triton.tick(TICK_S)
                self.api.tick(TICK_S)
            scrape = parse_metrics(self.api.metrics_text().decode(), self.world.clock) if self.answering else None
            self.alerts.observe(POD, scrape)
            states = {state.name: state for state in self.alerts.evaluate(self.world.clock)}
        return states

    def overload(self) -> None:
        """Three times what one Triton replica serves: two requests of three rejected with 503."""
        self.world.load.offered_rps = 3 * PER_REPLICA_CAPACITY_RPS


def phases(states: dict[str, RuleState]) -> dict[str, str]:
    return {name: state.state for name, state in states.items()}


def test_a_calm_service_leaves_every_rule_inactive() -> None:
    lab = Lab()
    states = lab.run(120.0)
    assert phases(states) == {
        "NimifyAPIDown": "inactive",
        "NimifyHighErrorRate": "inactive",
        "NimifyHighLatency": "inactive",
    }
    assert states["NimifyAPIDown"].value == 1.0
    assert states["NimifyHighErrorRate"].detail == "no 5xx responses counted"
    assert 0.01 < (states["NimifyHighLatency"].value or 0.0) < 0.1
    assert all(state.source == "built-in" and state.since is None for state in states.values())


def test_the_error_rate_is_pending_for_two_minutes_then_firing() -> None:
    lab = Lab()
    lab.run(60.0)
    lab.overload()
    # the first scrape with a 503 series holds one sample of it: a rate needs two, as in Prometheus
    assert lab.run(SCRAPE_S)["NimifyHighErrorRate"].state == "inactive"
    first = lab.run(SCRAPE_S)["NimifyHighErrorRate"]
    assert first.state == "pending"
    assert first.since == first.active_at == lab.world.clock
    # the corrected rule's value is the share of 5xx in the window, not the runbook's 1
    assert 0.01 < (first.value or 0.0) < 0.67
    began = lab.world.clock
    held = lab.run(110.0)["NimifyHighErrorRate"]
    assert (held.state, held.active_at) == ("pending", began)
    fired = lab.run(SCRAPE_S)["NimifyHighErrorRate"]
    assert (fired.state, fired.active_at, fired.since) == ("firing", began, began + HIGH_ERROR_RATE.for_s)
    # two of three rejected since the overload; the five-minute window still holds the calm minute before it
    assert 0.5 < (fired.value or 0.0) < 2 / 3


def test_the_error_rate_resolves_once_the_errors_leave_the_five_minute_window() -> None:
    lab = Lab()
    lab.run(60.0)
    lab.overload()
    assert lab.run(180.0)["NimifyHighErrorRate"].state == "firing"
    lab.world.load.offered_rps = 40.0
    assert lab.run(2 * SCRAPE_S)["NimifyHighErrorRate"].state == "firing"  # the window still holds the 503s
    states = lab.run(300.0)
    assert (states["NimifyHighErrorRate"].state, states["NimifyHighErrorRate"].since) == ("inactive", None)
    assert states["NimifyHighErrorRate"].value == 0.0


def test_latency_fires_after_five_minutes_above_half_a_second() -> None:
    lab = Lab()
    lab.run(60.0)
    lab.world.load.extra_queue_ms = 600.0
    lab.run(SCRAPE_S)
    pending = lab.run(SCRAPE_S * 5)["NimifyHighLatency"]
    assert pending.state == "pending" and pending.active_at is not None
    began = pending.active_at
    assert lab.run(began + HIGH_LATENCY.for_s - SCRAPE_S - lab.world.clock)["NimifyHighLatency"].state == "pending"
    fired = lab.run(SCRAPE_S)["NimifyHighLatency"]
    assert (fired.state, fired.since) == ("firing", began + HIGH_LATENCY.for_s)
    assert (fired.value or 0.0) > 0.5
    assert fired.labels["instance"] == POD and fired.labels["endpoint"] == "/v1/predict"


def test_a_target_that_stops_answering_is_down_after_thirty_seconds() -> None:
    lab = Lab()
    lab.run(60.0)
    lab.answering = False
    first = lab.run(SCRAPE_S)["NimifyAPIDown"]
    assert (first.state, first.value, first.labels) == ("pending", 0.0, {"instance": POD, "job": "nimify-api"})
    assert lab.run(2 * SCRAPE_S)["NimifyAPIDown"].state == "pending"
    fired = lab.run(SCRAPE_S)["NimifyAPIDown"]
    assert (fired.state, fired.since) == ("firing", first.active_at + API_DOWN.for_s)  # type: ignore[operator]
    lab.answering = True
    assert lab.run(SCRAPE_S)["NimifyAPIDown"].state == "inactive"


def test_a_target_no_longer_there_has_no_up_series() -> None:
    lab = Lab()
    lab.run(30.0)
    lab.alerts.keep_targets([])
    state = lab.alerts.evaluate(lab.world.clock)[0]
    assert (state.state, state.value, state.detail) == ("inactive", None, "no nimify-api target to scrape")


def test_a_hold_is_per_series_and_starts_again_after_a_break() -> None:
    holds = AlertHolds(API_DOWN)
    a, b = (("instance", "a"),), (("instance", "b"),)
    assert holds.update({a: 0.0, b: 1.0}, 100.0).active_at == 100.0
    assert holds.update({a: 1.0, b: 0.0}, 110.0).active_at == 110.0  # a's hold ended; b's starts
    assert holds.update({a: 0.0, b: 0.0}, 140.0).labels == dict(b)  # b fired at 140: the worst
    state = holds.update({a: 0.0, b: 0.0}, 140.0)
    assert (state.state, state.since) == ("firing", 140.0)


def test_nan_never_breaches() -> None:
    state = AlertHolds(HIGH_ERROR_RATE).update({(): math.nan}, 100.0, detail="x")
    assert (state.state, state.value) == ("inactive", None)
