"""The minimal shell a simulated container answers exec with, its answers read from the simulated world.

Commands (argv as exec sends it, or lines of ``sh -c`` / an interactive ``sh``), with GNU-like output and errors:

- ``df [-h] [path...]``: the container's file systems; a mounted claim shows its volume's real fill
  (model-storage at ``/models`` in nimify-api: 61% healthy, 100% in storage-full).
- ``ls [-laAhdtr] [path...]``, ``du [-shc] [path...]``, ``cat``, ``rm [-rf]``, ``cd``, ``pwd``: over the image,
  the ConfigMap/Secret volumes (``cat /etc/nimify/config.yaml``) and the claims. triton-server's ``/models`` is
  the repository Triton serves (``ls -la /models/``).
- ``find PATH... [-type f|d] [-mtime N] [-mmin N] [-name P] [-iname P] [-maxdepth N] [-mindepth N] [-print]
  [-delete]``: ``-delete`` on a claim frees its space in the world (``find /cache -type f -mtime +7 -delete`` in a
  pod mounting model-storage at ``/cache``, or ``/models/cache`` in nimify-api: storage-full's stale cache goes,
  and crash-looping nimify-api pods start again at their next restart).
- ``psql -h postgres -U nimify -c "SELECT 1;"``: the one-row result (also ``SELECT <n>``, ``SELECT version()``,
  ``-t``, ``-A``) while postgres has a ready endpoint; psql's ``connection to server at "postgres" (<ip>), port 5432
  failed: Connection refused`` and exit 2 while it has none (database-down).
- ``curl [-sSfiI] [-o /dev/null] [-w '%{http_code}'] [-X M] [-d D] URL``: the simulated servers, on localhost in
  their own pod (``curl localhost:8000/v2/health/ready`` in triton-server) or through a service
  (``curl http://nimify-api:8000/health``); exit 6 for an unknown host, 7 where nothing listens or no endpoint is
  ready, 22 with ``-f`` on an HTTP error.
- ``nslookup NAME``: a service's ClusterIP by any of its names (the pod's namespace searched first); NXDOMAIN and
  exit 1 for others.
- ``nvidia-smi`` (the table, ``-L``, ``--query-gpu=... --format=csv[,noheader][,nounits]``) in a container given
  GPUs: the world's GPUs as they are now; not found elsewhere; exit 15 for a GPU that fell off the bus.
- ``stty size`` (the terminal's rows and columns, as the last resize gave them), ``exit [n]``, ``true``, ``false``,
  ``echo``, ``hostname``, ``env``/``printenv [NAME]`` (the container's env, references resolved); ``head``,
  ``tail``, ``grep [-ivcqEF]``, ``wc`` to filter.
- ``sh``/``bash``/``ash`` alone (or ``-i``): an interactive shell: a prompt on a terminal (``tty``; ``# `` for sh,
  ``root@<pod>:<cwd># `` for bash), none without one; it runs each line it reads until ``exit``, ctrl+d or the end
  of its input, and exits with the last status.
- ``sh -c "..."`` runs the line; a line may join commands with ``;``, ``&&``, ``||`` and ``|``, redirect with
  ``< file``, ``>/dev/null``, ``2>/dev/null``, ``2>&1``; ``*``/``?`` expand against the file system, and a word
  that is ``$?``, ``$NAME`` or ``${NAME}`` to the last status or the container's variable.
- anything else: ``sh: 1: X: not found`` (bash: ``bash: X: command not found``) and exit status 127.
"""

from __future__ import annotations

import copy
import fnmatch
import posixpath
import shlex
from collections.abc import Awaitable, Callable
from typing import Any

from nimify_tui.sim.k8s.container_fs import ContainerFS, container_fs, normalize
from nimify_tui.sim.k8s.pods import PodRun
from nimify_tui.sim.k8s.shell_files import FILE_COMMANDS
from nimify_tui.sim.k8s.shell_gpu import GPU_COMMANDS
from nimify_tui.sim.k8s.shell_net import NET_COMMANDS
from nimify_tui.sim.k8s.shell_result import NOT_FOUND, Result
from nimify_tui.sim.k8s.shell_text import TEXT_COMMANDS, environment
from nimify_tui.sim.k8s.world import World

Obj = dict[str, Any]
SHELLS = frozenset({"sh", "bash", "ash", "/bin/sh", "/bin/bash", "/bin/ash", "/usr/bin/bash"})


Command = Callable[["Shell", list[str], str], Awaitable[Result]]


class Shell:
    """A shell in one container of a pod: its working folder and the commands it knows."""

    def __init__(self, world: World, pod: Obj, run: PodRun, container: str) -> None:
        self.world, self.pod, self.run, self.container = world, pod, run, container
        self.cwd = "/"
        self.exit_code: int | None = None  # set by ``exit``
        self.last_status = 0
        self.name = "sh"  # how the shell calls itself in its error messages
        self.interactive = False  # reading its commands from a user (an interactive sh or bash)
        self.fs: ContainerFS = container_fs(world, pod, run, container)
        self.terminal: tuple[int, int] | None = None  # (columns, rows) of the client's terminal, with a tty

    @property
    def namespace(self) -> str:
        return self.run.namespace

    @staticmethod
    def is_interactive(argv: list[str]) -> bool:
        """Whether ``argv`` starts a shell that reads its commands from stdin."""
        return bool(argv) and argv[0] in SHELLS and all(arg in ("-i", "-l", "-s", "--login") for arg in argv[1:])

    def prompt(self) -> str:
        if self.name == "bash":
            return f"root@{self.run.name}:{self.cwd}# "
        return "# "

    async def run_argv(self, argv: list[str], stdin: str = "") -> Result:
        """Run one command as exec starts it (no shell between: argv as given)."""
        result = await self._command(argv, stdin)
        self.last_status = result.code
        return result

    async def script(self, argv: list[str], stdin: str) -> Result:
        """``sh -c LINE`` or ``sh`` reading its lines from ``stdin``, in a shell of its own (its ``exit`` and ``cd``
        stay inside it)."""
        child = copy.copy(self)
        child.name, child.exit_code, child.interactive = _base(argv[0]), None, False
        lines = [argv[2]] if len(argv) >= 3 and argv[1] == "-c" else stdin.splitlines()
        out: list[str] = []
        err: list[str] = []
        for line in lines:
            result = await child.run_line(line)
            out.append(result.out)
            err.append(result.err)
            if child.exit_code is not None:
                break
        code = child.exit_code if child.exit_code is not None else child.last_status
        return Result("".join(out), "".join(err), code)

    async def run_line(self, line: str) -> Result:
        """Run one line of shell input: commands joined by ``;``, ``&&``, ``||`` and ``|``."""
        try:
            tokens = _tokens(line)
        except ValueError:
            return self._done(Result(err=f"{self.name}: 1: Syntax error: Unterminated quoted string\n", code=2))
        out: list[str] = []
        err: list[str] = []
        status = self.last_status
        skip = False
        for joiner, pipeline in _sequence(tokens):
            if joiner == "&&":
                skip = status != 0
            elif joiner == "||":
                skip = status == 0
            elif joiner == ";":
                skip = False
            if skip or not pipeline:
                continue
            piped = ""
            for argv in pipeline:
                result = await self._redirected(argv, piped)
                piped = result.out
                err.append(result.err)
                status = result.code
            out.append(piped)
            self.last_status = status
            if self.exit_code is not None:
                break
        return Result("".join(out), "".join(err), status)

    async def _redirected(self, argv: list[str], stdin: str) -> Result:
        """Run one command of a pipeline with its redirections: ``< file``, ``>/dev/null``, ``2>/dev/null``,
        ``2>&1``, ``>&2``, ``&>/dev/null`` (a file other than /dev/null cannot be written)."""
        words, redirects = _redirections(argv)
        for fd, target in redirects:
            if fd == 0:
                read = await COMMANDS["cat"](self, [target], "")
                if read.code:
                    return Result(err=f"{self.name}: 1: cannot open {target}: No such file\n", code=2)
                stdin = read.out
            elif target not in ("/dev/null", "&1", "&2"):
                return Result(err=f"{self.name}: 1: cannot create {target}: Operation not supported\n", code=2)
        result = await self._command(words, stdin)
        route = {1: "out", 2: "err"}  # where each descriptor writes, redirections applied in order
        for fd, target in redirects:
            to = route[int(target[1])] if target in ("&1", "&2") else "null"
            for number in (1, 2) if fd == 3 else (fd,) if fd in (1, 2) else ():
                route[number] = to
        streams = {"out": "", "err": "", "null": ""}
        streams[route[1]] += result.out
        streams[route[2]] += result.err
        return Result(streams["out"], streams["err"], result.code)

    def not_found(self, name: str) -> str:
        """How the shell says it has no such command: dash's words, or bash's."""
        if self.name != "bash":
            return f"{self.name}: 1: {name}: not found\n"
        where = "" if self.interactive else " line 1:"
        return f"bash:{where} {name}: command not found\n"

    def _done(self, result: Result) -> Result:
        self.last_status = result.code
        return result

    async def _command(self, argv: list[str], stdin: str) -> Result:
        if not argv:
            return Result()
        argv = [self._variable(argv[0]), *(word for arg in argv[1:] for word in self._expand(self._variable(arg)))]
        name = argv[0]
        if name in SHELLS:
            return await self.script(argv, stdin)
        command = COMMANDS.get(_base(name) if "/" in name else name)
        if command is None:
            return Result(err=self.not_found(name), code=NOT_FOUND)
        return await command(self, argv[1:], stdin)

    def _variable(self, word: str) -> str:
        """``$?``, ``$NAME`` or ``${NAME}`` as a whole word: the last status or the variable's value."""
        if word == "$?":
            return str(self.last_status)
        name = word[2:-1] if word.startswith("${") and word.endswith("}") else word[1:] if word[:1] == "$" else ""
        if not name.replace("_", "a").isalnum():
            return word
        return environment(self).get(name, "")

    def _expand(self, word: str) -> list[str]:
        """A word with ``*``, ``?`` or ``[`` as the paths it matches, sorted; the word itself where none does."""
        if not any(char in word for char in "*?["):
            return [word]
        absolute = word.startswith("/")
        found = ["/" if absolute else ""]
        for part in [p for p in word.split("/") if p]:
            matched = []
            for prefix in found:
                folder = normalize(prefix or ".", self.cwd)
                if not any(char in part for char in "*?["):
                    matched.append(posixpath.join(prefix, part) if prefix else part)
                    continue
                entry = self.fs.stat(folder)
                if entry is None or not entry.is_dir:
                    continue
                names = [n for n in self.fs.names(folder) if fnmatch.fnmatchcase(n, part)]
                matched += [posixpath.join(prefix, n) if prefix else n for n in names if not n.startswith(".")]
            found = [path for path in matched if self.fs.stat(normalize(path, self.cwd)) is not None]
        return sorted(found) or [word]


class ShellSession:
    """An interactive shell fed from stdin: with a terminal it echoes, edits the line and prompts; without one it
    reads lines silently. Each method returns what to write: (1 stdout or 2 stderr, text)."""

    def __init__(self, shell: Shell, argv: list[str], tty: bool) -> None:
        self.shell, self.tty = shell, tty
        self.shell.name, self.shell.interactive = _base(argv[0]), True
        self.line = ""
        self.pending = b""
        if tty:
            shell.terminal = (80, 24)
        self._escape = ""

    @property
    def exit_code(self) -> int | None:
        return self.shell.exit_code

    @property
    def last_status(self) -> int:
        return self.shell.last_status

    def start(self) -> list[tuple[int, str]]:
        return [(1, self.shell.prompt())] if self.tty else []

    def resize(self, size: tuple[int, int]) -> None:
        """The client's terminal is now ``size`` (columns, rows)."""
        if self.tty and size[0] > 0 and size[1] > 0:
            self.shell.terminal = size

    async def feed(self, data: bytes) -> list[tuple[int, str]]:
        self.pending += data
        try:
            text, self.pending = self.pending.decode(), b""
        except UnicodeDecodeError as err:  # a character split between two messages
            text, self.pending = self.pending[: err.start].decode(), self.pending[err.start :]
        if self.tty:
            return await self._keys(text)
        return await self._lines(text)

    async def end_of_input(self) -> list[tuple[int, str]]:
        """stdin ended: a last line without its newline runs, then the shell exits with its last status."""
        replies: list[tuple[int, str]] = []
        if self.line.strip() and self.exit_code is None:
            replies += await self._run(self.line)
        self.line = ""
        if self.exit_code is None:
            self.shell.exit_code = self.shell.last_status
        return replies

    async def _lines(self, text: str) -> list[tuple[int, str]]:
        replies: list[tuple[int, str]] = []
        self.line += text
        while "\n" in self.line and self.exit_code is None:
            line, self.line = self.line.split("\n", 1)
            replies += await self._run(line)
        return replies

    async def _keys(self, text: str) -> list[tuple[int, str]]:
        """A terminal's line discipline: echo, backspace, ctrl+c, ctrl+u, ctrl+d on an empty line; escape
        sequences (arrows) are ignored."""
        replies: list[tuple[int, str]] = []
        for char in text:
            if self.exit_code is not None:
                break
            if self._escape:
                self._escape += char
                if (len(self._escape) > 1 and (char.isalpha() or char == "~")) or len(self._escape) > 8:
                    self._escape = ""
                continue
            if char == "\x1b":
                self._escape = char
            elif char in "\r\n":
                line, self.line = self.line, ""
                replies.append((1, "\r\n"))
                replies += await self._run(line)
                if self.exit_code is None:
                    replies.append((1, self.shell.prompt()))
            elif char in "\x7f\b":
                if self.line:
                    self.line = self.line[:-1]
                    replies.append((1, "\b \b"))
            elif char == "\x03":
                self.line = ""
                self.shell.last_status = 130
                replies.append((1, "^C\r\n" + self.shell.prompt()))
            elif char == "\x15":
                replies.append((1, "\b \b" * len(self.line)))
                self.line = ""
            elif char == "\x04":
                if not self.line:
                    if self.shell.name == "bash":
                        replies.append((1, "exit\r\n"))
                    self.shell.exit_code = self.shell.last_status
            elif char >= " " or char == "\t":
                self.line += char
                replies.append((1, char))
        return replies

    async def _run(self, line: str) -> list[tuple[int, str]]:
        if not line.strip() or line.lstrip().startswith("#"):
            return []
        result = await self.shell.run_line(line)
        return [(stream, text) for stream, text in ((1, result.out), (2, result.err)) if text]


def _base(name: str) -> str:
    return name.rsplit("/", 1)[-1]


def _redirections(argv: list[str]) -> tuple[list[str], list[tuple[int, str]]]:
    """The words of a command and its redirections as (fd, target): fd 0 stdin, 1 stdout, 2 stderr, 3 both;
    a target ``&1``/``&2`` duplicates that descriptor."""
    words: list[str] = []
    found: list[tuple[int, str]] = []
    items = iter(argv)
    for token in items:
        if token not in (">", ">>", ">|", ">&", "&>", "<"):
            words.append(token)
            continue
        target = next(items, "")
        if token == "<":
            found.append((0, target))
            continue
        fd = int(words.pop()) if words and words[-1] in ("1", "2") else 1
        if token == "&>":
            found.append((3, target))
        elif token == ">&":
            found.append((fd, f"&{target}") if target in ("1", "2") else (3, target))
        else:
            found.append((fd, target))
    return words, found


def _tokens(line: str) -> list[str]:
    lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|<>")
    lexer.whitespace_split = True
    lexer.commenters = "#"
    return list(lexer)


def _sequence(tokens: list[str]) -> list[tuple[str, list[list[str]]]]:
    """Tokens as (the joiner before it, the pipeline's commands) in order."""
    found: list[tuple[str, list[list[str]]]] = []
    joiner = ";"
    pipeline: list[list[str]] = []
    argv: list[str] = []
    for token in tokens:
        if token in (";", "&&", "||", "&"):
            pipeline.append(argv)
            found.append((joiner, [a for a in pipeline if a]))
            joiner, pipeline, argv = (";" if token == "&" else token), [], []
        elif token == "|":
            pipeline.append(argv)
            argv = []
        else:
            argv.append(token)
    pipeline.append(argv)
    found.append((joiner, [a for a in pipeline if a]))
    return found


# --- builtins ---------------------------------------------------------------------------------------


async def _exit(shell: Shell, args: list[str], stdin: str) -> Result:
    code = shell.last_status
    if args:
        if not args[0].isdigit():
            return Result(err=f"{shell.name}: 1: exit: Illegal number: {args[0]}\n", code=2)
        code = int(args[0]) % 256
    shell.exit_code = code
    return Result(code=code)


async def _true(shell: Shell, args: list[str], stdin: str) -> Result:
    return Result()


async def _false(shell: Shell, args: list[str], stdin: str) -> Result:
    return Result(code=1)


async def _pwd(shell: Shell, args: list[str], stdin: str) -> Result:
    return Result(out=shell.cwd + "\n")


COMMANDS: dict[str, Command] = {
    "exit": _exit,
    "true": _true,
    "false": _false,
    "pwd": _pwd,
    **TEXT_COMMANDS,
    **FILE_COMMANDS,
    **NET_COMMANDS,
    **GPU_COMMANDS,
}
