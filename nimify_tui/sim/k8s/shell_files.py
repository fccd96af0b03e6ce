"""The simulated shell's file commands, over the container's file system (:mod:`nimify_tui.sim.k8s.container_fs`):
``df``, ``ls``, ``find`` (``-delete`` frees the space on a claim's volume), ``du``, ``cat``, ``rm``, ``cd``.
Their output and errors follow GNU coreutils and findutils."""

from __future__ import annotations

import datetime as dt
import fnmatch
import math
import posixpath
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from nimify_tui.sim.k8s.container_fs import ContainerFS, Entry, Mount, normalize
from nimify_tui.sim.k8s.shell_result import Result, human

if TYPE_CHECKING:
    from nimify_tui.sim.k8s.shell import Shell

DAY = 86400.0
HALF_YEAR_S = 182 * DAY


def _flags(args: list[str], known: str) -> tuple[set[str], list[str], str]:
    """Short flags (``-lah``) and operands; the third item is the first unknown flag letter ("" when none)."""
    flags: set[str] = set()
    operands: list[str] = []
    for arg in args:
        if arg.startswith("-") and len(arg) > 1 and not arg.startswith("--"):
            for letter in arg[1:]:
                if letter not in known:
                    return flags, operands, letter
                flags.add(letter)
        else:
            operands.append(arg)
    return flags, operands, ""


# --- df -----------------------------------------------------------------------------------------------


async def df(shell: Shell, args: list[str], stdin: str) -> Result:
    flags, paths, bad = _flags(args, "hkPT")
    if bad:
        return Result(err=f"df: invalid option -- '{bad}'\nTry 'df --help' for more information.\n", code=1)
    fs = shell.fs
    errors = []
    if paths:
        shown: list[Mount] = []
        for path in paths:
            full = normalize(path, shell.cwd)
            if fs.stat(full) is None:
                errors.append(f"df: {path}: No such file or directory\n")
                continue
            shown.append(fs.df_mount(full))
    else:
        shown = list(fs.mounts)
    rows = [_df_row(mount, "h" in flags) for mount in shown]
    header = ["Filesystem", "Size", "Used", "Avail", "Use%", "Mounted on"]
    if "h" not in flags:
        header[1:4] = ["1K-blocks", "Used", "Available"]
    out = _table([header, *rows], minimum=5 if "h" in flags else 0) if rows else ""
    return Result(out=out, err="".join(errors), code=1 if errors else 0)


def _df_row(mount: Mount, readable: bool) -> list[str]:
    used, size = mount.usage()
    free = max(0, size - used)
    percent = f"{math.ceil(used * 100 / (used + free))}%" if used + free else "-"
    if readable:
        numbers = [human(size) if size else "0", human(used) if used else "0", human(free) if free else "0"]
    else:
        numbers = [str(math.ceil(size / 1024)), str(math.ceil(used / 1024)), str(free // 1024)]
    return [mount.source, *numbers, percent, mount.path]


def _table(rows: list[list[str]], minimum: int) -> str:
    """df's layout: the first and last columns left-aligned, the others right-aligned, one space apart."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for i in range(1, len(widths) - 2):
        widths[i] = max(widths[i], minimum)
    lines = []
    for row in rows:
        cells = [row[0].ljust(widths[0])]
        cells += [cell.rjust(widths[i]) for i, cell in enumerate(row[1:-1], start=1)]
        cells.append(row[-1])
        lines.append(" ".join(cells))
    return "\n".join(lines) + "\n"


# --- ls -----------------------------------------------------------------------------------------------


async def ls(shell: Shell, args: list[str], stdin: str) -> Result:
    flags, paths, bad = _flags(args, "laAhd1tr")
    if bad:
        return Result(err=f"ls: invalid option -- '{bad}'\nTry 'ls --help' for more information.\n", code=2)
    fs, now = shell.fs, shell.world.now()
    errors, blocks = [], []
    targets = paths or ["."]
    files = []
    folders = []
    for path in targets:
        full = normalize(path, shell.cwd)
        entry = fs.stat(full)
        if entry is None:
            errors.append(f"ls: cannot access '{path}': No such file or directory\n")
        elif entry.is_dir and "d" not in flags:
            folders.append((path, full))
        else:
            files.append((path, entry))
    if files:
        blocks.append(_listing(fs, files, flags, now, total=False))
    for path, full in folders:
        names = fs.names(full)
        if "a" in flags:
            names = [".", "..", *names]
        elif "A" not in flags:
            names = [name for name in names if not name.startswith(".")]
        entries = []
        for name in names:
            entry = fs.stat(normalize(name, full))
            if entry is not None:
                entries.append((name, entry))
        if "t" in flags:
            entries.sort(key=lambda item: -item[1].mtime)
        if "r" in flags:
            entries.reverse()
        text = _listing(fs, entries, flags, now, total=True, folder=full)
        blocks.append(f"{path}:\n{text}" if len(targets) > 1 else text)
    return Result(out="\n".join(blocks), err="".join(errors), code=2 if errors else 0)


def _listing(
    fs: ContainerFS, entries: list[tuple[str, Entry]], flags: set[str], now: float, total: bool, folder: str = ""
) -> str:
    if "l" not in flags:
        return "".join(f"{name}\n" for name, _ in entries)
    sizes = [human(e.size) if "h" in flags else str(e.size) for _, e in entries]
    links = [str(_links(fs, normalize(name, folder or "/"), e)) for name, e in entries]
    size_width = max((len(s) for s in sizes), default=1)
    link_width = max((len(n) for n in links), default=1)
    lines = []
    if total:
        kib = sum(4 if e.is_dir else math.ceil(e.size / 4096) * 4 for _, e in entries)
        lines.append(f"total {human(kib * 1024) if 'h' in flags else kib}")
    for (name, entry), size, link in zip(entries, sizes, links, strict=True):
        mode = "drwxr-xr-x" if entry.is_dir else "-rw-r--r--"
        stamp = _stamp(entry.mtime, now)
        lines.append(f"{mode} {link.rjust(link_width)} root root {size.rjust(size_width)} {stamp} {name}")
    return "\n".join(lines) + "\n"


def _links(fs: ContainerFS, path: str, entry: Entry) -> int:
    if not entry.is_dir:
        return 1
    try:
        names = fs.names(path)
    except LookupError:
        return 2
    return 2 + sum(1 for name in names if (fs.stat(normalize(name, path)) or Entry(False, 0, 0)).is_dir)


def _stamp(mtime: float, now: float) -> str:
    when = dt.datetime.fromtimestamp(mtime, dt.timezone.utc)
    day = f"{when:%b} {when.day:>2}"
    return f"{day} {when:%H:%M}" if abs(now - mtime) < HALF_YEAR_S else f"{day}  {when.year}"


# --- find ---------------------------------------------------------------------------------------------


@dataclass
class _FindQuery:
    kind: str = ""  # f, d or "" for any
    mtime: tuple[str, int] | None = None  # (sign, days)
    mmin: tuple[str, int] | None = None
    name: str = ""
    iname: str = ""
    max_depth: int | None = None
    min_depth: int = 0
    delete: bool = False
    print_: bool = False

    def matches(self, path: str, entry: Entry, depth: int, now: float) -> bool:
        if depth < self.min_depth or (self.max_depth is not None and depth > self.max_depth):
            return False
        if self.kind and (self.kind == "d") != entry.is_dir:
            return False
        base = posixpath.basename(path.rstrip("/")) or "/"
        if self.name and not fnmatch.fnmatchcase(base, self.name):
            return False
        if self.iname and not fnmatch.fnmatchcase(base.lower(), self.iname.lower()):
            return False
        if self.mtime is not None and not _compare(math.floor((now - entry.mtime) / DAY), self.mtime):
            return False
        return self.mmin is None or _compare(math.ceil((now - entry.mtime) / 60), self.mmin)


def _compare(value: int, wanted: tuple[str, int]) -> bool:
    sign, number = wanted
    return value > number if sign == "+" else value < number if sign == "-" else value == number


def _find_query(expression: list[str]) -> _FindQuery | str:
    """The query, or find's error message."""
    query = _FindQuery()
    items = iter(expression)
    for primary in items:
        if primary in ("-delete", "-print"):
            if primary == "-delete":
                query.delete = True
            else:
                query.print_ = True
            continue
        if primary not in ("-type", "-mtime", "-mmin", "-name", "-iname", "-maxdepth", "-mindepth"):
            return f"find: unknown predicate `{primary}'\n"
        value = next(items, None)
        if value is None:
            return f"find: missing argument to `{primary}'\n"
        if primary == "-type":
            if value not in ("f", "d"):
                return f"find: Unknown argument to -type: {value}\n"
            query.kind = value
        elif primary in ("-mtime", "-mmin"):
            sign = value[0] if value[:1] in ("+", "-") else ""
            digits = value[len(sign) :]
            if not digits.isdigit():
                return f"find: invalid argument `{value}' to `{primary}'\n"
            setattr(query, primary[1:], (sign, int(digits)))
        elif primary in ("-name", "-iname"):
            setattr(query, primary[1:], value)
        else:
            if not value.isdigit():
                return f"find: Expected a positive decimal integer argument to {primary}, but got `{value}'\n"
            if primary == "-maxdepth":
                query.max_depth = int(value)
            else:
                query.min_depth = int(value)
    return query


async def find(shell: Shell, args: list[str], stdin: str) -> Result:
    split = next((i for i, arg in enumerate(args) if arg.startswith("-") or arg in ("(", "!")), len(args))
    roots, parsed = args[:split] or ["."], _find_query(args[split:])
    if isinstance(parsed, str):
        return Result(err=parsed, code=1)
    query, fs, now = parsed, shell.fs, shell.world.now()
    out, errors = [], []
    for root in roots:
        full = normalize(root, shell.cwd)
        if fs.stat(full) is None:
            errors.append(f"find: '{root}': No such file or directory\n")
            continue
        found = []
        for path, entry in fs.walk(full):
            depth = 0 if path == full else path[len(full) :].strip("/").count("/") + 1
            if query.max_depth is not None and depth > query.max_depth:
                continue
            if query.matches(path, entry, depth, now):
                shown = root if path == full else (root.rstrip("/") + path[len(full.rstrip("/")) :])
                found.append((path, shown))
        if query.delete:
            for path, shown in reversed(found):  # -delete implies -depth: contents before their folder
                why = fs.delete(path, now)
                if why:
                    errors.append(f"find: cannot delete '{shown}': {why}\n")
                elif query.print_:
                    out.append(f"{shown}\n")
        else:
            out.extend(f"{shown}\n" for _, shown in found)
    return Result(out="".join(out), err="".join(errors), code=1 if errors else 0)


# --- du, cat, rm, cd ----------------------------------------------------------------------------------


async def du(shell: Shell, args: list[str], stdin: str) -> Result:
    flags, paths, bad = _flags(args, "shc")
    if bad:
        return Result(err=f"du: invalid option -- '{bad}'\nTry 'du --help' for more information.\n", code=1)
    fs = shell.fs
    out, errors, grand = [], [], 0

    def show(count: int, path: str) -> str:
        return f"{human(count) if 'h' in flags else math.ceil(count / 1024)}\t{path}\n"

    for path in paths or ["."]:
        full = normalize(path, shell.cwd)
        if fs.stat(full) is None:
            errors.append(f"du: cannot access '{path}': No such file or directory\n")
            continue
        total, shown = _du_tree(fs, full, path, not flags & {"s"})
        grand += total
        out += [show(count, name) for count, name in shown]
    if "c" in flags:
        out.append(show(grand, "total"))
    return Result(out="".join(out), err="".join(errors), code=1 if errors else 0)


def _du_tree(fs: ContainerFS, full: str, shown_as: str, every_folder: bool) -> tuple[int, list[tuple[int, str]]]:
    """Bytes used under ``full`` (whole 4K blocks) and du's lines for it: each folder after its contents."""
    entry = fs.stat(full)
    if entry is None:
        return 0, []
    if not entry.is_dir:
        used = math.ceil(entry.size / 4096) * 4096
        return used, [(used, shown_as)]
    total, lines = 4096, []
    for name in fs.names(full):
        inner, inner_lines = _du_tree(fs, posixpath.join(full, name), f"{shown_as.rstrip('/')}/{name}", every_folder)
        total += inner
        child = fs.stat(posixpath.join(full, name))
        if every_folder and child is not None and child.is_dir:
            lines += inner_lines
    return total, [*lines, (total, shown_as)]


async def cat(shell: Shell, args: list[str], stdin: str) -> Result:
    if not args:
        return Result(out=stdin)
    out, errors = [], []
    for path in args:
        full = normalize(path, shell.cwd)
        entry = shell.fs.stat(full)
        if entry is None:
            errors.append(f"cat: {path}: No such file or directory\n")
        elif entry.is_dir:
            errors.append(f"cat: {path}: Is a directory\n")
        else:
            out.append(shell.fs.read(full) or "")
    return Result(out="".join(out), err="".join(errors), code=1 if errors else 0)


async def rm(shell: Shell, args: list[str], stdin: str) -> Result:
    flags, paths, bad = _flags(args, "rfRv")
    if bad:
        return Result(err=f"rm: invalid option -- '{bad}'\nTry 'rm --help' for more information.\n", code=1)
    fs, now = shell.fs, shell.world.now()
    errors = []
    for path in paths:
        full = normalize(path, shell.cwd)
        entry = fs.stat(full)
        if entry is None:
            if "f" not in flags:
                errors.append(f"rm: cannot remove '{path}': No such file or directory\n")
            continue
        if entry.is_dir and not flags & {"r", "R"}:
            errors.append(f"rm: cannot remove '{path}': Is a directory\n")
            continue
        for walked, _ in reversed(list(fs.walk(full))):
            why = fs.delete(walked, now)
            if why:
                errors.append(f"rm: cannot remove '{path.rstrip('/') + walked[len(full) :]}': {why}\n")
    return Result(err="".join(errors), code=1 if errors else 0)


async def cd(shell: Shell, args: list[str], stdin: str) -> Result:
    target = normalize(args[0], shell.cwd) if args else "/root"
    entry = shell.fs.stat(target)
    if entry is None or not entry.is_dir:
        if shell.name == "bash":
            why = "Not a directory" if entry is not None else "No such file or directory"
            return Result(err=f"bash: cd: {args[0]}: {why}\n", code=1)
        return Result(err=f"{shell.name}: 1: cd: can't cd to {args[0]}\n", code=2)
    shell.cwd = target
    return Result()


FILE_COMMANDS: dict[str, Callable[[Shell, list[str], str], Awaitable[Result]]] = {
    "df": df,
    "ls": ls,
    "find": find,
    "du": du,
    "cat": cat,
    "rm": rm,
    "cd": cd,
}
