"""scripts/make_screenshots.py: run as a program on one scenario into a temporary folder, and its planning."""

from __future__ import annotations

import argparse
import html
import importlib.util
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "make_screenshots.py"


@pytest.fixture(scope="module")
def script() -> Iterator[ModuleType]:
    """The script imported as a module."""
    spec = importlib.util.spec_from_file_location("make_screenshots", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look the module up there
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        del sys.modules[spec.name]


def svg_text(path: Path) -> str:
    """The SVG's text with entities decoded (Textual writes spaces as no-break spaces)."""
    return html.unescape(path.read_text(encoding="utf-8")).replace("\xa0", " ")


def test_one_scenario_writes_its_main_screen(tmp_path: Path) -> None:
    out = tmp_path / "shots"
    path = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--out", str(out), "--scenario", "triton-down", "--size", "150x42"],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": path},  # this checkout's package, whatever is installed
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert sorted(p.name for p in out.iterdir()) == ["main-triton-down-80x24.svg", "main-triton-down.svg"]
    shot = out / "main-triton-down.svg"
    assert shot.stat().st_size > 10_000
    text = svg_text(shot)
    assert text.lstrip().startswith("<svg")
    assert "Pods · nimify-system" in text, "the pods pane's title"
    assert "scenario triton-down" in text
    assert "UNAVAILABLE" in text, "the broken model is on screen"


def test_sessions_follow_the_chosen_scenarios(script: ModuleType) -> None:
    sessions = script.plan_sessions(["healthy", "crashloop-oom"], (160, 45))
    assert [(s.scenario, s.size, s.main_name, s.drill_down) for s in sessions] == [
        ("healthy", (160, 45), "main-healthy.svg", False),
        ("healthy", (80, 24), "main-healthy-80x24.svg", False),
        ("crashloop-oom", (160, 45), "main-crashloop-oom.svg", True),
        ("crashloop-oom", (80, 24), "main-crashloop-oom-80x24.svg", False),
    ]
    assert [s.main_name for s in script.plan_sessions(["gpu-xid"], (80, 24))] == ["main-gpu-xid.svg"]


def test_sizes_are_parsed(script: ModuleType) -> None:
    assert script.parse_size("132X40") == (132, 40)


@pytest.mark.parametrize("text", ["160", "160x", "x45", "axb", "10x5", "-160x45"])
def test_bad_sizes_are_refused(script: ModuleType, text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="expected WIDTHxHEIGHT"):
        script.parse_size(text)
