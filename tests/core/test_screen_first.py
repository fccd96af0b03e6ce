"""ScreenFirst: the threads that feed the store wait while the screen answers a key, never for long, and never
so often that the data stops."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from nimify_tui.live.screen_first import ScreenFirst

from ..waiting import wait_for


class Shifted:
    """The monotonic clock moved on by hand: the time a thread has worked, without sleeping it."""

    def __init__(self) -> None:
        self.shift = 0.0

    def __call__(self) -> float:
        return time.monotonic() + self.shift


def in_a_thread(work: Callable[[], None]) -> None:
    """``work`` in a thread other than the one marking the answers (a source's), to its end; its failure is ours."""
    failures: list[BaseException] = []

    def run() -> None:
        try:
            work()
        except BaseException as exc:  # an assertion inside: raised again below
            failures.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout=30)
    assert not thread.is_alive(), "the source thread is still waiting"
    if failures:
        raise failures[0]


def test_a_thread_goes_on_at_once_while_the_screen_is_not_answering() -> None:
    gate = ScreenFirst()
    in_a_thread(gate.step_aside)
    gate.answering()
    gate.answered()
    in_a_thread(gate.step_aside)
    assert gate.waits == 0 and not gate.is_answering


def test_a_thread_waits_while_the_screen_answers_and_goes_on_once_the_answer_is_drawn() -> None:
    gate = ScreenFirst()
    gate.MOST_S = gate.ANSWER_S = 60.0  # nothing but the drawn answer ends this wait
    passed = threading.Event()

    def source() -> None:
        gate.step_aside()
        passed.set()

    gate.answering()
    thread = threading.Thread(target=source, daemon=True)
    thread.start()
    wait_for(lambda: gate.waits == 1, "the source to step aside")
    assert not passed.is_set(), "it went on while the screen was answering"
    gate.answered()
    thread.join(timeout=10)
    assert passed.is_set() and not thread.is_alive()


def test_a_wait_is_short_and_then_the_thread_works_as_long_before_it_waits_again() -> None:
    clock = Shifted()
    gate = ScreenFirst(clock)
    gate.MOST_S = 0.02
    gate.ANSWER_S = 100.0
    gate.answering()  # and never drawn: a key held down
    waits: list[int] = []

    def source() -> None:  # one source thread: its time at work is its own
        started = time.monotonic()
        gate.step_aside()
        assert time.monotonic() - started < 5.0  # bounded by MOST_S, not by the answer
        waits.append(gate.waits)
        gate.step_aside()
        gate.step_aside()
        waits.append(gate.waits)
        clock.shift += 1.0  # a second of work later
        gate.step_aside()
        waits.append(gate.waits)

    in_a_thread(source)
    assert waits == [1, 1, 2], "it waited again before working as long as it waited, or not after"


def test_an_answer_never_marked_drawn_ends_by_itself() -> None:
    clock = Shifted()
    gate = ScreenFirst(clock)
    gate.answering()
    assert gate.is_answering
    clock.shift += gate.ANSWER_S + 0.1
    assert not gate.is_answering
    in_a_thread(gate.step_aside)
    assert gate.waits == 0


def test_the_screen_s_own_thread_never_waits_for_its_answer() -> None:
    gate = ScreenFirst()
    gate.MOST_S = gate.ANSWER_S = 60.0
    gate.answering()
    started = time.monotonic()
    gate.step_aside()  # a check run by the screen itself
    assert gate.waits == 0 and time.monotonic() - started < 5.0
