"""The snapshots taken by themselves: one at detection, one when the outage is over, and again for the next."""

from __future__ import annotations

from nimify_tui.snapshot.triggers import SnapshotTriggers


def test_detection_then_recovery_when_the_state_is_next_ok() -> None:
    triggers = SnapshotTriggers()
    assert triggers.observe(now=1, diagnosed=False, overall="UNKNOWN") is None
    assert triggers.observe(now=2, diagnosed=True, overall="DOWN") == "detection"
    assert triggers.observe(now=3, diagnosed=True, overall="DOWN") is None, "one detection snapshot an outage"
    assert triggers.observe(now=4, diagnosed=False, overall="DEGRADED") is None
    assert triggers.observe(now=5, diagnosed=False, overall="OK") == "recovery"
    assert triggers.observe(now=6, diagnosed=False, overall="OK") is None, "one recovery snapshot an outage"
    assert triggers.observe(now=7, diagnosed=True, overall="DOWN") == "detection", "the next outage has its own"


def test_a_verified_recovery_ends_the_outage_but_not_an_older_one() -> None:
    triggers = SnapshotTriggers()
    assert triggers.observe(now=10, diagnosed=True, overall="DOWN", verified_at=5) == "detection"
    assert triggers.observe(now=11, diagnosed=True, overall="DOWN", verified_at=5) is None, "verified before it"
    assert triggers.observe(now=12, diagnosed=True, overall="DEGRADED", verified_at=12) == "recovery"
