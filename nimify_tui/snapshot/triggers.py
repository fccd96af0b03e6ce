"""When a snapshot is taken by itself: the state at detection, and the state once it is over.

An outage begins, for snapshots, when the triage's first diagnosis appears: that is the detection snapshot. It
ends when the recovery is verified (a verification finished after the detection), or when the state is next OK:
that is the recovery snapshot. A later diagnosis starts the next outage, with its own pair.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Trigger = Literal["detection", "recovery", "key"]


@dataclass
class SnapshotTriggers:
    """Follows the live state (:meth:`observe`, called each second) and says when to take a snapshot."""

    detected_at: float | None = None  # the current outage's detection; None between outages

    def observe(self, *, now: float, diagnosed: bool, overall: str, verified_at: float | None = None) -> Trigger | None:
        """The snapshot this moment calls for, if any. ``diagnosed``: the triage has a diagnosis; ``overall``: its
        state (OK, DEGRADED, DOWN, UNKNOWN); ``verified_at``: when the latest verified recovery finished."""
        if self.detected_at is None:
            if diagnosed:
                self.detected_at = now
                return "detection"
            return None
        verified = verified_at is not None and verified_at >= self.detected_at
        if verified or overall == "OK":
            self.detected_at = None
            return "recovery"
        return None
