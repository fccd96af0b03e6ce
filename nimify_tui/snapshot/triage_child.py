"""The triage beside a snapshot: the report ``nimify-tui triage --json`` prints, checked in a forked child process.

The child is forked as the command starts, before this process has a thread or has read the kubeconfig: it loads
its own settings and client and imports what the triage needs on the other core while this process imports what
the snapshot needs, reads the kubeconfig and sends the snapshot's requests; it checks the cluster once the
snapshot's files are written (or ``HOLD_S`` after its client is loaded): the state at this moment comes first, and
the triage's requests do not slow the snapshot's on the API server, nor its decoding on the cores. Its report comes
back through a pipe; the child does not stop its sources (the process ends, its exit functions run: files it wrote
for TLS are removed). Where ``fork`` is not safe to use (anything but Linux, or a thread already running), the triage
runs in a thread of this process instead.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import select
import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nimify_tui.config import Settings
    from nimify_tui.kube.client import KubeClient

Connect = Callable[[], "tuple[Settings, KubeClient]"]  # the settings and a read-only client, loaded where it runs
Hold = Callable[[float], object]  # waits (at most the seconds given) until the snapshot's files are written

_REPORT = b"R"  # a message: one kind byte, then the report (JSON) or why there is none (UTF-8)
_NOT_CHECKED = b"E"
_EXTRA_WAIT_S = 30.0  # after the triage's own timeout, before it is given up
HOLD_S = 0.5  # the longest the triage waits for the snapshot's files before asking the cluster


def check(connect: Connect, timeout_s: float, *, stop: bool, hold: Hold | None = None) -> bytes:
    """The triage's message: ``R`` and the JSON report, or ``E`` and why the cluster was not checked. ``stop``:
    stop the sources afterwards (a child about to end need not). ``hold``: called once the client is loaded, before
    the first request: the snapshot's own requests (the state at this moment, what the runbook documents first)
    go first, and the triage's dozens of requests follow, at most ``HOLD_S`` later."""
    from nimify_tui.triage.headless import HeadlessTriage, NotChecked
    from nimify_tui.triage.report import json_report

    settings, client = connect()
    if hold is not None:
        hold(HOLD_S)
    headless = HeadlessTriage(client, settings, timeout_s=timeout_s)
    try:
        headless.start()
        headless.wait_until_ready(timeout_s)  # what is not in by then is reported as missing, as the command does
        result = headless.check()
    finally:
        if stop:
            headless.stop()
    if isinstance(result, NotChecked):
        return _NOT_CHECKED + result.reason.encode()
    return _REPORT + json_report(result, context=client.identity.context, keymap=settings.keymap.keys)


def _answer(message: bytes) -> bytes:
    """The report of a message; RuntimeError with the reason when there is none."""
    if message[:1] == _REPORT:
        return message[1:]
    reason = message[1:].decode(errors="replace") if message[:1] == _NOT_CHECKED else ""
    raise RuntimeError(reason or "the triage ended without a report")


class TriageChild:
    """One triage running beside a snapshot: :meth:`report` waits for it; :meth:`stop` ends it."""

    def __init__(self, connect: Connect, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        self._pid: int | None = None
        self._read = -1
        self._go = -1  # the write end of the pipe that releases a forked child's requests
        self._released = threading.Event()  # the same for a thread
        self._thread: threading.Thread | None = None
        self._message = b""
        if sys.platform == "linux" and threading.active_count() == 1:  # a thread forked along would be lost
            self._fork(connect)
        else:
            self._thread = threading.Thread(
                target=self._in_thread, args=(connect,), name="snapshot-triage", daemon=True
            )
            self._thread.start()

    def _fork(self, connect: Connect) -> None:
        read, write = os.pipe()
        released, go = os.pipe()
        pid = os.fork()
        if pid:
            os.close(write)
            os.close(released)
            self._pid, self._read, self._go = pid, read, go
            return
        status = 0  # the child: never returns
        try:
            os.close(read)
            os.close(go)
            quiet = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):  # the command's output is the parent's alone
                os.dup2(quiet, fd)

            def hold(seconds: float) -> None:
                select.select([released], [], [], seconds)  # readable once the parent wrote or closed its end

            message = check(connect, self.timeout_s, stop=False, hold=hold)
            with os.fdopen(write, "wb") as out:
                out.write(message)
        except KeyboardInterrupt:
            status = 130
        except BaseException as exc:
            status = 1
            with contextlib.suppress(OSError):
                os.write(write, _NOT_CHECKED + _why(exc))
        finally:
            with contextlib.suppress(BaseException):
                atexit._run_exitfuncs()  # its own exit functions: the TLS files its kubeconfig loading wrote
            os._exit(status)

    def _in_thread(self, connect: Connect) -> None:
        try:
            self._message = check(connect, self.timeout_s, stop=True, hold=self._released.wait)
        except Exception as exc:
            self._message = _NOT_CHECKED + _why(exc)

    def release(self) -> None:
        """Let the triage ask the cluster now (it waits for this, at most ``HOLD_S``)."""
        self._released.set()
        if self._go >= 0:
            os.close(self._go)  # the child's end becomes readable (end of file)
            self._go = -1

    def report(self) -> bytes:
        """The JSON report (bytes); RuntimeError saying why when there is none."""
        self.release()
        deadline = time.monotonic() + self.timeout_s + _EXTRA_WAIT_S
        if self._thread is not None:
            self._thread.join(max(deadline - time.monotonic(), 0))
            if self._thread.is_alive():
                raise RuntimeError("the triage did not end")
            return _answer(self._message)
        chunks: list[bytes] = []
        while self._read >= 0:
            left = deadline - time.monotonic()
            if left <= 0:
                self.stop()
                raise RuntimeError("the triage did not end")
            if not select.select([self._read], [], [], left)[0]:
                continue
            chunk = os.read(self._read, 1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
        self.stop(kill=False)  # it has written its message and is ending
        return _answer(b"".join(chunks))

    def stop(self, *, kill: bool = True) -> None:
        """End the child now if it still runs (a thread is left to end with its own timeout)."""
        self.release()
        if self._read >= 0:
            os.close(self._read)
            self._read = -1
        if self._pid is not None:
            pid, self._pid = self._pid, None
            try:
                if kill:
                    os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            except (ChildProcessError, ProcessLookupError):
                pass


def _why(exc: BaseException) -> bytes:
    return f"{type(exc).__name__}: {exc}".encode(errors="replace")
