"""Exec into a container, as the API server and the kubelet serve it to ``kubectl exec`` (1.30+) over WebSocket.

The request is ``GET`` (or ``POST``) ``/api/v1/namespaces/{ns}/pods/{name}/exec`` with the query
``command=<argv[0]>&command=<argv[1]>...&container=&stdin=&stdout=&stderr=&tty=``, authorized as
``create pods/exec`` whatever the method (as the API server does since 1.31).

Before the upgrade the request can fail like on a real cluster:

- the pod does not exist: 404 ``pods "x" not found``; a container the pod does not have, or no container named
  in a pod of several: 400 with the API server's wording; a pod not yet on a node: 400 ``pod x does not have a host
  assigned``; the node's kubelet is unreachable (its kubelet stopped): 500 ``error dialing backend``;
- the container is not running (waiting, crash-looping, terminated, or its pod terminating: the simulated
  processes stop at SIGTERM): the kubelet's plain-text 500 ``container not found ("name")``, which kubectl prints
  as ``unable to upgrade connection: container not found``.

kubectl falls back to SPDY when the WebSocket handshake fails; the fallback request gets the same answer, and a
request that upgrades to nothing but WebSocket gets 400 ``Upgrade request required``.

The WebSocket subprotocol is ``v5.channel.k8s.io`` when the client offers it, else ``v4.channel.k8s.io``. Every
binary message starts with its channel: 0 stdin, 1 stdout, 2 stderr, 3 error, 4 resize (``{"Width": w,
"Height": h}``); v5 adds 255, the close signal (``[255, 0]``: the client's stdin ended). The session ends with a
``metav1.Status`` on channel 3 (Success, or Failure with reason ``NonZeroExitCode`` and the exit code in
``details.causes[0].message``, as the kubelet sends it) and a normal close.

What the container answers is :mod:`nimify_tui.sim.k8s.shell`'s: see its docstring for the commands. A command
run with ``stdin=true`` (not a shell, no tty) reads all of stdin first, up to v5's close signal (``kubectl exec -i
pod -- grep x < file``); v4 cannot say where stdin ends, so there the command runs without it.
An interactive session ends at ``exit``, ctrl+d, the end of its stdin, or when the container stops or its pod
starts terminating (exit 137).

The request is recorded in the API server's request log like any other (``/exec`` at the end of the path; status
101 for a session, written when the session ends; 403 for a user without ``create pods/exec``).
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import Any

import orjson
from aiohttp import WSMsgType, web

from nimify_tui.sim.k8s.pods import PodRun
from nimify_tui.sim.k8s.shell import Shell, ShellSession
from nimify_tui.sim.k8s.world import World

Obj = dict[str, Any]
PROTOCOLS = ("v5.channel.k8s.io", "v4.channel.k8s.io")
V5 = PROTOCOLS[0]
STDIN, STDOUT, STDERR, ERROR, RESIZE = 0, 1, 2, 3, 4
CLOSE_SIGNAL = 255
KUBELET_PORT = 10250
LIVENESS_S = 1.0  # how often an open session looks whether its container still runs


class ExecRefused(Exception):
    """The request fails before the upgrade: a metav1 Status (``plain``: the kubelet's plain-text answer)."""

    def __init__(self, code: int, reason: str, message: str, plain: bool = False) -> None:
        super().__init__(message)
        self.code, self.reason, self.message, self.plain = code, reason, message, plain


@dataclass(frozen=True)
class ExecOptions:
    """What the request asks for (``PodExecOptions``)."""

    command: tuple[str, ...]
    container: str
    stdin: bool
    stdout: bool
    stderr: bool
    tty: bool

    @classmethod
    def from_query(cls, query: Any) -> ExecOptions:
        def flag(key: str) -> bool:
            return str(query.get(key, "")).lower() in ("true", "1")

        return cls(
            command=tuple(query.getall("command", [])),
            container=query.get("container", ""),
            stdin=flag("stdin"),
            stdout=flag("stdout"),
            stderr=flag("stderr"),
            tty=flag("tty"),
        )


def exec_target(world: World, namespace: str, name: str, options: ExecOptions) -> tuple[Obj, PodRun, str]:
    """The pod, its simulation state and the container an exec reaches; :class:`ExecRefused` where none."""
    pod = world.store.get("pods", namespace, name)
    if pod is None:
        raise ExecRefused(404, "NotFound", f'pods "{name}" not found')
    if not options.command:
        raise ExecRefused(400, "BadRequest", "you must specify at least one command for the container")
    names = [c["name"] for c in pod["spec"].get("containers") or []]
    container = options.container
    if not container:
        if len(names) != 1:
            choices = " ".join(names)
            message = f"a container name must be specified for pod {name}, choose one of: [{choices}]"
            raise ExecRefused(400, "BadRequest", message)
        container = names[0]
    elif container not in names:
        raise ExecRefused(400, "BadRequest", f"container {container} is not valid for pod {name}")
    run = world.kubelet.runs.get((namespace, name))
    node = pod["spec"].get("nodeName") or (run.node if run is not None else None)
    if not node:
        raise ExecRefused(400, "BadRequest", f"pod {name} does not have a host assigned")
    if node in world.kubelet.stopped:
        address = run.host_ip if run is not None and run.host_ip else node
        raise ExecRefused(500, "", f"error dialing backend: dial tcp {address}:{KUBELET_PORT}: i/o timeout")
    state = next((c for c in run.containers if c.name == container), None) if run is not None else None
    stopped = run is not None and (run.deletion_at is not None or run.phase in ("Succeeded", "Failed"))
    if run is None or state is None or state.state != "running" or stopped:
        raise ExecRefused(500, "InternalError", f'container not found ("{container}")', plain=True)
    return pod, run, container


def refusal_response(refused: ExecRefused) -> web.Response:
    """The answer to a refused exec: the kubelet's plain text, else a metav1 Status."""
    if refused.plain:
        return web.Response(status=refused.code, text=refused.message + "\n")
    body: Obj = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": refused.message}
    if refused.reason:  # an error the API server does not classify has no reason
        body["reason"] = refused.reason
    body["code"] = refused.code
    return web.Response(status=refused.code, body=orjson.dumps(body), content_type="application/json")


async def serve_exec(request: web.Request, world: World, namespace: str, name: str) -> web.StreamResponse:
    """Answer an exec request: refuse it (see :class:`ExecRefused`) or run the session over WebSocket."""
    options = ExecOptions.from_query(request.query)
    pod, run, container = exec_target(world, namespace, name, options)
    ws = web.WebSocketResponse(protocols=PROTOCOLS, max_msg_size=4 * 2**20)
    ready = ws.can_prepare(request)
    if not ready.ok or ready.protocol not in PROTOCOLS:
        raise ExecRefused(400, "BadRequest", "Upgrade request required")
    await ws.prepare(request)
    shell = Shell(world, pod, run, container)
    session = ExecSession(ws, ready.protocol == V5, options, shell, run)
    try:
        await session.run()
    except ConnectionError:  # the client went away mid-session: nothing is left to tell it
        pass
    finally:
        if not ws.closed:
            with contextlib.suppress(ConnectionError, RuntimeError):
                await ws.close()
    return ws


class ExecSession:
    """One exec over an open WebSocket: the command, or an interactive shell fed from stdin."""

    def __init__(self, ws: web.WebSocketResponse, v5: bool, options: ExecOptions, shell: Shell, run: PodRun) -> None:
        self.ws, self.v5, self.options, self.shell, self.pod_run = ws, v5, options, shell, run
        self._epoch = next(c.epoch for c in run.containers if c.name == shell.container)

    async def run(self) -> None:
        argv = list(self.options.command)
        if self.shell.is_interactive(argv):
            code = await self._interactive(ShellSession(self.shell, argv, tty=self.options.tty))
        else:
            stdin = await self._all_of_stdin() if self.options.stdin and self.v5 and not self.options.tty else ""
            result = await self.shell.run_argv(argv, stdin)
            await self._write(STDOUT, result.out)
            await self._write(STDERR, result.err)
            code = result.code
        await self._finish(code)

    async def _interactive(self, session: ShellSession) -> int:
        for stream, text in session.start():
            await self._write(stream, text)
        if not self.options.stdin:
            for stream, text in await session.end_of_input():
                await self._write(stream, text)
        while session.exit_code is None:
            if not self._container_running():
                return 137
            try:
                message = await self.ws.receive(timeout=LIVENESS_S)
            except asyncio.TimeoutError:
                continue
            if message.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR):
                return session.last_status
            if message.type != WSMsgType.BINARY or not message.data:
                continue
            channel, payload = message.data[0], message.data[1:]
            if channel == STDIN:
                replies = await session.feed(payload)
            elif channel == RESIZE:
                session.resize(_size(payload))
                replies = []
            elif channel == CLOSE_SIGNAL and self.v5 and payload[:1] == bytes([STDIN]):
                replies = await session.end_of_input()
            else:
                replies = []
            for stream, text in replies:
                await self._write(stream, text)
        return session.exit_code

    async def _all_of_stdin(self) -> str:
        """What the client sends on stdin until it signals its end (v5's close signal) or goes away."""
        received = b""
        while self._container_running():
            try:
                message = await self.ws.receive(timeout=LIVENESS_S)
            except asyncio.TimeoutError:
                continue
            if message.type != WSMsgType.BINARY:
                if message.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR):
                    break
                continue
            if message.data[:1] == bytes([STDIN]):
                received += message.data[1:]
            elif message.data[:2] == bytes([CLOSE_SIGNAL, STDIN]):
                break
        return received.decode(errors="replace")

    def _container_running(self) -> bool:
        run = self.pod_run
        c = next((c for c in run.containers if c.name == self.shell.container), None)
        alive = self.shell.world.kubelet.runs.get(run.key) is run and run.deletion_at is None
        return alive and c is not None and c.state == "running" and c.epoch == self._epoch

    async def _write(self, stream: int, text: str) -> None:
        if not text or self.ws.closed:
            return
        if self.options.tty:
            stream = STDOUT  # a terminal has one output
            text = text.replace("\r\n", "\n").replace("\n", "\r\n")
        elif (stream == STDOUT and not self.options.stdout) or (stream == STDERR and not self.options.stderr):
            return
        await self.ws.send_bytes(bytes([stream]) + text.encode())

    async def _finish(self, code: int) -> None:
        if code == 0:
            status: Obj = {"metadata": {}, "status": "Success"}
        else:
            argv = " ".join(self.options.command)
            status = {
                "metadata": {},
                "status": "Failure",
                "message": f"command terminated with non-zero exit code: error executing command [{argv}], "
                f"exit code {code}",
                "reason": "NonZeroExitCode",
                "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]},
            }
        if not self.ws.closed:
            await self.ws.send_bytes(bytes([ERROR]) + orjson.dumps(status))
            await self.ws.close()


def _size(payload: bytes) -> tuple[int, int]:
    """A resize message's (width, height); (0, 0) where it does not parse."""
    try:
        size = orjson.loads(payload)
        return int(size.get("Width", 0)), int(size.get("Height", 0))
    except (orjson.JSONDecodeError, AttributeError, TypeError, ValueError):
        return 0, 0
