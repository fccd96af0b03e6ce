"""Key latency through a real pseudo-terminal: `nimify-tui demo` as an operator's terminal sees it.

The app runs as its own process (`python -m nimify_tui demo --scenario S`, which starts the simulated cluster as
its child) on the slave side of a pty of a given size (TIOCSWINSZ), with TERM=xterm-256color. This program is the
terminal: it reads the master side all the time (the churning scenarios keep writing), parses what it reads with
pyte into a screen of cells, and answers Textual's query for synchronized output (DECRQM 2026) as a modern terminal
does, so every frame the app draws ends with ``ESC [ ? 2026 l``: the moment a terminal would show it.

For each key it writes the key's bytes and waits for the first complete frame whose screen shows the key's effect:

- ``j`` ``k`` ``down`` ``up``: the highlighted row of the pods table moved one line down or up;
- ``?``: the help screen's title is drawn; ``escape``: it is gone again (Textual waits ``ESCDELAY``, 100 ms by
  default, after a lone ESC byte before it takes it as the escape key: that wait is in the figure);
- ``1``..``5``: the pane is the one marked active (its border in the active colour, the one before it no longer;
  at 80x24, where one pane is shown at a time, it is the pane shown, in that colour).

The time is from just before the key's bytes are written until the frame's last byte is read (before it is parsed),
so it holds the app's work, the frame's bytes through the pty and the wait for a frame already on its way. Keys
are sent a random 0.1-0.4 s apart, so they fall at every phase of the panes' 0.5 s refresh. It prints p50, p95 and
max per key kind, per size, per scenario, the bytes and frames from key to effect, the output the app writes with
no key pressed, the CPU of the app and of its simulator, and the load average (the machine may be shared).

    python bench/bench_pty_keys.py [--scenario resource-exhaustion ...] [--size 80x24 --size 160x45]
                                   [--rounds 12] [--warmup 4] [--keys rows|help|panes ...] [--truecolor]
                                   [--no-sync] [--profile FILE]

``--profile FILE`` runs the app under cProfile (the first scenario and size only) and writes its stats to FILE.
Needs pyte (`pip install -e .[bench]`).
"""

from __future__ import annotations

import argparse
import fcntl
import os
import random
import select
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import pyte

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ("resource-exhaustion", "crashloop-oom", "latency-spike", "gpu-xid")
SIZES = ((80, 24), (160, 45))

SYNC_QUERY = b"\x1b[?2026$p"
SYNC_REPLY = b"\x1b[?2026;2$y"  # "supported, currently reset": what kitty, WezTerm, foot or tmux answer
SYNC_END = b"\x1b[?2026l"
KEY_BYTES = {
    "j": b"j",
    "k": b"k",
    "down": b"\x1b[B",
    "up": b"\x1b[A",
    "?": b"?",
    "escape": b"\x1b",
    "1": b"1",
    "2": b"2",
    "3": b"3",
    "4": b"4",
    "5": b"5",
}
ROW_KEYS = ("j", "k", "down", "up")
KEY_GROUPS = {"rows": ROW_KEYS, "help": ("?", "escape"), "panes": ("2", "3", "4", "5", "1")}
PANE_STEPS = (("1", "2"), ("2", "3"), ("3", "4"), ("4", "5"), ("5", "1"))
PANE_TITLES = {"1": "Pods", "2": "Events", "3": "Nodes & GPUs", "4": "Triton models", "5": "Latency"}
HELP_TITLE = "nimify-tui keys"
QUIT_QUESTION = "Quit nimify-tui?"
KEY_TIMEOUT_S = 3.0


# --- the terminal -----------------------------------------------------------------------------------------------
class Terminal:
    """The master side of a pty with a pyte screen behind it; ``pump`` reads and parses, frame by frame."""

    def __init__(self, master: int, width: int, height: int) -> None:
        self.master = master
        self.screen = pyte.Screen(width, height)
        self.stream = pyte.ByteStream(self.screen)
        self.sync = False  # the app asked whether synchronized output is supported (and was told yes)
        self.answer_sync = True
        self.bytes_read = 0
        self.frames = 0
        self.closed = False
        self._carry = b""

    def pump(self, until: Callable[[], bool] | None, timeout_s: float) -> float | None:
        """Read and parse output for up to ``timeout_s``; return the read time of the first frame after which
        ``until()`` holds (checked at each frame's end; at each read when frames are not marked)."""
        deadline = time.perf_counter() + timeout_s
        while not self.closed:
            left = deadline - time.perf_counter()
            if left <= 0:
                return None
            ready, _, _ = select.select([self.master], [], [], left)
            if not ready:
                continue
            try:
                chunk = os.read(self.master, 1 << 16)
            except OSError:  # EIO: the app is gone
                self.closed = True
                return None
            now = time.perf_counter()
            if not chunk:
                self.closed = True
                return None
            self.bytes_read += len(chunk)
            if SYNC_QUERY in chunk and self.answer_sync:
                os.write(self.master, SYNC_REPLY)
                self.sync = True
            if self._feed(chunk, until):
                return now
        return None

    def _feed(self, chunk: bytes, until: Callable[[], bool] | None) -> bool:
        data = self._carry + chunk
        start = 0
        hit = False
        while (end := data.find(SYNC_END, start)) != -1:
            end += len(SYNC_END)
            self.stream.feed(data[start:end])
            self.frames += 1
            start = end
            if not hit and until is not None and until():
                hit = True
        rest = data[start:]
        keep = next((n for n in range(len(SYNC_END) - 1, 0, -1) if rest.endswith(SYNC_END[:n])), 0)
        self._carry = rest[len(rest) - keep :] if keep else b""
        self.stream.feed(rest[: len(rest) - keep])
        if not self.sync and not hit and until is not None and until():
            hit = True  # frames are not marked: the effect is on screen once this read is parsed
        return hit

    # --- what is on screen ----------------------------------------------------------------------------------
    def lines(self) -> list[str]:
        return self.screen.display

    def find(self, text: str) -> tuple[int, int] | None:
        for y, line in enumerate(self.screen.display):
            x = line.find(text)
            if x != -1:
                return x, y
        return None

    def cell(self, x: int, y: int) -> pyte.screens.Char:
        return self.screen.buffer[y][x]


@dataclass
class App:
    """The app's process on a pty, and the terminal reading it."""

    process: subprocess.Popen[bytes]
    terminal: Terminal
    folder: tempfile.TemporaryDirectory[str]

    def cpu_seconds(self) -> tuple[float, float]:
        """CPU time (user + system) of the app and of its children (the simulator), from /proc."""
        tick = os.sysconf("SC_CLK_TCK")
        app = _proc_cpu(self.process.pid) / tick
        children = sum(_proc_cpu(child) for child in _children(self.process.pid)) / tick
        return app, children


def _proc_cpu(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])  # utime, stime


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def quit_app(app: App, timeout_s: float) -> None:
    """`q`, and `y` when the app asks whether to quit; returns once it is gone (or after ``timeout_s``)."""
    term, process = app.terminal, app.process
    os.write(term.master, b"q")
    term.pump(lambda: process.poll() is not None or term.find(QUIT_QUESTION) is not None, timeout_s)
    if process.poll() is None and term.find(QUIT_QUESTION) is not None:
        os.write(term.master, b"y")
    term.pump(lambda: process.poll() is not None, timeout_s)


@contextmanager
def app_on_pty(
    scenario: str,
    width: int,
    height: int,
    *,
    truecolor: bool = False,
    answer_sync: bool = True,
    profile: Path | None = None,
) -> Iterator[App]:
    """`python -m nimify_tui demo --scenario S` on a fresh pty of ``width`` x ``height``; quit with `q` after."""
    folder = tempfile.TemporaryDirectory(prefix="nimify-pty-")
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "COLORTERM", "TERM_PROGRAM")}
    env.update(
        TERM="xterm-256color",
        TMPDIR=folder.name,  # the demo's kubeconfig and the simulator's log
        XDG_STATE_HOME=str(Path(folder.name) / "state"),  # the session's journal
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    )
    if truecolor:
        env["COLORTERM"] = "truecolor"
    command = [sys.executable]
    if profile is not None:
        command += ["-m", "cProfile", "-o", str(profile)]
    command += ["-m", "nimify_tui", "demo", "--scenario", scenario]
    process = subprocess.Popen(
        command, stdin=slave, stdout=slave, stderr=slave, cwd=folder.name, env=env, start_new_session=True
    )
    os.close(slave)
    terminal = Terminal(master, width, height)
    terminal.answer_sync = answer_sync
    app = App(process, terminal, folder)
    try:
        yield app
    finally:
        if process.poll() is None:
            quit_app(app, 10.0)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGTERM)  # the app's own process group: it and its simulator
                process.wait(10)
        os.close(master)
        folder.cleanup()


# --- what a key's effect looks like on the parsed screen ----------------------------------------------------------
# Positions are found again at each check: the panes move when the runbook pane above them grows or shrinks.
TOP_LEFT_CORNERS = "╭┌┏╔╒╓"
SIDES = "│┃╏║┆┇┊┋"


def is_box(char: str) -> bool:
    return "\u2500" <= char <= "\u257f"  # box drawing: the panes' borders, round, dashed or heavy


def pane_corner(term: Terminal, title: str) -> tuple[int, int] | None:
    """Where the top-left corner of the pane whose border title holds ``title`` is (None: the pane is not shown)."""
    for y, line in enumerate(term.lines()):
        x = line.find(title)
        while x != -1:
            left = x - 1
            while left >= 0 and line[left] not in TOP_LEFT_CORNERS and line[left] not in SIDES:
                left -= 1
            if left >= 0 and line[left] in TOP_LEFT_CORNERS and left + 1 < len(line) and is_box(line[left + 1]):
                return left, y
            x = line.find(title, x + 1)
    return None


@dataclass(frozen=True)
class PodsTable:
    """Where the pods table is on screen."""

    header_y: int  # its header line (NAME READY ...)
    name_x: int  # where the first column's text starts
    bottom_y: int  # the pane's bottom border


def pods_table(term: Terminal) -> PodsTable | None:
    corner = pane_corner(term, PANE_TITLES["1"])
    if corner is None:
        return None
    x0, top = corner
    lines = term.lines()
    bottom = next((y for y in range(top + 1, len(lines)) if _border_row(term, x0, y)), None)
    if bottom is None or bottom < top + 3:
        return None
    header = lines[top + 1]
    name_x = header.find("NAME ", x0)
    if name_x == -1:
        return None
    return PodsTable(top + 1, name_x, bottom)


def _border_row(term: Terminal, x: int, y: int) -> bool:
    """Whether line ``y`` is a pane's top or bottom border from its left corner at ``x`` (a side is one line)."""
    return all(is_box(term.cell(x + dx, y).data) for dx in range(3))


@dataclass(frozen=True)
class Looks:
    """How the focused cursor's row and the active pane's border are drawn, learnt from the screen at the start
    (the pods table has the focus, its cursor on the first row)."""

    cursor: tuple[str, bool]  # (background, reverse video) of the cursor's row
    active_fg: str  # the colour of the active pane's border

    def cursor_row(self, term: Terminal) -> int | None:
        """The row index of the pods table's focused cursor among the lines shown (None: not shown)."""
        table = pods_table(term)
        if table is None:
            return None
        for y in range(table.header_y + 1, table.bottom_y):
            cell = term.cell(table.name_x, y)
            if (cell.bg, cell.reverse) == self.cursor and cell.data.strip():
                return y - table.header_y - 1
        return None

    def rows_shown(self, term: Terminal) -> int:
        table = pods_table(term)
        if table is None:
            return 0
        return sum(1 for y in range(table.header_y + 1, table.bottom_y) if term.cell(table.name_x, y).data.strip())

    def pane_marked(self, term: Terminal, title: str) -> bool:
        """Whether the pane titled ``title`` is shown with the active pane's border."""
        corner = pane_corner(term, title)
        return corner is not None and term.cell(*corner).fg == self.active_fg


def learn_looks(term: Terminal) -> Looks | None:
    """The looks, once the pods table has rows and its first row looks unlike the second."""
    table = pods_table(term)
    corner = pane_corner(term, PANE_TITLES["1"])
    if table is None or corner is None or table.header_y + 2 >= table.bottom_y:
        return None
    first, second = term.cell(table.name_x, table.header_y + 1), term.cell(table.name_x, table.header_y + 2)
    if not first.data.strip() or (first.bg, first.reverse) == (second.bg, second.reverse):
        return None  # no rows yet, or the cursor is not drawn yet
    return Looks((first.bg, first.reverse), term.cell(*corner).fg)


def settled_looks(term: Terminal, quiet_s: float, timeout_s: float) -> Looks | None:
    """The looks once they have stayed the same for ``quiet_s``: the first frames with rows come before the focus
    (the cursor drawn blurred) and the focus before the active pane's border."""
    last: list[tuple[Looks | None, float]] = [(None, 0.0)]

    def quiet() -> bool:
        looks, now = learn_looks(term), time.perf_counter()
        if looks != last[0][0]:
            last[0] = (looks, now)
        return looks is not None and now - last[0][1] >= quiet_s

    deadline = time.perf_counter() + timeout_s
    while time.perf_counter() < deadline and not term.closed:
        if term.pump(quiet, min(0.1, deadline - time.perf_counter())) is not None or quiet():
            return last[0][0]
    return None


def pane_effect(term: Terminal, looks: Looks, new: str, old: str) -> Callable[[], bool] | None:
    """The condition that shows pane ``new`` active after ``old``; None when it holds already (not measurable)."""
    new_title, old_title = PANE_TITLES[new], PANE_TITLES[old]

    def done() -> bool:
        return looks.pane_marked(term, new_title) and not looks.pane_marked(term, old_title)

    return None if done() else done


# --- the run ------------------------------------------------------------------------------------------------------
@dataclass
class KeyFigures:
    times_ms: list[float] = field(default_factory=list)
    bytes: list[int] = field(default_factory=list)
    frames: list[int] = field(default_factory=list)
    missed: int = 0  # no effect within KEY_TIMEOUT_S
    skipped: int = 0  # the screen could not tell the effect apart


@dataclass
class RunFigures:
    scenario: str
    size: tuple[int, int]
    keys: dict[str, KeyFigures]
    idle_bytes_per_s: float
    idle_frames_per_s: float
    app_cpu: float  # cores, while keys were pressed
    sim_cpu: float
    load: tuple[float, float]  # 1-minute load average before and after
    sync: bool


def cursor_on(looks: Looks, term: Terminal, row: int) -> bool:
    return looks.cursor_row(term) == row


def press(term: Terminal, key: str, effect: Callable[[], bool], figures: KeyFigures) -> bool:
    bytes_before, frames_before = term.bytes_read, term.frames
    sent = time.perf_counter()
    os.write(term.master, KEY_BYTES[key])
    seen = term.pump(effect, KEY_TIMEOUT_S)
    if seen is None:
        figures.missed += 1
        return False
    figures.times_ms.append((seen - sent) * 1000)
    figures.bytes.append(term.bytes_read - bytes_before)
    figures.frames.append(term.frames - frames_before)
    return True


def run_once(
    scenario: str,
    size: tuple[int, int],
    rounds: int,
    warmup_s: float,
    *,
    truecolor: bool,
    answer_sync: bool,
    groups: tuple[str, ...] = tuple(KEY_GROUPS),
    profile: Path | None = None,
) -> RunFigures:
    load_before = os.getloadavg()[0]
    keys = {key: KeyFigures() for group in groups for key in KEY_GROUPS[group]}
    rng = random.Random(15)
    with app_on_pty(scenario, *size, truecolor=truecolor, answer_sync=answer_sync, profile=profile) as app:
        term = app.terminal
        if term.pump(lambda: learn_looks(term) is not None, 30.0) is None:
            raise SystemExit(f"{scenario} {size}: the pods table never showed:\n" + "\n".join(term.lines()))
        term.pump(None, warmup_s)  # the second wave of sources starts; the churn is under way
        looks = settled_looks(term, 1.0, 10.0)
        if looks is None:
            raise SystemExit(f"{scenario} {size}: no cursor on the pods table:\n" + "\n".join(term.lines()))
        idle_bytes, idle_frames, idle_start = term.bytes_read, term.frames, time.perf_counter()
        term.pump(None, 2.0)
        idle_s = time.perf_counter() - idle_start
        idle_bytes_per_s = (term.bytes_read - idle_bytes) / idle_s
        idle_frames_per_s = (term.frames - idle_frames) / idle_s
        cpu_start, wall_start = app.cpu_seconds(), time.perf_counter()

        def gap() -> None:
            term.pump(None, rng.uniform(0.1, 0.4))

        for _ in range(rounds):
            for key in ROW_KEYS if "rows" in groups else ():
                row = looks.cursor_row(term)
                if row is None:
                    keys[key].skipped += 1
                    continue
                target = row + 1 if key in ("j", "down") else row - 1
                if not 0 <= target < looks.rows_shown(term):
                    keys[key].skipped += 1
                    continue
                press(term, key, partial(cursor_on, looks, term, target), keys[key])
                gap()
            if "help" in groups:
                if press(term, "?", lambda: term.find(HELP_TITLE) is not None, keys["?"]):
                    gap()
                    press(term, "escape", lambda: term.find(HELP_TITLE) is None, keys["escape"])
                else:
                    term.pump(lambda: term.find(HELP_TITLE) is not None, KEY_TIMEOUT_S)
                    os.write(term.master, KEY_BYTES["escape"])
                    term.pump(lambda: term.find(HELP_TITLE) is None, KEY_TIMEOUT_S)
                gap()
            for old, new in PANE_STEPS if "panes" in groups else ():
                effect = pane_effect(term, looks, new, old)
                if effect is None:
                    keys[new].skipped += 1
                    os.write(term.master, KEY_BYTES[new])  # the app must still move on to the next pane
                    term.pump(None, 0.3)
                    continue
                press(term, new, effect, keys[new])
                gap()
        wall = time.perf_counter() - wall_start
        cpu_end = app.cpu_seconds()
        sync = term.sync
    return RunFigures(
        scenario,
        size,
        keys,
        idle_bytes_per_s,
        idle_frames_per_s,
        (cpu_end[0] - cpu_start[0]) / wall,
        (cpu_end[1] - cpu_start[1]) / wall,
        (load_before, os.getloadavg()[0]),
        sync,
    )


# --- the report ---------------------------------------------------------------------------------------------------
def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


GOALS_MS = {"row": 50.0, "screen": 100.0}


def report(run: RunFigures) -> None:
    width, height = run.size
    print(
        f"\n{run.scenario} at {width}x{height}: load {run.load[0]:.2f} -> {run.load[1]:.2f}, "
        f"app {run.app_cpu:.2f} cores, simulator {run.sim_cpu:.2f} cores, "
        f"no key: {run.idle_bytes_per_s / 1024:.1f} KiB/s in {run.idle_frames_per_s:.1f} frames/s"
        + ("" if run.sync else "  (frames not marked: effect checked at each read)")
    )
    print(f"  {'key':<7} {'n':>3} {'p50':>7} {'p95':>7} {'max':>7}  {'KiB p50':>7} {'frames':>6}  note")
    for key, figures in run.keys.items():
        note = []
        if figures.missed:
            note.append(f"{figures.missed} without effect in {KEY_TIMEOUT_S:g}s")
        if figures.skipped:
            note.append(f"{figures.skipped} not measurable")
        if not figures.times_ms:
            print(f"  {key:<7} {0:>3} {'-':>7} {'-':>7} {'-':>7}  {'-':>7} {'-':>6}  {', '.join(note)}")
            continue
        times = figures.times_ms
        goal = GOALS_MS["row"] if key in ROW_KEYS else GOALS_MS["screen"]
        p95 = percentile(times, 0.95)
        note.insert(0, f"goal {goal:g} ms {'met' if p95 <= goal else 'MISSED'}")
        print(
            f"  {key:<7} {len(times):>3} {percentile(times, 0.5):>7.1f} {p95:>7.1f} {max(times):>7.1f}  "
            f"{percentile([float(b) for b in figures.bytes], 0.5) / 1024:>7.1f} "
            f"{percentile([float(f) for f in figures.frames], 0.5):>6.0f}  {'; '.join(note)}"
        )
    rows = [t for key in ROW_KEYS if key in run.keys for t in run.keys[key].times_ms]
    screens = [t for key, f in run.keys.items() if key not in ROW_KEYS for t in f.times_ms]
    for label, values in (("row keys (j k down up)", rows), ("screen keys (? escape 1-5)", screens)):
        if values:
            print(
                f"  {label}: p50 {percentile(values, 0.5):.1f}  p95 {percentile(values, 0.95):.1f}  "
                f"max {max(values):.1f} ms  (n={len(values)})"
            )


def parse_size(text: str) -> tuple[int, int]:
    width, _, height = text.lower().partition("x")
    return int(width), int(height)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", action="append", choices=None, help="repeatable; default: the churning ones")
    parser.add_argument("--size", action="append", type=parse_size, help="WxH, repeatable; default 80x24 and 160x45")
    parser.add_argument("--rounds", type=int, default=12, help="rounds of the eleven keys per scenario and size")
    parser.add_argument("--warmup", type=float, default=4.0, help="seconds after the first rows before measuring")
    parser.add_argument("--truecolor", action="store_true", help="COLORTERM=truecolor (24-bit colour sequences)")
    parser.add_argument("--no-sync", action="store_true", help="do not answer the synchronized output query")
    parser.add_argument("--keys", action="append", choices=list(KEY_GROUPS), help="repeatable; default: all")
    parser.add_argument("--profile", type=Path, help="run the app under cProfile (first scenario and size only)")
    args = parser.parse_args()
    scenarios = args.scenario or list(SCENARIOS)
    sizes = args.size or list(SIZES)
    if args.profile is not None:
        scenarios, sizes = scenarios[:1], sizes[:1]
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, load {os.getloadavg()}")
    for scenario in scenarios:
        for size in sizes:
            run = run_once(
                scenario,
                size,
                args.rounds,
                args.warmup,
                truecolor=args.truecolor,
                answer_sync=not args.no_sync,
                groups=tuple(args.keys or KEY_GROUPS),
                profile=args.profile.resolve() if args.profile else None,
            )
            report(run)
    if args.profile is not None:
        print(f"\nprofile written to {args.profile} (python -m pstats {args.profile})")


if __name__ == "__main__":
    main()
