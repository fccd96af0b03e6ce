"""One key taken out of a ConfigMap's configuration, the rest of its text left as written.

An app that exits on a key it does not know (``unknown key 'max_batch_sise' (section 'triton')``) is fixed by taking
that key out. The configuration is a YAML file held in one of the ConfigMap's data entries, or the entries
themselves (one key each). The key's line (and the lines nested under it) is cut from the text, so that comments,
order and quoting stay as the person wrote them; the result is parsed again and must equal the document without
that key, or nothing is prepared.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any

import yaml

_KEY_LINE = re.compile(r"^(?P<indent> *)(?P<quote>[\"']?)(?P<key>[^\"'#:\s][^\"':]*?)(?P=quote)\s*:(?:\s|$)")


class KeyNotRemovable(Exception):
    """The key is not in the configuration, is in more than one entry, or its lines cannot be cut cleanly."""


def _parsed(text: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return None


def _lookup(document: Any, path: tuple[str, ...]) -> bool:
    node = document
    for part in path:
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


def _nested(document: Any, name: str, above: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every path to a key called ``name`` in the mappings of ``document``."""
    if not isinstance(document, dict):
        return []
    found = [(*above, name)] if name in document else []
    for key, value in document.items():
        if isinstance(key, str):
            found.extend(_nested(value, name, (*above, key)))
    return found


def _paths_of(document: Any, key: str) -> list[tuple[str, ...]]:
    """Where ``key`` is in ``document``: as nested sections when dotted (``triton.max_batch``), as written, or, for
    a plain name the error gave without its section, wherever it is (once only, or it is ambiguous)."""
    for path in ((tuple(key.split(".")),) if "." in key else ()) + ((key,),):
        if _lookup(document, path):
            return [path]
    return _nested(document, key) if "." not in key else []


def _cut(text: str, path: tuple[str, ...]) -> str | None:
    """The text without the line of ``path`` and the lines nested under it; None when it is not found once."""
    lines = text.splitlines(keepends=True)
    stack: list[tuple[int, str]] = []  # (indent, key) of the mappings the current line is inside
    found: list[tuple[int, int]] = []
    for number, line in enumerate(lines):
        match = _KEY_LINE.match(line)
        if match is None:
            continue
        indent = len(match.group("indent"))
        while stack and stack[-1][0] >= indent:
            stack.pop()
        stack.append((indent, match.group("key").strip()))
        if tuple(key for _, key in stack) == path:
            found.append((number, indent))
    if len(found) != 1:
        return None
    start, indent = found[0]
    end = start + 1
    while end < len(lines):
        line = lines[end]
        stripped = line.strip()
        if stripped and (len(line) - len(line.lstrip(" "))) <= indent:
            break
        end += 1
    while end > start + 1 and not lines[end - 1].strip():  # blank lines after the block belong to what follows
        end -= 1
    return "".join(lines[:start] + lines[end:])


def _without(document: Any, path: tuple[str, ...]) -> Any:
    trimmed = copy.deepcopy(document)
    node = trimmed
    for part in path[:-1]:
        node = node[part]
    del node[path[-1]]
    return trimmed


def without_key(data: Mapping[str, str], key: str) -> tuple[str, dict[str, str]]:
    """The data entry that held ``key`` (a dotted path or a plain key) and the data with it taken out.

    Raises :class:`KeyNotRemovable` with the reason when the key is not in exactly one place, or when cutting its
    lines would change anything else."""
    places = [(entry, path) for entry, text in data.items() for path in _paths_of(_parsed(text), key)]
    if not places and key in data:  # one key per data entry (environment-style)
        return key, {name: value for name, value in data.items() if name != key}
    if not places:
        raise KeyNotRemovable(f"no entry of the configmap holds the key {key}")
    if len(places) > 1:
        held = ", ".join(f"{entry}: {'.'.join(path)}" for entry, path in places)
        raise KeyNotRemovable(f"the key {key} is in more than one place ({held}): edit it by hand")
    entry, path = places[0]
    text = data[entry]
    cut = _cut(text, path)
    if cut is None or _parsed(cut) != _without(_parsed(text), path):
        raise KeyNotRemovable(f"the key {key} in {entry} is not one line of YAML that can be cut: edit it by hand")
    return entry, {**data, entry: cut}
