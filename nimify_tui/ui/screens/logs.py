"""The logs of one container: follow, previous container (`p`), next container (`C`), search, save (a file named
after the pod, the container and the time)."""

from __future__ import annotations

import contextlib
import threading
from typing import TYPE_CHECKING, Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen

from nimify_tui.kube.client import interrupt_stream
from nimify_tui.kube.errors import KubeError
from nimify_tui.kube.logs import LogRequest, stream_log_lines
from nimify_tui.ui.widgets.key_footer import KeyFooter
from nimify_tui.ui.widgets.log_view import LogView

if TYPE_CHECKING:
    from nimify_tui.ui.app import NimifyApp


class LogsScreen(Screen[None]):
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="back"),
        Binding("p", "toggle_previous", "Previous/current", id="previous"),
        Binding("C", "next_container", "Container", id="container"),
    ]

    def __init__(self, namespace: str, pod: str, containers: list[str], container: str, previous: bool) -> None:
        super().__init__()
        self.namespace = namespace
        self.pod = pod
        self.containers = containers or [container]
        self.request = LogRequest(namespace, pod, container, follow=True, previous=previous)
        self._closer: list[Any] = []
        self._generation = 0
        self._lock = threading.Lock()
        self._pending: list[bytes] = []

    @property
    def nimify(self) -> NimifyApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield LogView(id="log-view")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.set_interval(0.1, self._drain)
        self.start_stream()
        self.query_one(LogView).focus()

    def on_unmount(self) -> None:
        self.stop_stream()

    def start_stream(self) -> None:
        self.stop_stream()
        self._generation += 1
        with self._lock:
            self._pending = []
        view = self.query_one(LogView)
        view.clear()
        view.set_title(logs_title(self.request))
        view.save_name = f"{self.request.pod}_{self.request.container}"
        thread = threading.Thread(target=self._pump, args=(self._generation, self.request), daemon=True)
        thread.start()

    def stop_stream(self) -> None:
        closers, self._closer = self._closer, []
        for response in closers:
            interrupt_stream(response)

    def _pump(self, generation: int, request: LogRequest) -> None:
        """Reads the stream in a thread; the UI drains what arrived ten times a second (batches, never per line)."""
        closer: list[Any] = []
        self._closer = closer
        try:
            for line in stream_log_lines(self.nimify.runtime.client, request, closer):
                if generation != self._generation:
                    return
                with self._lock:
                    self._pending.append(line)
        except Exception as exc:  # the API server's 400 for no previous container, or a broken stream
            message = exc.message if isinstance(exc, KubeError) else f"{type(exc).__name__}: {exc}"
            if generation == self._generation and self._closer is closer and self.is_mounted:
                with contextlib.suppress(Exception):  # the app may be exiting under us
                    self.app.call_from_thread(self._failed, generation, message)

    def _drain(self) -> None:
        with self._lock:
            lines, self._pending = self._pending, []
        if lines and self.is_mounted:
            self.query_one(LogView).append_lines(lines)

    def _failed(self, generation: int, message: str) -> None:
        if generation == self._generation and self.is_mounted:
            self.query_one(LogView).append_lines([f"--- {message}"])
            self.nimify.notify_error(message)

    def action_toggle_previous(self) -> None:
        r = self.request
        self.request = LogRequest(r.namespace, r.pod, r.container, follow=True, previous=not r.previous)
        self.start_stream()

    def action_next_container(self) -> None:
        if len(self.containers) < 2:
            self.notify("This pod has one container.")
            return
        r = self.request
        index = self.containers.index(r.container) if r.container in self.containers else -1
        container = self.containers[(index + 1) % len(self.containers)]
        self.request = LogRequest(r.namespace, r.pod, container, follow=True, previous=r.previous)
        self.start_stream()


def logs_title(request: LogRequest) -> str:
    """Whose logs these are, and which container: following or not is the status line's to say (one place)."""
    which = "previous container" if request.previous else "current container"
    return f"{request.namespace}/{request.pod} [{request.container}] {which}"
