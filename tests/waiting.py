"""Waiting for a condition from a test thread: poll until it holds, fail saying what was awaited."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_for(condition: Callable[[], T], what: str, timeout_s: float = 20.0) -> T:
    """Poll ``condition`` until it is truthy and return its value; fail naming ``what`` after the deadline."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"still waiting for {what} after {timeout_s:g}s (last: {value!r})")
        time.sleep(0.05)
