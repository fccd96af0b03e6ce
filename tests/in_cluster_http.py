"""Serve a simulated in-cluster server (Triton, nimify-api, DCGM) over real HTTP on loopback, without the API
server in front: every request goes to its ``handle`` as if it came through the proxy to ``port``."""

from __future__ import annotations

from aiohttp import web

from nimify_tui.sim.contract import InClusterServer


def app_for(server: InClusterServer, port: int) -> web.Application:
    async def route(request: web.Request) -> web.Response:
        body = await request.read()
        reply = await server.handle(request.method, port, request.path, dict(request.query), body)
        return web.Response(status=reply.status, body=reply.body, headers={"Content-Type": reply.content_type})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", route)
    return app
