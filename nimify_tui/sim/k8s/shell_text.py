"""The simulated shell's text and environment commands: ``echo``, ``hostname``, ``env``, ``printenv``,
``stty size``, and the filters ``head``, ``tail``, ``grep`` and ``wc`` (on files or piped input)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from nimify_tui.sim.k8s.container_fs import KUBERNETES_SERVICE_IP, decoded
from nimify_tui.sim.k8s.shell_files import cat
from nimify_tui.sim.k8s.shell_result import Result

if TYPE_CHECKING:
    from nimify_tui.sim.k8s.shell import Shell

Obj = dict[str, Any]


async def _echo(shell: Shell, args: list[str], stdin: str) -> Result:
    if args and args[0] == "-n":
        return Result(out=" ".join(args[1:]))
    return Result(out=" ".join(args) + "\n")


async def _hostname(shell: Shell, args: list[str], stdin: str) -> Result:
    return Result(out=shell.run.name + "\n")


def environment(shell: Shell) -> dict[str, str]:
    """The container's environment: the kubelet's (HOSTNAME, the API server's service), the image's PATH and HOME,
    and the container's env with values from ConfigMaps and Secrets resolved."""
    found = {
        "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOSTNAME": shell.run.name,
        "HOME": "/root",
        "KUBERNETES_SERVICE_HOST": KUBERNETES_SERVICE_IP,
        "KUBERNETES_SERVICE_PORT": "443",
    }
    spec: Obj = next((c for c in shell.pod["spec"].get("containers") or [] if c["name"] == shell.container), {})
    for item in spec.get("env") or []:
        if "value" in item:
            found[item["name"]] = str(item["value"])
            continue
        source = item.get("valueFrom") or {}
        for key, resource in (("configMapKeyRef", "configmaps"), ("secretKeyRef", "secrets")):
            ref = source.get(key)
            if ref is None:
                continue
            obj = shell.world.store.get(resource, shell.namespace, ref.get("name", "")) or {}
            value = (obj.get("data") or {}).get(ref.get("key", ""))
            if value is not None:
                found[item["name"]] = decoded(value) if resource == "secrets" else value
    return found


async def _env(shell: Shell, args: list[str], stdin: str) -> Result:
    return Result(out="".join(f"{name}={value}\n" for name, value in environment(shell).items()))


async def _printenv(shell: Shell, args: list[str], stdin: str) -> Result:
    if not args:
        return await _env(shell, args, stdin)
    values = environment(shell)
    shown = [values[name] + "\n" for name in args if name in values]
    return Result(out="".join(shown), code=0 if len(shown) == len(args) else 1)


async def _stty(shell: Shell, args: list[str], stdin: str) -> Result:
    if shell.terminal is None:
        return Result(err="stty: 'standard input': Inappropriate ioctl for device\n", code=1)
    if args != ["size"]:
        return Result(err="stty: the simulated shell answers only 'stty size'\n", code=1)
    columns, rows = shell.terminal
    return Result(out=f"{rows} {columns}\n")


def _count(args: list[str], default: int) -> tuple[int, list[str]]:
    """``-n N``, ``-nN`` or ``-N`` of head and tail, and the other arguments."""
    count, rest = default, []
    items = iter(args)
    for arg in items:
        if arg == "-n":
            count = int(next(items, str(default)) or default)
        elif arg.startswith("-n") and arg[2:].isdigit():
            count = int(arg[2:])
        elif arg[1:].isdigit() and arg.startswith("-"):
            count = int(arg[1:])
        else:
            rest.append(arg)
    return count, rest


async def _text(shell: Shell, paths: list[str], stdin: str, command: str) -> tuple[str, Result | None]:
    """The text a filter reads: its files', else its stdin; or its failure where a file cannot be read."""
    if not paths:
        return stdin, None
    read = await cat(shell, paths, "")
    return read.out, (Result(err=read.err.replace("cat:", f"{command}:"), code=1) if read.code else None)


async def _head(shell: Shell, args: list[str], stdin: str) -> Result:
    count, paths = _count(args, 10)
    text, failed = await _text(shell, paths, stdin, "head")
    return failed or Result(out="".join(text.splitlines(keepends=True)[:count]))


async def _tail(shell: Shell, args: list[str], stdin: str) -> Result:
    count, paths = _count(args, 10)
    text, failed = await _text(shell, paths, stdin, "tail")
    return failed or Result(out="".join(text.splitlines(keepends=True)[-count:] if count else []))


async def _grep(shell: Shell, args: list[str], stdin: str) -> Result:
    flags = {letter for arg in args if arg.startswith("-") and len(arg) > 1 for letter in arg[1:]}
    words = [arg for arg in args if not arg.startswith("-") or len(arg) == 1]
    if not words:
        return Result(err="Usage: grep [OPTION]... PATTERNS [FILE]...\n", code=2)
    pattern, paths = words[0], words[1:]
    text, failed = await _text(shell, paths, stdin, "grep")
    if failed:
        return Result(err=failed.err, code=2)
    try:
        regex = re.compile(re.escape(pattern) if "F" in flags else pattern, re.IGNORECASE if "i" in flags else 0)
    except re.error:
        return Result(err="grep: Unmatched ( or \\(\n", code=2)
    lines = [line for line in text.splitlines(keepends=True) if bool(regex.search(line)) != ("v" in flags)]
    if "q" in flags:
        return Result(code=0 if lines else 1)
    if "c" in flags:
        return Result(out=f"{len(lines)}\n", code=0 if lines else 1)
    return Result(out="".join(lines), code=0 if lines else 1)


async def _wc(shell: Shell, args: list[str], stdin: str) -> Result:
    paths = [arg for arg in args if not arg.startswith("-")]
    text, failed = await _text(shell, paths, stdin, "wc")
    if failed:
        return failed
    counts = {"l": text.count("\n"), "w": len(text.split()), "c": len(text.encode())}
    wanted = [letter for arg in args if arg.startswith("-") for letter in arg[1:] if letter in counts]
    wanted = wanted or ["l", "w", "c"]
    shown = " ".join(str(counts[letter]) for letter in wanted)
    return Result(out=f"{shown}{' ' + paths[0] if paths else ''}\n")


TEXT_COMMANDS: dict[str, Callable[[Shell, list[str], str], Awaitable[Result]]] = {
    "echo": _echo,
    "hostname": _hostname,
    "env": _env,
    "printenv": _printenv,
    "stty": _stty,
    "head": _head,
    "tail": _tail,
    "grep": _grep,
    "wc": _wc,
}
