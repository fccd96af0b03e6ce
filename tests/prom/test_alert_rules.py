"""The runbook's alert rules: their text, the rules file promtool and Prometheus load, and the states a real
Prometheus gives them, read back as the app reads them (``/api/v1/rules`` and ``/api/v1/alerts``).

The outage test runs a real Prometheus scraping a simulated nimify-api and loading the rules file that
``nimify-tui rules`` prints, with short windows (``[3s]`` and ``for: 2s``) so that it takes seconds.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
import yaml

from nimify_tui.metrics.alert_states import RuleState
from nimify_tui.metrics.alerts import (
    HIGH_ERROR_RATE,
    HIGH_LATENCY,
    RUNBOOK_RULES,
    AlertRule,
    duration_text,
    rules_file_text,
)
from nimify_tui.metrics.builtin_alerts import BuiltinAlerts
from nimify_tui.metrics.prom import PromClient, Vector
from nimify_tui.metrics.prom_alerts import read_prometheus_states, states_from_prometheus
from nimify_tui.metrics.scrape import parse_metrics
from nimify_tui.sim.triton.models import PER_REPLICA_CAPACITY_RPS

from ..conftest import RUNBOOK

RUNBOOK_EXPRESSIONS = {
    "NimifyAPIDown": ('up{job="nimify-api"} == 0', "30s"),
    "NimifyHighErrorRate": (
        'rate(http_requests_total{status=~"5.."}[5m]) / rate(http_requests_total[5m]) > 0.01',
        "2m",
    ),
    "NimifyHighLatency": ("histogram_quantile(0.95, rate(http_request_duration_seconds_bucket[5m])) > 0.5", "5m"),
}
CORRECTED_ERROR_RATE = 'sum(rate(http_requests_total{status=~"5.."}[5m])) / sum(rate(http_requests_total[5m])) > 0.01'
SHORT_WINDOW = "3s"
SHORT_FOR_S = 2.0


def write_rules_file(path: Path, rules: tuple[AlertRule, ...], *, window: str) -> None:
    path.write_text(rules_file_text(rules, window=window), encoding="utf-8")


def short(rules: tuple[AlertRule, ...] = RUNBOOK_RULES) -> tuple[AlertRule, ...]:
    return tuple(replace(rule, for_s=SHORT_FOR_S) for rule in rules)


def test_the_rules_are_the_runbooks_but_the_error_rate_is_corrected() -> None:
    assert {rule.name: (rule.runbook_expr(), duration_text(rule.for_s)) for rule in RUNBOOK_RULES} == (
        RUNBOOK_EXPRESSIONS
    )
    assert HIGH_ERROR_RATE.expr() == CORRECTED_ERROR_RATE
    assert [rule.name for rule in RUNBOOK_RULES if rule.expr() != rule.runbook_expr()] == ["NimifyHighErrorRate"]
    text = rules_file_text()
    assert f"    expr: {CORRECTED_ERROR_RATE}\n    for: 2m\n" in text
    assert f"# The runbook writes: {RUNBOOK_EXPRESSIONS['NimifyHighErrorRate'][0]}\n" in text


def test_the_runbook_text_is_the_runbook_documents() -> None:
    found = re.search(r"```yaml\n(# Add more comprehensive health checks\n.*?)```", RUNBOOK.read_text(), re.S)
    assert found, "the runbook's alert rules block"
    documented = yaml.safe_load(found.group(1))
    assert [
        {"alert": rule.name, "expr": rule.runbook_expr(), "for": duration_text(rule.for_s)} for rule in RUNBOOK_RULES
    ] == documented


def the_rules_command_output() -> str:
    printed = subprocess.run(
        [sys.executable, "-m", "nimify_tui", "rules"], capture_output=True, text=True, timeout=60, check=True
    )
    return printed.stdout


@pytest.mark.prometheus
@pytest.mark.parametrize("source", ["command", "short"])
def test_promtool_accepts_the_rules_file(tmp_path: Path, source: str) -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool is not installed (Debian package 'prometheus')")
    path = tmp_path / "nimify-rules.yml"
    if source == "command":
        path.write_text(the_rules_command_output(), encoding="utf-8")
    else:
        write_rules_file(path, short(), window=SHORT_WINDOW)
    checked = subprocess.run(
        [promtool, "check", "rules", str(path)], capture_output=True, text=True, timeout=60, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS: 3 rules found" in checked.stdout


@pytest.mark.parametrize("window", ["5 m", "", "5m]) or vector(1", "m5", "1.5m"])
def test_the_window_must_be_a_prometheus_duration(window: str) -> None:
    with pytest.raises(ValueError, match="not a Prometheus duration"):
        HIGH_LATENCY.expr(window)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(30.0, "30s"), (120.0, "2m"), (300.0, "5m"), (90.5, "1m30s500ms"), (7200.0, "2h"), (0.0, "0s")],
)
def test_duration_text(seconds: float, text: str) -> None:
    assert duration_text(seconds) == text


def test_duration_text_refuses_negative_durations() -> None:
    with pytest.raises(ValueError, match="negative"):
        duration_text(-1.0)


# --- Prometheus' answers read back: hand-made first, then a real Prometheus ------------------------------------


def rules_answer(query: str, duration: float) -> dict[str, object]:
    """A ``/api/v1/rules`` data with one alerting rule, shaped as Prometheus 2.x sends it."""
    rule = {"state": "firing", "name": "NimifyHighErrorRate", "query": query, "duration": duration, "labels": {}}
    return {"groups": [{"name": "g", "file": "/etc/r.yml", "rules": [{**rule, "type": "alerting", "alerts": []}]}]}


def test_a_firing_alert_fired_its_for_after_it_became_active() -> None:
    alerts = {
        "alerts": [
            {
                "labels": {"alertname": "NimifyHighErrorRate", "job": "nimify-api"},
                "state": "firing",
                "activeAt": "2027-01-15T08:00:00.123456789Z",
                "value": "2.5e-01",
            }
        ]
    }
    states = states_from_prometheus(rules_answer(CORRECTED_ERROR_RATE[:-7], 120), alerts)
    # loaded: the one rule, with the corrected query up to a threshold that differs: Prometheus' own, said so
    assert list(states) == ["NimifyHighErrorRate"]
    state = states["NimifyHighErrorRate"]
    assert (state.state, state.source, state.value, state.labels) == (
        "firing",
        "prometheus",
        0.25,
        {"job": "nimify-api"},
    )
    assert state.active_at == pytest.approx(1_800_000_000.123456)
    assert state.since == pytest.approx(1_800_000_120.123456)
    assert state.detail.startswith("Prometheus runs its own expression: sum(rate(")


def test_a_prometheus_running_the_runbooks_error_rate_is_told() -> None:
    states = states_from_prometheus(rules_answer(RUNBOOK_EXPRESSIONS["NimifyHighErrorRate"][0], 120), {"alerts": []})
    assert states["NimifyHighErrorRate"] == RuleState(
        "NimifyHighErrorRate",
        "inactive",
        "prometheus",
        detail=f"Prometheus runs the runbook's expression, which is wrong: {HIGH_ERROR_RATE.correction}",
        for_s=120.0,
    )


async def test_an_unreachable_prometheus_gives_no_states_and_says_why() -> None:
    async with httpx.AsyncClient() as http:
        states, problem = await read_prometheus_states(PromClient(http, "http://127.0.0.1:9"))
    assert states == {}
    assert problem == "rules: cannot reach Prometheus at http://127.0.0.1:9: connection refused"


@pytest.mark.prometheus
async def test_prometheus_loads_the_rules_command_output(lab, poll, tmp_path: Path) -> None:
    rules_file = tmp_path / "nimify-rules.yml"
    rules_file.write_text(the_rules_command_output(), encoding="utf-8")
    sim = await lab.serve_sim()
    server = await lab.start_prometheus([sim], rule_files=[rules_file])
    async with httpx.AsyncClient() as http:
        states, problem = await read_prometheus_states(PromClient(http, server.url))
    assert problem == ""
    # Prometheus prints back each expression as the rules file has it: nothing differs, every rule inactive
    assert {name: (s.state, s.source, s.detail, s.for_s) for name, s in states.items()} == {
        "NimifyAPIDown": ("inactive", "prometheus", "", 30.0),
        "NimifyHighErrorRate": ("inactive", "prometheus", "", 120.0),
        "NimifyHighLatency": ("inactive", "prometheus", "", 300.0),
    }


@pytest.mark.prometheus
async def test_alert_states_follow_an_outage_as_prometheus_holds_them(lab, poll, tmp_path: Path) -> None:
    rules = short()
    rules_file = tmp_path / "nimify-rules.yml"
    write_rules_file(rules_file, rules, window=SHORT_WINDOW)
    sim = await lab.serve_sim()
    server = await lab.start_prometheus([sim], rule_files=[rules_file])
    seen: dict[str, list[str]] = {}
    async with httpx.AsyncClient() as http:
        prom = PromClient(http, server.url)

        async def states_when(name: str, phase: str) -> dict[str, RuleState] | None:
            states, problem = await read_prometheus_states(prom, rules, window=SHORT_WINDOW)
            assert problem == ""
            for state in states.values():
                timeline = seen.setdefault(state.name, [])
                if not timeline or timeline[-1] != state.state:
                    timeline.append(state.state)
            return states if states[name].state == phase else None

        await poll(lambda: states_when("NimifyHighLatency", "inactive"), within_s=20.0, what="the calm sim")
        sim.world.load.offered_rps = 3 * PER_REPLICA_CAPACITY_RPS  # two of three requests rejected with 503
        outage = await poll(
            lambda: states_when("NimifyHighErrorRate", "firing"), within_s=20.0, what="the error rate firing"
        )
        errors = outage["NimifyHighErrorRate"]
        # the corrected rule: the share of 5xx (2/3 of the requests once the window holds only the overload)
        assert 0.3 < (errors.value or 0.0) <= 0.7
        assert errors.since == pytest.approx((errors.active_at or 0.0) + SHORT_FOR_S)
        assert errors.since is not None and errors.since <= time.time() + 1.0
        assert errors.detail == ""

        await sim.stop()
        down = await poll(lambda: states_when("NimifyAPIDown", "firing"), within_s=15.0, what="NimifyAPIDown firing")
        assert (down["NimifyAPIDown"].value, down["NimifyAPIDown"].labels["instance"]) == (0.0, sim.address)
    # each fired only after a pending hold, as the app read it
    assert seen["NimifyHighErrorRate"][:3] == ["inactive", "pending", "firing"]
    assert seen["NimifyAPIDown"][:3] == ["inactive", "pending", "firing"]


@pytest.mark.prometheus
async def test_the_runbooks_error_rate_fires_on_any_5xx_and_the_app_says_so(lab, poll, tmp_path: Path) -> None:
    as_written = replace(
        HIGH_ERROR_RATE, query=HIGH_ERROR_RATE.runbook_query, runbook_query="", correction="", for_s=SHORT_FOR_S
    )
    rules_file = tmp_path / "runbook-rules.yml"
    write_rules_file(rules_file, (as_written,), window=SHORT_WINDOW)
    sim = await lab.serve_sim()
    server = await lab.start_prometheus([sim], rule_files=[rules_file])
    sim.world.load.offered_rps = 1.2 * PER_REPLICA_CAPACITY_RPS  # about one request in six rejected
    async with httpx.AsyncClient() as http:
        prom = PromClient(http, server.url)

        async def firing() -> RuleState | None:
            states, _ = await read_prometheus_states(
                prom, (replace(HIGH_ERROR_RATE, for_s=SHORT_FOR_S),), window=SHORT_WINDOW
            )
            state = states.get("NimifyHighErrorRate")
            return state if state is not None and state.state == "firing" else None

        state = await poll(firing, within_s=25.0, what="the runbook's error rate firing")
    assert state.value == 1.0  # each 5xx series divided by itself
    assert state.detail.startswith("Prometheus runs the runbook's expression, which is wrong: the runbook divides")


@pytest.mark.prometheus
async def test_the_built_in_evaluation_agrees_with_prometheus(lab, poll, tmp_path: Path) -> None:
    """The same simulated nimify-api, scraped by Prometheus and by the built-in evaluator every half second: once
    the overload has filled the window, both fire the error rate with about the same ratio."""
    rules = short()
    rules_file = tmp_path / "nimify-rules.yml"
    write_rules_file(rules_file, rules, window=SHORT_WINDOW)
    sim = await lab.serve_sim()
    server = await lab.start_prometheus([sim], rule_files=[rules_file], interval="500ms")
    builtin = BuiltinAlerts(rules, window_s=3.0)
    async with httpx.AsyncClient() as http:
        prom = PromClient(http, server.url)

        async def both_firing() -> tuple[RuleState, RuleState] | None:
            scraped = await http.get(f"http://{sim.address}/metrics")
            now = time.time()
            builtin.observe(sim.address, parse_metrics(scraped.text, now))
            mine = {s.name: s for s in builtin.evaluate(now)}["NimifyHighErrorRate"]
            theirs = (await read_prometheus_states(prom, rules, window=SHORT_WINDOW))[0]["NimifyHighErrorRate"]
            return (mine, theirs) if mine.state == theirs.state == "firing" else None

        async def scraped_by_prometheus() -> bool | None:
            up = await prom.query('up{job="nimify-api"}')
            return True if isinstance(up, Vector) and up.samples else None

        await poll(scraped_by_prometheus, within_s=20.0, what="Prometheus' first scrape of the sim")
        sim.world.load.offered_rps = 3 * PER_REPLICA_CAPACITY_RPS
        mine, theirs = await poll(both_firing, within_s=25.0, what="both firing the error rate", every_s=0.5)
    assert mine.value == pytest.approx(theirs.value, abs=0.05)
    assert mine.value == pytest.approx(2 / 3, abs=0.05)
    # each became active within a couple of scrapes of the other
    assert abs((mine.active_at or 0.0) - (theirs.active_at or 0.0)) < 2.0
