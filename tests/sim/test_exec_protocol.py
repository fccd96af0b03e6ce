"""The exec WebSocket protocol as the simulator speaks it, seen from a raw client: subprotocol negotiation
(v5.channel.k8s.io, else v4), the channels, the terminal (echo, line editing, resize, ctrl+d), the close
signal, the final Status, and the end of a session whose container stops."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest

from nimify_tui.sim.server import SimThread

from ..waiting import wait_for

NS = "nimify-system"
V4, V5 = "v4.channel.k8s.io", "v5.channel.k8s.io"
STDIN, STDOUT, STDERR, ERROR, RESIZE, CLOSE = 0, 1, 2, 3, 4, 255


@pytest.fixture(scope="module")
def sim() -> Iterator[SimThread]:
    with SimThread(scenario="healthy") as served:
        yield served


def _api_pod(sim: SimThread) -> str:
    return sim.call(lambda world: sorted(r.name for r in world.kubelet.app_runs(NS, "nimify-api") if r.ready)[0])


def _url(sim: SimThread, pod: str, command: list[str], **flags: bool) -> str:
    query = "&".join(f"command={part}" for part in command)
    for name in ("stdin", "stdout", "stderr", "tty"):
        query += f"&{name}={'true' if flags.get(name) else 'false'}"
    return f"{sim.url}/api/v1/namespaces/{NS}/pods/{pod}/exec?{query}"


class Channels:
    """What the server sent on each channel until it closed, and the Status on channel 3."""

    def __init__(self) -> None:
        self.data: dict[int, bytes] = {}

    def add(self, message: bytes) -> None:
        self.data[message[0]] = self.data.get(message[0], b"") + message[1:]

    def text(self, channel: int) -> str:
        return self.data.get(channel, b"").decode()

    @property
    def status(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.data[ERROR])
        return loaded


async def _collect(ws: aiohttp.ClientWebSocketResponse, channels: Channels, until: str = "") -> None:
    """Read messages until the server closes (or ``until`` shows on stdout)."""
    while True:
        message = await asyncio.wait_for(ws.receive(), 20)
        if message.type != aiohttp.WSMsgType.BINARY:
            return
        channels.add(message.data)
        if until and until in channels.text(STDOUT):
            return


def _session(sim: SimThread, url: str, protocols: tuple[str, ...], steps: Any) -> tuple[str, Channels]:
    async def go() -> tuple[str, Channels]:
        headers = {"Authorization": f"Bearer {sim.admin_token}"}
        async with aiohttp.ClientSession(headers=headers) as http, http.ws_connect(url, protocols=protocols) as ws:
            channels = Channels()
            await steps(ws, channels)
            return ws.protocol or "", channels

    return asyncio.run(go())


def test_v4_when_the_client_offers_only_v4_and_a_success_status(sim: SimThread) -> None:
    async def steps(ws: aiohttp.ClientWebSocketResponse, channels: Channels) -> None:
        await _collect(ws, channels)

    url = _url(sim, _api_pod(sim), ["df", "-h", "/models"], stdout=True, stderr=True)
    protocol, channels = _session(sim, url, (V4,), steps)
    assert protocol == V4
    assert channels.text(STDOUT).splitlines()[1].split()[1:] == ["100G", "61G", "39G", "61%", "/models"]
    assert channels.status == {"metadata": {}, "status": "Success"}
    assert STDERR not in channels.data

    def recorded() -> list[Any]:  # the server writes its record once the session's handler is done
        return [r for r in sim.request_log if r.path.endswith("/exec") and r.query.get("command") == "df"]

    record = wait_for(recorded, "the exec's record")[-1]
    assert (record.status, record.user, record.method) == (101, "sim-admin", "GET")


def test_v5_preferred_and_a_non_zero_exit_as_the_kubelet_reports_it(sim: SimThread) -> None:
    async def steps(ws: aiohttp.ClientWebSocketResponse, channels: Channels) -> None:
        await _collect(ws, channels)

    url = _url(sim, _api_pod(sim), ["ls", "/nowhere"], stdout=True, stderr=True)
    protocol, channels = _session(sim, url, (V5, V4), steps)
    assert protocol == V5
    assert channels.text(STDERR) == "ls: cannot access '/nowhere': No such file or directory\n"
    status = channels.status
    assert (status["status"], status["reason"]) == ("Failure", "NonZeroExitCode")
    assert status["details"]["causes"] == [{"reason": "ExitCode", "message": "2"}]
    assert status["message"] == (
        "command terminated with non-zero exit code: error executing command [ls /nowhere], exit code 2"
    )


def test_a_terminal_echoes_edits_resizes_and_leaves_on_ctrl_d(sim: SimThread) -> None:
    async def steps(ws: aiohttp.ClientWebSocketResponse, channels: Channels) -> None:
        await ws.send_bytes(bytes([RESIZE]) + b'{"Width":132,"Height":41}')
        await _collect(ws, channels, until="# ")
        await ws.send_bytes(bytes([STDIN]) + b"stty siez\x7f\x7fze\r")
        await _collect(ws, channels, until="41 132\r\n# ")
        await ws.send_bytes(bytes([STDIN]) + b"ech\x1b[Do hi\x03")
        await _collect(ws, channels, until="^C\r\n# ")
        await ws.send_bytes(bytes([STDIN]) + b"nope\r")
        await _collect(ws, channels, until="not found\r\n# ")
        await ws.send_bytes(bytes([STDIN]) + b"\x04")
        await _collect(ws, channels)

    url = _url(sim, _api_pod(sim), ["sh"], stdin=True, stdout=True, tty=True)
    _, channels = _session(sim, url, (V5, V4), steps)
    screen = channels.text(STDOUT)
    assert screen.startswith("# stty siez\b \b\b \bze\r\n41 132\r\n# ")
    assert "# ech" in screen and "o hi^C\r\n# nope\r\nsh: 1: nope: not found\r\n# " in screen
    assert STDERR not in channels.data  # a terminal has one output
    assert channels.status["details"]["causes"] == [{"reason": "ExitCode", "message": "127"}]


def test_the_close_signal_ends_stdin_and_the_shell_exits_with_its_last_status(sim: SimThread) -> None:
    async def steps(ws: aiohttp.ClientWebSocketResponse, channels: Channels) -> None:
        await ws.send_bytes(bytes([STDIN]) + b"hostname\ncd /models/cache; pwd")
        await ws.send_bytes(bytes([CLOSE, STDIN]))
        await _collect(ws, channels)

    pod = _api_pod(sim)
    url = _url(sim, pod, ["bash"], stdin=True, stdout=True, stderr=True)
    _, channels = _session(sim, url, (V5,), steps)
    assert channels.text(STDOUT) == f"{pod}\n/models/cache\n"
    assert channels.status == {"metadata": {}, "status": "Success"}


def test_a_session_ends_with_137_when_its_container_stops(sim_factory: Any, http_for: Any) -> None:
    served: SimThread = sim_factory(scenario="healthy")
    pod = _api_pod(served)

    async def steps(ws: aiohttp.ClientWebSocketResponse, channels: Channels) -> None:
        await _collect(ws, channels, until="# ")
        served.call(lambda world: world.delete_pod(NS, pod, 30.0))
        await _collect(ws, channels)

    _, channels = _session(served, _url(served, pod, ["sh"], stdin=True, stdout=True, tty=True), (V5,), steps)
    assert channels.status["details"]["causes"] == [{"reason": "ExitCode", "message": "137"}]
    again = http_for(served, served.admin_token).get(f"/api/v1/namespaces/{NS}/pods/{pod}/exec?command=df")
    assert (again.status_code, again.text) == (500, 'container not found ("nimify-api")\n')  # it is terminating


def test_a_request_that_does_not_upgrade_is_refused(sim: SimThread, http_for: Any) -> None:
    http = http_for(sim, sim.admin_token)
    answer = http.post(f"/api/v1/namespaces/{NS}/pods/{_api_pod(sim)}/exec", params={"command": "df"})
    assert answer.status_code == 400 and answer.json()["message"] == "Upgrade request required"
    nothing = http.get(f"/api/v1/namespaces/{NS}/pods/{_api_pod(sim)}/exec")
    assert nothing.status_code == 400
    assert nothing.json()["message"] == "you must specify at least one command for the container"


def test_a_client_that_leaves_mid_session_ends_it_quietly(sim: SimThread, caplog: pytest.LogCaptureFixture) -> None:
    pod = _api_pod(sim)
    before = len(sim.request_log)

    async def steps(ws: aiohttp.ClientWebSocketResponse, channels: Channels) -> None:
        await _collect(ws, channels, until="# ")
        await ws.send_bytes(bytes([STDIN]) + b"ls /models\r")
        await ws.close()

    with caplog.at_level(logging.ERROR):
        _session(sim, _url(sim, pod, ["sh"], stdin=True, stdout=True, tty=True), (V5,), steps)

        def recorded() -> list[Any]:
            return [r for r in sim.request_log[before:] if r.path.endswith(f"/pods/{pod}/exec")]

        assert [r.status for r in wait_for(recorded, "the session's record")] == [101]
    assert not [r for r in caplog.records if r.name.startswith("nimify_tui.sim")]


def test_exec_into_a_pod_not_yet_scheduled(sim_factory: Any, http_for: Any) -> None:
    served: SimThread = sim_factory(scenario="resource-exhaustion")
    pending = wait_for(
        lambda: served.call(lambda world: [r.name for r in world.kubelet.app_runs(NS, "nimify-api") if r.node is None]),
        "an evicted nimify-api pod's replacement to wait for room",
    )[0]
    answer = http_for(served, served.admin_token).get(
        f"/api/v1/namespaces/{NS}/pods/{pending}/exec", params={"command": "df"}
    )
    assert answer.status_code == 400
    assert answer.json()["message"] == f"pod {pending} does not have a host assigned"
