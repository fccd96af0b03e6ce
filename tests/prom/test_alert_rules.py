"""The runbook's alert rules: their text, the rules file promtool and Prometheus load, and their evaluation.

The outage test runs a real Prometheus scraping a simulated nimify-api and loading the generated rules file,
with short windows (``[3s]`` and ``for: 2s``) so that it takes seconds; it checks the evaluator against the
sim and against Prometheus' own alert states.
"""

from __future__ import annotations

import math
import re
import shutil
import subprocess
import time
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
import yaml

from nimify_tui.metrics.alerts import (
    API_DOWN,
    HIGH_ERROR_RATE,
    HIGH_LATENCY,
    RUNBOOK_RULES,
    AlertRule,
    AlertState,
    AlertStatus,
    duration_text,
    evaluate_alerts,
    judge,
    rules_file_text,
)
from nimify_tui.metrics.prom import Matrix, PromClient, Series, Vector
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
SHORT_WINDOW = "3s"
SHORT_FOR_S = 2.0


def write_rules_file(path: Path, rules: tuple[AlertRule, ...], *, window: str) -> None:
    path.write_text(rules_file_text(rules, window=window), encoding="utf-8")


def test_the_rules_are_the_runbooks_verbatim() -> None:
    assert {rule.name: (rule.expr(), duration_text(rule.for_s)) for rule in RUNBOOK_RULES} == RUNBOOK_EXPRESSIONS
    text = rules_file_text()
    for expr, for_text in RUNBOOK_EXPRESSIONS.values():
        assert f"    expr: {expr}\n    for: {for_text}\n" in text


def test_the_rules_match_the_runbook_document() -> None:
    found = re.search(r"```yaml\n(# Add more comprehensive health checks\n.*?)```", RUNBOOK.read_text(), re.S)
    assert found, "the runbook's alert rules block"
    documented = yaml.safe_load(found.group(1))
    generated = yaml.safe_load(rules_file_text())["groups"][0]["rules"]
    assert [{"alert": r["alert"], "expr": r["expr"], "for": r["for"]} for r in generated] == documented


@pytest.mark.prometheus
@pytest.mark.parametrize(("window", "for_s"), [("5m", None), (SHORT_WINDOW, SHORT_FOR_S)])
def test_promtool_accepts_the_rules_file(tmp_path: Path, window: str, for_s: float | None) -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool is not installed (Debian package 'prometheus')")
    rules = RUNBOOK_RULES if for_s is None else tuple(replace(rule, for_s=for_s) for rule in RUNBOOK_RULES)
    path = tmp_path / "nimify-rules.yml"
    write_rules_file(path, rules, window=window)
    checked = subprocess.run(
        [promtool, "check", "rules", str(path)], capture_output=True, text=True, timeout=60, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS: 3 rules found" in checked.stdout
    assert f"[{window}]" in path.read_text()


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


# --- judging a rule from its query over the last ``for`` seconds: pure, from hand-made matrices -------------

END_MS = 1_800_000_000_000
STEP_MS = 3000  # API_DOWN: for 30 s in 10 steps


def series(values: list[float], *, ending_ms: int = END_MS, **labels: str) -> Series:
    start = ending_ms - STEP_MS * (len(values) - 1)
    return Series(labels, tuple(((start + STEP_MS * k) / 1000, value) for k, value in enumerate(values)))


def test_breached_at_every_step_of_for_is_firing() -> None:
    status = judge(API_DOWN, Matrix((series([0.0] * 11, instance="a"),)), END_MS, STEP_MS)
    assert (status.state, status.value, status.held_s) == (AlertState.FIRING, 0.0, 30.0)
    assert status.labels == {"instance": "a"}


def test_breached_for_less_than_for_is_pending() -> None:
    status = judge(API_DOWN, Matrix((series([1.0] * 7 + [0.0] * 4),)), END_MS, STEP_MS)
    assert (status.state, status.held_s) == (AlertState.PENDING, 9.0)


def test_a_gap_in_the_points_restarts_the_count() -> None:
    before_gap = series([0.0] * 5, ending_ms=END_MS - 6 * STEP_MS)
    after_gap = series([0.0] * 5)
    joined = Series({}, before_gap.points + after_gap.points)
    status = judge(API_DOWN, Matrix((joined,)), END_MS, STEP_MS)
    assert (status.state, status.held_s) == (AlertState.PENDING, 12.0)


def test_the_worst_series_decides_and_absent_series_are_ignored() -> None:
    matrix = Matrix(
        (
            series([0.0] * 11, ending_ms=END_MS - STEP_MS, instance="gone"),  # no point now
            series([1.0] * 11, instance="healthy"),
            series([1.0] * 9 + [0.0] * 2, instance="failing"),
        )
    )
    status = judge(API_DOWN, matrix, END_MS, STEP_MS)
    assert (status.state, status.labels) == (AlertState.PENDING, {"instance": "failing"})


def test_nan_never_breaches_and_the_highest_value_is_shown() -> None:
    matrix = Matrix((series([math.nan] * 3, status="502"), series([0.004] * 3, status="503")))
    status = judge(HIGH_ERROR_RATE, matrix, END_MS, STEP_MS)
    assert (status.state, status.value, status.labels) == (AlertState.OK, 0.004, {"status": "503"})


@pytest.mark.parametrize(("rule", "state"), [(API_DOWN, AlertState.UNKNOWN), (HIGH_ERROR_RATE, AlertState.OK)])
def test_no_series_means_what_the_rule_says(rule: AlertRule, state: AlertState) -> None:
    status = judge(rule, Matrix(()), END_MS, STEP_MS)
    assert status == AlertStatus(rule, state, detail=rule.no_data_reason)


async def test_an_unreachable_prometheus_leaves_every_rule_unknown() -> None:
    async with httpx.AsyncClient() as http:
        statuses = await evaluate_alerts(PromClient(http, "http://127.0.0.1:9"))
    assert [status.rule for status in statuses] == list(RUNBOOK_RULES)
    for status in statuses:
        assert status.state == AlertState.UNKNOWN
        assert status.value is None
        assert status.detail.endswith(": cannot reach Prometheus at http://127.0.0.1:9: connection refused")


# --- an outage, scraped and judged by a real Prometheus --------------------------------------------------------


ALERTS_STEP_S = 0.25  # several points in each state of ``for: 2s`` evaluated every second


async def prometheus_alert_states(prom: PromClient, start: float, end: float) -> dict[str, list[str]]:
    """The states Prometheus' own rule manager gave each alert between ``start`` and ``end``, in order, without
    repeats: its ``ALERTS`` series, read after the fact."""
    matrix = await prom.query_range("ALERTS", start, end, ALERTS_STEP_S)
    assert isinstance(matrix, Matrix)
    timelines: dict[str, list[tuple[float, str]]] = {}
    for series in matrix.series:
        timeline = timelines.setdefault(series.labels["alertname"], [])
        timeline.extend((at, series.labels["alertstate"]) for at, _ in series.points)
    states: dict[str, list[str]] = {}
    for name, timeline in timelines.items():
        for _, state in sorted(timeline):
            if not states.get(name) or states[name][-1] != state:
                states.setdefault(name, []).append(state)
    return states


async def prometheus_alerts(prom: PromClient) -> set[str]:
    """The alerts Prometheus' own rule manager has firing."""
    vector = await prom.query('ALERTS{alertstate="firing"}')
    assert isinstance(vector, Vector)
    return {sample.labels["alertname"] for sample in vector.samples}


@pytest.mark.prometheus
async def test_alerts_follow_an_outage_as_prometheus_does(lab, poll, tmp_path: Path) -> None:
    rules = [replace(rule, for_s=SHORT_FOR_S) for rule in RUNBOOK_RULES]
    rules_file = tmp_path / "nimify-rules.yml"
    write_rules_file(rules_file, rules, window=SHORT_WINDOW)
    sim = await lab.serve_sim()
    server = await lab.start_prometheus([sim], rule_files=[rules_file])
    started = time.time()
    async with httpx.AsyncClient() as http:
        prom = PromClient(http, server.url)

        async def statuses_when(done) -> dict[str, AlertStatus] | None:
            current = {status.rule.name: status for status in await evaluate_alerts(prom, rules, window=SHORT_WINDOW)}
            return current if done(current) else None

        calm = await poll(
            lambda: statuses_when(lambda s: _has_value(s["NimifyHighLatency"])),
            within_s=20.0,
            what="a p95 of the calm sim",
        )
        assert calm["NimifyAPIDown"].state == AlertState.OK
        assert (calm["NimifyAPIDown"].value, calm["NimifyAPIDown"].labels["instance"]) == (1.0, sim.address)
        assert calm["NimifyHighErrorRate"] == AlertStatus(rules[1], AlertState.OK, detail="no 5xx responses counted")
        assert calm["NimifyHighLatency"].state == AlertState.OK
        assert 0.01 < (calm["NimifyHighLatency"].value or 0.0) < 0.1

        sim.world.load.offered_rps = 3 * PER_REPLICA_CAPACITY_RPS  # two of three requests rejected with 503
        sim.world.load.extra_queue_ms = 300.0
        outage = await poll(
            lambda: statuses_when(
                lambda s: s["NimifyHighErrorRate"].state == s["NimifyHighLatency"].state == AlertState.FIRING
            ),
            within_s=15.0,
            what="error rate and latency firing",
        )
        errors = outage["NimifyHighErrorRate"]
        # The runbook's expression divides each 5xx series by itself (the labels match one to one), so its
        # value is 1 whatever the share of errors (2/3 here): it fires on any 5xx at all.
        assert (errors.value, errors.labels["status"]) == (1.0, "503")
        assert errors.held_s >= SHORT_FOR_S
        assert 0.5 < (outage["NimifyHighLatency"].value or 0.0) < 1.0
        assert outage["NimifyAPIDown"].state == AlertState.OK
        assert await poll(
            lambda: _when_firing(prom, {"NimifyHighErrorRate", "NimifyHighLatency"}),
            within_s=10.0,
            what="Prometheus firing the same alerts",
        )

        await sim.stop()
        down = await poll(
            lambda: statuses_when(lambda s: s["NimifyAPIDown"].state == AlertState.FIRING),
            within_s=10.0,
            what="NimifyAPIDown firing",
        )
        assert (down["NimifyAPIDown"].value, down["NimifyAPIDown"].labels["instance"]) == (0.0, sim.address)
        assert await poll(
            lambda: _when_firing(prom, {"NimifyAPIDown"}), within_s=10.0, what="Prometheus firing NimifyAPIDown"
        )
        # each rule held its condition for its ``for`` (pending) before it fired, as Prometheus recorded it
        # one step past now, so that the last step of the range falls after the evaluation that just fired
        states = await prometheus_alert_states(prom, started, time.time() + ALERTS_STEP_S)
        assert {name: states.get(name) for name in RUNBOOK_EXPRESSIONS} == {
            name: ["pending", "firing"] for name in RUNBOOK_EXPRESSIONS
        }


def _has_value(status: AlertStatus) -> bool:
    return status.value is not None and not math.isnan(status.value)


async def _when_firing(prom: PromClient, names: set[str]) -> bool | None:
    return True if names <= await prometheus_alerts(prom) else None
