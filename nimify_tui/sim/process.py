"""The simulated cluster in a child process, for ``nimify-tui demo``.

Run in the TUI's own process, the simulator shares one interpreter lock with the app: every list, watch event
and Triton answer it serves is CPU the app's first frame waits for. In a child process (``nimify-tui sim``) it
runs on another core, and its start (interpreter, aiohttp, the world) overlaps with the app's imports. The child
writes a kubeconfig and says so on its standard output; it is stopped when the demo ends, and stops by itself
if the demo dies without stopping it.

This module imports nothing of the simulator: it only starts the command.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

READY_PREFIX = "nimify-tui sim: scenario"  # the line the sim prints once it serves and its kubeconfig is written
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 5.0


class SimStartError(RuntimeError):
    """The simulated cluster did not start; the message says why (its own error output)."""


class SimProcess:
    """``nimify-tui sim`` as a child process; ``start`` returns at once, ``wait_ready`` until it serves."""

    def __init__(
        self,
        folder: Path,
        *,
        scenario: str = "healthy",
        pods: int = 0,
        event_rate: float = 0.0,
        namespaces: str = "nimify-system",
        log_rate: float = 0.0,
        extra_args: Sequence[str] = (),
    ) -> None:
        self.kubeconfig = folder / "kubeconfig"
        self._log_path = folder / "sim.log"
        self._command = [
            sys.executable,
            "-m",
            "nimify_tui",
            "sim",
            "--scenario",
            scenario,
            "--pods",
            str(pods),
            "--event-rate",
            str(event_rate),
            "--namespaces",
            namespaces,
            "--log-rate",
            str(log_rate),
            "--kubeconfig-out",
            str(self.kubeconfig),
            "--exit-with-parent",
            str(os.getpid()),
            *extra_args,
        ]
        self._process: subprocess.Popen[str] | None = None
        self._answered = threading.Event()  # it said it serves, or it ended
        self._serving = False

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def start(self) -> SimProcess:
        log = self._log_path.open("w")
        try:
            self._process = subprocess.Popen(
                self._command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
                start_new_session=True,  # the terminal's ctrl+c is the TUI's, not the child's
            )
        finally:
            log.close()
        threading.Thread(target=self._read_output, name="sim-output", daemon=True).start()
        return self

    def _read_output(self) -> None:
        assert self._process is not None and self._process.stdout is not None
        for line in self._process.stdout:  # read to the end, so that the child never blocks on a full pipe
            if line.startswith(READY_PREFIX):
                self._serving = True
                self._answered.set()
        self._answered.set()  # it ended: wait_ready looks at why

    def wait_ready(self, timeout_s: float = START_TIMEOUT_S) -> Path:
        """The kubeconfig once the child serves; SimStartError if it ended or took longer than ``timeout_s``."""
        if self._process is None:
            raise SimStartError("not started")
        if not self._answered.wait(timeout_s):
            self.stop()
            raise SimStartError(f"no answer after {timeout_s:.0f} s{self._error_tail()}")
        if not self._serving:
            self._process.wait()
            raise SimStartError(f"it exited with status {self._process.returncode}{self._error_tail()}")
        return self.kubeconfig

    def _error_tail(self) -> str:
        try:
            lines = [line for line in self._log_path.read_text(errors="replace").splitlines() if line.strip()]
        except OSError:
            lines = []
        return f": {lines[-1]}" if lines else ""

    def stop(self) -> None:
        """SIGTERM (the sim stops cleanly), then SIGKILL if it does not end in time."""
        process = self._process
        if process is None or process.poll() is not None:
            return
        process.terminate()
        deadline = time.monotonic() + STOP_TIMEOUT_S
        try:
            process.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def __enter__(self) -> SimProcess:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
