"""Every package of nimify_tui is in pyproject's package list: `pip install .` (the quick start's first line) ships
only the listed ones, and a missing one fails only when its code first runs (a key, or the quit)."""

from __future__ import annotations

import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # the test extra's Python 3.10 has tomli (a dependency there)
    import tomli as tomllib

REPO = Path(__file__).resolve().parents[1]


def test_every_package_directory_is_listed_for_the_wheel() -> None:
    listed = set(tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {
        ".".join(init.parent.relative_to(REPO).parts)
        for init in (REPO / "nimify_tui").rglob("__init__.py")
        if "__pycache__" not in init.parts
    }
    assert found - listed == set(), "packages the wheel would leave out"
