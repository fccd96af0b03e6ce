"""Recovery verification against the simulated cluster, through the API server's service proxy as in a real
cluster: it fails while an outage lasts and passes once the diagnosis's own fix is applied, with the load test's
figures in the journal; a read-only session sends no POST at all."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from nimify_tui.actions.registry import REMEDY_BY_ID, PlanExtras
from nimify_tui.actions.runner import ActionRunner
from nimify_tui.journal.journal import Journal, read_journal
from nimify_tui.kube.client import KubeClient
from nimify_tui.live.runtime import Runtime, RuntimeOptions
from nimify_tui.recovery.result import HEALTH, LOAD, MONITORING, READ_ONLY_NOT_RUN, RecoveryResult
from nimify_tui.recovery.verifier import RECOVERY, RecoveryVerifier
from nimify_tui.recovery.verify import CAPACITY_CHECK, USERS_PATH_CHECK, VerifyOptions
from nimify_tui.sim.k8s.kubeconfig import write_kubeconfig
from nimify_tui.sim.k8s.layout import API_HOST
from nimify_tui.sim.k8s.tls import self_signed
from nimify_tui.sim.server import SimThread
from nimify_tui.triage.diagnosis import Diagnosis
from nimify_tui.triage.source import TriageSource
from nimify_tui.ui.remediation import action_values

from ..waiting import wait_for

SETTLE_S = 4.0  # the simulated Prometheus scrapes every 5 simulated seconds: at speed 4, under 1.5 s
FAST = RuntimeOptions(
    probe_interval=0.5, triton_interval=0.5, scrape_interval=0.5, metrics_api_interval=1.0, tls_interval=1.0
)
# every outage whose fix the triage offers and the app applies (with every value filled in, or the renewed
# certificate's files); node-not-ready's fix is the node back or retired, outside the app: see the test after
FIXED_BY_THE_TRIAGE = (
    "bad-rollout",
    "gpu-xid",
    "ingress-broken",
    "tls-expired",
    "crashloop-oom",
    "storage-full",
    "resource-exhaustion",
    "latency-spike",
    "triton-down",
    "config-error",
    "image-pull",
    "database-down",
    "service-selector",
)


class Session:
    """A runtime, its triage, a journal and the verifier, over one simulated cluster."""

    def __init__(self, sim: SimThread, folder: Path, user: str = "sim-admin", readonly: bool = False) -> None:
        kubeconfig = folder / "kubeconfig"
        write_kubeconfig(sim, kubeconfig)
        self.client = KubeClient.from_kubeconfig(str(kubeconfig), user, readonly=readonly)
        self.runtime = Runtime(self.client, FAST)
        self.triage = TriageSource(self.runtime.store)
        self.journal = Journal.open(folder / "journal")
        self.verifier = RecoveryVerifier(
            self.runtime,
            VerifyOptions(readonly=self.client.readonly, prometheus_settle_s=SETTLE_S),
            journal=lambda: self.journal,
        )

    def __enter__(self) -> Session:
        self.runtime.start()
        self.triage.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.triage.stop()
        self.runtime.stop()
        self.journal.close()

    def verify(self, timeout_s: float = 30) -> RecoveryResult:
        assert self.verifier.start()

        def done() -> RecoveryResult | None:
            result = self.runtime.store.value(RECOVERY)
            return result if result is not None and result.outcome != "running" else None

        return wait_for(done, "the verification's end", timeout_s=timeout_s)

    def top(self, wanted: Callable[[Diagnosis], bool], what: str, timeout_s: float = 40) -> Diagnosis:
        def found() -> Diagnosis | None:
            diagnoses = self.triage.run_once().diagnoses
            return diagnoses[0] if diagnoses and wanted(diagnoses[0]) else None

        return wait_for(found, what, timeout_s=timeout_s)

    def entries(self, kind: str) -> list[dict[str, Any]]:
        return [entry for entry in read_journal(self.journal.path) if entry["kind"] == kind]


def renewed_certificate(folder: Path) -> dict[str, str]:
    """The values of the TLS fix: a certificate for the ingress's host valid for 90 days, and its key, as files."""
    now = time.time()
    cert, key = self_signed(API_HOST, now - 60, now + 90 * 86400)
    (folder / "tls.crt").write_bytes(cert)
    (folder / "tls.key").write_bytes(key)
    return {"cert": str(folder / "tls.crt"), "key": str(folder / "tls.key")}


def failed_checks(result: RecoveryResult) -> list[str]:
    return [check.name for check in result.checks if check.state == "fail"]


@pytest.mark.parametrize("scenario", FIXED_BY_THE_TRIAGE)
def test_verification_fails_during_the_outage_and_passes_after_the_fix(
    scenario: str, sim_factory: Callable[..., SimThread], tmp_path: Path
) -> None:
    sim = sim_factory(scenario=scenario, speed=4.0)
    with Session(sim, tmp_path) as session:
        top = session.top(lambda d: d.fix is not None, "a diagnosis with its fix")
        before = session.verify()
        assert before.outcome == "failed", before
        assert failed_checks(before), before
        if scenario == "latency-spike":  # Triton overloaded: requests wait long, and some are turned away
            assert "load test" in failed_checks(before), before
            assert set(failed_checks(before)) <= {"load test", "api POST /v1/predict"}, before
            assert before.load is not None and before.load.p95_ms > 500 and before.load.errors > 0, before.load
            assert "Triton rejected the request" in before.load.first_error
        elif scenario in ("ingress-broken", "tls-expired"):  # the service answers; the way in does not
            assert failed_checks(before) == [USERS_PATH_CHECK], before
        elif scenario in ("bad-rollout", "gpu-xid"):  # the old pods, or the GPUs left, serve: capacity is short
            assert CAPACITY_CHECK in failed_checks(before), before
        elif scenario == "image-pull":  # the old pods serve; the new one, never started, is a target down
            assert failed_checks(before) == [CAPACITY_CHECK, "prometheus targets", 'up{job="nimify-api"}'], before
        else:  # users are not served: the end-to-end predict fails
            assert "api POST /v1/predict" in failed_checks(before), before

        fix = top.fix
        assert fix is not None
        runner = ActionRunner(session.client, session.journal)
        runner.done_listeners.append(lambda action, at: session.verifier.action_done(action.summary(), at))
        planner = REMEDY_BY_ID[fix.remedy].plan
        values = action_values(fix) if scenario != "tls-expired" else renewed_certificate(tmp_path)
        action = planner(session.client, fix.namespace, fix.name, PlanExtras()).with_values(values)
        runner.run(action, lambda prepared: True)

        def auto_verified() -> RecoveryResult | None:
            session.verifier.check_cleared()
            result = session.runtime.store.value(RECOVERY)
            return result if result is not None and result.trigger == "auto" and result.outcome != "running" else None

        if scenario != "gpu-xid":  # there the GPU stays lost: the diagnosis stays, its next fix the cordon
            wait_for(auto_verified, "a verification started by itself once the diagnosis cleared", timeout_s=90)
        after = wait_for(
            lambda: (r := session.verify()).outcome == "verified" and r, "a verification that passes", timeout_s=90
        )
        assert all(after.step_state(step) == "pass" for step in (HEALTH, MONITORING, LOAD)), after
        assert after.after_action == action.summary() or scenario == "gpu-xid"

    outcomes = session.entries("recovery")
    assert outcomes[0]["outcome"] == "failed" and outcomes[-1]["outcome"] == "verified"
    load = outcomes[-1]["load_test"]
    assert load["requests"] == 10 and load["concurrency"] == 10 and load["errors"] == 0
    assert 0 < load["p50_ms"] <= load["p95_ms"] <= load["max_ms"]
    assert sum(count for _, count in load["histogram_ms"]) == 10
    checks = [e for e in session.entries("recovery_check") if e["verification"] == outcomes[-1]["verification"]]
    assert [e["state"] for e in checks] == ["pass"] * 9


def test_read_only_sends_no_post_and_still_runs_the_gets(sim_factory: Callable[..., SimThread], tmp_path: Path) -> None:
    sim = sim_factory(scenario="healthy", speed=4.0)
    with Session(sim, tmp_path, user="sim-readonly", readonly=True) as session:
        before = len(sim.request_log)
        result = session.verify()
        sent = sim.request_log[before:]
    assert result.outcome == "incomplete", result
    not_run = {check.name: check.detail for check in result.checks if check.state == "not-run"}
    assert not_run == {"api POST /v1/predict": READ_ONLY_NOT_RUN, "load test": READ_ONLY_NOT_RUN}
    assert [c.state for c in result.checks if c.name not in not_run] == ["pass"] * 7
    assert [r for r in sent if r.method != "GET"] == []
    proxied = {r.path.split("/proxy", 1)[1] for r in sent if "/proxy" in r.path}
    assert {"/health", "/v1/models", "/metrics", "/api/v1/targets", "/api/v1/query"} <= proxied
    assert "/v1/predict" not in proxied


def test_a_lost_node_fails_verification_even_cordoned_and_passes_once_it_is_retired(
    sim_factory: Callable[..., SimThread], tmp_path: Path
) -> None:
    """node-not-ready: nimify-api's pods on the lost node are stuck. The app's fix (cordon) stops new pods going
    there, but the scenario's fix is the node back or retired (`kubectl delete node`, outside the app): verification
    fails until then, on capacity, and passes after."""
    sim = sim_factory(scenario="node-not-ready", speed=4.0)
    with Session(sim, tmp_path) as session:
        top = session.top(lambda d: d.fix is not None and d.fix.action == "cordon", "the cordon fix")
        before = session.verify()
        assert before.outcome == "failed" and CAPACITY_CHECK in failed_checks(before), before
        fix = top.fix
        assert fix is not None
        action = REMEDY_BY_ID[fix.remedy].plan(session.client, fix.namespace, fix.name, PlanExtras())
        ActionRunner(session.client, session.journal).run(action, lambda prepared: True)
        cordoned = session.verify()
        capacity = next(check for check in cordoned.checks if check.name == CAPACITY_CHECK)
        assert cordoned.outcome == "failed" and "on a node not Ready" in capacity.detail, cordoned
        session.client.request("DELETE", f"/api/v1/nodes/{fix.name}")  # retired, as the runbook says, by hand
        after = wait_for(
            lambda: (r := session.verify()).outcome == "verified" and r, "a verification that passes", timeout_s=60
        )
    assert all(check.state == "pass" for check in after.checks), after


def test_capacity_is_unknown_until_the_pods_and_nodes_are_listed(
    sim_factory: Callable[..., SimThread], tmp_path: Path
) -> None:
    """Pods stuck on a lost node are only seen once the pods are listed: before that, capacity is not a pass but
    "unknown:" (asked again), even with both deployments complete."""
    from nimify_tui.live.store import SourceHealth

    sim = sim_factory(scenario="node-not-ready", speed=4.0)
    with Session(sim, tmp_path) as session:
        store = session.runtime.store
        wait_for(lambda: store.have_loaded(["pods", "nodes", "deployments"]), "the first lists")
        said, passed = session.verifier._capacity()
        assert not passed and "on a node not Ready" in said, said
        source = next(name for name in store.health() if name.startswith("pods/"))
        store.set_health(source, SourceHealth("syncing"))
        said, passed = session.verifier._capacity()
        assert (said, passed) == ("unknown: the pods and nodes are not listed yet", False)
