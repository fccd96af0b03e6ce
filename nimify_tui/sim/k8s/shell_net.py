"""The simulated shell's network commands, answered by the simulated cluster: ``nslookup`` (the cluster's DNS:
services by their names with the pod's search path, NXDOMAIN otherwise), ``psql`` (postgres through its service:
one-row results while it has a ready endpoint, psql's connection error while it has none) and ``curl``
(the simulated in-cluster servers, on localhost in their own pod or through a service)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from nimify_tui.sim.k8s.container_fs import CLUSTER_DNS, KUBERNETES_SERVICE_IP
from nimify_tui.sim.k8s.shell_result import Result

if TYPE_CHECKING:
    from nimify_tui.sim.k8s.pods import PodRun
    from nimify_tui.sim.k8s.shell import Shell
    from nimify_tui.sim.k8s.world import World

Obj = dict[str, Any]
CLUSTER_DOMAIN = "cluster.local"
POSTGRES_VERSION = (
    "PostgreSQL 16.4 (Debian 16.4-1.pgdg120+1) on x86_64-pc-linux-gnu, "
    "compiled by gcc (Debian 12.2.0-14) 12.2.0, 64-bit"
)
BUILT_IN_SERVICES = {("default", "kubernetes"): KUBERNETES_SERVICE_IP, ("kube-system", "kube-dns"): CLUSTER_DNS}
REASONS = {200: "OK", 201: "Created", 400: "Bad Request", 404: "Not Found", 500: "Internal Server Error"}
REASONS |= {503: "Service Unavailable", 204: "No Content", 405: "Method Not Allowed"}


@dataclass(frozen=True)
class Resolved:
    """A name the cluster's DNS knows: its full name, address, and the service behind it (None: built in)."""

    fqdn: str
    address: str
    service: Obj | None


def resolve(world: World, namespace: str, host: str) -> Resolved | None:
    """A service's name as a pod in ``namespace`` may write it (``svc``, ``svc.ns``, ``svc.ns.svc``, the full name,
    with the search path), or None."""
    name = host.rstrip(".").lower()
    parts = name.split(".")
    suffix = ["svc", *CLUSTER_DOMAIN.split(".")]
    if len(parts) == 1:
        parts = [parts[0], namespace]
    if parts[2:] != suffix[: len(parts) - 2] or len(parts) < 2:
        return None
    service_name, service_namespace = parts[0], parts[1]
    fqdn = f"{service_name}.{service_namespace}.svc.{CLUSTER_DOMAIN}"
    built_in = BUILT_IN_SERVICES.get((service_namespace, service_name))
    if built_in is not None:
        return Resolved(fqdn, built_in, None)
    service = world.store.get("services", service_namespace, service_name)
    if service is None:
        return None
    return Resolved(fqdn, service["spec"].get("clusterIP", ""), service)


# --- nslookup -------------------------------------------------------------------------------------------


async def nslookup(shell: Shell, args: list[str], stdin: str) -> Result:
    names = [arg for arg in args if not arg.startswith("-")]
    if not names:
        return Result(err="nslookup: interactive mode is not supported here\n", code=1)
    head = f"Server:\t\t{CLUSTER_DNS}\nAddress:\t{CLUSTER_DNS}#53\n\n"
    found = resolve(shell.world, shell.namespace, names[0])
    if found is None:
        return Result(out=f"{head}** server can't find {names[0].rstrip('.')}: NXDOMAIN\n\n", code=1)
    return Result(out=f"{head}Name:\t{found.fqdn}\nAddress: {found.address}\n\n")


# --- psql -----------------------------------------------------------------------------------------------


def _options(args: list[str], with_value: str, plain: str) -> tuple[dict[str, str], list[str], str]:
    """getopt-style short options: values of those in ``with_value``, the operands, and the first unknown one."""
    values: dict[str, str] = {}
    operands = []
    items = iter(args)
    for arg in items:
        if not arg.startswith("-") or arg == "-":
            operands.append(arg)
            continue
        letters = arg[1:]
        while letters:
            letter, letters = letters[0], letters[1:]
            if letter in with_value:
                values[letter] = letters or next(items, "")
                break
            if letter not in plain:
                return values, operands, letter
            values[letter] = ""
    return values, operands, ""


async def psql(shell: Shell, args: list[str], stdin: str) -> Result:
    args = [_long_psql(arg) for arg in args]
    options, operands, bad = _options(args, "hUdpcF", "tAXqw")
    if bad:
        return Result(err=f"psql: error: invalid option -- '{bad}'\n", code=1)
    host = options.get("h", "")
    port = options.get("p", "5432")
    world = shell.world
    if not host:
        if shell.run.app == "postgres":
            return _query(options, operands)
        socket = f"/var/run/postgresql/.s.PGSQL.{port}"
        return Result(
            err=f'psql: error: connection to server on socket "{socket}" failed: No such file or directory\n'
            "\tIs the server running locally and accepting connections on that socket?\n",
            code=2,
        )
    found = resolve(world, shell.namespace, host)
    if found is None or found.service is None:
        return Result(
            err=f'psql: error: could not translate host name "{host}" to address: Name or service not known\n', code=2
        )
    service_ports = [str(p["port"]) for p in found.service["spec"].get("ports") or []]
    backends = world.ready_backends(found.service)
    if port not in service_ports or not backends or backends[0].app != "postgres":
        return Result(
            err=f'psql: error: connection to server at "{host}" ({found.address}), port {port} failed: '
            "Connection refused\n\tIs the server running on that host and accepting TCP/IP connections?\n",
            code=2,
        )
    return _query(options, operands)


def _long_psql(arg: str) -> str:
    for long, short in (("--host=", "-h"), ("--username=", "-U"), ("--dbname=", "-d"), ("--port=", "-p")):
        if arg.startswith(long):
            return short + arg[len(long) :]
    return {"--command": "-c", "--tuples-only": "-t", "--no-align": "-A", "--no-psqlrc": "-X"}.get(arg, arg)


def _query(options: dict[str, str], operands: list[str]) -> Result:
    sql = options.get("c")
    if sql is None:
        return Result(err="psql: the simulated database answers only -c queries\n", code=1)
    statement = sql.strip().rstrip(";").strip()
    number = re.fullmatch(r"(?i)select\s+(-?\d+)(?:\s+as\s+(\w+))?", statement)
    if number:
        column, value, numeric = number.group(2) or "?column?", number.group(1), True
    elif re.fullmatch(r"(?i)select\s+version\s*\(\s*\)", statement):
        column, value, numeric = "version", POSTGRES_VERSION, False
    else:
        return Result(err="ERROR:  the simulated database answers SELECT <number> and SELECT version() only\n", code=1)
    tuples_only, unaligned = "t" in options, "A" in options
    if unaligned:
        return Result(out=f"{value}\n" if tuples_only else f"{column}\n{value}\n(1 row)\n")
    width = max(len(column), len(value))
    cell = value.rjust(width) if numeric else value
    if tuples_only:
        return Result(out=f" {cell}\n\n")
    return Result(out=f" {column.center(width)} \n{'-' * (width + 2)}\n {cell}\n(1 row)\n\n")


# --- curl -----------------------------------------------------------------------------------------------


@dataclass
class _CurlOptions:
    url: str = ""
    method: str = ""
    data: str = ""
    silent: bool = False
    show_errors: bool = False
    fail: bool = False
    include: bool = False
    head: bool = False
    output: str = ""
    write_out: str = ""


_CURL_VALUED = {"-X": "method", "--request": "method", "-d": "data", "--data": "data", "--data-raw": "data"}
_CURL_VALUED |= {"-o": "output", "--output": "output", "-w": "write_out", "--write-out": "write_out"}
_CURL_IGNORED_VALUED = {"-H", "--header", "-m", "--max-time", "--connect-timeout", "-u", "--user", "-A"}
_CURL_FLAGS = {"s": "silent", "S": "show_errors", "f": "fail", "i": "include", "I": "head"}
_CURL_LONG_FLAGS = {"--silent": "silent", "--show-error": "show_errors", "--fail": "fail", "--include": "include"}
_CURL_LONG_FLAGS |= {"--head": "head"}


def _curl_options(args: list[str]) -> _CurlOptions | str:
    options = _CurlOptions()
    items = iter(args)
    for arg in items:
        if arg in _CURL_VALUED:
            setattr(options, _CURL_VALUED[arg], next(items, ""))
        elif arg in _CURL_IGNORED_VALUED:
            next(items, None)
        elif arg in _CURL_LONG_FLAGS:
            setattr(options, _CURL_LONG_FLAGS[arg], True)
        elif arg.startswith("--"):
            if arg not in ("--location", "--insecure", "--verbose", "--compressed"):
                return f"curl: option {arg}: is unknown\n"
        elif arg.startswith("-") and len(arg) > 1:
            for letter in arg[1:]:
                if letter in _CURL_FLAGS:
                    setattr(options, _CURL_FLAGS[letter], True)
                elif letter not in "Lkv":
                    return f"curl: option -{letter}: is unknown\n"
        else:
            options.url = arg
    return options


async def curl(shell: Shell, args: list[str], stdin: str) -> Result:
    parsed = _curl_options(args)
    if isinstance(parsed, str):
        return Result(err=parsed + "curl: try 'curl --help' for more information\n", code=2)
    options = parsed
    if not options.url:
        return Result(err="curl: no URL specified\ncurl: try 'curl --help' for more information\n", code=2)
    url = urlsplit(options.url if "://" in options.url else f"http://{options.url}")
    host = url.hostname or ""
    port = url.port or (443 if url.scheme == "https" else 80)

    def failed(code: int, message: str) -> Result:
        shown = not options.silent or options.show_errors
        return Result(err=f"curl: ({code}) {message}\n" if shown else "", code=code)

    target = _target(shell, host, port)
    if isinstance(target, int):
        if target == 6:
            return failed(6, f"Could not resolve host: {host}")
        return failed(7, f"Failed to connect to {host} port {port} after 0 ms: Couldn't connect to server")
    run, server_port = target
    server = shell.world.pod_server(run.namespace, run.app, run.node or "")
    if server is None:
        return failed(52, "Empty reply from server")
    method = options.method or ("HEAD" if options.head else "POST" if options.data else "GET")
    path = url.path or "/"
    reply = await server.handle(method, server_port, path, dict(parse_qsl(url.query)), options.data.encode())
    if options.fail and reply.status >= 400:
        return failed(22, f"The requested URL returned error: {reply.status}")
    headers = (
        f"HTTP/1.1 {reply.status} {REASONS.get(reply.status, '')}".rstrip()
        + f"\r\nContent-Type: {reply.content_type}\r\nContent-Length: {len(reply.body)}\r\n\r\n"
    )
    body = "" if method == "HEAD" else reply.body.decode(errors="replace")
    shown = (headers if options.include or options.head else "") + body
    out = "" if options.output == "/dev/null" else shown
    if options.write_out:
        out += _write_out(options.write_out, reply.status, reply.content_type)
    return Result(out=out)


def _target(shell: Shell, host: str, port: int) -> tuple[PodRun, int] | int:
    """The pod that answers ``host:port`` and the port it listens on; 6 (unknown host) or 7 (refused)."""
    if host in ("localhost", "127.0.0.1", "::1", shell.run.ip, shell.run.name):
        declared = [p["containerPort"] for c in shell.pod["spec"].get("containers") or [] for p in c.get("ports") or []]
        return (shell.run, port) if port in declared else 7
    found = resolve(shell.world, shell.namespace, host)
    if found is None:
        return 6
    if found.service is None:
        return 7
    service_port = next((p for p in found.service["spec"].get("ports") or [] if p["port"] == port), None)
    backends = shell.world.ready_backends(found.service)
    if service_port is None or not backends:
        return 7
    return backends[0], int(service_port.get("targetPort", port))


def _write_out(template: str, status: int, content_type: str) -> str:
    text = template.replace("\\n", "\n").replace("\\t", "\t")
    return (
        text.replace("%{http_code}", f"{status:03d}")
        .replace("%{response_code}", f"{status:03d}")
        .replace("%{content_type}", content_type)
    )


NET_COMMANDS: dict[str, Callable[[Shell, list[str], str], Awaitable[Result]]] = {
    "nslookup": nslookup,
    "psql": psql,
    "curl": curl,
}
