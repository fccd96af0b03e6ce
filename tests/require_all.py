"""``NIMIFY_TUI_REQUIRE_ALL=1`` turns every skipped test into a failure.

Tests that need a binary (kubectl, prometheus, promtool, tmux) skip, saying why, where it is absent. CI installs
them all and sets this switch, so that a run which silently lost an oracle is red instead of green.
"""

from __future__ import annotations

import os
from collections.abc import Generator
from typing import Any

import pytest

SWITCH = "NIMIFY_TUI_REQUIRE_ALL"


def skips_forbidden() -> bool:
    return os.environ.get(SWITCH, "") not in ("", "0")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    if report.skipped and not hasattr(report, "wasxfail") and skips_forbidden():
        longrepr = report.longrepr
        reason = (longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)).removeprefix("Skipped: ")
        report.outcome = "failed"
        report.longrepr = f"skipped, but {SWITCH}=1 forbids skips: {reason}"
