"""Where an event loop's stalls come from: the main thread's stack sampled while it stalls, and each thread's CPU.

A thread looks at a ``LoopWatch``'s last beat every ``SAMPLE_S``; once the loop has gone ``threshold_s`` without a
beat, it samples the main thread's stack (the innermost frames) until the loop beats again, and reads the CPU time
each thread of the process used meanwhile (``/proc/self/task/*/stat``, in clock ticks): a stall while another
thread held the interpreter lock shows that thread's CPU and a main thread waiting anywhere.

``report()`` gives the longest stalls, each with its length, the stacks seen most often during it, and the threads
that used the CPU meanwhile.
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

SAMPLE_S = 0.002
FRAMES = 6
TICK_S = 1 / os.sysconf("SC_CLK_TCK")


class Beating(Protocol):
    last_beat: float


@dataclass
class Stall:
    started: float
    length_s: float = 0.0
    stacks: Counter[str] = field(default_factory=Counter)
    cpu_s: dict[str, float] = field(default_factory=dict)


def thread_cpu() -> dict[int, float]:
    """CPU seconds (user + system) of each thread of this process, by native thread id."""
    times: dict[int, float] = {}
    for task in Path("/proc/self/task").iterdir():
        try:
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        times[int(task.name)] = (int(fields[11]) + int(fields[12])) * TICK_S
    return times


class StallTracer:
    def __init__(self, watch: Beating, threshold_s: float = 0.03) -> None:
        self.watch = watch
        self.threshold_s = threshold_s
        self.stalls: list[Stall] = []
        self._main = threading.main_thread().ident
        self._thread = threading.Thread(target=self._run, name="stall-tracer", daemon=True)
        self._stop = threading.Event()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.wait(SAMPLE_S):
            beat = self.watch.last_beat
            if time.perf_counter() - beat < self.threshold_s:
                continue
            stall = Stall(started=beat)
            before = thread_cpu()
            while self.watch.last_beat == beat and not self._stop.is_set():
                frame = sys._current_frames().get(self._main or 0)
                if frame is not None:
                    stack = traceback.extract_stack(frame)[-FRAMES:]
                    stall.stacks[
                        " < ".join(f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in reversed(stack))
                    ] += 1
                time.sleep(SAMPLE_S)
            stall.length_s = self.watch.last_beat - beat
            after = thread_cpu()
            names = {t.native_id: t.name for t in threading.enumerate()}
            for tid, cpu in after.items():
                used = cpu - before.get(tid, 0.0)
                if used > 0:
                    stall.cpu_s[names.get(tid, str(tid))] = used
            self.stalls.append(stall)

    def report(self, longest: int = 5, stacks: int = 4) -> list[str]:
        """The longest stalls by wall time, then those where the main thread used the most CPU (on a loaded
        machine the longest are often those where another process had the core)."""
        lines = [f"{len(self.stalls)} stalls over {self.threshold_s * 1000:.0f} ms; the longest:"]
        by_wall = sorted(self.stalls, key=lambda s: s.length_s, reverse=True)[:longest]
        by_cpu = sorted(self.stalls, key=lambda s: s.cpu_s.get("MainThread", 0.0), reverse=True)[:longest]
        for stall in [*by_wall, None, *by_cpu]:
            if stall is None:
                lines.append("those where the main thread used the most CPU:")
                continue
            cpu = ", ".join(f"{name} {used * 1000:.0f} ms" for name, used in sorted(stall.cpu_s.items()))
            lines.append(f"stall {stall.length_s * 1000:.0f} ms; CPU meanwhile: {cpu}")
            total = sum(stall.stacks.values()) or 1
            for stack, count in stall.stacks.most_common(stacks):
                lines.append(f"  {count / total:4.0%} {stack}")
        return lines


class CpuBeat:
    """The most CPU time the main thread used between two beats of its event loop, ``BEAT_S`` apart: a stall's
    length as the machine's load does not change it (a loaded machine lengthens the wall time, not this)."""

    BEAT_S = 0.01

    def __init__(self) -> None:
        self.longest_s = 0.0

    async def beat(self) -> None:
        last = time.thread_time()
        while True:
            await asyncio.sleep(self.BEAT_S)
            now = time.thread_time()
            self.longest_s = max(self.longest_s, now - last)
            last = now


class CallTimes:
    """The CPU time of each call of a few methods (the longest, the total, how many), to tell which of them make
    the longest stalls; a wrapper costs about a microsecond a call, so wrap only methods called a few hundred
    times a second."""

    def __init__(self) -> None:
        self.calls: dict[str, list[float]] = {}

    def wrap(self, owner: type, name: str) -> None:
        original = getattr(owner, name)
        times = self.calls.setdefault(f"{owner.__name__}.{name}", [])

        def timed(*args: object, **kwargs: object) -> object:
            started = time.thread_time()
            try:
                return original(*args, **kwargs)
            finally:
                times.append(time.thread_time() - started)

        if asyncio.iscoroutinefunction(original):

            async def timed_async(*args: object, **kwargs: object) -> object:
                started = time.thread_time()  # the awaits included: only for methods that do not wait
                try:
                    return await original(*args, **kwargs)
                finally:
                    times.append(time.thread_time() - started)

            setattr(owner, name, timed_async)
        else:
            setattr(owner, name, timed)

    def reset(self) -> None:
        for times in self.calls.values():
            times.clear()

    def report(self) -> list[str]:
        lines = ["CPU of each call (ms): calls, longest, p95, total"]
        for name, times in sorted(self.calls.items(), key=lambda item: -max(item[1], default=0.0)):
            if times:
                ordered = sorted(times)
                p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
                lines.append(
                    f"  {name:<40} {len(times):6d} {ordered[-1] * 1000:8.1f} {p95 * 1000:8.1f} {sum(times) * 1000:9.0f}"
                )
        return lines


class CollectionTimes:
    """The length of each garbage collection, by generation (``gc.callbacks``)."""

    def __init__(self) -> None:
        self.times: dict[int, list[float]] = {0: [], 1: [], 2: []}
        self.cpu: dict[int, list[float]] = {0: [], 1: [], 2: []}
        self._started = self._cpu_started = 0.0

    def start(self) -> None:
        import gc

        gc.callbacks.append(self._note)

    def reset(self) -> None:
        for times in (*self.times.values(), *self.cpu.values()):
            times.clear()

    def _note(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            self._cpu_started = time.thread_time()
        else:
            self.times[info["generation"]].append(time.perf_counter() - self._started)
            self.cpu[info["generation"]].append(time.thread_time() - self._cpu_started)

    def report(self) -> list[str]:
        import gc
        from collections import Counter

        lines = ["garbage collections (ms): generation, count, longest, total; then the same in CPU time"]
        for generation, times in self.times.items():
            if times:
                cpu = self.cpu[generation]
                lines.append(
                    f"  {generation} {len(times):6d} {max(times) * 1000:8.1f} {sum(times) * 1000:9.0f}"
                    f"   {max(cpu) * 1000:8.1f} {sum(cpu) * 1000:9.0f}"
                )
        tracked = gc.get_objects()  # those a full collection scans (the frozen ones left out)
        kinds = Counter(type(o).__name__ for o in tracked).most_common(8)
        lines.append(f"  tracked now: {len(tracked)}, frozen {gc.get_freeze_count()}; most: {kinds}")
        biggest = sorted((len(o), type(o).__name__) for o in tracked if isinstance(o, (list, dict, set)))[-5:]
        lines.append(f"  the biggest containers (length, type): {biggest}")
        del tracked
        started = time.thread_time()
        gc.collect()
        lines.append(f"  a full collection now: {(time.thread_time() - started) * 1000:.1f} ms CPU")
        return lines
