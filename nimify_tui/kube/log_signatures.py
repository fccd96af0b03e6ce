"""Known causes of a crash, read from the last lines a crashed container wrote.

A crash-looping pod's events say only that it died (OOMKilled, Error, exit code 1); its previous container's log
often says why. :func:`scan_log` finds the signatures of the runbook's causes in those lines:

* ``disk-full``: ``No space left on device``, ``ENOSPC``, Python's ``[Errno 28]``;
* ``out-of-memory``: the kernel's ``Out of memory: Killed process``, ``OOMKilled``, Python's ``MemoryError``, Java's
  ``OutOfMemoryError``, the shell's ``Killed``, an app's own "resident memory ... container limit" warning;
* ``cuda-oom``: PyTorch's ``CUDA out of memory. Tried to allocate``, ``CUDA error: out of memory`` (never counted
  as ``out-of-memory``: the GPU's memory is not the container's);
* ``database-unreachable``: a refused connection to PostgreSQL or MySQL (libpq's "could not connect to server",
  MySQL's "Can't connect to MySQL server", a refusal naming port 5432 or 3306), with the host and port;
* ``config-error``: ``unknown key`` (field, section), a YAML scanner or parser error, ``not valid YAML``,
  ``could not parse config``, ``invalid configuration``, a ``KeyError`` raised while loading a configuration, with
  the key when one is named, and whether the app does not know the key (then taking it out is the fix).

Image pull errors never reach a container's log: the events say those. Every kept line is cut to
``MAX_LINE_CHARS`` and made safe to show literally.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from nimify_tui.text import literal

SignatureKind = Literal["disk-full", "out-of-memory", "cuda-oom", "database-unreachable", "config-error"]

MAX_LINE_CHARS = 300
TAIL_LINES = 200  # how many of the previous container's last lines are read
CONTINUATION_LINES = 2  # indented lines after a refused connection that belong to it (libpq's host and port)
KEY_SEARCH_AFTER = 8  # lines after a configuration error that may name the key (a traceback's last lines)
KEY_ERROR_CONTEXT = 12  # lines before a KeyError that must show a configuration being loaded

_CUDA_OOM = re.compile(
    r"CUDA out of memory|CUDA error: out of memory|CUDA failure \d+: out of memory|cudaErrorMemoryAllocation",
    re.IGNORECASE,
)
_DISK_FULL = re.compile(r"No space left on device|\bENOSPC\b|\[Errno 28\]", re.IGNORECASE)
_OUT_OF_MEMORY = re.compile(
    r"out of memory"  # the kernel, Go's runtime, Node's heap, PostgreSQL
    r"|\bOOMKilled\b|\bMemoryError\b|OutOfMemoryError|Cannot allocate memory"
    r"|resident memory\b.*\bcontainer limit",
    re.IGNORECASE,
)
# the kernel's "Killed process 4242 (python3)", and the shell's report of a child killed by SIGKILL: "Killed" alone,
# or "line 3:    57 Killed    python serve.py"
_KILLED = re.compile(r"\bKilled process \d+|(?:^|\s)Killed(?:\s*$|\s{2,})")
_REFUSED = re.compile(
    r"connection refused|could not connect to server|Can't connect to (?:MySQL|MariaDB) server"
    r"|Connect call failed|connection to server (?:at|on socket) .* failed",
    re.IGNORECASE,
)
_DATABASE = re.compile(
    r"postgres|psycopg|libpq|asyncpg|mysql|mariadb|could not connect to server|\b5432\b|\b3306\b", re.IGNORECASE
)
_ENDPOINTS = (
    re.compile(r'server at "(?P<host>[^"]+)"(?: \([^)]*\))?, port (?P<port>\d+)'),  # libpq 14 and later
    re.compile(r'on host "(?P<host>[^"]+)"(?: \([^)]*\))? and accepting\s+TCP/IP connections on port (?P<port>\d+)'),
    re.compile(r"server on '(?P<host>[^':]+)(?::(?P<port>\d+))?'"),  # MySQL
    re.compile(r"\('(?P<host>[^']+)', (?P<port>\d+)\)"),  # asyncio's "Connect call failed ('10.0.0.5', 5432)"
    re.compile(r"(?P<host>[A-Za-z0-9_.\-]+|\[[0-9a-fA-F:]+\]):(?P<port>\d{2,5})\b"),
)
_CONFIG_ERROR = re.compile(
    r"unknown (?:key|field|section)|yaml\.scanner|yaml\.parser|could not parse config|invalid configuration"
    r"|(?:not valid|invalid) YAML|field \S+ not found in type",
    re.IGNORECASE,
)
_KEY_ERROR = re.compile(r"\bKeyError\b")
_CONFIG_LOADING = re.compile(r"config|settings", re.IGNORECASE)
_KEY_NAMES = (
    re.compile(r"unknown (?:key|field|section)s? [`'\"]?(?P<key>[\w.\-\[\]/]+)"),
    re.compile(r"KeyError: [`'\"]?(?P<key>[^`'\"\s]+)"),
    re.compile(r"field (?P<key>\S+) not found in type"),  # Go's yaml and json strict decoding
)
_VALIDATION_ERROR = re.compile(r"\d+ validation errors? for \w+")  # pydantic: the next line is the field's path
# a key the app does not know: "unknown key", Go's strict decoding, pydantic's extra="forbid"
_UNKNOWN_KEY = re.compile(
    r"unknown (?:key|field|section)|field \S+ not found in type"
    r"|Extra inputs are not permitted|extra fields not permitted|extra_forbidden",
    re.IGNORECASE,
)
_SECTION = re.compile(r"\(section [`'\"](?P<section>[\w.\-]+)[`'\"]")
_FIELD_PATH = re.compile(r"^\s*(?P<key>[A-Za-z_][\w.\-\[\]]*)\s*$")


@dataclass(frozen=True, slots=True)
class SignatureMatch:
    """One known cause found in a log: its kind, the line that shows it, and what it names (the database's
    ``host:port``, the configuration key; "" when the lines name none)."""

    kind: SignatureKind
    line: str  # cut to MAX_LINE_CHARS, safe to show literally
    detail: str = ""
    # a configuration error about a key the app does not know (not a missing key, not a wrong value): removing the
    # key is the fix; ``detail`` is then its dotted path (``section.key`` where the error names the section)
    unknown_key: bool = False


@dataclass(frozen=True, slots=True)
class LogSignature:
    """What the previous log of one restarted container says: the known causes found in its last lines, or why
    it could not be read (``unreadable``: forbidden, gone). An entry with no match and nothing unreadable was read
    and shows no known cause."""

    namespace: str
    pod: str
    container: str
    restart_count: int  # the container's restart count when its previous log was read
    matches: tuple[SignatureMatch, ...] = ()
    unreadable: str | None = None

    @property
    def kinds(self) -> tuple[SignatureKind, ...]:
        return tuple(match.kind for match in self.matches)

    @property
    def summary(self) -> str:
        """One line: "unknown: <reason>", the kinds found, or that none was."""
        if self.unreadable is not None:
            return f"unknown: {self.unreadable}"
        return ", ".join(self.kinds) or "no known signature"


def _shown(line: str) -> str:
    text = literal(line.strip())
    return text if len(text) <= MAX_LINE_CHARS else text[: MAX_LINE_CHARS - 1] + "…"


def _with_continuation(lines: Sequence[str], index: int) -> str:
    """A line and the indented lines after it that continue its message, joined."""
    joined = [lines[index]]
    for line in lines[index + 1 : index + 1 + CONTINUATION_LINES]:
        if not line[:1].isspace():
            break
        joined.append(line.strip())
    return " ".join(joined)


def _database_endpoint(window: str) -> str:
    for pattern in _ENDPOINTS:
        found = pattern.search(window)
        if found is not None:
            host, port = found.group("host"), found.group("port")
            return f"{host}:{port}" if port else host
    return ""


def _config_key(lines: Sequence[str], index: int) -> tuple[str, bool]:
    """The key a configuration error names (on its own line, or on one of the lines after it; prefixed with the
    section the line names), and whether the error says the app does not know that key."""
    for offset, line in enumerate(lines[index : index + 1 + KEY_SEARCH_AFTER]):
        for pattern in _KEY_NAMES:
            found = pattern.search(line)
            if found is not None:
                section = _SECTION.search(line)
                key = found.group("key")
                return (f"{section.group('section')}.{key}" if section else key), bool(_UNKNOWN_KEY.search(line))
        if _VALIDATION_ERROR.search(line) and index + offset + 1 < len(lines):
            field = _FIELD_PATH.match(lines[index + offset + 1])
            if field is not None:
                reason = lines[index + offset + 2] if index + offset + 2 < len(lines) else ""
                return field.group("key"), bool(_UNKNOWN_KEY.search(reason))
    return "", False


def _kind_of(lines: Sequence[str], index: int) -> SignatureKind | None:
    line = lines[index]
    if _CUDA_OOM.search(line):
        return "cuda-oom"
    if _DISK_FULL.search(line):
        return "disk-full"
    if _OUT_OF_MEMORY.search(line) or _KILLED.search(line):
        return "out-of-memory"
    if _REFUSED.search(line) and _DATABASE.search(_with_continuation(lines, index)):
        return "database-unreachable"
    if _CONFIG_ERROR.search(line):
        return "config-error"
    if _KEY_ERROR.search(line):
        before = lines[max(0, index - KEY_ERROR_CONTEXT) : index]
        if any(_CONFIG_LOADING.search(earlier) for earlier in before):
            return "config-error"
    return None


def scan_log(lines: Sequence[str]) -> tuple[SignatureMatch, ...]:
    """The known causes in ``lines`` (oldest first): for each kind, its last line (the nearest to the crash), in
    the order the lines were written."""
    last: dict[SignatureKind, int] = {}
    for index in range(len(lines)):
        kind = _kind_of(lines, index)
        if kind is not None:
            last[kind] = index
    matches = []
    for kind, index in sorted(last.items(), key=lambda item: item[1]):
        detail, unknown_key = "", False
        if kind == "database-unreachable":
            detail = _database_endpoint(_with_continuation(lines, index))
        elif kind == "config-error":
            detail, unknown_key = _config_key(lines, index)
        matches.append(SignatureMatch(kind, _shown(lines[index]), _shown(detail), unknown_key and bool(detail)))
    return tuple(matches)
