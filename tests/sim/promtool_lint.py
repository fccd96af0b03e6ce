"""``promtool check metrics`` on a text that parses: it exits 3 and writes lint advice only, one rule a line."""

from __future__ import annotations

import re

LINT_RULES = (
    'counter metrics should have "_total" suffix',
    "label names should be written in 'snake_case' not 'camelCase'",
    "metric name should not include type 'counter'",
    "metric names should not contain abbreviated units",
    'non-histogram and non-summary metrics should not have "_count" suffix',
)
_ADVICE = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]* (?:" + "|".join(re.escape(rule) for rule in LINT_RULES) + ")")


def lint_advice_only(stderr: str) -> bool:
    """Every line of ``stderr`` is a metric name followed by one of promtool's lint rules."""
    lines = stderr.splitlines()
    return bool(lines) and all(_ADVICE.fullmatch(line) for line in lines)
