"""Kubernetes time stamps and apimachinery's HumanDuration (the AGE and "ago" texts of kubectl).

Times are seconds since the epoch (floats); the current time is always a parameter, never read here.
"""

from __future__ import annotations

import math
import re
from datetime import datetime, timezone

_FRACTION = re.compile(r"\.(\d+)")


def parse_timestamp(value: object) -> float | None:
    """Seconds since the epoch of an RFC 3339 time (``2026-01-08T08:06:40Z``, MicroTime); None if absent."""
    if not isinstance(value, str) or not value:
        return None
    text = value[:-1] + "+00:00" if value[-1] in "Zz" else value
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        # Python 3.10 takes only 3 or 6 fraction digits: RFC 3339 allows any number.
        text = _FRACTION.sub(lambda match: "." + match.group(1)[:6].ljust(6, "0"), text, count=1)
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def human_duration(seconds: float) -> str:
    """A duration as apimachinery's ``duration.HumanDuration`` writes it (``57s``, ``2m40s``, ``4d15h``)."""
    if not math.isfinite(seconds):
        return "<invalid>"
    whole = int(seconds)  # truncates toward zero, as Go's int(d.Seconds())
    if whole < -1:
        return "<invalid>"
    if whole < 0:
        return "0s"
    if whole < 120:
        return f"{whole}s"
    minutes = whole // 60
    if minutes < 10:
        rest = whole % 60
        return f"{minutes}m" if rest == 0 else f"{minutes}m{rest}s"
    if minutes < 180:
        return f"{minutes}m"
    hours = whole // 3600
    if hours < 8:
        rest = minutes % 60
        return f"{hours}h" if rest == 0 else f"{hours}h{rest}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        rest = hours % 24
        return f"{hours // 24}d" if rest == 0 else f"{hours // 24}d{rest}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        years, days = divmod(hours // 24, 365)
        return f"{years}y" if days == 0 else f"{years}y{days}d"
    return f"{hours // 24 // 365}y"


def age(timestamp: float | None, now: float) -> str:
    """kubectl's ``translateTimestampSince``: HumanDuration since ``timestamp``, ``<unknown>`` without one."""
    if timestamp is None:
        return "<unknown>"
    return human_duration(now - timestamp)
