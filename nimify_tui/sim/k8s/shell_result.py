"""What a command of the simulated shell answers, and the number formats its commands share."""

from __future__ import annotations

import math
from dataclasses import dataclass

NOT_FOUND = 127  # the exit code of a command the shell does not have


@dataclass(frozen=True)
class Result:
    """What a command wrote and how it ended."""

    out: str = ""
    err: str = ""
    code: int = 0


def human(count: int) -> str:
    """A byte count as GNU ``-h`` shows it: powers of 1024 rounded up, one decimal below 10 (``7.7G``, ``100G``)."""
    if count < 1024:
        return str(count)
    value = float(count)
    for unit in "KMGTPE":
        value /= 1024
        if value < 10:
            shown = math.ceil(value * 10) / 10
            if shown < 10:
                return f"{shown:.1f}{unit}"
            return f"10{unit}"
        if math.ceil(value) < 1024:
            return f"{math.ceil(value)}{unit}"
    return f"{math.ceil(value)}E"
