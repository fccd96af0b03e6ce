"""Claims' volume use from a kubelet summary (the shape of the kubelet's stats/v1alpha1 Summary)."""

from __future__ import annotations

from typing import Any

from nimify_tui.kube.kubelet_stats import VolumeUsage, summary_path, volume_usage

GI = 2**30


def volume(name: str, used: int, capacity: int, claim: tuple[str, str] | None = None, **more: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "time": "2026-01-08T08:07:10Z",
        "availableBytes": capacity - used,
        "capacityBytes": capacity,
        "usedBytes": used,
        "name": name,
        **more,
    }
    if claim is not None:
        entry["pvcRef"] = {"namespace": claim[0], "name": claim[1]}
    return entry


def pod(name: str, volumes: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "podRef": {"name": name, "namespace": "nimify-system", "uid": f"uid-{name}"},
        "startTime": "2026-01-08T08:00:00Z",
        "containers": [{"name": "app", "startTime": "2026-01-08T08:00:05Z"}],
        "volume": volumes,
    }


SUMMARY = {
    "node": {"nodeName": "gpu-node-1", "startTime": "2026-01-01T00:00:00Z", "fs": {"capacityBytes": 200 * 10**9}},
    "pods": [
        pod(
            "nimify-api-1",
            [
                volume("kube-api-access-x2x7p", 12288, 16 * GI),  # projected token: no claim
                volume(
                    "model-storage",
                    99 * GI,
                    100 * GI,
                    ("nimify-system", "model-storage"),
                    inodes=6553600,
                    inodesFree=6553000,
                    inodesUsed=600,
                ),
            ],
        ),
        pod("nimify-api-2", [volume("model-storage", 98 * GI, 100 * GI, ("nimify-system", "model-storage"))]),
        pod("postgres-0", [volume("data", 3 * GI, 20 * GI, ("nimify-system", "postgres-data"))]),
        {"podRef": {"name": "starting", "namespace": "nimify-system"}},  # no volume stats yet
    ],
}


def test_each_claim_once_with_its_fullest_measurement() -> None:
    assert volume_usage(SUMMARY) == {
        ("nimify-system", "model-storage"): VolumeUsage(
            "nimify-system", "model-storage", "gpu-node-1", "nimify-api-1", 100 * GI, 99 * GI, GI, 6553600, 600
        ),
        ("nimify-system", "postgres-data"): VolumeUsage(
            "nimify-system", "postgres-data", "gpu-node-1", "postgres-0", 20 * GI, 3 * GI, 17 * GI
        ),
    }


def test_ratios() -> None:
    usage = volume_usage(SUMMARY)
    full = usage[("nimify-system", "model-storage")]
    assert full.used_ratio == 0.99 and full.inodes_used_ratio == 600 / 6553600
    assert usage[("nimify-system", "postgres-data")].inodes_used_ratio is None
    unmeasured = VolumeUsage("ns", "claim", "node", "pod", 0, 0, 0)
    assert unmeasured.used_ratio is None


def test_an_empty_or_odd_summary_gives_nothing() -> None:
    assert volume_usage({}) == {}
    odd = {"pods": [pod("p", [{"name": "v", "pvcRef": {"namespace": "ns"}}, volume("w", 1, 2, ("ns", "claim"))])]}
    odd["pods"][0]["volume"][1]["usedBytes"] = "1"  # not a number: counted as unknown (0), not a crash
    assert volume_usage(odd) == {("ns", "claim"): VolumeUsage("ns", "claim", "", "p", 2, 0, 1)}


def test_the_summary_is_reached_through_the_node_proxy() -> None:
    assert summary_path("gpu-node-1") == "/api/v1/nodes/gpu-node-1/proxy/stats/summary"
