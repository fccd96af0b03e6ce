"""A malformed pod in a list is read as the record decoder reads it, instead of losing its namespace's pods."""

from __future__ import annotations

from nimify_tui.snapshot.take import ListedPod


def test_a_malformed_pod_is_still_listed_with_what_could_be_read() -> None:
    odd = ListedPod.of({"metadata": {"name": "p", "labels": {"app": "x"}}, "status": 5, "spec": []}, "ns")
    assert (odd.namespace, odd.name, dict(odd.labels)) == ("ns", "p", {"app": "x"})
    garbage = ListedPod.of({"metadata": "not a mapping"}, "ns")
    assert (garbage.namespace, garbage.name) == ("ns", "")
