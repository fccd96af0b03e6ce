"""A real HTTP reverse proxy on loopback in front of the simulator, that can fail the way API servers do.

It can go away entirely (stop listening, drop every connection) and come back on the same port, answer 404 for an
API group that is not installed (metrics.k8s.io without metrics-server), or answer a fixed status for some paths.
Streaming answers (watch, log follow) are passed through chunk by chunk.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import aiohttp
import yaml
from aiohttp import web

HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding", "host"}


class FaultyProxy:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.missing_prefixes: list[str] = []  # answered 404 like an API group that is not installed
        self.garbage_prefixes: list[str] = []  # answered 200 with bytes that are not JSON
        self.loop = asyncio.new_event_loop()
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._streams: set[web.StreamResponse] = set()

    # --- control, from the test's thread ----------------------------------------------------------------
    def start(self) -> FaultyProxy:
        self._thread.start()
        self._call(self._listen())
        return self

    def go_away(self) -> None:
        """Stop listening and drop every open connection (the API server is gone)."""
        self._call(self._stop_listening())

    def come_back(self) -> None:
        self._call(self._listen())

    def close(self) -> None:
        self._call(self._stop_listening())
        if self._session is not None:
            self._call(self._session.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=5)

    def _call(self, coro: object) -> None:
        asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=10)  # type: ignore[arg-type]

    # --- the proxy ------------------------------------------------------------------------------------------
    async def _listen(self) -> None:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(ssl=False), timeout=aiohttp.ClientTimeout(total=None)
            )
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._runner = web.AppRunner(app, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port, reuse_address=True)
        await site.start()

    async def _stop_listening(self) -> None:
        for stream in list(self._streams):
            transport = stream._req.transport if stream._req is not None else None
            if transport is not None:
                transport.abort()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        if any(request.path.startswith(prefix) for prefix in self.missing_prefixes):
            return web.json_response(
                {"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "NotFound", "code": 404,
                 "message": "the server could not find the requested resource"},
                status=404,
            )  # fmt: skip
        if any(request.path.startswith(prefix) for prefix in self.garbage_prefixes):
            return web.Response(status=200, body=b"<html>\x00\x1b[2J not json", content_type="application/json")
        assert self._session is not None
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_HEADERS}
        body = await request.read()
        async with self._session.request(
            request.method, self.upstream + request.path_qs, headers=headers, data=body or None
        ) as upstream:
            response = web.StreamResponse(status=upstream.status)
            for key, value in upstream.headers.items():
                if key.lower() not in HOP_HEADERS:
                    response.headers[key] = value
            await response.prepare(request)
            self._streams.add(response)
            try:
                async for chunk in upstream.content.iter_any():
                    await response.write(chunk)
            except (ConnectionResetError, aiohttp.ClientError):
                pass
            finally:
                self._streams.discard(response)
            return response


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_proxy_kubeconfig(proxy: FaultyProxy, token: str, path: Path, context: str = "via-proxy") -> Path:
    document = {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": context,
        "clusters": [{"name": "proxied", "cluster": {"server": proxy.url}}],
        "users": [{"name": "user", "user": {"token": token}}],
        "contexts": [{"name": context, "context": {"cluster": "proxied", "user": "user"}}],
    }
    path.write_text(yaml.safe_dump(document))
    return path


@contextmanager
def faulty_proxy(upstream: str) -> Iterator[FaultyProxy]:
    proxy = FaultyProxy(upstream).start()
    try:
        yield proxy
    finally:
        proxy.close()
