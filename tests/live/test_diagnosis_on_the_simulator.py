"""Every outage of the simulator, diagnosed by the live sources and the triage as a real cluster would be: the right
scenario first, with the fix its evidence supports; the healthy cluster has none."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from nimify_tui.kube.client import KubeClient
from nimify_tui.live.runtime import Runtime, RuntimeOptions
from nimify_tui.sim.k8s.kubeconfig import write_kubeconfig
from nimify_tui.sim.server import SimThread
from nimify_tui.triage.diagnosis import Diagnosis
from nimify_tui.triage.source import TriageSource

from ..waiting import wait_for

FAST = RuntimeOptions(
    probe_interval=0.5, triton_interval=0.5, scrape_interval=0.5, metrics_api_interval=1.0, tls_interval=1.0
)

# scenario -> (diagnosis scenario, fix action, fix target, parameters that must hold)
EXPECTED: dict[str, tuple[str, str | None, str | None, dict[str, str]]] = {
    "crashloop-oom": ("crash-loop", "set-resources", "nimify-system/deployment/nimify-api", {"limits.memory": "2Gi"}),
    "bad-rollout": ("crash-loop", "rollout-undo", "nimify-system/deployment/nimify-api", {"revision": "3"}),
    "resource-exhaustion": (
        "resource-exhaustion",
        "scale",
        "nimify-system/deployment/nimify-worker",
        {"replicas": "1"},
    ),
    "storage-full": (
        "storage",
        "expand-pvc",
        "nimify-system/persistentvolumeclaim/model-storage",
        {"storage": "200Gi"},
    ),
    "ingress-broken": ("network", "rollout-restart", "ingress-nginx/deployment/nginx-ingress-controller", {}),
    "triton-down": ("dependency", "load-model", "triton-system/model/nimify-model", {}),
    "gpu-xid": ("infrastructure", "scale", "triton-system/deployment/triton-server", {"replicas": "7"}),
    "latency-spike": ("latency", "scale", "triton-system/deployment/triton-server", {}),
    "config-error": (
        "crash-loop",
        "edit-config",
        "nimify-system/configmap/nimify-config",
        {"remove-key": "triton.max_batch_sise", "restart": "nimify-api"},
    ),
    "image-pull": ("crash-loop", "rollout-undo", "nimify-system/deployment/nimify-api", {"revision": "3"}),
    "database-down": ("dependency", "scale", "nimify-system/deployment/postgres", {"replicas": "1"}),
    "service-selector": ("network", "rollout-undo", "nimify-system/deployment/nimify-api", {"revision": "3"}),
    "tls-expired": ("network", "replace-tls", "nimify-system/secret/nimify-tls", {}),
    "node-not-ready": ("infrastructure", "cordon", "node/cpu-node-2", {}),
}


def top_diagnosis(sim: SimThread, folder: Path, wanted: Callable[[Diagnosis], bool]) -> Diagnosis:
    kubeconfig = folder / "kubeconfig"
    write_kubeconfig(sim, kubeconfig)
    runtime = Runtime(KubeClient.from_kubeconfig(str(kubeconfig), "sim-admin"), FAST)
    runtime.start()
    triage = TriageSource(runtime.store)
    try:

        def found() -> Diagnosis | None:
            diagnoses = triage.run_once().diagnoses
            return diagnoses[0] if diagnoses and wanted(diagnoses[0]) else None

        return wait_for(found, "the expected diagnosis first", timeout_s=40)
    finally:
        runtime.stop()


@pytest.mark.parametrize("scenario", sorted(EXPECTED))
def test_each_outage_is_diagnosed_with_its_fix(
    scenario: str, sim_factory: Callable[..., SimThread], tmp_path: Path
) -> None:
    kind, action, target, parameters = EXPECTED[scenario]

    def right(diagnosis: Diagnosis) -> bool:
        fix = diagnosis.fix
        return diagnosis.scenario == kind and (
            (fix is None and action is None) or (fix is not None and (fix.action, fix.target) == (action, target))
        )

    diagnosis = top_diagnosis(sim_factory(scenario=scenario), tmp_path, right)
    assert diagnosis.cause and diagnosis.evidence
    if diagnosis.fix is not None:
        assert {k: diagnosis.fix.parameters[k] for k in parameters} == parameters
    if scenario == "latency-spike":
        assert diagnosis.fix is not None and int(diagnosis.fix.parameters["replicas"]) > 2


def test_the_healthy_cluster_has_no_diagnosis(sim_factory: Callable[..., SimThread], tmp_path: Path) -> None:
    sim = sim_factory(scenario="healthy")
    kubeconfig = tmp_path / "kubeconfig"
    write_kubeconfig(sim, kubeconfig)
    runtime = Runtime(KubeClient.from_kubeconfig(str(kubeconfig), "sim-admin"), FAST)
    runtime.start()
    try:
        triage = TriageSource(runtime.store)
        settled = wait_for(
            lambda: (t := triage.run_once()).overall == "OK" and t, "every source in and the state OK", timeout_s=30
        )
        assert settled.diagnoses == ()
        assert [f.check for f in settled.findings if f.state == "fail"] == []
    finally:
        runtime.stop()
