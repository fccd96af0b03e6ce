"""The other decoders of what the sources answer, given malformed replies: Triton's statistics and the kubelet's
summary. Each never raises; what has the reply's shape is still read, the rest left out (and said, for Triton)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from nimify_tui.kube.kubelet_stats import volume_usage
from nimify_tui.triton.latency import counters_from_stats

from ..conftest import real_text
from .strategies import junk, paths_of, removed, replaced

TRITON_STATS = [
    json.loads(real_text("triton/triton_stats_sample.json")),
    json.loads(real_text("triton/triton_stats_sample_2021_backend_examples.json")),
]
KUBELET_SUMMARY = {
    "node": {"nodeName": "gpu-node-1"},
    "pods": [
        {
            "podRef": {"name": "nimify-api-0", "namespace": "nimify-system"},
            "volume": [
                {
                    "name": "models",
                    "pvcRef": {"name": "model-cache", "namespace": "nimify-system"},
                    "capacityBytes": 100,
                    "usedBytes": 97,
                    "availableBytes": 3,
                    "inodes": 10,
                    "inodesUsed": 2,
                }
            ],
        }
    ],
}


@st.composite
def broken(draw: st.DrawFn, samples: list[Any]) -> Any:
    sample = draw(st.sampled_from(samples))
    path = draw(st.sampled_from(paths_of(sample)))
    if path and draw(st.booleans()):
        return removed(sample, path)
    return replaced(sample, path, draw(junk))


def test_the_samples_are_read_whole() -> None:
    for sample in TRITON_STATS:
        unreadable: list[str] = []
        assert counters_from_stats(sample, unreadable) and unreadable == []
    (usage,) = volume_usage(KUBELET_SUMMARY).values()
    assert (usage.pvc, usage.used_bytes, usage.node) == ("model-cache", 97, "gpu-node-1")


@given(broken(TRITON_STATS))
def test_triton_statistics_of_any_shape_are_read_or_said_unreadable(stats: Any) -> None:
    unreadable: list[str] = []
    counters = counters_from_stats(stats, unreadable)
    for (name, version), counter in counters.items():
        assert isinstance(name, str) and isinstance(version, str)
        assert all(
            isinstance(value, int) for value in (counter.inference_count, counter.success_ns, counter.fail_count)
        )
    assert all(isinstance(note, str) for note in unreadable)


@given(broken([KUBELET_SUMMARY]))
def test_a_kubelet_summary_of_any_shape_is_read_as_far_as_it_can_be(summary: Any) -> None:
    for (namespace, claim), usage in volume_usage(summary).items():
        assert isinstance(namespace, str) and isinstance(claim, str) and claim
        assert isinstance(usage.used_bytes, int) and isinstance(usage.capacity_bytes, int)
