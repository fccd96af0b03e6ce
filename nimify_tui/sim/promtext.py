"""A writer for the Prometheus text exposition format (version 0.0.4), as the simulated exporters serve it."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

Labels = Sequence[tuple[str, str]]


def shortest_float(value: float) -> str:
    """Whole numbers without a fraction, others in the shortest round-trip form (Triton's style)."""
    if value.is_integer():
        return str(int(value))
    return repr(value)


def six_decimals(value: float) -> str:
    """Six decimals, as dcgm-exporter prints floating-point fields."""
    return f"{value:f}"


def _escape_label_value(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


class PromTextWriter:
    """Collects metric families and their samples, in order, and renders them as exposition text."""

    def __init__(self, float_format: Callable[[float], str] = shortest_float) -> None:
        self._float_format = float_format
        self._lines: list[str] = []

    def family(self, name: str, kind: str, help_text: str) -> None:
        """Start a family: its ``# HELP`` and ``# TYPE`` lines."""
        self._lines.append(f"# HELP {name} {_escape_help(help_text)}")
        self._lines.append(f"# TYPE {name} {kind}")

    def sample(self, name: str, labels: Labels, value: float) -> None:
        """One sample line; label values are escaped, so any text from the cluster is safe."""
        if labels:
            pairs = ",".join(f'{key}="{_escape_label_value(val)}"' for key, val in labels)
            self._lines.append(f"{name}{{{pairs}}} {self._format(value)}")
        else:
            self._lines.append(f"{name} {self._format(value)}")

    def text(self) -> bytes:
        return ("\n".join(self._lines) + "\n").encode()

    def _format(self, value: float) -> str:
        if isinstance(value, int):
            return str(value)
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "+Inf" if value > 0 else "-Inf"
        return self._float_format(value)
