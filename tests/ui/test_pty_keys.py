"""The pty harness of bench/bench_pty_keys.py: `nimify-tui demo` on a real pseudo-terminal, keys written as bytes.

The benchmark times keys by waiting for their effect on a screen parsed from the app's output; this proves that
such an effect is seen at all (no timing here): the app draws on the pty at its size, the row cursor moves with
`j` and `k`, `2` shows the events pane, `?` opens the help and escape closes it (twice), `q` (and `y` when asked) quits
with status 0.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

pytest.importorskip("pyte")

BENCH = Path(__file__).resolve().parents[2] / "bench" / "bench_pty_keys.py"
WAIT_S = 30.0  # generous: the machine may be busy; nothing here is timed


def load_bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_pty_keys", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def test_keys_through_a_pty_show_their_effect_on_the_parsed_screen() -> None:
    bench = load_bench()
    with bench.app_on_pty("crashloop-oom", 80, 24) as app:
        term = app.terminal

        def wait(condition: Callable[[], object], what: str) -> None:
            if term.pump(lambda: bool(condition()), WAIT_S) is None:
                screen = "\n".join(term.lines())
                raise AssertionError(f"still waiting for {what} after {WAIT_S:g}s; the screen:\n{screen}")

        looks = bench.settled_looks(term, 1.0, WAIT_S)
        assert looks is not None, "the pods table with its cursor on the first row:\n" + "\n".join(term.lines())
        assert term.sync, "the app asked for synchronized output and frames are marked"
        assert len(term.lines()) == 24 and len(term.lines()[0]) == 80
        assert looks.cursor_row(term) == 0

        frames = term.frames
        os.write(term.master, b"j")
        wait(lambda: looks.cursor_row(term) == 1, "j to move the cursor down one row")
        assert term.frames > frames
        os.write(term.master, b"k")
        wait(lambda: looks.cursor_row(term) == 0, "k to move it back up")

        assert bench.pane_corner(term, "Events") is None, "80x24 shows one pane at a time: the pods pane"
        os.write(term.master, b"2")
        wait(lambda: looks.pane_marked(term, "Events"), "2 to show the events pane, marked active")
        assert bench.pane_corner(term, "Pods") is None

        os.write(term.master, b"?")
        wait(lambda: term.find(bench.HELP_TITLE), "? to open the help")
        os.write(term.master, b"\x1b")
        wait(lambda: term.find(bench.HELP_TITLE) is None, "escape to close the help")
        os.write(term.master, b"?")  # the help screen is made once and kept: it opens and closes again
        wait(lambda: term.find(bench.HELP_TITLE), "? to open the help a second time")
        os.write(term.master, b"?")
        wait(lambda: term.find(bench.HELP_TITLE) is None, "? to close it")

        bench.quit_app(app, WAIT_S)
        assert app.process.wait(10) == 0
