"""Running commands in a container: the Kubernetes exec protocol over WebSocket, as kubectl 1.30+ speaks it.

The API server upgrades ``GET /api/v1/namespaces/NS/pods/POD/exec?command=...`` to a WebSocket whose binary messages
start with a channel byte: 0 stdin, 1 stdout, 2 stderr, 3 the command's final Status (JSON), 4 terminal resizes
(JSON ``{"Width": w, "Height": h}``), and in ``v5.channel.k8s.io`` 255 to close one of those streams (stdin's end).
``v4.channel.k8s.io`` is offered as the fallback: the same, without the close channel. aiohttp does the WebSocket
framing; the kubeconfig's credentials (bearer token, client certificate, CA) come from :class:`KubeClient`.

:meth:`ExecClient.run` runs one command with its output bounded and a timeout (from a worker thread);
:class:`ShellSession` gives a terminal to an interactive command (raw mode, stdin pumped, resizes sent) until it ends.
A read-only session sends nothing: exec creates ``pods/exec``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import termios
import threading
import time
import tty
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

import orjson

from nimify_tui.kube.client import KubeClient, ReadOnlyViolation
from nimify_tui.kube.errors import KubeError, error_from_response, error_from_transport
from nimify_tui.text import one_line

if TYPE_CHECKING:  # aiohttp is imported where exec is used: importing it costs the app's start about 0.2 s
    import aiohttp

PROTOCOLS = ("v5.channel.k8s.io", "v4.channel.k8s.io")  # preferred first, as kubectl asks
STDIN, STDOUT, STDERR, STATUS, RESIZE, CLOSE = 0, 1, 2, 3, 4, 255
DEFAULT_OUTPUT_LIMIT = 64 * 1024  # bytes kept of each of stdout and stderr
DEFAULT_TIMEOUT_S = 30.0
CONNECT_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class ExecTarget:
    """The container a command runs in (``container`` None: the pod's only or default container)."""

    namespace: str
    pod: str
    container: str | None = None

    def path(self) -> str:
        return f"/api/v1/namespaces/{quote(self.namespace, safe='')}/pods/{quote(self.pod, safe='')}/exec"

    def query(self, command: Sequence[str], *, stdin: bool, tty: bool) -> list[tuple[str, str]]:
        query = [("command", part) for part in command]
        if self.container:
            query.append(("container", self.container))
        query += [
            ("stdin", _flag(stdin)),
            ("stdout", "true"),
            ("stderr", _flag(not tty)),  # a terminal merges stderr into stdout
            ("tty", _flag(tty)),
        ]
        return query

    def path_with_query(self, command: Sequence[str], *, stdin: bool = False, tty: bool = False) -> str:
        """The request as the journal records it."""
        return f"{self.path()}?{urlencode(self.query(command, stdin=stdin, tty=tty))}"

    def __str__(self) -> str:
        where = f"{self.namespace}/{self.pod}"
        return f"{where} ({self.container})" if self.container else where


@dataclass(frozen=True)
class ExecResult:
    """What a command did: its output (each stream cut at the limit), its exit code (None when it did not finish:
    refused, timed out, connection lost; ``error`` says why), how long it took, and the protocol spoken."""

    command: tuple[str, ...]
    stdout: str
    stderr: str
    exit_code: int | None
    error: str = ""
    truncated: bool = False
    duration_s: float = 0.0
    protocol: str = ""

    @property
    def output(self) -> str:
        """stdout then stderr, as a terminal would show them (stderr last: it usually says why)."""
        parts = [part.rstrip("\n") for part in (self.stdout, self.stderr) if part.strip()]
        return "\n".join(parts)

    @property
    def outcome(self) -> str:
        """One line: ``exit 0``, ``exit 2``, or why there is no exit code."""
        if self.exit_code is None:
            return self.error or "no exit code"
        return f"exit {self.exit_code}"


class ExecRefused(KubeError):
    """The API server did not upgrade the connection (pod or container not there, forbidden, not running)."""


@dataclass
class _Collected:
    limit: int
    stdout: bytearray = field(default_factory=bytearray)
    stderr: bytearray = field(default_factory=bytearray)
    truncated: bool = False

    def add(self, channel: int, data: bytes) -> None:
        buffer = self.stdout if channel == STDOUT else self.stderr
        room = self.limit - len(buffer)
        if len(data) > room:
            self.truncated = True
            data = data[: max(room, 0)]
        buffer.extend(data)


@dataclass(frozen=True)
class _Ending:
    exit_code: int | None
    error: str


def ending_of(status: Any) -> _Ending:
    """The exit code (and message) a channel-3 Status says: Success is 0; NonZeroExitCode carries its code in the
    ExitCode cause; any other failure is an error with no exit code."""
    if not isinstance(status, dict):
        return _Ending(None, "the API server's final status is not a Status")
    if status.get("status") == "Success":
        return _Ending(0, "")
    message = one_line(str(status.get("message") or status.get("reason") or "the command failed"))
    if status.get("reason") == "NonZeroExitCode":
        causes = (status.get("details") or {}).get("causes") or []
        for cause in causes:
            if isinstance(cause, dict) and cause.get("reason") == "ExitCode":
                with contextlib.suppress(TypeError, ValueError):
                    return _Ending(int(str(cause.get("message"))), "")
    return _Ending(None, message)


class ExecClient:
    """Exec for one cluster connection. ``run`` may be called from any thread that has no running event loop."""

    def __init__(
        self,
        client: KubeClient,
        *,
        connect_timeout_s: float = CONNECT_TIMEOUT_S,
        protocols: Sequence[str] = PROTOCOLS,
    ) -> None:
        self.client = client
        self.connect_timeout_s = connect_timeout_s
        self.protocols = tuple(protocols)  # offered in this order; the API server picks one

    # --- one command ------------------------------------------------------------------------------------------
    def run(
        self,
        target: ExecTarget,
        command: Sequence[str],
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        output_limit: int = DEFAULT_OUTPUT_LIMIT,
    ) -> ExecResult:
        """Run ``command`` with no stdin and no terminal; never raises for what the cluster answers (a refused
        upgrade, a timeout: ``error``), only :class:`ReadOnlyViolation` in a read-only session."""
        return asyncio.run(self.run_async(target, command, timeout_s=timeout_s, output_limit=output_limit))

    async def run_async(
        self,
        target: ExecTarget,
        command: Sequence[str],
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        output_limit: int = DEFAULT_OUTPUT_LIMIT,
    ) -> ExecResult:
        import aiohttp

        self._refuse_if_readonly(target)
        started = time.monotonic()
        collected = _Collected(output_limit)
        protocols: list[str] = []

        async def exchange() -> _Ending:
            async with self._connect(target, command, stdin=False, tty=False) as ws:
                protocols.append(ws.protocol or "")
                return await _read_until_end(ws, collected.add)

        try:
            ending = await asyncio.wait_for(exchange(), timeout_s)
        except asyncio.TimeoutError:
            ending = _Ending(None, f"timed out after {timeout_s:g} s")
        except (ExecRefused, aiohttp.ClientError, OSError) as exc:
            ending = _failed(exc, target, self.client.identity.server)
        protocol = protocols[0] if protocols else ""
        return ExecResult(
            tuple(command),
            collected.stdout.decode("utf-8", "replace"),
            collected.stderr.decode("utf-8", "replace"),
            ending.exit_code,
            ending.error,
            collected.truncated,
            time.monotonic() - started,
            protocol,
        )

    # --- the connection ---------------------------------------------------------------------------------------
    def _refuse_if_readonly(self, target: ExecTarget) -> None:
        if self.client.readonly:
            raise ReadOnlyViolation(0, "ReadOnly", f"read-only session: exec in {target} was not sent")

    @contextlib.asynccontextmanager
    async def _connect(
        self, target: ExecTarget, command: Sequence[str], *, stdin: bool, tty: bool
    ) -> AsyncIterator[aiohttp.ClientWebSocketResponse[bool]]:
        """The upgraded connection; a refusal raises :class:`ExecRefused` with the API server's own message."""
        import aiohttp

        url = self.client.identity.server.rstrip("/") + target.path()
        context = self.client.ssl_context()
        refusals: list[bytes] = []
        async with aiohttp.ClientSession(
            headers=self.client.auth_headers(),
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=self.connect_timeout_s),
            response_class=_keeping_refusal_body(refusals),
        ) as session:
            try:
                ws = await session.ws_connect(
                    url,
                    params=target.query(command, stdin=stdin, tty=tty),
                    protocols=self.protocols,
                    ssl=context if context is not None else True,
                    max_msg_size=0,
                )
            except aiohttp.WSServerHandshakeError as exc:
                raise _refusal(exc.status, refusals[-1] if refusals else b"", target) from exc
            try:
                if ws.protocol not in self.protocols:
                    raise ExecRefused(0, "BadProtocol", f"the API server speaks none of {', '.join(self.protocols)}")
                yield ws
            finally:
                await ws.close()


def _failed(exc: Exception, target: ExecTarget, server: str) -> _Ending:
    """A session that never ran or broke: the API server's refusal as it said it, else the connection's failure
    worded as every other request's (refused, TLS, unreachable...)."""
    if isinstance(exc, ExecRefused):
        return _Ending(None, exc.message)
    underneath = getattr(exc, "os_error", None)  # aiohttp's connector error names the socket's own error
    cause = underneath if isinstance(underneath, OSError) else exc
    return _Ending(None, error_from_transport(cause, "GET", target.path(), server).message)


def _refusal(status: int, body: bytes, target: ExecTarget) -> ExecRefused:
    """What kubectl says of a refused upgrade: the API server's Status message as it is; any other answer (the
    kubelet's plain text) after ``unable to upgrade connection:``."""
    try:
        decoded: Any = orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        decoded = None
    if isinstance(decoded, dict) and decoded.get("kind") == "Status" and decoded.get("message"):
        return ExecRefused(status, str(decoded.get("reason") or ""), one_line(str(decoded["message"])))
    text = body.decode("utf-8", "replace").strip() or error_from_response(status, b"", "GET", target.path()).reason
    return ExecRefused(status, "UpgradeFailed", one_line(f"unable to upgrade connection: {text}"))


def _keeping_refusal_body(bodies: list[bytes]) -> type[aiohttp.ClientResponse]:
    """A response class that reads the body of a refused upgrade (the API server's Status says why): aiohttp
    raises the handshake error without it."""
    import aiohttp

    class KeepingRefusalBody(aiohttp.ClientResponse):
        async def start(self, connection: Any) -> aiohttp.ClientResponse:
            response = await super().start(connection)
            if self.status != 101:
                with contextlib.suppress(aiohttp.ClientError, OSError):
                    bodies.append(await self.read())
            return response

    return KeepingRefusalBody


async def _read_until_end(ws: aiohttp.ClientWebSocketResponse[bool], output: Callable[[int, bytes], None]) -> _Ending:
    """Hand stdout and stderr to ``output`` until the connection ends; the ending is channel 3's Status."""
    import aiohttp

    ending: _Ending | None = None
    async for message in ws:
        if message.type != aiohttp.WSMsgType.BINARY or not message.data:
            continue
        data: bytes = message.data
        channel, payload = data[0], data[1:]
        if channel in (STDOUT, STDERR):
            output(channel, payload)
        elif channel == STATUS and payload:
            try:
                ending = ending_of(orjson.loads(payload))
            except orjson.JSONDecodeError:
                ending = _Ending(None, one_line(payload.decode("utf-8", "replace")))
    return ending or _Ending(None, "the connection closed before the command's status came")


def _flag(value: bool) -> str:
    return "true" if value else "false"


# --- an interactive session ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Terminal:
    """Where an interactive session reads keys and writes output: the process's terminal (0 and 1), or a pty."""

    input_fd: int = 0
    output_fd: int = 1

    def size(self) -> tuple[int, int]:
        """Columns and rows (80x24 when the output is not a terminal, or one that was never sized)."""
        try:
            size = os.get_terminal_size(self.output_fd)
        except OSError:
            return 80, 24
        return size.columns or 80, size.lines or 24


class ShellSession:
    """Gives ``terminal`` to ``command`` in a container until it ends (ctrl+d or ``exit`` in a shell).

    :meth:`run` blocks its caller: the session runs in a thread of its own with its own event loop (the caller's
    loop, the TUI's, is suspended meanwhile). The terminal is put in raw mode while the session lasts; SIGWINCH, when
    :meth:`run` is called on the main thread, sends the new size on the resize channel; :meth:`resize` does it from
    anywhere.
    """

    def __init__(self, exec_client: ExecClient, target: ExecTarget, command: Sequence[str], terminal: Terminal):
        self.exec_client = exec_client
        self.target = target
        self.command = tuple(command)
        self.terminal = terminal
        self._loop: asyncio.AbstractEventLoop | None = None
        self._resize_wanted: asyncio.Event | None = None
        self._ready = threading.Event()

    def run(self) -> ExecResult:
        self.exec_client._refuse_if_readonly(self.target)
        results: list[ExecResult] = []
        thread = threading.Thread(target=lambda: results.append(asyncio.run(self._run())), name="exec-session")
        with self._raw(), self._resize_on_sigwinch():
            thread.start()
            while thread.is_alive():
                thread.join(0.1)  # in slices: a signal handler runs on this thread between them
        return results[0] if results else ExecResult(self.command, "", "", None, "the session thread failed")

    def resize(self) -> None:
        """Send the terminal's size now (thread-safe)."""
        loop, wanted = self._loop, self._resize_wanted
        if loop is not None and wanted is not None:
            with contextlib.suppress(RuntimeError):  # the session's loop is closing
                loop.call_soon_threadsafe(wanted.set)

    @contextlib.contextmanager
    def _raw(self) -> Any:
        fd = self.terminal.input_fd
        if not os.isatty(fd):
            yield
            return
        saved = termios.tcgetattr(fd)
        try:
            tty.setraw(fd)
            yield
        finally:
            termios.tcsetattr(fd, termios.TCSADRAIN, saved)

    @contextlib.contextmanager
    def _resize_on_sigwinch(self) -> Any:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = signal.signal(signal.SIGWINCH, lambda signum, frame: self.resize())
        try:
            yield
        finally:
            signal.signal(signal.SIGWINCH, previous)

    async def _run(self) -> ExecResult:
        import aiohttp

        started = time.monotonic()
        self._loop = asyncio.get_running_loop()
        self._resize_wanted = asyncio.Event()
        client = self.exec_client
        protocol = ""
        try:
            async with client._connect(self.target, self.command, stdin=True, tty=True) as ws:
                protocol = ws.protocol or ""
                ending = await self._pump(ws)
        except (ExecRefused, aiohttp.ClientError, OSError) as exc:
            ending = _failed(exc, self.target, client.client.identity.server)
        duration = time.monotonic() - started
        return ExecResult(self.command, "", "", ending.exit_code, ending.error, False, duration, protocol)

    async def _pump(self, ws: aiohttp.ClientWebSocketResponse[bool]) -> _Ending:
        loop = asyncio.get_running_loop()
        keys: asyncio.Queue[bytes] = asyncio.Queue()
        fd = self.terminal.input_fd

        def readable() -> None:
            try:
                data = os.read(fd, 4096)
            except OSError:
                data = b""
            if not data:
                loop.remove_reader(fd)
            keys.put_nowait(data)

        async def send_keys() -> None:
            while True:
                data = await keys.get()
                if not data:  # the input ended: v5 closes stdin, v4 cannot say so
                    if ws.protocol == PROTOCOLS[0]:
                        await ws.send_bytes(bytes((CLOSE, STDIN)))
                    return
                await ws.send_bytes(bytes((STDIN,)) + data)

        async def send_sizes() -> None:
            assert self._resize_wanted is not None
            while True:
                columns, rows = self.terminal.size()
                await ws.send_bytes(bytes((RESIZE,)) + orjson.dumps({"Width": columns, "Height": rows}))
                await self._resize_wanted.wait()
                self._resize_wanted.clear()

        def show(channel: int, data: bytes) -> None:
            with contextlib.suppress(OSError):
                _write_all(self.terminal.output_fd, data)

        loop.add_reader(fd, readable)
        senders = [asyncio.create_task(send_keys()), asyncio.create_task(send_sizes())]
        try:
            return await _read_until_end(ws, show)
        finally:
            with contextlib.suppress(ValueError, OSError):
                loop.remove_reader(fd)
            for task in senders:
                task.cancel()
            await asyncio.gather(*senders, return_exceptions=True)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]
