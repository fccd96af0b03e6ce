"""The screen first: the threads that feed the store step aside while the screen answers the user.

One interpreter runs the screen and every source (informers, pollers, the triage). A thread that wants the
interpreter lock gets it when the holder lets go (at least every switch interval, 5 ms) and the system picks it
among those waiting: with the triage and a metrics poll busy, the screen had a third of the interpreter, and a key
that needs 25 ms of it was drawn 60-100 ms later. So the screen says when it starts answering (a key) and when the
answer is drawn, and the background threads call :meth:`ScreenFirst.step_aside` between two units of their work (an
object of a list page, a watch event, a check): while the screen answers, they wait.

Never for long: a wait ends when the answer is drawn, after ``MOST_S`` at most, and an answer never marked drawn
ends by itself after ``ANSWER_S``. A thread that waited then works at least as long before it waits again, so keys
held down leave the sources at least half their time: the data keeps coming.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class ScreenFirst:
    MOST_S = 0.05  # the longest one wait
    ANSWER_S = 0.25  # an answer not marked drawn is taken as drawn after this

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._answering_until = 0.0  # 0.0: the screen is not answering
        self._drawn = threading.Event()
        self._drawn.set()
        self._local = threading.local()
        self._screen_thread: threading.Thread | None = None  # the thread that marks the answers
        self.waits = 0  # how many times a thread stepped aside
        self.answers = 0  # how many answers the screen started

    def answering(self) -> None:
        """The screen starts answering the user (its thread calls this as a key arrives)."""
        self._screen_thread = threading.current_thread()
        self._drawn.clear()
        self._answering_until = self.clock() + self.ANSWER_S
        self.answers += 1

    def answered(self) -> None:
        """The answer is drawn: the threads waiting go on."""
        self._answering_until = 0.0
        self._drawn.set()

    @property
    def is_answering(self) -> bool:
        until = self._answering_until
        return bool(until) and self.clock() < until

    def step_aside(self) -> None:
        """Wait while the screen answers (see the module's text); at once when it does not."""
        until = self._answering_until
        if not until:
            return
        if threading.current_thread() is self._screen_thread:
            return  # the screen's own thread running a check: it is the answer
        now = self.clock()
        if now >= until or now < getattr(self._local, "not_before", 0.0):
            return
        self.waits += 1
        self._drawn.wait(min(self.MOST_S, until - now))
        resumed = self.clock()
        self._local.not_before = resumed + (resumed - now)  # as long at work as it waited


SCREEN_FIRST = ScreenFirst()
"""The one for this process: the interpreter is shared by every thread of it."""
