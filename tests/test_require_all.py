"""The switch that makes CI red when a test skipped: run a small suite with and without it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PLUGIN = Path(__file__).resolve().parent / "require_all.py"


def run_suite(tmp_path: Path, switch: str | None) -> subprocess.CompletedProcess[str]:
    (tmp_path / "conftest.py").write_text(
        "import importlib.util\n"
        f"spec = importlib.util.spec_from_file_location('require_all', {str(PLUGIN)!r})\n"
        "module = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(module)\n"
        "pytest_runtest_makereport = module.pytest_runtest_makereport\n"
    )
    (tmp_path / "test_sample.py").write_text(
        "import pytest\n\n"
        "def test_runs():\n    assert True\n\n"
        "def test_needs_a_binary():\n    pytest.skip('frobctl is not installed')\n\n"
        "@pytest.mark.xfail(reason='known', strict=True)\n"
        "def test_known_failure():\n    assert False\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "NIMIFY_TUI_REQUIRE_ALL"}
    if switch is not None:
        env["NIMIFY_TUI_REQUIRE_ALL"] = switch
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", str(tmp_path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_without_the_switch_a_skip_is_a_skip(tmp_path: Path) -> None:
    result = run_suite(tmp_path, None)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed, 1 skipped, 1 xfailed" in result.stdout


def test_with_the_switch_a_skip_fails_and_says_why(tmp_path: Path) -> None:
    result = run_suite(tmp_path, "1")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 failed, 1 passed, 1 xfailed" in result.stdout
    assert "skipped, but NIMIFY_TUI_REQUIRE_ALL=1 forbids skips: frobctl is not installed" in result.stdout
