"""Snapshot tests of the main screen at 160x45 and 80x24, from a frozen store of real captures.

The live sources are not started: the store holds real Kubernetes objects (fixtures), a DCGM capture and fixed
probe/Triton/latency readings, and the app's clock is frozen, so every age and graph is the same on every run.
Update the snapshots with ``pytest tests/ui/test_snapshots.py --snapshot-update`` after a deliberate UI change.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nimify_tui.config import load_settings
from nimify_tui.gpu.dcgm import gpus_from_dcgm
from nimify_tui.gpu.merge import merge_gpu_readings
from nimify_tui.gpu.records import GpuReading
from nimify_tui.kube.client import KubeClient
from nimify_tui.kube.records import DECODERS
from nimify_tui.live.keys import GPUS, LATENCY, PROBES, RECORDS, TRITON
from nimify_tui.live.store import SourceHealth
from nimify_tui.metrics.api_latency import LatencyHistory, LatencyPoint
from nimify_tui.metrics.scrape import parse_metrics
from nimify_tui.probes import ProbeResult
from nimify_tui.triton.latency import ModelInterval
from nimify_tui.triton.poller import ModelState, ServerState, TritonView
from nimify_tui.ui.app import NimifyApp

from ..conftest import real_json, real_text

NOW = 1_767_859_800.0  # 2026-01-08T08:10:00Z: three minutes after the newest capture's OOM kill


def fixture(path: str) -> Any:
    return real_json(path) if path.endswith(".json") else real_text(path)


def interval(rate: float, queue_us: float, compute_us: float, failures: int = 0) -> ModelInterval:
    requests = int(rate * 2)
    return ModelInterval(
        "nimify-model", "1", 2.0, False, requests, failures, rate, rate, failures / requests if requests else None,
        1.0, queue_us + compute_us, queue_us, compute_us * 0.1, compute_us * 0.8, compute_us * 0.1, None, 3,
    )  # fmt: skip


class FrozenApp(NimifyApp):
    """The real app and screen, fed from a fixed store instead of live sources."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.clock = lambda: NOW  # frozen before anything is drawn
        self.namespace_shown = "all"  # the captures come from several namespaces
        store = self.runtime.store
        for kind, path in (
            ("pods", "k8s/01_pod_oomkilled_restarted__kuberay_issue4356.converted.json"),
            ("pods", "k8s/01b_pod_crashloopbackoff__kubesphere_issue4920.converted.json"),
            ("events", "k8s/04_event_corev1__k9s_ev.json"),
            ("nodes", "k8s/03_node_minikube__k9s_no.json"),
            ("deployments", "k8s/05_deployment_healthy__k9s_dp.json"),
        ):
            record = DECODERS[kind](fixture(path))
            store.upsert(RECORDS[kind], (getattr(record, "namespace", ""), record.name), record)
        for source in ("pods/ray-llm", "events/default", "nodes", "triton", "metrics"):
            store.set_health(source, SourceHealth("live", last_ok=NOW))
        store.put(
            PROBES,
            [
                ProbeResult("api /health", True, 200, 11.0, "", NOW, ""),
                ProbeResult("api /ready", False, 503, 9.0, "model 'nimify-model' is not ready", NOW, ""),
                ProbeResult("triton live", True, 200, 8.0, "", NOW, ""),
                ProbeResult("triton ready", False, 400, 7.0, "", NOW, ""),
                ProbeResult("prometheus", True, 200, 5.0, "", NOW, ""),
            ],
        )
        store.put(
            TRITON,
            TritonView(
                (ServerState("triton-server-0", True, False, ""),),
                (
                    ModelState("nimify-model", "1", "READY", "", interval(118.0, 420_000, 14_000), ("triton-0",)),
                    ModelState("nimify-embedder", "1", "UNAVAILABLE", "unloaded", None, ("triton-0",)),
                ),
                NOW,
            ),
        )
        dcgm = parse_metrics(fixture("dcgm/dcgm_sample.txt"), NOW)
        store.put(GPUS, merge_gpu_readings([GpuReading("dcgm", gpus_from_dcgm(dcgm, "minikube"))], ["minikube"]))
        history = LatencyHistory()
        for step in range(120):
            t = NOW - 600 + step * 5
            p95 = 0.08 + (0.6 * step / 119) ** 2
            history = history.added(LatencyPoint(t, p95, 0.01 * step / 119, 90.0, 400.0 * step / 119, 14.0))
        store.put(LATENCY, history)


def frozen_app(folder: Path) -> FrozenApp:
    kubeconfig = folder / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: prod-us-east\n"
        "clusters: [{name: gpu-prod, cluster: {server: 'https://127.0.0.1:9'}}]\n"  # never contacted
        "users: [{name: oncall, user: {token: not-used}}]\n"
        "contexts: [{name: prod-us-east, context: {cluster: gpu-prod, user: oncall}}]\n"
    )
    settings = load_settings({}, {}, None)
    client = KubeClient.from_kubeconfig(str(kubeconfig))
    policy = settings.context_policy("prod-us-east")
    return FrozenApp(client, settings, policy=policy, record_journal=False, start_sources=False)


def test_main_screen_160x45(snap_compare: Any, tmp_path: Path) -> None:
    assert snap_compare(frozen_app(tmp_path), terminal_size=(160, 45))


def test_main_screen_80x24(snap_compare: Any, tmp_path: Path) -> None:
    assert snap_compare(frozen_app(tmp_path), terminal_size=(80, 24))
